package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/example/goproto"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := runDemo(testContext(t), &out); err != nil {
		t.Fatalf("runDemo: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		`client: got "Hello, world!"`,
		`client: got "Bonjour, ttrpc!"`,
		"code=InvalidArgument",
		"client: tick 1",
		"client: total 15 over 5 numbers",
		`server replied "HOW ARE YOU?"`,
		"done: every method answered as expected",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// signalWriter collects output and closes ready once it contains marker.
type signalWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	ready  chan struct{}
	once   sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.marker) {
		w.once.Do(func() { close(w.ready) })
	}
	return n, err
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// startServer runs the -server mode until the test ends.
func startServer(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "t")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	socket := filepath.Join(dir, "s")
	ctx, cancel := context.WithCancel(context.Background())
	w := &signalWriter{marker: "listening", ready: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- runServer(ctx, w, socket) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runServer: %v\n%s", err, w.String())
		}
		if _, err := os.Lstat(socket); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("socket left behind: %v", err)
		}
	})
	select {
	case <-w.ready:
	case err := <-done:
		t.Fatalf("server ended early: %v", err)
	}
	return socket
}

func TestServerAndClientModes(t *testing.T) {
	socket := startServer(t)
	var out bytes.Buffer
	if err := runClient(testContext(t), &out, socket); err != nil {
		t.Fatalf("runClient: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "client: total 15 over 5 numbers") {
		t.Errorf("unexpected client output:\n%s", out.String())
	}
}

func TestListenReplacesOnlySockets(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if l, err := listen(file); err == nil {
		l.Close()
		t.Fatal("listen replaced a regular file")
	}
}

// TestGoprotoClient calls the gogo-generated server with the client that
// protoc-gen-go and protoc-gen-go-ttrpc generated from the same proto.
func TestGoprotoClient(t *testing.T) {
	ctx := testContext(t)
	socket := startServer(t)
	conn, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()
	c := goproto.NewExampleClient(client)

	g, err := c.Greet(ctx, &goproto.GreetRequest{Name: "go"})
	if err != nil || g.Greeting != "Hello, go!" {
		t.Fatalf("Greet: %v, %v", g, err)
	}

	cd, err := c.Countdown(ctx, &goproto.CountdownRequest{Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	var ticks []uint32
	for {
		tick, err := cd.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ticks = append(ticks, tick.Remaining)
	}
	if len(ticks) != 2 || ticks[0] != 2 || ticks[1] != 1 {
		t.Errorf("Countdown ticks %v", ticks)
	}

	sum, err := c.Sum(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []int64{40, 2} {
		if err := sum.Send(&goproto.Number{Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	total, err := sum.CloseAndRecv()
	if err != nil || total.Sum != 42 || total.Count != 2 {
		t.Fatalf("Sum: %v, %v", total, err)
	}

	chat, err := c.Chat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := chat.Send(&goproto.ChatMessage{From: "go", Text: "hi", Tags: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	reply, err := chat.Recv()
	if err != nil || reply.Text != "HI" || strings.Join(reply.Tags, ",") != "a,echo" {
		t.Fatalf("Chat: %v, %v", reply, err)
	}
	if err := chat.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := chat.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("Chat after CloseSend: %v, want io.EOF", err)
	}
}
