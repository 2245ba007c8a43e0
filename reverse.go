package ttrpc

import (
	"context"
	"errors"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// Calls in both directions on one connection (PROTOCOL.md, "Extensions"):
// a client may register services, announces them with a Hello frame, and
// the server then calls them on even stream ids through the *Client that
// PeerClient returns. Identity is the connection itself: a reverse call
// reaches exactly the process that dialled it.

// ErrPeerNotServing is matched (errors.Is) by the error of a call made to a
// peer that did not announce any services: a containerd/ttrpc client, or a
// client of this package that registered none. The error's status code is
// Unimplemented. Nothing is sent to such a peer.
var ErrPeerNotServing = errors.New("ttrpc: peer does not serve calls on this connection")

var errPeerNotServing = &peerNotServingError{}

type peerNotServingError struct{}

func (*peerNotServingError) Error() string { return ErrPeerNotServing.Error() }

func (*peerNotServingError) Is(target error) bool { return target == ErrPeerNotServing }

func (*peerNotServingError) GRPCStatus() *status.Status {
	return status.New(codes.Unimplemented, ErrPeerNotServing.Error())
}

type connKey struct{}

// PeerClient returns a client that calls the services of the peer at the
// other end of the connection a handler's call arrived on. In a server
// handler it calls the client that dialled (which must have registered
// services, see Client.RegisterService; otherwise its calls fail with
// ErrPeerNotServing); in a handler a client serves, it is that client. A
// server may keep it to call the peer later, for example to push events;
// its calls fail with ErrClosed once the connection is gone, and its
// Close closes the connection. It returns false for a context that did not
// come from a handler.
func PeerClient(ctx context.Context) (*Client, bool) {
	c, ok := ctx.Value(connKey{}).(*conn)
	if !ok {
		return nil, false
	}
	return c.peerClient(), true
}

// newPeerClient builds the Client of an accepting side's connection: the
// server's logger and message limit, then the WithPeerClientOpts options,
// which may override the logger.
func newPeerClient(c *conn) *Client {
	cl := newClientConfig(c.cfg.peerClientOpts, c.cfg.connLogger)
	cl.conn, cl.maxMessageSize, cl.peer = c, c.cfg.maxMessageSize, true
	return cl
}

// RegisterService makes the client serve a service to its peer: the server
// it is connected to can then call it on this connection (see PeerClient).
// The first registration announces to the peer that this client serves;
// containerd/ttrpc servers ignore the announcement. It panics if name is
// already registered, and on a client returned by PeerClient in a server:
// a server serves what is registered on the Server.
func (c *Client) RegisterService(name string, desc *ServiceDesc) {
	if c.peer {
		panic("ttrpc: RegisterService on a server's PeerClient: register the service on the Server instead")
	}
	c.services.register(name, desc)
	c.conn.sendHello()
}

// Register registers a service with unary methods only; see
// RegisterService.
func (c *Client) Register(name string, methods map[string]Method) {
	c.RegisterService(name, &ServiceDesc{Methods: methods})
}

// WaitPeerServing waits until the peer serves calls on this connection:
// for a server's PeerClient, until the client announced its services (see
// Client.RegisterService); for a client that dialled, at once. It returns
// ErrClosed when the connection ends first, or ctx's error.
func (c *Client) WaitPeerServing(ctx context.Context) error {
	select {
	case <-c.conn.peerServing:
		return nil
	default:
	}
	select {
	case <-c.conn.peerServing:
		return nil
	case <-c.conn.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done returns a channel closed when the client's connection has ended,
// whoever closed it; a server keeping the peer clients of many
// connections uses it to forget each one when it goes.
func (c *Client) Done() <-chan struct{} { return c.conn.done }

// sendHello tells the accepting peer, once, that this dialler serves.
func (c *conn) sendHello() {
	if c.localParity != 1 || !c.helloSent.CompareAndSwap(false, true) {
		return
	}
	var frame [frameHeaderLength]byte
	frameHeader{streamID: helloStreamID, typ: frameHello, flags: flagHelloServes}.encode(frame[:])
	c.fw.writeAsync(frame[:])
}

// sendCancel tells the peer that this side gave up on stream id, so that
// its handler's context is cancelled. Peers that do not know the frame
// ignore it.
func (c *conn) sendCancel(id uint32) {
	if id == 0 {
		return
	}
	var frame [frameHeaderLength]byte
	frameHeader{streamID: id, typ: frameCancel}.encode(frame[:])
	c.fw.writeAsync(frame[:])
}

// WithPeerClientOpts configures the clients PeerClient returns in this
// server's handlers: interceptors, logger and WithOnClose (run when the
// connection ends). The message limit is the server's.
func WithPeerClientOpts(opts ...ClientOpts) ServerOpt {
	return func(c *serverConfig) error {
		c.peerClientOpts = append(c.peerClientOpts, opts...)
		return nil
	}
}

// WithClientServerOpts configures how a client serves the services it
// registers: interceptors (WithUnaryServerInterceptor and the like), the
// logger and the concurrent stream limit. Other options have no effect on
// a client. An option's error makes NewClient panic, as it is a
// programming error.
func WithClientServerOpts(opts ...ServerOpt) ClientOpts {
	return func(c *Client) { c.serverOpts = append(c.serverOpts, opts...) }
}
