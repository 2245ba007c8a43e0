package ttrpc

import (
	"context"
	"net"
)

// Handshaker runs on every accepted connection before any frame is read. It
// may replace the connection (for example with an authenticated wrapper) and
// return information about the peer, which handlers find with
// HandshakeResult. A non-nil error refuses the connection: it is closed
// without a single frame being sent.
type Handshaker interface {
	Handshake(ctx context.Context, conn net.Conn) (net.Conn, any, error)
}

// handshakerFunc adapts a function to Handshaker.
type handshakerFunc func(ctx context.Context, conn net.Conn) (net.Conn, any, error)

func (fn handshakerFunc) Handshake(ctx context.Context, conn net.Conn) (net.Conn, any, error) {
	return fn(ctx, conn)
}

// noopHandshake accepts every connection as it is.
func noopHandshake(_ context.Context, conn net.Conn) (net.Conn, any, error) {
	return conn, nil, nil
}

type handshakeKey struct{}

// HandshakeResult returns what the server's Handshaker returned for the
// connection a handler's call arrived on (a *unix.Ucred for the
// UnixSocketRequire* handshakers), and false when there is none.
func HandshakeResult(ctx context.Context) (any, bool) {
	v := ctx.Value(handshakeKey{})
	return v, v != nil
}
