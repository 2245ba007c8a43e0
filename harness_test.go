package ttrpc

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// checkGoroutines fails the test if goroutines started during it are still
// running when it ends (after a grace period for connections closing).
func checkGoroutines(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				t.Errorf("goroutine leak: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:n])
				return
			}
			runtime.Gosched()
			time.Sleep(5 * time.Millisecond) // polling the count, not synchronising
		}
	})
}

// socketPath returns a unix socket path short enough for sun_path.
func socketPath(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ttrpc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s")
}

// testServer serves srv on a fresh unix socket until the test ends.
type testServer struct {
	srv    *Server
	path   string
	served chan error
}

func startServer(t testing.TB, srv *Server) *testServer {
	t.Helper()
	path := socketPath(t)
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: srv, path: path, served: make(chan error, 1)}
	go func() { ts.served <- srv.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-ts.served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ts
}

func (ts *testServer) dial(t testing.TB, opts ...ClientOpts) *Client {
	t.Helper()
	nc, err := net.Dial("unix", ts.path)
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(nc, opts...)
	t.Cleanup(func() { c.Close() })
	return c
}

const testService = "ttrpc.test.v1.Test"

// echoService is a service covering every call kind, used across tests.
func echoService() *ServiceDesc {
	return &ServiceDesc{
		Methods: map[string]Method{
			"Echo": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				var req wrapperspb.BytesValue
				if err := unmarshal(&req); err != nil {
					return nil, err
				}
				return &req, nil
			},
			"Metadata": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				md, _ := GetMetadata(ctx)
				var keys []string
				for k, vs := range md {
					keys = append(keys, k+"="+strings.Join(vs, ","))
				}
				return wrapperspb.String(strings.Join(sortStrings(keys), ";")), nil
			},
			"Deadline": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				d, ok := ctx.Deadline()
				if !ok {
					return wrapperspb.Int64(0), nil
				}
				return wrapperspb.Int64(time.Until(d).Nanoseconds()), nil
			},
			"Block": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			},
			"Panic": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				panic("handler exploded")
			},
			"Nil": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				return nil, nil
			},
		},
		Streams: map[string]Stream{
			"Count": {Handler: func(ctx context.Context, ss StreamServer) (any, error) {
				var n wrapperspb.Int32Value
				if err := ss.RecvMsg(&n); err != nil {
					return nil, err
				}
				for i := int32(0); i < n.Value; i++ {
					if err := ss.SendMsg(wrapperspb.Int32(i)); err != nil {
						return nil, err
					}
				}
				return nil, nil
			}, StreamingServer: true},
			"Sum": {Handler: func(ctx context.Context, ss StreamServer) (any, error) {
				var sum int32
				for {
					var v wrapperspb.Int32Value
					err := ss.RecvMsg(&v)
					if errors.Is(err, errEOF) {
						return wrapperspb.Int32(sum), nil
					}
					if err != nil {
						return nil, err
					}
					sum += v.Value
				}
			}, StreamingClient: true},
			"Bidi": {Handler: func(ctx context.Context, ss StreamServer) (any, error) {
				for {
					var v wrapperspb.StringValue
					err := ss.RecvMsg(&v)
					if errors.Is(err, errEOF) {
						return nil, nil
					}
					if err != nil {
						return nil, err
					}
					if err := ss.SendMsg(wrapperspb.String("echo:" + v.Value)); err != nil {
						return nil, err
					}
				}
			}, StreamingClient: true, StreamingServer: true},
			"StreamMetadata": {Handler: func(ctx context.Context, ss StreamServer) (any, error) {
				var e emptypb.Empty
				if err := ss.RecvMsg(&e); err != nil {
					return nil, err
				}
				v, _ := GetMetadataValue(ctx, "key")
				_, hasDeadline := ctx.Deadline()
				if err := ss.SendMsg(wrapperspb.String(v)); err != nil {
					return nil, err
				}
				return nil, ss.SendMsg(wrapperspb.Bool(hasDeadline))
			}, StreamingServer: true},
		},
	}
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

// newEchoServer starts a server with the echo service.
func newEchoServer(t testing.TB, opts ...ServerOpt) *testServer {
	t.Helper()
	srv, err := NewServer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService(testService, echoService())
	return startServer(t, srv)
}
