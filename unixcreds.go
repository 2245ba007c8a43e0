//go:build linux

package ttrpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// UnixCredentialsFunc checks the credentials of a unix socket peer. Used as a
// Handshaker it reads the peer's SO_PEERCRED credentials (as of its
// connect(2)) and accepts the connection when the function returns nil; the
// handshake result is the peer's *unix.Ucred.
type UnixCredentialsFunc func(*unix.Ucred) error

// Handshake implements Handshaker. It fails for connections that are not
// unix sockets, when the credentials cannot be read, and when fn rejects
// them; the error wraps the cause.
func (fn UnixCredentialsFunc) Handshake(_ context.Context, conn net.Conn) (net.Conn, any, error) {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return nil, nil, errors.New("ttrpc.UnixCredentialsFunc: a unix socket connection is required")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return nil, nil, fmt.Errorf("ttrpc.UnixCredentialsFunc: raw connection: %w", err)
	}
	var ucred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		ucred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return nil, nil, fmt.Errorf("ttrpc.UnixCredentialsFunc: control: %w", err)
	}
	if credErr != nil {
		return nil, nil, fmt.Errorf("ttrpc.UnixCredentialsFunc: reading SO_PEERCRED: %w", credErr)
	}
	if err := fn(ucred); err != nil {
		return nil, nil, fmt.Errorf("ttrpc.UnixCredentialsFunc: peer pid %d uid %d gid %d refused: %w",
			ucred.Pid, ucred.Uid, ucred.Gid, err)
	}
	return conn, ucred, nil
}

// errInvalidCredentials is wrapped when a peer's uid or gid does not match.
var errInvalidCredentials = fmt.Errorf("ttrpc: invalid credentials: %w", os.ErrPermission)

// UnixSocketRequireUidGid accepts peers whose effective uid and gid match;
// -1 matches any value.
func UnixSocketRequireUidGid(uid, gid int) UnixCredentialsFunc { //nolint:revive // name kept for API compatibility
	return func(c *unix.Ucred) error {
		if (uid != -1 && uint32(uid) != c.Uid) || (gid != -1 && uint32(gid) != c.Gid) {
			return errInvalidCredentials
		}
		return nil
	}
}

// UnixSocketRequireRoot accepts only peers running as uid 0 and gid 0.
func UnixSocketRequireRoot() UnixCredentialsFunc {
	return UnixSocketRequireUidGid(0, 0)
}

// UnixSocketRequireSameUser accepts only peers with this process's effective
// uid and gid, read when it is called.
func UnixSocketRequireSameUser() UnixCredentialsFunc {
	return UnixSocketRequireUidGid(os.Geteuid(), os.Getegid())
}
