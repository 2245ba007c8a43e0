//go:build !linux

package ttrpc

import (
	"context"
	"errors"
	"net"
)

// AF_VSOCK is reached through golang.org/x/sys/unix on Linux only.

func dialVsock(context.Context, uint32, uint32) (net.Conn, error) {
	return nil, errors.ErrUnsupported
}

func listenVsock(uint32, uint32) (net.Listener, error) {
	return nil, errors.ErrUnsupported
}
