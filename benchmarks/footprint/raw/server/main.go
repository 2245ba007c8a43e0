// Command server is the floor of the footprint comparison: the raw
// length-prefixed echo of internal/rawecho with the same program around it
// as the library servers, so that the difference to it is what a library
// adds. See internal/fp.ServerMain.
package main

import (
	"net"

	"github.com/ttrpc-go/ttrpc/benchmarks/internal/fp"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/rawecho"
)

func main() {
	fp.ServerMain(func(l net.Listener) error {
		rawecho.Serve(l)
		select {} // serves until the process is killed
	})
}
