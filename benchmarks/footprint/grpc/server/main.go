// Command server is the minimal google.golang.org/grpc echo server of the
// footprint comparison: the same unary method on wrapperspb.BytesValue as
// the ttrpc servers, default settings, insecure credentials. It serves the
// unix socket named by its only argument and prints "ready" once it
// accepts connections.
package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

var service = grpc.ServiceDesc{
	ServiceName: "bench.Echo",
	// The handler ignores its srv argument, so any value satisfies this.
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Echo",
		Handler: func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			req := new(wrapperspb.BytesValue)
			if err := dec(req); err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "bad request: %v", err)
			}
			return req, nil
		},
	}},
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
	s := grpc.NewServer()
	s.RegisterService(&service, nil)
	fmt.Println("ready")
	if err := s.Serve(l); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
