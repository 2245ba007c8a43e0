package ttrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

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
