package otelttrpc

import (
	"net"
	"strconv"

	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// addServerAddress puts the server a client span calls on span:
// server.address (the socket path of a unix socket, "@name" for an
// abstract one, the host otherwise)
// and, when the address has one, server.port. An address unknown or empty
// adds nothing.
func addServerAddress(span trace.Span, addr net.Addr) {
	switch a := addr.(type) {
	case nil:
	case *net.UnixAddr:
		// Linux names an unnamed socket "@", like an abstract one
		// with an empty name: neither says where the peer is.
		if a != nil && a.Name != "" && a.Name != "@" {
			span.SetAttributes(semconv.ServerAddress(a.Name))
		}
	case *net.TCPAddr:
		if a != nil {
			span.SetAttributes(semconv.ServerAddress(a.IP.String()), semconv.ServerPort(a.Port))
		}
	default:
		s := addr.String()
		if host, port, err := net.SplitHostPort(s); err == nil {
			if p, err := strconv.Atoi(port); err == nil && host != "" {
				span.SetAttributes(semconv.ServerAddress(host), semconv.ServerPort(p))
				return
			}
		}
		if s != "" {
			span.SetAttributes(semconv.ServerAddress(s))
		}
	}
}
