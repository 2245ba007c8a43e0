package otelttrpc_test

import (
	"context"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/otelttrpc"
)

// attributeSampler samples everything and keeps the attributes it was
// shown.
type attributeSampler struct {
	mu   sync.Mutex
	seen [][]attribute.KeyValue
}

func (s *attributeSampler) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	s.mu.Lock()
	s.seen = append(s.seen, p.Attributes)
	s.mu.Unlock()
	return sdktrace.SamplingResult{Decision: sdktrace.RecordAndSample}
}

func (s *attributeSampler) Description() string { return "attributeSampler" }

// The sampler sees the span's name (rpc.method) and, with
// WithSamplerAttributes, its attributes; recorded spans have the
// attributes either way.
func TestSamplerAttributes(t *testing.T) {
	for _, on := range []bool{false, true} {
		sampler := &attributeSampler{}
		spans := tracetest.NewSpanRecorder()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sampler), sdktrace.WithSpanProcessor(spans))
		opts := []otelttrpc.Option{otelttrpc.WithTracerProvider(tp), otelttrpc.WithSamplerAttributes(on)}
		client, server := otelttrpc.UnaryClientInterceptor(opts...), otelttrpc.UnaryServerInterceptor(opts...)
		const full = "/" + service + "/Echo"
		invoker := func(context.Context, *ttrpc.Request, *ttrpc.Response) error { return nil }
		if err := client(context.Background(), &ttrpc.Request{}, &ttrpc.Response{}, &ttrpc.UnaryClientInfo{FullMethod: full}, invoker); err != nil {
			t.Fatal(err)
		}
		handler := func(context.Context, func(any) error) (any, error) { return nil, nil }
		if _, err := server(context.Background(), nil, &ttrpc.UnaryServerInfo{FullMethod: full}, handler); err != nil {
			t.Fatal(err)
		}
		if len(sampler.seen) != 2 {
			t.Fatalf("sampler asked %d times", len(sampler.seen))
		}
		for i, attrs := range sampler.seen {
			_, shown := attr(attrs, "rpc.method")
			if shown != on {
				t.Errorf("WithSamplerAttributes(%v): sampler %d saw rpc.method: %v", on, i, shown)
			}
		}
		ended := spans.Ended()
		if len(ended) != 2 {
			t.Fatalf("%d spans ended", len(ended))
		}
		for _, s := range ended {
			if s.Name() != service+"/Echo" {
				t.Errorf("span name %q", s.Name())
			}
			wantAttrs(t, s.SpanKind().String(), s.Attributes(), map[string]any{
				"rpc.method":      service + "/Echo",
				"rpc.system.name": "ttrpc",
			})
			if k := s.SpanKind(); k != trace.SpanKindClient && k != trace.SpanKindServer {
				t.Errorf("span kind %v", k)
			}
		}
	}
}
