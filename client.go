package ttrpc

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// Client calls services over one connection. It is safe for concurrent
// use: calls and streams are multiplexed on the connection, and one reader
// goroutine hands each response to the call waiting for it.
type Client struct {
	conn *conn

	unaryInterceptor  UnaryClientInterceptor
	streamInterceptor StreamClientInterceptor
	maxMessageSize    int
	logger            Logger

	onClose func()
	// userCloseDone is closed after the onClose callback returned.
	userCloseDone chan struct{}

	// services are what this client serves to its peer (reverse calls),
	// configured by serverOpts.
	services   serviceSet
	serverOpts []ServerOpt

	// statusError builds the errors calls return for a failed status.
	statusError func(*spb.Status) error

	// peer marks the Client a server's PeerClient created.
	peer bool

	// invoker is c.invoke, the Invoker of intercepted unary calls.
	invoker Invoker

	budget            int64 // 0: the default
	writeStallTimeout time.Duration
}

// ClientOpts configures a Client in NewClient.
type ClientOpts func(c *Client)

// WithOnClose sets a function run once when the connection ends, whether
// Close was called or the peer went away; UserOnCloseWait waits for it.
func WithOnClose(onClose func()) ClientOpts {
	return func(c *Client) { c.onClose = onClose }
}

// WithUnaryClientInterceptor sets the interceptor of unary calls, replacing
// any set before.
func WithUnaryClientInterceptor(i UnaryClientInterceptor) ClientOpts {
	return func(c *Client) { c.setUnaryInterceptor(i) }
}

// WithChainUnaryClientInterceptor adds interceptors after any already set;
// the first runs outermost.
func WithChainUnaryClientInterceptor(interceptors ...UnaryClientInterceptor) ClientOpts {
	return func(c *Client) {
		chain := interceptors
		if c.unaryInterceptor != nil {
			chain = append([]UnaryClientInterceptor{c.unaryInterceptor}, interceptors...)
		}
		c.setUnaryInterceptor(chainUnaryClient(chain))
	}
}

// setUnaryInterceptor installs i, and with it the Invoker it is handed:
// made here, once, because a method value allocates, and here rather than
// in every Client so that a program installing no interceptor does not
// link the intercepted path (a server's peer clients are Clients too).
func (c *Client) setUnaryInterceptor(i UnaryClientInterceptor) {
	c.unaryInterceptor = i
	if i != nil && c.invoker == nil {
		c.invoker = c.invoke
	}
}

// WithStreamClientInterceptor sets the interceptor of NewStream, replacing
// any set before.
func WithStreamClientInterceptor(i StreamClientInterceptor) ClientOpts {
	return func(c *Client) { c.streamInterceptor = i }
}

// WithChainStreamClientInterceptor adds stream interceptors after any
// already set; the first runs outermost.
func WithChainStreamClientInterceptor(interceptors ...StreamClientInterceptor) ClientOpts {
	return func(c *Client) {
		chain := interceptors
		if c.streamInterceptor != nil {
			chain = append([]StreamClientInterceptor{c.streamInterceptor}, interceptors...)
		}
		c.streamInterceptor = chainStreamClient(chain)
	}
}

// WithClientWireMessageLimit sets the largest frame body the client sends
// or accepts (default 4 MiB). Values are clamped to [4 KiB, 16 MiB - 1].
// Larger messages fail locally with *OversizedMessageErr when sent, and with
// a ResourceExhausted status when received; the connection survives both.
func WithClientWireMessageLimit(limit int) ClientOpts {
	return func(c *Client) { c.maxMessageSize = clampMessageLimit(limit) }
}

// WithClientStatusError sets how the client turns a failed call's
// google.rpc.Status into the error it returns (default status.ErrorProto of
// this module). A program that already links grpc-go can pass grpc-go's
// status.ErrorProto, so that code written for gRPC errors (grpc's
// status.FromError, containerd's errdefs.FromGRPC) recognises them; this
// module's status.Code understands both kinds.
func WithClientStatusError(f func(*spb.Status) error) ClientOpts {
	return func(c *Client) {
		if f != nil {
			c.statusError = f
		}
	}
}

// WithClientLogger sets the logger of connection events. The default
// discards everything.
func WithClientLogger(l Logger) ClientOpts {
	return func(c *Client) {
		if l != nil {
			c.logger = l
		}
	}
}

func clampMessageLimit(limit int) int {
	return min(max(limit, minMessageSizeLimit), maxMessageSizeLimit)
}

// NewClient starts a client on conn, which it owns from now on: Close
// closes it. The client opens odd stream ids, as the dialling side of a
// ttrpc connection does. An option of WithClientServerOpts that fails
// makes it panic, as that is a programming error.
func NewClient(nc net.Conn, opts ...ClientOpts) *Client {
	c := newClientConfig(opts, discardLogger)
	serving := defaultServerConfig()
	serving.logger = nil // unset: handler events go to the client's logger
	for _, o := range c.serverOpts {
		if err := o(&serving); err != nil {
			panic("ttrpc: WithClientServerOpts: " + err.Error())
		}
	}
	if serving.logger == nil {
		serving.logger = c.logger
	}
	cfg := serving.connConfig(&c.services)
	cfg.maxMessageSize = c.maxMessageSize
	cfg.connBudget = c.connBudget(c.maxMessageSize)
	cfg.writeStallTimeout = c.writeStallTimeout
	cfg.connLogger = c.logger
	c.conn = newConn(nc, cfg, true, context.Background())
	c.conn.client = c
	c.conn.start()
	return c
}

// newClientConfig returns a Client with defaults (logger being the
// default logger) and opts applied, not yet bound to a connection.
func newClientConfig(opts []ClientOpts, logger Logger) *Client {
	c := &Client{
		maxMessageSize:    defaultMaxMessageSize,
		logger:            logger,
		userCloseDone:     make(chan struct{}),
		statusError:       status.ErrorProto,
		writeStallTimeout: defaultWriteStallTimeout,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// connBudget is the connection budget the client was configured with, or
// the default for the message limit.
func (c *Client) connBudget(maxMessageSize int) int64 {
	if c.budget > 0 {
		return max(c.budget, minConnBudget(maxMessageSize))
	}
	return defaultConnBudget(maxMessageSize)
}

// WithClientConnectionBudget sets how many bytes the connection may hold
// for its peer: stream messages not yet received and answers to the
// peer's calls not yet written (default four times the message limit, 16
// MiB). Past it the client stops reading from the connection until they
// drain (PROTOCOL.md, "Backpressure"). It is raised to one message of the
// largest size if set lower.
func WithClientConnectionBudget(bytes int) ClientOpts {
	return func(c *Client) { c.budget = int64(bytes) }
}

// WithClientWriteStallTimeout closes the connection when a write to it
// makes no progress for d (default one minute; 0 disables): the server
// has stopped reading, and the calls waiting for it are released with
// ErrClosed.
func WithClientWriteStallTimeout(d time.Duration) ClientOpts {
	return func(c *Client) { c.writeStallTimeout = max(d, 0) }
}

func (c *Client) runOnClose() {
	defer close(c.userCloseDone)
	if c.onClose != nil {
		c.onClose()
	}
}

// Close closes the connection. Calls and streams in progress end with
// ErrClosed. It always returns nil.
func (c *Client) Close() error {
	c.conn.close(ErrClosed)
	return nil
}

// UserOnCloseWait waits until the connection has ended and the WithOnClose
// function has returned. It returns ctx's error if ctx ends first.
func (c *Client) UserOnCloseWait(ctx context.Context) error {
	select {
	case <-c.userCloseDone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Call makes a unary call of service/method with req and decodes the result
// into resp. The context's deadline travels to the handler, and so does its
// metadata (WithMetadata). A failed call returns the handler's status error
// (status.Code gives its code), ErrClosed when the connection is gone, the
// context's error when it ends first, or *OversizedMessageErr when req is
// over the limit.
func (c *Client) Call(ctx context.Context, service, method string, req, resp any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	mm, err := measure(req)
	if err != nil {
		return status.Errorf(codes.Internal, "ttrpc: marshal request: %v", err)
	}
	pbuf := getBuffer(mm.size)
	defer putBuffer(pbuf)
	payload, err := mm.appendTo((*pbuf)[:0])
	*pbuf = payload
	if err != nil {
		return status.Errorf(codes.Internal, "ttrpc: marshal request: %v", err)
	}
	if c.unaryInterceptor == nil {
		// No interceptor can keep the envelopes: they are pooled.
		e := envelopePool.Get().(*envelopes)
		defer e.release()
		e.req.Service, e.req.Method, e.req.Payload = service, method, payload
		setCallContext(ctx, &e.req)
		body, err := c.roundTrip(ctx, &e.req, &e.resp)
		defer putBuffer(body)
		if err != nil {
			return err
		}
		return callError(ctx, c.finishCall(&e.resp, resp))
	}
	// Interceptors may keep what they are handed, so nothing is pooled:
	// the envelopes and the info come in one allocation instead.
	ic := new(interceptedCall)
	ic.req.Service, ic.req.Method, ic.req.Payload = service, method, payload
	setCallContext(ctx, &ic.req)
	ic.info.FullMethod = clientMethodNames.get(service, method)
	ic.info.RemoteAddr = c.conn.nc.RemoteAddr()
	if err := c.unaryInterceptor(ctx, &ic.req, &ic.resp, &ic.info, c.invoker); err != nil {
		return err
	}
	return callError(ctx, c.finishCall(&ic.resp, resp))
}

// interceptedCall is what an intercepted unary call hands its
// interceptors, allocated at once.
type interceptedCall struct {
	req  Request
	resp Response
	info UnaryClientInfo
}

// clientMethodNames caches the FullMethod of the methods clients call, so
// that an intercepted call does not build it every time.
var clientMethodNames methodNameCache

// maxCachedMethodNames bounds methodNameCache: past this many names, the
// others are built on every call.
const maxCachedMethodNames = 512

type methodNameKey struct{ service, method string }

// methodNameCache maps service and method to fullMethodName's result. Reads
// take no lock: they load an immutable map, which writers copy.
type methodNameCache struct {
	mu    sync.Mutex // serialises writers
	names atomic.Pointer[map[methodNameKey]string]
}

// get returns fullMethodName(service, method), caching it.
func (mc *methodNameCache) get(service, method string) string {
	key := methodNameKey{service, method}
	if p := mc.names.Load(); p != nil {
		if name, ok := (*p)[key]; ok {
			return name
		}
	}
	name := fullMethodName(service, method)
	mc.mu.Lock()
	defer mc.mu.Unlock()
	var old map[methodNameKey]string
	if p := mc.names.Load(); p != nil {
		old = *p
	}
	if _, ok := old[key]; ok || len(old) >= maxCachedMethodNames {
		return name
	}
	next := make(map[methodNameKey]string, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[key] = name
	mc.names.Store(&next)
	return name
}

// envelopes are a unary call's Request and Response, pooled.
type envelopes struct {
	req  Request
	resp Response
}

var envelopePool = sync.Pool{New: func() any { return new(envelopes) }}

func (e *envelopes) release() {
	e.req.Service, e.req.Method, e.req.Payload, e.req.TimeoutNano, e.req.Metadata = "", "", nil, 0, nil
	e.resp.Status, e.resp.Payload = nil, nil
	envelopePool.Put(e)
}

// finishCall decodes a call's result: the payload into resp (as
// containerd/ttrpc, even when the status is an error), then the status.
func (c *Client) finishCall(cresp *Response, resp any) error {
	if err := unmarshalMessage(cresp.Payload, resp); err != nil {
		return status.Errorf(codes.Internal, "ttrpc: unmarshal response: %v", err)
	}
	if st := cresp.Status; st != nil && st.Code != int32(codes.OK) {
		return c.conn.statusError(st)
	}
	return nil
}

// callError makes the error of a call whose context ended the context's
// own error, however the call learnt of it (its own deadline, or the
// handler's DeadlineExceeded status racing it), as containerd/ttrpc
// returns it; callers compare its text.
func callError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		switch status.Code(err) {
		case codes.DeadlineExceeded, codes.Canceled:
			return cerr
		}
	}
	return err
}

// setCallContext copies the caller's metadata and deadline into r.
func setCallContext(ctx context.Context, r *Request) {
	if md, ok := GetMetadata(ctx); ok {
		r.Metadata = md.toKeyValues()
	}
	if d, ok := ctx.Deadline(); ok {
		r.TimeoutNano = max(time.Until(d).Nanoseconds(), 1)
	}
}

// invoke is the Invoker handed to interceptors. Its response payload is a
// copy, since interceptors may keep it.
func (c *Client) invoke(ctx context.Context, req *Request, resp *Response) error {
	body, err := c.roundTrip(ctx, req, resp)
	if err == nil && resp.Payload != nil {
		resp.Payload = append([]byte(nil), resp.Payload...)
	}
	putBuffer(body)
	return err
}

// roundTrip sends req on a new stream and waits for its Response. On
// success resp.Payload aliases the returned body, which the caller
// releases with putBuffer once it has decoded the payload.
func (c *Client) roundTrip(ctx context.Context, req *Request, resp *Response) (*[]byte, error) {
	s := getClientStream(c.conn)
	defer putClientStream(s)
	if err := c.conn.openStream(ctx, s, req, 0, 1, c.maxMessageSize); err != nil {
		return nil, err
	}
	f, err := s.in.pop(ctx)
	c.conn.forget(s)
	if err != nil {
		if ctx.Err() != nil {
			c.conn.sendCancel(s.id)
			return nil, ctx.Err()
		}
		return nil, err
	}
	if f.header.typ != frameResponse {
		putBuffer(f.body)
		return nil, fmt.Errorf("unexpected %q message received: %w", f.header.typ.String(), ErrProtocol)
	}
	var rv responseView
	if err := decodeResponse(bodyBytes(f.body), &rv); err != nil {
		putBuffer(f.body)
		return nil, status.Errorf(codes.Internal, "ttrpc: decode response: %v", err)
	}
	resp.Status, resp.Payload = rv.status, rv.payload
	return f.body, nil
}
