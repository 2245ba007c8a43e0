package ttrpc

import (
	"bytes"
	"context"
	"encoding/hex"
	"io"
	"net"
	"testing"
)

// Golden frames: the bytes containerd/ttrpc v1.2.10 sends and expects for
// a unary call of compat.test.Service/Echo with StringValue{"x"} (header:
// length, stream id, type, flags; body: the Request/Response envelope).
// The wire interop of ttrpc-go itself with containerd/ttrpc is tested
// against the real library in interop/; the compat module cannot link
// containerd/ttrpc (it has the same module path), so it checks the bytes.
var (
	goldenRequest = mustHex("00000020" + "00000001" + "01" + "00" +
		"0a13" + hex.EncodeToString([]byte(testService)) + "1204" + hex.EncodeToString([]byte("Echo")) + "1a03" + "0a0178")
	goldenResponse = mustHex("00000005" + "00000001" + "02" + "00" + "1203" + "0a0178")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestGoldenClientFrames(t *testing.T) {
	a, b := net.Pipe()
	c := NewClient(a)
	defer c.Close()
	peer := make(chan error, 1)
	go func() {
		defer b.Close()
		got := make([]byte, len(goldenRequest))
		if _, err := io.ReadFull(b, got); err != nil {
			peer <- err
			return
		}
		if !bytes.Equal(got, goldenRequest) {
			t.Errorf("request frame\n got %x\nwant %x", got, goldenRequest)
		}
		_, err := b.Write(goldenResponse)
		peer <- err
	}()
	out, err := echo(context.Background(), c, "x")
	if err != nil || out != "x" {
		t.Fatalf("call: %q %v", out, err)
	}
	if err := <-peer; err != nil {
		t.Fatal(err)
	}
}

func TestGoldenServerFrames(t *testing.T) {
	a, b := net.Pipe()
	serveListener(t, &oneConnListener{conn: b, closed: make(chan struct{})})
	defer a.Close()
	write := make(chan error, 1)
	go func() { _, err := a.Write(goldenRequest); write <- err }()
	got := make([]byte, len(goldenResponse))
	if _, err := io.ReadFull(a, got); err != nil {
		t.Fatal(err)
	}
	if err := <-write; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, goldenResponse) {
		t.Fatalf("response frame\n got %x\nwant %x", got, goldenResponse)
	}
}
