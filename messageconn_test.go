package ttrpc

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The library carries frames of any size over a message-oriented
// connection such as NRI's multiplexer's (every Write is one message; a
// Read whose buffer cannot hold the next message fails with ENOMEM and the
// message is lost), whether it is used directly or through the compat
// module (see adaptConn).
func TestMessageOrientedConn(t *testing.T) {
	defer checkGoroutines(t)
	a, b := newMessageConnPair()
	srv, err := NewServer()
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService(testService, echoService())
	served := make(chan error, 1)
	go func() { served <- srv.ServeConn(context.Background(), b) }()
	c := NewClient(a)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, n := range []int{0, 10, 4086, 4087, 5000, 100 << 10, 1 << 20} {
		want := bytes.Repeat([]byte{'x'}, n)
		var got wrapperspb.BytesValue
		if err := c.Call(ctx, testService, "Echo", wrapperspb.Bytes(want), &got); err != nil || !bytes.Equal(got.Value, want) {
			t.Fatalf("Echo of %d bytes: %d bytes back, %v", n, len(got.Value), err)
		}
	}
	// Many frames at once: the writer coalesces them on sockets, and must
	// not here.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got wrapperspb.BytesValue
			errs <- c.Call(ctx, testService, "Echo", wrapperspb.Bytes(make([]byte, 6000)), &got)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	c.Close()
	srv.Close()
	<-served
}

// messageConn is one end of an in-memory message-oriented connection.
type messageConn struct {
	in, out chan []byte
	done    chan struct{}
	once    *sync.Once
}

func newMessageConnPair() (*messageConn, *messageConn) {
	ab, ba := make(chan []byte, 256), make(chan []byte, 256)
	done, once := make(chan struct{}), new(sync.Once)
	return &messageConn{in: ba, out: ab, done: done, once: once},
		&messageConn{in: ab, out: ba, done: done, once: once}
}

func (c *messageConn) Read(p []byte) (int, error) {
	select {
	case m := <-c.in:
		if len(p) < len(m) {
			return 0, syscall.ENOMEM
		}
		return copy(p, m), nil
	case <-c.done:
		return 0, io.EOF
	}
}

func (c *messageConn) Write(p []byte) (int, error) {
	m := append([]byte(nil), p...)
	select {
	case c.out <- m:
		return len(p), nil
	case <-c.done:
		return 0, io.EOF
	}
}

func (c *messageConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return nil
}

func (c *messageConn) LocalAddr() net.Addr              { return nil }
func (c *messageConn) RemoteAddr() net.Addr             { return nil }
func (c *messageConn) SetDeadline(time.Time) error      { return nil }
func (c *messageConn) SetReadDeadline(time.Time) error  { return nil }
func (c *messageConn) SetWriteDeadline(time.Time) error { return nil }
