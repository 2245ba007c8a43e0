// Command server is a minimal echo server built on github.com/containerd/ttrpc
// for footprint measurements; see internal/fp.ServerMain.
package main

import (
	"context"
	"net"

	"github.com/ttrpc-go/ttrpc/benchmarks/internal/ctrdecho"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/fp"
)

func main() {
	fp.ServerMain(func(l net.Listener) error {
		s, err := ctrdecho.NewServer()
		if err != nil {
			return err
		}
		return s.Serve(context.Background(), l)
	})
}
