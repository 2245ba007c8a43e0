package ttrpc

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// TestStalledReaderBoundedByDeadline opens a stream that floods a peer
// which never reads: the handler's sends give up at the caller's deadline,
// the server holds a bounded amount for that peer, and other connections
// are served throughout.
func TestStalledReaderBoundedByDeadline(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t)
	relCheckServing(t, rs.testServer)
	before := relHeapInuse()
	raw := relDial(t, rs.path)
	const timeout = 300 * time.Millisecond
	start := time.Now()
	raw.write(relRequest(1, flagRemoteClosed, &Request{Service: relService, Method: "Flood", TimeoutNano: int64(timeout)}))
	relCheckServing(t, rs.testServer)
	err := <-rs.floodErr
	if !errors.Is(err, context.DeadlineExceeded) && status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("send to a stalled peer failed with %v, want its deadline", err)
	}
	if took := time.Since(start); took < timeout {
		t.Fatalf("send gave up after %v, before the deadline", took)
	}
	relCheckHeap(t, before, 4<<20, "a stalled peer")
	relCheckServing(t, rs.testServer)
	raw.nc.Close()
	relEventually(t, "the server to forget the stalled connection", func() bool { n, _ := relServed(rs.srv); return n == 0 })
}

// TestStalledReaderManyCalls has a peer that never reads ask for 64 large
// answers with a deadline: the handlers give up at the deadline instead of
// pinning the answers, so the peer costs a bounded amount.
func TestStalledReaderManyCalls(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t)
	relCheckServing(t, rs.testServer)
	before := relHeapInuse()
	raw := relDial(t, rs.path)
	const calls = 64
	var frames []byte
	for i := range calls {
		frames = append(frames, relRequest(uint32(2*i+1), 0, &Request{
			Service: relService, Method: "Big", Payload: relMarshal(wrapperspb.Int64(256 << 10)),
			TimeoutNano: int64(300 * time.Millisecond),
		})...)
	}
	raw.write(frames)
	relCheckServing(t, rs.testServer)
	relEventually(t, "the handlers to give up on the stalled peer", func() bool { _, n := relServed(rs.srv); return n == 0 })
	relCheckHeap(t, before, 4<<20, "64 large answers to a stalled peer")
	raw.nc.Close()
	relEventually(t, "the server to forget the stalled connection", func() bool { n, _ := relServed(rs.srv); return n == 0 })
}

// relQueued returns how many bytes the server has queued for its one
// connection.
func relQueued(srv *Server) int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	n := 0
	for c := range srv.conns {
		n += int(c.fw.outstanding())
	}
	return n
}

// TestNoAnswerDroppedSilently has a peer stop reading until the server's
// write queue is full, then open calls the server refuses itself
// (Unimplemented): when the peer reads again, every call must have its
// answer. An answer the server drops instead leaves the caller waiting
// forever (the protocol has no other way to end a call); a server that
// cannot queue more answers must close the connection instead.
func TestNoAnswerDroppedSilently(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t)
	raw := relDial(t, rs.path)
	raw.write(relRequest(1, flagRemoteClosed, &Request{Service: relService, Method: "Flood"}))
	relEventually(t, "the write queue to fill", func() bool { return relQueued(rs.srv) > (1<<20)-(128<<10) })
	const calls = 20000
	var frames []byte
	for i := range calls {
		frames = append(frames, relRequest(uint32(3+2*i), 0, &Request{Service: relService, Method: "Nope"})...)
	}
	raw.write(frames)
	relCheckServing(t, rs.testServer)
	answered := 0
	for read := 0; answered < calls && read < 64<<20; {
		_ = raw.nc.SetReadDeadline(time.Now().Add(relIOTimeout))
		h, body, err := raw.fr.next()
		if err != nil {
			// Closing the connection is an answer too: every call ends.
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				t.Logf("the server closed the connection after %d answers", answered)
				return
			}
			t.Fatal(err)
		}
		putBuffer(body)
		read += int(h.length) + frameHeaderLength
		if h.typ == frameResponse && h.streamID != 1 {
			answered++
		}
	}
	if answered < calls {
		t.Fatalf("%d of %d calls answered, the others dropped without closing the connection", answered, calls)
	}
}

// TestUnreadClientStreamBounded floods a client-streaming call whose
// handler does not read: the server queues a bounded number of messages for
// it (then fails the stream with ErrStreamFull and drops the rest), keeps
// reading the connection, and serves others.
func TestUnreadClientStreamBounded(t *testing.T) {
	checkGoroutines(t)
	const limit = 64 << 10
	failed := make(chan error, 1)
	srv, err := NewServer(WithServerWireMessageLimit(limit))
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService(testService, echoService())
	srv.RegisterService(relService, &ServiceDesc{Streams: map[string]Stream{
		"Ignore": {Handler: func(ctx context.Context, ss StreamServer) (any, error) {
			<-ctx.Done()
			var v wrapperspb.BytesValue
			for {
				if err := ss.RecvMsg(&v); err != nil {
					failed <- err
					return nil, err
				}
			}
		}, StreamingClient: true},
	}})
	ts := startServer(t, srv)
	relCheckServing(t, ts)
	before := relHeapInuse()
	raw := relDial(t, ts.path)
	raw.write(relRequest(1, flagRemoteOpen, &Request{Service: relService, Method: "Ignore", TimeoutNano: int64(relIOTimeout)}))
	msg := relFrame(1, frameData, 0, relMarshal(wrapperspb.Bytes(make([]byte, limit-16))))
	for range 4 * streamRecvLimit {
		raw.write(msg)
	}
	relCheckServing(t, ts)
	// Queued: at most streamRecvLimit messages, in pooled buffers of up to
	// twice their size; unbounded would be four times that.
	relCheckHeap(t, before, 2*streamRecvLimit*limit+4<<20, "messages for a handler that does not read")
	raw.write(relFrame(3, frameCancel, 0, nil), relFrame(1, frameCancel, 0, nil))
	if err := <-failed; !errors.Is(err, ErrStreamFull) && !errors.Is(err, context.Canceled) {
		t.Fatalf("the handler's RecvMsg returned %v", err)
	}
}

// TestClientWritesHonourDeadline has a client write to a server that
// accepted the connection but never reads: calls and stream sends give up
// at the caller's deadline instead of hanging, and Close ends the rest.
func TestClientWritesHonourDeadline(t *testing.T) {
	checkGoroutines(t)
	l, err := net.Listen("unix", socketPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := l.Accept()
		if err == nil {
			accepted <- nc
		}
	}()
	nc, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(nc)
	defer c.Close()
	peer := <-accepted
	defer peer.Close()

	big := wrapperspb.Bytes(make([]byte, 1<<20))
	const timeout = 200 * time.Millisecond
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s, err := c.NewStream(ctx, &StreamDesc{StreamingClient: true}, testService, "Sum", nil)
	if err == nil {
		for err == nil && time.Since(start) < relIOTimeout {
			err = s.SendMsg(big)
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("sending to a server that does not read: %v, want the deadline", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), timeout)
	defer cancel2()
	if err := c.Call(ctx2, testService, "Echo", big, &wrapperspb.BytesValue{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call to a server that does not read: %v, want the deadline", err)
	}
	if took := time.Since(start); took > relIOTimeout {
		t.Fatalf("gave up after %v", took)
	}
	c.Close()
	if err := c.Call(context.Background(), testService, "Echo", big, &wrapperspb.BytesValue{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("call after Close: %v, want ErrClosed", err)
	}
}
