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

// appendMessage appends m's wire encoding to b.
func appendMessage(b []byte, m any) ([]byte, error) {
	if pm, ok := m.(proto.Message); ok {
		if pm == nil || !pm.ProtoReflect().IsValid() {
			return b, errMarshalNil
		}
		return proto.MarshalOptions{}.MarshalAppend(b, pm)
	}
	if isNil(m) {
		return b, errMarshalNil
	}
	switch m := m.(type) {
	case sizedMarshaler:
		n := m.Size()
		start := len(b)
		b = grow(b, n)
		written, err := m.MarshalToSizedBuffer(b[start : start+n])
		if err != nil {
			return b[:start], err
		}
		if written != n {
			// MarshalToSizedBuffer fills the buffer from its end.
			copy(b[start:], b[start+n-written:start+n])
			b = b[:start+written]
		}
		return b, nil
	case bytesMarshaler:
		data, err := m.Marshal()
		if err != nil {
			return b, err
		}
		return append(b, data...), nil
	case protoiface.MessageV1:
		return proto.MarshalOptions{}.MarshalAppend(b, protoimpl.X.ProtoMessageV2Of(m))
	}
	return b, fmt.Errorf("ttrpc: cannot marshal unknown type: %T", m)
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
