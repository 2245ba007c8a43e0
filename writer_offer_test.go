package ttrpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// unixPair returns the two ends of a connected unix socket.
func unixPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	a, b := connPair(t, "unix")
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// offer on an idle socket writes in the caller's goroutine, with the
// non-blocking write (the background flusher never uses it), and leaves
// nothing for a flusher.
func TestFrameWriterOfferWritesAtOnce(t *testing.T) {
	a, b := unixPair(t)
	w := newFrameWriter(a, 1, 1<<20)
	try := tryWriter(a)
	if try == nil {
		if runtime.GOOS == "linux" {
			t.Fatal("no non-blocking writer for a unix socket")
		}
		t.Skip("no non-blocking writes on " + runtime.GOOS + ": offer is queue there")
	}
	var tried []int // written by offer in this goroutine only
	w.tryWriteMade = true
	w.tryWrite = func(p []byte) (int, error) {
		n, err := try(p)
		tried = append(tried, n)
		return n, err
	}
	frame := testFrame(1, []byte("hello"))
	if err := w.reserve(len(frame), time.Time{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.offer(frame, len(frame)); err != nil {
		t.Fatal(err)
	}
	if len(tried) != 1 || tried[0] != len(frame) {
		t.Fatalf("non-blocking writes by the sender: %v; want one of %d bytes", tried, len(frame))
	}
	w.mu.Lock()
	flushing, held, pending := w.flushing, w.held, len(w.pending)
	w.mu.Unlock()
	if flushing || held != 0 || pending != 0 {
		t.Fatalf("after an offer to an idle socket: flushing %v, held %d, pending %d; want false, 0, 0", flushing, held, pending)
	}
	got := make([]byte, len(frame))
	if _, err := io.ReadFull(b, got); err != nil || !bytes.Equal(got, frame) {
		t.Fatalf("read %x, %v; want %x", got, err, frame)
	}
}

// offer never waits on a peer that does not read: what the socket does
// not take goes to the background flusher, and every frame still arrives
// whole and in order once the peer reads.
func TestFrameWriterOfferNeverWaits(t *testing.T) {
	a, b := unixPair(t)
	w := newFrameWriter(a, 1, 64<<20)
	big := bytes.Repeat([]byte{7}, 1<<20) // more than a socket buffer
	var want bytes.Buffer
	for i := range 8 {
		frame := testFrame(uint32(2*i+1), big)
		want.Write(frame)
		if err := w.reserve(len(frame), time.Time{}, nil); err != nil {
			t.Fatal(err)
		}
		if err := w.offer(frame, len(frame)); err != nil {
			t.Fatal(err)
		}
		clear(frame) // the caller may reuse its buffer at once
	}
	got := make([]byte, want.Len())
	if _, err := io.ReadFull(b, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("frames arrived cut or out of order")
	}
	w.waitIdle(10 * time.Second)
	if n := w.outstanding(); n != 0 {
		t.Fatalf("writer holds %d bytes once everything was read", n)
	}
}

// A failed offer breaks the writer, as a failed write does.
func TestFrameWriterOfferFailure(t *testing.T) {
	a, b := unixPair(t)
	b.Close()
	w := newFrameWriter(a, 1, 1<<20)
	broke := make(chan error, 1)
	w.broken = func(err error) { broke <- err }
	frame := testFrame(1, []byte("x"))
	var err error
	for range 100 { // the first write may still succeed into the buffer
		if err = w.reserve(len(frame), time.Time{}, nil); err != nil {
			break
		}
		if err = w.offer(frame, len(frame)); err != nil {
			break
		}
		w.waitIdle(time.Second)
	}
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("offers to a closed peer: %v; want ErrClosed", err)
	}
	select {
	case <-broke:
	default:
		t.Fatal("the writer's failure was not reported")
	}
}

// On a transport that is not a socket, offer hands the frame to the
// background flusher: the sender still never waits on the peer.
func TestFrameWriterOfferOnAPipe(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w := newFrameWriter(a, 1, 1<<20)
	frame := testFrame(1, []byte("hello"))
	if err := w.reserve(len(frame), time.Time{}, nil); err != nil {
		t.Fatal(err)
	}
	// Nobody reads the pipe yet: a write in this goroutine would block.
	if err := w.offer(frame, len(frame)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(frame))
	if _, err := io.ReadFull(b, got); err != nil || !bytes.Equal(got, testFrame(1, []byte("hello"))) {
		t.Fatalf("read %x, %v", got, err)
	}
}

// Which stream messages go out with offer: those that answer one just
// received (a ping-pong, both ends), never unary calls, which write in the
// caller's goroutine anyway.
func TestStreamAnswersAreOffered(t *testing.T) {
	defer checkGoroutines(t)
	ts := newEchoServer(t)
	c := ts.dial(t)
	defer c.Close()
	serverConn := func() *conn {
		ts.srv.mu.Lock()
		defer ts.srv.mu.Unlock()
		for sc := range ts.srv.conns {
			return sc
		}
		return nil
	}
	var offersMu sync.Mutex
	offers := map[*frameWriter]int{}
	offerHook = func(w *frameWriter) {
		offersMu.Lock()
		offers[w]++
		offersMu.Unlock()
	}
	defer func() { offerHook = nil }()
	offered := func(w *frameWriter) int {
		offersMu.Lock()
		defer offersMu.Unlock()
		return offers[w]
	}
	ctx := context.Background()
	var out wrapperspb.BytesValue
	if err := c.Call(ctx, testService, "Echo", wrapperspb.Bytes([]byte("x")), &out); err != nil {
		t.Fatal(err)
	}
	if offered(c.conn.fw) != 0 || offered(serverConn().fw) != 0 {
		t.Fatal("a unary call went through offer")
	}
	s, err := c.NewStream(ctx, &StreamDesc{StreamingClient: true, StreamingServer: true}, testService, "Bidi", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.SendMsg(wrapperspb.String("ping")); err != nil {
			t.Fatal(err)
		}
		var v wrapperspb.StringValue
		if err := s.RecvMsg(&v); err != nil || v.Value != "echo:ping" {
			t.Fatalf("round %d: %q %v", i, v.Value, err)
		}
	}
	if offered(serverConn().fw) == 0 {
		t.Fatal("the handler's answers were not offered")
	}
	if offered(c.conn.fw) == 0 {
		t.Fatal("the caller's pings after a pong were not offered")
	}
	if err := s.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := s.RecvMsg(&wrapperspb.StringValue{}); err != io.EOF {
		t.Fatalf("end of stream: %v", err)
	}
}

// A write the socket takes at once arms no stall deadline: setting one
// reads the clock and re-arms the descriptor's timer on every frame.
func TestImmediateWritesArmNoDeadline(t *testing.T) {
	defer checkGoroutines(t)
	ts := newEchoServer(t)
	c := ts.dial(t)
	defer c.Close()
	for range 3 {
		var out wrapperspb.BytesValue
		if err := c.Call(context.Background(), testService, "Echo", wrapperspb.Bytes([]byte("x")), &out); err != nil {
			t.Fatal(err)
		}
	}
	c.conn.fw.mu.Lock()
	defer c.conn.fw.mu.Unlock()
	if !c.conn.fw.writeDeadline.IsZero() {
		t.Fatalf("a write deadline was set: %v", c.conn.fw.writeDeadline)
	}
}
