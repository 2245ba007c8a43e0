// Command serveronly is the smallest ttrpc-go server: one unary method and
// no client of its own. scripts/check-dce.sh checks that it links none of
// the client's call path (a server's peer clients are Clients, so a
// constructor that reaches that path makes every server pay for it).
package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/ttrpc-go/ttrpc"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

func echo(_ context.Context, unmarshal func(any) error) (any, error) {
	req := new(wrapperspb.BytesValue)
	if err := unmarshal(req); err != nil {
		return nil, err
	}
	return req, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: serveronly SOCKET")
		os.Exit(2)
	}
	l, err := net.Listen("unix", os.Args[1])
	if err == nil {
		var s *ttrpc.Server
		if s, err = ttrpc.NewServer(); err == nil {
			s.RegisterService("serveronly.Echo", &ttrpc.ServiceDesc{Methods: map[string]ttrpc.Method{"Echo": echo}})
			err = s.Serve(context.Background(), l)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
