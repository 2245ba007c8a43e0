package ttrpc

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// nerdbox's streaming tests: a stream nobody reads fails with ErrStreamFull
// after its 64-message buffer stayed full for a second, and the connection
// goes on serving other calls.
func TestUnreadStreamFailsWithErrStreamFull(t *testing.T) {
	s := serveUnix(t)
	c := s.dial(t)
	ctx := testContext(t)
	cs, err := c.NewStream(ctx, &StreamDesc{StreamingServer: true}, testService, "Count", wrapperspb.Int32(1000))
	if err != nil {
		t.Fatal(err)
	}
	// Let the buffer stay full for longer than a second, measured by the
	// server (a call that times out), while the connection serves calls.
	wctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	if err := c.Call(wctx, testService, "Wait", &wrapperspb.StringValue{}, &wrapperspb.StringValue{}); err != context.DeadlineExceeded {
		t.Fatalf("Wait: %v", err)
	}
	if _, err := echo(ctx, c, "other"); err != nil {
		t.Fatalf("the connection stopped serving: %v", err)
	}
	got := 0
	for {
		var m wrapperspb.Int32Value
		err := cs.RecvMsg(&m)
		if err == nil {
			got++
			continue
		}
		if !errors.Is(err, ErrStreamFull) {
			t.Fatalf("after %d messages: %#v, want ErrStreamFull", got, err)
		}
		break
	}
	if got > 64 {
		t.Fatalf("%d messages were buffered, want at most 64", got)
	}
	if _, err := echo(ctx, c, "again"); err != nil {
		t.Fatal(err)
	}
}
