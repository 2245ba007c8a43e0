package containerdapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	ctrdtask "github.com/containerd/containerd/api/runtime/task/v3"
	ctrdcontent "github.com/containerd/containerd/api/services/content/v1"
	ctrdevents "github.com/containerd/containerd/api/services/events/v1"
	ctrdstreaming "github.com/containerd/containerd/api/services/streaming/v1"
	ctrdttrpcevents "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/containerd/api/types"
	ctrdttrpc "github.com/containerd/ttrpc"
	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	_ "github.com/ttrpc-go/ttrpc/grpcstatus"
	task "github.com/ttrpc-go/ttrpc/interop/containerdapi/runtime/task/v3"
	content "github.com/ttrpc-go/ttrpc/interop/containerdapi/services/content/v1"
	events "github.com/ttrpc-go/ttrpc/interop/containerdapi/services/events/v1"
	streaming "github.com/ttrpc-go/ttrpc/interop/containerdapi/services/streaming/v1"
	ttrpcevents "github.com/ttrpc-go/ttrpc/interop/containerdapi/services/ttrpc/events/v1"
	"github.com/ttrpc-go/ttrpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func socketPath(t *testing.T) string {
	dir, err := os.MkdirTemp("", "t") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s")
}

// ourServer serves the services register adds on a ttrpc-go server and
// returns a containerd/ttrpc client connected to it.
func ourServer(t *testing.T, register func(*ttrpc.Server)) *ctrdttrpc.Client {
	t.Helper()
	srv, err := ttrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	register(srv)
	l, err := net.Listen("unix", socketPath(t))
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	conn, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	client := ctrdttrpc.NewClient(conn)
	t.Cleanup(func() {
		client.Close()
		srv.Close()
		if err := <-served; err != nil && !errors.Is(err, ttrpc.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return client
}

// theirServer serves the services register adds on a containerd/ttrpc
// server and returns a ttrpc-go client connected to it.
func theirServer(t *testing.T, register func(*ctrdttrpc.Server)) *ttrpc.Client {
	t.Helper()
	srv, err := ctrdttrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	register(srv)
	l, err := net.Listen("unix", socketPath(t))
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	conn, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	client := ttrpc.NewClient(conn)
	t.Cleanup(func() {
		client.Close()
		srv.Close()
		if err := <-served; err != nil && !errors.Is(err, ctrdttrpc.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return client
}

// taskServer implements the shim task service (v3) from our stubs. Only
// State and Connect are implemented; the embedded nil interface makes any
// other method panic, which the tests never call.
type taskServer struct {
	task.TTRPCTaskService
}

func (taskServer) State(_ context.Context, req *ctrdtask.StateRequest) (*ctrdtask.StateResponse, error) {
	if req.ID == "" {
		return nil, status.Error(codes.NotFound, "no such task")
	}
	return &ctrdtask.StateResponse{ID: req.ID, ExecID: req.ExecID, Pid: 42, Bundle: "/run/" + req.ID,
		ExitedAt: timestamppb.New(time.Unix(1700000000, 5))}, nil
}

func (taskServer) Connect(_ context.Context, req *ctrdtask.ConnectRequest) (*ctrdtask.ConnectResponse, error) {
	return &ctrdtask.ConnectResponse{ShimPid: 1, TaskPid: 2, Version: "v3:" + req.ID}, nil
}

// Unary calls: containerd's shim client (task v3) against our server.
func TestTaskServiceUnary(t *testing.T) {
	ctx := testContext(t)
	c := ctrdtask.NewTTRPCTaskClient(ourServer(t, func(s *ttrpc.Server) {
		task.RegisterTTRPCTaskService(s, taskServer{})
	}))
	st, err := c.State(ctx, &ctrdtask.StateRequest{ID: "c1", ExecID: "e1"})
	if err != nil {
		t.Fatal(err)
	}
	want := &ctrdtask.StateResponse{ID: "c1", ExecID: "e1", Pid: 42, Bundle: "/run/c1",
		ExitedAt: timestamppb.New(time.Unix(1700000000, 5))}
	if !proto.Equal(st, want) {
		t.Errorf("State = %v, want %v", st, want)
	}
	cr, err := c.Connect(ctx, &ctrdtask.ConnectRequest{ID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if cr.Version != "v3:c1" || cr.TaskPid != 2 {
		t.Errorf("Connect = %v", cr)
	}
	// A status error from our handler reaches containerd's client intact.
	_, err = c.State(ctx, &ctrdtask.StateRequest{})
	if got := status.Code(err); got != codes.NotFound {
		t.Errorf("State(no id): code %v (%v), want NotFound", got, err)
	}
}

type forwarder struct {
	got chan *types.Envelope
}

func (f forwarder) Forward(_ context.Context, req *ctrdttrpcevents.ForwardRequest) (*emptypb.Empty, error) {
	f.got <- req.Envelope
	return &emptypb.Empty{}, nil
}

// The events service shims use to forward events to containerd.
func TestEventsForward(t *testing.T) {
	ctx := testContext(t)
	f := forwarder{got: make(chan *types.Envelope, 1)}
	c := ctrdttrpcevents.NewTTRPCEventsClient(ourServer(t, func(s *ttrpc.Server) {
		ttrpcevents.RegisterTTRPCEventsService(s, f)
	}))
	ev, err := anypb.New(&ctrdtask.ConnectRequest{ID: "payload"})
	if err != nil {
		t.Fatal(err)
	}
	env := &types.Envelope{Timestamp: timestamppb.Now(), Namespace: "default", Topic: "/tasks/exit", Event: ev}
	if _, err := c.Forward(ctx, &ctrdttrpcevents.ForwardRequest{Envelope: env}); err != nil {
		t.Fatal(err)
	}
	if got := <-f.got; !proto.Equal(got, env) {
		t.Errorf("server got %v, want %v", got, env)
	}
}

type subscriber struct {
	events.TTRPCEventsService
}

func (subscriber) Subscribe(_ context.Context, req *ctrdevents.SubscribeRequest, s events.TTRPCEvents_SubscribeServer) error {
	for i, f := range req.Filters {
		if err := s.Send(&types.Envelope{Namespace: "ns", Topic: fmt.Sprintf("%d:%s", i, f)}); err != nil {
			return err
		}
	}
	return nil
}

// Server streaming: containerd's events client subscribes to our server.
func TestEventsSubscribe(t *testing.T) {
	ctx := testContext(t)
	c := ctrdevents.NewTTRPCEventsClient(ourServer(t, func(s *ttrpc.Server) {
		events.RegisterTTRPCEventsService(s, subscriber{})
	}))
	stream, err := c.Subscribe(ctx, &ctrdevents.SubscribeRequest{Filters: []string{"a", "b", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	var topics []string
	for {
		env, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		topics = append(topics, env.Topic)
	}
	if fmt.Sprint(topics) != "[0:a 1:b 2:c]" {
		t.Errorf("topics %v", topics)
	}
}

type contentServer struct {
	content.TTRPCContentService
}

// Write acknowledges every request with the offset after its data, and ends
// after a commit.
func (contentServer) Write(_ context.Context, s content.TTRPCContent_WriteServer) error {
	var offset int64
	for {
		req, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		offset += int64(len(req.Data))
		resp := &ctrdcontent.WriteContentResponse{Action: req.Action, Offset: offset, Total: req.Total}
		if req.Action == ctrdcontent.WriteAction_COMMIT {
			resp.Digest = req.Expected
		}
		if err := s.Send(resp); err != nil {
			return err
		}
		if req.Action == ctrdcontent.WriteAction_COMMIT {
			return nil
		}
	}
}

// Bidirectional streaming: containerd's content client writes a blob.
func TestContentWrite(t *testing.T) {
	ctx := testContext(t)
	c := ctrdcontent.NewTTRPCContentClient(ourServer(t, func(s *ttrpc.Server) {
		content.RegisterTTRPCContentService(s, contentServer{})
	}))
	w, err := c.Write(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, chunk := range []string{"hello ", "world"} {
		err := w.Send(&ctrdcontent.WriteContentRequest{Action: ctrdcontent.WriteAction_WRITE, Ref: "r", Total: 11,
			Data: []byte(chunk), Labels: map[string]string{"n": fmt.Sprint(i)}})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := w.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if want := []int64{6, 11}[i]; resp.Offset != want {
			t.Errorf("offset %d, want %d", resp.Offset, want)
		}
	}
	if err := w.Send(&ctrdcontent.WriteContentRequest{Action: ctrdcontent.WriteAction_COMMIT, Expected: "sha256:x"}); err != nil {
		t.Fatal(err)
	}
	resp, err := w.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if resp.Digest != "sha256:x" || resp.Action != ctrdcontent.WriteAction_COMMIT {
		t.Errorf("commit answered %v", resp)
	}
	if _, err := w.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("after commit: %v, want io.EOF", err)
	}
}

type streamingServer struct{}

func (streamingServer) Stream(_ context.Context, s streaming.TTRPCStreaming_StreamServer) error {
	for {
		m, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := s.Send(m); err != nil {
			return err
		}
	}
}

// Bidirectional streaming of google.protobuf.Any, the shape of containerd's
// streaming service; the client half-closes.
func TestStreamingEcho(t *testing.T) {
	ctx := testContext(t)
	c := ctrdstreaming.NewTTRPCStreamingClient(ourServer(t, func(s *ttrpc.Server) {
		streaming.RegisterTTRPCStreamingService(s, streamingServer{})
	}))
	s, err := c.Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"x", "y"} {
		in, err := anypb.New(&ctrdtask.ConnectRequest{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(in); err != nil {
			t.Fatal(err)
		}
		out, err := s.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(in, out) {
			t.Errorf("echo %v, want %v", out, in)
		}
	}
	if err := s.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); !errors.Is(err, io.EOF) {
		t.Errorf("after CloseSend: %v, want io.EOF", err)
	}
}

type theirTaskServer struct {
	ctrdtask.TTRPCTaskService
}

func (theirTaskServer) Connect(_ context.Context, req *ctrdtask.ConnectRequest) (*ctrdtask.ConnectResponse, error) {
	return &ctrdtask.ConnectResponse{Version: "theirs:" + req.ID}, nil
}

type theirSubscriber struct {
	ctrdevents.TTRPCEventsService
}

func (theirSubscriber) Subscribe(_ context.Context, req *ctrdevents.SubscribeRequest, s ctrdevents.TTRPCEvents_SubscribeServer) error {
	for _, f := range req.Filters {
		if err := s.Send(&types.Envelope{Topic: f}); err != nil {
			return err
		}
	}
	return nil
}

// The other direction: clients from our stubs against servers built from
// containerd's stubs on containerd/ttrpc.
func TestOurClientsTheirServer(t *testing.T) {
	ctx := testContext(t)
	client := theirServer(t, func(s *ctrdttrpc.Server) {
		ctrdtask.RegisterTTRPCTaskService(s, theirTaskServer{})
		ctrdevents.RegisterTTRPCEventsService(s, theirSubscriber{})
	})
	cr, err := task.NewTTRPCTaskClient(client).Connect(ctx, &ctrdtask.ConnectRequest{ID: "c9"})
	if err != nil {
		t.Fatal(err)
	}
	if cr.Version != "theirs:c9" {
		t.Errorf("Connect = %v", cr)
	}
	stream, err := events.NewTTRPCEventsClient(client).Subscribe(ctx, &ctrdevents.SubscribeRequest{Filters: []string{"p", "q"}})
	if err != nil {
		t.Fatal(err)
	}
	var topics []string
	for {
		env, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		topics = append(topics, env.Topic)
	}
	if fmt.Sprint(topics) != "[p q]" {
		t.Errorf("topics %v", topics)
	}
}
