// Command greeter is the brpc-style Greeter on generated code at both ends:
// the client serves a Namer on its own connection with one line, calls the
// server's Greeter, and the server's handler asks the caller's Namer whom it
// greets, through a generated client on ttrpc.PeerClient(ctx).
//
//	go run ./example/greeter
//
// It prints the greeting and exits 0.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ttrpc-go/ttrpc"
	pb "github.com/ttrpc-go/ttrpc/example/greeter/greeterpb"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "greeter:", err)
		os.Exit(1)
	}
}

// greeter is the server's service: it greets whoever calls, by the name the
// caller gives when asked back.
type greeter struct{}

func (greeter) SayHello(ctx context.Context, _ *pb.HelloRequest) (*pb.HelloReply, error) {
	peer, ok := ttrpc.PeerClient(ctx) // the caller's own connection
	if !ok {
		return nil, errors.New("no peer client")
	}
	who, err := pb.NewNamerClient(peer).Name(ctx, &pb.NameRequest{})
	if err != nil {
		return nil, err
	}
	return &pb.HelloReply{Message: "hello, " + who.Name}, nil
}

// namer is the client's service: it tells the server its name.
type namer struct{ name string }

func (n namer) Name(context.Context, *pb.NameRequest) (*pb.NameReply, error) {
	return &pb.NameReply{Name: n.name}, nil
}

func run(ctx context.Context, out io.Writer) error {
	dir, err := os.MkdirTemp("", "ttrpc-greeter")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("unix", filepath.Join(dir, "greeter.sock"))
	if err != nil {
		return err
	}

	srv, err := ttrpc.NewServer()
	if err != nil {
		return err
	}
	pb.RegisterGreeterService(srv, greeter{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	defer func() {
		srv.Close()
		<-served
	}()

	conn, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		return err
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()
	// The same generated function a server uses: the server this client
	// is connected to can now call Namer on this connection. The server
	// calls it only from inside SayHello, which this client calls after
	// registering, so the registration has reached the server by then.
	pb.RegisterNamerService(client, namer{name: "brpc fan"})

	reply, err := pb.NewGreeterClient(client).SayHello(ctx, &pb.HelloRequest{})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, reply.Message)
	return nil
}
