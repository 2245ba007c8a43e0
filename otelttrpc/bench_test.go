package otelttrpc_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/otelttrpc"
)

// BenchmarkUnary measures one unary call, client and server instrumented
// alike, against an uninstrumented call. Run with -benchmem: the overhead
// of a configuration is its ns/op (or cpu-ns/op, the CPU time of both ends
// per call, less sensitive to a busy machine) and allocs/op minus those of
// "bare".
func BenchmarkUnary(b *testing.B) {
	b.Run("bare", func(b *testing.B) { benchUnary(b, nil) })
	b.Run("passthrough", func(b *testing.B) { benchUnary(b, nil, passthrough) })
	b.Run("noop", func(b *testing.B) {
		benchUnary(b, []otelttrpc.Option{
			otelttrpc.WithTracerProvider(tracenoop.NewTracerProvider()),
			otelttrpc.WithMeterProvider(metricnoop.NewMeterProvider()),
		})
	})
	b.Run("sampled-off", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
		benchUnary(b, []otelttrpc.Option{
			otelttrpc.WithTracerProvider(tp),
			otelttrpc.WithMeterProvider(metricnoop.NewMeterProvider()),
		})
	})
	b.Run("sampled-off+metrics", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		benchUnary(b, []otelttrpc.Option{otelttrpc.WithTracerProvider(tp), otelttrpc.WithMeterProvider(mp)})
	})
	b.Run("in-memory", func(b *testing.B) {
		exporter := tracetest.NewInMemoryExporter()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		benchUnary(b, []otelttrpc.Option{otelttrpc.WithTracerProvider(tp), otelttrpc.WithMeterProvider(mp)}, exporter.Reset)
	})
}

// BenchmarkInterceptors measures the instrumentation alone, without the
// transport and its scheduling: per op, the client interceptor around an
// invoker that does nothing, then the server interceptor around a handler
// that does nothing, for a call whose metadata holds a traceparent. It is
// the CPU time and allocations that BenchmarkUnary's overhead is made of
// (less the library's own interceptor path: see "passthrough" there).
func BenchmarkInterceptors(b *testing.B) {
	sampledOff := func() *sdktrace.TracerProvider {
		return sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	}
	manual := func() *sdkmetric.MeterProvider {
		return sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	}
	b.Run("noop", func(b *testing.B) {
		benchInterceptors(b, otelttrpc.WithTracerProvider(tracenoop.NewTracerProvider()), otelttrpc.WithMeterProvider(metricnoop.NewMeterProvider()))
	})
	b.Run("sampled-off", func(b *testing.B) {
		benchInterceptors(b, otelttrpc.WithTracerProvider(sampledOff()), otelttrpc.WithMeterProvider(metricnoop.NewMeterProvider()))
	})
	b.Run("sampled-off+metrics", func(b *testing.B) {
		benchInterceptors(b, otelttrpc.WithTracerProvider(sampledOff()), otelttrpc.WithMeterProvider(manual()))
	})
	b.Run("in-memory", func(b *testing.B) {
		exporter := tracetest.NewInMemoryExporter()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
		benchInterceptors(b, otelttrpc.WithTracerProvider(tp), otelttrpc.WithMeterProvider(manual()))
		exporter.Reset()
	})
}

func benchInterceptors(b *testing.B, opts ...otelttrpc.Option) {
	client, server := otelttrpc.UnaryClientInterceptor(opts...), otelttrpc.UnaryServerInterceptor(opts...)
	cinfo := &ttrpc.UnaryClientInfo{FullMethod: "/" + service + "/Echo"}
	sinfo := &ttrpc.UnaryServerInfo{FullMethod: cinfo.FullMethod}
	invoker := func(context.Context, *ttrpc.Request, *ttrpc.Response) error { return nil }
	handler := func(context.Context, func(any) error) (any, error) { return nil, nil }
	sctx := ttrpc.WithMetadata(context.Background(), ttrpc.MD{"traceparent": {"00-0102030405060708090a0b0c0d0e0f10-0102030405060708-00"}})
	ctx := context.Background()
	var req ttrpc.Request
	var resp ttrpc.Response
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req.Metadata = nil
		if err := client(ctx, &req, &resp, cinfo, invoker); err != nil {
			b.Fatal(err)
		}
		if _, err := server(sctx, nil, sinfo, handler); err != nil {
			b.Fatal(err)
		}
	}
}

// passthrough marks the configuration with interceptors that do nothing,
// on both sides: what an interceptor costs in the library itself, which
// the instrumentation cannot avoid.
func passthrough() {}

// benchUnary runs b.N calls; nil opts means no instrumentation. reset, if
// given, empties an exporter now and then so memory stays flat.
func benchUnary(b *testing.B, opts []otelttrpc.Option, reset ...func()) {
	var serverOpts []ttrpc.ServerOpt
	var clientOpts []ttrpc.ClientOpts
	if opts != nil {
		serverOpts, clientOpts = otelttrpc.ServerOptions(opts...), otelttrpc.ClientOptions(opts...)
	} else if len(reset) > 0 {
		reset = nil
		serverOpts = []ttrpc.ServerOpt{ttrpc.WithUnaryServerInterceptor(func(ctx context.Context, u ttrpc.Unmarshaler, _ *ttrpc.UnaryServerInfo, m ttrpc.Method) (any, error) {
			return m(ctx, u)
		})}
		clientOpts = []ttrpc.ClientOpts{ttrpc.WithUnaryClientInterceptor(func(ctx context.Context, req *ttrpc.Request, resp *ttrpc.Response, _ *ttrpc.UnaryClientInfo, inv ttrpc.Invoker) error {
			return inv(ctx, req, resp)
		})}
	}
	srv, err := ttrpc.NewServer(serverOpts...)
	if err != nil {
		b.Fatal(err)
	}
	srv.RegisterService(service, echoService())
	l, err := net.Listen("unix", filepath.Join(b.TempDir(), "sock"))
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	defer func() {
		srv.Close()
		<-served
	}()
	conn, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	client := ttrpc.NewClient(conn, clientOpts...)
	defer client.Close()
	ctx := context.Background()
	req, resp := wrapperspb.String("hi"), &wrapperspb.StringValue{}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, cpuOK := processCPU()
	for i := 0; i < b.N; i++ {
		if err := client.Call(ctx, service, "Echo", req, resp); err != nil {
			b.Fatal(err)
		}
		if i%1024 == 1023 {
			for _, r := range reset {
				r()
			}
		}
	}
	if cpu1, ok := processCPU(); ok && cpuOK {
		// The CPU both ends spent per call: unlike ns/op, it does not
		// count the time the call waits for a core other programs hold.
		b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
	}
}
