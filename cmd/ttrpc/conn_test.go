package main

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/example"
)

func TestCannotConnect(t *testing.T) {
	missing := socketPath(t) // nothing listens there
	want(t, cli(t, nil, "list", "unix://"+missing), exitFailure, "stderr:", "cannot connect to unix://"+missing)
	want(t, cli(t, nil, "call", "--proto", exampleProto, missing, service+"/Greet", "-d", `{"name": "x"}`), exitFailure, "stderr:",
		"cannot connect to "+missing)
	// An abstract socket nobody listens on, and a refused TCP port.
	want(t, cli(t, nil, "list", "unix://@ttrpc-cli-test-nobody-here"), exitFailure, "stderr:", "cannot connect")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	want(t, cli(t, nil, "list", "tcp://"+addr), exitFailure, "stderr:", "cannot connect to tcp://"+addr, "refused")
}

// A server that closes the connection while a stream is under way: the
// command prints the answers it got and fails with Unavailable.
func TestServerClosesMidStream(t *testing.T) {
	srv := startServer(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "call", srv.addr, service+"/Countdown", "-d", `{"count": 999}`)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	for _, want := range []string{`{"remaining":999}`, `{"remaining":998}`} {
		if !lines.Scan() || lines.Text() != want {
			t.Fatalf("answer %q, want %s (%v)", lines.Text(), want, lines.Err())
		}
	}
	<-srv.service.midStream
	srv.srv.Close()
	for lines.Scan() {
		t.Errorf("unexpected output %q", lines.Text())
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != exitCall+14 {
		t.Fatalf("ttrpc call after the server closed: %v, want exit %d; stderr:\n%s", err, exitCall+14, stderr.String())
	}
	if got := stderr.String(); !strings.Contains(got, "ERROR: code = Unavailable desc = the connection closed before the call finished") {
		t.Errorf("stderr = %q", got)
	}
}

// A peer that accepts and hangs up at once, before any answer.
func TestServerHangsUp(t *testing.T) {
	path := socketPath(t)
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { l.Close(); <-done })
	want(t, cli(t, nil, "call", "--proto", exampleProto, path, service+"/Greet", "-d", `{"name": "x"}`), exitCall+14, "stderr:",
		"ERROR: code = Unavailable desc = the connection closed before the call finished")
	want(t, cli(t, nil, "list", path), exitCall+14, "stderr:", "ERROR: code = Unavailable")
}

// The other address forms a server here can listen on: an abstract unix
// socket (ttrpc-rust's form) and TCP on loopback.
func TestAddressForms(t *testing.T) {
	for _, address := range []string{
		"unix://@ttrpc-cli-test-" + strconv.Itoa(os.Getpid()),
		"tcp://127.0.0.1:0",
	} {
		t.Run(address, func(t *testing.T) {
			l, err := ttrpc.Listen(address)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(address, "tcp://") {
				address = "tcp://" + l.Addr().String()
			}
			srv, err := ttrpc.NewServer()
			if err != nil {
				t.Fatal(err)
			}
			example.RegisterExampleService(srv, &exampleService{})
			serveListener(t, srv, l)
			want(t, cli(t, nil, "call", "--proto", exampleProto, address, service+"/Greet", "-d", `{"name": "there"}`), exitOK, `"Hello, there!"`)
		})
	}
}
