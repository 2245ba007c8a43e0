package ttrpc

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// unixPair returns the two ends of a connected unix socket.
func unixPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	a, b := connPair(t, "unix")
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// offer on an idle socket writes in the caller's goroutine: nothing is
// left for a flusher.
func TestFrameWriterOfferWritesAtOnce(t *testing.T) {
	a, b := unixPair(t)
	w := newFrameWriter(a, 1, 1<<20)
	if tryWriter(a) == nil {
		if runtime.GOOS == "linux" {
			t.Fatal("no non-blocking writer for a unix socket")
		}
		t.Skip("no non-blocking writes on " + runtime.GOOS + ": offer is queue there")
	}
	frame := testFrame(1, []byte("hello"))
	if err := w.reserve(len(frame), time.Time{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.offer(frame, len(frame)); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	flushing, held := w.flushing, w.held
	w.mu.Unlock()
	if flushing || held != 0 {
		t.Fatalf("after an offer to an idle socket: flushing %v, held %d; want false, 0", flushing, held)
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
