package otelttrpc_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"

	refotel "github.com/containerd/otelttrpc"
	ref "github.com/containerd/ttrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/otelttrpc"
)

// refEcho is the reference implementation's handler of test.v1.Echo/Echo.
func refEcho(ctx context.Context, unmarshal func(any) error) (any, error) {
	var in wrapperspb.StringValue
	if err := unmarshal(&in); err != nil {
		return nil, err
	}
	return wrapperspb.String(in.Value), nil
}

// checkContinued checks that the server span continues the client span's
// trace, whichever library made each.
func checkContinued(t *testing.T, tel *telemetry, name string) {
	t.Helper()
	client := tel.span(t, name, trace.SpanKindClient)
	server := tel.span(t, name, trace.SpanKindServer)
	if server.SpanContext().TraceID() != client.SpanContext().TraceID() || server.Parent().SpanID() != client.SpanContext().SpanID() {
		t.Errorf("server span (trace %v, parent %v) does not continue client span %v/%v",
			server.SpanContext().TraceID(), server.Parent().SpanID(), client.SpanContext().TraceID(), client.SpanContext().SpanID())
	}
}

// TestInteropReferenceClient: a containerd/ttrpc client instrumented by
// containerd/otelttrpc calls a server instrumented by this package.
func TestInteropReferenceClient(t *testing.T) {
	tel := newTelemetry(t)
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "sock"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ttrpc.NewServer(otelttrpc.ServerOptions(tel.options()...)...)
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService(service, echoService())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	defer func() {
		srv.Close()
		<-served
	}()
	conn, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	client := ref.NewClient(conn, ref.WithUnaryClientInterceptor(refotel.UnaryClientInterceptor(
		refotel.WithTracerProvider(tel.tp), refotel.WithPropagators(propagation.TraceContext{}))))
	defer client.Close()
	var out wrapperspb.StringValue
	if err := client.Call(context.Background(), service, "Echo", wrapperspb.String("hi"), &out); err != nil || out.Value != "hi" {
		t.Fatalf("Call: %v, %q", err, out.Value)
	}
	// The reference client returns after our server span ended: the
	// server ends the span before it sends the response.
	checkContinued(t, tel, "test.v1.Echo/Echo")
}

// TestInteropReferenceServer: a client instrumented by this package calls
// a containerd/ttrpc server instrumented by containerd/otelttrpc.
func TestInteropReferenceServer(t *testing.T) {
	tel := newTelemetry(t)
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "sock"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ref.NewServer(ref.WithUnaryServerInterceptor(refotel.UnaryServerInterceptor(
		refotel.WithTracerProvider(tel.tp), refotel.WithMeterProvider(tel.mp), refotel.WithPropagators(propagation.TraceContext{}))))
	if err != nil {
		t.Fatal(err)
	}
	srv.Register(service, map[string]ref.Method{"Echo": refEcho})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	defer func() {
		srv.Close()
		<-served
	}()
	conn, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	client := ttrpc.NewClient(conn, otelttrpc.ClientOptions(tel.options()...)...)
	defer client.Close()
	var out wrapperspb.StringValue
	if err := client.Call(context.Background(), service, "Echo", wrapperspb.String("hi"), &out); err != nil || out.Value != "hi" {
		t.Fatalf("Call: %v, %q", err, out.Value)
	}
	checkContinued(t, tel, "test.v1.Echo/Echo")
}
