package ttrpc

import (
	"context"
	"errors"
	"io"
	"os"

	spb "google.golang.org/genproto/googleapis/rpc/status"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

var (
	// ErrProtocol is wrapped by errors about frames a peer should not have
	// sent, such as Data frames answering a unary call.
	ErrProtocol = errors.New("protocol error")

	// ErrClosed is returned (possibly wrapped) by every operation on a client
	// or stream whose connection has ended or was closed.
	ErrClosed = errors.New("ttrpc: closed")

	// ErrServerClosed is returned by Serve after Shutdown or Close.
	ErrServerClosed = errors.New("ttrpc: server closed")

	// ErrStreamClosed is returned when sending on a stream whose sending
	// side was already closed, or after the stream ended.
	ErrStreamClosed = errors.New("ttrpc: stream closed")

	// ErrStreamFull is returned when a stream's receive buffer stayed full:
	// the receiver did not consume messages in time, so the stream was
	// ended rather than stalling every other stream on the connection.
	ErrStreamFull = errors.New("ttrpc: stream buffer full")
)

// errMarshalNil is returned when a handler or caller hands a nil message to
// the codec.
var errMarshalNil = errors.New("ttrpc: marshal called with nil")

// OversizedMessageErr is returned when a message is larger than the
// connection's maximum message size. It unwraps to a ResourceExhausted
// status error, so status.Code reports codes.ResourceExhausted.
type OversizedMessageErr struct {
	messageLength int
	maximumLength int
	err           error
}

// OversizedMessageError returns an *OversizedMessageErr for a message of
// messageLength bytes measured against the default 4 MiB limit, or nil when
// the length is within that limit.
func OversizedMessageError(messageLength int) error {
	if messageLength <= defaultMaxMessageSize {
		return nil
	}
	return newOversizedMessageErr(messageLength, defaultMaxMessageSize)
}

func newOversizedMessageErr(messageLength, maximumLength int) *OversizedMessageErr {
	return &OversizedMessageErr{
		messageLength: messageLength,
		maximumLength: maximumLength,
		err: status.Errorf(codes.ResourceExhausted,
			"message length %d exceed maximum message size of %d", messageLength, maximumLength),
	}
}

// Error returns the text of the underlying ResourceExhausted status error.
func (e *OversizedMessageErr) Error() string { return e.err.Error() }

// Unwrap returns the underlying ResourceExhausted status error.
func (e *OversizedMessageErr) Unwrap() error { return e.err }

// GRPCStatus returns the ResourceExhausted status, so that status.FromError
// finds it without unwrapping.
func (e *OversizedMessageErr) GRPCStatus() *status.Status {
	s, _ := status.FromError(e.err)
	return s
}

// RejectedLength returns the length of the message that was refused.
func (e *OversizedMessageErr) RejectedLength() int { return e.messageLength }

// MaximumLength returns the limit the message was measured against.
func (e *OversizedMessageErr) MaximumLength() int { return e.maximumLength }

// statusProto converts an error returned by a handler into the status sent
// to the peer. Status errors (ours, grpc-go's, or anything with a
// GRPCStatus method) keep their code, message and details; other errors map
// as in grpc-go and containerd/ttrpc.
func statusProto(err error) *spb.Status {
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		return st.Proto()
	}
	return &spb.Status{Code: int32(plainErrorCode(err)), Message: err.Error()}
}

func plainErrorCode(err error) codes.Code {
	switch err {
	case io.EOF:
		return codes.OutOfRange
	case io.ErrClosedPipe, io.ErrNoProgress, io.ErrShortBuffer, io.ErrShortWrite, io.ErrUnexpectedEOF:
		return codes.FailedPrecondition
	case os.ErrInvalid:
		return codes.InvalidArgument
	}
	switch {
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, os.ErrExist):
		return codes.AlreadyExists
	case errors.Is(err, os.ErrNotExist):
		return codes.NotFound
	case errors.Is(err, os.ErrPermission):
		return codes.PermissionDenied
	}
	return codes.Unknown
}

func statusProtof(c codes.Code, format string, args ...any) *spb.Status {
	return status.Newf(c, format, args...).Proto()
}
