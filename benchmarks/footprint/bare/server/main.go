// Command server is the bare floor of the footprint comparison, for scale
// only: the frames of footprint/raw/server echoed as opaque bytes, without
// protobuf, so that the difference between the two is what protobuf-go
// costs any program that handles a message.
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
)

// maxPayload bounds what a frame may announce, like the libraries' limit.
const maxPayload = 4 << 20

func serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	var frame []byte
	for {
		var h [5]byte
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(h[:4])
		if n > maxPayload {
			return
		}
		frame = append(append(frame[:0], h[:]...), make([]byte, n)...)
		if _, err := io.ReadFull(r, frame[len(h):]); err != nil {
			return
		}
		if _, err := c.Write(frame); err != nil {
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
