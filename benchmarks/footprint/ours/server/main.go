// Command server is a minimal echo server built on github.com/ttrpc-go/ttrpc
// for footprint measurements; see internal/fp.ServerMain.
package main

import (
	"context"
	"net"

	"github.com/ttrpc-go/ttrpc/benchmarks/internal/fp"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/oursecho"
)

func main() {
	fp.ServerMain(func(l net.Listener) error {
		s, err := oursecho.NewServer()
		if err != nil {
			return err
		}
		return s.Serve(context.Background(), l)
	})
}
