// Package grpcstatus teaches ttrpc-go to recognise grpc-go's status errors.
//
// ttrpc-go's own status package does not depend on grpc-go and does not
// use reflection to find foreign status errors (a reflective method call
// would switch off the linker's dead-code elimination for the whole
// program). A program that links grpc-go anyway, and whose handlers return
// grpc-go status errors or whose callers read errors with grpc-go's status
// package, imports this package once:
//
//	import _ "github.com/ttrpc-go/ttrpc/grpcstatus"
//
// From then on a handler's grpc-go status error keeps its code, message
// and details on the wire, and ttrpc-go's status.FromError, Code and
// Convert understand grpc-go status errors. To make calls return grpc-go
// status errors too, pass ErrorProto to ttrpc.WithClientStatusError.
//
// It lives in a module of its own so that grpc-go never reaches a program
// that does not import it.
package grpcstatus

import (
	spb "google.golang.org/genproto/googleapis/rpc/status"
	grpcstatus "google.golang.org/grpc/status"

	"github.com/ttrpc-go/ttrpc/status"
)

func init() { status.RegisterForeignStatus(FromGRPC) }

// grpcStatusError is the method set of grpc-go's status errors.
type grpcStatusError interface {
	error
	GRPCStatus() *grpcstatus.Status
}

// FromGRPC is the converter this package installs: it returns the
// google.rpc.Status that err presents when err itself (not what it wraps)
// is a grpc-go status error, with found true. A grpc-go status error that
// is a nil pointer, or whose GRPCStatus returns nil, gives (nil, true).
func FromGRPC(err error) (p *spb.Status, found bool) {
	e, ok := err.(grpcStatusError)
	if !ok {
		return nil, false
	}
	s := e.GRPCStatus()
	if s == nil {
		return nil, true
	}
	return s.Proto(), true
}

// ErrorProto returns the grpc-go status error for p (nil for an OK
// status). Passed to ttrpc.WithClientStatusError, it makes a client's
// failed calls return grpc-go status errors, for code that reads them with
// grpc-go's status package or containerd's errdefs.FromGRPC.
func ErrorProto(p *spb.Status) error { return grpcstatus.ErrorProto(p) }
