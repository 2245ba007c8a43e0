package ttrpc

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

const (
	hubService   = "ttrpc.test.v1.Hub"   // served by the server
	eventService = "ttrpc.test.v1.Event" // served by clients
)

// hub is a server whose handlers call back into the calling client.
type hub struct {
	peers chan *Client // clients kept by Subscribe, to push to later
}

func (h *hub) desc() *ServiceDesc {
	return &ServiceDesc{
		Methods: map[string]Method{
			// Ask calls the client's Echo with the request and returns
			// what the client answered.
			"Ask": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				var q wrapperspb.StringValue
				if err := unmarshal(&q); err != nil {
					return nil, err
				}
				peer, ok := PeerClient(ctx)
				if !ok {
					return nil, status.Error(codes.Internal, "no peer client")
				}
				var a wrapperspb.StringValue
				if err := peer.Call(ctx, eventService, "Echo", &q, &a); err != nil {
					return nil, err
				}
				return &a, nil
			},
			"Subscribe": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				peer, _ := PeerClient(ctx)
				h.peers <- peer
				return &emptypb.Empty{}, nil
			},
		},
	}
}

func newHub(t *testing.T, opts ...ServerOpt) (*hub, *testServer) {
	h := &hub{peers: make(chan *Client, 10)}
	srv, err := NewServer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService(hubService, h.desc())
	return h, startServer(t, srv)
}

// eventDesc is what clients serve: Echo reports metadata and deadline,
// Fail fails, Count streams, Block waits for cancellation.
func eventDesc(blocked chan<- error) *ServiceDesc {
	return &ServiceDesc{
		Methods: map[string]Method{
			"Echo": func(ctx context.Context, unmarshal func(any) error) (any, error) {
				var v wrapperspb.StringValue
				if err := unmarshal(&v); err != nil {
					return nil, err
				}
				md, _ := GetMetadataValue(ctx, "from")
				_, hasDeadline := ctx.Deadline()
				return wrapperspb.String("client got " + v.Value + " md=" + md + " deadline=" + map[bool]string{true: "yes", false: "no"}[hasDeadline]), nil
			},
			"Fail": func(context.Context, func(any) error) (any, error) {
				return nil, status.Error(codes.PermissionDenied, "client says no")
			},
			"Block": func(ctx context.Context, _ func(any) error) (any, error) {
				<-ctx.Done()
				blocked <- ctx.Err()
				return nil, ctx.Err()
			},
		},
		Streams: map[string]Stream{
			"Count": {StreamingServer: true, Handler: func(ctx context.Context, ss StreamServer) (any, error) {
				var n wrapperspb.Int32Value
				if err := ss.RecvMsg(&n); err != nil {
					return nil, err
				}
				for i := int32(0); i < n.Value; i++ {
					if err := ss.SendMsg(wrapperspb.Int32(i)); err != nil {
						return nil, err
					}
				}
				return nil, nil
			}},
			"Bidi": {StreamingClient: true, StreamingServer: true, Handler: func(ctx context.Context, ss StreamServer) (any, error) {
				for {
					var v wrapperspb.StringValue
					if err := ss.RecvMsg(&v); err == io.EOF {
						return nil, nil
					} else if err != nil {
						return nil, err
					}
					if err := ss.SendMsg(wrapperspb.String("re:" + v.Value)); err != nil {
						return nil, err
					}
				}
			}},
		},
	}
}

func TestReverseUnaryCallFromHandler(t *testing.T) {
	checkGoroutines(t)
	_, ts := newHub(t)
	c := ts.dial(t)
	c.RegisterService(eventService, eventDesc(nil))
	ctx, cancel := context.WithTimeout(WithMetadata(context.Background(), MD{"from": {"caller"}}), time.Minute)
	defer cancel()
	var out wrapperspb.StringValue
	if err := c.Call(ctx, hubService, "Ask", wrapperspb.String("ping"), &out); err != nil {
		t.Fatal(err)
	}
	// The handler forwarded its context: metadata and deadline travelled
	// on the reverse call too.
	if want := "client got ping md=caller deadline=yes"; out.Value != want {
		t.Fatalf("got %q, want %q", out.Value, want)
	}
}

func TestServerPushesToKeptPeers(t *testing.T) {
	checkGoroutines(t)
	h, ts := newHub(t)
	blocked := make(chan error, 1)
	c := ts.dial(t)
	c.RegisterService(eventService, eventDesc(blocked))
	if err := c.Call(context.Background(), hubService, "Subscribe", &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	peer := <-h.peers

	// Unary, after the handler that handed out the peer has returned.
	var out wrapperspb.StringValue
	if err := peer.Call(context.Background(), eventService, "Echo", wrapperspb.String("event"), &out); err != nil || out.Value != "client got event md= deadline=no" {
		t.Fatalf("push: %q %v", out.Value, err)
	}
	// Status errors cross in the reverse direction too.
	if err := peer.Call(context.Background(), eventService, "Fail", &emptypb.Empty{}, &emptypb.Empty{}); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("reverse error: %v", err)
	}
	// Server-streaming.
	s, err := peer.NewStream(context.Background(), &StreamDesc{StreamingServer: true}, eventService, "Count", wrapperspb.Int32(3))
	if err != nil {
		t.Fatal(err)
	}
	for i := int32(0); i < 3; i++ {
		var v wrapperspb.Int32Value
		if err := s.RecvMsg(&v); err != nil || v.Value != i {
			t.Fatalf("stream message %d: %v %v", i, v.Value, err)
		}
	}
	if err := s.RecvMsg(&wrapperspb.Int32Value{}); err != io.EOF {
		t.Fatalf("end of reverse stream: %v", err)
	}
	// Bidi.
	b, err := peer.NewStream(context.Background(), &StreamDesc{StreamingClient: true, StreamingServer: true}, eventService, "Bidi", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SendMsg(wrapperspb.String("x")); err != nil {
		t.Fatal(err)
	}
	var v wrapperspb.StringValue
	if err := b.RecvMsg(&v); err != nil || v.Value != "re:x" {
		t.Fatalf("bidi: %q %v", v.Value, err)
	}
	if err := b.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if err := b.RecvMsg(&v); err != io.EOF {
		t.Fatalf("bidi end: %v", err)
	}

	// Cancelling a reverse call cancels the client's handler.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- peer.Call(ctx, eventService, "Block", &emptypb.Empty{}, &emptypb.Empty{}) }()
	// Wait until the handler runs: a call cancelled while it still waits
	// for a worker is dropped without running its handler.
	waitFor(t, func() bool {
		c.conn.mu.Lock()
		defer c.conn.mu.Unlock()
		for _, ss := range c.conn.served {
			if ss.state.Load() == handlerRunning {
				return true
			}
		}
		return false
	})
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled reverse call: %v", err)
	}
	if err := <-blocked; !errors.Is(err, context.Canceled) {
		t.Fatalf("client handler ended with %v, want Canceled", err)
	}

	// Once the client is gone, pushes fail at once with ErrClosed.
	c.Close()
	waitFor(t, func() bool {
		return errors.Is(peer.Call(context.Background(), eventService, "Echo", wrapperspb.String("late"), &out), ErrClosed)
	})
}

// A client that registered nothing (like every containerd/ttrpc client)
// never receives a request: the server's call fails at once.
func TestReverseCallRefusedWithoutOptIn(t *testing.T) {
	checkGoroutines(t)
	_, ts := newHub(t)
	c := ts.dial(t)
	start := time.Now()
	err := c.Call(context.Background(), hubService, "Ask", wrapperspb.String("ping"), &wrapperspb.StringValue{})
	if !errors.Is(err, ErrPeerNotServing) && status.Code(err) != codes.Unimplemented {
		t.Fatalf("got %v, want Unimplemented (peer not serving)", err)
	}
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("code %v, want Unimplemented", status.Code(err))
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("refusal was not immediate")
	}
	if !errors.Is(errPeerNotServing, ErrPeerNotServing) {
		t.Fatal("sentinel not matched")
	}

	// Seen from the wire: a raw peer that sends the request gets exactly
	// one frame back, the Response, and nothing on an even id.
	nc, err := net.Dial("unix", ts.path)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	payload, _ := appendMessage(nil, wrapperspb.String("ping"))
	frame, _ := appendRequestFrame(nil, &Request{Service: hubService, Method: "Ask", Payload: payload}, 0, defaultMaxMessageSize)
	binaryPutStreamID(frame, 1)
	if _, err := nc.Write(frame); err != nil {
		t.Fatal(err)
	}
	fr := newFrameReader(nc, defaultMaxMessageSize)
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	h, body, err := fr.next()
	if err != nil || h.typ != frameResponse || h.streamID != 1 {
		t.Fatalf("first frame %+v %v", h, err)
	}
	putBuffer(body)
	nc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if h, _, err := fr.next(); err == nil {
		t.Fatalf("unexpected frame %+v", h)
	}
}

func TestReverseInterceptors(t *testing.T) {
	checkGoroutines(t)
	var peerSaw, clientSaw string
	_, ts := newHub(t, WithPeerClientOpts(WithUnaryClientInterceptor(
		func(ctx context.Context, req *Request, resp *Response, info *UnaryClientInfo, inv Invoker) error {
			peerSaw = info.FullMethod
			return inv(ctx, req, resp)
		})))
	c := ts.dial(t, WithClientServerOpts(WithUnaryServerInterceptor(
		func(ctx context.Context, u Unmarshaler, info *UnaryServerInfo, m Method) (any, error) {
			clientSaw = info.FullMethod
			return m(ctx, u)
		})))
	c.RegisterService(eventService, eventDesc(nil))
	if err := c.Call(context.Background(), hubService, "Ask", wrapperspb.String("x"), &wrapperspb.StringValue{}); err != nil {
		t.Fatal(err)
	}
	want := "/" + eventService + "/Echo"
	if peerSaw != want || clientSaw != want {
		t.Fatalf("interceptors saw %q (server side) and %q (client side), want %q", peerSaw, clientSaw, want)
	}
}

// containerd/ttrpc keeps running a handler whose caller gave up until its
// own timeout (its issue #3); here the caller's cancel reaches it.
func TestCancellationReachesHandler(t *testing.T) {
	checkGoroutines(t)
	entered := make(chan struct{}, 2)
	ended := make(chan error, 2)
	srv, _ := NewServer()
	srv.RegisterService("slow", &ServiceDesc{
		Methods: map[string]Method{"Wait": func(ctx context.Context, _ func(any) error) (any, error) {
			entered <- struct{}{}
			<-ctx.Done()
			ended <- ctx.Err()
			return nil, ctx.Err()
		}},
		Streams: map[string]Stream{"WaitStream": {StreamingServer: true, Handler: func(ctx context.Context, ss StreamServer) (any, error) {
			entered <- struct{}{}
			<-ctx.Done()
			ended <- ctx.Err()
			return nil, ctx.Err()
		}}},
	})
	c := startServer(t, srv).dial(t)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Call(ctx, "slow", "Wait", &emptypb.Empty{}, &emptypb.Empty{}) }()
	<-entered
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("call: %v", err)
	}
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("unary handler ended with %v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	s, err := c.NewStream(ctx, &StreamDesc{StreamingServer: true}, "slow", "WaitStream", &emptypb.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	<-entered
	cancel()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Fatalf("stream handler ended with %v", err)
	}
	if err := s.RecvMsg(&emptypb.Empty{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("RecvMsg after cancel: %v", err)
	}
	// Nothing is left on the server for either call.
	waitFor(t, func() bool {
		ts := srv
		ts.mu.Lock()
		defer ts.mu.Unlock()
		for sc := range ts.conns {
			sc.mu.Lock()
			n := len(sc.served)
			sc.mu.Unlock()
			if n != 0 {
				return false
			}
		}
		return true
	})
}

func TestPeerClientOnClose(t *testing.T) {
	checkGoroutines(t)
	closed := make(chan struct{})
	h, ts := newHub(t, WithPeerClientOpts(WithOnClose(func() { close(closed) })))
	c := ts.dial(t)
	c.RegisterService(eventService, eventDesc(nil))
	if err := c.Call(context.Background(), hubService, "Subscribe", &emptypb.Empty{}, &emptypb.Empty{}); err != nil {
		t.Fatal(err)
	}
	peer := <-h.peers
	c.Close()
	<-closed
	if err := peer.UserOnCloseWait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestPeerClientOutsideHandler(t *testing.T) {
	if _, ok := PeerClient(context.Background()); ok {
		t.Fatal("PeerClient found a client in a plain context")
	}
}
