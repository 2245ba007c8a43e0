// Command server is the minimal github.com/containerd/ttrpc echo server of
// the footprint comparison: one unary method on wrapperspb.BytesValue, its
// errors made with grpc-go's status package as every containerd/ttrpc user
// does. It serves the unix socket named by its only argument and prints
// "ready" once it accepts connections. footprint/ours/server is the same
// program on ttrpc-go.
package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
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
