package otelttrpc_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/otelttrpc"
)

// A server and a client, each instrumented with one call, share a trace.
func Example() {
	exporter := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	defer tp.Shutdown(context.Background())

	srv, err := ttrpc.NewServer(otelttrpc.ServerOptions(otelttrpc.WithTracerProvider(tp))...)
	if err != nil {
		panic(err)
	}
	srv.Register("greeter.v1.Greeter", map[string]ttrpc.Method{
		"Hello": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			var name wrapperspb.StringValue
			if err := unmarshal(&name); err != nil {
				return nil, err
			}
			return wrapperspb.String("hello, " + name.Value), nil
		},
	})
	dir, err := os.MkdirTemp("", "otelttrpc-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("unix", filepath.Join(dir, "sock"))
	if err != nil {
		panic(err)
	}
	go srv.Serve(context.Background(), l)
	defer srv.Close()

	conn, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		panic(err)
	}
	client := ttrpc.NewClient(conn, otelttrpc.ClientOptions(otelttrpc.WithTracerProvider(tp))...)
	defer client.Close()

	var reply wrapperspb.StringValue
	if err := client.Call(context.Background(), "greeter.v1.Greeter", "Hello", wrapperspb.String("world"), &reply); err != nil {
		panic(err)
	}
	fmt.Println(reply.Value)

	spans := exporter.GetSpans()
	sort.Slice(spans, func(i, j int) bool { return spans[i].SpanKind < spans[j].SpanKind })
	for _, s := range spans {
		fmt.Println(s.SpanKind, s.Name)
	}
	fmt.Println("same trace:", spans[0].SpanContext.TraceID() == spans[1].SpanContext.TraceID())
	fmt.Println("server's parent is the client:", spans[0].Parent.SpanID() == spans[1].SpanContext.SpanID())
	// Output:
	// hello, world
	// server greeter.v1.Greeter/Hello
	// client greeter.v1.Greeter/Hello
	// same trace: true
	// server's parent is the client: true
}
