package ttrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
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
						select {
						case rs.floodErr <- err:
						default: // nobody collects them (randomized test)
						}
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
