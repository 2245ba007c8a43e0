package ttrpc

import (
	"encoding/binary"
	"net"
	"sync"
	"syscall"
)

// Connections that deliver each Write as one message, and fail a Read
// whose buffer cannot hold the next message (NRI's multiplexed
// connections fail it with ENOMEM, and the message is lost), carry ttrpc
// only if both ends cut frames alike. containerd/ttrpc's 4 KiB bufio
// buffers cut each frame into at most 4 KiB (the header and the start of
// the body) followed by the rest of the body, and read that rest straight
// into a buffer of its size. A connection that is not a socket
// (syscall.Conn) is therefore wrapped in a frameConn, which writes and
// reads frames cut that way; on a socket the writer coalesces frames
// freely. PROTOCOL.md, "Message-oriented transports", says the same.

// firstChunk is the most a frame's first Write carries, as containerd/ttrpc's
// 4 KiB bufio.Writer does, and what a peer's 4 KiB bufio.Reader can take.
const firstChunk = 4096

// adaptConn returns nc as it is for sockets, wrapped in a frameConn for
// every other net.Conn. maxMessageSize bounds the reads it sizes from
// frame headers, which the peer writes.
func adaptConn(nc net.Conn, maxMessageSize int) net.Conn {
	switch nc.(type) {
	case syscall.Conn, *frameConn:
		return nc
	}
	return &frameConn{Conn: nc, maxRead: maxMessageSize + firstChunk}
}

// frameConn cuts written frames and sizes reads as containerd/ttrpc does.
type frameConn struct {
	net.Conn

	wmu sync.Mutex
	// first holds a frame's header and first body bytes until the first
	// chunk is complete; collecting is set while it does.
	first      []byte
	collecting bool
	wleft      int // body bytes of the current frame not yet written

	// Read side (one reader goroutine).
	r       frameCursor
	pending []byte // bytes read but not yet returned, in rbuf
	// rbuf is a pooled buffer held only while pending is not empty, so
	// that an idle connection keeps none.
	rbuf *[]byte
	// maxRead bounds a read: a header announcing more (an oversized frame
	// the reader skips, or a hostile one) gets reads of that size.
	maxRead int
}

func (c *frameConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	total := len(p)
	for len(p) > 0 {
		switch {
		case c.wleft > 0 && !c.collecting:
			// The rest of a body, as one Write.
			n := min(len(p), c.wleft)
			if _, err := c.Conn.Write(p[:n]); err != nil {
				return total - len(p), err
			}
			c.wleft -= n
			p = p[n:]
		case len(c.first) < frameHeaderLength:
			c.collecting = true
			n := min(len(p), frameHeaderLength-len(c.first))
			c.first = append(c.first, p[:n]...)
			p = p[n:]
			if len(c.first) == frameHeaderLength {
				c.wleft = int(binary.BigEndian.Uint32(c.first[:4]))
				if c.wleft == 0 {
					if err := c.flushFirst(); err != nil {
						return total - len(p), err
					}
				}
			}
		default:
			n := min(len(p), c.wleft, firstChunk-len(c.first))
			c.first = append(c.first, p[:n]...)
			c.wleft -= n
			p = p[n:]
			if c.wleft == 0 || len(c.first) == firstChunk {
				if err := c.flushFirst(); err != nil {
					return total - len(p), err
				}
			}
		}
	}
	return total, nil
}

func (c *frameConn) flushFirst() error {
	_, err := c.Conn.Write(c.first)
	c.first, c.collecting = c.first[:0], false
	return err
}

// frameCursor follows the frames of a byte stream: in a header, it counts
// the header bytes seen; in a body, the bytes left.
type frameCursor struct {
	hdr     [frameHeaderLength]byte
	hdrSeen int
	left    int // body bytes left in the current frame
}

// advance moves the cursor over the start of p and returns how many bytes
// it consumed (at most the rest of the current header or body).
func (c *frameCursor) advance(p []byte) int {
	if c.left == 0 {
		n := copy(c.hdr[c.hdrSeen:], p)
		c.hdrSeen += n
		if c.hdrSeen == frameHeaderLength {
			c.hdrSeen = 0
			c.left = int(binary.BigEndian.Uint32(c.hdr[:4]))
		}
		return n
	}
	n := min(len(p), c.left)
	c.left -= n
	return n
}

func (c *frameConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(c.pending) == 0 {
		// The next message is at most a first chunk at a frame start,
		// and at most the rest of the body inside one.
		need := min(max(firstChunk, c.r.left), c.maxRead)
		if len(p) >= need {
			n, err := c.Conn.Read(p)
			c.track(p[:n])
			return n, err
		}
		c.rbuf = getBuffer(need)
		n, err := c.Conn.Read((*c.rbuf)[:need])
		if n == 0 {
			c.releaseReadBuffer()
			return 0, err
		}
		c.pending = (*c.rbuf)[:n]
	}
	n := copy(p, c.pending)
	c.track(p[:n])
	c.pending = c.pending[n:]
	if len(c.pending) == 0 {
		c.releaseReadBuffer()
	}
	return n, nil
}

// track moves the read cursor over bytes handed to the reader.
func (c *frameConn) track(b []byte) {
	for len(b) > 0 {
		b = b[c.r.advance(b):]
	}
}

func (c *frameConn) releaseReadBuffer() {
	putBuffer(c.rbuf)
	c.rbuf, c.pending = nil, nil
}
