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

// serverStream is the handler's end of a stream the peer opened; it
// implements StreamServer. Its life is a small state machine:
//
//	waiting --run--> running --sendFinal--> done
//	   |                 |
//	   +----Cancel-------+--> cancelled (no final frame is owed; sends fail)
//
// Only the reader goroutine creates it; the handler goroutine runs it.
type serverStream struct {
	id     uint32
	c      *conn
	method *methodEntry
	// ctx is the handler's context: hctx, part of this allocation.
	ctx  context.Context
	hctx handlerCtx

	// body is the request frame's body, budgeted and alive until the
	// handler returns; req aliases it.
	body     *[]byte
	req      requestView
	released bool // body and its budget were given back

	firstTaken bool // the request payload was handed to RecvMsg
	// answering is set when a message arrives and cleared by the next send
	// (see sendOffered).
	answering atomic.Bool
	in        inbox
	state     atomic.Uint32 // a handlerState

	unaryInfo  UnaryServerInfo
	streamInfo StreamServerInfo
}

type handlerState = uint32

const (
	handlerWaiting handlerState = iota
	handlerRunning
	handlerCancelled
	handlerDone
)

// takesData reports whether the caller sends Data frames on this stream.
func (ss *serverStream) takesData() bool {
	return ss.method.unary == nil && ss.method.stream.StreamingClient
}

func (ss *serverStream) streamingServer() bool {
	return ss.method.unary == nil && ss.method.stream.StreamingServer
}

// run runs the handler and ends the stream; it returns the waiting stream
// that takes over this one's handler slot, if any.
func (ss *serverStream) run() *serverStream {
	if ss.state.CompareAndSwap(handlerWaiting, handlerRunning) || ss.state.Load() == handlerCancelled {
		resp, err := ss.invoke()
		ss.sendFinal(resp, err)
	}
	return ss.end()
}

// cancelByPeer handles the caller's Cancel frame.
func (ss *serverStream) cancelByPeer() {
	for {
		st := ss.state.Load()
		if st == handlerDone || st == handlerCancelled {
			return
		}
		if ss.state.CompareAndSwap(st, handlerCancelled) {
			break
		}
	}
	ss.hctx.cancel(context.Canceled)
	ss.in.closeWith(ss.c.key(ss.id), context.Canceled)
}

// initContext derives the handler's context from the connection's: the
// caller's metadata and relative timeout (PROTOCOL.md, "Timeouts").
func (ss *serverStream) initContext() {
	t := ss.req.timeoutNano
	ss.hctx.init(ss.c.ctx, time.Duration(t), t != 0)
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
// (PROTOCOL.md, "Stream life cycles"). Nothing is sent to a caller that
// cancelled.
func (ss *serverStream) sendFinal(resp any, err error) {
	if !ss.state.CompareAndSwap(handlerRunning, handlerDone) {
		ss.state.Store(handlerDone)
		return
	}
	var mm measured
	var encErr error
	bare := ss.streamingServer() && isNil(resp)
	if err == nil && !bare {
		mm, encErr = measure(resp)
	}
	limit := ss.c.cfg.maxMessageSize
	build := func(b []byte) ([]byte, error) {
		var frame []byte
		enc := encErr
		switch {
		case err != nil:
			return appendResponseFrame(b, ss.id, statusProto(err), nil)
		case enc != nil:
		case bare:
			frame, _ = beginFrame(b)
			return finishFrame(frame, 0, ss.id, frameData, flagRemoteClosed|flagNoData), nil
		case ss.streamingServer():
			frame, enc = appendDataFrame(b, ss.id, flagRemoteClosed, mm, limit)
		default:
			frame, enc = appendPayloadResponseFrame(b, ss.id, mm, limit)
		}
		if enc != nil {
			// The result could not be encoded (or is too large): the
			// caller gets the reason instead, and the connection lives on.
			return appendResponseFrame(b[:0], ss.id, statusProto(encodeError(enc)), nil)
		}
		return frame, nil
	}
	_ = ss.c.sendFrame(mm.size, ss.writeDeadline(), nil, sendNow, build)
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

// end removes the stream and releases what it holds; it returns the
// waiting stream that takes over the handler slot.
func (ss *serverStream) end() *serverStream {
	ss.state.Store(handlerDone)
	ss.discard()
	return ss.c.finishServed(ss, true)
}

// discard releases what a stream holds: its context, its queue and its
// request body.
func (ss *serverStream) discard() {
	ss.hctx.cancel(context.Canceled)
	ss.in.reset()
	ss.releaseBody()
}

// releaseBody gives the request body back to the pool and the budget.
func (ss *serverStream) releaseBody() {
	if ss.released {
		return
	}
	ss.released = true
	ss.c.budget.release(heldSize(ss.body) + requestOverhead)
	putBuffer(ss.body)
	ss.body, ss.req = nil, requestView{}
}

// SendMsg sends m to the caller. It fails with ErrStreamClosed once the
// handler has returned, with the context's error (Canceled or
// DeadlineExceeded) once the caller gave up, with ErrClosed when the
// connection is gone, when m does not marshal, and with an
// *OversizedMessageErr when m exceeds the limit.
func (ss *serverStream) SendMsg(m any) error {
	switch ss.state.Load() {
	case handlerDone:
		return ErrStreamClosed
	case handlerCancelled:
		return context.Canceled
	}
	if !ss.streamingServer() {
		return fmt.Errorf("%w: cannot send data from a non-streaming server", ErrProtocol)
	}
	if err := ss.ctx.Err(); err != nil {
		return ss.endedError(err)
	}
	mm, err := measure(m)
	if err != nil {
		return status.Errorf(codes.Internal, "ttrpc: error marshaling payload: %v", err)
	}
	limit := ss.c.cfg.maxMessageSize
	err = ss.c.sendFrame(mm.size, ss.writeDeadline(), ss.ctx.Done(), streamSendMode(ss.answering.Swap(false)), func(b []byte) ([]byte, error) {
		return appendDataFrame(b, ss.id, 0, mm, limit)
	})
	if err != nil {
		return ss.endedError(sendError(ss.ctx, err))
	}
	return nil
}

// endedError is what a send reports once the handler's context ended: the
// bare ErrClosed when that is because the connection went away (the
// connection's end cancels every handler context), the context's error
// otherwise.
func (ss *serverStream) endedError(err error) error {
	if ss.c.fw.failed() {
		return ErrClosed
	}
	return err
}

// RecvMsg receives the next message from the caller into m. The request
// payload comes first for calls whose client does not stream. It returns
// io.EOF once the caller closed its side, ErrStreamFull when it left too
// much unread, and the context's error when the call ends.
func (ss *serverStream) RecvMsg(m any) error {
	if !ss.firstTaken {
		ss.firstTaken = true
		if !ss.method.stream.StreamingClient || len(ss.req.payload) > 0 {
			err := ss.unmarshalRequest(m)
			ss.answering.Store(err == nil)
			return err
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
	if err := unmarshalMessage(bodyBytes(f.body), m); err != nil {
		return status.Errorf(codes.Internal, "ttrpc: error unmarshalling payload: %v", err)
	}
	ss.answering.Store(true)
	return nil
}

// oversizedError is the error a handler's RecvMsg returns for a message
// that was too large to receive.
func oversizedError(st *spb.Status) error { return status.ErrorProto(st) }
