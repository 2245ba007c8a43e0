// Package codes defines the status codes carried by ttrpc errors.
//
// The values and names are those of the gRPC status codes (and of
// google.golang.org/grpc/codes), because ttrpc puts them unchanged into the
// google.rpc.Status of a Response frame. A Code converts to and from the
// grpc-go type with a plain conversion: grpccodes.Code(c) and codes.Code(gc).
package codes

import "strconv"

// Code is a gRPC status code. Values outside the range OK..Unauthenticated
// may arrive from a peer; they are kept as they are and print as "Code(N)".
type Code uint32

// The status codes, numbered as in google/rpc/code.proto.
const (
	// OK means the call succeeded; it is never carried by an error.
	OK Code = 0
	// Canceled means the caller gave up on the operation.
	Canceled Code = 1
	// Unknown is used for errors that carry no code of their own.
	Unknown Code = 2
	// InvalidArgument means the request is malformed whatever the state of
	// the system.
	InvalidArgument Code = 3
	// DeadlineExceeded means the deadline expired before the operation
	// finished; the operation may still have taken effect.
	DeadlineExceeded Code = 4
	// NotFound means a requested entity does not exist.
	NotFound Code = 5
	// AlreadyExists means the entity to be created exists already.
	AlreadyExists Code = 6
	// PermissionDenied means the caller is known but not allowed to do this.
	PermissionDenied Code = 7
	// ResourceExhausted means a quota or limit was hit; ttrpc uses it for
	// messages larger than the wire limit.
	ResourceExhausted Code = 8
	// FailedPrecondition means the system is not in a state that allows the
	// operation; retrying without fixing that state will not help.
	FailedPrecondition Code = 9
	// Aborted means the operation was aborted, typically by a concurrency
	// conflict; retrying at a higher level may help.
	Aborted Code = 10
	// OutOfRange means the operation went past a valid range, such as
	// reading past the end of a file.
	OutOfRange Code = 11
	// Unimplemented means the service or method does not exist or is not
	// supported by the server.
	Unimplemented Code = 12
	// Internal means an invariant of the underlying system was broken.
	Internal Code = 13
	// Unavailable means the service cannot be reached right now; the call
	// may succeed if retried.
	Unavailable Code = 14
	// DataLoss means data was lost or corrupted beyond recovery.
	DataLoss Code = 15
	// Unauthenticated means the caller has no valid credentials.
	Unauthenticated Code = 16
)

var names = [...]string{
	OK:                 "OK",
	Canceled:           "Canceled",
	Unknown:            "Unknown",
	InvalidArgument:    "InvalidArgument",
	DeadlineExceeded:   "DeadlineExceeded",
	NotFound:           "NotFound",
	AlreadyExists:      "AlreadyExists",
	PermissionDenied:   "PermissionDenied",
	ResourceExhausted:  "ResourceExhausted",
	FailedPrecondition: "FailedPrecondition",
	Aborted:            "Aborted",
	OutOfRange:         "OutOfRange",
	Unimplemented:      "Unimplemented",
	Internal:           "Internal",
	Unavailable:        "Unavailable",
	DataLoss:           "DataLoss",
	Unauthenticated:    "Unauthenticated",
}

// String returns the Go-style name of the code, identical to what grpc-go
// prints (for example "NotFound"), so error texts match between the two
// libraries. Codes without a name give "Code(N)".
func (c Code) String() string {
	if uint64(c) < uint64(len(names)) {
		return names[c]
	}
	return "Code(" + strconv.FormatUint(uint64(c), 10) + ")"
}
