package ttrpc

import (
	"context"
	"net"
	"time"

	ttrpcgo "github.com/ttrpc-go/ttrpc"
	statusconv "github.com/ttrpc-go/ttrpc/grpcstatus"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
)

// Client calls services over one connection; it is safe for concurrent
// use. Its calls and streams fail with grpc-go status errors for statuses
// (the handler's and the library's own), with the bare ErrClosed once the
// connection is gone, and with the bare context error when the caller's
// context ends.
type Client struct {
	c *ttrpcgo.Client

	// Collected by the options, then handed to ttrpc-go in NewClient.
	interceptor UnaryClientInterceptor
	onClose     func()
	goOpts      []ttrpcgo.ClientOpts
}

// ClientOpts configures a Client in NewClient.
type ClientOpts func(c *Client)

// WithOnClose sets a function run once when the connection ends, whether
// Close was called or the peer went away; UserOnCloseWait waits for it.
func WithOnClose(onClose func()) ClientOpts {
	return func(c *Client) { c.onClose = onClose }
}

// WithUnaryClientInterceptor sets the interceptor of unary calls,
// replacing any set before.
func WithUnaryClientInterceptor(i UnaryClientInterceptor) ClientOpts {
	return func(c *Client) { c.interceptor = i }
}

// WithChainUnaryClientInterceptor adds interceptors after any already set;
// the first runs outermost.
func WithChainUnaryClientInterceptor(interceptors ...UnaryClientInterceptor) ClientOpts {
	return func(c *Client) {
		if len(interceptors) == 0 {
			return
		}
		if c.interceptor != nil {
			interceptors = append([]UnaryClientInterceptor{c.interceptor}, interceptors...)
		}
		c.interceptor = chainUnaryClient(interceptors)
	}
}

// WithStreamClientInterceptors installs ttrpc-go stream client
// interceptors (which containerd/ttrpc's StreamClientInterceptor type
// cannot express), chained after any set before; the first runs
// outermost. The streams they return reach the caller with their errors
// translated like every other stream's.
func WithStreamClientInterceptors(interceptors ...ttrpcgo.StreamClientInterceptor) ClientOpts {
	return WithClientOptions(ttrpcgo.WithChainStreamClientInterceptor(interceptors...))
}

// WithClientOptions passes ttrpc-go client options through, applied after
// this package's own (so, for one, ttrpcgo.WithClientStatusError replaces
// the default grpc-go status errors, and ttrpcgo.WithUnaryClientInterceptor
// replaces this package's interceptors, error translation included).
func WithClientOptions(opts ...ttrpcgo.ClientOpts) ClientOpts {
	return func(c *Client) { c.goOpts = append(c.goOpts, opts...) }
}

// chainUnaryClient runs interceptors in order, the first outermost.
func chainUnaryClient(interceptors []UnaryClientInterceptor) UnaryClientInterceptor {
	return func(ctx context.Context, req *Request, resp *Response, info *UnaryClientInfo, invoker Invoker) error {
		var next func(i int) Invoker
		next = func(i int) Invoker {
			if i == len(interceptors) {
				return invoker
			}
			return func(ctx context.Context, req *Request, resp *Response) error {
				return interceptors[i](ctx, req, resp, info, next(i+1))
			}
		}
		return next(0)(ctx, req, resp)
	}
}

// NewClient starts a client on conn, which it owns from now on: Close
// closes it. Any net.Conn works (unix and TCP sockets, *tls.Conn,
// net.Pipe, multiplexed connections without addresses).
func NewClient(conn net.Conn, opts ...ClientOpts) *Client {
	c := &Client{}
	for _, o := range opts {
		o(c)
	}
	goOpts := []ttrpcgo.ClientOpts{ttrpcgo.WithClientStatusError(statusconv.ErrorProto)}
	if c.onClose != nil {
		goOpts = append(goOpts, ttrpcgo.WithOnClose(c.onClose))
	}
	if user := c.interceptor; user != nil {
		// The user's interceptors see the invoker's errors as a
		// containerd/ttrpc invoker returns them (otelttrpc reads the
		// span status from them).
		goOpts = append(goOpts, ttrpcgo.WithUnaryClientInterceptor(
			func(ctx context.Context, req *Request, resp *Response, info *UnaryClientInfo, invoker Invoker) error {
				return user(ctx, req, resp, info, func(ctx context.Context, req *Request, resp *Response) error {
					return compatError(invoker(ctx, req, resp))
				})
			}))
	}
	goOpts = append(goOpts, c.goOpts...)
	c.c = ttrpcgo.NewClient(conn, goOpts...)
	return c
}

// Call makes a unary call of service/method with req and decodes the
// result into resp. A failed call returns a grpc-go status error (the
// handler's, or ResourceExhausted as *OversizedMessageErr, Internal for
// messages that do not marshal, ...), the bare ErrClosed when the
// connection is gone, or the bare context error when ctx ends first.
func (c *Client) Call(ctx context.Context, service, method string, req, resp any) error {
	return timeoutError(ctx, compatError(c.c.Call(ctx, service, method, req, resp)))
}

// timeoutError returns the bare context.DeadlineExceeded for a call whose
// own deadline has passed but which the handler's DeadlineExceeded status
// answered first: the deadline travels to the server, which may give up
// at the same moment as the caller, and programs (Kata) compare the text
// of a timed-out call with "context deadline exceeded".
func timeoutError(ctx context.Context, err error) error {
	if err == nil || err == context.DeadlineExceeded {
		return err
	}
	d, ok := ctx.Deadline()
	if !ok || time.Now().Before(d) {
		return err
	}
	if st, isStatus := grpcstatus.FromError(err); isStatus && st.Code() == codes.DeadlineExceeded {
		return context.DeadlineExceeded
	}
	return err
}

// NewStream opens a streaming call of service/method; req, when not nil,
// is sent as the first message. It fails with the same errors as Call, and
// so do the stream's methods (io.EOF ends a stream normally).
func (c *Client) NewStream(ctx context.Context, desc *StreamDesc, service, method string, req any) (ClientStream, error) {
	s, err := c.c.NewStream(ctx, desc, service, method, req)
	if err != nil {
		return nil, compatError(err)
	}
	return &clientStream{s: s, ctx: ctx}, nil
}

// Close closes the connection; calls and streams in progress fail with
// ErrClosed. It always returns nil.
func (c *Client) Close() error { return c.c.Close() }

// UserOnCloseWait waits until the connection has ended and the WithOnClose
// function has returned. It returns ctx's error if ctx ends first.
func (c *Client) UserOnCloseWait(ctx context.Context) error { return c.c.UserOnCloseWait(ctx) }

// clientStream translates the errors of a ttrpc-go stream.
type clientStream struct {
	s   ttrpcgo.ClientStream
	ctx context.Context // the stream's, for timeoutError
}

func (s *clientStream) CloseSend() error    { return compatError(s.s.CloseSend()) }
func (s *clientStream) SendMsg(m any) error { return compatError(s.s.SendMsg(m)) }
func (s *clientStream) RecvMsg(m any) error { return timeoutError(s.ctx, compatError(s.s.RecvMsg(m))) }
