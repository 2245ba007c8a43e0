package ttrpc

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net"
	"os"
	"sync"
	"time"
)

// Framing: every message on a connection is a 10-byte header followed by
// header.length bytes of data (PROTOCOL.md, "Framing").

const (
	frameHeaderLength = 10

	// defaultMaxMessageSize is the largest frame body accepted and sent when
	// no limit is configured: 4 MiB, the limit every containerd/ttrpc peer
	// enforces (a body of exactly this size is allowed).
	defaultMaxMessageSize = 4 << 20

	// maxMessageSizeLimit is the largest limit a user may configure: the
	// first header byte is reserved and must stay zero, so lengths are below
	// 16 MiB.
	maxMessageSizeLimit = 1<<24 - 1

	// minMessageSizeLimit keeps a configured limit large enough for
	// envelopes carrying small messages and error statuses.
	minMessageSizeLimit = 4 << 10
)

// frameType is the third header field: what the body carries.
type frameType uint8

const (
	frameRequest  frameType = 0x1 // body: Request envelope; opens a stream
	frameResponse frameType = 0x2 // body: Response envelope; ends a stream
	frameData     frameType = 0x3 // body: a bare user message on a stream

	// Extensions (PROTOCOL.md, "Extensions"). containerd/ttrpc ignores
	// unknown types on odd stream ids, so a dialler may send them to any
	// server; an acceptor sends them only to peers that said hello.
	frameCancel frameType = 0x10 // no body: the caller gave up on the stream
	frameHello  frameType = 0x11 // no body: the dialler's capabilities, in flags
)

func (t frameType) String() string {
	switch t {
	case frameRequest:
		return "request"
	case frameResponse:
		return "response"
	case frameData:
		return "data"
	case frameCancel:
		return "cancel"
	case frameHello:
		return "hello"
	}
	return fmt.Sprintf("unknown(%d)", uint8(t))
}

// frameFlags is the fourth header field; its meaning depends on the type.
type frameFlags uint8

const (
	// flagRemoteClosed: on a Request, the caller sends no Data frames
	// (server-streaming); on Data, this is the sender's last frame.
	flagRemoteClosed frameFlags = 0x1
	// flagRemoteOpen: on a Request, Data frames from the caller follow.
	flagRemoteOpen frameFlags = 0x2
	// flagNoData: on Data, the body is not a message (an end marker).
	flagNoData frameFlags = 0x4

	// flagHelloServes: on Hello, the dialler serves requests on even ids.
	flagHelloServes frameFlags = 0x1
)

// helloStreamID is the stream id a Hello frame travels on: odd, so that
// containerd/ttrpc servers ignore it, and never the id of a stream.
const helloStreamID = 1

// frameHeader is the decoded form of the 10-byte header.
type frameHeader struct {
	length   uint32 // body length in bytes, header excluded
	streamID uint32
	typ      frameType
	flags    frameFlags
}

// encode writes h into b[:frameHeaderLength].
func (h frameHeader) encode(b []byte) {
	_ = b[frameHeaderLength-1]
	binary.BigEndian.PutUint32(b[0:4], h.length)
	binary.BigEndian.PutUint32(b[4:8], h.streamID)
	b[8] = byte(h.typ)
	b[9] = byte(h.flags)
}

// decodeFrameHeader reads a header from b[:frameHeaderLength].
func decodeFrameHeader(b []byte) frameHeader {
	_ = b[frameHeaderLength-1]
	return frameHeader{
		length:   binary.BigEndian.Uint32(b[0:4]),
		streamID: binary.BigEndian.Uint32(b[4:8]),
		typ:      frameType(b[8]),
		flags:    frameFlags(b[9]),
	}
}

// frameReader reads frames from one connection. It is used by the
// connection's single reader goroutine only.
type frameReader struct {
	br             *bufio.Reader
	hdr            [frameHeaderLength]byte
	maxMessageSize int // bodies above this are discarded, never allocated
}

// readBufferSize covers a header plus a small body in one read syscall while
// keeping an idle connection cheap.
const readBufferSize = 4 << 10

func newFrameReader(r io.Reader, maxMessageSize int) *frameReader {
	return &frameReader{br: newBufReader(r), maxMessageSize: maxMessageSize}
}

func newBufReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, readBufferSize) }

// oversizeError reports a frame whose body was larger than the limit; its
// body was discarded, so the connection is still in sync.
type oversizeError struct {
	header frameHeader
	limit  int
}

func (e *oversizeError) Error() string {
	return fmt.Sprintf("message length %d exceed maximum message size of %d", e.header.length, e.limit)
}

// next reads one frame. The body is a pooled buffer the caller owns and
// should release with putBuffer; a zero-length body is nil. An
// *oversizeError means the frame was skipped and reading may go on; any
// other error means the connection is unusable.
func (fr *frameReader) next() (frameHeader, *[]byte, error) {
	if _, err := io.ReadFull(fr.br, fr.hdr[:]); err != nil {
		return frameHeader{}, nil, err
	}
	h := decodeFrameHeader(fr.hdr[:])
	if int64(h.length) > int64(fr.maxMessageSize) {
		if _, err := fr.br.Discard(int(h.length)); err != nil {
			return h, nil, fmt.Errorf("ttrpc: discarding oversized frame: %w", noEOF(err))
		}
		return h, nil, &oversizeError{header: h, limit: fr.maxMessageSize}
	}
	if h.length == 0 {
		return h, nil, nil
	}
	buf, err := fr.readBody(int(h.length))
	if err != nil {
		return h, nil, noEOF(err)
	}
	return h, buf, nil
}

// eagerBodySize is the largest body allocated in full when its header
// arrives. Larger bodies grow as their bytes come in, so that a peer that
// announces big frames and sends nothing costs little memory.
const eagerBodySize = 64 << 10

// readBody reads a body of n bytes into a pooled buffer.
func (fr *frameReader) readBody(n int) (*[]byte, error) {
	buf := getBuffer(min(n, eagerBodySize))
	read := 0
	for {
		m, err := io.ReadFull(fr.br, (*buf)[read:])
		read += m
		if err != nil {
			putBuffer(buf)
			return nil, err
		}
		if read == n {
			return buf, nil
		}
		grown := getBuffer(min(n, 4*len(*buf)))
		copy(*grown, (*buf)[:read])
		putBuffer(buf)
		buf = grown
	}
}

// noEOF turns a clean EOF in the middle of a frame into ErrUnexpectedEOF:
// the peer went away while a frame was announced.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Buffers are pooled in size classes of powers of two so that a pooled
// buffer is never much larger than the frame it carries.
const (
	minBufferClass = 6  // 64 B
	maxBufferClass = 24 // 16 MiB
)

var bufferPools [maxBufferClass + 1]sync.Pool

func bufferClass(n int) int {
	c := minBufferClass
	for 1<<c < n {
		c++
	}
	return c
}

// getBuffer returns a pooled buffer of length n.
func getBuffer(n int) *[]byte {
	c := bufferClass(n)
	if c > maxBufferClass {
		b := make([]byte, n)
		return &b
	}
	if v := bufferPools[c].Get(); v != nil {
		b := v.(*[]byte)
		*b = (*b)[:n]
		return b
	}
	b := make([]byte, n, 1<<c)
	return &b
}

// putBuffer returns a buffer to the pool of the largest class its capacity
// covers, so that buffers grown by append are reused too. nil is allowed.
func putBuffer(b *[]byte) {
	if b == nil {
		return
	}
	c := cap(*b)
	if c < 1<<minBufferClass || c > 1<<maxBufferClass {
		return
	}
	class := bits.Len(uint(c)) - 1 // floor(log2(c)): every buffer there holds 1<<class
	*b = (*b)[:0]
	bufferPools[class].Put(b)
}

// frameWriter serialises frames onto one connection without holding a lock
// across I/O. The first writer to find the connection idle writes its frame
// itself (no copy, no goroutine switch); writers arriving while it is busy
// append their frames to pending and return, and the busy writer flushes
// them in one write before it leaves. pending is bounded; writers wait for
// room with their context.
type frameWriter struct {
	nc net.Conn

	mu sync.Mutex
	// flushing is true while one goroutine owns the connection for writing;
	// it alone touches nc and writeDeadline.
	flushing bool
	// pending holds complete frames, in order, waiting for the flusher. Its
	// buffer comes from the shared pool and goes back after the write, so
	// an idle connection holds none.
	pending []byte
	// room, when non-nil, is closed when pending is taken by the flusher;
	// writers waiting for room create it.
	room chan struct{}
	// err is sticky: once a write failed the byte stream is broken.
	err error
	// nextStreamID is the id of the next stream this side opens; it lives
	// here because ids must reach the wire in increasing order.
	nextStreamID uint32

	writeDeadline time.Time // owned by the flusher
	// stallTimeout, when set, bounds how long a write may make no progress.
	stallTimeout time.Duration

	// idle, when non-nil, is closed when the flusher finishes (waitIdle).
	idle chan struct{}

	// broken is called (once, without mu) when a write fails for a reason
	// other than a deadline: the connection must end, since nobody else
	// may notice (a background flush has no caller to report to).
	broken func(error)
}

// pendingLimit bounds what writers may queue behind a busy flusher.
const pendingLimit = 1 << 20

func newFrameWriter(nc net.Conn, firstStreamID uint32) *frameWriter {
	return &frameWriter{nc: nc, nextStreamID: firstStreamID}
}

// errStreamIDsExhausted is returned once a connection has used up its ids.
var errStreamIDsExhausted = fmt.Errorf("ttrpc: stream ids exhausted on this connection: %w", ErrClosed)

// write sends one complete frame (header included). If assignID is not nil
// the frame opens a stream: a fresh stream id is written into its header and
// passed to assignID before the frame can reach the wire, so ids appear on
// the wire in increasing order. The frame buffer may be reused once write
// returns. A write that cannot start or finish before the deadline returns
// os.ErrDeadlineExceeded; a frame it had begun is still completed by a
// background flush, so the connection stays in sync.
func (w *frameWriter) write(frame []byte, deadline time.Time, done <-chan struct{}, assignID func(uint32) error) error {
	if err := w.lockWithRoom(len(frame), deadline, done); err != nil {
		return err
	}
	if assignID != nil {
		id := w.nextStreamID
		if id == 0 || id > 1<<31 {
			w.mu.Unlock()
			return errStreamIDsExhausted
		}
		if err := assignID(id); err != nil {
			w.mu.Unlock()
			return err
		}
		w.nextStreamID += 2
		binaryPutStreamID(frame, id)
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

// queue sends frame like write, but never writes in the caller's
// goroutine: the frame is queued for a background flusher. Streams use it
// for their messages, so that a sender producing many frames is not held
// by one syscall per frame and its frames leave in batches.
func (w *frameWriter) queue(frame []byte, deadline time.Time, done <-chan struct{}) error {
	if err := w.lockWithRoom(len(frame), deadline, done); err != nil {
		return err
	}
	w.queueLocked(frame)
	w.mu.Unlock()
	return nil
}

// queueLocked appends frame to pending and makes sure a flusher runs.
// Called with mu held.
func (w *frameWriter) queueLocked(frame []byte) {
	w.appendPendingLocked(frame)
	if !w.flushing {
		w.flushing = true
		go w.flushBackground()
	}
}

// lockWithRoom locks mu once pending has room for n more bytes (or is
// empty), and the writer is not broken. On error mu is not held.
func (w *frameWriter) lockWithRoom(n int, deadline time.Time, done <-chan struct{}) error {
	w.mu.Lock()
	for w.flushing && len(w.pending) > 0 && len(w.pending)+n > pendingLimit && w.err == nil {
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
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
	}
	return nil
}

func binaryPutStreamID(frame []byte, id uint32) {
	binary.BigEndian.PutUint32(frame[4:8], id)
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

// errWaitAbandoned reports that a writer stopped waiting for room because
// its done channel (its context) closed; callers map it to the context's
// error.
var errWaitAbandoned = errors.New("ttrpc: gave up waiting to write")

// flush writes first (the caller's own frame, or nil) and then whatever is
// pending, until nothing is. The caller owns the flushing role on entry;
// flush gives it up (or hands it to a background goroutine) before
// returning.
func (w *frameWriter) flush(first []byte, deadline time.Time) error {
	if first != nil {
		if n, err := w.writeWithDeadline(first, deadline); err != nil {
			return w.flushFailed(first[n:], n == 0, err)
		}
	}
	for {
		w.mu.Lock()
		if len(w.pending) == 0 {
			w.stopFlushing()
			w.mu.Unlock()
			return nil
		}
		buf := w.takePendingLocked()
		w.mu.Unlock()
		n, err := w.writeWithDeadline(buf, deadline)
		if err != nil {
			return w.flushFailed(buf[n:], false, err)
		}
		putBuffer(&buf)
	}
}

// flushBackground is flush for a goroutine of its own, without a deadline.
func (w *frameWriter) flushBackground() { _ = w.flush(nil, time.Time{}) }

// appendPendingLocked queues frame, growing pending through the buffer
// pool. Called with mu held.
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

func (w *frameWriter) writeWithDeadline(buf []byte, deadline time.Time) (int, error) {
	written := 0
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

// errWriteStalled breaks a connection whose peer took nothing for a whole
// stall timeout: it has stopped reading.
var errWriteStalled = errors.New("ttrpc: peer stopped reading (write stalled)")

// flushFailed handles a failed write whose unwritten part is rest;
// ownUnwritten says rest is the whole of the caller's own frame. A deadline
// only abandons this writer: unwritten bytes go back to the head of pending
// and a background goroutine finishes them without a deadline, so no frame
// is ever cut in half (a frame of the caller's that was not begun is
// dropped instead). Any other error breaks the connection.
func (w *frameWriter) flushFailed(rest []byte, ownUnwritten bool, err error) error {
	if !isTimeout(err) {
		w.mu.Lock()
		first := w.err == nil
		w.failLocked(fmt.Errorf("ttrpc: write failed: %w", err))
		err = w.err
		w.mu.Unlock()
		if first && w.broken != nil {
			w.broken(err)
		}
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !ownUnwritten && len(rest) > 0 {
		queued := w.pending
		w.pending = nil
		w.appendPendingLocked(rest)
		w.appendPendingLocked(queued)
	}
	if len(w.pending) > 0 {
		go w.flushBackground() // keeps the flushing role
	} else {
		w.stopFlushing()
	}
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

// takePendingLocked detaches pending for writing and wakes writers waiting
// for room. Called with mu held.
func (w *frameWriter) takePendingLocked() []byte {
	buf := w.pending
	w.pending = nil
	w.wakeRoomLocked()
	return buf
}

func (w *frameWriter) wakeRoomLocked() {
	if w.room != nil {
		close(w.room)
		w.room = nil
	}
}

// asyncQueueLimit bounds the write queue for frames the reader goroutine
// answers with itself (status replies), on top of what writers queue: room
// for thousands of replies behind a full queue.
const asyncQueueLimit = 2 * pendingLimit

// writeAsync queues frame without ever blocking the caller: the reader
// goroutine uses it for status replies, and must keep reading even when the
// peer does not. It reports false, and queues nothing, when the queue is
// over asyncQueueLimit: the peer has left that much unread and still sends
// frames that need answers.
func (w *frameWriter) writeAsync(frame []byte) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return true // the connection is ending; its calls end with it
	}
	if len(w.pending)+len(frame) > asyncQueueLimit {
		return false
	}
	w.queueLocked(frame)
	return true
}

// fail marks the writer broken so that queued and future writes return err.
func (w *frameWriter) fail(err error) {
	w.mu.Lock()
	w.failLocked(err)
	w.mu.Unlock()
}

func (w *frameWriter) failLocked(err error) {
	if w.err == nil {
		w.err = err
	}
	w.pending = nil
	w.wakeRoomLocked()
	w.stopFlushing()
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// beginFrame reserves room for a frame header at the end of b and returns
// the offset of the frame.
func beginFrame(b []byte) ([]byte, int) {
	return append(b, make([]byte, frameHeaderLength)...), len(b)
}

// finishFrame writes the header of the frame starting at start, whose body
// is the rest of b.
func finishFrame(b []byte, start int, id uint32, t frameType, f frameFlags) []byte {
	frameHeader{
		length:   uint32(len(b) - start - frameHeaderLength),
		streamID: id,
		typ:      t,
		flags:    f,
	}.encode(b[start:])
	return b
}

// bodyLength is the body length of the frame starting at start.
func bodyLength(b []byte, start int) int { return len(b) - start - frameHeaderLength }
