package status

import (
	"sync/atomic"

	spb "google.golang.org/genproto/googleapis/rpc/status"
)

// Status errors of other packages (grpc-go's, above all) are recognised
// through a converter the program installs, never by reflection: a
// reflective method call anywhere in a program makes the Go linker keep
// every exported method of every type, which costs a small program about a
// megabyte. A program that links grpc-go anyway installs the converter in
// one line (see RegisterForeignStatus); the containerd compatibility module
// does it for the programs it serves.

// ForeignStatusFunc extracts the google.rpc.Status that err itself
// presents, without unwrapping it (this package walks wrapped errors
// itself). found reports whether err is a status error of the foreign kind
// at all; p may be nil when it is one that carries no status (a nil
// pointer, for example), which is then treated as codes.Unknown.
type ForeignStatusFunc func(err error) (p *spb.Status, found bool)

var foreignStatus atomic.Pointer[ForeignStatusFunc]

// RegisterForeignStatus installs f as the way FromError, Code, Convert and
// the ttrpc package recognise status errors that this package did not
// create, typically grpc-go's:
//
//	status.RegisterForeignStatus(func(err error) (*spb.Status, bool) {
//		if s, ok := err.(interface{ GRPCStatus() *grpcstatus.Status }); ok {
//			return s.GRPCStatus().Proto(), true
//		}
//		return nil, false
//	})
//
// A later call replaces an earlier one; nil removes the converter. Without
// one, a foreign status error is an error like any other (codes.Unknown
// with its text as message). It is safe to call at any time, but is meant
// for program start (an init function).
func RegisterForeignStatus(f ForeignStatusFunc) {
	if f == nil {
		foreignStatus.Store(nil)
		return
	}
	foreignStatus.Store(&f)
}

// foreignProto extracts the google.rpc.Status from a foreign status error
// through the installed converter. A converter that panics is treated as
// finding a status error without a status, rather than crashing the
// caller, which is often a server turning a handler error into a reply.
func foreignProto(err error) (p *spb.Status, found bool) {
	if err == nil {
		return nil, false
	}
	f := foreignStatus.Load()
	if f == nil {
		return nil, false
	}
	defer func() {
		if recover() != nil {
			p, found = nil, true
		}
	}()
	return (*f)(err)
}
