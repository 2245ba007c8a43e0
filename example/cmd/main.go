// Command cmd runs the ttrpc-go example service (example/example.proto).
//
// With no flags it starts a server on a unix socket in a temporary
// directory, calls every method of the service with a client, prints what
// happened and exits 0 (1 if anything failed):
//
//	go run ./example/cmd
//
// The two sides can also run separately, in two terminals:
//
//	go run ./example/cmd -server -socket /tmp/example.sock
//	go run ./example/cmd -client -socket /tmp/example.sock
//
// The server also offers reflection (package reflection), so the ttrpc
// command can list and call it without the .proto file. It only admits
// clients running as the same user
// (ttrpc.UnixSocketRequireSameUser) and stops cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/example"
	"github.com/ttrpc-go/ttrpc/reflection"
	"github.com/ttrpc-go/ttrpc/reflection/gogofiles"
)

func main() {
	var (
		server = flag.Bool("server", false, "only run the server (needs -socket)")
		client = flag.Bool("client", false, "only run the client against a running server (needs -socket)")
		socket = flag.String("socket", "", "unix socket path for -server or -client")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var err error
	switch {
	case *server && *client:
		err = errors.New("-server and -client are exclusive; give neither to run both")
	case (*server || *client) && *socket == "":
		err = errors.New("-server and -client need -socket PATH")
	case *server:
		err = runServer(ctx, os.Stdout, *socket)
	case *client:
		err = runClient(ctx, os.Stdout, *socket)
	default:
		err = runDemo(ctx, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

// newServer returns a ttrpc server with the example service registered.
func newServer(log io.Writer) (*ttrpc.Server, error) {
	srv, err := ttrpc.NewServer(ttrpc.WithServerHandshaker(ttrpc.UnixSocketRequireSameUser()))
	if err != nil {
		return nil, err
	}
	example.RegisterExampleService(srv, &exampleServer{log: log})
	// Reflection lets generic tools (the ttrpc command) list and call the
	// service; the example's gogo code keeps its descriptors in gogo's
	// registry, hence the resolver.
	files, err := gogofiles.Load("example.proto")
	if err != nil {
		return nil, err
	}
	reflection.Register(srv, reflection.WithResolver(files))
	return srv, nil
}

// listen listens on a unix socket at path, replacing a socket left behind
// by an earlier run (but no other kind of file).
func listen(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode().Type() == fs.ModeSocket {
		if err := os.Remove(path); err != nil {
			return nil, err
		}
	}
	return net.Listen("unix", path)
}

// runServer serves on socket until ctx is cancelled, then shuts down,
// giving calls in flight a few seconds to finish.
func runServer(ctx context.Context, w io.Writer, socket string) error {
	srv, err := newServer(w)
	if err != nil {
		return err
	}
	l, err := listen(socket)
	if err != nil {
		return err
	}
	defer os.Remove(socket)
	fmt.Fprintf(w, "server: listening on %s (same-user clients only); Ctrl-C stops it\n", socket)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(w, "server: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-served; err != nil && !errors.Is(err, ttrpc.ErrServerClosed) {
		return err
	}
	return nil
}

// runClient connects to socket and calls every method once.
func runClient(ctx context.Context, w io.Writer, socket string) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return err
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()
	fmt.Fprintf(w, "client: connected to %s\n", socket)
	return callAll(ctx, w, example.NewExampleClient(client))
}

// runDemo runs a server and a client in one process, on a socket in a
// temporary directory that is removed afterwards.
func runDemo(ctx context.Context, w io.Writer) error {
	dir, err := os.MkdirTemp("", "ttrpc-example")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	socket := filepath.Join(dir, "example.sock")

	srv, err := newServer(w)
	if err != nil {
		return err
	}
	l, err := listen(socket)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "server: listening on %s\n", socket)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()

	callErr := runClient(ctx, w, socket)

	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && callErr == nil {
		callErr = err
	}
	if err := <-served; err != nil && !errors.Is(err, ttrpc.ErrServerClosed) && callErr == nil {
		callErr = err
	}
	if callErr != nil {
		return callErr
	}
	fmt.Fprintln(w, "done: every method answered as expected")
	return nil
}
