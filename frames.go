package ttrpc

import (
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// Builders for the frames this library sends. Each appends one complete
// frame (header and body) to b, so a frame is written with a single write.
// A body larger than the connection's limit is refused here, before any
// byte is sent: the caller gets an *OversizedMessageErr and the connection
// is untouched.

// appendRequestFrame appends a Request frame; its stream id is filled in by
// the writer when the stream is opened.
func appendRequestFrame(b []byte, r *Request, flags frameFlags, limit int) ([]byte, error) {
	b, start := beginFrame(b)
	b = appendRequest(b, r)
	if n := bodyLength(b, start); n > limit {
		return b[:start], newOversizedMessageErr(n, limit)
	}
	return finishFrame(b, start, 0, frameRequest, flags), nil
}

// appendResponseFrame appends a Response frame with a status and payload.
func appendResponseFrame(b []byte, id uint32, st *spb.Status, payload []byte) ([]byte, error) {
	b, start := beginFrame(b)
	b, err := appendResponse(b, st, payload)
	return finishFrame(b, start, id, frameResponse, 0), err
}

// appendPayloadResponseFrame appends a successful Response carrying msg,
// marshalled straight into the frame.
func appendPayloadResponseFrame(b []byte, id uint32, mm measured, limit int) ([]byte, error) {
	b, start := beginFrame(b)
	if mm.size > 0 { // an empty payload is left out, as proto3 does
		b = protowire.AppendTag(b, fieldResponsePayload, protowire.BytesType)
		var err error
		if b, err = appendLengthPrefixed(b, mm); err != nil {
			return b[:start], err
		}
	}
	if n := bodyLength(b, start); n > limit {
		return b[:start], newOversizedMessageErr(n, limit)
	}
	return finishFrame(b, start, id, frameResponse, 0), nil
}

// appendDataFrame appends a Data frame carrying a measured message.
func appendDataFrame(b []byte, id uint32, flags frameFlags, mm measured, limit int) ([]byte, error) {
	b, start := beginFrame(b)
	b, err := mm.appendTo(b)
	if err != nil {
		return b[:start], err
	}
	if n := bodyLength(b, start); n > limit {
		return b[:start], newOversizedMessageErr(n, limit)
	}
	return finishFrame(b, start, id, frameData, flags), nil
}

// appendLengthPrefixed appends a measured message as a length-delimited
// field value, marshalled in place rather than copied.
func appendLengthPrefixed(b []byte, mm measured) ([]byte, error) {
	b = protowire.AppendVarint(b, uint64(mm.size))
	return mm.appendTo(b)
}

// requestSize is the encoded size of r's envelope.
func requestSize(r *Request) int {
	return requestEnvelopeSize(r.Service, r.Method, len(r.Payload), r.TimeoutNano, r.Metadata)
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
