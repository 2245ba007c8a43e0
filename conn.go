package ttrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// conn is the engine under both Client and Server. One reader goroutine
// reads every frame and routes it either to a stream this side opened (a
// call) or to the serving side, which runs a handler per stream the peer
// opens. The dialling side opens odd stream ids and the accepting side
// even ones; nothing else depends on who dialled, so either side can call
// and serve.
type conn struct {
	nc  net.Conn
	cfg *connConfig
	fr  *frameReader
	fw  *frameWriter

	// localParity is the low bit of the ids this side opens.
	localParity uint32
	// peerServes says the peer accepts requests: always for the dialler's
	// peer; for the acceptor's, once the dialler said so in a Hello frame.
	peerServes atomic.Bool
	// helloSent makes the dialler announce its services once.
	helloSent atomic.Bool

	// ctx is the parent of every handler context on this connection; it is
	// cancelled when the connection ends.
	ctx    context.Context
	cancel context.CancelFunc

	mu sync.Mutex
	// calls are the streams this side opened and still waits on.
	calls map[uint32]*clientStream
	// served are the streams the peer opened whose handlers still run.
	served map[uint32]*serverStream
	// lastPeerID is the highest id the peer opened; ids must increase.
	lastPeerID uint32
	// draining refuses new peer streams and closes the connection when the
	// last one ends (graceful shutdown).
	draining bool
	// err is why the connection ended; non-nil once it has.
	err error
	// client calls the peer over this connection: the Client that dialled,
	// or on the accepting side the one PeerClient created (nil until then).
	client *Client

	done chan struct{} // closed once the connection is closed and cleaned up

	// recvBudget bounds unread message bytes queued across the streams the
	// peer opened (a peer could otherwise make the connection hold
	// streams x 64 messages); a stream over it fails with ResourceExhausted.
	recvBudget recvBudget

	// work hands requests to handler goroutines waiting for one (worker.go).
	work        chan *serverStream
	idleWorkers atomic.Int32
}

// connConfig is what a connection needs from its Client or Server.
type connConfig struct {
	maxMessageSize int
	logger         *slog.Logger
	// services is nil when this side serves nothing.
	services *serviceSet
	serving  *servingConfig
	// onClose runs once, after every stream was failed.
	onClose func(c *conn)
	// peerClientOpts configure the Client created for PeerClient.
	peerClientOpts []ClientOpts
	// maxStreams bounds concurrently served peer streams (0: no bound).
	maxStreams int
	// writeStallTimeout closes the connection when a write makes no
	// progress for that long (0: never).
	writeStallTimeout time.Duration
}

func newConn(nc net.Conn, cfg *connConfig, dialer bool, base context.Context) *conn {
	c := &conn{
		nc:     nc,
		cfg:    cfg,
		fr:     newFrameReader(nc, cfg.maxMessageSize),
		calls:  make(map[uint32]*clientStream),
		served: make(map[uint32]*serverStream),
		done:   make(chan struct{}),
		work:   make(chan *serverStream),
	}
	first := uint32(2)
	if dialer {
		c.localParity, first = 1, 1
		c.peerServes.Store(true)
	}
	c.recvBudget.limit = recvBudgetLimit(cfg.maxMessageSize)
	c.fw = newFrameWriter(nc, first)
	c.fw.broken = func(err error) { go c.close(normaliseConnError(err)) }
	c.fw.stallTimeout = cfg.writeStallTimeout
	c.ctx, c.cancel = context.WithCancel(context.WithValue(base, connKey{}, c))
	return c
}

// start launches the reader goroutine.
func (c *conn) start() { go c.run() }

func (c *conn) run() {
	err := c.readLoop()
	c.close(normaliseConnError(err))
}

func (c *conn) readLoop() error {
	for {
		h, body, err := c.fr.next()
		if err != nil {
			var oe *oversizeError
			if errors.As(err, &oe) {
				c.oversized(oe)
				continue
			}
			return err
		}
		c.route(h, body)
	}
}

// route hands a frame to the stream it belongs to. Frames on ids this side
// opens (other than requests) answer our calls; everything else is for the
// serving side.
func (c *conn) route(h frameHeader, body *[]byte) {
	ours := h.streamID&1 == c.localParity
	switch {
	case ours && (h.typ == frameResponse || h.typ == frameData):
		c.deliverToCall(h, body)
		return
	case h.typ == frameHello && c.localParity == 0:
		putBuffer(body)
		c.peerServes.Store(h.flags&flagHelloServes != 0)
		return
	}
	if c.cfg.services == nil {
		c.cfg.logger.Debug("ttrpc: dropping frame for a side that serves nothing",
			"stream", h.streamID, "type", h.typ.String())
		putBuffer(body)
		return
	}
	c.serveFrame(h, body)
}

func (c *conn) deliverToCall(h frameHeader, body *[]byte) {
	c.mu.Lock()
	s := c.calls[h.streamID]
	c.mu.Unlock()
	if s == nil {
		putBuffer(body)
		if c.refuseEvenID(h.streamID) {
			return
		}
		c.cfg.logger.Debug("ttrpc: received message on inactive stream", "stream", h.streamID, "type", h.typ.String())
		return
	}
	s.in.push(h.streamID, inboundFrame{header: h, body: body}, c.done)
}

// refuseEvenID answers a frame on an even id that a serving side received
// with InvalidArgument (PROTOCOL.md, "Stream identifiers"): a server opens
// no streams, so such a frame is a client's mistake, and a client that
// gets no answer to it could wait forever. It reports whether it answered.
func (c *conn) refuseEvenID(id uint32) bool {
	if c.cfg.services == nil || c.localParity != 0 {
		return false
	}
	c.replyStatus(id, statusProtof(codes.InvalidArgument, "StreamID must be odd for client initiated streams"))
	return true
}

// oversized handles a frame whose body was discarded for its size: the
// stream it belonged to gets a ResourceExhausted status, the connection
// lives on.
func (c *conn) oversized(oe *oversizeError) {
	h := oe.header
	c.cfg.logger.Debug("ttrpc: discarded oversized frame", "stream", h.streamID, "length", h.length)
	st := statusProto(newOversizedMessageErr(int(h.length), oe.limit))
	if h.streamID&1 == c.localParity && h.typ != frameRequest {
		c.mu.Lock()
		s := c.calls[h.streamID]
		c.mu.Unlock()
		if s != nil {
			s.in.closeWith(h.streamID, c.statusError(st))
			return
		}
		if c.cfg.services != nil && c.localParity == 0 {
			// The size check comes first, as in containerd/ttrpc.
			c.replyStatus(h.streamID, st)
		}
		return
	}
	if c.cfg.services == nil {
		return
	}
	if h.typ == frameData {
		c.mu.Lock()
		ss := c.served[h.streamID]
		c.mu.Unlock()
		if ss != nil {
			ss.in.closeWith(h.streamID, status.ErrorProto(st))
			return
		}
	}
	c.replyStatus(h.streamID, st)
}

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
		c.cfg.logger.Warn("ttrpc: closing a connection whose peer does not read its answers", "stream", id)
		c.close(errPeerNotReading)
	}
}

// errPeerNotReading ends a connection whose peer left too much unread.
var errPeerNotReading = fmt.Errorf("%w: the peer does not read its answers", ErrClosed)

// statusError turns a status received for (or about) one of this side's
// calls into the error the caller sees, as its Client is configured to.
func (c *conn) statusError(st *spb.Status) error {
	c.mu.Lock()
	cl := c.client
	c.mu.Unlock()
	if cl != nil && cl.statusError != nil {
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
	client := c.client
	c.mu.Unlock()

	c.fw.fail(ErrClosed)
	_ = c.nc.Close()
	c.cancel()
	for id, s := range calls {
		s.in.closeWith(id, err)
	}
	for id, ss := range served {
		ss.in.closeWith(id, err)
	}
	if c.cfg.onClose != nil {
		c.cfg.onClose(c)
	}
	if client != nil {
		go client.runOnClose()
	}
	close(c.done)
}

// drain stops accepting new peer streams and closes the connection once
// the running ones have ended.
func (c *conn) drain() {
	c.mu.Lock()
	c.draining = true
	idle := len(c.served) == 0 && len(c.calls) == 0
	c.mu.Unlock()
	if idle {
		c.closeDrained()
	}
}

// drainGrace is how long a drained connection stays open after its last
// frame was written. Some clients (containerd/ttrpc's among them) can lose a
// response that arrives together with the end of the connection.
const drainGrace = 100 * time.Millisecond

// closeDrained closes a drained connection once everything queued has been
// written and the grace period has passed (or the peer closed first).
func (c *conn) closeDrained() {
	go func() {
		c.fw.waitIdle(time.Second)
		t := time.NewTimer(drainGrace)
		defer t.Stop()
		select {
		case <-t.C:
			c.close(ErrClosed)
		case <-c.done:
		}
	}()
}

// normaliseConnError maps the ways a peer can go away to ErrClosed, which
// is what callers match on.
func normaliseConnError(err error) error {
	switch {
	case err == nil,
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

// write sends a complete frame; see frameWriter.write. A failed write
// breaks the byte stream, so it closes the connection.
func (c *conn) write(frame []byte, deadline time.Time, done <-chan struct{}, assignID func(uint32) error) error {
	err := c.fw.write(frame, deadline, done, assignID)
	if err != nil && err != os.ErrDeadlineExceeded && err != errWaitAbandoned && !errors.Is(err, ErrClosed) {
		c.close(normaliseConnError(err))
		return ErrClosed
	}
	return err
}

// queue sends a stream message frame through the writer's background
// flusher; see frameWriter.queue.
func (c *conn) queue(frame []byte, deadline time.Time, done <-chan struct{}) error {
	return c.fw.queue(frame, deadline, done)
}

// writeError maps what write returned to what a caller sees: its
// context's error for timeouts and cancellation.
func writeError(ctx context.Context, err error) error {
	if err == os.ErrDeadlineExceeded || err == errWaitAbandoned {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return context.DeadlineExceeded
	}
	return err
}

// openStream assigns s an id, registers it and sends its Request frame.
func (c *conn) openStream(ctx context.Context, s *clientStream, frame []byte, recvLimit int) error {
	if !c.peerServes.Load() {
		return errPeerNotServing
	}
	deadline, _ := ctx.Deadline()
	err := c.write(frame, deadline, ctx.Done(), func(id uint32) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.err != nil {
			return ErrClosed
		}
		s.id = id
		s.in.init(id, recvLimit, nil)
		c.calls[id] = s
		return nil
	})
	if err != nil {
		c.forget(s)
		return writeError(ctx, err)
	}
	return nil
}

// forget removes a stream this side opened; late frames for it are dropped.
func (c *conn) forget(s *clientStream) {
	c.mu.Lock()
	if c.calls[s.id] == s {
		delete(c.calls, s.id)
	}
	idle := c.draining && c.err == nil && len(c.served) == 0 && len(c.calls) == 0
	c.mu.Unlock()
	if idle {
		c.closeDrained()
	}
}

// recvBudgetLimit is a connection's receive budget: room for several
// messages of the largest size, and never less than 16 MiB.
func recvBudgetLimit(maxMessageSize int) int64 {
	return max(16<<20, 4*int64(maxMessageSize))
}
