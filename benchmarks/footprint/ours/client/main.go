// Command client holds idle github.com/ttrpc-go/ttrpc connections open to a
// footprint server; see internal/fp.ClientMain.
package main

import (
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/fp"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/oursecho"
)

func main() { fp.ClientMain(oursecho.Dial) }
