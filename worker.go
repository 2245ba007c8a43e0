package ttrpc

import (
	"io"
	"time"

	"github.com/ttrpc-go/ttrpc/codes"
)

// The serving side of a connection: requests the peer opens streams with.
// The reader decodes a request and admits it; its handler runs on a
// goroutine of the connection's pool, at most maxStreams at once, the
// others waiting in arrival order. A goroutine that finished a handler
// takes the next waiting request, or waits a moment for a new one before
// exiting: under load this saves starting a goroutine and growing its
// stack for every request, and an idle connection keeps no goroutine
// beyond workerIdle.

const (
	// workerIdle is how long a handler goroutine waits for more work.
	workerIdle = 2 * time.Second
	// maxIdleWorkers bounds the goroutines waiting per connection.
	maxIdleWorkers = 4
)

// servingConfig holds what handlers are wrapped in.
type servingConfig struct {
	unary  UnaryServerInterceptor
	stream StreamServerInterceptor
}

// serveRequest decodes a Request frame's body (owned and budgeted by now)
// and admits the stream it opens, or answers with the status refusing it.
// The method is looked up before the metadata is decoded, so that a
// request for nothing costs no more than its name.
func (c *conn) serveRequest(h frameHeader, body *[]byte) {
	id := h.streamID
	ss := &serverStream{id: id, c: c, body: body}
	refuse := func(code codes.Code, format string, args ...any) {
		ss.releaseBody()
		c.replyStatus(id, statusProtof(code, format, args...))
	}
	raw := bodyBytes(body)
	if err := decodeRequest(raw, &ss.req); err != nil {
		refuse(codes.InvalidArgument, "unmarshal request error: %v", err)
		return
	}
	m, st := c.cfg.services.lookup(ss.req.service, ss.req.method)
	if st != nil {
		ss.releaseBody()
		c.replyStatus(id, st)
		return
	}
	if ss.req.hasMetadata {
		md, err := decodeRequestMetadata(raw)
		if err != nil {
			refuse(codes.ResourceExhausted, "ttrpc: %v", err)
			return
		}
		ss.req.metadata = md
	}
	ss.method = m
	if ss.takesData() {
		// Before admit: Data may follow the request at once.
		ss.in.init(id, streamRecvLimit, &c.budget)
		if h.flags&flagRemoteClosed != 0 {
			// The caller said it sends no data: its handler sees the
			// end of the stream instead of waiting for Data that never
			// comes (containerd/ttrpc waits).
			ss.in.closeWith(id, io.EOF)
		}
	}
	ss.initContext()
	start, err := c.admit(ss)
	if err != nil {
		ss.releaseBody()
		ss.hctx.cancel(err)
		return // the connection is gone: nobody to answer
	}
	if start {
		c.dispatch(ss)
	}
}

// dispatch runs ss's handler on a waiting goroutine of the connection, or on
// a new one.
func (c *conn) dispatch(ss *serverStream) {
	select {
	case c.work <- ss:
	default:
		go c.worker(ss)
	}
}

func (c *conn) worker(ss *serverStream) {
	var idle *time.Timer
	for {
		for ss != nil {
			ss = ss.run() // the next waiting stream, if any
		}
		if c.idleWorkers.Add(1) > maxIdleWorkers {
			c.idleWorkers.Add(-1)
			return
		}
		if idle == nil {
			idle = time.NewTimer(workerIdle)
		} else {
			idle.Reset(workerIdle)
		}
		select {
		case ss = <-c.work:
			c.idleWorkers.Add(-1)
		case <-idle.C:
			c.idleWorkers.Add(-1)
			return
		case <-c.done:
			c.idleWorkers.Add(-1)
			idle.Stop()
			return
		}
	}
}

// serveCancel ends the handler of a stream whose caller gave up: its
// context is cancelled, it sends nothing more, and a stream still waiting
// for a handler never runs.
func (c *conn) serveCancel(id uint32) {
	ss := c.lookupServed(id)
	if ss == nil {
		return
	}
	ss.cancelByPeer()
	if c.dequeue(ss) {
		ss.discard()
		c.finishServed(ss, false)
	}
}
