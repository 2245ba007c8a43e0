package ttrpc_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc"
)

// Listen and Dial take the address forms of the ecosystem: here a unix
// socket, given as unix:///path.
func ExampleDial() {
	dir, err := os.MkdirTemp("", "ttrpc-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	address := "unix://" + filepath.Join(dir, "sock")

	l, err := ttrpc.Listen(address)
	if err != nil {
		panic(err)
	}
	srv, err := ttrpc.NewServer()
	if err != nil {
		panic(err)
	}
	srv.Register("echo.v1.Echo", map[string]ttrpc.Method{
		"Echo": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			var s wrapperspb.StringValue
			if err := unmarshal(&s); err != nil {
				return nil, err
			}
			return &s, nil
		},
	})
	go srv.Serve(context.Background(), l)
	defer srv.Close()

	client, err := ttrpc.Dial(context.Background(), address)
	if err != nil {
		panic(err)
	}
	defer client.Close()
	var resp wrapperspb.StringValue
	if err := client.Call(context.Background(), "echo.v1.Echo", "Echo", wrapperspb.String("hello"), &resp); err != nil {
		panic(err)
	}
	fmt.Println(resp.Value)
	// Output: hello
}

// ParseAddress tells the transports apart.
func ExampleParseAddress() {
	for _, s := range []string{"unix:///run/x.sock", "unix://@abstract", "vsock://-1:1024", "hvsock:///run/vm.sock:1024", "tcp://127.0.0.1:7000"} {
		a, err := ttrpc.ParseAddress(s)
		if err != nil {
			panic(err)
		}
		fmt.Println(a.Scheme, a)
	}
	// Output:
	// unix unix:///run/x.sock
	// unix unix://@abstract
	// vsock vsock://-1:1024
	// hvsock hvsock:///run/vm.sock:1024
	// tcp tcp://127.0.0.1:7000
}
