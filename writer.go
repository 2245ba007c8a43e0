package ttrpc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// frameWriter serialises frames onto one connection without holding a lock
// across I/O. The first writer to find the connection idle writes its frame
// itself (no copy, no goroutine switch); writers arriving while it is busy
// append their frames to pending and return, and the busy writer flushes
// them in one write before it leaves.
//
// Outgoing bytes are budgeted: a sender reserves room for its frame before
// it builds it (reserve), so that senders waiting for a peer that does not
// read hold no frame; held counts every byte reserved, pending or being
// written, and stays at most limit plus one frame.
//
// Lock order: frameWriter.mu is a leaf; nothing is called with it held but
// the writer's own helpers (assignID in write runs under it and may take
// conn.mu, which never takes frameWriter.mu).
type frameWriter struct {
	nc    net.Conn
	limit int64 // room for outgoing bytes (reserve waits beyond it)

	mu sync.Mutex
	// flushing is true while one goroutine owns the connection for writing;
	// it alone touches nc and writeDeadline.
	flushing bool
	// pending holds complete frames, in order, waiting for the flusher. Its
	// buffer comes from the shared pool and goes back after the write, so
	// an idle connection holds none.
	pending []byte
	// held is the number of outgoing bytes reserved, pending or in flight.
	held int64
	// room, when non-nil, is closed when held drops; waiters create it.
	room chan struct{}
	// err is sticky: once a write failed the byte stream is broken.
	err error
	// nextStreamID is the id of the next stream this side opens; it lives
	// here because ids must reach the wire in increasing order.
	nextStreamID uint32

	writeDeadline time.Time // owned by the flusher
	// stallTimeout, when set, bounds how long a write may make no progress.
	stallTimeout time.Duration
	// tryWrite, when set, writes what the socket takes without waiting
	// (offer, and the first attempt of every flush); nil for transports
	// that cannot. It is made by the first write (trier), by the goroutine
	// holding the flushing role, so that a connection that never writes
	// does not pay for it.
	tryWrite     func(p []byte) (int, error)
	tryWriteMade bool

	// idle, when non-nil, is closed when the flusher finishes (waitIdle).
	idle chan struct{}

	// broken is called (once, without mu) when a write fails for a reason
	// other than a deadline: the connection must end, since nobody else
	// may notice (a background flush has no caller to report to).
	broken func(error)
	// released, when set, is called (without mu) after held dropped, so
	// that the connection's reader can re-check its budget.
	released func()
}

// asyncQueueLimit bounds what the reader goroutine may queue for itself
// (status replies, cancels) on top of the writers' budget: room for
// thousands of short replies. A peer that leaves more than that unread
// while still sending frames that need answers is disconnected.
const asyncQueueLimit = 2 << 20

func newFrameWriter(nc net.Conn, firstStreamID uint32, limit int64) *frameWriter {
	return &frameWriter{nc: nc, nextStreamID: firstStreamID, limit: limit}
}

// errStreamIDsExhausted is returned once a connection has used up its ids.
var errStreamIDsExhausted = fmt.Errorf("ttrpc: stream ids exhausted on this connection: %w", ErrClosed)

// errWaitAbandoned reports that a writer stopped waiting for room because
// its done channel (its context) closed; callers map it to the context's
// error.
var errWaitAbandoned = errors.New("ttrpc: gave up waiting to write")

// errWriteStalled breaks a connection whose peer took nothing for a whole
// stall timeout: it has stopped reading.
var errWriteStalled = errors.New("ttrpc: peer stopped reading (write stalled)")

// reserve waits until the outgoing budget has room for n bytes (or holds
// nothing, so that a frame larger than the budget still goes) and reserves
// them. It fails with os.ErrDeadlineExceeded, errWaitAbandoned when done
// closes, or the writer's error.
func (w *frameWriter) reserve(n int, deadline time.Time, done <-chan struct{}) error {
	w.mu.Lock()
	for w.err == nil && w.held > 0 && w.held+int64(n) > w.limit {
		if w.room == nil {
			w.room = make(chan struct{})
		}
		room := w.room
		w.mu.Unlock()
		if err := waitRoom(room, deadline, done); err != nil {
			return err
		}
		w.mu.Lock()
	}
	err := w.err
	if err == nil {
		w.held += int64(n)
	}
	w.mu.Unlock()
	return err
}

// unreserve gives back a reservation that no frame will use.
func (w *frameWriter) unreserve(n int) {
	w.mu.Lock()
	w.releaseLocked(int64(n))
	w.mu.Unlock()
	w.notifyReleased()
}

// write sends one complete frame (header included) for which reserved
// bytes were reserved. If assignID is not nil the frame opens a stream: a
// fresh stream id is written into its header and passed to assignID before
// the frame can reach the wire, so ids appear on the wire in increasing
// order. The frame buffer may be reused once write returns. A write that
// cannot finish before the deadline returns os.ErrDeadlineExceeded; a frame
// it had begun is still completed by a background flush, so the connection
// stays in sync.
func (w *frameWriter) write(frame []byte, reserved int, deadline time.Time, assignID func(uint32) error) error {
	w.mu.Lock()
	w.held += int64(len(frame) - reserved)
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
	}
	if assignID != nil {
		id := w.nextStreamID
		if id == 0 || id > 1<<31 {
			w.releaseLocked(int64(len(frame)))
			w.mu.Unlock()
			w.notifyReleased()
			return errStreamIDsExhausted
		}
		if err := assignID(id); err != nil {
			w.releaseLocked(int64(len(frame)))
			w.mu.Unlock()
			w.notifyReleased()
			return err
		}
		w.nextStreamID += 2
		binary.BigEndian.PutUint32(frame[4:8], id)
	}
	if w.flushing {
		w.appendPendingLocked(frame)
		w.mu.Unlock()
		return nil
	}
	w.flushing = true
	w.mu.Unlock()
	return w.flush(frame, deadline)
}

// queue sends a frame like write, but never writes in the caller's
// goroutine: the frame is queued for a background flusher. Streams use it
// for their messages, so that a sender producing many frames is not held
// by one syscall per frame and its frames leave in batches.
func (w *frameWriter) queue(frame []byte, reserved int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.held += int64(len(frame) - reserved)
	if w.err != nil {
		return w.err
	}
	w.queueLocked(frame)
	return nil
}

// offer sends a frame like queue, and like queue never waits for the
// peer; but when the connection is idle the caller writes what the socket
// takes at once, sparing the hand-off to the background flusher, which
// gets only the rest.
func (w *frameWriter) offer(frame []byte, reserved int) error {
	if offerHook != nil {
		offerHook(w)
	}
	w.mu.Lock()
	w.held += int64(len(frame) - reserved)
	if w.err != nil || w.flushing {
		err := w.err
		if err == nil {
			w.appendPendingLocked(frame)
		}
		w.mu.Unlock()
		return err
	}
	w.flushing = true
	w.mu.Unlock()
	tryWrite := w.trier()
	if tryWrite == nil { // not a socket: the flusher writes it all
		w.mu.Lock()
		w.appendPendingLocked(frame)
		w.leaveFlushingLocked()
		w.mu.Unlock()
		return nil
	}
	n, err := tryWrite(frame)
	if err != nil {
		return w.flushFailed(frame, n, true, err)
	}
	w.mu.Lock()
	w.releaseLocked(int64(n))
	if n < len(frame) {
		w.requeueLocked(frame[n:])
	}
	w.leaveFlushingLocked()
	w.mu.Unlock()
	w.notifyReleased()
	return nil
}

// offerHook, set by tests only, sees every offer.
var offerHook func(*frameWriter)

// requeueLocked puts the unwritten rest of a frame back at the head of
// pending, before the frames queued meanwhile, so the stream stays in
// order.
func (w *frameWriter) requeueLocked(rest []byte) {
	queued := w.pending
	w.pending = nil
	w.appendPendingLocked(rest)
	if queued != nil {
		w.appendPendingLocked(queued)
		putBuffer(&queued)
	}
}

// leaveFlushingLocked ends a writer's turn at the connection: a
// background flusher takes over what is pending, if anything is.
func (w *frameWriter) leaveFlushingLocked() {
	if len(w.pending) > 0 {
		go w.flushBackground() // keeps the flushing role
	} else {
		w.stopFlushing()
	}
}

// writeAsync queues a short frame without ever blocking the caller: the
// reader goroutine uses it for status replies, and must keep reading even
// when the peer does not. It reports false, and queues nothing, when more
// than asyncQueueLimit is already queued: the peer has left that much
// unread and still sends frames that need answers.
func (w *frameWriter) writeAsync(frame []byte) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return true // the connection is ending; its calls end with it
	}
	if w.held+int64(len(frame)) > w.limit+asyncQueueLimit {
		return false
	}
	w.held += int64(len(frame))
	w.queueLocked(frame)
	return true
}

// queueLocked appends frame to pending and makes sure a flusher runs.
func (w *frameWriter) queueLocked(frame []byte) {
	w.appendPendingLocked(frame)
	if !w.flushing {
		w.flushing = true
		go w.flushBackground()
	}
}

// waitRoom waits until room is closed, the deadline passes or done closes.
func waitRoom(room <-chan struct{}, deadline time.Time, done <-chan struct{}) error {
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-room:
		return nil
	case <-timeout:
		return os.ErrDeadlineExceeded
	case <-done:
		return errWaitAbandoned
	}
}

// flush writes first (the caller's own frame, or nil) and then whatever is
// pending, until nothing is. The caller owns the flushing role on entry;
// flush gives it up (or hands it to a background goroutine) before
// returning.
func (w *frameWriter) flush(first []byte, deadline time.Time) error {
	if first != nil {
		n, err := w.writeWithDeadline(first, deadline)
		if err != nil {
			return w.flushFailed(first, n, true, err)
		}
		w.written(len(first))
	}
	for {
		w.mu.Lock()
		if len(w.pending) == 0 {
			w.stopFlushing()
			w.mu.Unlock()
			return nil
		}
		buf := w.pending
		w.pending = nil
		w.mu.Unlock()
		n, err := w.writeWithDeadline(buf, deadline)
		if err != nil {
			return w.flushFailed(buf, n, false, err)
		}
		w.written(len(buf))
		putBuffer(&buf)
	}
}

// written releases the budget of n bytes that reached the socket.
func (w *frameWriter) written(n int) {
	w.mu.Lock()
	w.releaseLocked(int64(n))
	w.mu.Unlock()
	w.notifyReleased()
}

func (w *frameWriter) releaseLocked(n int64) {
	w.held -= n
	if w.held < 0 {
		w.held = 0
	}
	if w.room != nil {
		close(w.room)
		w.room = nil
	}
}

func (w *frameWriter) notifyReleased() {
	if w.released != nil {
		w.released()
	}
}

// outstanding is the number of outgoing bytes the writer holds.
func (w *frameWriter) outstanding() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.held
}

// flushBackground is flush for a goroutine of its own, without a deadline.
func (w *frameWriter) flushBackground() { _ = w.flush(nil, time.Time{}) }

// appendPendingLocked queues frame, growing pending through the buffer
// pool.
func (w *frameWriter) appendPendingLocked(frame []byte) {
	if cap(w.pending)-len(w.pending) < len(frame) {
		nb := getBuffer(max(2*(len(w.pending)+len(frame)), 4<<10))
		grown := append((*nb)[:0], w.pending...)
		if w.pending != nil {
			old := w.pending
			putBuffer(&old)
		}
		w.pending = grown
	}
	w.pending = append(w.pending, frame...)
}

// trier returns w.tryWrite, making it on first use. Called by the
// goroutine holding the flushing role.
func (w *frameWriter) trier() func(p []byte) (int, error) {
	if !w.tryWriteMade {
		w.tryWriteMade = true
		w.tryWrite = tryWriter(w.nc)
	}
	return w.tryWrite
}

// writeWithDeadline writes buf, failing with a timeout at the deadline or
// when the peer takes nothing for a whole stall timeout. A socket is tried
// first without waiting: a write the socket takes at once needs no
// deadline, which spares arming the descriptor's timer (and reading the
// clock) on every frame. Only a write that would wait sets one.
func (w *frameWriter) writeWithDeadline(buf []byte, deadline time.Time) (int, error) {
	written := 0
	if tryWrite := w.trier(); tryWrite != nil {
		n, err := tryWrite(buf)
		if err != nil || n == len(buf) {
			return n, err
		}
		written = n
	}
	for {
		d, stallBound := deadline, false
		if w.stallTimeout > 0 {
			if stall := time.Now().Add(w.stallTimeout); d.IsZero() || stall.Before(d) {
				d, stallBound = stall, true
			}
		}
		if !d.Equal(w.writeDeadline) {
			if err := w.nc.SetWriteDeadline(d); err == nil {
				w.writeDeadline = d
			}
		}
		n, err := w.nc.Write(buf[written:])
		written += n
		if err == nil || !stallBound || !isTimeout(err) {
			return written, err
		}
		if n == 0 {
			return written, errWriteStalled
		}
		// The peer reads, slowly: keep going with a fresh stall bound.
	}
}

// flushFailed handles a failed write of buf, of which n bytes were
// written; own says buf is the caller's own frame. A deadline only
// abandons this writer: the unwritten bytes go back to the head of pending
// and a background goroutine finishes them without a deadline, so no frame
// is ever cut in half (a frame of the caller's that was not begun is
// dropped instead). Any other error breaks the connection.
func (w *frameWriter) flushFailed(buf []byte, n int, own bool, err error) error {
	if !isTimeout(err) {
		w.mu.Lock()
		first := w.err == nil
		w.failLocked(fmt.Errorf("%w: write failed: %w", ErrClosed, err))
		err = w.err
		w.mu.Unlock()
		if first && w.broken != nil {
			w.broken(err)
		}
		w.notifyReleased()
		return err
	}
	w.mu.Lock()
	if own && n == 0 {
		w.releaseLocked(int64(len(buf))) // never begun: dropped
	} else {
		w.releaseLocked(int64(n))
		w.requeueLocked(buf[n:])
	}
	if !own {
		putBuffer(&buf)
	}
	w.leaveFlushingLocked()
	w.mu.Unlock()
	w.notifyReleased()
	return os.ErrDeadlineExceeded
}

// stopFlushing gives up the flushing role. Called with mu held.
func (w *frameWriter) stopFlushing() {
	w.flushing = false
	if w.idle != nil {
		close(w.idle)
		w.idle = nil
	}
}

// waitIdle waits until every frame queued so far has been written (or the
// writer failed), or until timeout.
func (w *frameWriter) waitIdle(timeout time.Duration) {
	w.mu.Lock()
	if !w.flushing || w.err != nil {
		w.mu.Unlock()
		return
	}
	if w.idle == nil {
		w.idle = make(chan struct{})
	}
	idle := w.idle
	w.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	}
}

// fail marks the writer broken so that queued and future writes return err.
func (w *frameWriter) fail(err error) {
	w.mu.Lock()
	w.failLocked(err)
	w.mu.Unlock()
	w.notifyReleased()
}

func (w *frameWriter) failLocked(err error) {
	if w.err == nil {
		w.err = err
	}
	if w.pending != nil {
		old := w.pending
		putBuffer(&old)
	}
	w.pending = nil
	w.releaseLocked(w.held)
	w.stopFlushing()
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// opened reports whether this side has already opened stream id.
func (w *frameWriter) opened(id uint32) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return id != 0 && id < w.nextStreamID
}

// failed reports whether the writer is broken (the connection is ending).
func (w *frameWriter) failed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err != nil
}
