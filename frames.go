package ttrpc

import (
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
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
func (c *conn) appendPayloadResponseFrame(b []byte, id uint32, msg any) ([]byte, error) {
	b, start := beginFrame(b)
	b = protowire.AppendTag(b, fieldResponsePayload, protowire.BytesType)
	fieldStart := len(b)
	b, err := appendLengthPrefixed(b, msg)
	if err != nil {
		return b[:start], err
	}
	if len(b) == fieldStart+1 && b[fieldStart] == 0 {
		b = b[:start+frameHeaderLength] // an empty payload is left out, as proto3 does
	}
	if n := bodyLength(b, start); n > c.cfg.maxMessageSize {
		return b[:start], newOversizedMessageErr(n, c.cfg.maxMessageSize)
	}
	return finishFrame(b, start, id, frameResponse, 0), nil
}

// appendDataFrame appends a Data frame carrying msg; a nil msg sends an
// empty message.
func (c *conn) appendDataFrame(b []byte, id uint32, flags frameFlags, msg any) ([]byte, error) {
	b, start := beginFrame(b)
	if msg != nil {
		var err error
		if b, err = appendMessage(b, msg); err != nil {
			return b[:start], err
		}
	}
	if n := bodyLength(b, start); n > c.cfg.maxMessageSize {
		return b[:start], newOversizedMessageErr(n, c.cfg.maxMessageSize)
	}
	return finishFrame(b, start, id, frameData, flags), nil
}

// appendLengthPrefixed appends msg as a length-delimited field value,
// sizing it first so that it is marshalled in place rather than copied.
func appendLengthPrefixed(b []byte, msg any) ([]byte, error) {
	switch m := msg.(type) {
	case proto.Message:
		if m == nil || !m.ProtoReflect().IsValid() {
			return b, errMarshalNil
		}
		b = protowire.AppendVarint(b, uint64(proto.Size(m)))
		return proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(b, m)
	case sizedMarshaler:
		if isNil(m) {
			return b, errMarshalNil
		}
		b = protowire.AppendVarint(b, uint64(m.Size()))
		return appendMessage(b, m)
	}
	data, err := appendMessage(nil, msg)
	if err != nil {
		return b, err
	}
	return protowire.AppendBytes(b, data), nil
}
