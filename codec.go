package ttrpc

import (
	"fmt"
	"reflect"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/runtime/protoiface"
	"google.golang.org/protobuf/runtime/protoimpl"
)

// The codec accepts three kinds of message, picked by type assertion (no
// reflection on the hot path):
//   - google.golang.org/protobuf messages (proto.Message);
//   - gogo-generated messages, through the Size/MarshalToSizedBuffer,
//     Marshal and Unmarshal methods gogo's marshaler plugins generate;
//   - any other message with the legacy Reset/String/ProtoMessage methods
//     (gogo or golang/protobuf v1 without generated marshalers), through
//     protobuf-go's struct-tag based legacy wrapper.
// The root package never imports gogo: the methods are found by interface.

type sizedMarshaler interface {
	Size() int
	MarshalToSizedBuffer([]byte) (int, error)
}

type bytesMarshaler interface {
	Marshal() ([]byte, error)
}

type bytesUnmarshaler interface {
	Unmarshal([]byte) error
}

// measured is a message whose encoded size is known, so that the caller can
// take a buffer of the right size and marshal into it without a second walk.
type measured struct {
	size int
	pm   proto.Message  // protobuf-go (or wrapped legacy) messages
	sm   sizedMarshaler // gogo messages with generated marshalers
	data []byte         // messages that only marshal themselves
}

// measure sizes m for appendTo. For protobuf-go messages it fills the size
// cache that appendTo then relies on, so the two must follow each other.
func measure(m any) (measured, error) {
	if pm, ok := m.(proto.Message); ok {
		if pm == nil || !pm.ProtoReflect().IsValid() {
			return measured{}, errMarshalNil
		}
		return measured{size: proto.Size(pm), pm: pm}, nil
	}
	if isNil(m) {
		return measured{}, errMarshalNil
	}
	switch m := m.(type) {
	case sizedMarshaler:
		return measured{size: m.Size(), sm: m}, nil
	case bytesMarshaler:
		data, err := m.Marshal()
		return measured{size: len(data), data: data}, err
	case protoiface.MessageV1:
		pm := protoimpl.X.ProtoMessageV2Of(m)
		return measured{size: proto.Size(pm), pm: pm}, nil
	}
	return measured{}, fmt.Errorf("ttrpc: cannot marshal unknown type: %T", m)
}

// appendTo appends the measured message's encoding to b.
func (mm measured) appendTo(b []byte) ([]byte, error) {
	switch {
	case mm.pm != nil:
		return proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(b, mm.pm)
	case mm.sm != nil:
		start := len(b)
		b = grow(b, mm.size)
		written, err := mm.sm.MarshalToSizedBuffer(b[start : start+mm.size])
		if err != nil {
			return b[:start], err
		}
		if written != mm.size {
			// MarshalToSizedBuffer fills the buffer from its end.
			copy(b[start:], b[start+mm.size-written:start+mm.size])
			b = b[:start+written]
		}
		return b, nil
	}
	return append(b, mm.data...), nil
}

// appendMessage appends m's wire encoding to b.
func appendMessage(b []byte, m any) ([]byte, error) {
	mm, err := measure(m)
	if err != nil {
		return b, err
	}
	return mm.appendTo(b)
}

// unmarshalMessage replaces the contents of m with the message in data.
func unmarshalMessage(data []byte, m any) error {
	if pm, ok := m.(proto.Message); ok && pm != nil {
		return proto.Unmarshal(data, pm)
	}
	if isNil(m) {
		return fmt.Errorf("ttrpc: cannot unmarshal into nil %T", m)
	}
	switch m := m.(type) {
	case bytesUnmarshaler:
		if r, ok := m.(interface{ Reset() }); ok {
			r.Reset()
		}
		return m.Unmarshal(data)
	case protoiface.MessageV1:
		return proto.Unmarshal(data, protoimpl.X.ProtoMessageV2Of(m))
	}
	return fmt.Errorf("ttrpc: cannot unmarshal into unknown type: %T", m)
}

// grow extends b by n bytes, reallocating at most once.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) < n {
		nb := make([]byte, len(b), len(b)+n)
		copy(nb, b)
		b = nb
	}
	return b[:len(b)+n]
}

func isNil(m any) bool {
	if m == nil {
		return true
	}
	v := reflect.ValueOf(m)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
