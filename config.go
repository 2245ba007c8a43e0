package ttrpc

import (
	"context"
	"errors"
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
	logger             Logger
	peerClientOpts     []ClientOpts
	writeStallTimeout  time.Duration
	connBudget         int64 // 0: the default for the message limit
	onPeerServing      func(context.Context, *Client)
}

// connConfig is what a connection needs from its side, Client or Server:
// one structure that both option sets fill (see serverConfig.connConfig
// and NewClient), so that an option means the same on either side.
type connConfig struct {
	maxMessageSize int
	// connBudget bounds the bytes the connection holds for its peer
	// (budget.go).
	connBudget int64
	// logger receives handler events (panics); connLogger connection
	// events. They differ on a client whose serving side has a logger of
	// its own (WithClientServerOpts(WithServerLogger(l))).
	logger     Logger
	connLogger Logger
	// services is what this side serves (possibly nothing yet).
	services *serviceSet
	serving  *servingConfig
	// onClose runs once, after every stream was failed.
	onClose func(c *conn)
	// peerClientOpts configure the Client created for PeerClient.
	peerClientOpts []ClientOpts
	// maxStreams bounds concurrently running handlers (0: no bound);
	// requests beyond it wait their turn.
	maxStreams int
	// writeStallTimeout closes the connection when a write makes no
	// progress for that long (0: never).
	writeStallTimeout time.Duration
	// onPeerServing is called when the dialler announces that it serves.
	onPeerServing func(context.Context, *Client)
	// workers run the handlers of every connection of this side.
	workers *workerPool
}

// writeBudget is the room for outgoing bytes: 1 MiB, or a quarter of a
// smaller connection budget. A frame larger than that is still sent, on
// its own.
func (cfg *connConfig) writeBudget() int64 {
	return min(cfg.connBudget/4, 1<<20)
}

// connConfig builds the connection configuration of a serving side.
func (c *serverConfig) connConfig(services *serviceSet) *connConfig {
	budget := defaultConnBudget(c.maxMessageSize)
	if c.connBudget > 0 {
		budget = max(c.connBudget, minConnBudget(c.maxMessageSize))
	}
	return &connConfig{
		maxMessageSize: c.maxMessageSize,
		connBudget:     budget,
		logger:         c.logger,
		connLogger:     c.logger,
		services:       services,
		serving: &servingConfig{
			unary:  chainUnaryServer(c.unaryInterceptors),
			stream: chainStreamServer(c.streamInterceptors),
		},
		maxStreams:        c.maxStreams,
		peerClientOpts:    c.peerClientOpts,
		writeStallTimeout: c.writeStallTimeout,
		onPeerServing:     c.onPeerServing,
		workers:           newWorkerPool(),
	}
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

// WithServerMaxConcurrentStreams bounds the handlers one connection may
// have running (default 1024; 0 removes the bound). Requests beyond it are
// not refused: they wait, in arrival order, for a running handler to end,
// within the connection budget (WithServerConnectionBudget).
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
func WithServerLogger(l Logger) ServerOpt {
	return func(c *serverConfig) error {
		if l == nil {
			return errors.New("ttrpc: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithServerConnectionBudget sets how many bytes one connection may hold
// for its peer: requests waiting or being handled, stream messages not yet
// received, answers not yet written (default four times the message
// limit, 16 MiB). Past it the server stops reading from that connection
// until they drain (PROTOCOL.md, "Backpressure"), so a connection holds at
// most the budget plus two messages. A budget below one message of the
// largest size is raised to that; one that is not positive is an error.
func WithServerConnectionBudget(bytes int) ServerOpt {
	return func(c *serverConfig) error {
		if bytes <= 0 {
			return errors.New("ttrpc: connection budget must be positive")
		}
		c.connBudget = int64(bytes)
		return nil
	}
}

// WithServerOnPeerServing sets a function called, in a goroutine of its
// own, when the client of a connection announces that it serves calls
// (Client.RegisterService): peer calls that client from then on. ctx is
// the connection's context (HandshakeResult works on it); it is cancelled
// when the connection ends, and peer.Done is closed then too.
func WithServerOnPeerServing(f func(ctx context.Context, peer *Client)) ServerOpt {
	return func(c *serverConfig) error {
		c.onPeerServing = f
		return nil
	}
}
