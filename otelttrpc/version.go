package otelttrpc

// ScopeName is the instrumentation scope of the tracer and meter this
// package uses.
const ScopeName = "github.com/ttrpc-go/ttrpc/otelttrpc"

// Version returns the version of this instrumentation, recorded as the
// instrumentation scope's version.
func Version() string { return "0.1.0" }
