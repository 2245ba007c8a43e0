package ttrpc

import (
	"context"
	"errors"
	"os"
	"time"
)

// sendMode says how sendFrame writes a frame.
type sendMode uint8

const (
	// sendNow writes in the sender's goroutine, waiting for the peer up to
	// the deadline: unary requests and answers, whose sender waits anyway.
	sendNow sendMode = iota
	// sendQueued hands the frame to the background flusher, so that a run
	// of stream messages leaves in batches and the sender never waits on
	// the peer.
	sendQueued
	// sendOffered writes at once what the socket takes without waiting and
	// queues the rest (frameWriter.offer): a stream message that answers
	// one just received, for which the peer waits (a ping-pong would
	// otherwise pay a hand-off to the flusher on every message).
	sendOffered
)

// streamSendMode is the mode of a stream message: offered when it answers
// a message received since the stream's last send, queued otherwise.
func streamSendMode(answering bool) sendMode {
	if answering {
		return sendOffered
	}
	return sendQueued
}

// sendFrame sends one frame whose body is about size bytes: it reserves
// room in the writer's budget first (waiting for the peer to read, until
// deadline or done), then builds the frame with build in a pooled buffer,
// and writes it as mode says. A sender waiting for room thus holds no
// frame.
func (c *conn) sendFrame(size int, deadline time.Time, done <-chan struct{}, mode sendMode, build func([]byte) ([]byte, error)) error {
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
	switch mode {
	case sendQueued:
		err = c.fw.queue(frame, reserved)
	case sendOffered:
		err = c.fw.offer(frame, reserved)
	default:
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
