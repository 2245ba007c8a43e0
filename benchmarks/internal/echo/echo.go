// Package echo defines the echo service every benchmarked implementation
// serves, so that all of them answer the same calls with the same messages.
//
// It deliberately imports no RPC library: the footprint binaries link it, and
// a binary built for one library must not drag in another one.
package echo

import (
	"context"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Names of the service and its methods, shared by the ttrpc and gRPC
// implementations.
const (
	Service      = "bench.Echo"
	MethodUnary  = "Echo"
	MethodStream = "ServerStream"
	MethodBidi   = "Bidi"
)

// StreamCount is how many copies of the request the server-streaming method
// sends back.
const StreamCount = 1000

// Client is the view of an echo client the benchmarks drive. Implementations
// must allow concurrent Unary calls.
type Client interface {
	// Unary sends req and decodes the echoed message into resp; it returns
	// the transport or status error of the call.
	Unary(ctx context.Context, req, resp *wrapperspb.BytesValue) error
	// ServerStream sends req once and decodes every streamed reply into
	// resp, returning how many replies arrived before the end of the stream
	// and the first error other than the normal end of stream.
	ServerStream(ctx context.Context, req, resp *wrapperspb.BytesValue) (int, error)
	// Bidi opens a bidirectional echo stream; it returns the error of the
	// stream setup.
	Bidi(ctx context.Context) (BidiStream, error)
	// Close releases the connection; it returns the error of closing it.
	Close() error
}

// BidiStream is one open bidirectional echo stream.
type BidiStream interface {
	// Send sends one message; it returns the transport error, if any.
	Send(m *wrapperspb.BytesValue) error
	// Recv decodes the next echoed message into m; it returns io.EOF after
	// the server ended the stream, or the transport or status error.
	Recv(m *wrapperspb.BytesValue) error
	// Close half-closes the stream and drains it until the server ends it;
	// it returns the first error other than the normal end of stream.
	Close() error
}
