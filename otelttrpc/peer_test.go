package otelttrpc

import (
	"context"
	"math/rand/v2"
	"net"
	"slices"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/ttrpc-go/ttrpc"
)

// pipeAddr is an address of a kind addServerAddress does not know.
type pipeAddr string

func (a pipeAddr) Network() string { return "pipe" }
func (a pipeAddr) String() string  { return string(a) }

func TestAddServerAddress(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	for _, tc := range []struct {
		addr net.Addr
		want []attribute.KeyValue
	}{
		{nil, nil},
		{(*net.UnixAddr)(nil), nil},
		{&net.UnixAddr{Name: "@", Net: "unix"}, nil},
		{&net.UnixAddr{Name: "/run/x.sock", Net: "unix"}, []attribute.KeyValue{attribute.String("server.address", "/run/x.sock")}},
		{&net.UnixAddr{Name: "@abstract", Net: "unix"}, []attribute.KeyValue{attribute.String("server.address", "@abstract")}},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, []attribute.KeyValue{attribute.String("server.address", "::1"), attribute.Int("server.port", 8080)}},
		{pipeAddr("vm:3:1024"), []attribute.KeyValue{attribute.String("server.address", "vm:3:1024")}},
		{pipeAddr("host:1024"), []attribute.KeyValue{attribute.String("server.address", "host"), attribute.Int("server.port", 1024)}},
		{pipeAddr(""), nil},
	} {
		_, span := tp.Tracer("t").Start(context.Background(), "s")
		addServerAddress(span, tc.addr)
		span.End()
		spans := rec.Ended()
		if got := spans[len(spans)-1].Attributes(); !slices.Equal(got, tc.want) {
			t.Errorf("%#v: attributes %v, want %v", tc.addr, got, tc.want)
		}
	}
}

// TestInjectTraceparent: the fast path writes what propagation.TraceContext
// writes, and leaves to it what it does not handle.
func TestInjectTraceparent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		var cfg trace.SpanContextConfig
		for j := range cfg.TraceID {
			cfg.TraceID[j] = byte(r.Uint32())
		}
		for j := range cfg.SpanID {
			cfg.SpanID[j] = byte(r.Uint32())
		}
		if i%7 == 0 {
			cfg.TraceID = trace.TraceID{} // invalid
		}
		cfg.TraceFlags = trace.TraceFlags(r.Uint32())
		sc := trace.NewSpanContext(cfg)
		var fast ttrpc.Request
		if !injectTraceparent(sc, &fast) {
			t.Fatalf("%v: fast path refused a request without metadata", sc)
		}
		var slow ttrpc.Request
		propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(), sc), (*requestCarrier)(&slow))
		if got, want := dump(fast.Metadata), dump(slow.Metadata); !slices.Equal(got, want) {
			t.Fatalf("%v: fast path wrote %v, propagator %v", sc, got, want)
		}
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}})
	withMD := ttrpc.Request{Metadata: []*ttrpc.KeyValue{{Key: "a", Value: "1"}}}
	if injectTraceparent(sc, &withMD) || len(withMD.Metadata) != 1 {
		t.Errorf("fast path took a request with metadata: %v", dump(withMD.Metadata))
	}
	ts, err := trace.ParseTraceState("k=v")
	if err != nil {
		t.Fatal(err)
	}
	var empty ttrpc.Request
	if injectTraceparent(sc.WithTraceState(ts), &empty) || len(empty.Metadata) != 0 {
		t.Errorf("fast path took a trace state: %v", dump(empty.Metadata))
	}
}

func dump(md []*ttrpc.KeyValue) []string {
	var out []string
	for _, kv := range md {
		out = append(out, kv.Key+"="+kv.Value)
	}
	return out
}

// FuzzParseTraceContext: the parser accepts and refuses exactly what
// propagation.TraceContext does, and finds the same span context.
func FuzzParseTraceContext(f *testing.F) {
	for _, s := range []string{
		"00-0102030405060708090a0b0c0d0e0f10-0102030405060708-01",
		"00-0102030405060708090a0b0c0d0e0f10-0102030405060708-03",
		"00-0102030405060708090a0b0c0d0e0f10-0102030405060708-04",
		"00-0102030405060708090a0b0c0d0e0f10-0102030405060708-01-",
		"00-0102030405060708090a0b0c0d0e0f10-0102030405060708-01-x",
		"01-0102030405060708090a0b0c0d0e0f10-0102030405060708-01-x",
		"ff-0102030405060708090a0b0c0d0e0f10-0102030405060708-01",
		"fe-0102030405060708090a0b0c0d0e0f10-0102030405060708-ff",
		"00-0102030405060708090A0B0C0D0E0F10-0102030405060708-01",
		"00-00000000000000000000000000000000-0102030405060708-01",
		"00-0102030405060708090a0b0c0d0e0f10-0000000000000000-01",
		"00-0102030405060708090a0b0c0d0e0f1-0102030405060708-01",
		"0-0102030405060708090a0b0c0d0e0f10-0102030405060708-01",
		"00-0102030405060708090a0b0c0d0e0fg0-0102030405060708-01",
		"00-0102030405060708090a0b0c0d0e0f1\xe9-0102030405060708-01",
		"",
		"-",
	} {
		f.Add(s, "", false)
		f.Add(s, "k=v,a=b", true)
		f.Add(s, "not a trace state", true)
	}
	f.Fuzz(func(t *testing.T, traceparent, tracestate string, hasState bool) {
		md := ttrpc.MD{"traceparent": {traceparent}}
		if hasState {
			md["tracestate"] = []string{tracestate}
		}
		want := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), mdCarrier(md)))
		if got := parseTraceContext(ctxMetadata{ttrpc.WithMetadata(context.Background(), md)}); !got.Equal(want) || got.IsRemote() != want.IsRemote() {
			t.Errorf("traceparent %q tracestate %q: parsed %v, propagator %v", traceparent, tracestate, got, want)
		}
	})
}

// TestRemoteParent: the context extract returns holds the remote span
// context as trace.ContextWithRemoteSpanContext would, and the call's
// metadata and other values as before.
func TestRemoteParent(t *testing.T) {
	in := newInstruments(newOptions(nil), sideServer)
	type key struct{}
	base := context.WithValue(context.Background(), key{}, "v")
	md := ttrpc.MD{"traceparent": {"00-0102030405060708090a0b0c0d0e0f10-0102030405060708-01"}, "tracestate": {"k=v"}}
	ctx := in.extract(ttrpc.WithMetadata(base, md))
	want := parseTraceContext(ctxMetadata{ttrpc.WithMetadata(context.Background(), md)})
	if !want.IsValid() || !want.IsRemote() {
		t.Fatalf("parsed %v", want)
	}
	span := trace.SpanFromContext(ctx)
	if sc := trace.SpanContextFromContext(ctx); !sc.Equal(want) || !sc.IsRemote() || span.IsRecording() {
		t.Errorf("span context %v (recording %v), want %v", sc, span.IsRecording(), want)
	}
	if got, _ := ttrpc.GetMetadata(ctx); got["tracestate"][0] != "k=v" || ctx.Value(key{}) != "v" {
		t.Error("the parent's values are lost")
	}
	if ctx.Value("other") != nil {
		t.Error("a value of nothing")
	}
	// A child continues the trace, as of any remote parent.
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(context.Background())
	_, child := tp.Tracer("t").Start(ctx, "child")
	child.End()
	if got := rec.Ended()[0]; !got.Parent().Equal(want) || got.SpanContext().TraceID() != want.TraceID() {
		t.Errorf("child of %v, trace %v; want child of %v", got.Parent(), got.SpanContext().TraceID(), want)
	}
	// No trace context: the context is left alone.
	plain := ttrpc.WithMetadata(base, ttrpc.MD{"traceparent": {"garbage"}})
	if in.extract(plain) != plain {
		t.Error("a context without a valid trace context was wrapped")
	}
}
