package ttrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// conn is the engine under both Client and Server: one connection, its
// life cycle and its stream tables. One reader goroutine (readloop.go)
// reads every frame and routes it either to a stream this side opened (a
// call) or to the serving side, which runs a handler per stream the peer
// opens (worker.go). The dialling side opens odd stream ids and the
// accepting side even ones; nothing else depends on who dialled, so either
// side can call and serve.
//
// This file is the only one that takes conn.mu. Lock order: conn.mu may be
// taken while frameWriter.mu is held (the writer assigns stream ids under
// its lock and registers the call under conn.mu); an inbox's lock may be
// taken while conn.mu is held (fullestInbox), and an inbox never calls
// out while holding its own; conn.mu is never held while taking
// frameWriter.mu or connBudget.mu, and never across I/O.
type conn struct {
	nc     net.Conn
	cfg    *connConfig
	fr     *frameReader
	fw     *frameWriter
	budget connBudget

	// serial tells this connection from every other of the process; with a
	// stream id it names a stream (streamKey).
	serial uint64
	// localParity is the low bit of the ids this side opens.
	localParity uint32
	// peerServes says the peer accepts requests: always for the dialler's
	// peer; for the acceptor's, once the dialler said so in a Hello frame.
	peerServes atomic.Bool
	// peerServing is closed when peerServes becomes true.
	peerServing     chan struct{}
	peerServingOnce sync.Once
	// helloSent makes the dialler announce its services once.
	helloSent atomic.Bool

	// ctx is the parent of every handler context on this connection; it is
	// cancelled when the connection ends.
	ctx    context.Context
	cancel context.CancelFunc

	mu sync.Mutex
	// calls are the streams this side opened and still waits on.
	calls map[uint32]*clientStream
	// served are the streams the peer opened whose handlers wait or run.
	served map[uint32]*serverStream
	// running counts the handlers of served that hold a handler slot;
	// waiting holds the others, in arrival order (backpressure, not
	// refusal, beyond maxStreams).
	running int
	waiting []*serverStream
	// lastPeerID is the highest id the peer opened; ids must increase.
	lastPeerID uint32
	// draining closes the connection when it next has nothing in flight
	// (graceful shutdown); requests still arriving meanwhile are served.
	draining bool
	// err is why the connection ended; non-nil once it has.
	err error
	// client calls the peer over this connection: the Client that dialled,
	// or on the accepting side the one PeerClient created (nil until then).
	client *Client

	done chan struct{} // closed once the connection is closed and cleaned up

}

func newConn(nc net.Conn, cfg *connConfig, dialer bool, base context.Context) *conn {
	nc = adaptConn(nc, cfg.maxMessageSize)
	c := &conn{
		nc:          nc,
		cfg:         cfg,
		fr:          newFrameReader(nc, cfg.maxMessageSize),
		calls:       make(map[uint32]*clientStream),
		served:      make(map[uint32]*serverStream),
		done:        make(chan struct{}),
		peerServing: make(chan struct{}),
		serial:      connSerials.Add(1),
	}
	c.budget.limit = cfg.connBudget
	first := uint32(2)
	if dialer {
		c.localParity, first = 1, 1
		c.setPeerServes()
	}
	c.fw = newFrameWriter(nc, first, cfg.writeBudget())
	c.fw.broken = func(err error) { go c.close(normaliseConnError(err)) }
	c.fw.released = c.budget.kick
	c.fw.stallTimeout = cfg.writeStallTimeout
	c.ctx, c.cancel = context.WithCancel(context.WithValue(base, connKey{}, c))
	return c
}

// connSerials numbers connections (conn.serial).
var connSerials atomic.Uint64

// key names the stream id of this connection.
func (c *conn) key(id uint32) streamKey { return streamKey{conn: c.serial, id: id} }

// start launches the reader goroutine.
func (c *conn) start() {
	c.cfg.workers.connStarted()
	go c.run()
}

func (c *conn) run() {
	err := c.readLoop()
	c.close(normaliseConnError(err))
}

func (c *conn) setPeerServes() {
	c.peerServes.Store(true)
	c.peerServingOnce.Do(func() { close(c.peerServing) })
}

// lookupCall returns the call this side opened on id, or nil.
func (c *conn) lookupCall(id uint32) *clientStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[id]
}

// lookupServed returns the peer stream on id whose handler waits or runs.
func (c *conn) lookupServed(id uint32) *serverStream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.served[id]
}

// hasCalls reports whether this side waits on calls of its own; the reader
// must then not stop reading for the peer's requests (PROTOCOL.md,
// "Backpressure"), or the answers to those calls could never arrive.
func (c *conn) hasCalls() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls) > 0
}

// acceptPeerID checks that a request's id is above every id the peer
// opened before, and records it.
func (c *conn) acceptPeerID(id uint32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id <= c.lastPeerID {
		return false
	}
	c.lastPeerID = id
	return true
}

// registerCall records s as the call on id; it runs under the writer's
// lock, before the Request frame can reach the wire.
func (c *conn) registerCall(s *clientStream, id uint32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return ErrClosed
	}
	s.id = id
	c.calls[id] = s
	return nil
}

// forget removes a stream this side opened; late frames for it are dropped.
func (c *conn) forget(s *clientStream) {
	c.mu.Lock()
	if c.calls[s.id] == s {
		delete(c.calls, s.id)
	}
	idle := c.idleLocked()
	c.mu.Unlock()
	if idle {
		c.closeDrained(drainGrace)
	}
}

// admit registers a peer stream and reports whether its handler may start
// now; otherwise it waits in line until a running handler ends. It fails
// when the connection is gone.
func (c *conn) admit(ss *serverStream) (start bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return false, c.err
	}
	c.served[ss.id] = ss
	if c.cfg.maxStreams > 0 && c.running >= c.cfg.maxStreams {
		c.waiting = append(c.waiting, ss)
		return false, nil
	}
	c.running++
	return true, nil
}

// finishServed removes a peer stream whose handler ended (or that was
// cancelled before it ran) and returns the waiting stream that takes its
// handler slot, if any.
func (c *conn) finishServed(ss *serverStream, heldSlot bool) *serverStream {
	c.mu.Lock()
	if c.served[ss.id] == ss {
		delete(c.served, ss.id)
	}
	var next *serverStream
	if heldSlot {
		c.running--
		if len(c.waiting) > 0 && c.err == nil {
			next = c.waiting[0]
			c.waiting[0] = nil
			c.waiting = c.waiting[1:]
			c.running++
		}
	}
	idle := c.idleLocked()
	c.mu.Unlock()
	if idle {
		c.closeDrained(drainGrace)
	}
	return next
}

// dequeue removes a waiting stream that will never run (its caller
// cancelled it); it reports whether it was still waiting.
func (c *conn) dequeue(ss *serverStream) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, w := range c.waiting {
		if w == ss {
			c.waiting = append(c.waiting[:i], c.waiting[i+1:]...)
			return true
		}
	}
	return false
}

// fullestInbox returns the inbox holding the most unread bytes on this
// connection (nil when none holds any) and the stream it serves.
func (c *conn) fullestInbox() (*inbox, streamKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var best *inbox
	var bestID uint32
	var most int64
	for id, s := range c.calls {
		if n := s.in.unread(); n > most {
			best, bestID, most = &s.in, id, n
		}
	}
	for id, ss := range c.served {
		if n := ss.in.unread(); n > most {
			best, bestID, most = &ss.in, id, n
		}
	}
	return best, c.key(bestID)
}

// peerClient returns the Client that calls over c, creating it on the
// accepting side the first time it is asked for.
func (c *conn) peerClient() *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.client == nil {
		cl := newPeerClient(c)
		c.client = cl
		if c.err != nil {
			go cl.runOnClose()
		}
	}
	return c.client
}

// callerClient returns the Client that calls over c, if there is one.
func (c *conn) callerClient() *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.client
}

// statusError turns a status received for (or about) one of this side's
// calls into the error the caller sees, as its Client is configured to.
func (c *conn) statusError(st *spb.Status) error {
	if cl := c.callerClient(); cl != nil && cl.statusError != nil {
		return cl.statusError(st)
	}
	return status.ErrorProto(st)
}

// close ends the connection with err (once): the socket is closed, calls
// fail with err, handler contexts are cancelled.
func (c *conn) close(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	calls := c.calls
	c.calls = map[uint32]*clientStream{}
	served := c.served
	c.served = map[uint32]*serverStream{}
	waiting := c.waiting
	c.waiting = nil
	client := c.client
	c.mu.Unlock()

	c.fw.fail(ErrClosed)
	_ = c.nc.Close()
	c.cancel()
	// A call keeps what the peer sent before the end (the answer of a peer
	// that replies and hangs up must not be lost); nothing more can come.
	for id, s := range calls {
		s.in.closeWith(c.key(id), err)
	}
	for id, ss := range served {
		ss.in.fail(c.key(id), err)
	}
	for _, ss := range waiting {
		ss.discard()
	}
	c.cfg.workers.connEnded()
	if c.cfg.onClose != nil {
		c.cfg.onClose(c)
	}
	if client != nil {
		go client.runOnClose()
	}
	close(c.done)
}

// drain makes the connection close as soon as it has nothing in flight:
// at once when it is idle now (graceful shutdown).
func (c *conn) drain() {
	c.mu.Lock()
	c.draining = true
	idle := c.idleLocked()
	c.mu.Unlock()
	if idle {
		c.closeDrained(0)
	}
}

// idleLocked reports a draining connection with nothing in flight.
func (c *conn) idleLocked() bool {
	return c.draining && c.err == nil && len(c.served) == 0 && len(c.calls) == 0
}

// drainGrace is how long a draining connection that just finished its last
// call stays open after that call's answer was written. containerd/ttrpc's
// client can report ErrClosed instead of an answer that arrives together
// with the end of the connection; a connection idle when Shutdown starts is
// closed at once.
const drainGrace = 50 * time.Millisecond

// closeDrained closes a drained connection once everything queued has been
// written and grace has passed, unless it got busy again meanwhile.
func (c *conn) closeDrained(grace time.Duration) {
	go func() {
		c.fw.waitIdle(time.Second)
		if grace > 0 {
			t := time.NewTimer(grace)
			defer t.Stop()
			select {
			case <-t.C:
			case <-c.done:
				return
			}
		}
		c.mu.Lock()
		idle := c.idleLocked()
		c.mu.Unlock()
		if idle {
			c.close(ErrClosed)
		}
	}()
}

// normaliseConnError maps the ways a peer can go away to ErrClosed, which
// is what callers match on.
func normaliseConnError(err error) error {
	switch {
	case err == nil,
		errors.Is(err, ErrClosed),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, io.ErrClosedPipe),
		errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return ErrClosed
	}
	return errors.Join(ErrClosed, err)
}

// errPeerNotReading ends a connection whose peer left too much unread.
var errPeerNotReading = fmt.Errorf("%w: the peer does not read its answers", ErrClosed)

// replyStatus answers a peer stream with a status from the reader goroutine.
// It must not block the reader, so it never waits for the socket.
func (c *conn) replyStatus(id uint32, st *spb.Status) {
	buf := getBuffer(0)
	frame, err := appendResponseFrame((*buf)[:0], id, st, nil)
	queued := err != nil || c.fw.writeAsync(frame)
	*buf = frame
	putBuffer(buf)
	if !queued {
		// Dropping the reply would leave the peer's call waiting forever;
		// a peer this far behind is better told by closing the connection.
		c.cfg.connLogger.Warn("ttrpc: closing a connection whose peer does not read its answers", "stream", id)
		c.close(errPeerNotReading)
	}
}

// refusal is a status with a message built from peer-supplied text cut to
// a short prefix, so that a reply never amplifies what the peer sent.
func refusal(code codes.Code, format string, peerText []byte) *spb.Status {
	return statusProtof(code, format, quotePrefix(peerText))
}

// maxQuoted is how much of a peer's text an error reply repeats.
const maxQuoted = 128

func quotePrefix(b []byte) string {
	if len(b) <= maxQuoted {
		return string(b)
	}
	return string(b[:maxQuoted]) + "..."
}
