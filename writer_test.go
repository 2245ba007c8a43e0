package ttrpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

func testFrame(id uint32, body []byte) []byte {
	b, start := beginFrame(nil)
	b = append(b, body...)
	return finishFrame(b, start, id, frameData, 0)
}

// Frames written concurrently arrive whole and each stream's frames in
// order, however the writes were batched.
func TestFrameWriterConcurrentFramesStayWhole(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	w := newFrameWriter(client, 1, 1<<20)
	const writers, perWriter = 8, 200
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				body := bytes.Repeat([]byte{byte(g)}, 1+i%300)
				var err error
				if i%2 == 0 {
					err = w.write(testFrame(uint32(g), body), 0, time.Time{}, nil)
				} else {
					err = w.queue(testFrame(uint32(g), body), 0)
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	fr := newFrameReader(server, defaultMaxMessageSize)
	next := make([]int, writers)
	for range writers * perWriter {
		h, body, err := fr.next()
		if err != nil {
			t.Fatal(err)
		}
		g := int(h.streamID)
		want := bytes.Repeat([]byte{byte(g)}, 1+next[g]%300)
		if !bytes.Equal(*body, want) {
			t.Fatalf("writer %d frame %d: got %d bytes", g, next[g], len(*body))
		}
		next[g]++
		putBuffer(body)
	}
	wg.Wait()
}

// A frame that could not begin before the deadline is dropped; the
// connection is still in sync for the next one.
func TestFrameWriterDeadlineDropsUnbegunFrame(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	w := newFrameWriter(client, 1, 1<<20)
	err := w.write(testFrame(1, []byte("lost")), 0, time.Now().Add(20*time.Millisecond), nil)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want ErrDeadlineExceeded", err)
	}
	go func() { _ = w.write(testFrame(3, []byte("next")), 0, time.Time{}, nil) }()
	h, body, err := newFrameReader(server, defaultMaxMessageSize).next()
	if err != nil || h.streamID != 3 || string(*body) != "next" {
		t.Fatalf("got %+v %v", h, err)
	}
}

// A frame cut by the deadline half-way is completed in the background, so
// the peer never sees half a frame.
func TestFrameWriterDeadlineCompletesBegunFrame(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	w := newFrameWriter(client, 1, 1<<20)
	frame := testFrame(5, bytes.Repeat([]byte("x"), 1000))
	done := make(chan error, 1)
	go func() { done <- w.write(frame, 0, time.Now().Add(50*time.Millisecond), nil) }()
	head := make([]byte, 4) // the peer reads a little, then stalls
	if _, err := io.ReadFull(server, head); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want ErrDeadlineExceeded", err)
	}
	rest := make([]byte, len(frame)-4)
	if _, err := io.ReadFull(server, rest); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(head, rest...), frame) {
		t.Fatal("the frame arrived damaged")
	}
}

type failingConn struct {
	net.Conn
	err error
}

func (f failingConn) Write([]byte) (int, error) { return 0, f.err }

// A background flush that fails reports the broken connection, and later
// writes fail instead of queueing forever.
func TestFrameWriterBackgroundFailureIsReported(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w := newFrameWriter(failingConn{Conn: a, err: io.ErrClosedPipe}, 1, 1<<20)
	broken := make(chan error, 1)
	w.broken = func(err error) { broken <- err }
	if err := w.queue(testFrame(1, []byte("x")), 0); err != nil {
		t.Fatal(err)
	}
	if err := <-broken; !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("broken with %v", err)
	}
	if err := w.write(testFrame(3, nil), 0, time.Time{}, nil); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("write after failure: %v", err)
	}
}

// binaryPutStreamID sets the stream id of a complete frame.
func binaryPutStreamID(frame []byte, id uint32) {
	binary.BigEndian.PutUint32(frame[4:8], id)
}
