package ttrpc

import (
	"context"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The pool keeps the handler goroutines a burst needed while they are
// used, retires those a lighter load does not need, even when that load
// reaches each of them in turn, and retires the rest once nothing calls.
func TestWorkerPoolRetiresUnneededGoroutines(t *testing.T) {
	defer checkGoroutines(t)
	srv, err := NewServer()
	if err != nil {
		t.Fatal(err)
	}
	pool := srv.connCfg.workers
	pool.period = 20 * time.Millisecond
	release := make(chan struct{})
	var entered sync.WaitGroup
	srv.RegisterService(testService, &ServiceDesc{Methods: map[string]Method{
		"Hold": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			entered.Done()
			<-release
			return &wrapperspb.StringValue{}, nil
		},
		"Echo": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			return &wrapperspb.StringValue{}, nil
		},
	}})
	ts := startServer(t, srv)
	c := ts.dial(t)
	defer c.Close()
	ctx := context.Background()

	const burst = 4
	entered.Add(burst)
	var calls sync.WaitGroup
	for range burst {
		calls.Add(1)
		go func() {
			defer calls.Done()
			if err := c.Call(ctx, testService, "Hold", &wrapperspb.StringValue{}, &wrapperspb.StringValue{}); err != nil {
				t.Error(err)
			}
		}()
	}
	entered.Wait()
	close(release)
	calls.Wait()
	waitFor(t, func() bool { return pool.idle.Load() == burst })

	// One call at a time: the unbuffered hand-off rotates through the idle
	// goroutines, but one of them is enough.
	waitFor(t, func() bool {
		if err := c.Call(ctx, testService, "Echo", &wrapperspb.StringValue{}, &wrapperspb.StringValue{}); err != nil {
			t.Fatal(err)
		}
		return pool.idle.Load() <= 1
	})
	waitFor(t, func() bool { return pool.idle.Load() == 0 })
}
