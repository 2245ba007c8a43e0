package otelttrpc

import (
	"context"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
)

// StreamServerInterceptor returns an interceptor that continues the trace
// of an incoming stream and traces and measures it until its handler
// returns. ServerOptions installs it.
func StreamServerInterceptor(opts ...Option) ttrpc.StreamServerInterceptor {
	return newInstruments(newOptions(opts), sideServer).streamServer
}

func (in *instruments) streamServer(ctx context.Context, ss ttrpc.StreamServer, info *ttrpc.StreamServerInfo, handler ttrpc.StreamHandler) (any, error) {
	m := in.methods.get(info.FullMethod)
	start := in.startTime(ctx)
	ctx, span := in.start(in.extract(ctx), m)
	recording := span.IsRecording()
	if recording {
		addPeer(ctx, span)
	}
	w := &serverStream{StreamServer: ss, span: span, events: in.messageEvents && recording}
	resp, err := handler(ctx, w)
	if err == nil && resp != nil && !info.StreamingServer {
		// The single response, sent by the server after the return.
		w.count(&w.sent, messageSent)
	}
	if recording {
		span.SetAttributes(MessagesSentKey.Int64(w.sent.Load()), MessagesReceivedKey.Int64(w.received.Load()))
	}
	if err != nil {
		in.finish(ctx, span, m, start, ttrpc.StatusCode(err), err.Error())
	} else {
		in.finish(ctx, span, m, start, codes.OK, "")
	}
	return resp, err
}

// serverStream counts the messages of a handler's stream.
type serverStream struct {
	ttrpc.StreamServer
	span           trace.Span
	events         bool
	sent, received atomic.Int64
}

// SendMsg sends m and counts it.
func (s *serverStream) SendMsg(m any) error {
	err := s.StreamServer.SendMsg(m)
	if err == nil {
		s.count(&s.sent, messageSent)
	}
	return err
}

// RecvMsg receives into m and counts it.
func (s *serverStream) RecvMsg(m any) error {
	err := s.StreamServer.RecvMsg(m)
	if err == nil {
		s.count(&s.received, messageReceived)
	}
	return err
}

func (s *serverStream) count(n *atomic.Int64, typ attribute.KeyValue) {
	id := n.Add(1)
	if s.events {
		messageEvent(s.span, typ, id)
	}
}

// messageEvent adds the event of a stream's id-th message of type typ.
func messageEvent(span trace.Span, typ attribute.KeyValue, id int64) {
	span.AddEvent("message", trace.WithAttributes(typ, MessageIDKey.Int64(id)))
}
