//go:build linux

package ttrpc

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// AF_VSOCK sockets are not something the net package can wrap (FileConn
// knows only inet and unix families), so they run on an *os.File: a
// non-blocking descriptor handed to os.NewFile is driven by the runtime
// poller, which gives reads, writes and deadlines that behave like a
// net.Conn's.

// vsockAddr is the net.Addr of a vsock endpoint.
type vsockAddr struct{ cid, port uint32 }

func (a vsockAddr) Network() string { return "vsock" }
func (a vsockAddr) String() string {
	return Address{Scheme: SchemeVsock, CID: a.cid, Port: a.port}.String()
}

func sockaddrVM(sa unix.Sockaddr) vsockAddr {
	if vm, ok := sa.(*unix.SockaddrVM); ok {
		return vsockAddr{cid: vm.CID, port: vm.Port}
	}
	return vsockAddr{}
}

// vsockConn is a connected AF_VSOCK stream socket.
type vsockConn struct {
	f             *os.File
	local, remote vsockAddr
}

func newVsockConn(fd int) *vsockConn {
	c := &vsockConn{f: os.NewFile(uintptr(fd), "vsock")}
	if sa, err := unix.Getsockname(fd); err == nil {
		c.local = sockaddrVM(sa)
	}
	if sa, err := unix.Getpeername(fd); err == nil {
		c.remote = sockaddrVM(sa)
	}
	return c
}

func (c *vsockConn) Read(b []byte) (int, error) {
	n, err := c.f.Read(b)
	return n, c.opError("read", err)
}

func (c *vsockConn) Write(b []byte) (int, error) {
	n, err := c.f.Write(b)
	return n, c.opError("write", err)
}

func (c *vsockConn) Close() error                       { return c.opError("close", c.f.Close()) }
func (c *vsockConn) LocalAddr() net.Addr                { return c.local }
func (c *vsockConn) RemoteAddr() net.Addr               { return c.remote }
func (c *vsockConn) SetDeadline(t time.Time) error      { return c.f.SetDeadline(t) }
func (c *vsockConn) SetReadDeadline(t time.Time) error  { return c.f.SetReadDeadline(t) }
func (c *vsockConn) SetWriteDeadline(t time.Time) error { return c.f.SetWriteDeadline(t) }

// opError reports errors as the net package does, with net.ErrClosed for
// a closed connection, so callers match them the same way on every
// transport. io.EOF and deadline errors pass through unchanged.
func (c *vsockConn) opError(op string, err error) error {
	switch {
	case err == nil, err == io.EOF:
		return err
	case errors.Is(err, os.ErrClosed):
		err = net.ErrClosed
	case errors.Is(err, os.ErrDeadlineExceeded):
		return err
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &net.OpError{Op: op, Net: "vsock", Source: c.local, Addr: c.remote, Err: err}
}

// dialVsock connects to cid:port, honouring ctx while the connection is
// being set up.
func dialVsock(ctx context.Context, cid, port uint32) (net.Conn, error) {
	fd, err := unix.Socket(unix.AF_VSOCK, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	err = unix.Connect(fd, &unix.SockaddrVM{CID: cid, Port: port})
	if err != nil && !errors.Is(err, unix.EINPROGRESS) {
		_ = unix.Close(fd)
		return nil, os.NewSyscallError("connect", err)
	}
	c := newVsockConn(fd)
	if err != nil { // in progress: wait for the socket to become writable
		if err := waitConnected(ctx, c.f); err != nil {
			_ = c.f.Close()
			return nil, err
		}
		if sa, err := unix.Getpeername(fd); err == nil {
			c.remote = sockaddrVM(sa)
		}
		if sa, err := unix.Getsockname(fd); err == nil {
			c.local = sockaddrVM(sa)
		}
	}
	return c, nil
}

// waitConnected waits for a non-blocking connect on f to finish, failing
// when ctx ends first.
func waitConnected(ctx context.Context, f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	_ = f.SetWriteDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = f.SetWriteDeadline(time.Unix(1, 0)) })
	defer stop()
	var connErr error
	werr := rc.Write(func(fd uintptr) bool {
		v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			connErr = os.NewSyscallError("getsockopt", err)
			return true
		}
		switch e := syscall.Errno(v); e {
		case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
			return false
		case 0:
			// Not failed is not yet connected: ask for the peer.
			if _, err := unix.Getpeername(int(fd)); errors.Is(err, unix.ENOTCONN) {
				return false
			}
			return true
		default:
			connErr = os.NewSyscallError("connect", e)
			return true
		}
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if werr != nil {
		if errors.Is(werr, os.ErrDeadlineExceeded) {
			return context.DeadlineExceeded
		}
		return werr
	}
	if connErr != nil {
		return connErr
	}
	return f.SetWriteDeadline(time.Time{})
}

// vsockListener accepts AF_VSOCK connections.
type vsockListener struct {
	f      *os.File
	rc     syscall.RawConn
	addr   vsockAddr
	closed atomic.Bool
}

// listenVsock listens on cid:port; VsockCIDAny listens on every CID.
func listenVsock(cid, port uint32) (net.Listener, error) {
	fd, err := unix.Socket(unix.AF_VSOCK, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrVM{CID: cid, Port: port}); err != nil {
		_ = unix.Close(fd)
		return nil, os.NewSyscallError("bind", err)
	}
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		_ = unix.Close(fd)
		return nil, os.NewSyscallError("listen", err)
	}
	l := &vsockListener{f: os.NewFile(uintptr(fd), "vsock-listener"), addr: vsockAddr{cid: cid, port: port}}
	if sa, err := unix.Getsockname(fd); err == nil {
		l.addr = sockaddrVM(sa)
	}
	if l.rc, err = l.f.SyscallConn(); err != nil {
		_ = l.f.Close()
		return nil, err
	}
	return l, nil
}

// Accept waits for the next connection; after Close it returns an error
// matching net.ErrClosed.
func (l *vsockListener) Accept() (net.Conn, error) {
	var nfd int
	var aerr error
	err := l.rc.Read(func(fd uintptr) bool {
		nfd, _, aerr = unix.Accept4(int(fd), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		return !errors.Is(aerr, unix.EAGAIN) && !errors.Is(aerr, unix.EINTR)
	})
	if err == nil {
		err = aerr
	}
	if err != nil {
		if l.closed.Load() {
			err = net.ErrClosed
		}
		return nil, &net.OpError{Op: "accept", Net: "vsock", Addr: l.addr, Err: err}
	}
	return newVsockConn(nfd), nil
}

// Close stops the listener; a blocked Accept returns.
func (l *vsockListener) Close() error {
	l.closed.Store(true)
	if err := l.f.Close(); err != nil {
		return &net.OpError{Op: "close", Net: "vsock", Addr: l.addr, Err: net.ErrClosed}
	}
	return nil
}

// Addr returns the address the listener is bound to.
func (l *vsockListener) Addr() net.Addr { return l.addr }
