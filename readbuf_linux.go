package ttrpc

import (
	"errors"
	"io"
	"syscall"
)

// rawConnOf returns the socket under x, or nil when x is not one.
func rawConnOf(x any) syscall.RawConn {
	sc, ok := x.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// rawReader returns, for a socket, a function that waits until it is
// readable and reads into into, or (into being nil) at most readBufferSize
// bytes into a pooled buffer it returns. A pooled buffer is taken only for
// the read itself and given back before the goroutine parks, so an idle
// connection holds none; the system calls are those of a plain read (one
// that finds nothing, one that reads). For other transports it returns
// nil.
func rawReader(r io.Reader) func(into []byte) (*[]byte, int, error) {
	rc := rawConnOf(r)
	if rc == nil {
		return nil
	}
	var (
		into    []byte // the caller's buffer, or nil to borrow one
		buf     *[]byte
		n       int
		readErr error
	)
	// syscall.Read, not x/sys/unix's: the race detector pairs its reads with
	// the writes of the net package, which the tests rely on.
	//
	// One closure for the connection's life: RawConn.Read calls it again
	// each time the socket becomes readable, until it returns true.
	attempt := func(fd uintptr) bool {
		var b *[]byte
		dst := into
		if dst == nil {
			b = getBuffer(readBufferSize)
			dst = *b
		}
		for {
			m, err := syscall.Read(int(fd), dst)
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				putBuffer(b)
				return false
			case err != nil:
				putBuffer(b)
				buf, n, readErr = nil, 0, err
			case m == 0:
				putBuffer(b)
				buf, n, readErr = nil, 0, io.EOF
			default:
				buf, n, readErr = b, m, nil
			}
			return true
		}
	}
	return func(p []byte) (*[]byte, int, error) {
		into, buf, n, readErr = p, nil, 0, nil
		if err := rc.Read(attempt); err != nil {
			if buf != nil {
				putBuffer(buf)
			}
			return nil, 0, err
		}
		if errors.Is(readErr, syscall.ECONNRESET) {
			return buf, n, syscall.ECONNRESET
		}
		return buf, n, readErr
	}
}
