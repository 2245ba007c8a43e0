package consumers

import (
	"context"
	"testing"

	"github.com/containerd/otelttrpc"
	"github.com/containerd/ttrpc"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	grpccodes "google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// otelttrpc's interceptors on both ends of a compat connection.
func otelPair(t *testing.T) (*ttrpc.Client, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	prop := propagation.TraceContext{}
	opts := []otelttrpc.Option{otelttrpc.WithTracerProvider(tp), otelttrpc.WithPropagators(prop)}
	srv, err := ttrpc.NewServer(ttrpc.WithUnaryServerInterceptor(otelttrpc.UnaryServerInterceptor(opts...)))
	if err != nil {
		t.Fatal(err)
	}
	srv.Register("otel.test.Service", map[string]ttrpc.Method{
		"Size": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			var in wrapperspb.BytesValue
			if err := unmarshal(&in); err != nil {
				return nil, err
			}
			return wrapperspb.Int64(int64(len(in.Value))), nil
		},
		"NotFound": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			return nil, grpcstatus.Error(grpccodes.NotFound, "no such thing")
		},
	})
	c := serve(t, srv, ttrpc.WithUnaryClientInterceptor(otelttrpc.UnaryClientInterceptor(opts...)))
	return c, rec
}

func spanCode(t *testing.T, s sdktrace.ReadOnlySpan) int64 {
	t.Helper()
	for _, kv := range s.Attributes() {
		if kv.Key == otelttrpc.TTRPCStatusCodeKey {
			return kv.Value.AsInt64()
		}
	}
	t.Fatalf("span %s has no %s attribute: %v", s.Name(), otelttrpc.TTRPCStatusCodeKey, s.Attributes())
	return -1
}

// An oversized request fails in the client library before anything is
// sent: the client span records ResourceExhausted (8), as on
// containerd/ttrpc, not Unknown (2).
func TestOtelClientSpanOfOversizedCall(t *testing.T) {
	c, rec := otelPair(t)
	big := &wrapperspb.BytesValue{Value: make([]byte, 5<<20)}
	err := c.Call(testContext(t), "otel.test.Service", "Size", big, &wrapperspb.Int64Value{})
	if grpcstatus.Code(err) != grpccodes.ResourceExhausted {
		t.Fatalf("call: %v", err)
	}
	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want the client's only", len(spans))
	}
	s := spans[0]
	if s.Status().Code != codes.Error || spanCode(t, s) != int64(grpccodes.ResourceExhausted) {
		t.Fatalf("client span status %v, code %d; want Error, 8", s.Status(), spanCode(t, s))
	}
}

// A call on a closed client: Unknown (2) with the text "ttrpc: closed",
// as containerd/ttrpc's bare ErrClosed gives.
func TestOtelClientSpanOfClosedClient(t *testing.T) {
	c, rec := otelPair(t)
	c.Close()
	err := c.Call(testContext(t), "otel.test.Service", "Size", &wrapperspb.BytesValue{}, &wrapperspb.Int64Value{})
	if err != ttrpc.ErrClosed {
		t.Fatalf("call: %#v", err)
	}
	s := rec.Ended()[0]
	if s.Status().Code != codes.Error || s.Status().Description != "ttrpc: closed" || spanCode(t, s) != int64(grpccodes.Unknown) {
		t.Fatalf("client span status %v, code %d", s.Status(), spanCode(t, s))
	}
}

// A handler's NotFound: the server span records 5; the trace context the
// client interceptor wrote into req.Metadata reaches the server, so both
// spans are one trace.
func TestOtelSpansOfFailedHandler(t *testing.T) {
	c, rec := otelPair(t)
	err := c.Call(testContext(t), "otel.test.Service", "NotFound", &wrapperspb.BytesValue{}, &wrapperspb.Int64Value{})
	if grpcstatus.Code(err) != grpccodes.NotFound {
		t.Fatalf("call: %v", err)
	}
	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	var server, client sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.SpanKind().String() == "server" {
			server = s
		} else {
			client = s
		}
	}
	if server == nil || client == nil {
		t.Fatalf("spans %v", spans)
	}
	// otelttrpc marks server spans as errors for server-side codes only.
	if spanCode(t, server) != int64(grpccodes.NotFound) {
		t.Fatalf("server span %v code %d", server.Status(), spanCode(t, server))
	}
	if server.Parent().SpanID() != client.SpanContext().SpanID() || server.SpanContext().TraceID() != client.SpanContext().TraceID() {
		t.Fatal("the trace context did not travel in the request's metadata")
	}
}
