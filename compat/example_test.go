package ttrpc_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// A program written for containerd/ttrpc, unchanged: the handler's
// grpc-go status error reaches the caller with its code, and a closed
// client fails with the bare ErrClosed.
func Example() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	l, err := net.Listen("unix", filepath.Join(dir, "sock"))
	if err != nil {
		fmt.Println(err)
		return
	}
	srv, _ := ttrpc.NewServer()
	srv.Register("example.Tasks", map[string]ttrpc.Method{
		"Delete": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			var id wrapperspb.StringValue
			if err := unmarshal(&id); err != nil {
				return nil, err
			}
			return nil, status.Errorf(codes.NotFound, "task %s not found", id.Value)
		},
	})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()

	nc, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	client := ttrpc.NewClient(nc)
	err = client.Call(context.Background(), "example.Tasks", "Delete", wrapperspb.String("t1"), &wrapperspb.StringValue{})
	fmt.Println(status.Code(err), status.Convert(err).Message())

	client.Close()
	err = client.Call(context.Background(), "example.Tasks", "Delete", wrapperspb.String("t1"), &wrapperspb.StringValue{})
	fmt.Println(err == ttrpc.ErrClosed, err)

	srv.Close()
	fmt.Println(<-served == ttrpc.ErrServerClosed)
	// Output:
	// NotFound task t1 not found
	// true ttrpc: closed
	// true
}
