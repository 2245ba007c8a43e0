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
