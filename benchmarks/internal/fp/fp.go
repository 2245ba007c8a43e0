// Package fp holds the body of the footprint clients, which is the same for
// every implementation except for how it dials.
//
// It imports no RPC library, so each footprint client links only the library
// it is built for. The footprint servers do not use it: each is a
// self-contained program, so that its size is what a user's program pays.
package fp

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/benchmarks/internal/echo"
)

// ClientMain opens as many connections as the second argument says to the
// unix socket named by the first one, makes one 16-byte echo call on each,
// prints "ready N" and holds them open until SIGTERM or SIGINT. It exits
// with status 1 on the first failure.
func ClientMain(dial func(path string) (echo.Client, error)) {
	if len(os.Args) != 3 {
		fail(fmt.Errorf("usage: %s SOCKET CONNECTIONS", os.Args[0]))
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 0 {
		fail(fmt.Errorf("bad connection count %q", os.Args[2]))
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	clients := make([]echo.Client, 0, n)
	req := &wrapperspb.BytesValue{Value: make([]byte, 16)}
	for range n {
		c, err := dial(os.Args[1])
		if err != nil {
			fail(err)
		}
		var resp wrapperspb.BytesValue
		if err := c.Unary(context.Background(), req, &resp); err != nil {
			fail(err)
		}
		clients = append(clients, c)
	}
	fmt.Println("ready", len(clients))
	<-stop
	for _, c := range clients {
		c.Close()
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
