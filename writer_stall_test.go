package ttrpc

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// stallPeer sends one Echo request for payloadSize bytes on a raw
// connection and returns the connection without reading anything.
func stallPeer(t *testing.T, ts *testServer, payloadSize int) net.Conn {
	t.Helper()
	nc, err := net.Dial("unix", ts.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	payload, _ := appendMessage(nil, wrapperspb.Bytes(make([]byte, payloadSize)))
	frame, err := appendRequestFrame(nil, &Request{Service: testService, Method: "Echo", Payload: payload}, 0, defaultMaxMessageSize)
	if err != nil {
		t.Fatal(err)
	}
	binaryPutStreamID(frame, 1)
	if _, err := nc.Write(frame); err != nil {
		t.Fatal(err)
	}
	return nc
}

// A peer that stops reading is disconnected once a write to it has made no
// progress for the stall timeout; the server releases what it held.
func TestWriteStallClosesConnection(t *testing.T) {
	checkGoroutines(t)
	ts := newEchoServer(t, WithServerWriteStallTimeout(100*time.Millisecond))
	nc := stallPeer(t, ts, 3<<20) // far more than the socket buffers hold
	waitFor(t, func() bool { ts.srv.mu.Lock(); defer ts.srv.mu.Unlock(); return len(ts.srv.conns) == 0 })
	// The peer finds its connection closed once it drains what was sent.
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, nc); err != nil {
		t.Fatalf("reading the closed connection: %v", err)
	}
	// Other clients are served throughout.
	c := ts.dial(t)
	if err := c.Call(context.Background(), testService, "Echo", &wrapperspb.BytesValue{}, &wrapperspb.BytesValue{}); err != nil {
		t.Fatal(err)
	}
}

// A peer that reads slowly but steadily is not taken for a stalled one.
func TestSlowReaderIsNotStalled(t *testing.T) {
	checkGoroutines(t)
	ts := newEchoServer(t, WithServerWriteStallTimeout(200*time.Millisecond))
	const size = 3 << 20
	nc := stallPeer(t, ts, size)
	fr := newFrameReader(slowReader{r: nc, chunk: 256 << 10, pause: 50 * time.Millisecond}, defaultMaxMessageSize)
	nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	h, body, err := fr.next()
	if err != nil || h.typ != frameResponse || h.streamID != 1 {
		t.Fatalf("slow reader got %+v %v", h, err)
	}
	var rv responseView
	if err := decodeResponse(*body, &rv); err != nil || rv.status != nil {
		t.Fatalf("response: %v %v", rv.status, err)
	}
	var out wrapperspb.BytesValue
	if err := unmarshalMessage(rv.payload, &out); err != nil || len(out.Value) != size {
		t.Fatalf("echo of %d bytes: %v", len(out.Value), err)
	}
}

// slowReader reads at most chunk bytes per pause.
type slowReader struct {
	r     io.Reader
	chunk int
	pause time.Duration
}

func (s slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.pause) // the point of the test: a slow peer, not synchronisation
	return s.r.Read(p[:min(len(p), s.chunk)])
}
