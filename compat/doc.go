// Package ttrpc is the containerd/ttrpc v1.2.10 API on top of ttrpc-go.
//
// This directory is a module of its own whose go.mod declares
// github.com/containerd/ttrpc, so that one line in a program's go.mod,
//
//	replace github.com/containerd/ttrpc => github.com/ttrpc-go/ttrpc/compat vX.Y.Z
//
// moves the program and every library it links (containerd's shim code,
// NRI, otelttrpc, ...) onto ttrpc-go without touching their sources.
//
// Types that can be shared are aliases of ttrpc-go's (the envelope types
// must be: protobuf-go refuses two registrations of request.proto), and
// the sentinel errors are the very same values, so == and errors.Is
// agree across both packages. Client, Server and OversizedMessageErr are
// types of this package, because containerd/ttrpc programs expect
// behaviour ttrpc-go does not have by default: calls and streams fail
// with grpc-go status errors (including the errors the library raises
// itself), a closed client fails with the bare ErrClosed, a timed-out
// call with the bare context error, and Serve returns the bare
// ErrServerClosed.
//
// Importing this package also installs grpc-go status recognition in
// ttrpc-go (package github.com/ttrpc-go/ttrpc/grpcstatus), so handlers'
// grpc-go status errors keep their codes on the wire.
package ttrpc
