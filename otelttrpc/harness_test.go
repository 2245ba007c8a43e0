package otelttrpc_test

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/otelttrpc"
	"github.com/ttrpc-go/ttrpc/status"
)

const service = "test.v1.Echo"

// telemetry is an in-memory trace and metric pipeline.
type telemetry struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
	// started receives "kind:name" of every span that starts.
	started chan string
}

// startNotifier tells a channel about every span that starts.
type startNotifier struct {
	sdktrace.SpanProcessor
	started chan<- string
}

func (n startNotifier) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	n.SpanProcessor.OnStart(ctx, s)
	select {
	case n.started <- s.SpanKind().String() + ":" + s.Name():
	default: // nobody waits for this many
	}
}

// waitStart waits until a span of kind and name started.
func (tel *telemetry) waitStart(t *testing.T, name string, kind trace.SpanKind) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case s := <-tel.started:
			if s == kind.String()+":"+name {
				return
			}
		case <-timeout:
			t.Fatalf("no %v span %s started", kind, name)
		}
	}
}

func newTelemetry(t *testing.T) *telemetry {
	tel := &telemetry{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader(), started: make(chan string, 64)}
	tel.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(startNotifier{tel.spans, tel.started}))
	tel.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	t.Cleanup(func() {
		_ = tel.tp.Shutdown(context.Background())
		_ = tel.mp.Shutdown(context.Background())
	})
	return tel
}

func (tel *telemetry) options(extra ...otelttrpc.Option) []otelttrpc.Option {
	return append([]otelttrpc.Option{otelttrpc.WithTracerProvider(tel.tp), otelttrpc.WithMeterProvider(tel.mp)}, extra...)
}

// span returns the one ended span of name and kind.
func (tel *telemetry) span(t *testing.T, name string, kind trace.SpanKind) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range tel.spans.Ended() {
		if s.Name() == name && s.SpanKind() == kind {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d ended %v spans named %q, want 1 (all: %v)", len(found), kind, name, spanNames(tel.spans.Ended()))
	}
	return found[0]
}

func spanNames(spans []sdktrace.ReadOnlySpan) []string {
	var names []string
	for _, s := range spans {
		names = append(names, s.SpanKind().String()+":"+s.Name())
	}
	return names
}

// points returns the data points of histogram name.
func (tel *telemetry) points(t *testing.T, name string) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tel.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			if m.Unit != "s" {
				t.Errorf("%s unit %q, want s", name, m.Unit)
			}
			h, ok := m.Data.(metricdata.Histogram[float64])
			if !ok {
				t.Fatalf("%s is %T, want a float64 histogram", name, m.Data)
			}
			return h.DataPoints
		}
	}
	return nil
}

// point returns the data point of histogram name for method, failing
// unless there is exactly one.
func (tel *telemetry) point(t *testing.T, name, method string) metricdata.HistogramDataPoint[float64] {
	t.Helper()
	var found []metricdata.HistogramDataPoint[float64]
	for _, p := range tel.points(t, name) {
		if v, ok := p.Attributes.Value("rpc.method"); ok && v.AsString() == method {
			found = append(found, p)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s points for %s, want 1", len(found), name, method)
	}
	return found[0]
}

func attr(attrs []attribute.KeyValue, key string) (attribute.Value, bool) {
	for _, a := range attrs {
		if string(a.Key) == key {
			return a.Value, true
		}
	}
	return attribute.Value{}, false
}

// wantAttrs checks string and int attributes; a nil value wants the key
// absent.
func wantAttrs(t *testing.T, what string, attrs []attribute.KeyValue, want map[string]any) {
	t.Helper()
	for k, w := range want {
		v, ok := attr(attrs, k)
		switch w := w.(type) {
		case nil:
			if ok {
				t.Errorf("%s: %s = %v, want none", what, k, v.String())
			}
		case string:
			if !ok || v.AsString() != w {
				t.Errorf("%s: %s = %q (present %v), want %q", what, k, v.String(), ok, w)
			}
		case int:
			if !ok || v.AsInt64() != int64(w) {
				t.Errorf("%s: %s = %v (present %v), want %d", what, k, v.String(), ok, w)
			}
		}
	}
}

// echoService is served by the server and, for calls in the other
// direction, by the client.
func echoService() *ttrpc.ServiceDesc {
	return &ttrpc.ServiceDesc{
		Methods: map[string]ttrpc.Method{
			"Echo": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				var in wrapperspb.StringValue
				if err := unmarshal(&in); err != nil {
					return nil, err
				}
				switch in.Value {
				case "notfound":
					return nil, status.Error(codes.NotFound, "no such thing")
				case "internal":
					return nil, status.Error(codes.Internal, "broken")
				case "block":
					<-ctx.Done()
					return nil, ctx.Err()
				}
				return wrapperspb.String(in.Value), nil
			},
		},
		Streams: map[string]ttrpc.Stream{
			"Sum": {StreamingClient: true, Handler: func(ctx context.Context, ss ttrpc.StreamServer) (any, error) {
				n := 0
				for {
					var in wrapperspb.StringValue
					if err := ss.RecvMsg(&in); err == io.EOF {
						return wrapperspb.Int64(int64(n)), nil
					} else if err != nil {
						return nil, err
					}
					n++
				}
			}},
			"Repeat": {StreamingServer: true, Handler: func(ctx context.Context, ss ttrpc.StreamServer) (any, error) {
				var in wrapperspb.StringValue
				if err := ss.RecvMsg(&in); err != nil {
					return nil, err
				}
				switch in.Value {
				case "block":
					<-ctx.Done()
					return nil, ctx.Err()
				case "denied":
					return nil, status.Error(codes.PermissionDenied, "not you")
				}
				for range 3 {
					if err := ss.SendMsg(wrapperspb.String(in.Value)); err != nil {
						return nil, err
					}
				}
				return nil, nil
			}},
			"Chat": {StreamingClient: true, StreamingServer: true, Handler: func(ctx context.Context, ss ttrpc.StreamServer) (any, error) {
				for {
					var in wrapperspb.StringValue
					if err := ss.RecvMsg(&in); err == io.EOF {
						return nil, nil
					} else if err != nil {
						return nil, err
					}
					if err := ss.SendMsg(&in); err != nil {
						return nil, err
					}
				}
			}},
		},
	}
}

// world is an instrumented server and client on a unix socket, both
// serving echoService. handled receives a method's full name once a
// handler and all interceptors returned, on either side.
type world struct {
	server  *ttrpc.Server
	client  *ttrpc.Client
	handled chan string
	// peer is the server's PeerClient for the client, once grabbed.
	peers chan *ttrpc.Client
	// addr is the path of the server's socket.
	addr string
}

func newWorld(t *testing.T, tel *telemetry, serverOpts []ttrpc.ServerOpt, opts ...otelttrpc.Option) *world {
	t.Helper()
	w := &world{handled: make(chan string, 64), peers: make(chan *ttrpc.Client, 1)}
	done := []ttrpc.ServerOpt{
		ttrpc.WithChainUnaryServerInterceptor(func(ctx context.Context, u ttrpc.Unmarshaler, info *ttrpc.UnaryServerInfo, m ttrpc.Method) (any, error) {
			defer func() { w.handled <- info.FullMethod }()
			return m(ctx, u)
		}),
		ttrpc.WithChainStreamServerInterceptor(func(ctx context.Context, ss ttrpc.StreamServer, info *ttrpc.StreamServerInfo, h ttrpc.StreamHandler) (any, error) {
			defer func() { w.handled <- info.FullMethod }()
			return h(ctx, ss)
		}),
	}
	srv, err := ttrpc.NewServer(append(append(serverOpts, done...), otelttrpc.ServerOptions(tel.options(opts...)...)...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService(service, echoService())
	srv.Register("test.v1.Grab", map[string]ttrpc.Method{
		"Peer": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			p, ok := ttrpc.PeerClient(ctx)
			if !ok {
				return nil, status.Error(codes.Internal, "no peer client")
			}
			w.peers <- p
			return &wrapperspb.StringValue{}, unmarshal(&wrapperspb.StringValue{})
		},
	})
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "sock"))
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	conn, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	clientOpts := append([]ttrpc.ClientOpts{ttrpc.WithClientServerOpts(done...)}, otelttrpc.ClientOptions(tel.options(opts...)...)...)
	w.client = ttrpc.NewClient(conn, clientOpts...)
	w.client.RegisterService(service, echoService())
	w.server, w.addr = srv, l.Addr().String()
	t.Cleanup(func() {
		w.client.Close()
		srv.Close()
		if err := <-served; err != ttrpc.ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
	})
	return w
}

// peer returns the server's client for calls to the client.
func (w *world) peer(t *testing.T) *ttrpc.Client {
	t.Helper()
	if err := w.client.Call(context.Background(), "test.v1.Grab", "Peer", &wrapperspb.StringValue{}, &wrapperspb.StringValue{}); err != nil {
		t.Fatal(err)
	}
	w.waitHandled(t, "/test.v1.Grab/Peer")
	return <-w.peers
}

// waitHandled waits until the handler of fullMethod and its interceptors
// returned.
func (w *world) waitHandled(t *testing.T, fullMethod string) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-w.handled:
			if m == fullMethod {
				return
			}
		case <-timeout:
			t.Fatalf("%s was not handled", fullMethod)
		}
	}
}
