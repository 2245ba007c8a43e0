package ttrpc

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"sync/atomic"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// The serving side of a connection: requests the peer opens streams with,
// each run by a goroutine of its own.

// servingConfig holds what handlers are wrapped in.
type servingConfig struct {
	unary  UnaryServerInterceptor
	stream StreamServerInterceptor
}

// streamRecvLimit is how many messages a client-streaming handler may leave
// unread before the stream is failed with ErrStreamFull.
const streamRecvLimit = 64

func (c *conn) serveFrame(h frameHeader, body *[]byte) {
	switch h.typ {
	case frameRequest:
		c.serveRequest(h, body)
	case frameData:
		c.serveData(h, body)
	case frameCancel:
		putBuffer(body)
		c.serveCancel(h.streamID)
	default:
		// Responses on ids the peer opens and unknown types are ignored,
		// so that peers may add frame types (PROTOCOL.md, "Unknown frames").
		putBuffer(body)
	}
}

func (c *conn) serveRequest(h frameHeader, body *[]byte) {
	id := h.streamID
	if id&1 == c.localParity {
		putBuffer(body)
		msg := "StreamID must be odd for client initiated streams"
		if c.localParity == 1 {
			msg = "StreamID must be even for server initiated streams"
		}
		c.replyStatus(id, statusProtof(codes.InvalidArgument, "%s", msg))
		return
	}
	c.mu.Lock()
	if id <= c.lastPeerID {
		c.mu.Unlock()
		putBuffer(body)
		c.replyStatus(id, statusProtof(codes.InvalidArgument, "StreamID cannot be re-used and must increment"))
		return
	}
	c.lastPeerID = id
	c.mu.Unlock()

	ss := &serverStream{id: id, c: c, body: body}
	if body != nil {
		if err := decodeRequest(*body, &ss.req); err != nil {
			putBuffer(body)
			c.replyStatus(id, statusProtof(codes.InvalidArgument, "unmarshal request error: %v", err))
			return
		}
	}
	m, st := c.cfg.services.lookup(ss.req.service, ss.req.method)
	if st == nil {
		ss.method = m
		if m.unary == nil && m.stream.StreamingClient {
			// Before admit: Data may follow the request at once.
			ss.in.init(id, streamRecvLimit, &c.recvBudget)
			if h.flags&flagRemoteClosed != 0 {
				// The caller said it sends no data: its handler sees the
				// end of the stream instead of waiting for Data that
				// never comes (containerd/ttrpc waits).
				ss.in.closeWith(id, io.EOF)
			}
		}
		ss.initContext()
		st = c.admit(ss)
	}
	if st != nil {
		putBuffer(body)
		c.replyStatus(id, st)
		return
	}
	c.dispatch(ss)
}

// admit registers a new peer stream, or returns the status refusing it.
func (c *conn) admit(ss *serverStream) *spb.Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.err != nil:
		return statusProtof(codes.Unavailable, "ttrpc: connection closed")
	case c.draining:
		return statusProtof(codes.Unavailable, "ttrpc: server is shutting down")
	case c.cfg.maxStreams > 0 && len(c.served) >= c.cfg.maxStreams:
		return statusProtof(codes.ResourceExhausted, "ttrpc: too many concurrent streams on this connection (limit %d)", c.cfg.maxStreams)
	}
	c.served[ss.id] = ss
	return nil
}

// serveCancel cancels the handler of a stream whose caller gave up; its
// final frame is not sent, since the caller no longer waits for it.
func (c *conn) serveCancel(id uint32) {
	c.mu.Lock()
	ss := c.served[id]
	c.mu.Unlock()
	if ss == nil {
		return
	}
	ss.peerCancelled.Store(true)
	ss.hctx.cancel(context.Canceled)
	ss.in.closeWith(id, context.Canceled)
}

func (c *conn) serveData(h frameHeader, body *[]byte) {
	c.mu.Lock()
	ss := c.served[h.streamID]
	c.mu.Unlock()
	if ss == nil {
		putBuffer(body)
		c.replyStatus(h.streamID, statusProtof(codes.InvalidArgument, "StreamID is no longer active"))
		return
	}
	if ss.method.unary != nil || !ss.method.stream.StreamingClient {
		// The peer said it would send no data on this stream; a frame
		// anyway is ignored rather than confusing the handler.
		c.cfg.logger.Debug("ttrpc: ignoring data on a stream that takes none", "stream", h.streamID)
		putBuffer(body)
		return
	}
	if h.flags&flagNoData == 0 {
		ss.in.push(h.streamID, inboundFrame{header: h, body: body}, c.done)
	} else {
		putBuffer(body)
	}
	if h.flags&flagRemoteClosed != 0 {
		ss.in.closeWith(h.streamID, io.EOF)
	}
}

// serverStream is a stream the peer opened; it implements StreamServer.
type serverStream struct {
	id     uint32
	c      *conn
	method *methodEntry
	// ctx is the handler's context: hctx, part of this allocation.
	ctx  context.Context
	hctx handlerCtx

	body *[]byte     // the request frame's body, alive until the handler returns
	req  requestView // aliases body

	firstTaken bool // the request payload was handed to RecvMsg
	in         inbox
	finished   atomic.Bool // the final frame was sent; SendMsg must fail
	// peerCancelled: the caller sent Cancel, so no final frame is owed.
	peerCancelled atomic.Bool

	unaryInfo  UnaryServerInfo
	streamInfo StreamServerInfo
}

func (ss *serverStream) run() {
	resp, err := ss.invoke()
	ss.sendFinal(resp, err)
	ss.end()
}

// initContext derives the handler's context from the connection's: the
// caller's metadata and relative timeout (PROTOCOL.md, "Timeouts").
func (ss *serverStream) initContext() {
	parent := ss.c.ctx
	if ss.req.metadata != nil {
		parent = WithMetadata(parent, ss.req.metadata)
	}
	t := ss.req.timeoutNano
	ss.hctx.init(parent, time.Duration(t), t != 0)
	ss.ctx = &ss.hctx
}

// invoke runs the handler through the interceptors; a panic becomes an
// Internal status for this call alone.
func (ss *serverStream) invoke() (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			ss.c.cfg.logger.Error("ttrpc: handler panicked", "method", ss.method.fullMethod,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			resp, err = nil, status.Errorf(codes.Internal, "ttrpc: panic in handler for %s: %v", ss.method.fullMethod, r)
		}
	}()
	m := ss.method
	if m.unary != nil {
		ss.unaryInfo.FullMethod = m.fullMethod
		return ss.c.cfg.serving.unary(ss.ctx, ss.unmarshalRequest, &ss.unaryInfo, m.unary)
	}
	ss.streamInfo = StreamServerInfo{FullMethod: m.fullMethod, StreamingClient: m.stream.StreamingClient, StreamingServer: m.stream.StreamingServer}
	return ss.c.cfg.serving.stream(ss.ctx, ss, &ss.streamInfo, m.stream.Handler)
}

func (ss *serverStream) unmarshalRequest(m any) error {
	if err := unmarshalMessage(ss.req.payload, m); err != nil {
		return status.Errorf(codes.Internal, "ttrpc: error unmarshalling payload: %v", err)
	}
	return nil
}

// sendFinal sends the frame that ends the stream: a Response for unary
// results and errors, a Data frame with remote-closed for streaming servers
// (PROTOCOL.md, "Stream life cycles").
func (ss *serverStream) sendFinal(resp any, err error) {
	if !ss.finished.CompareAndSwap(false, true) || ss.peerCancelled.Load() {
		return
	}
	streamingServer := ss.method.unary == nil && ss.method.stream.StreamingServer
	var mm measured
	var encErr error
	if err == nil && !(streamingServer && isNil(resp)) {
		mm, encErr = measure(resp)
	}
	buf := frameBuffer(mm.size)
	defer putBuffer(buf)
	var frame []byte
	switch {
	case err != nil:
		frame, _ = appendResponseFrame((*buf)[:0], ss.id, statusProto(err), nil)
	case encErr != nil:
	case streamingServer && isNil(resp):
		frame, _ = beginFrame((*buf)[:0])
		frame = finishFrame(frame, 0, ss.id, frameData, flagRemoteClosed|flagNoData)
	case streamingServer:
		frame, encErr = ss.c.appendDataFrame((*buf)[:0], ss.id, flagRemoteClosed, mm)
	default:
		frame, encErr = ss.c.appendPayloadResponseFrame((*buf)[:0], ss.id, mm)
	}
	if encErr != nil {
		// The result could not be encoded (or is too large): the caller
		// gets the reason instead, and the connection lives on.
		frame, _ = appendResponseFrame(frame[:0], ss.id, statusProto(encodeError(encErr)), nil)
	}
	*buf = frame
	_ = ss.c.write(frame, ss.writeDeadline(), nil, nil)
}

// writeDeadline bounds writes by the caller's deadline, so that a caller
// that stopped reading cannot hold a handler (and its answer) past it. A
// frame written after the deadline gets a short grace, so that a late status
// still reaches a caller that is reading.
func (ss *serverStream) writeDeadline() time.Time {
	d, ok := ss.ctx.Deadline()
	if !ok {
		return time.Time{}
	}
	if late := time.Now().Add(lateWriteGrace); d.Before(late) {
		return late
	}
	return d
}

// lateWriteGrace is how long a frame written at or after the caller's
// deadline may wait for the socket.
const lateWriteGrace = time.Second

// encodeError gives marshalling failures the status containerd/ttrpc uses.
func encodeError(err error) error {
	if _, ok := status.FromError(err); ok || err == errMarshalNil {
		return err
	}
	return status.Errorf(codes.Internal, "ttrpc: error marshaling payload: %v", err)
}

// end removes the stream and releases what it holds.
func (ss *serverStream) end() {
	ss.hctx.cancel(context.Canceled)
	c := ss.c
	c.mu.Lock()
	delete(c.served, ss.id)
	idle := c.draining && c.err == nil && len(c.served) == 0 && len(c.calls) == 0
	c.mu.Unlock()
	ss.in.reset()
	putBuffer(ss.body)
	ss.body, ss.req = nil, requestView{}
	if idle {
		c.closeDrained()
	}
}

// SendMsg sends m to the caller. It fails with ErrStreamClosed once the
// handler has returned, when the connection is gone, when m does not
// marshal, and with an *OversizedMessageErr when m exceeds the limit.
func (ss *serverStream) SendMsg(m any) error {
	if ss.finished.Load() {
		return ErrStreamClosed
	}
	if ss.method.unary != nil || !ss.method.stream.StreamingServer {
		return fmt.Errorf("%w: cannot send data from a non-streaming server", ErrProtocol)
	}
	mm, err := measure(m)
	if err != nil {
		return status.Errorf(codes.Internal, "ttrpc: error marshaling payload: %v", err)
	}
	buf := frameBuffer(mm.size)
	defer putBuffer(buf)
	frame, err := ss.c.appendDataFrame((*buf)[:0], ss.id, 0, mm)
	*buf = frame
	if err != nil {
		return err
	}
	if err := ss.c.queue(frame, ss.writeDeadline(), ss.ctx.Done()); err != nil {
		return writeError(ss.ctx, err)
	}
	return nil
}

// RecvMsg receives the next message from the caller into m. The request
// payload comes first for calls whose client does not stream. It returns
// io.EOF once the caller closed its side, and the context's error when the
// call ends.
func (ss *serverStream) RecvMsg(m any) error {
	if !ss.firstTaken {
		ss.firstTaken = true
		if !ss.method.stream.StreamingClient || len(ss.req.payload) > 0 {
			return ss.unmarshalRequest(m)
		}
	}
	if !ss.method.stream.StreamingClient {
		return io.EOF
	}
	f, err := ss.in.pop(ss.ctx)
	if err != nil {
		return err
	}
	defer putBuffer(f.body)
	var data []byte
	if f.body != nil {
		data = *f.body
	}
	if err := unmarshalMessage(data, m); err != nil {
		return status.Errorf(codes.Internal, "ttrpc: error unmarshalling payload: %v", err)
	}
	return nil
}
