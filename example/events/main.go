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
// expected.
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

	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc"
)

const (
	hubService  = "example.events.v1.Hub"  // served by the server
	sinkService = "example.events.v1.Sink" // served by each client
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "events:", err)
		os.Exit(1)
	}
}

// hub keeps the clients that subscribed, to publish to them later.
type hub struct {
	mu          sync.Mutex
	subscribers map[string]*ttrpc.Client
	started     chan struct{} // LongJob is running
	stopped     chan error    // what LongJob's context ended with
}

func (h *hub) desc() *ttrpc.ServiceDesc {
	return &ttrpc.ServiceDesc{Methods: map[string]ttrpc.Method{
		"Subscribe": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			var name wrapperspb.StringValue
			if err := unmarshal(&name); err != nil {
				return nil, err
			}
			peer, _ := ttrpc.PeerClient(ctx) // the caller's own connection
			h.mu.Lock()
			h.subscribers[name.Value] = peer
			h.mu.Unlock()
			return &emptypb.Empty{}, nil
		},
		"LongJob": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			close(h.started)
			<-ctx.Done() // ends when the caller cancels
			h.stopped <- ctx.Err()
			return nil, ctx.Err()
		},
	}}
}

// publish sends an event to every subscriber and reports who took it.
func (h *hub) publish(ctx context.Context, out io.Writer, event string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for name, peer := range h.subscribers {
		var ack wrapperspb.StringValue
		if err := peer.Call(ctx, sinkService, "Publish", wrapperspb.String(event), &ack); err != nil {
			return fmt.Errorf("publishing to %s: %w", name, err)
		}
		fmt.Fprintf(out, "  server: %s acknowledged %q: %s\n", name, event, ack.Value)
	}
	return nil
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
	h := &hub{subscribers: map[string]*ttrpc.Client{}, started: make(chan struct{}), stopped: make(chan error, 1)}
	srv, err := ttrpc.NewServer()
	if err != nil {
		return err
	}
	srv.RegisterService(hubService, h.desc())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	defer func() {
		srv.Close()
		<-served
	}()

	fmt.Fprintln(out, "== clients subscribe; each serves an event sink on its own connection")
	var clients []*ttrpc.Client
	received := make(chan string, 16)
	for _, name := range []string{"shim-a", "shim-b", "shim-c"} {
		nc, err := net.Dial("unix", l.Addr().String())
		if err != nil {
			return err
		}
		c := ttrpc.NewClient(nc)
		defer c.Close()
		c.Register(sinkService, map[string]ttrpc.Method{
			"Publish": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				var ev wrapperspb.StringValue
				if err := unmarshal(&ev); err != nil {
					return nil, err
				}
				received <- name + " got " + ev.Value
				return wrapperspb.String("ok from " + name), nil
			},
		})
		if err := c.Call(ctx, hubService, "Subscribe", wrapperspb.String(name), &emptypb.Empty{}); err != nil {
			return err
		}
		fmt.Fprintf(out, "  %s: subscribed\n", name)
		clients = append(clients, c)
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
	go func() { callErr <- clients[0].Call(callCtx, hubService, "LongJob", &emptypb.Empty{}, &emptypb.Empty{}) }()
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
