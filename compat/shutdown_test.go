package ttrpc

import (
	"context"
	"net"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Shutdown closes idle connections, lets a busy one finish its call, and
// clients then see the bare ErrClosed; Serve returns ErrServerClosed
// (containerd's TestFailFastWhenConnectShim: the listener is closed too).
func TestShutdownIdleAndBusyConnections(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	s := serveUnix(t)
	s.srv.Register("compat.test.Block", map[string]Method{
		"Block": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			close(entered)
			<-release
			return &wrapperspb.StringValue{Value: "done"}, nil
		},
	})
	ctx := testContext(t)
	idle := s.dial(t)
	if _, err := echo(ctx, idle, "hi"); err != nil {
		t.Fatal(err)
	}
	busy := s.dial(t)
	result := make(chan error, 1)
	go func() {
		var out wrapperspb.StringValue
		err := busy.Call(ctx, "compat.test.Block", "Block", &wrapperspb.StringValue{}, &out)
		if err == nil && out.Value != "done" {
			err = context.Canceled
		}
		result <- err
	}()
	<-entered
	shut := make(chan error, 1)
	go func() { shut <- s.srv.Shutdown(ctx) }()
	// The idle connection is closed while the busy one still runs.
	if err := idle.UserOnCloseWait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := echo(ctx, idle, "hi"); err != ErrClosed {
		t.Fatalf("idle client after Shutdown: %#v, want the bare ErrClosed", err)
	}
	if _, err := net.Dial("unix", s.path); err == nil {
		t.Fatal("the listener still accepts after Shutdown")
	}
	close(release)
	if err := <-result; err != nil {
		t.Fatalf("busy call during Shutdown: %v", err)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := busy.UserOnCloseWait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := echo(ctx, busy, "hi"); err != ErrClosed {
		t.Fatalf("busy client after Shutdown: %#v, want the bare ErrClosed", err)
	}
}
