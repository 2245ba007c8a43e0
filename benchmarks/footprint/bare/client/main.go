// Command client holds idle connections open to footprint/bare/server,
// each after one 16-byte echo; see internal/fp.ClientMain.
package main

import (
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/fp"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/rawecho"
)

func main() { fp.ClientMain(rawecho.Dial) }
