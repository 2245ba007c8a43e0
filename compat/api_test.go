package ttrpc

import (
	"context"
	"net"
	"testing"

	ttrpcgo "github.com/ttrpc-go/ttrpc"
	"golang.org/x/sys/unix"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The API of containerd/ttrpc v1.2.10 (`go doc -all`), identifier by
// identifier with its signature. This file stops compiling when one is
// missing or changed.
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
	_ func(UnixCredentialsFunc, context.Context, net.Conn) (net.Conn, any, error)            = UnixCredentialsFunc.Handshake
	_ func(UnixCredentialsFunc, *unix.Ucred) error                                           = func(f UnixCredentialsFunc, u *unix.Ucred) error { return f(u) }
	_ func(*Client, context.Context) error                                                   = (*Client).UserOnCloseWait
	_ func(*Client) error                                                                    = (*Client).Close
	_ func(*Client, context.Context, string, string, any, any) error                         = (*Client).Call
	_ func(*Client, context.Context, *StreamDesc, string, string, any) (ClientStream, error) = (*Client).NewStream
	_ func(*Server, context.Context, net.Listener) error                                     = (*Server).Serve
	_ func(*Server, context.Context) error                                                   = (*Server).Shutdown
	_ func(*Server) error                                                                    = (*Server).Close
	_ func(*Server, string, map[string]Method)                                               = (*Server).Register
	_ func(*Server, string, *ServiceDesc)                                                    = (*Server).RegisterService

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
	_ func(ClientStream) error                                           = ClientStream.CloseSend
	_ func(ClientStream, any) error                                      = ClientStream.SendMsg
	_ func(ClientStream, any) error                                      = ClientStream.RecvMsg
	_ func(StreamServer, any) error                                      = StreamServer.SendMsg
	_ func(StreamServer, any) error                                      = StreamServer.RecvMsg

	// The generated envelope methods (protoc-gen-go output).
	_ func(*Request) string                  = (*Request).GetService
	_ func(*Request) string                  = (*Request).GetMethod
	_ func(*Request) []byte                  = (*Request).GetPayload
	_ func(*Request) int64                   = (*Request).GetTimeoutNano
	_ func(*Request) []*KeyValue             = (*Request).GetMetadata
	_ func(*Request) protoreflect.Message    = (*Request).ProtoReflect
	_ legacyDescriptor                       = (*Request)(nil)
	_ func(*Request)                         = (*Request).Reset
	_ func(*Request) string                  = (*Request).String
	_ func(*Request)                         = (*Request).ProtoMessage
	_ func(*Response) *spb.Status            = (*Response).GetStatus
	_ func(*Response) []byte                 = (*Response).GetPayload
	_ func(*Response) protoreflect.Message   = (*Response).ProtoReflect
	_ legacyDescriptor                       = (*Response)(nil)
	_ func(*StringList) []string             = (*StringList).GetList
	_ func(*StringList) protoreflect.Message = (*StringList).ProtoReflect
	_ legacyDescriptor                       = (*StringList)(nil)
	_ func(*KeyValue) string                 = (*KeyValue).GetKey
	_ func(*KeyValue) string                 = (*KeyValue).GetValue
	_ func(*KeyValue) protoreflect.Message   = (*KeyValue).ProtoReflect
	_ legacyDescriptor                       = (*KeyValue)(nil)
	_ func(*Response) string                 = (*Response).String
)

// legacyDescriptor is the deprecated method generated code still has.
type legacyDescriptor interface{ Descriptor() ([]byte, []int) }

// Types whose shape code relies on: field names and types, function types.
var (
	_ = ServiceDesc{Methods: map[string]Method{}, Streams: map[string]Stream{}}
	_ = Stream{Handler: StreamHandler(nil), StreamingClient: true, StreamingServer: true}
	_ = StreamDesc{StreamingClient: true, StreamingServer: true}
	_ = StreamServerInfo{FullMethod: "", StreamingClient: true, StreamingServer: true}
	_ = UnaryServerInfo{FullMethod: ""}
	_ = UnaryClientInfo{FullMethod: ""}
	_ = Request{Service: "", Method: "", Payload: nil, TimeoutNano: 0, Metadata: []*KeyValue{{Key: "", Value: ""}}}
	_ = Response{Status: (*spb.Status)(nil), Payload: nil}
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
	_ StreamClientInterceptor = func(context.Context) {}
	_ ClientOpts              = func(*Client) {}
	_ MD                      = map[string][]string{}
	_ ServerOpt               = ttrpcgo.WithServerLogger(nil)
)

// Shared types must be the very same types as ttrpc-go's: the envelopes
// because protobuf-go registers request.proto once, the rest so values
// pass between the packages.
var (
	_ *ttrpcgo.Request                = (*Request)(nil)
	_ *ttrpcgo.Response               = (*Response)(nil)
	_ *ttrpcgo.KeyValue               = (*KeyValue)(nil)
	_ *ttrpcgo.StringList             = (*StringList)(nil)
	_ ttrpcgo.MD                      = MD(nil)
	_ *ttrpcgo.ServiceDesc            = (*ServiceDesc)(nil)
	_ ttrpcgo.Method                  = Method(nil)
	_ ttrpcgo.UnaryClientInterceptor  = UnaryClientInterceptor(nil)
	_ ttrpcgo.UnaryServerInterceptor  = UnaryServerInterceptor(nil)
	_ ttrpcgo.StreamServerInterceptor = StreamServerInterceptor(nil)
	_ ttrpcgo.Invoker                 = Invoker(nil)
	_ ttrpcgo.Handshaker              = Handshaker(nil)
	_ ttrpcgo.ServerOpt               = ServerOpt(nil)
)

// The sentinels are ttrpc-go's values, so == holds across packages.
func TestSentinelsAreShared(t *testing.T) {
	pairs := []struct{ compat, core error }{
		{ErrProtocol, ttrpcgo.ErrProtocol},
		{ErrClosed, ttrpcgo.ErrClosed},
		{ErrServerClosed, ttrpcgo.ErrServerClosed},
		{ErrStreamClosed, ttrpcgo.ErrStreamClosed},
		{ErrStreamFull, ttrpcgo.ErrStreamFull},
	}
	for _, p := range pairs {
		if p.compat != p.core {
			t.Errorf("%v is not ttrpc-go's value", p.compat)
		}
	}
	texts := map[error]string{
		ErrProtocol:     "protocol error",
		ErrClosed:       "ttrpc: closed",
		ErrServerClosed: "ttrpc: server closed",
		ErrStreamClosed: "ttrpc: stream closed",
		ErrStreamFull:   "ttrpc: stream buffer full",
	}
	for err, want := range texts {
		if err.Error() != want {
			t.Errorf("text %q, want %q", err.Error(), want)
		}
	}
}
