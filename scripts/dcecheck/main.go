// Command dcecheck is the minimal ttrpc-go program that scripts/check-dce.sh
// links to prove that the linker's method dead-code elimination stays on
// for programs built on the root package, status and codes.
//
// It reaches what a small server and client use: a server with one unary
// method, a client call, and the status package's conversions (FromError,
// Code, Convert, details). It is linked, never run by the check; run by
// hand it serves the unix socket named by its argument, or with -call makes
// one call to it.
//
// The canary type is the check's second, independent signal: it is
// converted to an interface and has an exported method nothing calls.
// Method dead-code elimination drops that method; a program that reflects
// on methods by index or by a name the compiler cannot see keeps every
// exported method of every type converted to an interface, and so keeps
// it.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// canary must lose Unused to dead-code elimination and keep Name, which is
// called through an interface.
type canary struct{ name string }

// Name is called through namer, so the linker must keep it.
func (c canary) Name() string { return c.name }

// Unused is called by nothing; the linker keeps it only when method
// dead-code elimination is off.
func (c canary) Unused() string { return "unused " + c.name }

type namer interface{ Name() string }

var sink any = canary{name: "dcecheck"}

func echo(_ context.Context, unmarshal func(any) error) (any, error) {
	req := new(wrapperspb.BytesValue)
	if err := unmarshal(req); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "bad request: %v", err)
	}
	if len(req.Value) == 0 {
		st, err := status.New(codes.InvalidArgument, "empty").WithDetails(wrapperspb.String("value"))
		if err != nil {
			return nil, err
		}
		return nil, st.Err()
	}
	return req, nil
}

func serve(path string) error {
	l, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	s, err := ttrpc.NewServer()
	if err != nil {
		return err
	}
	s.RegisterService("dcecheck.Echo", &ttrpc.ServiceDesc{
		Methods: map[string]ttrpc.Method{"Echo": echo},
	})
	return s.Serve(context.Background(), l)
}

func call(path string) error {
	nc, err := net.Dial("unix", path)
	if err != nil {
		return err
	}
	c := ttrpc.NewClient(nc)
	defer c.Close()
	var resp wrapperspb.BytesValue
	err = c.Call(context.Background(), "dcecheck.Echo", "Echo", &wrapperspb.BytesValue{}, &resp)
	if st, ok := status.FromError(err); ok && st.Code() == codes.InvalidArgument {
		fmt.Println(st.Message(), st.Details(), status.Code(errors.Unwrap(err)))
		return nil
	}
	return status.Convert(err).Err()
}

func main() {
	fmt.Println(sink.(namer).Name())
	var err error
	switch {
	case len(os.Args) == 2:
		err = serve(os.Args[1])
	case len(os.Args) == 3 && os.Args[1] == "-call":
		err = call(os.Args[2])
	default:
		err = errors.New("usage: dcecheck SOCKET | dcecheck -call SOCKET")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
