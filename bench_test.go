package ttrpc

import (
	"context"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// BenchmarkRoundTrip measures one unary echo over a unix socket, both ends
// in this process (so allocs/op counts client and server). The comparison
// with containerd/ttrpc, grpc-go and a raw socket is in benchmarks/.
func BenchmarkRoundTrip(b *testing.B) {
	for _, size := range []int{16, 4 << 10} {
		b.Run(byteSize(size), func(b *testing.B) {
			c := newEchoServer(b).dial(b)
			req := wrapperspb.Bytes(make([]byte, size))
			ctx := context.Background()
			b.Run("serial", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var resp wrapperspb.BytesValue
					if err := c.Call(ctx, testService, "Echo", req, &resp); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism(32)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						var resp wrapperspb.BytesValue
						if err := c.Call(ctx, testService, "Echo", req, &resp); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

func byteSize(n int) string {
	if n >= 1<<10 {
		return itoa(n>>10) + "KiB"
	}
	return itoa(n) + "B"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// BenchmarkServerStream receives 1000 messages of 1 KiB per op.
func BenchmarkServerStream(b *testing.B) {
	srv, _ := NewServer()
	payload := wrapperspb.Bytes(make([]byte, 1<<10))
	srv.RegisterService("bench", &ServiceDesc{Streams: map[string]Stream{
		"Stream": {StreamingServer: true, Handler: func(ctx context.Context, ss StreamServer) (any, error) {
			var e wrapperspb.BytesValue
			if err := ss.RecvMsg(&e); err != nil {
				return nil, err
			}
			for range 1000 {
				if err := ss.SendMsg(payload); err != nil {
					return nil, err
				}
			}
			return nil, nil
		}},
		"Bidi": {StreamingServer: true, StreamingClient: true, Handler: func(ctx context.Context, ss StreamServer) (any, error) {
			for {
				var m wrapperspb.BytesValue
				if err := ss.RecvMsg(&m); err != nil {
					return nil, nil
				}
				if err := ss.SendMsg(&m); err != nil {
					return nil, err
				}
			}
		}},
	}})
	c := startServer(b, srv).dial(b)
	b.Run("x1000", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, err := c.NewStream(context.Background(), &StreamDesc{StreamingServer: true}, "bench", "Stream", &wrapperspb.BytesValue{})
			if err != nil {
				b.Fatal(err)
			}
			for {
				var m wrapperspb.BytesValue
				if err := s.RecvMsg(&m); err != nil {
					break
				}
			}
		}
	})
	b.Run("bidi-pingpong", func(b *testing.B) {
		s, err := c.NewStream(context.Background(), &StreamDesc{StreamingServer: true, StreamingClient: true}, "bench", "Bidi", nil)
		if err != nil {
			b.Fatal(err)
		}
		msg := wrapperspb.Bytes(make([]byte, 16))
		b.ReportAllocs()
		for b.Loop() {
			if err := s.SendMsg(msg); err != nil {
				b.Fatal(err)
			}
			var m wrapperspb.BytesValue
			if err := s.RecvMsg(&m); err != nil {
				b.Fatal(err)
			}
		}
		s.CloseSend()
	})
}
