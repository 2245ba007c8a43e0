package ttrpc

import (
	"errors"
	"log/slog"
	"time"
)

// serverConfig is what ServerOpts set.
type serverConfig struct {
	handshaker         Handshaker
	handshakerSet      bool
	unaryInterceptors  []UnaryServerInterceptor
	unarySet           bool
	streamInterceptors []StreamServerInterceptor
	streamSet          bool
	maxMessageSize     int
	maxStreams         int
	handshakeTimeout   time.Duration
	logger             *slog.Logger
	peerClientOpts     []ClientOpts
	writeStallTimeout  time.Duration
}

// Defaults that keep a server reachable by untrusted peers safe.
const (
	// defaultMaxStreams bounds the handlers one connection can keep running.
	defaultMaxStreams = 1024
	// defaultHandshakeTimeout bounds how long a peer may take to pass the
	// handshake.
	defaultHandshakeTimeout = 10 * time.Second
	// defaultWriteStallTimeout is how long a server waits for a peer that
	// takes none of the bytes it is sent before closing its connection.
	defaultWriteStallTimeout = time.Minute
)

func defaultServerConfig() serverConfig {
	return serverConfig{
		handshaker:        handshakerFunc(noopHandshake),
		maxMessageSize:    defaultMaxMessageSize,
		maxStreams:        defaultMaxStreams,
		handshakeTimeout:  defaultHandshakeTimeout,
		writeStallTimeout: defaultWriteStallTimeout,
		logger:            discardLogger,
	}
}

// ServerOpt configures a Server in NewServer; an option returns an error
// when it conflicts with an earlier one.
type ServerOpt func(*serverConfig) error

// WithServerHandshaker sets the handshaker run on every accepted
// connection. Setting a second one is an error.
func WithServerHandshaker(handshaker Handshaker) ServerOpt {
	return func(c *serverConfig) error {
		if c.handshakerSet {
			return errors.New("only one handshaker allowed per server")
		}
		c.handshaker, c.handshakerSet = handshaker, true
		return nil
	}
}

// WithUnaryServerInterceptor sets the outermost unary interceptor. It is an
// error to use it twice or after WithChainUnaryServerInterceptor.
func WithUnaryServerInterceptor(i UnaryServerInterceptor) ServerOpt {
	return func(c *serverConfig) error {
		if c.unarySet || len(c.unaryInterceptors) > 0 {
			return errors.New("only one unchained interceptor allowed per server")
		}
		c.unaryInterceptors, c.unarySet = []UnaryServerInterceptor{i}, true
		return nil
	}
}

// WithChainUnaryServerInterceptor adds unary interceptors after those set
// before; the first runs outermost.
func WithChainUnaryServerInterceptor(interceptors ...UnaryServerInterceptor) ServerOpt {
	return func(c *serverConfig) error {
		c.unaryInterceptors = append(c.unaryInterceptors, interceptors...)
		return nil
	}
}

// WithStreamServerInterceptor sets the outermost stream interceptor. It is
// an error to use it twice or after WithChainStreamServerInterceptor.
func WithStreamServerInterceptor(i StreamServerInterceptor) ServerOpt {
	return func(c *serverConfig) error {
		if c.streamSet || len(c.streamInterceptors) > 0 {
			return errors.New("only one unchained stream interceptor allowed per server")
		}
		c.streamInterceptors, c.streamSet = []StreamServerInterceptor{i}, true
		return nil
	}
}

// WithChainStreamServerInterceptor adds stream interceptors after those set
// before; the first runs outermost.
func WithChainStreamServerInterceptor(interceptors ...StreamServerInterceptor) ServerOpt {
	return func(c *serverConfig) error {
		c.streamInterceptors = append(c.streamInterceptors, interceptors...)
		return nil
	}
}

// WithServerWireMessageLimit sets the largest frame body the server accepts
// or sends (default 4 MiB); it is an error outside [4 KiB, 16 MiB - 1].
// Larger requests are answered with ResourceExhausted, larger results are
// replaced by a ResourceExhausted status; connections survive both.
func WithServerWireMessageLimit(limit int) ServerOpt {
	return func(c *serverConfig) error {
		if limit < minMessageSizeLimit || limit > maxMessageSizeLimit {
			return errors.New("ttrpc: wire message limit must be between 4 KiB and 16 MiB - 1")
		}
		c.maxMessageSize = limit
		return nil
	}
}

// WithServerMaxConcurrentStreams bounds the calls and streams one
// connection may have running (default 1024; 0 removes the bound). Calls
// over it are refused with ResourceExhausted.
func WithServerMaxConcurrentStreams(n int) ServerOpt {
	return func(c *serverConfig) error {
		if n < 0 {
			return errors.New("ttrpc: max concurrent streams must not be negative")
		}
		c.maxStreams = n
		return nil
	}
}

// WithServerHandshakeTimeout bounds the handshake of each connection
// (default 10 s; 0 removes the bound). A peer that does not complete it in
// time is disconnected.
func WithServerHandshakeTimeout(d time.Duration) ServerOpt {
	return func(c *serverConfig) error {
		if d < 0 {
			return errors.New("ttrpc: handshake timeout must not be negative")
		}
		c.handshakeTimeout = d
		return nil
	}
}

// WithServerWriteStallTimeout closes a connection when a write to it makes
// no progress for d (default one minute; 0 disables): its peer has stopped
// reading, and the handlers and answers waiting for it are released. A
// write that progresses, however slowly, is not affected; a caller's
// earlier deadline still ends its own write first.
func WithServerWriteStallTimeout(d time.Duration) ServerOpt {
	return func(c *serverConfig) error {
		if d < 0 {
			return errors.New("ttrpc: write stall timeout must not be negative")
		}
		c.writeStallTimeout = d
		return nil
	}
}

// WithServerLogger sets the logger of connection and handler events. The
// default discards everything.
func WithServerLogger(l *slog.Logger) ServerOpt {
	return func(c *serverConfig) error {
		if l == nil {
			return errors.New("ttrpc: nil logger")
		}
		c.logger = l
		return nil
	}
}
