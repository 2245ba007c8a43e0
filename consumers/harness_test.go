package consumers

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/containerd/ttrpc"
)

// socketPath returns a unix socket path short enough for sun_path.
func socketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "consumers")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s")
}

// serve serves srv on a fresh unix socket until the test ends, and returns
// a client of it built with opts.
func serve(t *testing.T, srv *ttrpc.Server, opts ...ttrpc.ClientOpts) *ttrpc.Client {
	t.Helper()
	path := socketPath(t)
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c := ttrpc.NewClient(nc, opts...)
	t.Cleanup(func() {
		c.Close()
		srv.Close()
		if err := <-served; err != ttrpc.ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
	})
	return c
}

// testContext ends the test's calls if something hangs.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
