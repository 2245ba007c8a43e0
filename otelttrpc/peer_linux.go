//go:build linux

package otelttrpc

import (
	"context"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sys/unix"

	"github.com/ttrpc-go/ttrpc"
)

// addPeer puts the unix credentials that the server's handshaker found for
// the call's connection on span.
func addPeer(ctx context.Context, span trace.Span) {
	v, ok := ttrpc.HandshakeResult(ctx)
	if !ok {
		return
	}
	if cred, ok := v.(*unix.Ucred); ok && cred != nil {
		span.SetAttributes(PeerUIDKey.Int64(int64(cred.Uid)), PeerGIDKey.Int64(int64(cred.Gid)), PeerPIDKey.Int64(int64(cred.Pid)))
	}
}
