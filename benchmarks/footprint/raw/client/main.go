// Command client holds idle raw-echo connections open to a footprint
// server; see internal/fp.ClientMain.
package main

import (
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/fp"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/rawecho"
)

func main() { fp.ClientMain(rawecho.Dial) }
