package ttrpc

import (
	"errors"
	"io"
	"time"

	"github.com/ttrpc-go/ttrpc/codes"
)

// The reader goroutine: it reads every frame of a connection and routes it
// in the order PROTOCOL.md, "Receiving frames", gives. It reads a frame's
// header first and decides from it what the body is worth: bodies nobody
// will use are skipped without being allocated, and bodies the connection
// must hold (requests, stream messages) wait for room in its budget.

func (c *conn) readLoop() error {
	for {
		h, err := c.fr.readHeader()
		if err != nil {
			var oe *oversizeError
			if errors.As(err, &oe) {
				c.oversized(oe)
				continue
			}
			return err
		}
		if err := c.route(h); err != nil {
			return err
		}
	}
}

func (c *conn) route(h frameHeader) error {
	ours := h.streamID&1 == c.localParity
	switch h.typ {
	case frameRequest:
		return c.readRequest(h)
	case frameResponse, frameData:
		if ours {
			return c.readForCall(h)
		}
		if h.typ == frameData {
			return c.readServedData(h)
		}
	case frameCancel:
		if !ours {
			c.serveCancel(h.streamID)
		}
	case frameHello:
		if c.localParity == 0 && h.flags&flagHelloServes != 0 {
			c.peerSaidHello()
		}
	}
	// Responses on ids the peer opens and unknown frame types are ignored,
	// so that peers may add frame types (PROTOCOL.md, "Unknown frames").
	return c.fr.skipBody(h)
}

// serves reports whether this side has anything to serve.
func (c *conn) serves() bool { return c.cfg.services != nil && c.cfg.services.any() }

// readForCall delivers a frame on an id this side opens to the call
// waiting on it.
func (c *conn) readForCall(h frameHeader) error {
	s := c.lookupCall(h.streamID)
	if s == nil {
		if err := c.fr.skipBody(h); err != nil {
			return err
		}
		if c.localParity == 0 && !c.fw.opened(h.streamID) && c.serves() {
			// An even id this server never opened: the client's mistake, and
			// a client that gets no answer could wait forever (as
			// containerd/ttrpc answers). Late frames of calls this side
			// opened and gave up are dropped (PROTOCOL.md, "Cancel").
			c.replyStatus(h.streamID, statusProtof(codes.InvalidArgument, "StreamID must be odd for client initiated streams"))
			return nil
		}
		c.cfg.connLogger.Debug("ttrpc: received message on inactive stream", "stream", h.streamID, "type", h.typ.String())
		return nil
	}
	// A call's own answer is let in without waiting: the call asked for
	// it, and it ends the call. Stream messages wait for budget.
	if h.typ == frameData && s.desc.StreamingServer {
		c.waitBudget(int64(h.length), false)
	}
	return c.readInto(&s.in, h)
}

// readInto reads h's body, counted in the budget, into q.
func (c *conn) readInto(q *inbox, h frameHeader) error {
	body, err := c.readBudgeted(h, 0)
	if err != nil {
		return err
	}
	q.push(c.key(h.streamID), inboundFrame{header: h, body: body})
	return nil
}

// readBudgeted reads h's body and counts what it holds in the budget,
// plus extra bytes held alongside it. The announced length is counted
// while the body arrives, its buffer's capacity once it has.
func (c *conn) readBudgeted(h frameHeader, extra int64) (*[]byte, error) {
	n := int64(h.length) + extra
	c.budget.acquire(n)
	body, err := c.fr.readBody(h)
	if err != nil {
		c.budget.release(n)
		return nil, err
	}
	c.budget.acquire(heldSize(body) + extra - n)
	return body, nil
}

// waitBudget waits until n more bytes fit in the connection's budget
// (backpressure: nothing is read meanwhile). A stream that holds unread
// messages while the connection waits for a whole inboxFullWait is failed
// with ErrStreamFull, the largest first: a receiver that does not read is
// its own stream's problem, not the connection's. When refusable is set
// and this side waits on calls of its own, waitBudget returns false at
// once instead: the frame must be refused, since the answers to those
// calls may be queued behind it.
func (c *conn) waitBudget(n int64, refusable bool) bool {
	if c.budget.fits(n, c.fw.outstanding()) {
		return true
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		changed := c.budget.changed()
		if c.budget.fits(n, c.fw.outstanding()) {
			return true
		}
		if refusable && c.hasCalls() {
			return false
		}
		if timer == nil {
			timer = time.NewTimer(inboxFullWait)
		}
		select {
		case <-changed:
		case <-c.done:
			return true // the connection is ending; the read fails next
		case <-timer.C:
			if q, key := c.fullestInbox(); q != nil {
				c.cfg.connLogger.Warn("ttrpc: failing a stream whose receiver does not read", "stream", key.id)
				q.fail(key, ErrStreamFull)
			}
			timer.Reset(inboxFullWait)
		}
	}
}

// readRequest handles a Request frame: a peer opening a stream.
func (c *conn) readRequest(h frameHeader) error {
	id := h.streamID
	if id&1 == c.localParity {
		if err := c.fr.skipBody(h); err != nil {
			return err
		}
		msg := "StreamID must be odd for client initiated streams"
		if c.localParity == 1 {
			msg = "StreamID must be even for server initiated streams"
		}
		c.replyStatus(id, statusProtof(codes.InvalidArgument, "%s", msg))
		return nil
	}
	if !c.serves() {
		// Nothing to look up: refuse before reading anything.
		if err := c.fr.skipBody(h); err != nil {
			return err
		}
		c.replyStatus(id, statusProtof(codes.Unimplemented, "ttrpc: no services are served on this connection"))
		return nil
	}
	if !c.acceptPeerID(id) {
		if err := c.fr.skipBody(h); err != nil {
			return err
		}
		c.replyStatus(id, statusProtof(codes.InvalidArgument, "StreamID cannot be re-used and must increment"))
		return nil
	}
	if !c.waitBudget(int64(h.length)+requestOverhead, true) {
		if err := c.fr.skipBody(h); err != nil {
			return err
		}
		c.replyStatus(id, statusProtof(codes.ResourceExhausted,
			"ttrpc: connection budget exhausted while calls to the peer are in flight"))
		return nil
	}
	body, err := c.readBudgeted(h, requestOverhead)
	if err != nil {
		return err
	}
	c.serveRequest(h, body)
	return nil
}

// requestOverhead is what an admitted request holds beyond its body (its
// stream and handler context), counted in the budget with the body.
const requestOverhead = 1 << 10

// readServedData handles a Data frame on a stream the peer opened.
func (c *conn) readServedData(h frameHeader) error {
	ss := c.lookupServed(h.streamID)
	if ss == nil {
		if err := c.fr.skipBody(h); err != nil {
			return err
		}
		if c.serves() {
			c.replyStatus(h.streamID, statusProtof(codes.InvalidArgument, "StreamID is no longer active"))
		}
		return nil
	}
	if !ss.takesData() {
		// The peer said it would send no data on this stream; a frame
		// anyway is ignored rather than confusing the handler.
		c.cfg.connLogger.Debug("ttrpc: ignoring data on a stream that takes none", "stream", h.streamID)
		return c.fr.skipBody(h)
	}
	if h.flags&flagNoData != 0 {
		if err := c.fr.skipBody(h); err != nil {
			return err
		}
	} else {
		c.waitBudget(int64(h.length), false)
		if err := c.readInto(&ss.in, h); err != nil {
			return err
		}
	}
	if h.flags&flagRemoteClosed != 0 {
		ss.in.closeWith(c.key(h.streamID), io.EOF)
	}
	return nil
}

// oversized handles a frame whose body was skipped for its size: the
// stream it belonged to gets a ResourceExhausted status, the connection
// lives on.
func (c *conn) oversized(oe *oversizeError) {
	h := oe.header
	c.cfg.connLogger.Debug("ttrpc: skipped oversized frame", "stream", h.streamID, "length", h.length)
	st := statusProto(newOversizedMessageErr(int(h.length), oe.limit))
	if h.streamID&1 == c.localParity && h.typ != frameRequest {
		if s := c.lookupCall(h.streamID); s != nil {
			s.in.closeWith(c.key(h.streamID), c.statusError(st))
			return
		}
		if c.localParity == 0 && !c.fw.opened(h.streamID) && c.serves() {
			// The size check comes first, as in containerd/ttrpc.
			c.replyStatus(h.streamID, st)
		}
		return
	}
	if !c.serves() {
		return
	}
	if h.typ == frameData {
		if ss := c.lookupServed(h.streamID); ss != nil {
			ss.in.closeWith(c.key(h.streamID), oversizedError(st))
			return
		}
	}
	c.replyStatus(h.streamID, st)
}

// peerSaidHello records that the dialler serves, and tells whoever waits.
func (c *conn) peerSaidHello() {
	if c.peerServes.Load() {
		return
	}
	c.setPeerServes()
	if f := c.cfg.onPeerServing; f != nil {
		cl := c.peerClient()
		go f(c.ctx, cl)
	}
}
