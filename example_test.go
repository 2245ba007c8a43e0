package ttrpc_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/example/events/eventspb"
	"github.com/ttrpc-go/ttrpc/status"
)

// listen returns a listener on a unix socket in a fresh temporary directory.
func listen() (net.Listener, func()) {
	dir, err := os.MkdirTemp("", "ttrpc-example")
	if err != nil {
		panic(err)
	}
	l, err := net.Listen("unix", filepath.Join(dir, "sock"))
	if err != nil {
		panic(err)
	}
	return l, func() { os.RemoveAll(dir) }
}

// A server with a hand-registered service and a client calling it.
func Example() {
	l, cleanup := listen()
	defer cleanup()

	srv, err := ttrpc.NewServer()
	if err != nil {
		panic(err)
	}
	srv.RegisterService("greeter.v1.Greeter", &ttrpc.ServiceDesc{
		Methods: map[string]ttrpc.Method{
			"Hello": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				var name wrapperspb.StringValue
				if err := unmarshal(&name); err != nil {
					return nil, err
				}
				if name.Value == "" {
					return nil, status.Error(codes.InvalidArgument, "name is required")
				}
				return wrapperspb.String("hello, " + name.Value), nil
			},
		},
	})
	go srv.Serve(context.Background(), l)
	defer srv.Close()

	conn, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		panic(err)
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()

	var reply wrapperspb.StringValue
	if err := client.Call(context.Background(), "greeter.v1.Greeter", "Hello", wrapperspb.String("shim"), &reply); err != nil {
		panic(err)
	}
	fmt.Println(reply.Value)

	err = client.Call(context.Background(), "greeter.v1.Greeter", "Hello", wrapperspb.String(""), &reply)
	fmt.Println(status.Code(err), status.Convert(err).Message())
	// Output:
	// hello, shim
	// InvalidArgument name is required
}

// A server-streaming call: the handler sends messages until it returns.
func ExampleClient_NewStream() {
	l, cleanup := listen()
	defer cleanup()

	srv, _ := ttrpc.NewServer()
	srv.RegisterService("counter.v1.Counter", &ttrpc.ServiceDesc{
		Streams: map[string]ttrpc.Stream{
			"Count": {
				StreamingServer: true,
				Handler: func(ctx context.Context, ss ttrpc.StreamServer) (any, error) {
					var n wrapperspb.Int32Value
					if err := ss.RecvMsg(&n); err != nil {
						return nil, err
					}
					for i := int32(1); i <= n.Value; i++ {
						if err := ss.SendMsg(wrapperspb.Int32(i)); err != nil {
							return nil, err
						}
					}
					return nil, nil
				},
			},
		},
	})
	go srv.Serve(context.Background(), l)
	defer srv.Close()

	conn, _ := net.Dial("unix", l.Addr().String())
	client := ttrpc.NewClient(conn)
	defer client.Close()

	stream, err := client.NewStream(context.Background(), &ttrpc.StreamDesc{StreamingServer: true},
		"counter.v1.Counter", "Count", wrapperspb.Int32(3))
	if err != nil {
		panic(err)
	}
	for {
		var v wrapperspb.Int32Value
		if err := stream.RecvMsg(&v); err != nil {
			break // io.EOF after the last message
		}
		fmt.Println(v.Value)
	}
	// Output:
	// 1
	// 2
	// 3
}

// Metadata attached to the caller's context reaches the handler.
func ExampleWithMetadata() {
	md := ttrpc.MD{}
	md.Set("Namespace", "k8s.io")
	ctx := ttrpc.WithMetadata(context.Background(), md)

	// On the server, the handler's context carries the same metadata.
	v, ok := ttrpc.GetMetadataValue(ctx, "namespace")
	fmt.Println(v, ok)
	// Output: k8s.io true
}

// Only peers running as the same user as the server may connect.
func ExampleUnixSocketRequireSameUser() {
	srv, err := ttrpc.NewServer(ttrpc.WithServerHandshaker(ttrpc.UnixSocketRequireSameUser()))
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	fmt.Println("server ready")
	// Output: server ready
}

// A server pushes events to the clients connected to it, over their own
// connections, with code protoc-gen-go-ttrpc generated on both ends
// (example/events/eventspb): each client registers a Sink on its
// *ttrpc.Client with the same generated function a server uses, and the
// server keeps a generated Sink client on the PeerClient of every
// subscriber. A client's cancel stops the handler of its call.
func ExamplePeerClient() {
	l, cleanup := listen()
	defer cleanup()

	srv, _ := ttrpc.NewServer()
	hub := &exampleHub{subscribers: make(chan eventspb.SinkService, 1), started: make(chan struct{}), stopped: make(chan error, 1)}
	eventspb.RegisterHubService(srv, hub)
	go srv.Serve(context.Background(), l)
	defer srv.Close()

	conn, _ := net.Dial("unix", l.Addr().String())
	client := ttrpc.NewClient(conn)
	defer client.Close()
	sink := exampleSink(make(chan string, 1))
	eventspb.RegisterSinkService(client, sink) // the client now serves Sink
	// Subscribe follows the registration on the same connection, so the
	// server sees the client serving by the time it handles Subscribe.
	hubClient := eventspb.NewHubClient(client)
	if _, err := hubClient.Subscribe(context.Background(), &eventspb.SubscribeRequest{Name: "shim"}); err != nil {
		panic(err)
	}

	// Later, the server publishes an event to its subscriber.
	subscriber := <-hub.subscribers
	if _, err := subscriber.Publish(context.Background(), &eventspb.Event{Text: "task exited"}); err != nil {
		panic(err)
	}
	fmt.Println("client received:", <-sink)

	// The client gives up on a long call; the handler sees it at once.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _, _ = hubClient.LongJob(ctx, &eventspb.LongJobRequest{}) }()
	<-hub.started
	cancel()
	fmt.Println("handler stopped:", <-hub.stopped)
	// Output:
	// client received: task exited
	// handler stopped: context canceled
}

// exampleHub is ExamplePeerClient's server side.
type exampleHub struct {
	subscribers chan eventspb.SinkService
	started     chan struct{}
	stopped     chan error
}

func (h *exampleHub) Subscribe(ctx context.Context, _ *eventspb.SubscribeRequest) (*eventspb.SubscribeReply, error) {
	peer, _ := ttrpc.PeerClient(ctx)
	h.subscribers <- eventspb.NewSinkClient(peer) // kept, to push to later
	return &eventspb.SubscribeReply{}, nil
}

func (h *exampleHub) LongJob(ctx context.Context, _ *eventspb.LongJobRequest) (*eventspb.LongJobReply, error) {
	close(h.started)
	<-ctx.Done() // the caller's cancel arrives here
	h.stopped <- ctx.Err()
	return nil, ctx.Err()
}

// exampleSink is ExamplePeerClient's client side: it passes on the events
// it receives.
type exampleSink chan string

func (s exampleSink) Publish(_ context.Context, ev *eventspb.Event) (*eventspb.Ack, error) {
	s <- ev.Text
	return &eventspb.Ack{}, nil
}
