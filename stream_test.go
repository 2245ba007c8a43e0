package ttrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

func TestServerStreaming(t *testing.T) {
	checkGoroutines(t)
	c := newEchoServer(t).dial(t)
	for _, n := range []int32{0, 1, 100} {
		s, err := c.NewStream(context.Background(), &StreamDesc{StreamingServer: true}, testService, "Count", wrapperspb.Int32(n))
		if err != nil {
			t.Fatal(err)
		}
		for i := int32(0); i < n; i++ {
			var v wrapperspb.Int32Value
			if err := s.RecvMsg(&v); err != nil || v.Value != i {
				t.Fatalf("message %d: %v %v", i, v.Value, err)
			}
		}
		if err := s.RecvMsg(&wrapperspb.Int32Value{}); err != io.EOF {
			t.Fatalf("after %d messages: %v, want io.EOF", n, err)
		}
		if err := s.RecvMsg(&wrapperspb.Int32Value{}); err != io.EOF {
			t.Fatalf("RecvMsg after the end: %v, want io.EOF again", err)
		}
	}
	assertNoStreams(t, c)
}

func TestClientStreaming(t *testing.T) {
	checkGoroutines(t)
	c := newEchoServer(t).dial(t)
	s, err := c.NewStream(context.Background(), &StreamDesc{StreamingClient: true}, testService, "Sum", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := int32(1); i <= 10; i++ {
		if err := s.SendMsg(wrapperspb.Int32(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SendMsg(&wrapperspb.Int32Value{}); err != nil { // an empty message is still a message
		t.Fatal(err)
	}
	if err := s.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := s.CloseSend(); !errors.Is(err, ErrStreamClosed) {
		t.Fatalf("second CloseSend: %v", err)
	}
	if err := s.SendMsg(wrapperspb.Int32(1)); !errors.Is(err, ErrStreamClosed) {
		t.Fatalf("SendMsg after CloseSend: %v", err)
	}
	var sum wrapperspb.Int32Value
	if err := s.RecvMsg(&sum); err != nil || sum.Value != 55 {
		t.Fatalf("sum %d, %v", sum.Value, err)
	}
	assertNoStreams(t, c)
}

func TestBidiStreaming(t *testing.T) {
	checkGoroutines(t)
	c := newEchoServer(t).dial(t)
	s, err := c.NewStream(context.Background(), &StreamDesc{StreamingClient: true, StreamingServer: true}, testService, "Bidi", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		want := fmt.Sprint(i)
		if err := s.SendMsg(wrapperspb.String(want)); err != nil {
			t.Fatal(err)
		}
		var got wrapperspb.StringValue
		if err := s.RecvMsg(&got); err != nil || got.Value != "echo:"+want {
			t.Fatalf("round %d: %q %v", i, got.Value, err)
		}
	}
	if err := s.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := s.RecvMsg(&wrapperspb.StringValue{}); err != io.EOF {
		t.Fatalf("after CloseSend: %v, want io.EOF", err)
	}
	assertNoStreams(t, c)
}

// containerd/ttrpc's NewStream sends neither metadata nor the deadline
// (its issue #159); here both reach stream handlers.
func TestStreamCarriesMetadataAndDeadline(t *testing.T) {
	checkGoroutines(t)
	c := newEchoServer(t).dial(t)
	ctx, cancel := context.WithTimeout(WithMetadata(context.Background(), MD{"key": {"value"}}), time.Minute)
	defer cancel()
	s, err := c.NewStream(ctx, &StreamDesc{StreamingServer: true}, testService, "StreamMetadata", &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	var v wrapperspb.StringValue
	if err := s.RecvMsg(&v); err != nil || v.Value != "value" {
		t.Fatalf("metadata on stream: %q %v", v.Value, err)
	}
	var d wrapperspb.BoolValue
	if err := s.RecvMsg(&d); err != nil || !d.Value {
		t.Fatalf("deadline on stream: %v %v", d.Value, err)
	}
}

func TestStreamHandlerError(t *testing.T) {
	checkGoroutines(t)
	srv, _ := NewServer()
	srv.RegisterService("fail", &ServiceDesc{Streams: map[string]Stream{
		"Fail": {Handler: func(ctx context.Context, ss StreamServer) (any, error) {
			if err := ss.SendMsg(wrapperspb.Int32(1)); err != nil {
				return nil, err
			}
			return nil, status.Error(codes.DataLoss, "gone")
		}, StreamingServer: true},
	}})
	c := startServer(t, srv).dial(t)
	s, err := c.NewStream(context.Background(), &StreamDesc{StreamingServer: true}, "fail", "Fail", &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecvMsg(&wrapperspb.Int32Value{}); err != nil {
		t.Fatal(err)
	}
	err = s.RecvMsg(&wrapperspb.Int32Value{})
	if status.Code(err) != codes.DataLoss {
		t.Fatalf("got %v, want DataLoss", err)
	}
	// containerd/ttrpc leaves the stream in its table after an error
	// status; here it is gone, and further reads repeat the error.
	assertNoStreams(t, c)
	if err2 := s.RecvMsg(&wrapperspb.Int32Value{}); status.Code(err2) != codes.DataLoss {
		t.Fatalf("second RecvMsg: %v", err2)
	}
}

func TestAbandonedStreamIsForgotten(t *testing.T) {
	checkGoroutines(t)
	c := newEchoServer(t).dial(t)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := c.NewStream(ctx, &StreamDesc{StreamingClient: true, StreamingServer: true}, testService, "Bidi", nil)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := s.RecvMsg(&wrapperspb.StringValue{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("RecvMsg after cancel: %v", err)
	}
	assertNoStreams(t, c)
}

func TestStreamDirectionErrors(t *testing.T) {
	checkGoroutines(t)
	c := newEchoServer(t).dial(t)
	s, err := c.NewStream(context.Background(), &StreamDesc{StreamingServer: true}, testService, "Count", wrapperspb.Int32(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendMsg(wrapperspb.Int32(1)); !errors.Is(err, ErrProtocol) {
		t.Errorf("SendMsg on a non-streaming client: %v", err)
	}
	if err := s.CloseSend(); !errors.Is(err, ErrProtocol) {
		t.Errorf("CloseSend on a non-streaming client: %v", err)
	}
	if err := s.RecvMsg(&wrapperspb.Int32Value{}); err != io.EOF {
		t.Errorf("RecvMsg: %v", err)
	}
}

func TestStreamInterceptors(t *testing.T) {
	checkGoroutines(t)
	var order []string
	record := func(name string) StreamServerInterceptor {
		return func(ctx context.Context, ss StreamServer, info *StreamServerInfo, h StreamHandler) (any, error) {
			order = append(order, name+":"+info.FullMethod)
			return h(ctx, ss)
		}
	}
	srv, err := NewServer(WithStreamServerInterceptor(record("a")), WithChainStreamServerInterceptor(record("b"), record("c")))
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService(testService, echoService())
	var clientSaw []string
	c := startServer(t, srv).dial(t, WithChainStreamClientInterceptor(
		func(ctx context.Context, desc *StreamDesc, info *StreamClientInfo, service, method string, req any, streamer Streamer) (ClientStream, error) {
			clientSaw = append(clientSaw, info.FullMethod)
			return streamer(WithMetadata(ctx, MD{"key": {"from-interceptor"}}), desc, service, method, req)
		}))
	s, err := c.NewStream(context.Background(), &StreamDesc{StreamingServer: true}, testService, "StreamMetadata", &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	var v wrapperspb.StringValue
	if err := s.RecvMsg(&v); err != nil || v.Value != "from-interceptor" {
		t.Fatalf("metadata set by the client interceptor: %q %v", v.Value, err)
	}
	want := "/" + testService + "/StreamMetadata"
	if fmt.Sprint(order) != fmt.Sprint([]string{"a:" + want, "b:" + want, "c:" + want}) {
		t.Errorf("server interceptors ran as %v", order)
	}
	if fmt.Sprint(clientSaw) != fmt.Sprint([]string{want}) {
		t.Errorf("client interceptor saw %v", clientSaw)
	}
}

func TestUnaryInterceptors(t *testing.T) {
	checkGoroutines(t)
	var order []string
	record := func(name string) UnaryServerInterceptor {
		return func(ctx context.Context, u Unmarshaler, info *UnaryServerInfo, m Method) (any, error) {
			order = append(order, name)
			return m(ctx, u)
		}
	}
	srv, err := NewServer(WithUnaryServerInterceptor(record("a")), WithChainUnaryServerInterceptor(record("b"), record("c")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewServer(WithChainUnaryServerInterceptor(record("x")), WithUnaryServerInterceptor(record("y"))); err == nil {
		t.Error("WithUnaryServerInterceptor after a chain was accepted")
	}
	srv.RegisterService(testService, echoService())
	var clientOrder []string
	crec := func(name string) UnaryClientInterceptor {
		return func(ctx context.Context, req *Request, resp *Response, info *UnaryClientInfo, inv Invoker) error {
			clientOrder = append(clientOrder, name+":"+info.FullMethod)
			return inv(ctx, req, resp)
		}
	}
	c := startServer(t, srv).dial(t, WithUnaryClientInterceptor(crec("1")), WithChainUnaryClientInterceptor(crec("2"), crec("3")))
	var out wrapperspb.BytesValue
	if err := c.Call(context.Background(), testService, "Echo", wrapperspb.Bytes([]byte("x")), &out); err != nil || string(out.Value) != "x" {
		t.Fatalf("%q %v", out.Value, err)
	}
	if fmt.Sprint(order) != "[a b c]" {
		t.Errorf("server interceptors ran as %v", order)
	}
	m := "/" + testService + "/Echo"
	if fmt.Sprint(clientOrder) != fmt.Sprint([]string{"1:" + m, "2:" + m, "3:" + m}) {
		t.Errorf("client interceptors ran as %v", clientOrder)
	}
}

func assertNoStreams(t *testing.T, c *Client) {
	t.Helper()
	c.conn.mu.Lock()
	defer c.conn.mu.Unlock()
	if n := len(c.conn.calls); n != 0 {
		t.Errorf("%d streams left in the client's table", n)
	}
}

// A client-streaming method opened with the remote-closed flag (the caller
// announces it sends no data) ends its input at once instead of waiting
// for Data frames that never come.
func TestClientStreamingOpenedClosed(t *testing.T) {
	checkGoroutines(t)
	c := newEchoServer(t).dial(t)
	payload, _ := appendMessage(nil, wrapperspb.Int32(7))
	req := &Request{Service: testService, Method: "Sum", Payload: payload}
	s := &clientStream{conn: c.conn, desc: StreamDesc{}, ctx: context.Background()}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.openStream(ctx, s, req, flagRemoteClosed, streamRecvLimit, defaultMaxMessageSize); err != nil {
		t.Fatal(err)
	}
	s.ctx = ctx
	var sum wrapperspb.Int32Value
	if err := s.RecvMsg(&sum); err != nil || sum.Value != 7 {
		t.Fatalf("sum of the request payload alone: %d %v", sum.Value, err)
	}
}
