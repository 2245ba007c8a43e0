// Command events shows two ttrpc-go extensions (PROTOCOL.md, section 16):
// a server pushing events to the clients connected to it, over their own
// connections, and a client's cancel stopping a long-running handler.
//
//	go run ./example/events
//
// It starts a hub server on a unix socket in a temporary directory, connects
// three clients that each serve an event sink and subscribe, publishes
// events to every subscriber, then has one client cancel a long call and
// shows the handler stopping. It exits 0 when everything happened as
// expected. Both ends use the code protoc-gen-go-ttrpc generated from
// eventspb/events.proto: the server registers the Hub, each client registers
// a Sink on its *ttrpc.Client with the same generated function, and the
// server publishes through a generated Sink client on the subscriber's
// connection.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ttrpc-go/ttrpc"
	pb "github.com/ttrpc-go/ttrpc/example/events/eventspb"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "events:", err)
		os.Exit(1)
	}
}

// hub is the server's Hub: it keeps a Sink client for every subscriber, to
// publish to them later.
type hub struct {
	mu          sync.Mutex
	subscribers map[string]pb.SinkService
	started     chan struct{} // LongJob is running
	stopped     chan error    // what LongJob's context ended with
}

func (h *hub) Subscribe(ctx context.Context, req *pb.SubscribeRequest) (*pb.SubscribeReply, error) {
	peer, ok := ttrpc.PeerClient(ctx) // the caller's own connection
	if !ok {
		return nil, errors.New("no peer client")
	}
	h.mu.Lock()
	h.subscribers[req.Name] = pb.NewSinkClient(peer)
	h.mu.Unlock()
	return &pb.SubscribeReply{}, nil
}

func (h *hub) LongJob(ctx context.Context, _ *pb.LongJobRequest) (*pb.LongJobReply, error) {
	close(h.started)
	<-ctx.Done() // ends when the caller cancels
	h.stopped <- ctx.Err()
	return nil, ctx.Err()
}

// publish sends an event to every subscriber and reports who took it.
func (h *hub) publish(ctx context.Context, out io.Writer, event string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, sink := range h.subscribers {
		ack, err := sink.Publish(ctx, &pb.Event{Text: event})
		if err != nil {
			return fmt.Errorf("publishing to %s: %w", name, err)
		}
		fmt.Fprintf(out, "  server: %s acknowledged %q: %s\n", name, event, ack.Text)
	}
	return nil
}

// sink is a client's Sink: it passes every event it gets to received.
type sink struct {
	name     string
	received chan<- string
}

func (s sink) Publish(_ context.Context, ev *pb.Event) (*pb.Ack, error) {
	s.received <- s.name + " got " + ev.Text
	return &pb.Ack{Text: "ok from " + s.name}, nil
}

func run(ctx context.Context, out io.Writer) error {
	dir, err := os.MkdirTemp("", "ttrpc-events")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("unix", filepath.Join(dir, "hub.sock"))
	if err != nil {
		return err
	}
	h := &hub{subscribers: map[string]pb.SinkService{}, started: make(chan struct{}), stopped: make(chan error, 1)}
	srv, err := ttrpc.NewServer()
	if err != nil {
		return err
	}
	pb.RegisterHubService(srv, h)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	defer func() {
		srv.Close()
		<-served
	}()

	fmt.Fprintln(out, "== clients subscribe; each serves an event sink on its own connection")
	var clients []pb.HubService
	received := make(chan string, 16)
	for _, name := range []string{"shim-a", "shim-b", "shim-c"} {
		nc, err := net.Dial("unix", l.Addr().String())
		if err != nil {
			return err
		}
		c := ttrpc.NewClient(nc)
		defer c.Close()
		// One line, the same generated function a server uses. The hub
		// calls the sink only after Subscribe, which comes later on this
		// connection, so the registration has reached the server by then.
		pb.RegisterSinkService(c, sink{name: name, received: received})
		if _, err := pb.NewHubClient(c).Subscribe(ctx, &pb.SubscribeRequest{Name: name}); err != nil {
			return err
		}
		fmt.Fprintf(out, "  %s: subscribed\n", name)
		clients = append(clients, pb.NewHubClient(c))
	}

	fmt.Fprintln(out, "== the server publishes an event to every subscriber")
	if err := h.publish(ctx, out, "task exited"); err != nil {
		return err
	}
	for range clients {
		fmt.Fprintf(out, "  client: %s\n", <-received)
	}

	fmt.Fprintln(out, "== a client cancels a long call; the handler stops at once")
	callCtx, cancelCall := context.WithCancel(ctx)
	defer cancelCall()
	callErr := make(chan error, 1)
	go func() {
		_, err := clients[0].LongJob(callCtx, &pb.LongJobRequest{})
		callErr <- err
	}()
	select {
	case <-h.started:
	case <-ctx.Done():
		return errors.New("the long call never started")
	}
	fmt.Fprintln(out, "  server: LongJob running")
	cancelCall()
	if err := <-callErr; !errors.Is(err, context.Canceled) {
		return fmt.Errorf("cancelled call returned %v", err)
	}
	fmt.Fprintln(out, "  client: call cancelled")
	select {
	case err := <-h.stopped:
		fmt.Fprintf(out, "  server: LongJob stopped: %v\n", err)
	case <-ctx.Done():
		return errors.New("the handler never saw the cancel")
	}
	fmt.Fprintln(out, "done")
	return nil
}
