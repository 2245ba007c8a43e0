package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/example"
	"github.com/ttrpc-go/ttrpc/status"
)

// maxCountdown bounds Countdown so a client cannot make the server stream
// for ever.
const maxCountdown = 1000

// exampleServer implements example.ExampleService and logs, prefixed with
// "server:", what every call received.
type exampleServer struct {
	mu  sync.Mutex // serialises writes to log from concurrent calls
	log io.Writer
}

var _ example.ExampleService = (*exampleServer)(nil)

func (s *exampleServer) logf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(s.log, "  server: "+format+"\n", args...)
}

// Greet greets req.Name; the "greeting" metadata value, when the caller
// sent one, replaces "Hello". An empty name is an InvalidArgument error.
func (s *exampleServer) Greet(ctx context.Context, req *example.GreetRequest) (*example.GreetResponse, error) {
	if req.Name == "" {
		s.logf("Greet with an empty name: refusing")
		return nil, status.Error(codes.InvalidArgument, "name must not be empty")
	}
	word := "Hello"
	if v, ok := ttrpc.GetMetadataValue(ctx, "greeting"); ok {
		word = v
	}
	s.logf("Greet name=%q greeting=%q", req.Name, word)
	return &example.GreetResponse{Greeting: word + ", " + req.Name + "!"}, nil
}

// Countdown sends req.Count ticks, from Count down to 1.
func (s *exampleServer) Countdown(ctx context.Context, req *example.CountdownRequest, stream example.Example_CountdownServer) error {
	if req.Count > maxCountdown {
		return status.Errorf(codes.OutOfRange, "count %d is above %d", req.Count, maxCountdown)
	}
	s.logf("Countdown from %d", req.Count)
	for i := req.Count; i > 0; i-- {
		if err := stream.Send(&example.Tick{Remaining: i}); err != nil {
			return err
		}
	}
	return nil
}

// Sum adds the numbers the client streams until it closes its side.
func (s *exampleServer) Sum(ctx context.Context, stream example.Example_SumServer) (*example.Total, error) {
	total := &example.Total{}
	for {
		n, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			s.logf("Sum of %d numbers = %d", total.Count, total.Sum)
			return total, nil
		}
		if err != nil {
			return nil, err
		}
		total.Sum += n.Value
		total.Count++
	}
}

// Chat answers each message with its text in upper case, tagged "echo".
func (s *exampleServer) Chat(ctx context.Context, stream example.Example_ChatServer) error {
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			s.logf("Chat: client finished")
			return nil
		}
		if err != nil {
			return err
		}
		s.logf("Chat got %q from %s", m.Text, m.From)
		reply := &example.ChatMessage{From: "server", Text: strings.ToUpper(m.Text), Tags: append(m.Tags, "echo")}
		if err := stream.Send(reply); err != nil {
			return err
		}
	}
}
