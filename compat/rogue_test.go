package ttrpc

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
)

// rogueServer returns a client connection to a peer that answers every
// request with a Data frame, which a unary call must reject as a protocol
// error. The peer stops when the test ends.
func rogueServer(t *testing.T) net.Conn {
	t.Helper()
	l, err := net.Listen("unix", socketPath(t))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		var h [10]byte
		for {
			if _, err := io.ReadFull(nc, h[:]); err != nil {
				return
			}
			if _, err := io.CopyN(io.Discard, nc, int64(binary.BigEndian.Uint32(h[:4]))); err != nil {
				return
			}
			// Same stream id, type Data (3), no flags, empty body.
			binary.BigEndian.PutUint32(h[:4], 0)
			h[8], h[9] = 3, 0
			if _, err := nc.Write(h[:]); err != nil {
				return
			}
		}
	}()
	nc, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nc.Close()
		l.Close()
		<-done
	})
	return nc
}
