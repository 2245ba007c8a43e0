package ttrpc

import (
	"context"
	"sync"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// Client-streaming peers whose handlers do not read cannot make one
// connection queue more than its receive budget: the stream that would
// exceed it fails with ResourceExhausted, the others and the connection go
// on.
func TestReceiveBudgetBoundsUnreadStreams(t *testing.T) {
	checkGoroutines(t)
	release := make(chan struct{})
	var entered sync.WaitGroup
	srv, _ := NewServer()
	srv.RegisterService("sink", &ServiceDesc{Streams: map[string]Stream{
		"Hold": {StreamingClient: true, Handler: func(ctx context.Context, ss StreamServer) (any, error) {
			entered.Done()
			<-release // never reads until released
			for {
				var v wrapperspb.BytesValue
				if err := ss.RecvMsg(&v); err != nil {
					return nil, err
				}
			}
		}},
	}})
	srv.RegisterService(testService, echoService())
	c := startServer(t, srv).dial(t)

	const streams, perStream, size = 8, 40, 100 << 10 // 32 MiB offered, 16 MiB budget
	payload := wrapperspb.Bytes(make([]byte, size))
	var opened []ClientStream
	entered.Add(streams)
	for range streams {
		s, err := c.NewStream(context.Background(), &StreamDesc{StreamingClient: true}, "sink", "Hold", nil)
		if err != nil {
			t.Fatal(err)
		}
		opened = append(opened, s)
	}
	entered.Wait()
	for _, s := range opened {
		for range perStream {
			if err := s.SendMsg(payload); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The connection still answers while data is held.
	var out wrapperspb.BytesValue
	if err := c.Call(context.Background(), testService, "Echo", wrapperspb.Bytes([]byte("ok")), &out); err != nil {
		t.Fatal(err)
	}
	var sc *conn
	srv.mu.Lock()
	for k := range srv.conns {
		sc = k
	}
	srv.mu.Unlock()
	waitFor(t, func() bool { return sc.recvBudget.queued.Load() > 0 })
	if q, limit := sc.recvBudget.queued.Load(), sc.recvBudget.limit; q > limit {
		t.Fatalf("%d bytes queued, over the budget of %d", q, limit)
	}
	close(release)
	failed := 0
	for _, s := range opened {
		s.CloseSend()
		err := s.RecvMsg(&wrapperspb.BytesValue{})
		if status.Code(err) == codes.ResourceExhausted {
			failed++
		}
	}
	if failed == 0 {
		t.Error("no stream was refused although the offered data exceeded the budget")
	}
	waitFor(t, func() bool { return sc.recvBudget.queued.Load() == 0 })
}
