package ttrpc

import (
	"context"
	"errors"
	"os"
	"time"
)

// sendFrame sends one frame whose body is about size bytes: it reserves
// room in the writer's budget first (waiting for the peer to read, until
// deadline or done), then builds the frame with build in a pooled buffer,
// and writes it, in this goroutine or, with background set, through the
// writer's background flusher. A sender waiting for room thus holds no
// frame.
func (c *conn) sendFrame(size int, deadline time.Time, done <-chan struct{}, background bool, build func([]byte) ([]byte, error)) error {
	reserved := frameHeaderLength + size + 16
	if err := c.fw.reserve(reserved, deadline, done); err != nil {
		return err
	}
	buf := getBuffer(reserved)
	frame, err := build((*buf)[:0])
	*buf = frame
	if err != nil {
		c.fw.unreserve(reserved)
		putBuffer(buf)
		return err
	}
	if background {
		err = c.fw.queue(frame, reserved)
	} else {
		err = c.fw.write(frame, reserved, deadline, nil)
	}
	putBuffer(buf)
	return err
}

// sendError maps what sending returned to what a caller sees: its
// context's error for timeouts and cancellation, the bare ErrClosed when
// the connection is gone (callers compare with ==).
func sendError(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case err == os.ErrDeadlineExceeded || err == errWaitAbandoned:
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		return context.DeadlineExceeded
	case errors.Is(err, ErrClosed):
		return ErrClosed
	}
	return err
}
