package ttrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// A randomised protocol test, after drpc's: many clients interleave unary
// calls, streams of every kind, cancellations, deadlines, failing calls and
// client closes against one server. Every operation must end with its
// exact result or an error it is allowed to get; afterwards no stream entry
// is left on either side and no goroutine survives. The seed is logged;
// TTRPC_RANDOM_SEED=n replays one.

// relSlot is a client shared by several workers; any of them may close it
// and dial a replacement.
type relSlot struct {
	ts *testServer

	mu     sync.Mutex
	client *Client
	gen    int // incremented when client is replaced
}

func (s *relSlot) get() (*Client, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.client, s.gen
}

// replace closes the client of generation gen (if still current) and dials
// a new one.
func (s *relSlot) replace(gen int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != gen {
		return nil
	}
	s.client.Close()
	nc, err := net.Dial("unix", s.ts.path)
	if err != nil {
		return err
	}
	s.client = NewClient(nc)
	s.gen++
	return nil
}

// closedBy reports whether err is the connection closing because a worker
// replaced the client of generation gen: the one failure any operation may
// meet.
func (s *relSlot) closedBy(gen int, err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Is(err, ErrClosed) && s.gen != gen
}

type relOp func(ctx context.Context, rng *rand.Rand, c *Client) error

// relOps are the operations; each returns nil when the result was right
// (or an allowed error, such as its own cancellation), else what was wrong.
var relOps = []struct {
	name   string
	weight int
	run    relOp
}{
	{"unary echo", 30, func(ctx context.Context, rng *rand.Rand, c *Client) error {
		want := relRandomBytes(rng, rng.IntN(8<<10))
		var got wrapperspb.BytesValue
		if err := c.Call(ctx, testService, "Echo", wrapperspb.Bytes(want), &got); err != nil {
			return err
		}
		if !bytes.Equal(got.Value, want) {
			return fmt.Errorf("echo of %d bytes answered with %d other bytes", len(want), len(got.Value))
		}
		return nil
	}},
	{"pipelined burst past the budget", 1, func(ctx context.Context, rng *rand.Rand, c *Client) error {
		// 32 calls of 256 KiB at once: twice the server's budget in this
		// test, so its reader must stop and resume; every call gets its
		// own answer.
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for i := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				want := bytes.Repeat([]byte{byte(i)}, 256<<10)
				var got wrapperspb.BytesValue
				if err := c.Call(ctx, testService, "Echo", wrapperspb.Bytes(want), &got); err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(got.Value, want) {
					errs <- fmt.Errorf("burst call %d answered with other bytes", i)
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs
	}},
	{"flood not read", 2, func(ctx context.Context, rng *rand.Rand, c *Client) error {
		// A stream whose receiver stops reading after a few messages
		// while the server keeps sending, then gives up at its deadline.
		ctx, cancel := context.WithTimeout(ctx, time.Duration(5+rng.IntN(20))*time.Millisecond)
		defer cancel()
		s, err := c.NewStream(ctx, &StreamDesc{StreamingServer: true}, relService, "Flood", &emptypb.Empty{})
		if err != nil {
			return relAbandonedErr(err)
		}
		for range rng.IntN(4) {
			if err := s.RecvMsg(&wrapperspb.BytesValue{}); err != nil {
				return relAbandonedErr(err)
			}
		}
		<-ctx.Done()
		if err := s.RecvMsg(&wrapperspb.BytesValue{}); err == nil {
			for {
				if err := s.RecvMsg(&wrapperspb.BytesValue{}); err != nil {
					return relAbandonedErr(err)
				}
			}
		} else {
			return relAbandonedErr(err)
		}
	}},
	{"unary cancelled", 10, func(ctx context.Context, rng *rand.Rand, c *Client) error {
		ctx, cancel := context.WithCancel(ctx)
		if rng.IntN(4) == 0 {
			cancel()
		} else {
			yields := rng.IntN(20)
			go func() {
				for range yields {
					runtime.Gosched()
				}
				cancel()
			}()
		}
		defer cancel()
		want := relRandomBytes(rng, rng.IntN(256))
		var got wrapperspb.BytesValue
		err := c.Call(ctx, testService, "Echo", wrapperspb.Bytes(want), &got)
		if errors.Is(err, context.Canceled) {
			return nil
		}
		if err != nil {
			return err
		}
		if !bytes.Equal(got.Value, want) {
			return errors.New("cancelled echo answered with other bytes")
		}
		return nil
	}},
	{"unary deadline", 8, func(ctx context.Context, rng *rand.Rand, c *Client) error {
		ctx, cancel := context.WithTimeout(ctx, time.Duration(1+rng.IntN(20))*time.Millisecond)
		defer cancel()
		err := c.Call(ctx, testService, "Block", &emptypb.Empty{}, &emptypb.Empty{})
		if errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded {
			return nil
		}
		return fmt.Errorf("blocking call with a deadline: %w", err)
	}},
	{"unary failure", 5, func(ctx context.Context, rng *rand.Rand, c *Client) error {
		method, code := "Nope", codes.Unimplemented
		if rng.IntN(2) == 0 {
			method, code = "Panic", codes.Internal
		}
		err := c.Call(ctx, testService, method, &emptypb.Empty{}, &emptypb.Empty{})
		if status.Code(err) == code {
			return nil
		}
		return fmt.Errorf("%s: %w, want %v", method, err, code)
	}},
	{"server stream", 10, func(ctx context.Context, rng *rand.Rand, c *Client) error {
		n := int32(rng.IntN(40))
		s, err := c.NewStream(ctx, &StreamDesc{StreamingServer: true}, testService, "Count", wrapperspb.Int32(n))
		if err != nil {
			return err
		}
		for i := int32(0); ; i++ {
			var v wrapperspb.Int32Value
			err := s.RecvMsg(&v)
			if err == io.EOF && i == n {
				return nil
			}
			if err != nil {
				return err
			}
			if v.Value != i || i >= n {
				return fmt.Errorf("message %d of %d was %d", i, n, v.Value)
			}
		}
	}},
	{"client stream", 10, func(ctx context.Context, rng *rand.Rand, c *Client) error {
		s, err := c.NewStream(ctx, &StreamDesc{StreamingClient: true}, testService, "Sum", nil)
		if err != nil {
			return err
		}
		var want int32
		for range rng.IntN(40) {
			v := rng.Int32N(1000)
			want += v
			if err := s.SendMsg(wrapperspb.Int32(v)); err != nil {
				return err
			}
		}
		if err := s.CloseSend(); err != nil {
			return err
		}
		var got wrapperspb.Int32Value
		if err := s.RecvMsg(&got); err != nil {
			return err
		}
		if got.Value != want {
			return fmt.Errorf("sum %d, want %d", got.Value, want)
		}
		if err := s.RecvMsg(&got); err != io.EOF {
			return fmt.Errorf("after the result: %w, want io.EOF", err)
		}
		return nil
	}},
	{"bidi stream", 10, func(ctx context.Context, rng *rand.Rand, c *Client) error {
		s, err := c.NewStream(ctx, &StreamDesc{StreamingClient: true, StreamingServer: true}, testService, "Bidi", nil)
		if err != nil {
			return err
		}
		for i := range rng.IntN(20) {
			want := strconv.Itoa(i)
			if err := s.SendMsg(wrapperspb.String(want)); err != nil {
				return err
			}
			var got wrapperspb.StringValue
			if err := s.RecvMsg(&got); err != nil {
				return err
			}
			if got.Value != "echo:"+want {
				return fmt.Errorf("bidi answer %q to %q", got.Value, want)
			}
		}
		if err := s.CloseSend(); err != nil {
			return err
		}
		var got wrapperspb.StringValue
		if err := s.RecvMsg(&got); err != io.EOF {
			return fmt.Errorf("after CloseSend: %w, want io.EOF", err)
		}
		return nil
	}},
	{"stream abandoned", 8, func(ctx context.Context, rng *rand.Rand, c *Client) error {
		// The deadline travels to the handler, which is how the server
		// learns that an abandoned stream is over (there is no cancel
		// frame).
		ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		s, err := c.NewStream(ctx, &StreamDesc{StreamingClient: true, StreamingServer: true}, testService, "Bidi", nil)
		if err != nil {
			return relAbandonedErr(err)
		}
		for range rng.IntN(5) {
			if err := s.SendMsg(wrapperspb.String("x")); err != nil {
				return relAbandonedErr(err)
			}
			var got wrapperspb.StringValue
			if err := s.RecvMsg(&got); err != nil {
				return relAbandonedErr(err)
			}
		}
		cancel()
		var got wrapperspb.StringValue
		if err := s.RecvMsg(&got); !errors.Is(err, context.Canceled) && relAbandonedErr(err) != nil {
			return fmt.Errorf("RecvMsg after cancel: %w", err)
		}
		return nil
	}},
}

// relAbandonedErr accepts the errors of a stream whose deadline passed.
func relAbandonedErr(err error) error {
	if err == nil || errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded {
		return nil
	}
	return err
}

func relRandomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func relPickOp(rng *rand.Rand) int {
	total := 0
	for _, op := range relOps {
		total += op.weight
	}
	n := rng.IntN(total)
	for i, op := range relOps {
		if n < op.weight {
			return i
		}
		n -= op.weight
	}
	panic("unreachable")
}

func TestRandomizedProtocol(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("TTRPC_RANDOM_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("TTRPC_RANDOM_SEED: %v", err)
		}
	}
	t.Logf("seed %d (replay with TTRPC_RANDOM_SEED=%d)", seed, seed)
	checkGoroutines(t)
	rs := newRelServer(t, WithServerMaxConcurrentStreams(0), WithServerConnectionBudget(1)) // the smallest budget

	const slots, workersPerSlot, opsPerWorker = 8, 4, 120
	// About one client close per 150 operations.
	const closeWeight = 1
	all := make([]*relSlot, slots)
	for i := range all {
		all[i] = &relSlot{ts: rs.testServer, client: rs.dial(t)}
	}
	counts := make([][]int, slots*workersPerSlot)
	var wg sync.WaitGroup
	failures := make(chan error, slots*workersPerSlot*opsPerWorker)
	for w := range slots * workersPerSlot {
		counts[w] = make([]int, len(relOps)+1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			slot := all[w%slots]
			for i := range opsPerWorker {
				c, gen := slot.get()
				if rng.IntN(150) < closeWeight {
					counts[w][len(relOps)]++
					if err := slot.replace(gen); err != nil {
						failures <- fmt.Errorf("worker %d: redialling: %w", w, err)
						return
					}
					continue
				}
				k := relPickOp(rng)
				counts[w][k]++
				err := relOps[k].run(context.Background(), rng, c)
				if err != nil && !slot.closedBy(gen, err) {
					failures <- fmt.Errorf("worker %d, operation %d (%s): %w", w, i, relOps[k].name, err)
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	timer := time.NewTimer(60 * time.Second)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		buf := make([]byte, 1<<20)
		t.Fatalf("operations still running after a minute: seed %d\n%s", seed, buf[:runtime.Stack(buf, true)])
	}
	close(failures)
	for err := range failures {
		t.Error(err)
	}
	total := make([]int, len(relOps)+1)
	for _, c := range counts {
		for i, n := range c {
			total[i] += n
		}
	}
	summary := ""
	for i, op := range relOps {
		summary += fmt.Sprintf("%s %d, ", op.name, total[i])
	}
	t.Logf("%sclient closes %d", summary, total[len(relOps)])

	// Nothing may be left: no call entry on a client, and (once deadlines
	// of abandoned streams passed) no stream entry on the server.
	for i, s := range all {
		c, _ := s.get()
		c.conn.mu.Lock()
		n := len(c.conn.calls)
		c.conn.mu.Unlock()
		if n != 0 {
			t.Errorf("client %d still has %d call entries", i, n)
		}
	}
	relEventually(t, "the server's stream entries to go", func() bool { _, n := relServed(rs.srv); return n == 0 })
	relEventually(t, "the connections' budgets to be released", func() bool {
		rs.srv.mu.Lock()
		defer rs.srv.mu.Unlock()
		for sc := range rs.srv.conns {
			if sc.budget.heldBytes() != 0 {
				return false
			}
		}
		return true
	})
	for _, s := range all {
		c, _ := s.get()
		c.Close()
	}
	relEventually(t, "the server's connections to go", func() bool { n, _ := relServed(rs.srv); return n == 0 })
}
