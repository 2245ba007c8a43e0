package ttrpc

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Tests for what containerd/ttrpc programs rely on (issue 14's list), over
// real unix sockets.

// containerd's publisher compares with !=, Kata compares the text.
func TestClosedClientReturnsBareErrClosed(t *testing.T) {
	s := serveUnix(t)
	c := s.dial(t)
	ctx := testContext(t)
	if _, err := echo(ctx, c, "hi"); err != nil {
		t.Fatal(err)
	}
	c.Close()
	_, err := echo(ctx, c, "hi")
	if err != ErrClosed {
		t.Fatalf("Call after Close: %#v, want the bare ErrClosed", err)
	}
	if err.Error() != "ttrpc: closed" {
		t.Fatalf("text %q", err.Error())
	}
	if _, err := c.NewStream(ctx, &StreamDesc{StreamingServer: true}, testService, "Count", wrapperspb.Int32(1)); err != ErrClosed {
		t.Fatalf("NewStream after Close: %#v, want the bare ErrClosed", err)
	}
}

// A server that goes away also gives the bare ErrClosed (containerd's CRI
// matches the suffix "ttrpc: closed").
func TestServerGoneReturnsBareErrClosed(t *testing.T) {
	s := serveUnix(t)
	c := s.dial(t)
	ctx := testContext(t)
	if _, err := echo(ctx, c, "hi"); err != nil {
		t.Fatal(err)
	}
	s.srv.Close()
	if err := c.UserOnCloseWait(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := echo(ctx, c, "hi"); err != ErrClosed {
		t.Fatalf("Call after the server closed: %#v, want the bare ErrClosed", err)
	}
}

// Kata compares err.Error() with context.DeadlineExceeded.Error().
func TestTimeoutTextIsContextDeadlineExceeded(t *testing.T) {
	s := serveUnix(t)
	c := s.dial(t)
	ctx, cancel := context.WithTimeout(testContext(t), 50*time.Millisecond)
	defer cancel()
	err := c.Call(ctx, testService, "Wait", wrapperspb.String(""), &wrapperspb.StringValue{})
	if err == nil || err.Error() != "context deadline exceeded" {
		t.Fatalf("timed-out call: %v, want exactly \"context deadline exceeded\"", err)
	}
	if err != context.DeadlineExceeded {
		t.Fatalf("timed-out call: %#v, want the bare context.DeadlineExceeded", err)
	}
	// The connection is still usable after the cancel extension ran.
	if _, err := echo(testContext(t), c, "after"); err != nil {
		t.Fatal(err)
	}
	cctx, ccancel := context.WithCancel(testContext(t))
	ccancel()
	if _, err := echo(cctx, c, "x"); err != context.Canceled {
		t.Fatalf("cancelled call: %#v, want the bare context.Canceled", err)
	}
}

// NRI and firecracker-containerd compare Serve's result with ==.
func TestServeReturnsBareErrServerClosed(t *testing.T) {
	for _, stop := range []struct {
		name string
		stop func(*Server) error
	}{
		{"Close", (*Server).Close},
		{"Shutdown", func(s *Server) error { return s.Shutdown(context.Background()) }},
	} {
		t.Run(stop.name, func(t *testing.T) {
			s := serveUnix(t)
			c := s.dial(t)
			if _, err := echo(testContext(t), c, "hi"); err != nil {
				t.Fatal(err)
			}
			c.Close()
			if err := stop.stop(s.srv); err != nil {
				t.Fatal(err)
			}
			if err := <-s.served; err != ErrServerClosed {
				t.Fatalf("Serve: %#v, want the bare ErrServerClosed", err)
			}
			s.served <- ErrServerClosed // for the cleanup's check
		})
	}
}

// Handlers' grpc-go status errors keep their codes, the library's own
// errors are grpc-go status errors, errdefs-style code checks work.
func TestErrorsAreGRPCStatusErrors(t *testing.T) {
	s := serveUnix(t)
	c := s.dial(t)
	ctx := testContext(t)
	for _, code := range []codes.Code{codes.NotFound, codes.AlreadyExists, codes.FailedPrecondition,
		codes.InvalidArgument, codes.Unimplemented, codes.Unavailable, codes.DeadlineExceeded} {
		err := c.Call(ctx, testService, "Fail", wrapperspb.Int32(int32(code)), &wrapperspb.StringValue{})
		st, ok := grpcstatus.FromError(err)
		if !ok || st.Code() != code || st.Message() != "failing with "+itoa(int(code)) {
			t.Errorf("Fail(%v): %v (grpc status %v, ok %v)", code, err, st.Code(), ok)
		}
	}
	err := c.Call(ctx, testService, "NotExist", &wrapperspb.StringValue{}, &wrapperspb.StringValue{})
	if grpcstatus.Code(err) != codes.NotFound {
		t.Errorf("os.ErrNotExist handler: %v, code %v", err, grpcstatus.Code(err))
	}
	// Kata's old-agent check.
	err = c.Call(ctx, "no.such.Service", "M", &wrapperspb.StringValue{}, &wrapperspb.StringValue{})
	if grpcstatus.Convert(err).Code() != codes.Unimplemented {
		t.Errorf("unknown service: %v", err)
	}
	err = c.Call(ctx, testService, "NoSuchMethod", &wrapperspb.StringValue{}, &wrapperspb.StringValue{})
	if _, ok := grpcstatus.FromError(err); !ok || grpcstatus.Code(err) != codes.Unimplemented {
		t.Errorf("unknown method: %v", err)
	}
	// A request that cannot be marshalled: the library's own error.
	err = c.Call(ctx, testService, "Echo", "not a message", &wrapperspb.StringValue{})
	if _, ok := grpcstatus.FromError(err); !ok || grpcstatus.Code(err) == codes.OK {
		t.Errorf("unmarshallable request: %#v is not a grpc-go status error", err)
	}
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

// Stream errors are grpc-go status errors too; io.EOF still ends a
// stream; ErrStreamClosed is bare.
func TestStreamErrorsAreGRPCStatusErrors(t *testing.T) {
	s := serveUnix(t)
	c := s.dial(t)
	ctx := testContext(t)
	cs, err := c.NewStream(ctx, &StreamDesc{StreamingServer: true}, testService, "Refuse", wrapperspb.Int32(0))
	if err != nil {
		t.Fatal(err)
	}
	err = cs.RecvMsg(&wrapperspb.Int32Value{})
	if st, ok := grpcstatus.FromError(err); !ok || st.Code() != codes.NotFound || st.Message() != "no such stream" {
		t.Fatalf("stream error: %#v", err)
	}
	cs, err = c.NewStream(ctx, &StreamDesc{StreamingServer: true}, testService, "Count", wrapperspb.Int32(3))
	if err != nil {
		t.Fatal(err)
	}
	for i := range int32(3) {
		var m wrapperspb.Int32Value
		if err := cs.RecvMsg(&m); err != nil || m.Value != i {
			t.Fatalf("message %d: %v %v", i, m.Value, err)
		}
	}
	if err := cs.RecvMsg(&wrapperspb.Int32Value{}); err != io.EOF {
		t.Fatalf("end of stream: %#v, want io.EOF", err)
	}
	cs, err = c.NewStream(ctx, &StreamDesc{StreamingClient: true}, testService, "Sink", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.SendMsg("not a message"); grpcstatus.Code(err) == codes.Unknown {
		t.Fatalf("unmarshallable stream message: %#v is not a grpc-go status error", err)
	}
	if err := cs.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := cs.SendMsg(&wrapperspb.BytesValue{}); err != ErrStreamClosed {
		t.Fatalf("SendMsg after CloseSend: %#v, want the bare ErrStreamClosed", err)
	}
	var n wrapperspb.Int64Value
	if err := cs.RecvMsg(&n); err != nil {
		t.Fatal(err)
	}
}

// NRI re-chunks its Synchronize message with these.
func TestOversizedSendIsOversizedMessageErr(t *testing.T) {
	s := serveUnix(t)
	c := s.dial(t)
	ctx := testContext(t)
	big := &wrapperspb.BytesValue{Value: make([]byte, 5<<20)}
	err := c.Call(ctx, testService, "Size", big, &wrapperspb.Int64Value{})
	checkOversized(t, "Call", err)
	// The connection survives.
	if _, err := echo(ctx, c, "still here"); err != nil {
		t.Fatal(err)
	}
	// Through an interceptor, which sees the invoker's error (otelttrpc
	// records the span status from it).
	var seen codes.Code
	ic := s.dial(t, WithUnaryClientInterceptor(func(ctx context.Context, req *Request, resp *Response, info *UnaryClientInfo, invoker Invoker) error {
		err := invoker(ctx, req, resp)
		seen = grpcstatus.Code(err)
		return err
	}))
	err = ic.Call(ctx, testService, "Size", big, &wrapperspb.Int64Value{})
	checkOversized(t, "Call with interceptor", err)
	if seen != codes.ResourceExhausted {
		t.Errorf("interceptor saw code %v, want ResourceExhausted", seen)
	}
	cs, err := c.NewStream(ctx, &StreamDesc{StreamingClient: true}, testService, "Sink", nil)
	if err != nil {
		t.Fatal(err)
	}
	checkOversized(t, "SendMsg", cs.SendMsg(big))
	if err := cs.SendMsg(&wrapperspb.BytesValue{Value: []byte("abc")}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CloseSend(); err != nil {
		t.Fatal(err)
	}
	var n wrapperspb.Int64Value
	if err := cs.RecvMsg(&n); err != nil || n.Value != 3 {
		t.Fatalf("sink after an oversized send: %v %v", n.Value, err)
	}
	// Exactly 4 MiB on the wire is allowed: a message just under it passes.
	fits := &wrapperspb.BytesValue{Value: make([]byte, 4<<20-64)}
	var size wrapperspb.Int64Value
	if err := c.Call(ctx, testService, "Size", fits, &size); err != nil || size.Value != int64(len(fits.Value)) {
		t.Fatalf("message just under the limit: %v %v", size.Value, err)
	}
}

func checkOversized(t *testing.T, what string, err error) {
	t.Helper()
	var big *OversizedMessageErr
	if !errors.As(err, &big) {
		t.Fatalf("%s: %#v is not an *OversizedMessageErr", what, err)
	}
	if grpcstatus.Code(err) != codes.ResourceExhausted {
		t.Errorf("%s: grpc code %v, want ResourceExhausted", what, grpcstatus.Code(err))
	}
	if big.MaximumLength() != 4<<20 || big.RejectedLength() <= 5<<20 {
		t.Errorf("%s: lengths %d/%d", what, big.RejectedLength(), big.MaximumLength())
	}
	if !strings.Contains(err.Error(), "exceed maximum message size of 4194304") {
		t.Errorf("%s: text %q", what, err.Error())
	}
}

func TestOversizedMessageErrorConstructor(t *testing.T) {
	if OversizedMessageError(4<<20) != nil {
		t.Fatal("4 MiB is within the limit")
	}
	err := OversizedMessageError(4<<20 + 1)
	var big *OversizedMessageErr
	if !errors.As(err, &big) || big.RejectedLength() != 4<<20+1 || grpcstatus.Code(err) != codes.ResourceExhausted {
		t.Fatalf("%#v", err)
	}
	if got := err.Error(); got != "rpc error: code = ResourceExhausted desc = message length 4194305 exceed maximum message size of 4194304" {
		t.Fatalf("text %q", got)
	}
}

// NRI's isFatalError.
func TestErrProtocolKeepsErrorsIs(t *testing.T) {
	c := NewClient(rogueServer(t))
	defer c.Close()
	_, err := echo(testContext(t), c, "hi")
	if !errors.Is(err, ErrProtocol) {
		t.Fatalf("Data frame answering a unary call: %#v does not wrap ErrProtocol", err)
	}
}

// otelttrpc and Kata rewrite req.Metadata in client interceptors.
func TestClientInterceptorRewritesRealRequest(t *testing.T) {
	s := serveUnix(t)
	var fullMethod string
	c := s.dial(t, WithChainUnaryClientInterceptor(
		func(ctx context.Context, req *Request, resp *Response, info *UnaryClientInfo, invoker Invoker) error {
			fullMethod = info.FullMethod
			if req.Method != "MD" || req.Service != testService {
				t.Errorf("request %v", req)
			}
			req.Metadata = append(req.Metadata, &KeyValue{Key: "k", Value: "injected"})
			return invoker(ctx, req, resp)
		}))
	var out wrapperspb.StringValue
	if err := c.Call(testContext(t), testService, "MD", &wrapperspb.StringValue{}, &out); err != nil {
		t.Fatal(err)
	}
	if out.Value != "injected" || fullMethod != "/"+testService+"/MD" {
		t.Fatalf("handler saw %q, interceptor %q", out.Value, fullMethod)
	}
	// Metadata from the context travels too.
	ctx := WithMetadata(testContext(t), MD{"k": {"from-ctx"}})
	plain := s.dial(t)
	if err := plain.Call(ctx, testService, "MD", &wrapperspb.StringValue{}, &out); err != nil || out.Value != "from-ctx" {
		t.Fatalf("metadata from the context: %q %v", out.Value, err)
	}
}

// MD is a plain map; Clone copies deeply (containerd's namespaces test).
func TestMDIsAPlainMapWithDeepClone(t *testing.T) {
	md := MD{}
	md.Set("Key", "a")
	md.Append("key", "b")
	if v, ok := md.Get("KEY"); !ok || len(v) != 2 || len(md) != 1 {
		t.Fatalf("%v", md)
	}
	for k, v := range md {
		if k != "key" || v[0] != "a" {
			t.Fatalf("%v", md)
		}
	}
	c := md.Clone()
	c["key"][0] = "changed"
	if md["key"][0] != "a" {
		t.Fatal("Clone shares value slices")
	}
	if MD(nil).Clone() != nil {
		t.Fatal("Clone of nil")
	}
}

// containerd type-asserts *ttrpc.Client and waits for its close callback.
func TestClientIsConcreteWithUserOnCloseWait(t *testing.T) {
	s := serveUnix(t)
	closed := make(chan struct{})
	var client any = s.dial(t, WithOnClose(func() { close(closed) }))
	c, ok := client.(*Client)
	if !ok {
		t.Fatal("not a *Client")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.UserOnCloseWait(testContext(t)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	default:
		t.Fatal("UserOnCloseWait returned before the callback ran")
	}
}

// The reference's placeholder; ttrpc-go's stream interceptors are reached
// with WithStreamClientInterceptors and their streams are translated.
func TestStreamClientInterceptors(t *testing.T) {
	var placeholder StreamClientInterceptor = func(context.Context) {}
	_ = placeholder
	s := serveUnix(t)
	var intercepted string
	c := s.dial(t, WithStreamClientInterceptors(func(ctx context.Context, desc *StreamDesc, info *streamClientInfo,
		service, method string, req any, streamer streamer) (ClientStream, error) {
		intercepted = info.FullMethod
		return streamer(ctx, desc, service, method, req)
	}))
	cs, err := c.NewStream(testContext(t), &StreamDesc{StreamingServer: true}, testService, "Refuse", wrapperspb.Int32(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.RecvMsg(&wrapperspb.Int32Value{}); grpcstatus.Code(err) != codes.NotFound {
		t.Fatalf("%#v", err)
	}
	if intercepted != "/"+testService+"/Refuse" {
		t.Fatalf("interceptor saw %q", intercepted)
	}
}

// Two Serve calls and handshakers: UnixSocketRequireSameUser on a real
// socket accepts this process.
func TestSameUserHandshaker(t *testing.T) {
	s := serveUnix(t, WithServerHandshaker(UnixSocketRequireSameUser()))
	if _, err := echo(testContext(t), s.dial(t), "hi"); err != nil {
		t.Fatal(err)
	}
	if _, err := NewServer(WithServerHandshaker(UnixSocketRequireRoot()), WithServerHandshaker(UnixSocketRequireRoot())); err == nil {
		t.Fatal("a second handshaker was accepted")
	}
	_ = os.Getuid
}

// A stream whose client is closed fails with the bare ErrClosed too
// (containerd's streaming proxy and CRI's stats streams check it).
func TestStreamOfClosedClientReturnsBareErrClosed(t *testing.T) {
	s := serveUnix(t)
	c := s.dial(t)
	ctx := testContext(t)
	cs, err := c.NewStream(ctx, &StreamDesc{StreamingClient: true}, testService, "Sink", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.SendMsg(&wrapperspb.BytesValue{Value: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := cs.RecvMsg(&wrapperspb.Int64Value{}); err != ErrClosed {
		t.Fatalf("RecvMsg after Close: %#v, want the bare ErrClosed", err)
	}
	if err := cs.SendMsg(&wrapperspb.BytesValue{}); err != ErrClosed && err != ErrStreamClosed {
		t.Fatalf("SendMsg after Close: %#v", err)
	}
}
