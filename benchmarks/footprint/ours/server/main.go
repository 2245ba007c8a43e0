// Command server is the minimal github.com/ttrpc-go/ttrpc echo server of the
// footprint comparison: one unary method on wrapperspb.BytesValue, its
// errors made with ttrpc-go's status package, as a user writes it. It
// serves the unix socket named by its only argument and prints "ready"
// once it accepts connections.
//
// The footprint servers deliberately share no code with each other or with
// the rest of this module, so that each binary links only what its own
// program would: footprint/containerd/server is the same program on
// containerd/ttrpc and grpc-go's status package.
package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func echo(_ context.Context, unmarshal func(any) error) (any, error) {
	req := new(wrapperspb.BytesValue)
	if err := unmarshal(req); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "bad request: %v", err)
	}
	return req, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: server SOCKET")
		os.Exit(2)
	}
	l, err := net.Listen("unix", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s, err := ttrpc.NewServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s.RegisterService("bench.Echo", &ttrpc.ServiceDesc{
		Methods: map[string]ttrpc.Method{"Echo": echo},
	})
	fmt.Println("ready")
	if err := s.Serve(context.Background(), l); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
