// Package interop holds wire-compatibility tests between this module's
// ttrpc implementation (github.com/ttrpc-go/ttrpc) and the reference
// implementation, github.com/containerd/ttrpc v1.2.10.
//
// Every scenario runs over a real unix socket for each pairing of client
// and server implementation: ours against the reference in both
// directions, plus ours against ours and the reference against itself as
// controls, so a difference between the two libraries shows up as a
// difference between rows rather than as an unexplained failure. Where this
// library deliberately behaves better than the reference (for example,
// metadata and deadlines on streams), the tests assert both behaviours so
// that a change on either side is noticed.
//
// The package has no code of its own; it exists as a separate module so
// that the main module never depends on containerd/ttrpc or grpc-go.
package interop
