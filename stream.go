package ttrpc

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// StreamDesc says which sides of a stream send more than one message.
type StreamDesc struct {
	StreamingClient bool
	StreamingServer bool
}

// ClientStream is the caller's end of a streaming call.
type ClientStream interface {
	// CloseSend tells the server that no more messages follow. It fails
	// with ErrStreamClosed when called twice and with ErrProtocol when
	// the client side does not stream.
	CloseSend() error
	// SendMsg sends m. It fails with ErrStreamClosed after CloseSend,
	// ErrClosed when the connection is gone, and *OversizedMessageErr
	// when m is over the limit.
	SendMsg(m any) error
	// RecvMsg receives the next message into m. It returns io.EOF after
	// the server's last message, or the call's status error.
	RecvMsg(m any) error
}

// StreamServer is the handler's end of a streaming call.
type StreamServer interface {
	// SendMsg sends m to the caller.
	SendMsg(m any) error
	// RecvMsg receives the next message from the caller into m; it
	// returns io.EOF once the caller closed its side.
	RecvMsg(m any) error
}

// clientStream is the caller's end of a stream this side opened: a unary
// call or a streaming call. It implements ClientStream. Its life:
//
//	open --(final frame received, or error)--> ended
//	open --(context ends)--> aborted: removed, Cancel sent, RecvMsg fails
//
// with sendClosed tracking the caller's CloseSend independently.
type clientStream struct {
	id   uint32
	conn *conn
	in   inbox

	desc       StreamDesc
	ctx        context.Context
	stopWatch  func() bool // stops the context watch of streaming calls
	sendClosed atomic.Bool
	// answering is set when a message arrives and cleared by the next send
	// (see sendOffered).
	answering atomic.Bool
	// recvErr is set once the stream ended, for later RecvMsg calls; it is
	// only touched by the (single) receiving goroutine.
	recvErr error
}

var clientStreamPool = sync.Pool{New: func() any { return new(clientStream) }}

// getClientStream returns a stream for a unary call; pooled, as every call
// needs one.
func getClientStream(c *conn) *clientStream {
	s := clientStreamPool.Get().(*clientStream)
	s.conn = c
	return s
}

func putClientStream(s *clientStream) {
	s.in.reset()
	s.id, s.conn = 0, nil
	clientStreamPool.Put(s)
}

// NewStream opens a streaming call of service/method. req, when not nil, is
// sent with the request as the first message (as generated code does for
// calls whose client side does not stream). The context's deadline and
// metadata reach the handler, and ending the context abandons the stream.
// It returns the same errors as Call for the opening request.
func (c *Client) NewStream(ctx context.Context, desc *StreamDesc, service, method string, req any) (ClientStream, error) {
	if c.streamInterceptor != nil {
		info := &StreamClientInfo{
			FullMethod:      clientMethodNames.get(service, method),
			StreamingClient: desc.StreamingClient,
			StreamingServer: desc.StreamingServer,
			RemoteAddr:      c.conn.nc.RemoteAddr(),
		}
		return c.streamInterceptor(ctx, desc, info, service, method, req, c.newStream)
	}
	return c.newStream(ctx, desc, service, method, req)
}

func (c *Client) newStream(ctx context.Context, desc *StreamDesc, service, method string, req any) (ClientStream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	creq := &Request{Service: service, Method: method}
	if req != nil {
		payload, err := appendMessage(nil, req) // one allocation per stream, kept simple
		if err != nil {
			return nil, status.Errorf(codes.Internal, "ttrpc: marshal request: %v", err)
		}
		creq.Payload = payload
	}
	setCallContext(ctx, creq)
	flags := flagRemoteClosed
	if desc.StreamingClient {
		flags = flagRemoteOpen
	}
	s := &clientStream{conn: c.conn, desc: *desc, ctx: ctx}
	if err := c.conn.openStream(ctx, s, creq, flags, streamRecvLimit, c.maxMessageSize); err != nil {
		return nil, err
	}
	// An abandoned stream must not stay in the table: when the caller's
	// context ends, the stream ends with it.
	s.stopWatch = context.AfterFunc(ctx, func() { s.abort(ctx.Err()) })
	return s, nil
}

// abort ends the stream because its context ended, and tells the peer so
// that the handler stops too.
func (s *clientStream) abort(err error) {
	s.conn.forget(s)
	s.in.fail(s.conn.key(s.id), err)
	s.conn.sendCancel(s.id)
}

// finish removes an ended stream from the connection.
func (s *clientStream) finish(err error) {
	s.recvErr = err
	if s.stopWatch != nil {
		s.stopWatch()
	}
	s.conn.forget(s)
}

func (s *clientStream) SendMsg(m any) error {
	if !s.desc.StreamingClient {
		return fmt.Errorf("%w: cannot send data from non-streaming client", ErrProtocol)
	}
	if s.sendClosed.Load() {
		return ErrStreamClosed
	}
	return s.send(0, m)
}

func (s *clientStream) CloseSend() error {
	if !s.desc.StreamingClient {
		return fmt.Errorf("%w: cannot close non-streaming client", ErrProtocol)
	}
	if s.sendClosed.Swap(true) {
		return ErrStreamClosed
	}
	return s.send(flagRemoteClosed|flagNoData, nil)
}

func (s *clientStream) send(flags frameFlags, m any) error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	var mm measured
	if m != nil { // CloseSend sends no message; a nil m sends an empty one
		var err error
		if mm, err = measure(m); err != nil {
			return status.Errorf(codes.Internal, "ttrpc: marshal message: %v", err)
		}
	}
	deadline, _ := s.ctx.Deadline()
	limit := s.conn.cfg.maxMessageSize
	err := s.conn.sendFrame(mm.size, deadline, s.ctx.Done(), streamSendMode(s.answering.Swap(false)), func(b []byte) ([]byte, error) {
		return appendDataFrame(b, s.id, flags, mm, limit)
	})
	return sendError(s.ctx, err)
}

// RecvMsg follows PROTOCOL.md, "Stream life cycles": Data frames carry
// messages until one has remote-closed; a Response ends the stream with its
// status (and, for a non-streaming server, the result).
func (s *clientStream) RecvMsg(m any) error {
	for {
		if s.recvErr != nil {
			return s.recvErr
		}
		f, err := s.in.pop(s.ctx)
		if err != nil {
			s.finish(err)
			return err
		}
		done, err := s.handleFrame(f, m)
		putBuffer(f.body)
		if done || err != nil {
			if err == nil {
				s.answering.Store(true)
			}
			return err
		}
	}
}

// handleFrame applies one received frame; done reports that m was filled
// in (or the stream ended with err).
func (s *clientStream) handleFrame(f inboundFrame, m any) (done bool, err error) {
	body := bodyBytes(f.body)
	switch f.header.typ {
	case frameResponse:
		var rv responseView
		if err := decodeResponse(body, &rv); err != nil {
			err = status.Errorf(codes.Internal, "ttrpc: decode response: %v", err)
			s.finish(err)
			return true, err
		}
		if rv.status != nil && rv.status.Code != int32(codes.OK) {
			err := s.conn.statusError(rv.status)
			s.finish(err)
			return true, err
		}
		s.finish(io.EOF)
		if s.desc.StreamingServer && len(rv.payload) == 0 {
			return true, io.EOF
		}
		return true, unmarshalReceived(rv.payload, m)
	case frameData:
		if !s.desc.StreamingServer {
			err := fmt.Errorf("received data from non-streaming server: %w", ErrProtocol)
			s.finish(err)
			return true, err
		}
		if f.header.flags&flagRemoteClosed != 0 {
			s.finish(io.EOF)
			if f.header.flags&flagNoData != 0 {
				return true, io.EOF
			}
		} else if f.header.flags&flagNoData != 0 {
			return false, nil
		}
		return true, unmarshalReceived(body, m)
	}
	err = fmt.Errorf("unexpected %q message received: %w", f.header.typ.String(), ErrProtocol)
	s.finish(err)
	return true, err
}

func unmarshalReceived(data []byte, m any) error {
	if err := unmarshalMessage(data, m); err != nil {
		return status.Errorf(codes.Internal, "ttrpc: unmarshal response: %v", err)
	}
	return nil
}

// openStream sends r's Request frame on a fresh stream id, registering s
// as the call on it first. recvLimit is how many messages s may hold
// unread.
func (c *conn) openStream(ctx context.Context, s *clientStream, r *Request, flags frameFlags, recvLimit, maxMessageSize int) error {
	if !c.peerServes.Load() {
		return errPeerNotServing
	}
	deadline, _ := ctx.Deadline()
	size := requestSize(r)
	reserved := frameHeaderLength + size + 16
	if err := c.fw.reserve(reserved, deadline, ctx.Done()); err != nil {
		return sendError(ctx, err)
	}
	buf := getBuffer(reserved)
	defer putBuffer(buf)
	frame, err := appendRequestFrame((*buf)[:0], r, flags, maxMessageSize)
	*buf = frame
	if err != nil {
		c.fw.unreserve(reserved)
		return err
	}
	err = c.fw.write(frame, reserved, deadline, func(id uint32) error {
		s.in.init(c.key(id), recvLimit, &c.budget)
		return c.registerCall(s, id)
	})
	if err != nil {
		c.forget(s)
		return sendError(ctx, err)
	}
	// The reader may wait for budget and must now consider that this side
	// waits on an answer (see waitBudget).
	c.budget.kick()
	return nil
}
