//go:build linux

package ttrpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// serveEchoOn serves the echo service on l until the test ends.
func serveEchoOn(t *testing.T, l net.Listener) {
	t.Helper()
	srv, err := NewServer()
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService(testService, echoService())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-served; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
}

// echoThrough dials address and checks that an Echo call round-trips.
func echoThrough(t *testing.T, address string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, address)
	if err != nil {
		t.Fatalf("Dial(%q): %v", address, err)
	}
	defer c.Close()
	var resp wrapperspb.BytesValue
	if err := c.Call(ctx, testService, "Echo", wrapperspb.Bytes([]byte(address)), &resp); err != nil {
		t.Fatalf("Echo over %q: %v", address, err)
	}
	if string(resp.Value) != address {
		t.Fatalf("Echo over %q answered %q", address, resp.Value)
	}
}

func TestListenDialUnixForms(t *testing.T) {
	checkGoroutines(t)
	path := socketPath(t)
	l, err := Listen("unix://" + path)
	if err != nil {
		t.Fatal(err)
	}
	serveEchoOn(t, l)
	echoThrough(t, "unix://"+path)
	echoThrough(t, path)

	// A plain relative path is relative to the working directory.
	t.Chdir(filepath.Dir(path))
	echoThrough(t, filepath.Base(path))
	echoThrough(t, "unix://"+filepath.Base(path))
}

func TestListenDialAbstractUnix(t *testing.T) {
	checkGoroutines(t)
	address := fmt.Sprintf("unix://@ttrpc-go-test-%d-%d", syscall.Getpid(), time.Now().UnixNano())
	l, err := Listen(address)
	if err != nil {
		t.Fatal(err)
	}
	serveEchoOn(t, l)
	echoThrough(t, address)
}

func TestListenDialTCPLoopback(t *testing.T) {
	checkGoroutines(t)
	l, err := Listen("tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := "tcp://" + l.Addr().String()
	serveEchoOn(t, l)
	echoThrough(t, address)
}

func TestDialRefused(t *testing.T) {
	checkGoroutines(t)
	// A unix socket file nobody listens on any more.
	path := socketPath(t)
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ul.SetUnlinkOnClose(false)
	ul.Close()
	_, err = DialConn(t.Context(), "unix://"+path)
	if !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), path) {
		t.Errorf("dial of a dead unix socket = %v, want ECONNREFUSED naming the path", err)
	}

	// A loopback TCP port just released.
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := tl.Addr().String()
	tl.Close()
	if _, err := DialConn(t.Context(), "tcp://"+addr); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial of a closed tcp port = %v, want ECONNREFUSED", err)
	}

	// A socket that does not exist, and the same through hybrid vsock.
	missing := filepath.Join(t.TempDir(), "missing.sock")
	if _, err := DialConn(t.Context(), missing); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("dial of a missing socket = %v, want ENOENT", err)
	}
	if _, err := DialConn(t.Context(), "hvsock://"+missing+":1024"); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("hybrid vsock dial of a missing socket = %v, want ENOENT", err)
	}
}

func TestDialHonoursCancelledContext(t *testing.T) {
	checkGoroutines(t)
	path := socketPath(t)
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, address := range []string{path, "hvsock://" + path + ":5", "tcp://127.0.0.1:1"} {
		if _, err := DialConn(ctx, address); !errors.Is(err, context.Canceled) {
			t.Errorf("DialConn(%q) with a cancelled context = %v, want context.Canceled", address, err)
		}
	}
}

// hybridProxy is an in-test stand-in for a VMM's hybrid vsock socket
// (Firecracker, Cloud Hypervisor): it reads "CONNECT <port>\n" and hands the
// connection and the port to answer.
type hybridProxy struct {
	path string
	wg   sync.WaitGroup
}

func startHybridProxy(t *testing.T, answer func(nc net.Conn, port string)) *hybridProxy {
	t.Helper()
	p := &hybridProxy{path: socketPath(t)}
	l, err := net.Listen("unix", p.path)
	if err != nil {
		t.Fatal(err)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer nc.Close()
				// The request is read byte by byte, so that nothing the
				// dialler sends after it is consumed here.
				var line []byte
				var b [1]byte
				for {
					if _, err := nc.Read(b[:]); err != nil {
						return
					}
					if b[0] == '\n' {
						break
					}
					line = append(line, b[0])
				}
				port, ok := strings.CutPrefix(string(line), "CONNECT ")
				if !ok {
					fmt.Fprintf(nc, "ERR bad request\n")
					return
				}
				answer(nc, port)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		p.wg.Wait()
	})
	return p
}

func (p *hybridProxy) address(port int) string {
	return fmt.Sprintf("hvsock://%s:%d", p.path, port)
}

func TestHybridVsockForwardsToGuest(t *testing.T) {
	checkGoroutines(t)
	// The "guest": a ttrpc server on its own socket, reached through the
	// proxy for port 1024 only.
	guest := socketPath(t)
	gl, err := Listen(guest)
	if err != nil {
		t.Fatal(err)
	}
	serveEchoOn(t, gl)
	var gotPorts sync.Map
	proxy := startHybridProxy(t, func(nc net.Conn, port string) {
		gotPorts.Store(port, true)
		if port != "1024" {
			fmt.Fprintf(nc, "FAILURE\n")
			return
		}
		up, err := net.Dial("unix", guest)
		if err != nil {
			return
		}
		defer up.Close()
		fmt.Fprintf(nc, "OK 1073741824\n")
		done := make(chan struct{})
		go func() {
			_, _ = io.Copy(up, nc)
			up.(*net.UnixConn).CloseWrite()
			close(done)
		}()
		_, _ = io.Copy(nc, up)
		nc.Close()
		<-done
	})
	echoThrough(t, proxy.address(1024))
	if _, ok := gotPorts.Load("1024"); !ok {
		t.Error("proxy never saw CONNECT 1024")
	}
}

func TestHybridVsockDoesNotOverRead(t *testing.T) {
	checkGoroutines(t)
	// The guest speaks first, in the same write as the OK line: those
	// bytes must reach the caller, not be eaten by the handshake.
	proxy := startHybridProxy(t, func(nc net.Conn, port string) {
		fmt.Fprintf(nc, "OK 77\r\nguest says hi")
		_, _ = io.Copy(io.Discard, nc)
	})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	nc, err := DialConn(ctx, proxy.address(5))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	got := make([]byte, len("guest says hi"))
	if _, err := io.ReadFull(bufio.NewReader(nc), got); err != nil {
		t.Fatal(err)
	}
	if string(got) != "guest says hi" {
		t.Fatalf("first guest bytes = %q", got)
	}
}

func TestHybridVsockRefusals(t *testing.T) {
	checkGoroutines(t)
	cases := map[string]func(nc net.Conn, port string){
		"failure":      func(nc net.Conn, _ string) { fmt.Fprintf(nc, "FAILURE\n") },
		"ok-no-space":  func(nc net.Conn, _ string) { fmt.Fprintf(nc, "OK\n") },
		"closed":       func(nc net.Conn, _ string) {},
		"partial-line": func(nc net.Conn, _ string) { fmt.Fprintf(nc, "OK 12") },
		"endless-line": func(nc net.Conn, _ string) { fmt.Fprint(nc, strings.Repeat("x", 1000)) },
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			proxy := startHybridProxy(t, answer)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			nc, err := DialConn(ctx, proxy.address(1024))
			if !errors.Is(err, ErrHybridVsockRefused) {
				if nc != nil {
					nc.Close()
				}
				t.Fatalf("DialConn = %v, want ErrHybridVsockRefused", err)
			}
			if !strings.Contains(err.Error(), "1024") {
				t.Errorf("error %q does not name the port", err)
			}
		})
	}
}

func TestHybridVsockSilentPeer(t *testing.T) {
	checkGoroutines(t)
	release := make(chan struct{})
	holding := make(chan struct{}, 2)
	proxy := startHybridProxy(t, func(nc net.Conn, _ string) {
		holding <- struct{}{}
		<-release
	})
	defer close(release)

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := DialConn(ctx, proxy.address(1024)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("DialConn to a silent proxy with a deadline = %v, want DeadlineExceeded", err)
	}

	// Cancellation without any deadline interrupts the wait too.
	cctx, ccancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := DialConn(cctx, proxy.address(1024))
		errc <- err
	}()
	// Cancel only once the proxy holds the request, so that the
	// handshake, not the dial, is what gets interrupted.
	<-holding // the first, deadline-bound attempt
	<-holding
	ccancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("DialConn to a silent proxy, cancelled = %v, want context.Canceled", err)
	}
}

// TestVsock runs over real AF_VSOCK sockets through the kernel's loopback
// transport (CID 1). Parsing and the error paths that need no kernel
// support are covered by the tests above.
func TestVsock(t *testing.T) {
	checkGoroutines(t)
	l, err := listenVsock(VsockCIDAny, unix.VMADDR_PORT_ANY)
	if err != nil {
		t.Skipf("no AF_VSOCK listener on this kernel (%v): real vsock sockets untested here", err)
	}
	port := l.Addr().(vsockAddr).port
	serveEchoOn(t, l)
	address := fmt.Sprintf("vsock://%d:%d", unix.VMADDR_CID_LOCAL, port)
	pctx, pcancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer pcancel()
	probe, err := DialConn(pctx, address)
	if err != nil {
		t.Skipf("AF_VSOCK loopback (CID 1) not usable on this kernel, vsock_loopback module missing? (%v): real vsock sockets untested here", err)
	}
	probe.Close()
	echoThrough(t, address)
	if got := fmt.Sprint(l.Addr()); got != fmt.Sprintf("vsock://-1:%d", port) {
		t.Errorf("listener address = %s", got)
	}

	// A port nobody listens on.
	if _, err := DialConn(t.Context(), fmt.Sprintf("vsock://%d:%d", unix.VMADDR_CID_LOCAL, port+1)); err == nil {
		t.Error("dial of an unused vsock port succeeded")
	}
}

// TestVsockDialHonoursContext dials the loopback CID with a short deadline.
// Where the kernel cannot complete such a connection at once, the connect
// stays in progress and only the context can end it.
func TestVsockDialHonoursContext(t *testing.T) {
	checkGoroutines(t)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	nc, err := DialConn(ctx, fmt.Sprintf("vsock://%d:%d", unix.VMADDR_CID_LOCAL, 4000000000))
	switch {
	case err == nil:
		nc.Close()
		t.Skip("something listens on the loopback CID's port 4000000000")
	case errors.Is(err, context.DeadlineExceeded):
	default:
		t.Skipf("the kernel answered the vsock connect at once (%v): the in-progress path is not reached here", err)
	}
}
