package otelttrpc_test

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"

	otelcodes "go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/otelttrpc"
	"github.com/ttrpc-go/ttrpc/status"
)

// direction picks which end of the world calls: the client, or the server
// through its PeerClient.
type direction struct {
	name   string
	caller func(t *testing.T, w *world) *ttrpc.Client
}

var directions = []direction{
	{"forward", func(t *testing.T, w *world) *ttrpc.Client { return w.client }},
	{"reverse", func(t *testing.T, w *world) *ttrpc.Client { return w.peer(t) }},
}

// checkPair checks a call's two spans: one trace, server under client,
// both with the code, and the durations recorded with it.
func checkPair(t *testing.T, tel *telemetry, method string, code codes.Code) (client, server sdktrace.ReadOnlySpan) {
	t.Helper()
	client = tel.span(t, method, trace.SpanKindClient)
	server = tel.span(t, method, trace.SpanKindServer)
	if server.Parent().SpanID() != client.SpanContext().SpanID() || server.SpanContext().TraceID() != client.SpanContext().TraceID() {
		t.Errorf("server span %v is not a child of client span %v", server.Parent(), client.SpanContext())
	}
	if !server.Parent().IsRemote() {
		t.Error("server span's parent is not remote")
	}
	name := codeNames[code]
	for _, s := range []sdktrace.ReadOnlySpan{client, server} {
		wantAttrs(t, s.SpanKind().String(), s.Attributes(), map[string]any{
			"rpc.system.name": "ttrpc", "rpc.method": method, "rpc.response.status_code": name,
		})
	}
	clientFailed := code != codes.OK
	if clientFailed != (client.Status().Code == otelcodes.Error) {
		t.Errorf("client span status %v for %s", client.Status(), name)
	}
	cp := tel.point(t, "rpc.client.call.duration", method)
	sp := tel.point(t, "rpc.server.call.duration", method)
	for what, p := range map[string]int{"client": int(cp.Count), "server": int(sp.Count)} {
		if p != 1 {
			t.Errorf("%s duration count %d, want 1", what, p)
		}
	}
	wantAttrs(t, "client metric", cp.Attributes.ToSlice(), map[string]any{"rpc.system.name": "ttrpc", "rpc.response.status_code": name})
	wantAttrs(t, "server metric", sp.Attributes.ToSlice(), map[string]any{"rpc.system.name": "ttrpc", "rpc.response.status_code": name})
	if clientFailed {
		wantAttrs(t, "client span", client.Attributes(), map[string]any{"error.type": name})
		wantAttrs(t, "client metric", cp.Attributes.ToSlice(), map[string]any{"error.type": name})
	} else {
		wantAttrs(t, "client metric", cp.Attributes.ToSlice(), map[string]any{"error.type": nil})
	}
	if cp.Sum <= 0 || sp.Sum <= 0 {
		t.Errorf("durations client %gs server %gs: want both > 0", cp.Sum, sp.Sum)
	}
	// A cancelled caller stops waiting before the handler has ended.
	if code != codes.Canceled && cp.Sum < sp.Sum {
		t.Errorf("durations client %gs < server %gs", cp.Sum, sp.Sum)
	}
	return client, server
}

var codeNames = map[codes.Code]string{
	codes.OK: "OK", codes.NotFound: "NOT_FOUND", codes.Internal: "INTERNAL",
	codes.Canceled: "CANCELLED", codes.PermissionDenied: "PERMISSION_DENIED", codes.DeadlineExceeded: "DEADLINE_EXCEEDED",
}

func TestUnary(t *testing.T) {
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			tel := newTelemetry(t)
			w := newWorld(t, tel, nil)
			caller := d.caller(t, w)
			var out wrapperspb.StringValue
			if err := caller.Call(context.Background(), service, "Echo", wrapperspb.String("hi"), &out); err != nil || out.Value != "hi" {
				t.Fatalf("Call: %v, %q", err, out.Value)
			}
			w.waitHandled(t, "/test.v1.Echo/Echo")
			checkPair(t, tel, "test.v1.Echo/Echo", codes.OK)
		})
	}
}

// TestUnaryFailures records failed calls with the code the caller got: the
// server's metric of a NOT_FOUND call says NOT_FOUND, not OK (the bug of
// containerd/otelttrpc v0.1.0, whose shadowed variable records every
// failure as OK), and only the server's own failures are errors there.
func TestUnaryFailures(t *testing.T) {
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			for _, tc := range []struct {
				value       string
				code        codes.Code
				serverError bool
			}{{"notfound", codes.NotFound, false}, {"internal", codes.Internal, true}} {
				tel := newTelemetry(t)
				w := newWorld(t, tel, nil)
				caller := d.caller(t, w)
				err := caller.Call(context.Background(), service, "Echo", wrapperspb.String(tc.value), &wrapperspb.StringValue{})
				if status.Code(err) != tc.code {
					t.Fatalf("Call: %v, want %v", err, tc.code)
				}
				w.waitHandled(t, "/test.v1.Echo/Echo")
				_, server := checkPair(t, tel, "test.v1.Echo/Echo", tc.code)
				sp := tel.point(t, "rpc.server.call.duration", "test.v1.Echo/Echo")
				name := codeNames[tc.code]
				if tc.serverError {
					wantAttrs(t, "server span", server.Attributes(), map[string]any{"error.type": name})
					wantAttrs(t, "server metric", sp.Attributes.ToSlice(), map[string]any{"error.type": name})
					if server.Status().Code != otelcodes.Error {
						t.Errorf("server span status %v, want Error", server.Status())
					}
				} else {
					wantAttrs(t, "server span", server.Attributes(), map[string]any{"error.type": nil})
					wantAttrs(t, "server metric", sp.Attributes.ToSlice(), map[string]any{"error.type": nil})
					if server.Status().Code == otelcodes.Error {
						t.Errorf("server span status %v, want not Error for a caller's fault", server.Status())
					}
				}
			}
		})
	}
}

func TestUnaryCancel(t *testing.T) {
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			tel := newTelemetry(t)
			w := newWorld(t, tel, nil)
			caller := d.caller(t, w)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				// Cancel once the handler runs, so that it sees the cancel
				// frame rather than never starting.
				tel.waitStart(t, "test.v1.Echo/Echo", trace.SpanKindServer)
				cancel()
			}()
			err := caller.Call(ctx, service, "Echo", wrapperspb.String("block"), &wrapperspb.StringValue{})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Call: %v, want context.Canceled", err)
			}
			w.waitHandled(t, "/test.v1.Echo/Echo")
			checkPair(t, tel, "test.v1.Echo/Echo", codes.Canceled)
		})
	}
}

func TestStreams(t *testing.T) {
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			t.Run("client", func(t *testing.T) {
				tel := newTelemetry(t)
				w := newWorld(t, tel, nil)
				cs, err := d.caller(t, w).NewStream(context.Background(), &ttrpc.StreamDesc{StreamingClient: true}, service, "Sum", nil)
				if err != nil {
					t.Fatal(err)
				}
				for range 4 {
					if err := cs.SendMsg(wrapperspb.String("x")); err != nil {
						t.Fatal(err)
					}
				}
				if err := cs.CloseSend(); err != nil {
					t.Fatal(err)
				}
				var sum wrapperspb.Int64Value
				if err := cs.RecvMsg(&sum); err != nil || sum.Value != 4 {
					t.Fatalf("RecvMsg: %v, %d", err, sum.Value)
				}
				w.waitHandled(t, "/test.v1.Echo/Sum")
				client, server := checkPair(t, tel, "test.v1.Echo/Sum", codes.OK)
				checkMessages(t, client, 4, 1, true)
				checkMessages(t, server, 1, 4, true)
			})
			t.Run("server", func(t *testing.T) {
				tel := newTelemetry(t)
				w := newWorld(t, tel, nil)
				cs, err := d.caller(t, w).NewStream(context.Background(), &ttrpc.StreamDesc{StreamingServer: true}, service, "Repeat", wrapperspb.String("x"))
				if err != nil {
					t.Fatal(err)
				}
				n := drain(t, cs)
				if n != 3 {
					t.Fatalf("received %d, want 3", n)
				}
				w.waitHandled(t, "/test.v1.Echo/Repeat")
				client, server := checkPair(t, tel, "test.v1.Echo/Repeat", codes.OK)
				checkMessages(t, client, 1, 3, true)
				checkMessages(t, server, 3, 1, true)
			})
			t.Run("bidi", func(t *testing.T) {
				tel := newTelemetry(t)
				w := newWorld(t, tel, nil, otelttrpc.WithMessageEvents(false))
				cs, err := d.caller(t, w).NewStream(context.Background(), &ttrpc.StreamDesc{StreamingClient: true, StreamingServer: true}, service, "Chat", nil)
				if err != nil {
					t.Fatal(err)
				}
				for range 2 {
					if err := cs.SendMsg(wrapperspb.String("x")); err != nil {
						t.Fatal(err)
					}
					if err := cs.RecvMsg(&wrapperspb.StringValue{}); err != nil {
						t.Fatal(err)
					}
				}
				if err := cs.CloseSend(); err != nil {
					t.Fatal(err)
				}
				if n := drain(t, cs); n != 0 {
					t.Fatalf("received %d more, want 0", n)
				}
				w.waitHandled(t, "/test.v1.Echo/Chat")
				client, server := checkPair(t, tel, "test.v1.Echo/Chat", codes.OK)
				checkMessages(t, client, 2, 2, false)
				checkMessages(t, server, 2, 2, false)
			})
			t.Run("error", func(t *testing.T) {
				tel := newTelemetry(t)
				w := newWorld(t, tel, nil)
				cs, err := d.caller(t, w).NewStream(context.Background(), &ttrpc.StreamDesc{StreamingServer: true}, service, "Repeat", wrapperspb.String("denied"))
				if err != nil {
					t.Fatal(err)
				}
				if err := cs.RecvMsg(&wrapperspb.StringValue{}); status.Code(err) != codes.PermissionDenied {
					t.Fatalf("RecvMsg: %v, want PermissionDenied", err)
				}
				w.waitHandled(t, "/test.v1.Echo/Repeat")
				checkPair(t, tel, "test.v1.Echo/Repeat", codes.PermissionDenied)
			})
			t.Run("cancel", func(t *testing.T) {
				tel := newTelemetry(t)
				w := newWorld(t, tel, nil)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				cs, err := d.caller(t, w).NewStream(ctx, &ttrpc.StreamDesc{StreamingServer: true}, service, "Repeat", wrapperspb.String("block"))
				if err != nil {
					t.Fatal(err)
				}
				tel.waitStart(t, "test.v1.Echo/Repeat", trace.SpanKindServer)
				cancel()
				if err := cs.RecvMsg(&wrapperspb.StringValue{}); !errors.Is(err, context.Canceled) {
					t.Fatalf("RecvMsg: %v, want context.Canceled", err)
				}
				w.waitHandled(t, "/test.v1.Echo/Repeat")
				checkPair(t, tel, "test.v1.Echo/Repeat", codes.Canceled)
			})
		})
	}
}

// drain receives until the stream's end and returns how many messages came.
func drain(t *testing.T, cs ttrpc.ClientStream) int {
	t.Helper()
	n := 0
	for {
		err := cs.RecvMsg(&wrapperspb.StringValue{})
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatalf("RecvMsg: %v", err)
		}
		n++
	}
}

func checkMessages(t *testing.T, s sdktrace.ReadOnlySpan, sent, received int, events bool) {
	t.Helper()
	what := s.SpanKind().String()
	wantAttrs(t, what, s.Attributes(), map[string]any{"ttrpc.messages.sent": sent, "ttrpc.messages.received": received})
	var gotSent, gotReceived int
	for _, e := range s.Events() {
		if e.Name != "message" {
			continue
		}
		typ, _ := attr(e.Attributes, "rpc.message.type")
		id, _ := attr(e.Attributes, "rpc.message.id")
		switch typ.AsString() {
		case "SENT":
			gotSent++
			if id.AsInt64() != int64(gotSent) {
				t.Errorf("%s: sent event id %d, want %d", what, id.AsInt64(), gotSent)
			}
		case "RECEIVED":
			gotReceived++
			if id.AsInt64() != int64(gotReceived) {
				t.Errorf("%s: received event id %d, want %d", what, id.AsInt64(), gotReceived)
			}
		}
	}
	if !events {
		sent, received = 0, 0
	}
	if gotSent != sent || gotReceived != received {
		t.Errorf("%s: %d sent and %d received events, want %d and %d", what, gotSent, gotReceived, sent, received)
	}
}

// TestPeerCredentials puts the unix peer's credentials on server spans.
func TestPeerCredentials(t *testing.T) {
	tel := newTelemetry(t)
	w := newWorld(t, tel, []ttrpc.ServerOpt{ttrpc.WithServerHandshaker(ttrpc.UnixSocketRequireSameUser())})
	if err := w.client.Call(context.Background(), service, "Echo", wrapperspb.String("hi"), &wrapperspb.StringValue{}); err != nil {
		t.Fatal(err)
	}
	w.waitHandled(t, "/test.v1.Echo/Echo")
	server := tel.span(t, "test.v1.Echo/Echo", trace.SpanKindServer)
	wantAttrs(t, "server span", server.Attributes(), map[string]any{
		"ttrpc.peer.uid": os.Geteuid(), "ttrpc.peer.gid": os.Getegid(), "ttrpc.peer.pid": os.Getpid(),
	})
	client := tel.span(t, "test.v1.Echo/Echo", trace.SpanKindClient)
	wantAttrs(t, "client span", client.Attributes(), map[string]any{"ttrpc.peer.uid": nil})
}

// TestMetadataKept sends the caller's own metadata along with the trace
// context, and leaves the caller's metadata untouched.
func TestMetadataKept(t *testing.T) {
	tel := newTelemetry(t)
	w := newWorld(t, tel, nil)
	md := ttrpc.MD{"x-who": {"me"}, "traceparent": {"stale"}}
	got := make(chan ttrpc.MD, 2)
	w.server.Register("test.v1.MD", map[string]ttrpc.Method{
		"Get": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			in, _ := ttrpc.GetMetadata(ctx)
			got <- in.Clone()
			return &wrapperspb.StringValue{}, unmarshal(&wrapperspb.StringValue{})
		},
	})
	w.server.RegisterService("test.v1.MDStream", &ttrpc.ServiceDesc{Streams: map[string]ttrpc.Stream{
		"Get": {StreamingServer: true, Handler: func(ctx context.Context, ss ttrpc.StreamServer) (any, error) {
			in, _ := ttrpc.GetMetadata(ctx)
			got <- in.Clone()
			return nil, ss.RecvMsg(&wrapperspb.StringValue{})
		}},
	}})
	ctx := ttrpc.WithMetadata(context.Background(), md)
	if err := w.client.Call(ctx, "test.v1.MD", "Get", &wrapperspb.StringValue{}, &wrapperspb.StringValue{}); err != nil {
		t.Fatal(err)
	}
	cs, err := w.client.NewStream(ctx, &ttrpc.StreamDesc{StreamingServer: true}, "test.v1.MDStream", "Get", &wrapperspb.StringValue{})
	if err != nil {
		t.Fatal(err)
	}
	drain(t, cs)
	for _, name := range []string{"test.v1.MD/Get", "test.v1.MDStream/Get"} {
		in := <-got
		client := tel.span(t, name, trace.SpanKindClient)
		if v, _ := in.Get("x-who"); len(v) != 1 || v[0] != "me" {
			t.Errorf("%s: x-who = %v", name, v)
		}
		tp, _ := in.Get("traceparent")
		if len(tp) != 1 || tp[0] == "stale" || tp[0][36:52] != client.SpanContext().SpanID().String() {
			t.Errorf("%s: traceparent = %v, want one naming span %v", name, tp, client.SpanContext().SpanID())
		}
	}
	if v := md["traceparent"]; len(v) != 1 || v[0] != "stale" || len(md) != 2 {
		t.Errorf("caller's metadata changed: %v", md)
	}
}

// TestClosedClient records a call on a closed connection as UNAVAILABLE.
func TestClosedClient(t *testing.T) {
	tel := newTelemetry(t)
	w := newWorld(t, tel, nil)
	w.client.Close()
	err := w.client.Call(context.Background(), service, "Echo", wrapperspb.String("hi"), &wrapperspb.StringValue{})
	if !errors.Is(err, ttrpc.ErrClosed) {
		t.Fatalf("Call: %v, want ErrClosed", err)
	}
	client := tel.span(t, "test.v1.Echo/Echo", trace.SpanKindClient)
	wantAttrs(t, "client span", client.Attributes(), map[string]any{"rpc.response.status_code": "UNAVAILABLE", "error.type": "UNAVAILABLE"})
	p := tel.point(t, "rpc.client.call.duration", "test.v1.Echo/Echo")
	wantAttrs(t, "client metric", p.Attributes.ToSlice(), map[string]any{"rpc.response.status_code": "UNAVAILABLE"})
}

// TestServerAddress names the server's socket on client spans, unary and
// streaming, when the connection knows it: not on the server's calls back
// to its client, whose socket has no name.
func TestServerAddress(t *testing.T) {
	for _, d := range directions {
		t.Run(d.name, func(t *testing.T) {
			tel := newTelemetry(t)
			w := newWorld(t, tel, nil)
			c := d.caller(t, w)
			if err := c.Call(context.Background(), service, "Echo", wrapperspb.String("hi"), &wrapperspb.StringValue{}); err != nil {
				t.Fatal(err)
			}
			w.waitHandled(t, "/test.v1.Echo/Echo")
			cs, err := c.NewStream(context.Background(), &ttrpc.StreamDesc{StreamingServer: true}, service, "Repeat", wrapperspb.String("x"))
			if err != nil {
				t.Fatal(err)
			}
			drain(t, cs)
			want := map[string]any{"server.address": w.addr, "server.port": nil}
			if d.name == "reverse" {
				want["server.address"] = nil
			}
			wantAttrs(t, "unary client span", tel.span(t, "test.v1.Echo/Echo", trace.SpanKindClient).Attributes(), want)
			wantAttrs(t, "stream client span", tel.span(t, "test.v1.Echo/Repeat", trace.SpanKindClient).Attributes(), want)
			wantAttrs(t, "server span", tel.span(t, "test.v1.Echo/Echo", trace.SpanKindServer).Attributes(), map[string]any{"server.address": nil})
		})
	}
}

// TestUnknownMethod: ttrpc refuses a call of a method the server does not
// have before any interceptor runs, so only the client records it, as
// UNIMPLEMENTED.
func TestUnknownMethod(t *testing.T) {
	tel := newTelemetry(t)
	w := newWorld(t, tel, nil)
	err := w.client.Call(context.Background(), service, "Nope", wrapperspb.String("hi"), &wrapperspb.StringValue{})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("Call: %v, want Unimplemented", err)
	}
	client := tel.span(t, "test.v1.Echo/Nope", trace.SpanKindClient)
	wantAttrs(t, "client span", client.Attributes(), map[string]any{"rpc.response.status_code": "UNIMPLEMENTED", "error.type": "UNIMPLEMENTED"})
	// A server span would have ended before the answer was sent.
	for _, s := range tel.spans.Ended() {
		if s.SpanKind() == trace.SpanKindServer {
			t.Errorf("server span %s for a refused call", s.Name())
		}
	}
}
