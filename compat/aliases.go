package ttrpc

import (
	"context"

	ttrpcgo "github.com/ttrpc-go/ttrpc"
)

// Shared types: the same types as ttrpc-go's, so values pass between code
// written for either package without conversion.
type (
	// Request is the envelope of a call as sent on the wire.
	Request = ttrpcgo.Request
	// Response is the envelope of a call's result as sent on the wire.
	Response = ttrpcgo.Response
	// KeyValue is one metadata entry of a Request.
	KeyValue = ttrpcgo.KeyValue
	// StringList is a list of strings (part of the envelope schema).
	StringList = ttrpcgo.StringList
	// MD is the metadata of a call: lower-case keys to lists of values.
	MD = ttrpcgo.MD
	// Method is the handler of a unary method.
	Method = ttrpcgo.Method
	// ServiceDesc describes the methods and streams of a service.
	ServiceDesc = ttrpcgo.ServiceDesc
	// Stream describes a streaming method of a service.
	Stream = ttrpcgo.Stream
	// StreamHandler is the handler of a streaming method.
	StreamHandler = ttrpcgo.StreamHandler
	// StreamDesc says which sides of a stream send more than one message.
	StreamDesc = ttrpcgo.StreamDesc
	// StreamServer is the handler's end of a streaming call.
	StreamServer = ttrpcgo.StreamServer
	// ClientStream is the caller's end of a streaming call.
	ClientStream = ttrpcgo.ClientStream
	// Handshaker checks or wraps a connection before the server uses it.
	Handshaker = ttrpcgo.Handshaker
	// ServerOpt configures a Server in NewServer.
	ServerOpt = ttrpcgo.ServerOpt
	// UnaryServerInfo describes a unary call to server interceptors.
	UnaryServerInfo = ttrpcgo.UnaryServerInfo
	// UnaryClientInfo describes a unary call to client interceptors.
	UnaryClientInfo = ttrpcgo.UnaryClientInfo
	// StreamServerInfo describes a streaming call to server interceptors.
	StreamServerInfo = ttrpcgo.StreamServerInfo
	// Unmarshaler decodes a call's request into its argument.
	Unmarshaler = ttrpcgo.Unmarshaler
	// Invoker sends a unary call's Request and fills its Response.
	Invoker = ttrpcgo.Invoker
	// UnaryServerInterceptor wraps the handling of unary calls.
	UnaryServerInterceptor = ttrpcgo.UnaryServerInterceptor
	// UnaryClientInterceptor wraps unary calls made by a Client; the
	// Request it receives is the one that is then marshalled.
	UnaryClientInterceptor = ttrpcgo.UnaryClientInterceptor
	// StreamServerInterceptor wraps the handling of streaming calls.
	StreamServerInterceptor = ttrpcgo.StreamServerInterceptor
)

// StreamClientInterceptor is containerd/ttrpc's placeholder type for
// client stream interceptors; no option installs one. Working stream
// interceptors are ttrpc-go's, installed with WithStreamClientInterceptors.
type StreamClientInterceptor func(context.Context)

// File_request_proto is the descriptor of the envelope schema.
var File_request_proto = ttrpcgo.File_request_proto

// GetMetadata returns the metadata a call carries in ctx, and false when
// it carries none.
func GetMetadata(ctx context.Context) (MD, bool) { return ttrpcgo.GetMetadata(ctx) }

// GetMetadataValue returns the first value of the metadata key name in
// ctx, and false when there is none.
func GetMetadataValue(ctx context.Context, name string) (string, bool) {
	return ttrpcgo.GetMetadataValue(ctx, name)
}

// WithMetadata returns a copy of ctx whose calls carry md.
func WithMetadata(ctx context.Context, md MD) context.Context {
	return ttrpcgo.WithMetadata(ctx, md)
}
