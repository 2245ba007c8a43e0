package ttrpc

import (
	"net"
	"syscall"
)

// tryWriter returns, for a socket, a function that writes as much of p as
// the socket takes at once and never waits: it reports 0 bytes, and no
// error, when the socket buffer is full or a past write deadline is still
// set. For other transports it returns nil.
func tryWriter(nc net.Conn) func(p []byte) (int, error) {
	rc := rawConnOf(nc)
	if rc == nil {
		return nil
	}
	var (
		buf      []byte
		n        int
		writeErr error
	)
	// syscall.Write, not x/sys/unix's: the race detector pairs it with the
	// reads of the peer (see rawReader). One closure for the connection's
	// life; it is only called by the goroutine holding the flushing role.
	attempt := func(fd uintptr) bool {
		for {
			m, err := syscall.Write(int(fd), buf)
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				n, writeErr = 0, nil
			case err != nil:
				n, writeErr = 0, err
			default:
				n, writeErr = m, nil
			}
			return true
		}
	}
	return func(p []byte) (int, error) {
		buf, n, writeErr = p, 0, nil
		if err := rc.Write(attempt); err != nil {
			buf = nil
			if isTimeout(err) {
				return 0, nil // the flusher sets a fresh deadline
			}
			return 0, err
		}
		buf = nil
		return n, writeErr
	}
}
