package ttrpc

import (
	"context"
	"sync"
	"time"
)

// handlerCtx is the context a handler runs with. It is part of the stream's
// own allocation and does its bookkeeping lazily: a handler that never asks
// for Done costs no channel, timer or parent registration, which keeps the
// unary hot path to a single allocation on the server. Its behaviour is that
// of context.WithDeadline (or WithCancel) on the parent.
type handlerCtx struct {
	context.Context // parent: the connection's context

	// md is the call's metadata, which Value returns for GetMetadata
	// (saving a context.WithValue per call); without entries, the
	// parent's is returned.
	md incomingMD

	deadline time.Time // the caller's deadline; zero for none

	mu   sync.Mutex
	err  error         // set once the context ended
	done chan struct{} // created by the first Done
	// stopParent and timer are the watches Done starts.
	stopParent func() bool
	timer      *time.Timer
}

func (h *handlerCtx) init(parent context.Context, timeout time.Duration, hasTimeout bool) {
	h.Context = parent
	if hasTimeout {
		h.deadline = time.Now().Add(timeout)
		if pd, ok := parent.Deadline(); ok && pd.Before(h.deadline) {
			h.deadline = pd
		}
	}
}

// Value returns the call's metadata for GetMetadata's key when the call
// has some, and the parent's value of key otherwise.
func (h *handlerCtx) Value(key any) any {
	if h.md.raw != nil {
		if _, ok := key.(metadataKey); ok {
			return &h.md
		}
	}
	return h.Context.Value(key)
}

func (h *handlerCtx) Deadline() (time.Time, bool) {
	if !h.deadline.IsZero() {
		return h.deadline, true
	}
	return h.Context.Deadline()
}

func (h *handlerCtx) Err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.errLocked()
}

func (h *handlerCtx) errLocked() error {
	if h.err == nil {
		if perr := h.Context.Err(); perr != nil {
			h.endLocked(perr)
		} else if !h.deadline.IsZero() && !time.Now().Before(h.deadline) {
			h.endLocked(context.DeadlineExceeded)
		}
	}
	return h.err
}

func (h *handlerCtx) Done() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done == nil {
		ended := h.errLocked() != nil // before done exists, so nothing closes it twice
		h.done = make(chan struct{})
		if ended {
			close(h.done)
			return h.done
		}
		h.stopParent = context.AfterFunc(h.Context, func() { h.cancel(h.Context.Err()) })
		if !h.deadline.IsZero() {
			h.timer = time.AfterFunc(time.Until(h.deadline), func() { h.cancel(context.DeadlineExceeded) })
		}
	}
	return h.done
}

// cancel ends the context with err unless it already ended.
func (h *handlerCtx) cancel(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil {
		h.endLocked(err)
	}
}

func (h *handlerCtx) endLocked(err error) {
	h.err = err
	if h.done != nil {
		close(h.done)
	}
	if h.stopParent != nil {
		h.stopParent()
	}
	if h.timer != nil {
		h.timer.Stop()
	}
}

func (h *handlerCtx) String() string { return "ttrpc.handlerContext" }
