package ttrpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// maxHybridVsockReply bounds the proxy's answer line; Firecracker and Cloud
// Hypervisor answer "OK <port>\n", a few bytes.
const maxHybridVsockReply = 256

// dialHybridVsock connects to a VMM's hybrid vsock unix socket at path and
// asks it for the guest's port: it sends "CONNECT <port>\n" and expects a
// line starting "OK ". After that line the connection is the raw byte
// stream to the guest, so the reply is read byte by byte: a buffered read
// could swallow the first bytes the guest sends.
func dialHybridVsock(ctx context.Context, path string, port uint32) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	if err := hybridVsockHandshake(ctx, nc, port); err != nil {
		_ = nc.Close()
		return nil, err
	}
	return nc, nil
}

func hybridVsockHandshake(ctx context.Context, nc net.Conn, port uint32) error {
	deadline, _ := ctx.Deadline()
	if err := nc.SetDeadline(deadline); err != nil {
		return err
	}
	// Cancellation without a deadline still has to interrupt a blocked
	// read: move the deadline into the past.
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	reply, err := exchangeConnect(nc, port)
	if !stop() {
		// ctx ended during the exchange; whatever happened, that is the
		// cause the caller wants to see.
		return ctx.Err()
	}
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && !deadline.IsZero() {
			// The connection's deadline is ctx's; its timer may just not
			// have fired yet.
			return fmt.Errorf("hybrid vsock handshake: %w", context.DeadlineExceeded)
		}
		return err
	}
	if !strings.HasPrefix(reply, "OK ") {
		return fmt.Errorf("%w: port %d: proxy answered %q", ErrHybridVsockRefused, port, reply)
	}
	return nc.SetDeadline(time.Time{})
}

// exchangeConnect sends the CONNECT request and returns the reply line
// without its line ending.
func exchangeConnect(nc net.Conn, port uint32) (string, error) {
	if _, err := nc.Write([]byte("CONNECT " + strconv.FormatUint(uint64(port), 10) + "\n")); err != nil {
		return "", err
	}
	var line []byte
	var b [1]byte
	for len(line) < maxHybridVsockReply {
		n, err := nc.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				return strings.TrimSuffix(string(line), "\r"), nil
			}
			line = append(line, b[0])
			continue
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return "", err
			}
			return "", fmt.Errorf("%w: port %d: proxy closed the connection after %q: %v", ErrHybridVsockRefused, port, line, err)
		}
	}
	return "", fmt.Errorf("%w: port %d: reply longer than %d bytes", ErrHybridVsockRefused, port, maxHybridVsockReply)
}
