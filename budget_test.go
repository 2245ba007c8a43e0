package ttrpc

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// Backpressure (PROTOCOL.md, "Backpressure"): a connection holds at most its
// budget for its peer; past it the reader stops reading instead of refusing
// work, and resumes when what it holds drains.

// relServerConn returns the server side of the only connection srv has.
func relServerConn(t testing.TB, srv *Server) *conn {
	t.Helper()
	var c *conn
	relEventually(t, "the server to know the connection", func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		for k := range srv.conns {
			c = k
		}
		return c != nil
	})
	return c
}

// writeAsync writes frames from a goroutine of its own (the server may stop
// reading, so the write may block for a while) and reports its result.
func (r *relRaw) writeAsync(frames []byte) <-chan error {
	done := make(chan error, 1)
	go func() {
		_ = r.nc.SetWriteDeadline(time.Now().Add(2 * relIOTimeout))
		_, err := r.nc.Write(frames)
		done <- err
	}()
	return done
}

// TestPipelinedCallsAllAnswered pipelines 10,000 echo calls on one
// connection and reads nothing until the server has stopped reading: every
// call gets its own correct answer, none is refused, and the server held no
// more than its budget meanwhile. (ttrpc-go before the budget refused the
// calls over its stream limit.)
func TestPipelinedCallsAllAnswered(t *testing.T) {
	for _, size := range []int{16, 4 << 10} {
		t.Run(fmt.Sprintf("%d B", size), func(t *testing.T) {
			checkGoroutines(t)
			rs := newRelServer(t)
			raw := relDial(t, rs.path)
			before := relHeapInuse()
			const n = 10000
			payload := strings.Repeat("p", size)
			var all []byte
			for i := range n {
				all = append(all, relEcho(uint32(2*i+1), fmt.Sprintf("%d:%s", i, payload))...)
			}
			wrote := raw.writeAsync(all)
			sc := relServerConn(t, rs.srv)
			limit := sc.budget.limit
			if size > 16 {
				// 50 MB offered: the server must stop reading at its budget.
				relEventually(t, "the budget to fill", func() bool {
					return sc.budget.heldBytes()+sc.fw.outstanding() > limit/2
				})
				if held := sc.budget.heldBytes(); held > limit+int64(defaultMaxMessageSize) {
					t.Fatalf("the connection holds %d bytes, over its budget %d", held, limit)
				}
				relCheckHeap(t, before, 2*limit+int64(len(all))+8<<20, "a connection over its budget")
			}
			seen := make(map[uint32]bool, n)
			for len(seen) < n {
				id, resp := raw.response()
				i := (id - 1) / 2
				if seen[id] || !(relWant{id: id, echo: fmt.Sprintf("%d:%s", i, payload)}).matches(id, resp) {
					t.Fatalf("call %d: %s", i, relDescribe(id, resp))
				}
				seen[id] = true
			}
			if err := <-wrote; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestUnreadLargeRequestsBounded pipelines 96 requests of 1 MiB whose
// answers are never read: the server stops reading at its budget, so the
// connection costs about the budget (containerd/ttrpc: +134-154 MiB).
func TestUnreadLargeRequestsBounded(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t)
	raw := relDial(t, rs.path)
	before := relHeapInuse()
	payload := strings.Repeat("x", 1<<20)
	var all []byte
	for i := range 96 {
		all = append(all, relEcho(uint32(2*i+1), payload)...)
	}
	wrote := raw.writeAsync(all)
	sc := relServerConn(t, rs.srv)
	limit := sc.budget.limit
	relEventually(t, "the budget to fill", func() bool { return sc.budget.heldBytes() > limit/2 })
	held := relHeapInuse() - before - int64(cap(all)+len(payload)) // the test's own frames
	_, running := relServed(rs.srv)
	t.Logf("server holds %d KiB for the connection (budget %d KiB; budget counts %d KiB in, %d KiB out; %d handlers)",
		held>>10, limit>>10, sc.budget.heldBytes()>>10, sc.fw.outstanding()>>10, running)
	if max := limit + 2*int64(defaultMaxMessageSize) + sc.cfg.writeBudget() + 4<<20; held > max {
		t.Fatalf("heap grew by %d bytes for one connection, want at most %d", held, max)
	}
	raw.nc.Close()
	<-wrote
	relEventually(t, "the server to drop the connection", func() bool { n, _ := relServed(rs.srv); return n == 0 })
	relEventually(t, "the connection's budget to be released", func() bool { return sc.budget.heldBytes() == 0 })
}

// TestStreamLimitQueuesRequests runs more calls than the stream limit: the
// ones over it wait their turn and are answered, in order of arrival, as
// running ones end; nothing is refused.
func TestStreamLimitQueuesRequests(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t, WithServerMaxConcurrentStreams(4))
	raw := relDial(t, rs.path)
	var frames []byte
	for i := range 4 {
		frames = append(frames, relCall(uint32(2*i+1), "Wait")...)
	}
	raw.write(frames)
	for range 4 {
		<-rs.entered
	}
	raw.write(relEcho(9, "queued"), relCall(11, "Release"))
	other := rs.dial(t)
	if err := other.Call(context.Background(), relService, "Release", &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	raw.expectAll([]relWant{{id: 1, echo: ""}, {id: 3, echo: ""}, {id: 5, echo: ""}, {id: 7, echo: ""},
		{id: 9, echo: "queued"}, {id: 11, echo: ""}})
}

// TestCancelWhileQueued cancels a request that waits for a handler slot:
// it never runs and gets no answer, and the slot goes to the next one.
func TestCancelWhileQueued(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t, WithServerMaxConcurrentStreams(1))
	raw := relDial(t, rs.path)
	raw.write(relCall(1, "Wait"))
	<-rs.entered
	raw.write(relCall(3, "Wait"), relFrame(3, frameCancel, 0, nil), relEcho(5, "after"))
	sc := relServerConn(t, rs.srv)
	relEventually(t, "the cancelled request to leave the queue", func() bool {
		sc.mu.Lock()
		defer sc.mu.Unlock()
		return sc.served[3] == nil && sc.served[5] != nil && len(sc.waiting) == 1
	})
	rs.releaseOnce.Do(func() { close(rs.release) })
	raw.expectAll([]relWant{{id: 1, echo: ""}, {id: 5, echo: "after"}})
	raw.write(relEcho(7, "last"))
	raw.expectEcho(7, "last")
}

// TestReverseCallUnderBackpressure: a handler calls back to its client
// while that client pipelines requests past the server's budget. The
// server must keep reading (refusing what does not fit with
// ResourceExhausted) so that the answer to its own call arrives.
func TestReverseCallUnderBackpressure(t *testing.T) {
	checkGoroutines(t)
	release := make(chan struct{})
	srv, _ := NewServer(WithServerConnectionBudget(int(minConnBudget(defaultMaxMessageSize))))
	srv.Register("hub", map[string]Method{
		"Hold": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			<-release
			return &emptypb.Empty{}, nil
		},
		"Ask": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			peer, _ := PeerClient(ctx)
			var name wrapperspb.StringValue
			err := peer.Call(ctx, "client", "Name", &emptypb.Empty{}, &name)
			return &name, err
		},
	})
	ts := startServer(t, srv)
	c := ts.dial(t)
	named, proceed := make(chan struct{}), make(chan struct{})
	c.Register("client", map[string]Method{
		"Name": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			close(named)
			<-proceed // answer only once the server is past its budget
			return wrapperspb.String("me"), nil
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), relIOTimeout)
	defer cancel()
	asked := make(chan error, 1)
	var name wrapperspb.StringValue
	go func() { asked <- c.Call(ctx, "hub", "Ask", &emptypb.Empty{}, &name) }()
	<-named
	// Requests of 1 MiB that the server holds: far past its budget.
	big := wrapperspb.Bytes(make([]byte, 1<<20))
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- c.Call(ctx, "hub", "Hold", big, &emptypb.Empty{})
		}()
	}
	sc := relServerConn(t, srv)
	relEventually(t, "the server's budget to fill", func() bool {
		return sc.budget.heldBytes() > sc.budget.limit/2
	})
	close(proceed)
	if err := <-asked; err != nil || name.Value != "me" {
		t.Fatalf("reverse call under backpressure: %q %v", name.Value, err)
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil && status.Code(err) != codes.ResourceExhausted {
			t.Fatalf("a held call failed with %v, want success or ResourceExhausted", err)
		}
	}
}

// TestClientBudgetUnreadStreams: a server opens three streams of 4 MiB
// messages the client never reads. The client holds about its budget, not
// streams x 64 messages, and its other calls still complete: the full
// streams fail with ErrStreamFull after a second.
func TestClientBudgetUnreadStreams(t *testing.T) {
	checkGoroutines(t)
	big := make([]byte, defaultMaxMessageSize-64)
	srv, _ := NewServer()
	srv.RegisterService("pump", &ServiceDesc{Streams: map[string]Stream{
		"Pump": {StreamingServer: true, Handler: func(ctx context.Context, ss StreamServer) (any, error) {
			for {
				if err := ss.SendMsg(wrapperspb.Bytes(big)); err != nil {
					return nil, err
				}
			}
		}},
	}})
	srv.RegisterService(testService, echoService())
	ts := startServer(t, srv)
	c := ts.dial(t)
	before := relHeapInuse()
	var streams []ClientStream
	for range 3 {
		s, err := c.NewStream(context.Background(), &StreamDesc{StreamingServer: true}, "pump", "Pump", &emptypb.Empty{})
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, s)
	}
	relEventually(t, "the client's budget to fill", func() bool {
		return c.conn.budget.heldBytes() > c.conn.budget.limit/2
	})
	grew := relHeapInuse() - before
	t.Logf("client holds %d KiB for 3 unread streams (budget %d KiB)", grew>>10, c.conn.budget.limit>>10)
	// The server runs in this process too: its writer holds a message.
	if max := c.conn.budget.limit + 4*int64(defaultMaxMessageSize) + 4<<20; grew > max {
		t.Fatalf("the client's heap grew by %d, want at most %d", grew, max)
	}
	ctx, cancel := context.WithTimeout(context.Background(), relIOTimeout)
	defer cancel()
	var out wrapperspb.BytesValue
	if err := c.Call(ctx, testService, "Echo", wrapperspb.Bytes([]byte("x")), &out); err != nil {
		t.Fatalf("another call on the connection: %v", err)
	}
	var failed ClientStream
	relEventually(t, "a full stream to fail", func() bool {
		for _, s := range streams {
			in := &s.(*clientStream).in
			in.mu.Lock()
			err := in.err
			in.mu.Unlock()
			if err == ErrStreamFull {
				failed = s
				return true
			}
		}
		return false
	})
	if err := failed.RecvMsg(&wrapperspb.BytesValue{}); err != ErrStreamFull {
		t.Fatalf("RecvMsg on the failed stream: %v, want ErrStreamFull", err)
	}
	c.Close()
}

// TestStreamFullAfterASecond: a stream whose receiver leaves 64 small
// messages unread fails with ErrStreamFull after about a second, as
// containerd/ttrpc v1.2.9+ does, but the connection's other calls are not
// stalled meanwhile (the reference stalls the reader for that second).
func TestStreamFullAfterASecond(t *testing.T) {
	checkGoroutines(t)
	srv, _ := NewServer()
	srv.RegisterService("pump", &ServiceDesc{Streams: map[string]Stream{
		"Pump": {StreamingServer: true, Handler: func(ctx context.Context, ss StreamServer) (any, error) {
			for range 200 {
				if err := ss.SendMsg(wrapperspb.Int32(1)); err != nil {
					return nil, err
				}
			}
			<-ctx.Done()
			return nil, ctx.Err()
		}},
	}})
	srv.RegisterService(testService, echoService())
	c := startServer(t, srv).dial(t)
	s, err := c.NewStream(context.Background(), &StreamDesc{StreamingServer: true}, "pump", "Pump", &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	var inner *clientStream
	relEventually(t, "the stream to fill", func() bool {
		inner = s.(*clientStream)
		inner.in.mu.Lock()
		defer inner.in.mu.Unlock()
		return len(inner.in.frames)-inner.in.head >= streamRecvLimit
	})
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), inboxFullWait/2)
	defer cancel()
	if err := c.Call(ctx, testService, "Echo", wrapperspb.Bytes([]byte("x")), &wrapperspb.BytesValue{}); err != nil {
		t.Fatalf("a call while a stream is full: %v", err)
	}
	relEventually(t, "the stream to fail", func() bool {
		inner.in.mu.Lock()
		defer inner.in.mu.Unlock()
		return inner.in.err != nil
	})
	if time.Since(start) > 10*inboxFullWait {
		t.Fatal("the full stream was not failed")
	}
	if err := s.RecvMsg(&wrapperspb.Int32Value{}); err != ErrStreamFull {
		t.Fatalf("RecvMsg on the full stream: %v, want ErrStreamFull", err)
	}
}

// Amplification: no more of a frame is decoded than the decision needs, a
// reply never repeats more than a short prefix of what the peer sent, and
// decoded sizes are bounded by wire sizes.

func TestMetadataFloodRefused(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t)
	raw := relDial(t, rs.path)
	req := &Request{Service: relService, Method: "CountMD"}
	for range 500000 {
		req.Metadata = append(req.Metadata, &KeyValue{Key: "k"})
	}
	before := relHeapInuse()
	raw.write(relRequest(1, 0, req))
	raw.expectAll([]relWant{{id: 1, code: codes.ResourceExhausted, msg: "metadata"}})
	relCheckHeap(t, before, 16<<20, "500,000 metadata entries")
	// The same flood for a method that does not exist costs no decoding.
	req.Method = "Nope"
	raw.write(relRequest(3, 0, req))
	raw.expectAll([]relWant{{id: 3, code: codes.Unimplemented, msg: "method Nope"}})
}

func TestRefusalQuotesShortPrefix(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t)
	raw := relDial(t, rs.path)
	long := strings.Repeat("s", 2<<20)
	raw.write(relRequest(1, 0, &Request{Service: long, Method: "m"}))
	h, body := raw.next()
	var resp Response
	if err := proto.Unmarshal(body, &resp); err != nil || h.streamID != 1 {
		t.Fatal(err)
	}
	if code := codes.Code(resp.Status.GetCode()); code != codes.Unimplemented || len(body) > 1024 {
		t.Fatalf("refusal: %v, %d bytes", code, len(body))
	}
	raw.write(relEcho(3, "alive"))
	raw.expectEcho(3, "alive")
}

// TestClientRefusesRequestsWhenServingNothing: a server request on an even
// id to a client that serves nothing is refused without being decoded, and
// the client's connection goes on.
func TestClientRefusesRequestsWhenServingNothing(t *testing.T) {
	checkGoroutines(t)
	l, err := net.Listen("unix", socketPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan *Response, 1)
	// The peer hangs up only once the test has looked at the client: its
	// hang-up would end the client's connection too.
	release := make(chan struct{})
	peerDone := make(chan struct{})
	defer func() { close(release); l.Close(); <-peerDone }()
	go func() {
		defer close(peerDone)
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer func() { <-release; nc.Close() }()
		req := &Request{Service: strings.Repeat("s", 2<<20), Method: "m"}
		for range 100000 {
			req.Metadata = append(req.Metadata, &KeyValue{Key: "k", Value: "v"})
		}
		_, _ = nc.Write(relRequest(2, 0, req))
		fr := newFrameReader(nc, defaultMaxMessageSize)
		for {
			h, body, err := fr.next()
			if err != nil {
				got <- nil
				return
			}
			if h.streamID == 2 {
				var resp Response
				_ = proto.Unmarshal(bodyBytes(body), &resp)
				got <- &resp
				return
			}
		}
	}()
	nc, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(nc)
	defer c.Close()
	resp := <-got
	if resp == nil || codes.Code(resp.Status.GetCode()) != codes.Unimplemented {
		t.Fatalf("reply to a request for a client serving nothing: %v", resp)
	}
	select {
	case <-c.Done():
		t.Fatal("the client closed its connection")
	default:
	}
}

func TestStatusDetailsFloodBounded(t *testing.T) {
	raw := []byte{0x08, 0x05} // code NOT_FOUND
	for range 2 << 20 {
		raw = append(raw, 0x1a, 0x00) // an empty detail
	}
	resp := append([]byte{0x0a}, protowire.AppendVarint(nil, uint64(len(raw)))...)
	resp = append(resp, raw...)
	before := relHeapInuse()
	var rv responseView
	if err := decodeResponse(resp, &rv); err != nil {
		t.Fatal(err)
	}
	relCheckHeap(t, before, 4<<20, "a status with 2 million details")
	if rv.status.GetCode() != 5 || len(rv.status.GetDetails()) != 0 {
		t.Fatalf("decoded %v", rv.status)
	}
}
