// Package benchmarks compares github.com/ttrpc-go/ttrpc with a raw socket
// floor, github.com/containerd/ttrpc and google.golang.org/grpc, all serving
// the same echo service over unix sockets in one test process.
//
// Sub-benchmark names are key=value pairs (size, mode, impl) so that
// cmd/benchtable can pivot them into one column per implementation. Server
// and client live in the same process, so B/op and allocs/op count both ends.
package benchmarks

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/benchmarks/internal/ctrdecho"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/echo"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/grpcecho"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/oursecho"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/rawecho"
)

// impl is one implementation under test.
type impl struct {
	name string
	// serve starts answering the echo service on l and returns how to stop.
	serve func(l net.Listener) (stop func() error, err error)
	dial  func(path string) (echo.Client, error)
	// multiplexed reports whether concurrent calls share the connection
	// truly in flight; the raw floor is a plain ping-pong that serialises
	// them, so it is not run in parallel mode.
	multiplexed bool
}

var impls = []impl{
	{
		name: "raw",
		serve: func(l net.Listener) (func() error, error) {
			return rawecho.Serve(l).Stop, nil
		},
		dial: rawecho.Dial,
	},
	{
		name: "ours",
		serve: func(l net.Listener) (func() error, error) {
			s, err := oursecho.NewServer()
			if err != nil {
				return nil, err
			}
			return oursecho.Serve(s, l), nil
		},
		dial:        oursecho.Dial,
		multiplexed: true,
	},
	{
		name: "containerd",
		serve: func(l net.Listener) (func() error, error) {
			s, err := ctrdecho.NewServer()
			if err != nil {
				return nil, err
			}
			return ctrdecho.Serve(s, l), nil
		},
		dial:        ctrdecho.Dial,
		multiplexed: true,
	},
	{
		name: "grpc",
		serve: func(l net.Listener) (func() error, error) {
			return grpcecho.Serve(grpcecho.NewServer(), l), nil
		},
		dial:        grpcecho.Dial,
		multiplexed: true,
	},
}

// parallelism is how many goroutines share one client connection in
// parallel mode, independent of GOMAXPROCS.
const parallelism = 64

// streamMsgSize is the size of each message of the server-streaming
// benchmark.
const streamMsgSize = 1024

// start serves im on a unix socket in a fresh temporary directory and
// returns a function that dials new clients to it. Everything is closed
// when b ends, clients before the server.
func start(b *testing.B, im impl) (dial func() echo.Client) {
	b.Helper()
	// b.TempDir embeds the benchmark name, which can exceed the 108-byte
	// limit of a unix socket path.
	dir, err := os.MkdirTemp("", "ttb")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "s")
	l, err := net.Listen("unix", path)
	if err != nil {
		b.Fatal(err)
	}
	stop, err := im.serve(l)
	if err != nil {
		l.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := stop(); err != nil {
			b.Errorf("stopping %s server: %v", im.name, err)
		}
	})
	return func() echo.Client {
		c, err := im.dial(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			if err := c.Close(); err != nil {
				b.Errorf("closing %s client: %v", im.name, err)
			}
		})
		return c
	}
}

func payload(n int) []byte {
	return bytes.Repeat([]byte{0x5a}, n)
}

// checkEcho reports whether got is a full echo of a payload of n bytes; the
// content is trusted to the libraries' own tests, the length is cheap.
func checkEcho(b *testing.B, got *wrapperspb.BytesValue, n int) {
	if len(got.Value) != n {
		b.Fatalf("echo returned %d bytes, want %d", len(got.Value), n)
	}
}

func BenchmarkUnary(b *testing.B) {
	for _, size := range []int{16, 4 << 10, 1 << 20} {
		for _, mode := range []string{"serial", "parallel"} {
			for _, im := range impls {
				if mode == "parallel" && !im.multiplexed {
					continue
				}
				b.Run(fmt.Sprintf("size=%d/mode=%s/impl=%s", size, mode, im.name), func(b *testing.B) {
					c := start(b, im)()
					req := &wrapperspb.BytesValue{Value: payload(size)}
					ctx := context.Background()
					// The first call pays for lazy connection set-up
					// (gRPC) and buffer growth; keep it out of the timing.
					var resp wrapperspb.BytesValue
					if err := c.Unary(ctx, req, &resp); err != nil {
						b.Fatal(err)
					}
					checkEcho(b, &resp, size)
					b.ReportAllocs()
					if mode == "serial" {
						for b.Loop() {
							if err := c.Unary(ctx, req, &resp); err != nil {
								b.Fatal(err)
							}
							checkEcho(b, &resp, size)
						}
						return
					}
					runParallel(b, func(resp *wrapperspb.BytesValue) error {
						if err := c.Unary(ctx, req, resp); err != nil {
							return err
						}
						if len(resp.Value) != size {
							return fmt.Errorf("echo returned %d bytes, want %d", len(resp.Value), size)
						}
						return nil
					})
				})
			}
		}
	}
}

// runParallel runs b.N calls of op from exactly parallelism goroutines, each
// with its own response message, and fails b on the first error.
func runParallel(b *testing.B, op func(resp *wrapperspb.BytesValue) error) {
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	n := int64(b.N)
	b.ResetTimer()
	for range parallelism {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var resp wrapperspb.BytesValue
			for next.Add(1) <= n {
				if err := op(&resp); err != nil {
					errOnce.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	if first != nil {
		b.Fatal(first)
	}
}

func BenchmarkServerStream(b *testing.B) {
	for _, im := range impls {
		b.Run(fmt.Sprintf("size=%d/mode=x%d/impl=%s", streamMsgSize, echo.StreamCount, im.name), func(b *testing.B) {
			c := start(b, im)()
			req := &wrapperspb.BytesValue{Value: payload(streamMsgSize)}
			ctx := context.Background()
			var resp wrapperspb.BytesValue
			stream := func() {
				n, err := c.ServerStream(ctx, req, &resp)
				if err != nil {
					b.Fatal(err)
				}
				if n != echo.StreamCount {
					b.Fatalf("received %d messages, want %d", n, echo.StreamCount)
				}
				checkEcho(b, &resp, streamMsgSize)
			}
			stream()
			b.ReportAllocs()
			for b.Loop() {
				stream()
			}
		})
	}
}

func BenchmarkBidiPingPong(b *testing.B) {
	for _, size := range []int{16, 4 << 10} {
		for _, im := range impls {
			b.Run(fmt.Sprintf("size=%d/mode=serial/impl=%s", size, im.name), func(b *testing.B) {
				c := start(b, im)()
				ctx := context.Background()
				st, err := c.Bidi(ctx)
				if err != nil {
					b.Fatal(err)
				}
				req := &wrapperspb.BytesValue{Value: payload(size)}
				var resp wrapperspb.BytesValue
				pingPong := func() {
					if err := st.Send(req); err != nil {
						b.Fatal(err)
					}
					if err := st.Recv(&resp); err != nil {
						b.Fatal(err)
					}
					checkEcho(b, &resp, size)
				}
				pingPong()
				b.ReportAllocs()
				for b.Loop() {
					pingPong()
				}
				b.StopTimer()
				if err := st.Close(); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
