package benchmarks

import (
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

// BenchmarkHandoffFloor prices the one design choice every ttrpc library
// shares: a reader goroutine per connection that hands each message to the
// goroutine waiting for it, instead of that goroutine reading its own. It
// runs the raw floor's 16 B ping-pong (a 10-byte header and 16 bytes, over
// a connected pair of unix sockets, blocking Read and Write) four ways:
// both ends reading their own messages (the floor), the server's reader
// handing each request to a worker over a channel, the client's reader
// handing each answer to the caller, and both. No protobuf, no framing
// code: what the hand-offs cost by themselves, against which the library's
// own time per call can be read (README, "Performance").
func BenchmarkHandoffFloor(b *testing.B) {
	for _, mode := range []struct {
		name           string
		server, client bool
	}{{"floor", false, false}, {"server-handoff", true, false}, {"client-handoff", false, true}, {"both", true, true}} {
		b.Run("mode="+mode.name, func(b *testing.B) { handoffPingPong(b, mode.server, mode.client) })
	}
}

const handoffMsgLen = 10 + 16

func handoffPingPong(b *testing.B, serverHandoff, clientHandoff bool) {
	cli, srv := socketPair(b)
	if serverHandoff {
		go serveWithHandoff(srv)
	} else {
		go serveDirect(srv)
	}
	msg := make([]byte, handoffMsgLen)
	var answers chan []byte
	if clientHandoff {
		answers = make(chan []byte, 1)
		go func() {
			defer close(answers)
			for {
				in := make([]byte, handoffMsgLen)
				if _, err := io.ReadFull(cli, in); err != nil {
					return
				}
				answers <- in
			}
		}()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := cli.Write(msg); err != nil {
			b.Fatal(err)
		}
		if clientHandoff {
			if _, ok := <-answers; !ok {
				b.Fatal("connection closed")
			}
		} else if _, err := io.ReadFull(cli, msg); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cli.Close()
	srv.Close()
}

func serveDirect(c net.Conn) {
	msg := make([]byte, handoffMsgLen)
	for {
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		if _, err := c.Write(msg); err != nil {
			return
		}
	}
}

func serveWithHandoff(c net.Conn) {
	work := make(chan []byte)
	defer close(work)
	go func() {
		for msg := range work {
			if _, err := c.Write(msg); err != nil {
				return
			}
		}
	}()
	for {
		msg := make([]byte, handoffMsgLen)
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		work <- msg
	}
}

// socketPair returns the two ends of a connected pair of unix stream
// sockets, closed when b ends.
func socketPair(b *testing.B) (net.Conn, net.Conn) {
	b.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	var conns [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = c
		b.Cleanup(func() { c.Close() })
	}
	return conns[0], conns[1]
}
