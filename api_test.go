package ttrpc

import (
	"context"
	"net"
	"testing"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The API promised to code written for containerd/ttrpc v1.2.10: every
// exported identifier of its `go doc -short`, with the same signature. This
// file stops compiling when one is removed or changed.
var (
	_ error = ErrProtocol
	_ error = ErrClosed
	_ error = ErrServerClosed
	_ error = ErrStreamClosed
	_ error = ErrStreamFull

	_ protoreflect.FileDescriptor = File_request_proto

	_ func(context.Context, string) (string, bool)                                           = GetMetadataValue
	_ func(context.Context) (MD, bool)                                                       = GetMetadata
	_ func(context.Context, MD) context.Context                                              = WithMetadata
	_ func(int) error                                                                        = OversizedMessageError
	_ func(net.Conn, ...ClientOpts) *Client                                                  = NewClient
	_ func(...UnaryClientInterceptor) ClientOpts                                             = WithChainUnaryClientInterceptor
	_ func(func()) ClientOpts                                                                = WithOnClose
	_ func(UnaryClientInterceptor) ClientOpts                                                = WithUnaryClientInterceptor
	_ func(...ServerOpt) (*Server, error)                                                    = NewServer
	_ func(...UnaryServerInterceptor) ServerOpt                                              = WithChainUnaryServerInterceptor
	_ func(Handshaker) ServerOpt                                                             = WithServerHandshaker
	_ func(UnaryServerInterceptor) ServerOpt                                                 = WithUnaryServerInterceptor
	_ func() UnixCredentialsFunc                                                             = UnixSocketRequireRoot
	_ func() UnixCredentialsFunc                                                             = UnixSocketRequireSameUser
	_ func(int, int) UnixCredentialsFunc                                                     = UnixSocketRequireUidGid
	_ func(UnixCredentialsFunc, *unix.Ucred) error                                           = func(f UnixCredentialsFunc, u *unix.Ucred) error { return f(u) }
	_ func(*Client, context.Context) error                                                   = (*Client).UserOnCloseWait
	_ func(*Client) error                                                                    = (*Client).Close
	_ func(*Server, context.Context, net.Listener) error                                     = (*Server).Serve
	_ func(*Server, context.Context) error                                                   = (*Server).Shutdown
	_ func(*Server) error                                                                    = (*Server).Close
	_ func(*Server, string, map[string]Method)                                               = (*Server).Register
	_ func(*Server, string, *ServiceDesc)                                                    = (*Server).RegisterService
	_ func(*Client, context.Context, string, string, any, any) error                         = (*Client).Call
	_ func(*Client, context.Context, *StreamDesc, string, string, any) (ClientStream, error) = (*Client).NewStream

	_ func(*OversizedMessageErr) string = (*OversizedMessageErr).Error
	_ func(*OversizedMessageErr) error  = (*OversizedMessageErr).Unwrap
	_ func(*OversizedMessageErr) int    = (*OversizedMessageErr).RejectedLength
	_ func(*OversizedMessageErr) int    = (*OversizedMessageErr).MaximumLength

	_ func(MD, string) ([]string, bool) = MD.Get
	_ func(MD, string, ...string)       = MD.Set
	_ func(MD, string, ...string)       = MD.Append
	_ func(MD) MD                       = MD.Clone

	_ Handshaker                                                         = UnixCredentialsFunc(nil)
	_ func(Handshaker, context.Context, net.Conn) (net.Conn, any, error) = Handshaker.Handshake

	_ ClientStream = (*clientStream)(nil)
	_ StreamServer = (*serverStream)(nil)
)

// Types whose shape code relies on: field names and types, function types.
var (
	_ = ServiceDesc{Methods: map[string]Method{}, Streams: map[string]Stream{}}
	_ = Stream{Handler: StreamHandler(nil), StreamingClient: true, StreamingServer: true}
	_ = StreamDesc{StreamingClient: true, StreamingServer: true}
	_ = StreamServerInfo{FullMethod: "", StreamingClient: true, StreamingServer: true}
	_ = UnaryServerInfo{FullMethod: ""}
	_ = UnaryClientInfo{FullMethod: ""}
	_ = Request{Service: "", Method: "", Payload: nil, TimeoutNano: 0, Metadata: []*KeyValue{{Key: "", Value: ""}}}
	_ = Response{Status: nil, Payload: nil}
	_ = StringList{List: nil}

	_ Method                  = func(context.Context, func(any) error) (any, error) { return nil, nil }
	_ StreamHandler           = func(context.Context, StreamServer) (any, error) { return nil, nil }
	_ Invoker                 = func(context.Context, *Request, *Response) error { return nil }
	_ Unmarshaler             = func(any) error { return nil }
	_ UnaryServerInterceptor  = func(context.Context, Unmarshaler, *UnaryServerInfo, Method) (any, error) { return nil, nil }
	_ UnaryClientInterceptor  = func(context.Context, *Request, *Response, *UnaryClientInfo, Invoker) error { return nil }
	_ StreamServerInterceptor = func(context.Context, StreamServer, *StreamServerInfo, StreamHandler) (any, error) {
		return nil, nil
	}
	_ ClientOpts = func(*Client) {}
	_ MD         = map[string][]string{}
)

// StreamClientInterceptor is the one deliberate difference: containerd/ttrpc
// declares it as func(context.Context), a placeholder nothing can install;
// here it is a working interceptor type. This test pins the new shape.
func TestStreamClientInterceptorShape(t *testing.T) {
	var i StreamClientInterceptor = func(ctx context.Context, desc *StreamDesc, info *StreamClientInfo, service, method string, req any, streamer Streamer) (ClientStream, error) {
		return streamer(ctx, desc, service, method, req)
	}
	if WithStreamClientInterceptor(i) == nil || WithChainStreamClientInterceptor(i) == nil {
		t.Fatal("stream client interceptor options missing")
	}
}
