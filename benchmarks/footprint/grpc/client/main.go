// Command client holds idle google.golang.org/grpc connections open to a
// footprint server; see internal/fp.ClientMain.
package main

import (
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/fp"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/grpcecho"
)

func main() { fp.ClientMain(grpcecho.Dial) }
