package ttrpc

import (
	"context"
	"errors"

	ttrpcgo "github.com/ttrpc-go/ttrpc"
	ttrpcstatus "github.com/ttrpc-go/ttrpc/status"
	grpcstatus "google.golang.org/grpc/status"
)

// compatError turns an error ttrpc-go returned into the error a
// containerd/ttrpc program expects:
//   - *ttrpcgo.OversizedMessageErr becomes this package's
//     *OversizedMessageErr (a grpc-go ResourceExhausted status underneath);
//   - grpc-go status errors are kept as they are;
//   - anything that is ErrClosed becomes the bare ErrClosed, and a
//     context's end the bare context error (programs compare these by
//     identity and by text);
//   - ttrpc-go status errors (marshal failures, the receive budget, ...)
//     become grpc-go status errors with the same code and text that still
//     unwrap to the original;
//   - everything else (ErrProtocol, ErrStreamClosed, ErrStreamFull, io.EOF)
//     is returned unchanged.
func compatError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*OversizedMessageErr); ok {
		return err
	}
	var big *ttrpcgo.OversizedMessageErr
	if errors.As(err, &big) {
		return newOversizedMessageErr(big.RejectedLength(), big.MaximumLength())
	}
	if isGRPCStatus(err) {
		return err
	}
	switch {
	case errors.Is(err, ErrClosed):
		return ErrClosed
	case err == context.DeadlineExceeded || err == context.Canceled:
		return err
	}
	if st, ok := ttrpcstatus.FromError(err); ok {
		return &statusError{err: err, st: grpcstatus.FromProto(st.Proto())}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return context.Canceled
	}
	return err
}

// isGRPCStatus reports whether err is, or wraps, a grpc-go status error.
func isGRPCStatus(err error) bool {
	var gs interface{ GRPCStatus() *grpcstatus.Status }
	return errors.As(err, &gs)
}

// statusError presents an error ttrpc-go raised with a status of its own
// as a grpc-go status error, keeping its text and its chain.
type statusError struct {
	err error
	st  *grpcstatus.Status
}

func (e *statusError) Error() string                  { return e.err.Error() }
func (e *statusError) Unwrap() error                  { return e.err }
func (e *statusError) GRPCStatus() *grpcstatus.Status { return e.st }
