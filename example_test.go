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
// connections: each client serves an event service, and the server keeps
// the PeerClient of every subscriber. A client's cancel stops the handler
// of its call.
func ExamplePeerClient() {
	l, cleanup := listen()
	defer cleanup()

	subscribers := make(chan *ttrpc.Client, 1)
	started, stopped := make(chan struct{}), make(chan error, 1)
	srv, _ := ttrpc.NewServer()
	srv.Register("events.v1.Hub", map[string]ttrpc.Method{
		"Subscribe": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			peer, _ := ttrpc.PeerClient(ctx)
			subscribers <- peer // kept, to push to later
			return &wrapperspb.StringValue{}, nil
		},
		"LongJob": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			close(started)
			<-ctx.Done() // the caller's cancel arrives here
			stopped <- ctx.Err()
			return nil, ctx.Err()
		},
	})
	go srv.Serve(context.Background(), l)
	defer srv.Close()

	conn, _ := net.Dial("unix", l.Addr().String())
	client := ttrpc.NewClient(conn)
	defer client.Close()
	received := make(chan string, 1)
	client.Register("events.v1.Sink", map[string]ttrpc.Method{
		"Publish": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			var ev wrapperspb.StringValue
			if err := unmarshal(&ev); err != nil {
				return nil, err
			}
			received <- ev.Value
			return &wrapperspb.StringValue{}, nil
		},
	})
	if err := client.Call(context.Background(), "events.v1.Hub", "Subscribe", &wrapperspb.StringValue{}, &wrapperspb.StringValue{}); err != nil {
		panic(err)
	}

	// Later, the server publishes an event to its subscriber.
	peer := <-subscribers
	if err := peer.Call(context.Background(), "events.v1.Sink", "Publish", wrapperspb.String("task exited"), &wrapperspb.StringValue{}); err != nil {
		panic(err)
	}
	fmt.Println("client received:", <-received)

	// The client gives up on a long call; the handler sees it at once.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_ = client.Call(ctx, "events.v1.Hub", "LongJob", &wrapperspb.StringValue{}, &wrapperspb.StringValue{})
	}()
	<-started
	cancel()
	fmt.Println("handler stopped:", <-stopped)
	// Output:
	// client received: task exited
	// handler stopped: context canceled
}
