// Package fp holds the bodies of the footprint programs, which are the same
// for every implementation except for how they serve and dial.
//
// It imports no RPC library, so each footprint binary links only the library
// it is built for.
package fp

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/benchmarks/internal/echo"
)

// ServerMain listens on the unix socket named by the only argument, prints
// "ready" once it accepts connections and serves with serve until the
// process is killed. It exits with status 1 if it cannot start or serve
// fails.
func ServerMain(serve func(l net.Listener) error) {
	if len(os.Args) != 2 {
		fail(fmt.Errorf("usage: %s SOCKET", os.Args[0]))
	}
	l, err := net.Listen("unix", os.Args[1])
	if err != nil {
		fail(err)
	}
	fmt.Println("ready")
	fail(serve(l))
}

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
