package ttrpc

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// Server serves registered services on the connections it accepts. Each
// request runs in a goroutine of its own.
type Server struct {
	config   serverConfig
	services serviceSet
	connCfg  *connConfig

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	shutdown  bool
	// connsGone is closed and replaced whenever the last connection ends.
	connsGone chan struct{}
}

// NewServer returns a server configured by opts, or the first option's
// error.
func NewServer(opts ...ServerOpt) (*Server, error) {
	s := &Server{
		config:    defaultServerConfig(),
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
		connsGone: make(chan struct{}),
	}
	for _, o := range opts {
		if err := o(&s.config); err != nil {
			return nil, err
		}
	}
	s.connCfg = s.config.connConfig(&s.services)
	s.connCfg.onClose = s.connClosed
	return s, nil
}

// Register registers a service with unary methods only; see
// RegisterService. It panics if name is already registered.
func (s *Server) Register(name string, methods map[string]Method) {
	s.RegisterService(name, &ServiceDesc{Methods: methods})
}

// RegisterService registers the methods and streams of the service called
// name (the full protobuf name, such as "pkg.v1.Service"). Services may be
// registered while the server runs. It panics if name is already
// registered.
func (s *Server) RegisterService(name string, desc *ServiceDesc) {
	s.services.register(name, desc)
}

// Serve accepts connections on l until Shutdown or Close, then returns
// ErrServerClosed; an accept error that is not temporary is returned as is.
// Serve closes l when it returns. ctx is the parent of every handler's
// context and is passed to the handshaker.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	if !s.addListener(l) {
		_ = l.Close()
		return ErrServerClosed
	}
	defer s.removeListener(l)
	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.isShutdown() {
				return ErrServerClosed
			}
			if ne, ok := err.(interface{ Temporary() bool }); ok && ne.Temporary() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.config.logger.Warn("ttrpc: accept failed; retrying", "error", err, "backoff", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		go func() { _, _ = s.handshake(ctx, nc) }()
	}
}

// ServeConn serves one already-connected socket (one end of a socketpair,
// or a connection accepted elsewhere) as Serve serves an accepted one: the
// handshaker runs first, then requests are served until the connection
// ends. It returns nil when the connection ended (closed by the peer, by
// Close or by Shutdown), ErrServerClosed if the server was already shut
// down (nc is then closed), or the handshaker's error (nc is closed too).
// The server owns nc from the call on.
func (s *Server) ServeConn(ctx context.Context, nc net.Conn) error {
	c, err := s.handshake(ctx, nc)
	if err != nil {
		return err
	}
	<-c.done
	return nil
}

// handshake runs the handshaker, then starts serving the connection. Serve
// runs it off the accept loop, so that a slow or stalled peer delays only
// itself.
func (s *Server) handshake(ctx context.Context, nc net.Conn) (*conn, error) {
	hctx, cancel := ctx, context.CancelFunc(func() {})
	if t := s.config.handshakeTimeout; t > 0 {
		hctx, cancel = context.WithTimeout(ctx, t)
		_ = nc.SetDeadline(time.Now().Add(t))
	}
	conn, info, err := s.config.handshaker.Handshake(hctx, nc)
	cancel()
	if err != nil {
		s.config.logger.Warn("ttrpc: refusing connection after handshake", "error", err, "remote", nc.RemoteAddr())
		_ = nc.Close()
		return nil, err
	}
	if s.config.handshakeTimeout > 0 {
		_ = conn.SetDeadline(time.Time{})
	}
	base := ctx
	if info != nil {
		base = context.WithValue(ctx, handshakeKey{}, info)
	}
	c := newConn(conn, s.connCfg, false, base)
	if !s.addConn(c) {
		_ = conn.Close()
		return nil, ErrServerClosed
	}
	c.start()
	return c, nil
}

func (s *Server) addListener(l net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return false
	}
	s.listeners[l] = struct{}{}
	return true
}

func (s *Server) removeListener(l net.Listener) {
	s.mu.Lock()
	delete(s.listeners, l)
	s.mu.Unlock()
	_ = l.Close()
}

func (s *Server) addConn(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) connClosed(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if len(s.conns) == 0 {
		close(s.connsGone)
		s.connsGone = make(chan struct{})
	}
}

func (s *Server) isShutdown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutdown
}

// stop marks the server shut down, closes its listeners and returns the
// connections it has, and the first listener-close error.
func (s *Server) stop() ([]*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shutdown = true
	var err error
	for l := range s.listeners {
		if cerr := l.Close(); cerr != nil && err == nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
		delete(s.listeners, l)
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return conns, err
}

// Shutdown stops accepting connections and new calls, lets the calls and
// streams in progress finish, and closes each connection once it is idle.
// It returns when all connections are closed (with the first listener-close
// error, or nil), or with ctx's error when ctx ends first; connections still
// busy then are left to finish on their own.
func (s *Server) Shutdown(ctx context.Context) error {
	conns, err := s.stop()
	for _, c := range conns {
		c.drain()
	}
	for {
		s.mu.Lock()
		n, gone := len(s.conns), s.connsGone
		s.mu.Unlock()
		if n == 0 {
			return err
		}
		select {
		case <-gone:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops the server at once: listeners and connections are closed and
// calls in progress end with ErrClosed at their callers; handler contexts
// are cancelled. It returns the first listener-close error, or nil.
func (s *Server) Close() error {
	conns, err := s.stop()
	for _, c := range conns {
		c.close(ErrClosed)
	}
	return err
}
