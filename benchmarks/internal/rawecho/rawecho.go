// Package rawecho is the floor the RPC libraries are measured against: the
// same echo exchanges as plain length-prefixed frames on the same kind of
// socket, with no stream ids, envelopes, marshalling or multiplexing.
//
// A frame is a 4-byte big-endian payload length, a 1-byte kind and the
// payload. Both ends reuse their buffers, write each frame with one write
// call (as the ttrpc libraries flush each frame) and read through a 4 KiB
// bufio.Reader (as the ttrpc libraries do), so steady state allocates nothing.
package rawecho

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/benchmarks/internal/echo"
)

const (
	headerLen = 5

	kindEcho   = 1 // answer with one copy of the payload
	kindStream = 2 // answer with echo.StreamCount copies of the payload
)

// maxPayload bounds what either end accepts, like the RPC libraries' 4 MiB
// frame limit, so a corrupt length cannot make it allocate gigabytes.
const maxPayload = 4 << 20

var errTooLarge = errors.New("rawecho: frame too large")

// readFrame reads one frame from r into buf (grown if needed) and returns
// its kind and payload, or the read error. h receives the header; it is the
// caller's so that it is not allocated per frame.
func readFrame(r *bufio.Reader, h *[headerLen]byte, buf []byte) (byte, []byte, error) {
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, buf, err
	}
	n := binary.BigEndian.Uint32(h[:4])
	if n > maxPayload {
		return 0, buf, errTooLarge
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	_, err := io.ReadFull(r, buf)
	return h[4], buf, err
}

// putHeader writes a frame header for a payload of n bytes into f[:headerLen].
func putHeader(f []byte, kind byte, n int) {
	binary.BigEndian.PutUint32(f, uint32(n))
	f[4] = kind
}

// Server accepts connections and echoes frames on each until stopped.
type Server struct {
	l     net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// Serve starts answering connections accepted from l and returns the
// running server.
func Serve(l net.Listener) *Server {
	s := &Server{l: l, conns: make(map[net.Conn]struct{})}
	s.wg.Add(1)
	go s.accept()
	return s
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return // the listener was closed by Stop
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.handle(c)
	}
}

func (s *Server) handle(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	r := bufio.NewReader(c)
	var h [headerLen]byte
	// The payload is read straight behind the header it is sent back with.
	frame := make([]byte, headerLen, headerLen+4096)
	for {
		kind, p, err := readFrame(r, &h, frame[headerLen:])
		if err != nil {
			return
		}
		if cap(frame) < headerLen+len(p) {
			frame = make([]byte, headerLen+len(p))
			copy(frame[headerLen:], p)
		}
		frame = frame[:headerLen+len(p)]
		putHeader(frame, kindEcho, len(p))
		copies := 1
		if kind == kindStream {
			copies = echo.StreamCount
		}
		for range copies {
			if _, err := c.Write(frame); err != nil {
				return
			}
		}
	}
}

// Stop closes the listener and every connection and waits for the server's
// goroutines; it returns the error of closing the listener.
func (s *Server) Stop() error {
	err := s.l.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// Client runs one exchange at a time on a single connection: concurrent
// calls queue on a mutex, since a plain ping-pong has no way to tell
// interleaved answers apart.
type Client struct {
	mu   sync.Mutex
	conn net.Conn
	r    *bufio.Reader
	rhdr [headerLen]byte
	wbuf []byte
}

// Dial connects to the unix socket at path and returns a client, or the dial
// error.
func Dial(path string) (echo.Client, error) {
	c, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	return &Client{conn: c, r: bufio.NewReader(c)}, nil
}

// send writes one frame carrying p; the caller holds c.mu.
func (c *Client) send(kind byte, p []byte) error {
	if cap(c.wbuf) < headerLen+len(p) {
		c.wbuf = make([]byte, headerLen+len(p))
	}
	c.wbuf = c.wbuf[:headerLen+len(p)]
	putHeader(c.wbuf, kind, len(p))
	copy(c.wbuf[headerLen:], p)
	_, err := c.conn.Write(c.wbuf)
	return err
}

// Unary sends req.Value and reads the echo into resp.Value, reusing its
// capacity; it returns the socket error, if any.
func (c *Client) Unary(_ context.Context, req, resp *wrapperspb.BytesValue) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.send(kindEcho, req.Value); err != nil {
		return err
	}
	_, p, err := readFrame(c.r, &c.rhdr, resp.Value[:0])
	resp.Value = p
	return err
}

// ServerStream sends req.Value, asking for echo.StreamCount copies, and reads
// them into resp.Value; it returns how many were read and the socket error.
func (c *Client) ServerStream(_ context.Context, req, resp *wrapperspb.BytesValue) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.send(kindStream, req.Value); err != nil {
		return 0, err
	}
	for n := range echo.StreamCount {
		_, p, err := readFrame(c.r, &c.rhdr, resp.Value[:0])
		resp.Value = p
		if err != nil {
			return n, err
		}
	}
	return echo.StreamCount, nil
}

// Bidi returns a stream that owns the connection until it is closed; every
// Send must be followed by a Recv, since each message is a ping-pong.
func (c *Client) Bidi(_ context.Context) (echo.BidiStream, error) {
	c.mu.Lock()
	return bidi{c}, nil
}

// Close closes the connection; it returns the error of closing the socket.
func (c *Client) Close() error { return c.conn.Close() }

type bidi struct{ c *Client }

func (b bidi) Send(m *wrapperspb.BytesValue) error { return b.c.send(kindEcho, m.Value) }

func (b bidi) Recv(m *wrapperspb.BytesValue) error {
	_, p, err := readFrame(b.c.r, &b.c.rhdr, m.Value[:0])
	m.Value = p
	return err
}

func (b bidi) Close() error {
	b.c.mu.Unlock()
	return nil
}
