package ttrpc

import (
	"bytes"
	"errors"
	"testing"

	gogotypes "github.com/gogo/protobuf/types"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// legacyMessage is a message with only the v1 methods and struct tags, as
// gogo generates without its marshaler plugins.
type legacyMessage struct {
	Value string `protobuf:"bytes,1,opt,name=value,proto3" json:"value,omitempty"`
}

func (m *legacyMessage) Reset()         { *m = legacyMessage{} }
func (m *legacyMessage) String() string { return m.Value }
func (*legacyMessage) ProtoMessage()    {}

// Every kind of message encodes to the same bytes as protobuf-go's
// StringValue, and decodes from them.
func TestCodecMessageKinds(t *testing.T) {
	want, _ := proto.Marshal(wrapperspb.String("hello"))
	for _, tc := range []struct {
		name string
		msg  any
		zero func() any
		get  func(any) string
	}{
		{"protobuf-go", wrapperspb.String("hello"), func() any { return &wrapperspb.StringValue{} }, func(m any) string { return m.(*wrapperspb.StringValue).Value }},
		{"gogo generated", &gogotypes.StringValue{Value: "hello"}, func() any { return &gogotypes.StringValue{Value: "stale"} }, func(m any) string { return m.(*gogotypes.StringValue).Value }},
		{"legacy v1", &legacyMessage{Value: "hello"}, func() any { return &legacyMessage{} }, func(m any) string { return m.(*legacyMessage).Value }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := appendMessage([]byte("prefix"), tc.msg)
			if err != nil || !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Fatalf("appendMessage: % x %v", got, err)
			}
			mm, err := measure(tc.msg)
			if err != nil || mm.size != len(want) {
				t.Fatalf("measure: %d %v", mm.size, err)
			}
			lp, err := appendLengthPrefixed(nil, mm)
			if err != nil || int(lp[0]) != len(want) || !bytes.Equal(lp[1:], want) {
				t.Fatalf("appendLengthPrefixed: % x %v", lp, err)
			}
			m := tc.zero()
			if err := unmarshalMessage(want, m); err != nil || tc.get(m) != "hello" {
				t.Fatalf("unmarshalMessage: %v %q", err, tc.get(m))
			}
		})
	}
}

func TestCodecRejects(t *testing.T) {
	var nilProto *wrapperspb.StringValue
	var nilGogo *gogotypes.StringValue
	for _, m := range []any{nil, nilProto, nilGogo} {
		if _, err := appendMessage(nil, m); !errors.Is(err, errMarshalNil) {
			t.Errorf("appendMessage(%T nil) = %v", m, err)
		}
	}
	if _, err := appendMessage(nil, "not a message"); err == nil {
		t.Error("a string was marshalled")
	}
	if err := unmarshalMessage(nil, new(int)); err == nil {
		t.Error("unmarshalled into *int")
	}
	if err := unmarshalMessage([]byte{0xff}, &wrapperspb.StringValue{}); err == nil {
		t.Error("garbage unmarshalled")
	}
}

func BenchmarkCodec(b *testing.B) {
	buf := make([]byte, 0, 64)
	for _, tc := range []struct {
		name string
		msg  any
	}{
		{"protobuf-go", wrapperspb.Bytes(make([]byte, 16))},
		{"gogo", &gogotypes.BytesValue{Value: make([]byte, 16)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = appendMessage(buf[:0], tc.msg)
			}
		})
	}
}
