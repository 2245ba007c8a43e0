package ttrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

var (
	errEOF      = io.EOF
	errNotExist = os.ErrNotExist
)

func TestUnaryEchoSizes(t *testing.T) {
	checkGoroutines(t)
	ts := newEchoServer(t)
	c := ts.dial(t)
	for _, size := range []int{0, 1, 1 << 10, 1 << 20, defaultMaxMessageSize - 64} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			in := bytes.Repeat([]byte{0xab}, size)
			var out wrapperspb.BytesValue
			if err := c.Call(context.Background(), testService, "Echo", wrapperspb.Bytes(in), &out); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Value, in) {
				t.Fatalf("echo of %d bytes came back as %d bytes", size, len(out.Value))
			}
		})
	}
}

func TestConcurrentCalls(t *testing.T) {
	checkGoroutines(t)
	ts := newEchoServer(t)
	c := ts.dial(t)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := fmt.Sprintf("call-%d", i)
			var out wrapperspb.BytesValue
			if err := c.Call(context.Background(), testService, "Echo", wrapperspb.Bytes([]byte(want)), &out); err != nil {
				errs <- err
				return
			}
			if string(out.Value) != want {
				errs <- fmt.Errorf("got %q, want %q", out.Value, want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestUnknownServiceAndMethod(t *testing.T) {
	checkGoroutines(t)
	c := newEchoServer(t).dial(t)
	for _, tc := range []struct{ service, method, msg string }{
		{"no.such.Service", "Echo", "service no.such.Service"},
		{testService, "Nope", "method Nope"},
	} {
		err := c.Call(context.Background(), tc.service, tc.method, &emptypb.Empty{}, &emptypb.Empty{})
		st, _ := status.FromError(err)
		if st.Code() != codes.Unimplemented || st.Message() != tc.msg {
			t.Errorf("%s/%s: got %v, want Unimplemented %q", tc.service, tc.method, err, tc.msg)
		}
	}
}

func TestErrorCodesCrossTheWire(t *testing.T) {
	checkGoroutines(t)
	srv, _ := NewServer()
	srv.Register("codes", map[string]Method{
		"Fail": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			var v wrapperspb.UInt32Value
			if err := unmarshal(&v); err != nil {
				return nil, err
			}
			return nil, status.Errorf(codes.Code(v.Value), "failed with %d", v.Value)
		},
	})
	c := startServer(t, srv).dial(t)
	for code := codes.Canceled; code <= codes.Unauthenticated; code++ {
		err := c.Call(context.Background(), "codes", "Fail", wrapperspb.UInt32(uint32(code)), &emptypb.Empty{})
		if got := status.Code(err); got != code {
			t.Errorf("code %v: got %v (%v)", code, got, err)
		}
		if st, _ := status.FromError(err); st.Message() != fmt.Sprintf("failed with %d", code) {
			t.Errorf("code %v: message %q", code, st.Message())
		}
	}
}

func TestPlainErrorMapping(t *testing.T) {
	checkGoroutines(t)
	errs := map[string]error{
		"deadline": context.DeadlineExceeded,
		"notexist": fmt.Errorf("open: %w", errNotExist),
		"plain":    errors.New("boom"),
	}
	srv, _ := NewServer()
	methods := map[string]Method{}
	for name, e := range errs {
		methods[name] = func(context.Context, func(any) error) (any, error) { return nil, e }
	}
	srv.Register("plain", methods)
	c := startServer(t, srv).dial(t)
	want := map[string]codes.Code{"deadline": codes.DeadlineExceeded, "notexist": codes.NotFound, "plain": codes.Unknown}
	for name, code := range want {
		err := c.Call(context.Background(), "plain", name, &emptypb.Empty{}, &emptypb.Empty{})
		if status.Code(err) != code {
			t.Errorf("%s: got %v, want %v", name, err, code)
		}
	}
}

func TestMetadataAndDeadline(t *testing.T) {
	checkGoroutines(t)
	c := newEchoServer(t).dial(t)
	md := MD{}
	md.Set("Foo", "a", "b")
	md.Set("bar", "c")
	ctx := WithMetadata(context.Background(), md)
	var out wrapperspb.StringValue
	if err := c.Call(ctx, testService, "Metadata", &emptypb.Empty{}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Value != "bar=c;foo=a,b" {
		t.Errorf("handler saw metadata %q", out.Value)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	var left wrapperspb.Int64Value
	if err := c.Call(ctx, testService, "Deadline", &emptypb.Empty{}, &left); err != nil {
		t.Fatal(err)
	}
	if d := time.Duration(left.Value); d < 59*time.Minute || d > time.Hour {
		t.Errorf("handler deadline %v ahead, want about an hour", d)
	}
}

func TestCallerDeadlineEndsWait(t *testing.T) {
	checkGoroutines(t)
	c := newEchoServer(t).dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.Call(ctx, testService, "Block", &emptypb.Empty{}, &emptypb.Empty{})
	// The handler shares the deadline, so its DeadlineExceeded status may
	// win the race against the caller's own timer.
	if !errors.Is(err, context.DeadlineExceeded) && status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("got %v, want DeadlineExceeded", err)
	}
	// The connection still works afterwards.
	if err := c.Call(context.Background(), testService, "Echo", &wrapperspb.BytesValue{}, &wrapperspb.BytesValue{}); err != nil {
		t.Fatal(err)
	}
}

func TestHandlerPanicBecomesInternal(t *testing.T) {
	checkGoroutines(t)
	c := newEchoServer(t).dial(t)
	err := c.Call(context.Background(), testService, "Panic", &emptypb.Empty{}, &emptypb.Empty{})
	if status.Code(err) != codes.Internal {
		t.Fatalf("got %v, want Internal", err)
	}
	if err := c.Call(context.Background(), testService, "Echo", &wrapperspb.BytesValue{}, &wrapperspb.BytesValue{}); err != nil {
		t.Fatalf("connection did not survive the panic: %v", err)
	}
}

func TestNilResponse(t *testing.T) {
	checkGoroutines(t)
	c := newEchoServer(t).dial(t)
	err := c.Call(context.Background(), testService, "Nil", &emptypb.Empty{}, &emptypb.Empty{})
	if status.Code(err) != codes.Unknown {
		t.Fatalf("got %v, want Unknown", err)
	}
}

func TestOversizedRequestFailsLocally(t *testing.T) {
	checkGoroutines(t)
	c := newEchoServer(t).dial(t)
	err := c.Call(context.Background(), testService, "Echo", wrapperspb.Bytes(make([]byte, defaultMaxMessageSize+1)), &wrapperspb.BytesValue{})
	var oe *OversizedMessageErr
	if !errors.As(err, &oe) || status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("got %v, want *OversizedMessageErr with ResourceExhausted", err)
	}
	if oe.MaximumLength() != defaultMaxMessageSize || oe.RejectedLength() <= defaultMaxMessageSize {
		t.Errorf("lengths %d/%d", oe.RejectedLength(), oe.MaximumLength())
	}
	c.conn.mu.Lock()
	left := len(c.conn.calls)
	c.conn.mu.Unlock()
	if left != 0 {
		t.Errorf("%d streams left in the table after a refused call (containerd/ttrpc leaks one)", left)
	}
	if err := c.Call(context.Background(), testService, "Echo", &wrapperspb.BytesValue{}, &wrapperspb.BytesValue{}); err != nil {
		t.Fatal(err)
	}
}

// containerd/ttrpc kills the connection when a handler's result is too
// large; here the caller gets ResourceExhausted and the connection lives.
func TestOversizedResponseKeepsConnection(t *testing.T) {
	checkGoroutines(t)
	srv, _ := NewServer()
	srv.Register("big", map[string]Method{
		"Big": func(context.Context, func(any) error) (any, error) {
			return wrapperspb.Bytes(make([]byte, defaultMaxMessageSize)), nil
		},
	})
	srv.RegisterService(testService, echoService())
	c := startServer(t, srv).dial(t)
	err := c.Call(context.Background(), "big", "Big", &emptypb.Empty{}, &wrapperspb.BytesValue{})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("got %v, want ResourceExhausted", err)
	}
	if err := c.Call(context.Background(), testService, "Echo", &wrapperspb.BytesValue{}, &wrapperspb.BytesValue{}); err != nil {
		t.Fatal(err)
	}
}

// A server with a larger limit sends a result a default client refuses:
// the client discards the frame, fails that call with ResourceExhausted
// and keeps the connection. A client whose limit matches gets the result.
func TestOversizedReceiveOnClient(t *testing.T) {
	checkGoroutines(t)
	srv, err := NewServer(WithServerWireMessageLimit(8 << 20))
	if err != nil {
		t.Fatal(err)
	}
	srv.Register("big", map[string]Method{
		"Big": func(context.Context, func(any) error) (any, error) {
			return wrapperspb.Bytes(make([]byte, 5<<20)), nil
		},
	})
	srv.RegisterService(testService, echoService())
	ts := startServer(t, srv)
	small := ts.dial(t)
	err = small.Call(context.Background(), "big", "Big", &emptypb.Empty{}, &wrapperspb.BytesValue{})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("oversized result: %v, want ResourceExhausted", err)
	}
	if err := small.Call(context.Background(), testService, "Echo", wrapperspb.Bytes([]byte("x")), &wrapperspb.BytesValue{}); err != nil {
		t.Fatalf("connection did not survive the oversized result: %v", err)
	}
	big := ts.dial(t, WithClientWireMessageLimit(8<<20))
	var out wrapperspb.BytesValue
	if err := big.Call(context.Background(), "big", "Big", &emptypb.Empty{}, &out); err != nil || len(out.Value) != 5<<20 {
		t.Fatalf("large result with a raised limit: %v, %d bytes", err, len(out.Value))
	}
}

func TestCallAfterClose(t *testing.T) {
	checkGoroutines(t)
	c := newEchoServer(t).dial(t)
	c.Close()
	err := c.Call(context.Background(), testService, "Echo", &wrapperspb.BytesValue{}, &wrapperspb.BytesValue{})
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v, want ErrClosed", err)
	}
	if _, err := c.NewStream(context.Background(), &StreamDesc{StreamingServer: true}, testService, "Count", wrapperspb.Int32(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("NewStream after close: %v", err)
	}
}

func TestCloseFailsPendingCalls(t *testing.T) {
	checkGoroutines(t)
	c := newEchoServer(t).dial(t)
	errc := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		errc <- c.Call(context.Background(), testService, "Block", &emptypb.Empty{}, &emptypb.Empty{})
	}()
	<-started
	waitFor(t, func() bool { c.conn.mu.Lock(); defer c.conn.mu.Unlock(); return len(c.conn.calls) == 1 })
	c.Close()
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Fatalf("pending call: %v, want ErrClosed", err)
	}
}

func TestOnCloseAndUserOnCloseWait(t *testing.T) {
	checkGoroutines(t)
	ts := newEchoServer(t)
	release := make(chan struct{})
	ran := make(chan struct{})
	c := ts.dial(t, WithOnClose(func() { close(ran); <-release }))
	c.Close()
	<-ran
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := c.UserOnCloseWait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("while the callback blocks: %v", err)
	}
	close(release)
	if err := c.UserOnCloseWait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in time")
		}
		time.Sleep(time.Millisecond) // polling state, not synchronising
	}
}
