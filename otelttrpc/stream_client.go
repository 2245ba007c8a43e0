package otelttrpc

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/ttrpc-go/ttrpc"
)

// StreamClientInterceptor returns an interceptor that traces and measures
// the streams a client opens, from NewStream to the stream's end, and
// sends the trace context in their metadata. ClientOptions installs it.
func StreamClientInterceptor(opts ...Option) ttrpc.StreamClientInterceptor {
	return newInstruments(newOptions(opts), sideClient).streamClient
}

func (in *instruments) streamClient(ctx context.Context, desc *ttrpc.StreamDesc, info *ttrpc.StreamClientInfo, service, method string, req any, streamer ttrpc.Streamer) (ttrpc.ClientStream, error) {
	m := in.methods.get(info.FullMethod)
	start := in.startTime(ctx)
	ctx, span := in.start(ctx, m)
	if span.IsRecording() {
		addServerAddress(span, info.RemoteAddr)
	}
	cs, err := streamer(injectContext(ctx, in.propagator), desc, service, method, req)
	if err != nil {
		in.finish(ctx, span, m, start, clientCode(err), err.Error())
		return nil, err
	}
	s := &clientStream{
		ClientStream:    cs,
		in:              in,
		ctx:             ctx,
		span:            span,
		method:          m,
		start:           start,
		streamingServer: desc.StreamingServer,
		events:          in.messageEvents && span.IsRecording(),
	}
	if req != nil {
		s.sent.Store(1)
		if s.events {
			messageEvent(span, messageSent, 1)
		}
	}
	s.stop = context.AfterFunc(ctx, func() { s.end(ctx.Err()) })
	return s, nil
}

// clientStream counts a stream's messages and ends its span when the
// stream ends.
type clientStream struct {
	ttrpc.ClientStream
	in              *instruments
	ctx             context.Context
	span            trace.Span
	method          *method
	start           time.Time
	streamingServer bool
	events          bool
	stop            func() bool

	sent, received atomic.Int64

	// mu makes a second end wait until the first has recorded everything,
	// so that a caller whose RecvMsg returned finds the span ended.
	mu    sync.Mutex
	ended bool
}

// SendMsg sends m and counts it.
func (s *clientStream) SendMsg(m any) error {
	err := s.ClientStream.SendMsg(m)
	if err == nil {
		n := s.sent.Add(1)
		if s.events {
			messageEvent(s.span, messageSent, n)
		}
	} else if errors.Is(err, ttrpc.ErrClosed) {
		// The connection is gone: the stream will not end otherwise.
		s.end(err)
	}
	return err
}

// RecvMsg receives into m, counts it, and ends the span at the stream's
// end: io.EOF, an error, or the single response of a call whose server
// does not stream.
func (s *clientStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	switch {
	case err == nil:
		n := s.received.Add(1)
		if s.events {
			messageEvent(s.span, messageReceived, n)
		}
		if !s.streamingServer {
			s.end(nil)
		}
	case err == io.EOF:
		s.end(nil)
	default:
		s.end(err)
	}
	return err
}

func (s *clientStream) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.ended = true
	s.stop()
	if s.span.IsRecording() {
		s.span.SetAttributes(MessagesSentKey.Int64(s.sent.Load()), MessagesReceivedKey.Int64(s.received.Load()))
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	s.in.finish(s.ctx, s.span, s.method, s.start, clientCode(err), msg)
}
