package interop

import (
	"errors"
	"net"
	"testing"
	"time"

	ref "github.com/containerd/ttrpc"

	ours "github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/reflection"
	reflectionv1 "github.com/ttrpc-go/ttrpc/reflection/v1"
	"github.com/ttrpc-go/ttrpc/status"
)

// A containerd/ttrpc server has no reflection: the reflection client says
// so with ErrNotServed, and the status code stays Unimplemented.
func TestReflectionAgainstReferenceServer(t *testing.T) {
	checkGoroutines(t)
	srv := startServer(t, implRef, newHooks())
	c, err := ours.Dial(testCtx(t, 10*time.Second), "unix://"+srv.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rc := reflection.NewClient(c)
	_, err = rc.ListServices(testCtx(t, 10*time.Second))
	if !errors.Is(err, reflection.ErrNotServed) || status.Code(err) != codes.Unimplemented {
		t.Fatalf("ListServices on containerd/ttrpc = %v, want ErrNotServed and Unimplemented", err)
	}
	if _, err := rc.FileContainingSymbol(testCtx(t, 10*time.Second), serviceName); !errors.Is(err, reflection.ErrNotServed) {
		t.Errorf("FileContainingSymbol on containerd/ttrpc = %v, want ErrNotServed", err)
	}
}

// The reflection service is plain ttrpc: a containerd/ttrpc client calls it.
func TestReflectionFromReferenceClient(t *testing.T) {
	checkGoroutines(t)
	addr := socketPath(t)
	l, err := net.Listen("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ours.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	s.RegisterService(serviceName, oursServiceDesc(newHooks()))
	reflection.Register(s)
	served := make(chan error, 1)
	go func() { served <- s.Serve(t.Context(), l) }()
	defer func() {
		s.Close()
		if err := <-served; !errors.Is(err, ours.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()

	conn, err := net.Dial("unix", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := ref.NewClient(conn)
	defer c.Close()
	var resp reflectionv1.ListServicesResponse
	if err := c.Call(testCtx(t, 10*time.Second), reflection.ServiceName, "ListServices", &reflectionv1.ListServicesRequest{}, &resp); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, svc := range resp.GetServices() {
		names = append(names, svc.GetName())
	}
	if len(names) != 2 || names[0] != serviceName || names[1] != reflection.ServiceName {
		t.Errorf("ListServices from a containerd/ttrpc client = %v", names)
	}
}
