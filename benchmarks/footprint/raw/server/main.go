// Command server is the floor of the footprint comparison: a program that
// serves the same message (wrapperspb.BytesValue, decoded and encoded with
// protobuf-go) over a unix socket without any RPC library, so that what a
// library server weighs above it is what the library adds. Frames are those
// of internal/rawecho: a 4-byte big-endian payload length, a kind byte and
// the payload, here a marshalled BytesValue. It serves the unix socket
// named by its only argument and prints "ready" once it accepts
// connections.
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// maxPayload bounds what a frame may announce, like the libraries' limit.
const maxPayload = 4 << 20

func serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	var h [5]byte
	for {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(h[:4])
		if n > maxPayload {
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return
		}
		req := new(wrapperspb.BytesValue)
		if err := proto.Unmarshal(body, req); err != nil {
			return
		}
		out, err := proto.MarshalOptions{}.MarshalAppend(h[:], req)
		if err != nil {
			return
		}
		binary.BigEndian.PutUint32(out[:4], uint32(len(out)-len(h)))
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: server SOCKET")
		os.Exit(2)
	}
	l, err := net.Listen("unix", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("ready")
	for {
		c, err := l.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go serve(c)
	}
}
