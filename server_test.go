package ttrpc

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// gate is a service whose calls wait until released, to hold calls in
// flight deterministically.
type gate struct {
	entered chan struct{}
	release chan struct{}
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 100), release: make(chan struct{})} }

func (g *gate) desc() *ServiceDesc {
	return &ServiceDesc{
		Methods: map[string]Method{
			"Wait": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				g.entered <- struct{}{}
				<-g.release
				return wrapperspb.String("done"), nil
			},
		},
		Streams: map[string]Stream{
			"WaitStream": {Handler: func(ctx context.Context, ss StreamServer) (any, error) {
				var e emptypb.Empty
				if err := ss.RecvMsg(&e); err != nil {
					return nil, err
				}
				g.entered <- struct{}{}
				<-g.release
				return nil, ss.SendMsg(wrapperspb.String("done"))
			}, StreamingServer: true},
		},
	}
}

// containerd/ttrpc's Shutdown can close a connection whose only call just
// arrived (its calls then fail with "ttrpc: closed"); here every call in
// flight completes, and Shutdown waits for it.
func TestShutdownLetsCallsFinish(t *testing.T) {
	checkGoroutines(t)
	g := newGate()
	srv, _ := NewServer()
	srv.RegisterService("gate", g.desc())
	srv.RegisterService(testService, echoService())
	ts := startServer(t, srv)
	c := ts.dial(t)
	idle := ts.dial(t)
	if err := idle.Call(context.Background(), testService, "Echo", &wrapperspb.BytesValue{}, &wrapperspb.BytesValue{}); err != nil {
		t.Fatal(err) // the server knows the connection before Shutdown
	}

	const calls = 5
	var wg sync.WaitGroup
	errs := make(chan error, calls+1)
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out wrapperspb.StringValue
			if err := c.Call(context.Background(), "gate", "Wait", &emptypb.Empty{}, &out); err != nil || out.Value != "done" {
				errs <- errors.Join(err, errors.New("call did not complete: "+out.Value))
			}
		}()
	}
	stream, err := c.NewStream(context.Background(), &StreamDesc{StreamingServer: true}, "gate", "WaitStream", &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	for range calls + 1 {
		<-g.entered
	}
	shutdownDone := make(chan error, 1)
	go func() { shutdownDone <- srv.Shutdown(context.Background()) }()

	// While draining, the idle connection is closed at once, and a call
	// arriving on the busy one is served, as containerd relies on.
	select {
	case <-idle.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the idle connection was not closed by Shutdown")
	}
	if err := idle.Call(context.Background(), testService, "Echo", &wrapperspb.BytesValue{}, &wrapperspb.BytesValue{}); err != ErrClosed {
		t.Fatalf("call on the closed idle connection: %v, want ErrClosed", err)
	}
	if err := c.Call(context.Background(), testService, "Echo", &wrapperspb.BytesValue{}, &wrapperspb.BytesValue{}); err != nil {
		t.Fatalf("call on the busy connection during Shutdown: %v", err)
	}
	select {
	case err := <-shutdownDone:
		t.Fatalf("Shutdown returned %v while calls were running", err)
	default:
	}
	close(g.release)
	wg.Wait()
	var out wrapperspb.StringValue
	if err := stream.RecvMsg(&out); err != nil || out.Value != "done" {
		t.Fatalf("stream: %q %v", out.Value, err)
	}
	if err := <-shutdownDone; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestShutdownDeadline(t *testing.T) {
	checkGoroutines(t)
	g := newGate()
	srv, _ := NewServer()
	srv.RegisterService("gate", g.desc())
	c := startServer(t, srv).dial(t)
	done := make(chan error, 1)
	go func() { done <- c.Call(context.Background(), "gate", "Wait", &emptypb.Empty{}, &emptypb.Empty{}) }()
	<-g.entered
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want DeadlineExceeded", err)
	}
	close(g.release)
	if err := <-done; err != nil {
		t.Fatalf("the call was cut: %v", err)
	}
}

func TestServeAfterShutdown(t *testing.T) {
	checkGoroutines(t)
	srv, _ := NewServer()
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", socketPath(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(context.Background(), l); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
}

func TestServeReturnsListenerError(t *testing.T) {
	checkGoroutines(t)
	srv, _ := NewServer()
	l, err := net.Listen("unix", socketPath(t))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), l) }()
	waitFor(t, func() bool { srv.mu.Lock(); defer srv.mu.Unlock(); return len(srv.listeners) == 1 })
	l.Close()
	if err := <-done; err == nil || errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve with a closed listener: %v", err)
	}
}

func TestServerCloseEndsConnections(t *testing.T) {
	checkGoroutines(t)
	g := newGate()
	srv, _ := NewServer()
	srv.RegisterService("gate", g.desc())
	ts := startServer(t, srv)
	c := ts.dial(t)
	done := make(chan error, 1)
	go func() { done <- c.Call(context.Background(), "gate", "Wait", &emptypb.Empty{}, &emptypb.Empty{}) }()
	<-g.entered
	srv.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("call during Close: %v, want ErrClosed", err)
	}
	close(g.release)
	srv.mu.Lock()
	n := len(srv.conns)
	srv.mu.Unlock()
	if n != 0 {
		t.Errorf("%d connections left after Close", n)
	}
}

func TestServerForgetsClosedConnections(t *testing.T) {
	checkGoroutines(t)
	ts := newEchoServer(t)
	for range 5 {
		c := ts.dial(t)
		if err := c.Call(context.Background(), testService, "Echo", &wrapperspb.BytesValue{}, &wrapperspb.BytesValue{}); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	waitFor(t, func() bool { ts.srv.mu.Lock(); defer ts.srv.mu.Unlock(); return len(ts.srv.conns) == 0 })
}

type recordingHandshaker struct{ info string }

func (h recordingHandshaker) Handshake(_ context.Context, nc net.Conn) (net.Conn, any, error) {
	if h.info == "refuse" {
		return nil, nil, errors.New("refused")
	}
	return nc, h.info, nil
}

func TestHandshakeResultReachesHandlers(t *testing.T) {
	checkGoroutines(t)
	srv, err := NewServer(WithServerHandshaker(recordingHandshaker{info: "peer-42"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewServer(WithServerHandshaker(recordingHandshaker{}), WithServerHandshaker(recordingHandshaker{})); err == nil {
		t.Error("two handshakers were accepted")
	}
	srv.Register("hs", map[string]Method{"Who": func(ctx context.Context, _ func(any) error) (any, error) {
		v, ok := HandshakeResult(ctx)
		if !ok {
			return nil, status.Error(codes.NotFound, "no handshake result")
		}
		return wrapperspb.String(v.(string)), nil
	}})
	c := startServer(t, srv).dial(t)
	var out wrapperspb.StringValue
	if err := c.Call(context.Background(), "hs", "Who", &emptypb.Empty{}, &out); err != nil || out.Value != "peer-42" {
		t.Fatalf("%q %v", out.Value, err)
	}
}

func TestRefusedHandshakeClosesConnection(t *testing.T) {
	checkGoroutines(t)
	srv, _ := NewServer(WithServerHandshaker(recordingHandshaker{info: "refuse"}))
	srv.RegisterService(testService, echoService())
	c := startServer(t, srv).dial(t)
	err := c.Call(context.Background(), testService, "Echo", &wrapperspb.BytesValue{}, &wrapperspb.BytesValue{})
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("call on a refused connection: %v, want ErrClosed", err)
	}
}

func TestRegisterDuplicatePanics(t *testing.T) {
	srv, _ := NewServer()
	srv.Register("dup", map[string]Method{})
	defer func() {
		if recover() == nil {
			t.Error("registering a service twice did not panic")
		}
	}()
	srv.Register("dup", map[string]Method{})
}
