package ttrpc

import (
	"context"
	"net"
)

// UnaryServerInfo describes a unary call to a server interceptor.
type UnaryServerInfo struct {
	// FullMethod is "/service/method".
	FullMethod string
}

// UnaryClientInfo describes a unary call to a client interceptor.
type UnaryClientInfo struct {
	// FullMethod is "/service/method".
	FullMethod string
	// RemoteAddr is the address of the peer the call goes to, as the
	// connection's net.Conn reports it (possibly nil): the server for a
	// Client, the client for a server's PeerClient.
	RemoteAddr net.Addr
}

// StreamServerInfo describes a streaming call to a server interceptor.
type StreamServerInfo struct {
	FullMethod      string
	StreamingClient bool
	StreamingServer bool
}

// StreamClientInfo describes a streaming call to a client interceptor.
type StreamClientInfo struct {
	FullMethod      string
	StreamingClient bool
	StreamingServer bool
	// RemoteAddr is the address of the peer, as in UnaryClientInfo.
	RemoteAddr net.Addr
}

// Unmarshaler decodes the request of a unary call into its argument.
type Unmarshaler func(any) error

// Invoker sends a unary request envelope and fills in the response envelope.
// It returns transport errors; a failed call's status is in resp.Status.
type Invoker func(context.Context, *Request, *Response) error

// UnaryServerInterceptor wraps the handling of a unary call; it calls method
// (with unmarshal) to run the handler, or returns without doing so.
type UnaryServerInterceptor func(context.Context, Unmarshaler, *UnaryServerInfo, Method) (any, error)

// UnaryClientInterceptor wraps a unary call. req already carries the
// payload, metadata and timeout; it calls invoker to send it. An
// interceptor may keep req, resp and the info, but not req.Payload past
// its return: that buffer is reused once the call ends (copy it to keep
// it). resp.Payload is the interceptor's to keep.
type UnaryClientInterceptor func(context.Context, *Request, *Response, *UnaryClientInfo, Invoker) error

// StreamServerInterceptor wraps the handling of a streaming call; it calls
// handler to run it.
type StreamServerInterceptor func(context.Context, StreamServer, *StreamServerInfo, StreamHandler) (any, error)

// Streamer opens a client stream; a StreamClientInterceptor calls it.
type Streamer func(ctx context.Context, desc *StreamDesc, service, method string, req any) (ClientStream, error)

// StreamClientInterceptor wraps the opening of a client stream and may wrap
// the stream it returns. (containerd/ttrpc declares this type as a
// placeholder that nothing can install; here it works.)
type StreamClientInterceptor func(ctx context.Context, desc *StreamDesc, info *StreamClientInfo, service, method string, req any, streamer Streamer) (ClientStream, error)

func defaultServerInterceptor(ctx context.Context, unmarshal Unmarshaler, _ *UnaryServerInfo, method Method) (any, error) {
	return method(ctx, unmarshal)
}

func defaultStreamServerInterceptor(ctx context.Context, ss StreamServer, _ *StreamServerInfo, handler StreamHandler) (any, error) {
	return handler(ctx, ss)
}

// chainUnaryServer composes interceptors, the first outermost.
func chainUnaryServer(interceptors []UnaryServerInterceptor) UnaryServerInterceptor {
	switch len(interceptors) {
	case 0:
		return defaultServerInterceptor
	case 1:
		return interceptors[0]
	}
	return func(ctx context.Context, unmarshal Unmarshaler, info *UnaryServerInfo, method Method) (any, error) {
		return interceptors[0](ctx, unmarshal, info, nextUnaryServer(interceptors[1:], info, method))
	}
}

func nextUnaryServer(rest []UnaryServerInterceptor, info *UnaryServerInfo, method Method) Method {
	if len(rest) == 0 {
		return method
	}
	return func(ctx context.Context, unmarshal func(any) error) (any, error) {
		return rest[0](ctx, unmarshal, info, nextUnaryServer(rest[1:], info, method))
	}
}

func chainUnaryClient(interceptors []UnaryClientInterceptor) UnaryClientInterceptor {
	switch len(interceptors) {
	case 0:
		return nil
	case 1:
		return interceptors[0]
	}
	return func(ctx context.Context, req *Request, resp *Response, info *UnaryClientInfo, invoker Invoker) error {
		return interceptors[0](ctx, req, resp, info, nextUnaryClient(interceptors[1:], info, invoker))
	}
}

func nextUnaryClient(rest []UnaryClientInterceptor, info *UnaryClientInfo, invoker Invoker) Invoker {
	if len(rest) == 0 {
		return invoker
	}
	return func(ctx context.Context, req *Request, resp *Response) error {
		return rest[0](ctx, req, resp, info, nextUnaryClient(rest[1:], info, invoker))
	}
}

func chainStreamServer(interceptors []StreamServerInterceptor) StreamServerInterceptor {
	switch len(interceptors) {
	case 0:
		return defaultStreamServerInterceptor
	case 1:
		return interceptors[0]
	}
	return func(ctx context.Context, ss StreamServer, info *StreamServerInfo, handler StreamHandler) (any, error) {
		return interceptors[0](ctx, ss, info, nextStreamServer(interceptors[1:], info, handler))
	}
}

func nextStreamServer(rest []StreamServerInterceptor, info *StreamServerInfo, handler StreamHandler) StreamHandler {
	if len(rest) == 0 {
		return handler
	}
	return func(ctx context.Context, ss StreamServer) (any, error) {
		return rest[0](ctx, ss, info, nextStreamServer(rest[1:], info, handler))
	}
}

func chainStreamClient(interceptors []StreamClientInterceptor) StreamClientInterceptor {
	switch len(interceptors) {
	case 0:
		return nil
	case 1:
		return interceptors[0]
	}
	return func(ctx context.Context, desc *StreamDesc, info *StreamClientInfo, service, method string, req any, streamer Streamer) (ClientStream, error) {
		return interceptors[0](ctx, desc, info, service, method, req, nextStreamClient(interceptors[1:], info, streamer))
	}
}

func nextStreamClient(rest []StreamClientInterceptor, info *StreamClientInfo, streamer Streamer) Streamer {
	if len(rest) == 0 {
		return streamer
	}
	return func(ctx context.Context, desc *StreamDesc, service, method string, req any) (ClientStream, error) {
		return rest[0](ctx, desc, info, service, method, req, nextStreamClient(rest[1:], info, streamer))
	}
}
