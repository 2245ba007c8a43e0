package otelttrpc

import (
	"context"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
)

// UnaryClientInterceptor returns an interceptor that traces and measures
// the unary calls of a client and sends the trace context in their
// metadata. ClientOptions installs it; use it directly to place it in a
// chain of your own.
func UnaryClientInterceptor(opts ...Option) ttrpc.UnaryClientInterceptor {
	return newInstruments(newOptions(opts), sideClient).unaryClient
}

func (in *instruments) unaryClient(ctx context.Context, req *ttrpc.Request, resp *ttrpc.Response, info *ttrpc.UnaryClientInfo, invoker ttrpc.Invoker) error {
	m := in.methods.get(info.FullMethod)
	start := in.startTime(ctx)
	ctx, span := in.start(ctx, m)
	if span.IsRecording() {
		addServerAddress(span, info.RemoteAddr)
	}
	if !in.traceContext || !injectTraceparent(span.SpanContext(), req) {
		in.propagator.Inject(ctx, (*requestCarrier)(req))
	}
	err := invoker(ctx, req, resp)
	switch {
	case err != nil:
		in.finish(ctx, span, m, start, clientCode(err), err.Error())
	case resp.Status != nil && resp.Status.Code != int32(codes.OK):
		in.finish(ctx, span, m, start, codes.Code(resp.Status.Code), resp.Status.Message)
	default:
		in.finish(ctx, span, m, start, codes.OK, "")
	}
	return err
}

// UnaryServerInterceptor returns an interceptor that continues the trace
// of an incoming unary call, traces and measures its handling. The code
// recorded is the one the caller receives (see ttrpc.StatusCode).
// ServerOptions installs it.
func UnaryServerInterceptor(opts ...Option) ttrpc.UnaryServerInterceptor {
	return newInstruments(newOptions(opts), sideServer).unaryServer
}

func (in *instruments) unaryServer(ctx context.Context, unmarshal ttrpc.Unmarshaler, info *ttrpc.UnaryServerInfo, method ttrpc.Method) (any, error) {
	m := in.methods.get(info.FullMethod)
	start := in.startTime(ctx)
	ctx, span := in.start(in.extract(ctx), m)
	if span.IsRecording() {
		addPeer(ctx, span)
	}
	resp, err := method(ctx, unmarshal)
	if err != nil {
		in.finish(ctx, span, m, start, ttrpc.StatusCode(err), err.Error())
	} else {
		in.finish(ctx, span, m, start, codes.OK, "")
	}
	return resp, err
}
