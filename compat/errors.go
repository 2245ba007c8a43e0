package ttrpc

import (
	ttrpcgo "github.com/ttrpc-go/ttrpc"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
)

// The sentinel errors are ttrpc-go's own values, so that == and errors.Is
// give the same answer whichever package a program compares with.
var (
	// ErrProtocol is wrapped by errors about frames a peer should not
	// have sent.
	ErrProtocol = ttrpcgo.ErrProtocol
	// ErrClosed is returned, unwrapped, by calls and streams of a client
	// whose connection is closed or gone. Its text is "ttrpc: closed".
	ErrClosed = ttrpcgo.ErrClosed
	// ErrServerClosed is returned, unwrapped, by Serve after Shutdown or
	// Close.
	ErrServerClosed = ttrpcgo.ErrServerClosed
	// ErrStreamClosed is returned when sending on a stream whose sending
	// side was closed.
	ErrStreamClosed = ttrpcgo.ErrStreamClosed
	// ErrStreamFull is returned when a stream's receive buffer stayed full
	// and the stream was ended for it.
	ErrStreamFull = ttrpcgo.ErrStreamFull
)

// maxMessageLength is the default limit of a message (4 MiB), as in
// containerd/ttrpc.
const maxMessageLength = 4 << 20

// OversizedMessageErr is returned when a message to be sent is larger than
// the connection allows. It unwraps to a grpc-go ResourceExhausted status
// error, so grpc-go's status.Code reports codes.ResourceExhausted.
type OversizedMessageErr struct {
	messageLength int
	maximumLength int
	err           error
}

// OversizedMessageError returns an *OversizedMessageErr for a message of
// messageLength bytes measured against the 4 MiB limit, or nil when the
// length is within it.
func OversizedMessageError(messageLength int) error {
	if messageLength <= maxMessageLength {
		return nil
	}
	return newOversizedMessageErr(messageLength, maxMessageLength)
}

func newOversizedMessageErr(messageLength, maximumLength int) *OversizedMessageErr {
	return &OversizedMessageErr{
		messageLength: messageLength,
		maximumLength: maximumLength,
		err: grpcstatus.Errorf(codes.ResourceExhausted,
			"message length %d exceed maximum message size of %d", messageLength, maximumLength),
	}
}

// Error returns the text of the underlying ResourceExhausted status error.
func (e *OversizedMessageErr) Error() string { return e.err.Error() }

// Unwrap returns the underlying grpc-go ResourceExhausted status error.
func (e *OversizedMessageErr) Unwrap() error { return e.err }

// RejectedLength returns the length of the message that was refused.
func (e *OversizedMessageErr) RejectedLength() int { return e.messageLength }

// MaximumLength returns the limit the message was measured against.
func (e *OversizedMessageErr) MaximumLength() int { return e.maximumLength }
