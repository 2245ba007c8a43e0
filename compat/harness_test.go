package ttrpc

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	ttrpcgo "github.com/ttrpc-go/ttrpc"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// testService is the service the tests call.
const testService = "compat.test.Service"

// testMethods: Echo echoes a string, Size returns the length of a bytes
// message, Fail returns the status whose code it is given, Wait blocks
// until its context ends, MD returns the first value of metadata key "k".
func testDesc() *ServiceDesc {
	return &ServiceDesc{
		Methods: map[string]Method{
			"Echo": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				var in wrapperspb.StringValue
				if err := unmarshal(&in); err != nil {
					return nil, err
				}
				return &in, nil
			},
			"Size": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				var in wrapperspb.BytesValue
				if err := unmarshal(&in); err != nil {
					return nil, err
				}
				return wrapperspb.Int64(int64(len(in.Value))), nil
			},
			"Fail": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				var in wrapperspb.Int32Value
				if err := unmarshal(&in); err != nil {
					return nil, err
				}
				return nil, grpcstatus.Errorf(codes.Code(in.Value), "failing with %d", in.Value)
			},
			"NotExist": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				return nil, os.ErrNotExist
			},
			"Wait": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			},
			"MD": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				v, _ := GetMetadataValue(ctx, "k")
				return wrapperspb.String(v), nil
			},
		},
		Streams: map[string]Stream{
			// Count sends the number of messages it is asked for.
			"Count": {StreamingServer: true, Handler: func(ctx context.Context, ss StreamServer) (any, error) {
				var in wrapperspb.Int32Value
				if err := ss.RecvMsg(&in); err != nil {
					return nil, err
				}
				for i := range in.Value {
					if err := ss.SendMsg(wrapperspb.Int32(i)); err != nil {
						return nil, err
					}
				}
				return nil, nil
			}},
			// Refuse fails a stream with NotFound.
			"Refuse": {StreamingServer: true, Handler: func(ctx context.Context, ss StreamServer) (any, error) {
				return nil, grpcstatus.Error(codes.NotFound, "no such stream")
			}},
			// Sink counts bytes sent to it until the client closes.
			"Sink": {StreamingClient: true, Handler: func(ctx context.Context, ss StreamServer) (any, error) {
				var n int64
				for {
					var in wrapperspb.BytesValue
					if err := ss.RecvMsg(&in); err != nil {
						if errors.Is(err, io.EOF) {
							return wrapperspb.Int64(n), nil
						}
						return nil, err
					}
					n += int64(len(in.Value))
				}
			}},
		},
	}
}

// socketPath returns a unix socket path short enough for sun_path.
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "compat")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s")
}

// served is a server serving testDesc on a unix socket, stopped by the
// test's cleanup, which also checks that Serve returned ErrServerClosed.
type served struct {
	srv    *Server
	path   string
	served chan error
}

func serveUnix(t *testing.T, opts ...ServerOpt) *served {
	t.Helper()
	srv, err := NewServer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService(testService, testDesc())
	path := socketPath(t)
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	s := &served{srv: srv, path: path, served: make(chan error, 1)}
	go func() { s.served <- srv.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-s.served; err != ErrServerClosed {
			t.Errorf("Serve returned %v, want the bare ErrServerClosed", err)
		}
	})
	return s
}

func (s *served) dial(t *testing.T, opts ...ClientOpts) *Client {
	t.Helper()
	nc, err := net.Dial("unix", s.path)
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(nc, opts...)
	t.Cleanup(func() { c.Close() })
	return c
}

// testContext is a context that ends the test if something hangs.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func echo(ctx context.Context, c *Client, s string) (string, error) {
	var out wrapperspb.StringValue
	err := c.Call(ctx, testService, "Echo", wrapperspb.String(s), &out)
	return out.Value, err
}

type (
	streamClientInfo = ttrpcgo.StreamClientInfo
	streamer         = ttrpcgo.Streamer
)
