// Package status builds and inspects the errors that ttrpc carries on the
// wire.
//
// A ttrpc Response reports failure with a google.rpc.Status (code, message,
// details). This package wraps that message in a Status value and turns it
// into Go errors and back. Its API mirrors google.golang.org/grpc/status so
// that code written for containerd/ttrpc (which uses grpc-go's package) ports
// by changing the import path, and the error texts are identical:
//
//	rpc error: code = NotFound desc = container "x" not found
//
// The package does not depend on grpc-go. Errors produced by grpc-go's
// status package are still understood: FromError, Code and Convert recognise
// any error that has a GRPCStatus method whose result has a
// Proto() *spb.Status method, which is the shape of grpc-go's *status.Status.
//
// A nil *Status is valid and means OK, as in grpc-go.
package status

import (
	"context"
	"errors"
	"fmt"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/ttrpc-go/ttrpc/codes"
)

// Status is an RPC outcome: a code, a message and optional details. Its
// zero value and a nil *Status both mean OK. A Status is never modified
// after it is built; WithDetails returns a new one.
type Status struct {
	s *spb.Status
}

// New returns a Status with code c and message msg.
func New(c codes.Code, msg string) *Status {
	return &Status{s: &spb.Status{Code: int32(c), Message: msg}}
}

// Newf returns a Status with code c and a message formatted with
// fmt.Sprintf(format, a...).
func Newf(c codes.Code, format string, a ...any) *Status {
	return New(c, fmt.Sprintf(format, a...))
}

// FromProto returns a Status holding a deep copy of p, so later changes to
// p do not affect it. A nil p gives an OK Status.
func FromProto(p *spb.Status) *Status {
	if p == nil {
		return &Status{}
	}
	return &Status{s: proto.Clone(p).(*spb.Status)}
}

// Error returns an error carrying code c and message msg, or nil when c is
// codes.OK.
func Error(c codes.Code, msg string) error {
	return New(c, msg).Err()
}

// Errorf returns an error carrying code c and a message formatted with
// fmt.Sprintf(format, a...), or nil when c is codes.OK.
func Errorf(c codes.Code, format string, a ...any) error {
	return Error(c, fmt.Sprintf(format, a...))
}

// ErrorProto returns an error carrying a copy of p (details included), or
// nil when p is nil or its code is OK.
func ErrorProto(p *spb.Status) error {
	return FromProto(p).Err()
}

// Code returns the status code; codes.OK for a nil Status.
func (s *Status) Code() codes.Code {
	if s == nil || s.s == nil {
		return codes.OK
	}
	return codes.Code(s.s.Code)
}

// Message returns the status message; "" for a nil Status.
func (s *Status) Message() string {
	if s == nil || s.s == nil {
		return ""
	}
	return s.s.Message
}

// Proto returns a deep copy of the google.rpc.Status message, suitable for
// putting on the wire; nil for a nil Status.
func (s *Status) Proto() *spb.Status {
	if s == nil || s.s == nil {
		return nil
	}
	return proto.Clone(s.s).(*spb.Status)
}

// Err returns an error carrying s, or nil when the code is OK. The error's
// text is String() and FromError gives s back.
func (s *Status) Err() error {
	if s.Code() == codes.OK {
		return nil
	}
	return &statusError{s: s}
}

// String returns "rpc error: code = <code name> desc = <message>", the text
// grpc-go uses; callers in the containerd ecosystem sometimes match on it.
func (s *Status) String() string {
	return fmt.Sprintf("rpc error: code = %s desc = %s", s.Code(), s.Message())
}

// WithDetails returns a new Status that has the same code and message as s
// and the given messages appended to its details, each packed into a
// google.protobuf.Any. It fails for an OK status, which cannot carry
// details, and when a message cannot be marshalled; s itself is unchanged.
// Messages from google.golang.org/protobuf and from older (APIv1)
// generators are both accepted.
func (s *Status) WithDetails(details ...protoadapt.MessageV1) (*Status, error) {
	if s.Code() == codes.OK {
		return nil, errors.New("status: an OK status cannot carry details")
	}
	p := s.Proto()
	for _, d := range details {
		a, err := anypb.New(protoadapt.MessageV2Of(d))
		if err != nil {
			return nil, err
		}
		p.Details = append(p.Details, a)
	}
	return &Status{s: p}, nil
}

// Details returns the detail messages of s, decoded. A detail whose type is
// not linked into the program (not in the global protobuf registry) or does
// not decode appears as the error that describes the failure instead. A nil
// Status has no details.
func (s *Status) Details() []any {
	if s == nil || s.s == nil {
		return nil
	}
	out := make([]any, 0, len(s.s.Details))
	for _, a := range s.s.Details {
		m, err := a.UnmarshalNew()
		if err != nil {
			out = append(out, err)
			continue
		}
		out = append(out, protoadapt.MessageV1Of(m))
	}
	return out
}

// statusError is the error form of a non-OK Status.
type statusError struct {
	s *Status
}

func (e *statusError) Error() string { return e.s.String() }

// GRPCStatus exposes the status under the method name grpc-go looks for,
// so code written against grpc-go's conventions finds it.
func (e *statusError) GRPCStatus() *Status { return e.s }

// Is reports whether target is a status error with an equal status (code,
// message and details), which lets errors.Is compare against sentinel status
// errors. A grpc-go status error target is compared the same way.
func (e *statusError) Is(target error) bool {
	var other *spb.Status
	if t, ok := target.(*statusError); ok {
		other = t.s.s
	} else if p, found := foreignProto(target); found && p != nil {
		other = p
	} else {
		return false
	}
	return proto.Equal(e.s.s, other)
}

// statusCarrier is implemented by errors of this package and by any other
// error that wants to present one of our statuses.
type statusCarrier interface {
	GRPCStatus() *Status
}

// ownStatus returns the status err presents itself, without unwrapping.
// carrier is false when err has no status method at all; s may be nil when
// err has one but it returned no status.
func ownStatus(err error) (s *Status, carrier bool) {
	if c, ok := err.(statusCarrier); ok {
		return c.GRPCStatus(), true
	}
	if p, found := foreignProto(err); found {
		if p == nil {
			return nil, true
		}
		// Another implementation's Proto may hand out its own message.
		return FromProto(p), true
	}
	return nil, false
}

// FromError returns the status carried by err and whether err carried one.
//
//   - nil gives (nil, true); a nil Status means OK.
//   - An error of this package, or any error with a GRPCStatus method (ours,
//     or grpc-go's via its Proto method), gives that status and true.
//   - Otherwise the Unwrap chain (Unwrap() error and Unwrap() []error, depth
//     first) is searched the same way. A status found there is returned with
//     its code and details but with err.Error() as message, so context
//     added by wrapping is kept, as grpc-go does.
//   - An error without a status gives codes.Unknown with err.Error() as
//     message, and false. So does a GRPCStatus method that returns nil.
func FromError(err error) (s *Status, ok bool) {
	if err == nil {
		return nil, true
	}
	if st, carrier := ownStatus(err); carrier {
		if st == nil {
			return New(codes.Unknown, err.Error()), false
		}
		return st, true
	}
	var inner *Status
	var carrier bool
	walkWrapped(err, func(e error) bool {
		inner, carrier = ownStatus(e)
		return carrier
	})
	if !carrier {
		// errors.As also honours As methods, which the walk above does not.
		var c statusCarrier
		if errors.As(err, &c) {
			inner, carrier = c.GRPCStatus(), true
		}
	}
	if !carrier || inner == nil {
		return New(codes.Unknown, err.Error()), false
	}
	p := inner.Proto()
	if p == nil {
		p = &spb.Status{}
	}
	p.Message = err.Error()
	return &Status{s: p}, true
}

// walkWrapped calls visit on every error wrapped by err (not err itself),
// depth first in the order errors.As uses, until visit returns true.
func walkWrapped(err error, visit func(error) bool) bool {
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		next := u.Unwrap()
		if next == nil {
			return false
		}
		return visit(next) || walkWrapped(next, visit)
	case interface{ Unwrap() []error }:
		for _, next := range u.Unwrap() {
			if next == nil {
				continue
			}
			if visit(next) || walkWrapped(next, visit) {
				return true
			}
		}
	}
	return false
}

// Convert is FromError without the flag: the status carried by err, an
// Unknown status for an error without one, nil for nil.
func Convert(err error) *Status {
	s, _ := FromError(err)
	return s
}

// Code returns the code carried by err: codes.OK for nil, codes.Unknown for
// an error without a status.
func Code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	return Convert(err).Code()
}

// FromContextError maps a context error to a status: errors matching
// context.DeadlineExceeded give DeadlineExceeded, those matching
// context.Canceled give Canceled, anything else Unknown; the message is
// err.Error(). A nil err gives a nil (OK) Status.
func FromContextError(err error) *Status {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded):
		return New(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return New(codes.Canceled, err.Error())
	default:
		return New(codes.Unknown, err.Error())
	}
}
