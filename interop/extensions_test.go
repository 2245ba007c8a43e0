package interop

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	ref "github.com/containerd/ttrpc"
	grpccodes "google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	ours "github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// The extensions (PROTOCOL.md, "Extensions") against containerd/ttrpc
// v1.2.10, unchanged: a Hello and Cancel frames from our client are
// ignored by its server, and its clients never see a reverse call.

const extService = "interop.ext.v1.Ext"

func listenUnix(t *testing.T) (net.Listener, string) {
	t.Helper()
	path := socketPath(t)
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	return l, path
}

// Our client registers services (so it sends a Hello frame) and cancels
// calls (so it sends Cancel frames) against a reference server: the server
// ignores both and keeps serving the connection.
func TestExtensionsIgnoredByReferenceServer(t *testing.T) {
	checkGoroutines(t)
	release := make(chan struct{})
	srv, err := ref.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService(extService, &ref.ServiceDesc{Methods: map[string]ref.Method{
		"Echo": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			var v wrapperspb.StringValue
			if err := unmarshal(&v); err != nil {
				return nil, err
			}
			return &v, nil
		},
		"Wait": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			<-release // not ctx: the reference never learns of the cancel
			return &emptypb.Empty{}, nil
		},
	}})
	l, path := listenUnix(t)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	defer func() {
		close(release)
		srv.Close()
		<-served
	}()

	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c := ours.NewClient(nc)
	defer c.Close()
	c.Register("interop.ext.v1.ClientSide", map[string]ours.Method{
		"Ping": func(context.Context, func(any) error) (any, error) { return &emptypb.Empty{}, nil },
	})
	for i := range 5 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		err := c.Call(ctx, extService, "Wait", &emptypb.Empty{}, &emptypb.Empty{})
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("call %d: %v, want DeadlineExceeded", i, err)
		}
		var out wrapperspb.StringValue
		if err := c.Call(testCtx(t, 5*time.Second), extService, "Echo", wrapperspb.String("still here"), &out); err != nil || out.Value != "still here" {
			t.Fatalf("after cancel %d: %q %v", i, out.Value, err)
		}
	}
	// A cancelled stream sends a Cancel frame on its id too.
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := c.NewStream(ctx, &ours.StreamDesc{StreamingServer: true}, extService, "Echo", wrapperspb.String("x")); err != nil {
		t.Fatal(err)
	}
	cancel()
	var out wrapperspb.StringValue
	if err := c.Call(testCtx(t, 5*time.Second), extService, "Echo", wrapperspb.String("end"), &out); err != nil || out.Value != "end" {
		t.Fatalf("after stream cancel: %q %v", out.Value, err)
	}
}

// A reference client never receives a reverse call: our server's handler
// gets ErrPeerNotServing at once, and the reference client sees only the
// response to its own call.
func TestReverseCallToReferenceClientRefused(t *testing.T) {
	checkGoroutines(t)
	srv, err := ours.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	srv.Register(extService, map[string]ours.Method{
		"CallBack": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			peer, ok := ours.PeerClient(ctx)
			if !ok {
				return nil, status.Error(codes.Internal, "no peer client")
			}
			err := peer.Call(ctx, "anything.v1.Service", "Method", &emptypb.Empty{}, &emptypb.Empty{})
			if !errors.Is(err, ours.ErrPeerNotServing) || status.Code(err) != codes.Unimplemented {
				return nil, status.Errorf(codes.Internal, "reverse call to a reference client: %v", err)
			}
			return wrapperspb.String("refused as expected"), nil
		},
		"Wait": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		},
	})
	l, path := listenUnix(t)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	defer func() {
		srv.Close()
		<-served
	}()

	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	rc := ref.NewClient(nc)
	defer rc.Close()
	var out wrapperspb.StringValue
	if err := rc.Call(testCtx(t, 5*time.Second), extService, "CallBack", &emptypb.Empty{}, &out); err != nil || out.Value != "refused as expected" {
		t.Fatalf("%q %v", out.Value, err)
	}
	// A reference client's timeout sends no Cancel; our handler ends by
	// the deadline it received, and the connection goes on.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	err = rc.Call(ctx, extService, "Wait", &emptypb.Empty{}, &emptypb.Empty{})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) && grpcstatus.Code(err) != grpccodes.DeadlineExceeded {
		t.Fatalf("Wait: %v", err)
	}
	if err := rc.Call(testCtx(t, 5*time.Second), extService, "CallBack", &emptypb.Empty{}, &out); err != nil {
		t.Fatal(err)
	}
}

// With WithClientStatusError(grpcstatus.ErrorProto), the errors our client
// returns are grpc-go's own, so code written against grpc's status package
// (containerd's errdefs.FromGRPC among it) keeps recognising their codes;
// our status.Code still understands them.
func TestClientStatusErrorAsGRPC(t *testing.T) {
	checkGoroutines(t)
	srv, err := ref.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService(extService, &ref.ServiceDesc{Methods: map[string]ref.Method{
		"Missing": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			return nil, grpcstatus.Error(grpccodes.NotFound, "no such container")
		},
	}})
	l, path := listenUnix(t)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	defer func() {
		srv.Close()
		<-served
	}()
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c := ours.NewClient(nc, ours.WithClientStatusError(grpcstatus.ErrorProto))
	defer c.Close()
	err = c.Call(testCtx(t, 5*time.Second), extService, "Missing", &emptypb.Empty{}, &emptypb.Empty{})
	gs, ok := grpcstatus.FromError(err)
	if !ok || gs.Code() != grpccodes.NotFound || gs.Message() != "no such container" {
		t.Fatalf("grpc-go sees %v (recognised: %v)", err, ok)
	}
	if status.Code(err) != codes.NotFound {
		t.Fatalf("our status.Code: %v", status.Code(err))
	}
}
