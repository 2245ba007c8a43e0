// Command server is a minimal echo server built on google.golang.org/grpc
// for footprint measurements; see internal/fp.ServerMain.
package main

import (
	"net"

	"github.com/ttrpc-go/ttrpc/benchmarks/internal/fp"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/grpcecho"
)

func main() {
	fp.ServerMain(func(l net.Listener) error {
		return grpcecho.NewServer().Serve(l)
	})
}
