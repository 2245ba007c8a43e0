package ttrpc

import (
	"encoding/binary"
	"net"
	"testing"
)

// recordConn records the size of every Write.
type recordConn struct {
	net.Conn
	writes []int
}

func (c *recordConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, len(p))
	return len(p), nil
}

func frame(body int) []byte {
	b := make([]byte, frameHeaderLength+body)
	binary.BigEndian.PutUint32(b, uint32(body))
	return b
}

// Frames leave as containerd/ttrpc's bufio.Writer cuts them: the header
// with the body's first bytes up to 4 KiB, then the rest of the body (in
// the pieces the input had, each within the frame),
// never two frames in one Write, however the input was coalesced or split.
func TestFrameConnCutsFramesLikeContainerd(t *testing.T) {
	rec := &recordConn{}
	fc := &frameConn{Conn: rec}
	var in []byte
	in = append(in, frame(10000)...)
	in = append(in, frame(5)...)
	in = append(in, frame(0)...)
	in = append(in, frame(4086)...)
	// Split the stream at awkward places.
	for _, cut := range [][2]int{{0, 3}, {3, 5000}, {5000, len(in)}} {
		if n, err := fc.Write(in[cut[0]:cut[1]]); err != nil || n != cut[1]-cut[0] {
			t.Fatalf("Write: %d %v", n, err)
		}
	}
	want := []int{4096, 904, 5010, 15, 10, 4096} // the body rest as the input split it
	if len(rec.writes) != len(want) {
		t.Fatalf("writes %v, want %v", rec.writes, want)
	}
	for i := range want {
		if rec.writes[i] != want[i] {
			t.Fatalf("writes %v, want %v", rec.writes, want)
		}
	}
}
