package ttrpc

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
)

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
