package ttrpc

import (
	"context"
	"errors"
	"net"

	ttrpcgo "github.com/ttrpc-go/ttrpc"
)

// Server serves registered services on the connections it accepts.
type Server struct{ s *ttrpcgo.Server }

// NewServer returns a server configured by opts (this package's options or
// ttrpc-go's, which are the same type), or the first option's error.
func NewServer(opts ...ServerOpt) (*Server, error) {
	s, err := ttrpcgo.NewServer(opts...)
	if err != nil {
		return nil, err
	}
	return &Server{s: s}, nil
}

// WithServerHandshaker sets the handshaker every accepted connection goes
// through; a second one makes NewServer fail.
func WithServerHandshaker(handshaker Handshaker) ServerOpt {
	return ttrpcgo.WithServerHandshaker(handshaker)
}

// WithUnaryServerInterceptor sets the interceptor of unary calls; it must
// come before any chained interceptor, otherwise NewServer fails.
func WithUnaryServerInterceptor(i UnaryServerInterceptor) ServerOpt {
	return ttrpcgo.WithUnaryServerInterceptor(i)
}

// WithChainUnaryServerInterceptor adds interceptors after any already set;
// the first runs outermost.
func WithChainUnaryServerInterceptor(interceptors ...UnaryServerInterceptor) ServerOpt {
	return ttrpcgo.WithChainUnaryServerInterceptor(interceptors...)
}

// Register registers a service with unary methods only. It panics if name
// is already registered.
func (s *Server) Register(name string, methods map[string]Method) { s.s.Register(name, methods) }

// RegisterService registers the methods and streams of the service called
// name. It panics if name is already registered.
func (s *Server) RegisterService(name string, desc *ServiceDesc) { s.s.RegisterService(name, desc) }

// Serve accepts connections on l until Shutdown or Close, then returns the
// bare ErrServerClosed; an accept error that is not temporary is returned
// as is. ctx is the parent of every handler's context.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	err := s.s.Serve(ctx, l)
	if errors.Is(err, ErrServerClosed) {
		return ErrServerClosed
	}
	return err
}

// Shutdown stops accepting connections, lets calls in progress finish and
// closes connections once idle. It returns nil (or the first
// listener-close error) when all are closed, or ctx's error first.
func (s *Server) Shutdown(ctx context.Context) error { return s.s.Shutdown(ctx) }

// Close stops the server at once: listeners and connections are closed.
// It returns the first listener-close error.
func (s *Server) Close() error { return s.s.Close() }
