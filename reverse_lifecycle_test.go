package ttrpc

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// A peer's life cycle and the stream bugs of calls in both directions.

// TestWaitPeerServing: a server learns that a client serves, from an
// option and by waiting, and pushes at once without racing the Hello.
func TestWaitPeerServing(t *testing.T) {
	checkGoroutines(t)
	serving := make(chan *Client, 1)
	srv, _ := NewServer(WithServerOnPeerServing(func(ctx context.Context, peer *Client) { serving <- peer }))
	kept := make(chan *Client, 1)
	srv.Register("hub", map[string]Method{
		"Hello": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			peer, _ := PeerClient(ctx)
			kept <- peer
			return &emptypb.Empty{}, nil
		},
	})
	ts := startServer(t, srv)
	c := ts.dial(t)
	if err := c.Call(context.Background(), "hub", "Hello", &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	peer := <-kept
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	if err := peer.WaitPeerServing(ctx); err != context.DeadlineExceeded {
		t.Fatalf("WaitPeerServing before RegisterService: %v", err)
	}
	cancel()
	c.Register("client", map[string]Method{
		"Name": func(ctx context.Context, unmarshal func(any) error) (any, error) { return wrapperspb.String("me"), nil },
	})
	if got := <-serving; got != peer {
		t.Fatal("WithServerOnPeerServing got another client than PeerClient")
	}
	if err := peer.WaitPeerServing(context.Background()); err != nil {
		t.Fatal(err)
	}
	var name wrapperspb.StringValue
	if err := peer.Call(context.Background(), "client", "Name", &emptypb.Empty{}, &name); err != nil || name.Value != "me" {
		t.Fatalf("push right after the Hello: %q %v", name.Value, err)
	}
	c.Close()
	select {
	case <-peer.Done():
	case <-time.After(relIOTimeout):
		t.Fatal("the peer client's Done was not closed when the connection ended")
	}
	if err := peer.WaitPeerServing(context.Background()); err != nil {
		t.Fatalf("WaitPeerServing on a peer that served: %v", err)
	}
}

// TestServeConn serves one end of a socketpair.
func TestServeConn(t *testing.T) {
	checkGoroutines(t)
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]net.Conn, 2)
	for i, fd := range fds {
		f := osNewFile(fd)
		conns[i], err = net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	srv, _ := NewServer()
	srv.RegisterService(testService, echoService())
	served := make(chan error, 1)
	go func() { served <- srv.ServeConn(context.Background(), conns[0]) }()
	c := NewClient(conns[1])
	var out wrapperspb.BytesValue
	if err := c.Call(context.Background(), testService, "Echo", wrapperspb.Bytes([]byte("pair")), &out); err != nil || string(out.Value) != "pair" {
		t.Fatalf("%q %v", out.Value, err)
	}
	c.Close()
	if err := <-served; err != nil {
		t.Fatalf("ServeConn returned %v after the peer closed", err)
	}
	_ = srv.Close()
	a, b := net.Pipe()
	defer b.Close()
	if err := srv.ServeConn(context.Background(), a); err != ErrServerClosed {
		t.Fatalf("ServeConn after Close: %v", err)
	}
}

// TestStreamSendAfterPeerGone: a stream's Send after the peer went away
// returns ErrClosed, not the write error.
func TestStreamSendAfterPeerGone(t *testing.T) {
	checkGoroutines(t)
	sendErr := make(chan error, 1)
	started := make(chan struct{})
	srv, _ := NewServer()
	srv.RegisterService("pump", &ServiceDesc{Streams: map[string]Stream{
		"Pump": {StreamingServer: true, Handler: func(ctx context.Context, ss StreamServer) (any, error) {
			close(started)
			msg := wrapperspb.Bytes(make([]byte, 32<<10))
			for {
				if err := ss.SendMsg(msg); err != nil {
					sendErr <- err
					return nil, err
				}
			}
		}},
	}})
	c := startServer(t, srv).dial(t)
	if _, err := c.NewStream(context.Background(), &StreamDesc{StreamingServer: true}, "pump", "Pump", &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	<-started
	c.Close()
	if err := <-sendErr; err != ErrClosed {
		t.Fatalf("Send to a peer that left: %v, want ErrClosed", err)
	}
}

// TestSendAfterCancelFails: after the caller cancels a stream, the
// handler's Send fails with Canceled and nothing more is sent for it.
func TestSendAfterCancelFails(t *testing.T) {
	checkGoroutines(t)
	sendErr := make(chan error, 1)
	srv, _ := NewServer()
	srv.RegisterService("pump", &ServiceDesc{Streams: map[string]Stream{
		"Pump": {StreamingServer: true, Handler: func(ctx context.Context, ss StreamServer) (any, error) {
			for {
				if err := ss.SendMsg(wrapperspb.Int32(1)); err != nil {
					sendErr <- err
					return nil, err
				}
			}
		}},
	}})
	c := startServer(t, srv).dial(t)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := c.NewStream(ctx, &StreamDesc{StreamingServer: true}, "pump", "Pump", &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecvMsg(&wrapperspb.Int32Value{}); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-sendErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("Send after the caller cancelled: %v, want Canceled", err)
	}
}

// TestLateFramesOfCancelledReverseCallsDropped: frames that arrive for a
// reverse call the server gave up are dropped, never answered with
// InvalidArgument (the client would log or misroute them).
func TestLateFramesOfCancelledReverseCallsDropped(t *testing.T) {
	checkGoroutines(t)
	srv, _ := NewServer()
	asked := make(chan error, 64)
	srv.Register("hub", map[string]Method{
		"Ask": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			peer, _ := PeerClient(ctx)
			for range 50 {
				cctx, cancel := context.WithTimeout(ctx, time.Millisecond)
				err := peer.Call(cctx, "client", "Slow", &emptypb.Empty{}, &emptypb.Empty{})
				cancel()
				asked <- err
			}
			return &emptypb.Empty{}, nil
		},
	})
	ts := startServer(t, srv)
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := ts.dial(t, WithClientLogger(logger))
	c.Register("client", map[string]Method{
		"Slow": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			time.Sleep(5 * time.Millisecond) // answers after the caller's deadline, on purpose
			return &emptypb.Empty{}, nil
		},
	})
	if err := c.Call(context.Background(), "hub", "Ask", &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	// A caller that a loaded machine wakes only after the late answer has
	// arrived gets that answer (nil): what arrived is not thrown away.
	timedOut := 0
	for range 50 {
		switch err := <-asked; err {
		case context.DeadlineExceeded:
			timedOut++
		case nil:
		default:
			t.Fatalf("reverse call past its deadline: %v, want the plain context error", err)
		}
	}
	if timedOut == 0 {
		t.Fatal("no reverse call timed out: the test did not test late frames")
	}
	// One more round trip: anything the server sent before it has arrived.
	if err := c.Call(context.Background(), "hub", "Ask", &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), "must be odd") || strings.Contains(logs.String(), "InvalidArgument") {
		t.Fatalf("the server answered late frames:\n%s", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestPeerClientRegisterServicePanics: a server's peer client cannot serve;
// saying so loudly beats a registry nothing reads.
func TestPeerClientRegisterServicePanics(t *testing.T) {
	checkGoroutines(t)
	srv, _ := NewServer()
	got := make(chan any, 1)
	srv.Register("hub", map[string]Method{
		"Try": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			peer, _ := PeerClient(ctx)
			defer func() { got <- recover() }()
			peer.Register("x", map[string]Method{})
			return &emptypb.Empty{}, nil
		},
	})
	c := startServer(t, srv).dial(t)
	_ = c.Call(context.Background(), "hub", "Try", &emptypb.Empty{}, &emptypb.Empty{})
	if r := <-got; r == nil || !strings.Contains(r.(string), "PeerClient") {
		t.Fatalf("RegisterService on a peer client: %v", r)
	}
}

// TestServingLoggers: a client's serving side logs to the logger of
// WithClientServerOpts, a server's peer clients to WithPeerClientOpts'.
func TestServingLoggers(t *testing.T) {
	checkGoroutines(t)
	var clientLog, servingLog bytes.Buffer
	var mu sync.Mutex
	srv, _ := NewServer()
	srv.Register("hub", map[string]Method{
		"Ask": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			peer, _ := PeerClient(ctx)
			return &emptypb.Empty{}, peer.Call(ctx, "client", "Panic", &emptypb.Empty{}, &emptypb.Empty{})
		},
	})
	c := startServer(t, srv).dial(t,
		WithClientLogger(slog.New(slog.NewTextHandler(lockedWriter{&mu, &clientLog}, nil))),
		WithClientServerOpts(WithServerLogger(slog.New(slog.NewTextHandler(lockedWriter{&mu, &servingLog}, nil)))))
	c.Register("client", map[string]Method{
		"Panic": func(ctx context.Context, unmarshal func(any) error) (any, error) { panic("boom") },
	})
	err := c.Call(context.Background(), "hub", "Ask", &emptypb.Empty{}, &emptypb.Empty{})
	if status.Code(err) != codes.Internal {
		t.Fatalf("call through a panicking client handler: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(servingLog.String(), "panicked") || strings.Contains(clientLog.String(), "panicked") {
		t.Fatalf("panic logged to the wrong logger: serving %q, client %q", servingLog.String(), clientLog.String())
	}

	var peerLog bytes.Buffer
	l := slog.New(slog.NewTextHandler(lockedWriter{&mu, &peerLog}, nil))
	srv2, _ := NewServer(WithPeerClientOpts(WithClientLogger(l)))
	peers := make(chan *Client, 1)
	srv2.Register("hub", map[string]Method{
		"Hello": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			peer, _ := PeerClient(ctx)
			peers <- peer
			return &emptypb.Empty{}, nil
		},
	})
	c2 := startServer(t, srv2).dial(t)
	if err := c2.Call(context.Background(), "hub", "Hello", &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	if p := <-peers; p.logger != l {
		t.Fatal("WithPeerClientOpts(WithClientLogger) was overwritten")
	}
}

// TestShutdownLetsCallChainsFinish: during Shutdown an inner call that
// belongs to a call in flight (client -> server -> client -> server) is
// served.
func TestShutdownLetsCallChainsFinish(t *testing.T) {
	checkGoroutines(t)
	srv, _ := NewServer()
	inShutdown := make(chan struct{})
	srv.Register("hub", map[string]Method{
		"Outer": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			<-inShutdown
			peer, _ := PeerClient(ctx)
			var v wrapperspb.StringValue
			err := peer.Call(ctx, "client", "Middle", &emptypb.Empty{}, &v)
			return &v, err
		},
		"Inner": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			return wrapperspb.String("inner"), nil
		},
	})
	ts := startServer(t, srv)
	c := ts.dial(t)
	c.Register("client", map[string]Method{
		"Middle": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			var v wrapperspb.StringValue
			err := c.Call(ctx, "hub", "Inner", &emptypb.Empty{}, &v)
			return &v, err
		},
	})
	outer := make(chan error, 1)
	var v wrapperspb.StringValue
	go func() { outer <- c.Call(context.Background(), "hub", "Outer", &emptypb.Empty{}, &v) }()
	relEventually(t, "the outer call to arrive", func() bool { _, n := relServed(srv); return n == 1 })
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	relEventually(t, "Shutdown to start", srv.isShutdown)
	close(inShutdown)
	if err := <-outer; err != nil || v.Value != "inner" {
		t.Fatalf("call chain during Shutdown: %q %v", v.Value, err)
	}
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
}

func osNewFile(fd int) *os.File { return os.NewFile(uintptr(fd), "socketpair") }
