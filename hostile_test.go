package ttrpc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// Tests of a server facing peers that break the protocol on purpose or by
// accident, speaking raw frames over a unix socket. Every test also checks
// that the server goes on serving other connections and that nothing it
// started outlives the test.

// relIOTimeout bounds every raw read and write, so that a server that fails
// to answer makes the test fail instead of hang.
const relIOTimeout = 10 * time.Second

// relService is the service the hostile tests add next to echoService.
const relService = "ttrpc.test.v1.Hostile"

// relServer is a test server with echoService and relService.
type relServer struct {
	*testServer
	// release lets every Wait call return; closed by the Release method.
	release     chan struct{}
	releaseOnce sync.Once
	// entered receives one value per Wait call that started.
	entered chan struct{}
	// floodErr receives the error that ended each Flood handler.
	floodErr chan error
}

func newRelServer(t testing.TB, opts ...ServerOpt) *relServer {
	t.Helper()
	srv, err := NewServer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	rs := &relServer{
		release:  make(chan struct{}),
		entered:  make(chan struct{}, 4096),
		floodErr: make(chan error, 16),
	}
	srv.RegisterService(testService, echoService())
	srv.RegisterService(relService, rs.desc())
	rs.testServer = startServer(t, srv)
	return rs
}

func (rs *relServer) desc() *ServiceDesc {
	return &ServiceDesc{
		Methods: map[string]Method{
			"Wait": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				rs.entered <- struct{}{}
				select {
				case <-rs.release:
					return &emptypb.Empty{}, nil
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			},
			"Release": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				rs.releaseOnce.Do(func() { close(rs.release) })
				return &emptypb.Empty{}, nil
			},
			"CountMD": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				md, _ := GetMetadata(ctx)
				n := 0
				for _, vs := range md {
					n += len(vs)
				}
				return wrapperspb.Int64(int64(n)), nil
			},
			"Big": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				var n wrapperspb.Int64Value
				if err := unmarshal(&n); err != nil {
					return nil, err
				}
				return wrapperspb.Bytes(make([]byte, n.Value)), nil
			},
		},
		Streams: map[string]Stream{
			// Flood sends 64 KiB messages until sending fails.
			"Flood": {Handler: func(ctx context.Context, ss StreamServer) (any, error) {
				msg := wrapperspb.Bytes(make([]byte, 64<<10))
				for {
					if err := ss.SendMsg(msg); err != nil {
						rs.floodErr <- err
						return nil, err
					}
				}
			}, StreamingServer: true},
		},
	}
}

// relFrame builds one raw frame.
func relFrame(id uint32, typ frameType, flags frameFlags, body []byte) []byte {
	b := make([]byte, frameHeaderLength+len(body))
	frameHeader{length: uint32(len(body)), streamID: id, typ: typ, flags: flags}.encode(b)
	copy(b[frameHeaderLength:], body)
	return b
}

// relRequest builds a Request frame with the generated envelope type, so
// that these tests do not depend on the library's own encoder.
func relRequest(id uint32, flags frameFlags, r *Request) []byte {
	body, err := proto.Marshal(r)
	if err != nil {
		panic(err)
	}
	return relFrame(id, frameRequest, flags, body)
}

func relMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// relEcho is a unary Echo request whose payload is value.
func relEcho(id uint32, value string) []byte {
	return relRequest(id, 0, &Request{Service: testService, Method: "Echo", Payload: relMarshal(wrapperspb.Bytes([]byte(value)))})
}

// relCall is a unary request of a relService method with an empty payload.
func relCall(id uint32, method string) []byte {
	return relRequest(id, 0, &Request{Service: relService, Method: method})
}

// relRaw is a connection speaking raw frames.
type relRaw struct {
	t  testing.TB
	nc net.Conn
	fr *frameReader
}

func relDial(t testing.TB, path string) *relRaw {
	t.Helper()
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &relRaw{t: t, nc: nc, fr: newFrameReader(nc, maxMessageSizeLimit)}
}

func (r *relRaw) write(frames ...[]byte) {
	r.t.Helper()
	_ = r.nc.SetWriteDeadline(time.Now().Add(relIOTimeout))
	for _, f := range frames {
		if _, err := r.nc.Write(f); err != nil {
			r.t.Fatalf("writing to the server: %v", err)
		}
	}
}

// next reads one frame; the body is a copy.
func (r *relRaw) next() (frameHeader, []byte) {
	r.t.Helper()
	_ = r.nc.SetReadDeadline(time.Now().Add(relIOTimeout))
	h, body, err := r.fr.next()
	if err != nil {
		r.t.Fatalf("reading a frame from the server: %v", err)
	}
	var b []byte
	if body != nil {
		b = append([]byte(nil), *body...)
		putBuffer(body)
	}
	return h, b
}

// response reads the next frame, which must be a Response.
func (r *relRaw) response() (uint32, *Response) {
	r.t.Helper()
	h, body := r.next()
	if h.typ != frameResponse {
		r.t.Fatalf("got a %v frame on stream %d, want a response", h.typ, h.streamID)
	}
	var resp Response
	if err := proto.Unmarshal(body, &resp); err != nil {
		r.t.Fatalf("response on stream %d does not decode: %v", h.streamID, err)
	}
	return h.streamID, &resp
}

// expectEcho reads the next frame, which must answer Echo(value) on id.
func (r *relRaw) expectEcho(id uint32, value string) {
	r.t.Helper()
	got, resp := r.response()
	if w := (relWant{id: id, echo: value}); !w.matches(got, resp) {
		r.t.Fatalf("got %s, want %s", relDescribe(got, resp), w)
	}
}

// expectClosed waits for the server to close the connection and checks
// that it sent nothing before.
func (r *relRaw) expectClosed() {
	r.t.Helper()
	_ = r.nc.SetReadDeadline(time.Now().Add(relIOTimeout))
	n, err := io.Copy(io.Discard, r.nc)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		r.t.Fatalf("waiting for the server to close: %v", err)
	}
	if n != 0 {
		r.t.Fatalf("the server sent %d bytes before closing, want none", n)
	}
}

// relWant is a Response the server must send: an echo of a value, or a
// status of the given code whose message contains msg.
type relWant struct {
	id   uint32
	echo string
	code codes.Code
	msg  string
}

func (w relWant) String() string {
	if w.code == codes.OK {
		return fmt.Sprintf("stream %d: echo %q", w.id, w.echo)
	}
	return fmt.Sprintf("stream %d: %v containing %q", w.id, w.code, w.msg)
}

func (w relWant) matches(id uint32, resp *Response) bool {
	if id != w.id {
		return false
	}
	if w.code != codes.OK {
		return resp.Status != nil && codes.Code(resp.Status.Code) == w.code && strings.Contains(resp.Status.Message, w.msg)
	}
	if resp.Status != nil && resp.Status.Code != 0 {
		return false
	}
	var v wrapperspb.BytesValue
	return proto.Unmarshal(resp.Payload, &v) == nil && string(v.Value) == w.echo
}

func relDescribe(id uint32, resp *Response) string {
	if resp.Status != nil && resp.Status.Code != 0 {
		return fmt.Sprintf("stream %d: %v %q", id, codes.Code(resp.Status.Code), resp.Status.Message)
	}
	var v wrapperspb.BytesValue
	_ = proto.Unmarshal(resp.Payload, &v)
	return fmt.Sprintf("stream %d: ok %q", id, v.Value)
}

// expectAll reads len(wants) responses, in any order (handlers answer
// concurrently), and matches each to one want.
func (r *relRaw) expectAll(wants []relWant) {
	r.t.Helper()
	left := append([]relWant(nil), wants...)
	for range wants {
		id, resp := r.response()
		i := 0
		for i < len(left) && !left[i].matches(id, resp) {
			i++
		}
		if i == len(left) {
			r.t.Fatalf("unexpected %s; still expecting %v", relDescribe(id, resp), left)
		}
		left = append(left[:i], left[i+1:]...)
	}
}

// relCheckServing makes a call on a new connection: a hostile peer must
// not keep the server from serving others.
func relCheckServing(t testing.TB, ts *testServer) {
	t.Helper()
	c := ts.dial(t)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), relIOTimeout)
	defer cancel()
	var resp wrapperspb.BytesValue
	if err := c.Call(ctx, testService, "Echo", wrapperspb.Bytes([]byte("other")), &resp); err != nil {
		t.Fatalf("a well-behaved client on another connection: %v", err)
	}
	if string(resp.Value) != "other" {
		t.Fatalf("a well-behaved client got %q", resp.Value)
	}
}

// relEventually polls cond until it holds, failing the test after a while.
func relEventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(relIOTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // polling state, not synchronising
	}
}

// relServed returns how many peer streams the server's connections hold.
func relServed(srv *Server) (conns, streams int) {
	srv.mu.Lock()
	cs := make([]*conn, 0, len(srv.conns))
	for c := range srv.conns {
		cs = append(cs, c)
	}
	srv.mu.Unlock()
	for _, c := range cs {
		c.mu.Lock()
		streams += len(c.served)
		c.mu.Unlock()
	}
	return len(cs), streams
}

// relHeapInuse returns the heap in use after collections. Two of them:
// the first only moves pooled buffers to the pools' victim caches, the
// second frees them, so that what is left is what something still holds.
func relHeapInuse() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// relCheckHeap fails if the heap grew by more than limit since before.
func relCheckHeap(t testing.TB, before int64, limit int64, what string) {
	t.Helper()
	if grew := relHeapInuse() - before; grew > limit {
		t.Fatalf("%s: heap in use grew by %d bytes, want at most %d", what, grew, limit)
	}
}

// TestHostileFrames sends frames that break the protocol, each followed by
// a well-formed call on the same connection: the server must answer each
// bad frame as PROTOCOL.md says (or ignore it where it says so), keep the
// connection usable, and keep serving other connections.
func TestHostileFrames(t *testing.T) {
	unknownTypes := [][]byte{
		relFrame(1, 0, 0, nil),
		relFrame(1, 4, 0, []byte("future frame")),
		relFrame(1, 0x7f, 0xff, nil),
		relFrame(1, 0xff, 0, bytes.Repeat([]byte{0xff}, 100)),
		relFrame(3, frameResponse, 0, relMarshal(&Response{Payload: []byte("x")})),
	}
	timeoutOverflow := protowire.AppendTag(nil, fieldRequestTimeoutNano, protowire.VarintType)
	timeoutOverflow = protowire.AppendVarint(timeoutOverflow, math.MaxUint64)
	tests := []struct {
		name string
		opts []ServerOpt
		send [][]byte
		want []relWant
		// next is the first free stream id after send.
		next uint32
	}{
		{
			name: "stream id 0",
			send: [][]byte{relEcho(0, "zero")},
			want: []relWant{{id: 0, code: codes.InvalidArgument, msg: "must be odd"}},
			next: 1,
		},
		{
			name: "even stream id",
			send: [][]byte{relEcho(2, "two")},
			want: []relWant{{id: 2, code: codes.InvalidArgument, msg: "must be odd"}},
			next: 1,
		},
		{
			name: "largest even stream id",
			send: [][]byte{relEcho(math.MaxUint32-1, "max")},
			want: []relWant{{id: math.MaxUint32 - 1, code: codes.InvalidArgument, msg: "must be odd"}},
			next: 1,
		},
		{
			name: "data on stream id 0 and on an even id",
			send: [][]byte{relFrame(0, frameData, 0, []byte{1}), relFrame(4, frameData, flagRemoteClosed|flagNoData, nil)},
			want: []relWant{{id: 0, code: codes.InvalidArgument, msg: "must be odd"}, {id: 4, code: codes.InvalidArgument, msg: "must be odd"}},
			next: 1,
		},
		{
			name: "reused stream id",
			send: [][]byte{relEcho(5, "first"), relEcho(5, "again")},
			want: []relWant{{id: 5, echo: "first"}, {id: 5, code: codes.InvalidArgument, msg: "re-used"}},
			next: 7,
		},
		{
			name: "decreasing stream id",
			send: [][]byte{relEcho(9, "nine"), relEcho(7, "seven"), relEcho(1, "one")},
			want: []relWant{
				{id: 9, echo: "nine"},
				{id: 7, code: codes.InvalidArgument, msg: "re-used"},
				{id: 1, code: codes.InvalidArgument, msg: "re-used"},
			},
			next: 11,
		},
		{
			name: "data for a stream that was never opened",
			send: [][]byte{relFrame(11, frameData, 0, relMarshal(wrapperspb.String("x")))},
			want: []relWant{{id: 11, code: codes.InvalidArgument, msg: "no longer active"}},
			next: 13,
		},
		{
			// The unary call is still running (Wait) while its Data frames
			// arrive: they are ignored, and the call ends normally.
			name: "data for a unary call",
			send: [][]byte{
				relCall(1, "Wait"),
				relFrame(1, frameData, 0, relMarshal(wrapperspb.String("x"))),
				relFrame(1, frameData, flagRemoteClosed|flagNoData, nil),
				relCall(3, "Release"),
			},
			want: []relWant{{id: 1, echo: ""}, {id: 3, echo: ""}},
			next: 5,
		},
		{
			name: "unknown message types",
			send: unknownTypes,
			next: 1,
		},
		{
			name: "cancel for streams that do not exist",
			send: [][]byte{
				relFrame(1, frameCancel, 0, nil), relFrame(0, frameCancel, 0, nil), relFrame(2, frameCancel, 0, nil),
				relFrame(math.MaxUint32, frameCancel, 0xff, []byte("future data")),
				bytes.Repeat(relFrame(7, frameCancel, 0, nil), 10000),
			},
			next: 1,
		},
		{
			name: "hello frames do not use up stream 1",
			send: [][]byte{relFrame(1, frameHello, 0, nil), relFrame(1, frameHello, 0xff, []byte("future data")), relFrame(2, frameHello, 0, nil)},
			next: 1,
		},
		{
			name: "garbage envelope",
			send: [][]byte{
				relFrame(1, frameRequest, 0, []byte{0xff, 0xff, 0xff, 0xff}),
				relFrame(3, frameRequest, 0, []byte{0x0a, 0x80}),
				relFrame(5, frameRequest, 0, []byte{0x0a, 0x05, 's'}),
				relFrame(7, frameRequest, 0, []byte{0x00}),
				relFrame(9, frameRequest, 0, []byte{0x2a, 0x02, 0x0a, 0x7f}),
			},
			want: []relWant{
				{id: 1, code: codes.InvalidArgument, msg: "unmarshal request error"},
				{id: 3, code: codes.InvalidArgument, msg: "unmarshal request error"},
				{id: 5, code: codes.InvalidArgument, msg: "unmarshal request error"},
				{id: 7, code: codes.InvalidArgument, msg: "unmarshal request error"},
				{id: 9, code: codes.InvalidArgument, msg: "unmarshal request error"},
			},
			next: 11,
		},
		{
			name: "empty envelope",
			send: [][]byte{relFrame(1, frameRequest, 0, nil)},
			want: []relWant{{id: 1, code: codes.Unimplemented, msg: "service"}},
			next: 3,
		},
		{
			name: "garbage payload",
			send: [][]byte{relRequest(1, 0, &Request{Service: testService, Method: "Echo", Payload: []byte{0xff, 0xff}})},
			want: []relWant{{id: 1, code: codes.Internal, msg: "unmarshal"}},
			next: 3,
		},
		{
			name: "unknown service and method",
			send: [][]byte{
				relRequest(1, 0, &Request{Service: "nope", Method: "Echo"}),
				relRequest(3, 0, &Request{Service: testService, Method: "Nope"}),
				relRequest(5, flagRemoteOpen, &Request{Service: strings.Repeat("s", 1<<20), Method: "Nope"}),
			},
			want: []relWant{
				{id: 1, code: codes.Unimplemented, msg: "service nope"},
				{id: 3, code: codes.Unimplemented, msg: "method"},
				{id: 5, code: codes.Unimplemented, msg: "service"},
			},
			next: 7,
		},
		{
			name: "timeout that overflows int64",
			send: [][]byte{relFrame(1, frameRequest, 0, append(relMarshal(&Request{Service: relService, Method: "Wait"}), timeoutOverflow...))},
			// MaxUint64 is -1 ns as an int64: the call is already past its deadline.
			want: []relWant{{id: 1, code: codes.DeadlineExceeded, msg: "deadline"}},
			next: 3,
		},
		{
			name: "oversized frame is skipped and answered",
			opts: []ServerOpt{WithServerWireMessageLimit(4 << 10)},
			send: [][]byte{relEcho(1, strings.Repeat("x", 5<<10)), relFrame(3, frameData, 0, make([]byte, 1<<20))},
			want: []relWant{
				{id: 1, code: codes.ResourceExhausted, msg: "exceed maximum message size"},
				{id: 3, code: codes.ResourceExhausted, msg: "exceed maximum message size"},
			},
			next: 5,
		},
		{
			name: "message at the limit",
			opts: []ServerOpt{WithServerWireMessageLimit(4 << 10)},
			send: [][]byte{relFrame(1, frameData, 0, make([]byte, 4<<10))},
			want: []relWant{{id: 1, code: codes.InvalidArgument, msg: "no longer active"}},
			next: 3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			rs := newRelServer(t, tt.opts...)
			raw := relDial(t, rs.path)
			raw.write(tt.send...)
			alive := fmt.Sprintf("alive after %s", tt.name)
			raw.write(relEcho(tt.next, alive))
			raw.expectAll(append(tt.want, relWant{id: tt.next, echo: alive}))
			// Every answer owed was read above; a further round trip shows
			// that nothing else was sent in between.
			raw.write(relEcho(tt.next+2, "last"))
			raw.expectEcho(tt.next+2, "last")
			relCheckServing(t, rs.testServer)
		})
	}
}

// TestDataAfterStreamEnd sends Data frames after a stream ended: a Data
// frame carrying both a message and the close flag is a legal last
// message; what follows it is refused as "no longer active" once the
// server has forgotten the stream.
func TestDataAfterStreamEnd(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t)
	raw := relDial(t, rs.path)
	raw.write(
		relRequest(1, flagRemoteOpen, &Request{Service: testService, Method: "Sum"}),
		relFrame(1, frameData, 0, relMarshal(wrapperspb.Int32(1))),
		relFrame(1, frameData, flagRemoteClosed, relMarshal(wrapperspb.Int32(40))),
	)
	id, resp := raw.response()
	var sum wrapperspb.Int32Value
	if id != 1 || resp.Status.GetCode() != 0 || proto.Unmarshal(resp.Payload, &sum) != nil || sum.Value != 41 {
		t.Fatalf("got %s with sum %v, want the sum 41 on stream 1", relDescribe(id, resp), sum.Value)
	}
	raw.write(relEcho(3, "unary"))
	raw.expectEcho(3, "unary")
	relEventually(t, "the server to forget both streams", func() bool { _, n := relServed(rs.srv); return n == 0 })
	raw.write(
		relFrame(1, frameData, 0, relMarshal(wrapperspb.Int32(1))),
		relFrame(3, frameData, flagRemoteClosed|flagNoData, nil),
		relEcho(5, "alive"),
	)
	raw.expectAll([]relWant{
		{id: 1, code: codes.InvalidArgument, msg: "no longer active"},
		{id: 3, code: codes.InvalidArgument, msg: "no longer active"},
		{id: 5, echo: "alive"},
	})
}

// TestHeaderInTinyWrites sends two requests one byte per write: the server
// must reassemble them.
func TestHeaderInTinyWrites(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t)
	raw := relDial(t, rs.path)
	for _, b := range append(relEcho(1, "slowly"), relEcho(3, "again")...) {
		raw.write([]byte{b})
	}
	raw.expectAll([]relWant{{id: 1, echo: "slowly"}, {id: 3, echo: "again"}})
	relCheckServing(t, rs.testServer)
}

// TestHugeLengthHeader announces a 4 GiB - 1 frame: the server must skip it
// without allocating it, keep serving others, and let the connection go
// when the peer does.
func TestHugeLengthHeader(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t)
	relCheckServing(t, rs.testServer) // warm up pools before measuring
	before := relHeapInuse()
	raw := relDial(t, rs.path)
	hdr := relFrame(1, frameRequest, 0, nil)
	binary.BigEndian.PutUint32(hdr, math.MaxUint32)
	raw.write(hdr)
	junk := make([]byte, 1<<20)
	for range 8 {
		raw.write(junk) // returns once the server has read most of it
	}
	relCheckServing(t, rs.testServer)
	relCheckHeap(t, before, 4<<20, "skipping a 4 GiB frame")
	raw.nc.Close()
	relEventually(t, "the server to drop the connection", func() bool { n, _ := relServed(rs.srv); return n == 0 })
}

// TestOversizedFrameKeepsSync sends a 5 MiB frame (over the default limit)
// with its body: the server answers ResourceExhausted and reads the next
// frame correctly.
func TestOversizedFrameKeepsSync(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t)
	raw := relDial(t, rs.path)
	go func() {
		// The server answers only after it discarded the body, so the body
		// is written concurrently with reading the answer.
		_ = raw.nc.SetWriteDeadline(time.Now().Add(relIOTimeout))
		_, _ = raw.nc.Write(relFrame(1, frameRequest, 0, make([]byte, 5<<20)))
		_, _ = raw.nc.Write(relEcho(3, "in sync"))
	}()
	raw.expectAll([]relWant{{id: 1, code: codes.ResourceExhausted, msg: "5242880"}, {id: 3, echo: "in sync"}})
}

// TestBodyNeverArrives announces frames whose bodies never come: the server
// waits for them without blocking anyone else, holds at most the limit per
// connection, and forgets the connection when the peer goes.
func TestBodyNeverArrives(t *testing.T) {
	checkGoroutines(t)
	const limit = 64 << 10
	rs := newRelServer(t, WithServerWireMessageLimit(limit))
	relCheckServing(t, rs.testServer)
	before := relHeapInuse()
	const peers = 16
	raws := make([]*relRaw, peers)
	for i := range raws {
		raws[i] = relDial(t, rs.path)
		frame := relEcho(1, strings.Repeat("y", limit-100))
		raws[i].write(frame[:len(frame)/2])
	}
	relCheckServing(t, rs.testServer)
	relCheckHeap(t, before, peers*2*limit+1<<20, "16 connections with a body pending")
	for _, r := range raws {
		r.nc.Close()
	}
	relEventually(t, "the server to drop the connections", func() bool { n, _ := relServed(rs.srv); return n == 0 })
}

// TestMetadataFlood sends 10,000 metadata entries, as distinct keys and as
// values of one key: they all reach the handler.
func TestMetadataFlood(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t)
	c := rs.dial(t)
	many, one := MD{}, MD{}
	for i := range 10000 {
		many.Set(fmt.Sprintf("key-%d", i), "v")
		one.Append("key", fmt.Sprint(i))
	}
	for name, md := range map[string]MD{"distinct keys": many, "one key": one} {
		var n wrapperspb.Int64Value
		if err := c.Call(WithMetadata(context.Background(), md), relService, "CountMD", &emptypb.Empty{}, &n); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n.Value != 10000 {
			t.Fatalf("%s: the handler saw %d metadata values, want 10000", name, n.Value)
		}
	}
	relCheckServing(t, rs.testServer)
}

// TestExtremeTimeouts sends relative timeouts from the most negative to
// the largest int64: negative ones give an expired context, huge ones a
// deadline far away, and none disturbs the server.
func TestExtremeTimeouts(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t)
	raw := relDial(t, rs.path)
	tests := []struct {
		timeout int64
		expired bool
	}{
		{math.MinInt64, true},
		{-int64(time.Hour), true},
		{-1, true},
		{1, true},
		{int64(time.Hour), false},
		{math.MaxInt64, false},
	}
	id := uint32(1)
	for _, tt := range tests {
		raw.write(relRequest(id, 0, &Request{Service: testService, Method: "Deadline", TimeoutNano: tt.timeout}))
		got, resp := raw.response()
		var left wrapperspb.Int64Value
		if got != id || resp.Status.GetCode() != 0 || proto.Unmarshal(resp.Payload, &left) != nil {
			t.Fatalf("timeout %d: got %s", tt.timeout, relDescribe(got, resp))
		}
		if expired := left.Value <= 0; expired != tt.expired {
			t.Errorf("timeout %d: handler saw %v left", tt.timeout, time.Duration(left.Value))
		}
		raw.write(relRequest(id+2, 0, &Request{Service: relService, Method: "Wait", TimeoutNano: tt.timeout}))
		if tt.expired {
			raw.expectAll([]relWant{{id: id + 2, code: codes.DeadlineExceeded, msg: "deadline"}})
		}
		id += 4
	}
	raw.write(relCall(id, "Release"))
	wants := []relWant{{id: id, echo: ""}}
	for i, tt := range tests {
		if !tt.expired {
			wants = append(wants, relWant{id: uint32(4*i + 3), echo: ""})
		}
	}
	raw.expectAll(wants)
	relCheckServing(t, rs.testServer)
}

// TestPeerDiesMidFrame cuts connections in the middle of a frame, in both
// directions.
func TestPeerDiesMidFrame(t *testing.T) {
	t.Run("client side dies", func(t *testing.T) {
		checkGoroutines(t)
		rs := newRelServer(t)
		raw := relDial(t, rs.path)
		raw.write(relCall(1, "Wait"))
		<-rs.entered
		frame := relEcho(3, "cut")
		raw.write(frame[:len(frame)-3])
		raw.nc.Close()
		// The Wait handler's context ends with the connection.
		relEventually(t, "the connection and its call to end", func() bool { n, _ := relServed(rs.srv); return n == 0 })
		relCheckServing(t, rs.testServer)
	})
	t.Run("server side dies", func(t *testing.T) {
		checkGoroutines(t)
		for _, cut := range []int{1, frameHeaderLength - 1, frameHeaderLength, frameHeaderLength + 3} {
			l, err := net.Listen("unix", socketPath(t))
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				nc, err := l.Accept()
				l.Close()
				if err != nil {
					return
				}
				defer nc.Close()
				fr := newFrameReader(nc, defaultMaxMessageSize)
				h, body, err := fr.next()
				putBuffer(body)
				if err != nil {
					return
				}
				resp := relFrame(h.streamID, frameResponse, 0, relMarshal(&Response{Payload: relMarshal(wrapperspb.Bytes([]byte("truncated answer")))}))
				_, _ = nc.Write(resp[:cut])
			}()
			nc, err := net.Dial("unix", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			c := NewClient(nc)
			ctx, cancel := context.WithTimeout(context.Background(), relIOTimeout)
			err = c.Call(ctx, testService, "Echo", wrapperspb.Bytes([]byte("x")), &wrapperspb.BytesValue{})
			cancel()
			if !errors.Is(err, ErrClosed) {
				t.Errorf("cut after %d bytes: call returned %v, want ErrClosed", cut, err)
			}
			c.Close()
		}
	})
}

// TestPeerDiesMidStream ends connections while streams are open, from
// either side: both ends of every stream must finish.
func TestPeerDiesMidStream(t *testing.T) {
	for _, closeServer := range []bool{false, true} {
		t.Run(fmt.Sprintf("server closes %v", closeServer), func(t *testing.T) {
			checkGoroutines(t)
			ended := make(chan error, 1)
			srv, _ := NewServer()
			srv.RegisterService(relService, &ServiceDesc{Streams: map[string]Stream{
				"Bidi": {Handler: func(ctx context.Context, ss StreamServer) (any, error) {
					for {
						var v wrapperspb.StringValue
						if err := ss.RecvMsg(&v); err != nil {
							ended <- err
							return nil, err
						}
						if err := ss.SendMsg(&v); err != nil {
							ended <- err
							return nil, err
						}
					}
				}, StreamingClient: true, StreamingServer: true},
			}})
			ts := startServer(t, srv)
			c := ts.dial(t)
			s, err := c.NewStream(context.Background(), &StreamDesc{StreamingClient: true, StreamingServer: true}, relService, "Bidi", nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if err := s.SendMsg(wrapperspb.String(fmt.Sprint(i))); err != nil {
					t.Fatal(err)
				}
				var v wrapperspb.StringValue
				if err := s.RecvMsg(&v); err != nil || v.Value != fmt.Sprint(i) {
					t.Fatalf("round %d: %q, %v", i, v.Value, err)
				}
			}
			if closeServer {
				srv.Close()
			} else {
				c.Close()
			}
			if err := <-ended; err == nil {
				t.Fatal("the handler's stream did not fail")
			}
			var v wrapperspb.StringValue
			if err := s.RecvMsg(&v); !errors.Is(err, ErrClosed) {
				t.Fatalf("RecvMsg after the connection died: %v, want ErrClosed", err)
			}
			if err := s.SendMsg(&v); err == nil {
				t.Fatal("SendMsg after the connection died succeeded")
			}
			relEventually(t, "the server to forget the connection", func() bool { n, _ := relServed(srv); return n == 0 })
		})
	}
}

// TestCloseDuringCalls closes a client with 200 calls in flight: each
// returns ErrClosed and each handler's context is cancelled.
func TestCloseDuringCalls(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t)
	c := rs.dial(t)
	const n = 200
	errs := make(chan error, n)
	for range n {
		go func() {
			errs <- c.Call(context.Background(), relService, "Wait", &emptypb.Empty{}, &emptypb.Empty{})
		}()
	}
	for range n {
		<-rs.entered
	}
	c.Close()
	for range n {
		if err := <-errs; !errors.Is(err, ErrClosed) {
			t.Fatalf("call in flight during Close: %v, want ErrClosed", err)
		}
	}
	relEventually(t, "every handler to end", func() bool { n, _ := relServed(rs.srv); return n == 0 })
	relCheckServing(t, rs.testServer)
}

// TestShutdownUnderLoad shuts the server down while 400 callers on 8
// connections keep calling: every call that got an answer got its own, the
// others fail as refused or closed, nothing hangs, and Shutdown returns once
// the calls in flight are done.
func TestShutdownUnderLoad(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t)
	const conns, callers = 8, 50
	var answered atomic.Int64
	warm := make(chan struct{})
	var warmOnce sync.Once
	var wg sync.WaitGroup
	failures := make(chan error, conns*callers)
	for i := range conns {
		c := rs.dial(t)
		for j := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; ; k++ {
					want := fmt.Sprintf("%d/%d/%d", i, j, k)
					var got wrapperspb.BytesValue
					err := c.Call(context.Background(), testService, "Echo", wrapperspb.Bytes([]byte(want)), &got)
					if err != nil {
						if !errors.Is(err, ErrClosed) && status.Code(err) != codes.Unavailable {
							failures <- fmt.Errorf("call %s: unexpected error %w", want, err)
						}
						return
					}
					if string(got.Value) != want {
						failures <- fmt.Errorf("call %s answered with %q", want, got.Value)
						return
					}
					if answered.Add(1) == 2000 {
						warmOnce.Do(func() { close(warm) })
					}
				}
			}()
		}
	}
	<-warm
	ctx, cancel := context.WithTimeout(context.Background(), relIOTimeout)
	defer cancel()
	if err := rs.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Error(err)
	}
	t.Logf("%d calls answered before and during Shutdown", answered.Load())
}

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

// relHandshaker passes connections whose first byte is 'x' and records
// what it did.
type relHandshaker struct {
	started chan struct{}
	result  chan error
}

func (h *relHandshaker) Handshake(ctx context.Context, nc net.Conn) (net.Conn, any, error) {
	h.started <- struct{}{}
	b := make([]byte, 1)
	_, err := io.ReadFull(nc, b)
	if err == nil && b[0] != 'x' {
		err = errors.New("bad greeting")
	}
	h.result <- err
	return nc, nil, err
}

// TestStalledHandshake connects a peer that never completes the handshake:
// other peers are accepted and served meanwhile, and the stalled one is
// dropped at the handshake timeout, with a log entry and no frame.
func TestStalledHandshake(t *testing.T) {
	checkGoroutines(t)
	h := &relHandshaker{started: make(chan struct{}, 4), result: make(chan error, 4)}
	logs := &relLogs{}
	srv, err := NewServer(WithServerHandshaker(h), WithServerHandshakeTimeout(500*time.Millisecond),
		WithServerLogger(slog.New(logs)))
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService(testService, echoService())
	ts := startServer(t, srv)

	stalled := relDial(t, ts.path)
	<-h.started
	start := time.Now()
	nc, err := net.Dial("unix", ts.path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Write([]byte{'x'}); err != nil {
		t.Fatal(err)
	}
	c := NewClient(nc)
	defer c.Close()
	var resp wrapperspb.BytesValue
	if err := c.Call(context.Background(), testService, "Echo", wrapperspb.Bytes([]byte("hi")), &resp); err != nil {
		t.Fatalf("call while another handshake stalls: %v", err)
	}
	if served := time.Since(start); served >= 500*time.Millisecond {
		t.Logf("machine slow: the second peer took %v", served)
	}
	<-h.started
	if err1, err2 := <-h.result, <-h.result; (err1 == nil) == (err2 == nil) {
		t.Fatalf("handshake results %v and %v, want one success and one failure", err1, err2)
	}
	stalled.expectClosed()
	if took := time.Since(start); took > relIOTimeout {
		t.Fatalf("stalled peer dropped after %v", took)
	}
	relEventually(t, "a log entry for the refused peer", func() bool { return logs.contains("refusing connection") })
}

// relLogs is a slog.Handler keeping messages for tests to inspect.
type relLogs struct {
	mu   sync.Mutex
	msgs []string
}

func (l *relLogs) Enabled(context.Context, slog.Level) bool { return true }

func (l *relLogs) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	l.mu.Lock()
	l.msgs = append(l.msgs, b.String())
	l.mu.Unlock()
	return nil
}

func (l *relLogs) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *relLogs) WithGroup(string) slog.Handler      { return l }

func (l *relLogs) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

func (l *relLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.msgs, "\n")
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

// relOK is a successful answer carrying BytesValue("ok").
func relOK(id uint32) []byte {
	return relFrame(id, frameResponse, 0, relMarshal(&Response{Payload: relMarshal(wrapperspb.Bytes([]byte("ok")))}))
}

// relFakeServer accepts one connection and answers its first request with
// what first returns (written one frame per write, or one byte per write
// when tiny is set), and every later request with relOK.
func relFakeServer(t *testing.T, first func(id uint32) [][]byte, tiny bool) string {
	t.Helper()
	l, err := net.Listen("unix", socketPath(t))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	go func() {
		defer close(done)
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		fr := newFrameReader(nc, maxMessageSizeLimit)
		for n := 0; ; n++ {
			h, body, err := fr.next()
			putBuffer(body)
			if err != nil {
				return
			}
			frames := [][]byte{relOK(h.streamID)}
			if n == 0 {
				frames = first(h.streamID)
			}
			for _, f := range frames {
				if !tiny {
					if _, err := nc.Write(f); err != nil {
						return
					}
					continue
				}
				for i := range f {
					if _, err := nc.Write(f[i : i+1]); err != nil {
						return
					}
				}
			}
		}
	}()
	return l.Addr().String()
}

// TestHostileServer has a client call a server that answers wrongly: the
// call gets the answer it is owed or a clear error, and the connection
// stays usable for the next call unless the answer cut it.
func TestHostileServer(t *testing.T) {
	huge := relFrame(1, frameResponse, 0, nil)
	binary.BigEndian.PutUint32(huge, math.MaxUint32)
	tests := []struct {
		name   string
		first  func(id uint32) [][]byte
		tiny   bool
		check  func(err error) bool
		dead   bool // the connection cannot be used afterwards
		expect string
	}{
		{
			name:   "answer split into one-byte writes",
			first:  func(id uint32) [][]byte { return [][]byte{relOK(id)} },
			tiny:   true,
			check:  func(err error) bool { return err == nil },
			expect: "success",
		},
		{
			name: "answers on streams never opened, then the answer",
			first: func(id uint32) [][]byte {
				return [][]byte{relOK(id + 100), relOK(id + 1), relOK(0), relFrame(id+2, frameData, 0, []byte{1}), relOK(id)}
			},
			check:  func(err error) bool { return err == nil },
			expect: "success",
		},
		{
			name: "unknown frame types, then the answer",
			first: func(id uint32) [][]byte {
				return [][]byte{relFrame(id, 0x7f, 0xff, []byte("x")), relFrame(id, 0, 0, nil), relOK(id)}
			},
			check:  func(err error) bool { return err == nil },
			expect: "success (PROTOCOL.md section 3)",
		},
		{
			name: "a request from the server",
			first: func(id uint32) [][]byte {
				return [][]byte{relEcho(id, "reverse"), relEcho(2, "reverse"), relOK(id)}
			},
			check:  func(err error) bool { return err == nil },
			expect: "success",
		},
		{
			name: "data frame for a unary call",
			first: func(id uint32) [][]byte {
				return [][]byte{relFrame(id, frameData, 0, relMarshal(wrapperspb.Bytes([]byte("x"))))}
			},
			check:  func(err error) bool { return errors.Is(err, ErrProtocol) },
			expect: "ErrProtocol",
		},
		{
			name:   "garbage envelope",
			first:  func(id uint32) [][]byte { return [][]byte{relFrame(id, frameResponse, 0, []byte{0xff, 0xff})} },
			check:  func(err error) bool { return status.Code(err) == codes.Internal },
			expect: "Internal",
		},
		{
			name: "garbage payload",
			first: func(id uint32) [][]byte {
				return [][]byte{relFrame(id, frameResponse, 0, relMarshal(&Response{Payload: []byte{0xff}}))}
			},
			check:  func(err error) bool { return status.Code(err) == codes.Internal },
			expect: "Internal",
		},
		{
			name: "error status",
			first: func(id uint32) [][]byte {
				return [][]byte{relFrame(id, frameResponse, 0, relMarshal(&Response{Status: status.New(codes.NotFound, "gone").Proto()}))}
			},
			check:  func(err error) bool { return status.Code(err) == codes.NotFound },
			expect: "NotFound",
		},
		{
			name:   "answer over the client's limit",
			first:  func(id uint32) [][]byte { return [][]byte{relFrame(id, frameResponse, 0, make([]byte, 8<<10))} },
			check:  func(err error) bool { return status.Code(err) == codes.ResourceExhausted },
			expect: "ResourceExhausted",
		},
		{
			name:   "4 GiB length header",
			first:  func(id uint32) [][]byte { return [][]byte{huge} },
			check:  func(err error) bool { return errors.Is(err, context.DeadlineExceeded) },
			dead:   true,
			expect: "the caller's deadline",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			addr := relFakeServer(t, tt.first, tt.tiny)
			nc, err := net.Dial("unix", addr)
			if err != nil {
				t.Fatal(err)
			}
			c := NewClient(nc, WithClientWireMessageLimit(4<<10))
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			var got wrapperspb.BytesValue
			err = c.Call(ctx, testService, "Echo", wrapperspb.Bytes([]byte("hi")), &got)
			if !tt.check(err) {
				t.Fatalf("call returned %v, want %s", err, tt.expect)
			}
			if err == nil && string(got.Value) != "ok" {
				t.Fatalf("call answered %q", got.Value)
			}
			if tt.dead {
				return
			}
			ctx, cancel = context.WithTimeout(context.Background(), relIOTimeout)
			defer cancel()
			if err := c.Call(ctx, testService, "Echo", wrapperspb.Bytes([]byte("hi")), &got); err != nil || string(got.Value) != "ok" {
				t.Fatalf("next call on the same connection: %q, %v", got.Value, err)
			}
		})
	}
}

// TestCancelFrame cancels a running call with a Cancel frame (PROTOCOL.md,
// "Cancel"): the handler's context ends, the stream is forgotten, and the
// connection goes on; a final frame for the cancelled stream is allowed but
// not owed.
func TestCancelFrame(t *testing.T) {
	checkGoroutines(t)
	rs := newRelServer(t)
	raw := relDial(t, rs.path)
	raw.write(relCall(1, "Wait"))
	<-rs.entered
	raw.write(relFrame(1, frameCancel, 0, nil), relFrame(1, frameCancel, 0, nil))
	relEventually(t, "the cancelled handler to end", func() bool { _, n := relServed(rs.srv); return n == 0 })
	raw.write(relEcho(3, "after cancel"))
	id, resp := raw.response()
	if id == 1 {
		if !(relWant{id: 1, code: codes.Canceled, msg: ""}).matches(id, resp) {
			t.Fatalf("final frame of the cancelled call: %s", relDescribe(id, resp))
		}
		id, resp = raw.response()
	}
	if w := (relWant{id: 3, echo: "after cancel"}); !w.matches(id, resp) {
		t.Fatalf("got %s, want %s", relDescribe(id, resp), w)
	}
	relCheckServing(t, rs.testServer)
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
