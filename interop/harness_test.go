package interop

import (
	"context"
	"errors"
	"fmt"
	_ "github.com/ttrpc-go/ttrpc/grpcstatus"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	reflog "github.com/containerd/log"
	ref "github.com/containerd/ttrpc"

	ours "github.com/ttrpc-go/ttrpc"
)

// impl names one of the two implementations.
type impl int

const (
	implOurs impl = iota
	implRef
)

func (i impl) String() string {
	if i == implOurs {
		return "ours"
	}
	return "ref"
}

// pair is one client/server combination.
type pair struct {
	client, server impl
}

func (p pair) String() string { return p.client.String() + "-client/" + p.server.String() + "-server" }

// allPairs lists the two cross-library combinations, which are what these
// tests are about, and the two same-library controls.
var allPairs = []pair{{implOurs, implRef}, {implRef, implOurs}, {implOurs, implOurs}, {implRef, implRef}}

func TestMain(m *testing.M) {
	// The reference logs through logrus on stderr, for example for every
	// dropped connection; the tests assert behaviour instead.
	reflog.L.Logger.SetOutput(io.Discard)
	os.Exit(m.Run())
}

// forPairs runs f as a subtest for every pair, each with its own server,
// client and goroutine-leak check.
func forPairs(t *testing.T, pairs []pair, f func(t *testing.T, e *env)) {
	t.Helper()
	for _, p := range pairs {
		t.Run(p.String(), func(t *testing.T) {
			checkGoroutines(t)
			e := newEnv(t, p)
			f(t, e)
		})
	}
}

// env is a running server of one implementation plus a connected client of
// the other (or the same) implementation.
type env struct {
	pair   pair
	hooks  *hooks
	server *testServer
	client testClient
}

func newEnv(t *testing.T, p pair) *env {
	t.Helper()
	h := newHooks()
	srv := startServer(t, p.server, h)
	cl := dialClient(t, p.client, srv.addr)
	return &env{pair: p, hooks: h, server: srv, client: cl}
}

// newClient opens one more connection to the environment's server.
func (e *env) newClient(t *testing.T) testClient {
	return dialClient(t, e.pair.client, e.server.addr)
}

// socketPath returns a fresh unix socket path. os.MkdirTemp("", …) rather
// than t.TempDir keeps it below the 108-byte sun_path limit whatever the
// test's name.
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ti")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s")
}

// testServer is a server of either implementation serving testService.
type testServer struct {
	impl     impl
	addr     string
	close    func() error
	shutdown func(context.Context) error
	// serveDone is closed when Serve has returned serveErr.
	serveDone chan struct{}
	serveErr  error
}

func startServer(t *testing.T, which impl, h *hooks) *testServer {
	t.Helper()
	addr := socketPath(t)
	l, err := net.Listen("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{impl: which, addr: addr, serveDone: make(chan struct{})}
	var serve func() error
	switch which {
	case implOurs:
		s, err := ours.NewServer()
		if err != nil {
			t.Fatal(err)
		}
		s.RegisterService(serviceName, oursServiceDesc(h))
		ts.close, ts.shutdown = s.Close, s.Shutdown
		serve = func() error { return s.Serve(context.Background(), l) }
	case implRef:
		s, err := ref.NewServer()
		if err != nil {
			t.Fatal(err)
		}
		s.RegisterService(serviceName, refServiceDesc(h))
		ts.close, ts.shutdown = s.Close, s.Shutdown
		serve = func() error { return s.Serve(context.Background(), l) }
	}
	go func() {
		ts.serveErr = serve()
		close(ts.serveDone)
	}()
	t.Cleanup(func() {
		// Handlers parked in Block must be freed or the server's
		// goroutines would outlive the test.
		h.releaseAll()
		ts.close()
		select {
		case <-ts.serveDone:
			if err := ts.serveErr; !errors.Is(err, ours.ErrServerClosed) && !errors.Is(err, ref.ErrServerClosed) {
				t.Errorf("%v server Serve returned %v, want ErrServerClosed", which, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%v server Serve did not return after Close", which)
		}
	})
	return ts
}

// streamKind selects one of the three streaming shapes.
type streamKind struct {
	client, server bool
}

var (
	serverStreaming = streamKind{client: false, server: true}
	clientStreaming = streamKind{client: true, server: false}
	bidiStreaming   = streamKind{client: true, server: true}
)

// clientStream is what both libraries' ClientStream provide.
type clientStream interface {
	CloseSend() error
	SendMsg(m any) error
	RecvMsg(m any) error
}

// testClient hides which implementation a client is.
type testClient interface {
	Call(ctx context.Context, service, method string, req, resp any) error
	NewStream(ctx context.Context, kind streamKind, service, method string, req any) (clientStream, error)
	Close() error
	// withMetadata attaches md to ctx the way this client's library
	// expects it.
	withMetadata(ctx context.Context, md map[string][]string) context.Context
	// errClosed is the library's ErrClosed.
	errClosed() error
	impl() impl
}

type oursClient struct{ *ours.Client }

func (c oursClient) NewStream(ctx context.Context, k streamKind, service, method string, req any) (clientStream, error) {
	return c.Client.NewStream(ctx, &ours.StreamDesc{StreamingClient: k.client, StreamingServer: k.server}, service, method, req)
}

func (oursClient) withMetadata(ctx context.Context, md map[string][]string) context.Context {
	return ours.WithMetadata(ctx, ours.MD(md))
}
func (oursClient) errClosed() error { return ours.ErrClosed }
func (oursClient) impl() impl       { return implOurs }

type refClient struct{ *ref.Client }

func (c refClient) NewStream(ctx context.Context, k streamKind, service, method string, req any) (clientStream, error) {
	return c.Client.NewStream(ctx, &ref.StreamDesc{StreamingClient: k.client, StreamingServer: k.server}, service, method, req)
}

func (refClient) withMetadata(ctx context.Context, md map[string][]string) context.Context {
	return ref.WithMetadata(ctx, ref.MD(md))
}
func (refClient) errClosed() error { return ref.ErrClosed }
func (refClient) impl() impl       { return implRef }

func dialClient(t *testing.T, which impl, addr string) testClient {
	t.Helper()
	conn, err := net.Dial("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	var c testClient
	switch which {
	case implOurs:
		c = oursClient{ours.NewClient(conn)}
	case implRef:
		c = refClient{ref.NewClient(conn)}
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// checkGoroutines fails the test if goroutines started during it are still
// running once all of its cleanups have run. Registered first, its cleanup
// runs last. Goroutines wind down asynchronously after a close, so the
// check polls until a deadline instead of demanding an exact moment.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("goroutine leak: %d goroutines before the test, %d after\n%s", before, n, buf)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// testCtx returns a context that bounds a single step of a test, so a
// hang shows up as a failure naming the step rather than a test timeout.
func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// watchdogCtx is like testCtx but without a deadline, for calls that must
// not carry timeout_nano on the wire: it is cancelled after d instead.
func watchdogCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(d, cancel)
	t.Cleanup(func() {
		timer.Stop()
		cancel()
	})
	return ctx
}

// errorText describes err with its type, for failure messages.
func errorText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%T: %s", err, strings.TrimSpace(err.Error()))
}
