package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/example"
	"github.com/ttrpc-go/ttrpc/reflection"
	"github.com/ttrpc-go/ttrpc/reflection/gogofiles"
	"github.com/ttrpc-go/ttrpc/status"
)

// exampleService implements the example service (example/example.proto)
// with a few switches that let the tests reach every path of the command:
//
//	Greet name ""         InvalidArgument
//	Greet name "block"    waits until the call's context ends
//	Greet name "metadata" the greeting is the metadata it got, as JSON
//	Greet name "deadline" the greeting says whether the call has a deadline
//	Countdown count>1000  OutOfRange
//	Countdown count 999   sends two ticks, tells midStream, then waits
//	Sum value -1          NotFound
//	Chat text "fail"      PermissionDenied
//
// Otherwise it behaves as example/cmd's server.
type exampleService struct {
	midStream chan struct{}
}

func (s *exampleService) Greet(ctx context.Context, req *example.GreetRequest) (*example.GreetResponse, error) {
	switch req.Name {
	case "":
		return nil, status.Error(codes.InvalidArgument, "name must not be empty")
	case "block":
		<-ctx.Done()
		return nil, ctx.Err()
	case "metadata":
		md, _ := ttrpc.GetMetadata(ctx)
		b, err := json.Marshal(md)
		return &example.GreetResponse{Greeting: string(b)}, err
	case "deadline":
		_, ok := ctx.Deadline()
		if ok {
			return &example.GreetResponse{Greeting: "has a deadline"}, nil
		}
		return &example.GreetResponse{Greeting: "no deadline"}, nil
	}
	word := "Hello"
	if v, ok := ttrpc.GetMetadataValue(ctx, "greeting"); ok {
		word = v
	}
	return &example.GreetResponse{Greeting: word + ", " + req.Name + "!"}, nil
}

func (s *exampleService) Countdown(ctx context.Context, req *example.CountdownRequest, stream example.Example_CountdownServer) error {
	switch {
	case req.Count > 1000:
		return status.Errorf(codes.OutOfRange, "count %d is above 1000", req.Count)
	case req.Count == 999:
		for i := uint32(999); i > 997; i-- {
			if err := stream.Send(&example.Tick{Remaining: i}); err != nil {
				return err
			}
		}
		s.midStream <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}
	for i := req.Count; i > 0; i-- {
		if err := stream.Send(&example.Tick{Remaining: i}); err != nil {
			return err
		}
	}
	return nil
}

func (s *exampleService) Sum(ctx context.Context, stream example.Example_SumServer) (*example.Total, error) {
	total := &example.Total{}
	for {
		n, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return nil, err
		}
		if n.Value == -1 {
			return nil, status.Error(codes.NotFound, "no number -1 here")
		}
		total.Sum += n.Value
		total.Count++
	}
}

func (s *exampleService) Chat(ctx context.Context, stream example.Example_ChatServer) error {
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if m.Text == "fail" {
			return status.Error(codes.PermissionDenied, "chat refused")
		}
		reply := &example.ChatMessage{From: "server", Text: strings.ToUpper(m.Text), Tags: append(m.Tags, "echo")}
		if err := stream.Send(reply); err != nil {
			return err
		}
	}
}

// testServer is a ttrpc-go server of the example service on a unix socket.
type testServer struct {
	srv     *ttrpc.Server
	service *exampleService
	socket  string // plain path
	addr    string // unix:// address
}

// socketPath returns a fresh, short unix socket path removed after t.
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s")
}

// startServer serves the example service, with reflection when
// withReflection, until the test ends.
func startServer(t *testing.T, withReflection bool) *testServer {
	t.Helper()
	srv, err := ttrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{srv: srv, service: &exampleService{midStream: make(chan struct{}, 1)}, socket: socketPath(t)}
	ts.addr = "unix://" + ts.socket
	example.RegisterExampleService(srv, ts.service)
	if withReflection {
		files, err := gogofiles.Load("example.proto")
		if err != nil {
			t.Fatal(err)
		}
		reflection.Register(srv, reflection.WithResolver(files))
	}
	serve(t, srv, ts.socket)
	return ts
}

// serve runs srv on a unix socket at path until the test ends.
func serve(t *testing.T, srv *ttrpc.Server, path string) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	serveListener(t, srv, l)
}

// serveListener runs srv on l until the test ends.
func serveListener(t *testing.T, srv *ttrpc.Server, l net.Listener) {
	t.Helper()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		srv.Close()
		select {
		case err := <-served:
			if !errors.Is(err, ttrpc.ErrServerClosed) {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
}

// exampleProto is the example service's .proto file, for --proto.
const exampleProto = "../../example/example.proto"
