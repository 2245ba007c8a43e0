package ttrpc

import (
	"encoding/binary"
	"fmt"
	"io"
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
// connection's single reader goroutine only. A frame is read in two steps,
// header first, so that the reader can decide what the body is worth
// (deliver it, wait for budget, or skip it) before allocating for it.
type frameReader struct {
	br             *connReader
	hdr            [frameHeaderLength]byte
	maxMessageSize int // bodies above this are skipped, never allocated
}

// readBufferSize covers a header plus a small body in one read syscall while
// keeping an idle connection cheap. It is also the smallest read the
// connection ever sees, which transports that fail reads shorter than
// their next packet (NRI's multiplexer) rely on.
const readBufferSize = 4 << 10

func newFrameReader(r io.Reader, maxMessageSize int) *frameReader {
	return &frameReader{br: newConnReader(r), maxMessageSize: maxMessageSize}
}

// oversizeError reports a frame whose body was larger than the limit; its
// body was skipped, so the connection is still in sync.
type oversizeError struct {
	header frameHeader
	limit  int
}

func (e *oversizeError) Error() string {
	return fmt.Sprintf("message length %d exceed maximum message size of %d", e.header.length, e.limit)
}

// readHeader reads the next frame header. A frame over the size limit has
// its body skipped at once and is reported as an *oversizeError, after
// which reading may go on; any other error means the connection is
// unusable.
func (fr *frameReader) readHeader() (frameHeader, error) {
	if _, err := io.ReadFull(fr.br, fr.hdr[:]); err != nil {
		return frameHeader{}, err
	}
	h := decodeFrameHeader(fr.hdr[:])
	if int64(h.length) > int64(fr.maxMessageSize) {
		if err := fr.skipBody(h); err != nil {
			return h, err
		}
		return h, &oversizeError{header: h, limit: fr.maxMessageSize}
	}
	return h, nil
}

// skipBody discards the body of the frame whose header was just read.
func (fr *frameReader) skipBody(h frameHeader) error {
	if err := fr.br.discard(int(h.length)); err != nil {
		return fmt.Errorf("ttrpc: skipping a frame body: %w", noEOF(err))
	}
	return nil
}

// next reads one whole frame (header and body); see readHeader and
// readBody.
func (fr *frameReader) next() (frameHeader, *[]byte, error) {
	h, err := fr.readHeader()
	if err != nil {
		return h, nil, err
	}
	body, err := fr.readBody(h)
	return h, body, err
}

// eagerBodySize is the largest body allocated in full when its header
// arrives. Larger bodies grow as their bytes come in, so that a peer that
// announces big frames and sends nothing costs little memory.
const eagerBodySize = 64 << 10

// readBody reads the body of the frame whose header was just read into a
// pooled buffer the caller owns; a zero-length body is nil.
func (fr *frameReader) readBody(h frameHeader) (*[]byte, error) {
	n := int(h.length)
	if n == 0 {
		return nil, nil
	}
	buf := getBuffer(min(n, eagerBodySize))
	read := 0
	for {
		m, err := io.ReadFull(fr.br, (*buf)[read:])
		read += m
		if err != nil {
			putBuffer(buf)
			return nil, noEOF(err)
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
