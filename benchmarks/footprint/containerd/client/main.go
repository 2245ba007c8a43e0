// Command client holds idle github.com/containerd/ttrpc connections open to a
// footprint server; see internal/fp.ClientMain.
package main

import (
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/ctrdecho"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/fp"
)

func main() { fp.ClientMain(ctrdecho.Dial) }
