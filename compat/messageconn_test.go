package ttrpc

import (
	"io"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestMessageConn: connections like NRI's multiplexer's (see frameConn): nil addresses,
// deadlines that do nothing, every Write delivered as one message, and a
// Read that fails with ENOMEM when its buffer cannot hold the next message.
func TestMessageConn(t *testing.T) {
	a, b := newMessageConnPair()
	serveListener(t, &oneConnListener{conn: b, closed: make(chan struct{})})
	c := NewClient(a)
	defer c.Close()
	exercise(t, c)
}

// messageConn is one end of a message-oriented in-memory connection.
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
		if cap(p) < len(m) {
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
