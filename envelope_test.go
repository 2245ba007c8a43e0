package ttrpc

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The hand-written envelope codec must produce exactly what proto.Marshal
// produces for the generated types, and read back what it reads.
func TestEnvelopeMatchesProtobuf(t *testing.T) {
	requests := []*Request{
		{},
		{Service: "svc", Method: "Echo"},
		{Service: "pkg.v1.Service", Method: "Method", Payload: []byte{1, 2, 3}, TimeoutNano: 1e9},
		{Service: "s", Method: "m", TimeoutNano: -5},
		{Service: "s", Method: "m", Payload: bytes.Repeat([]byte("x"), 300), Metadata: []*KeyValue{
			{Key: "a", Value: "1"}, {Key: "a", Value: "2"}, {Key: "", Value: "v"}, {Key: "k", Value: ""},
		}},
	}
	for i, r := range requests {
		want, err := proto.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendRequest(nil, r); !bytes.Equal(got, want) {
			t.Errorf("request %d: appendRequest\n got % x\nwant % x", i, got, want)
		}
		var v requestView
		if err := decodeRequest(want, &v); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if string(v.service) != r.Service || string(v.method) != r.Method || !bytes.Equal(v.payload, r.Payload) || v.timeoutNano != r.TimeoutNano {
			t.Errorf("request %d decoded as %+v", i, v)
		}
		if v.hasMetadata != (len(r.Metadata) > 0) {
			t.Errorf("request %d: hasMetadata %v", i, v.hasMetadata)
		}
		md, err := decodeRequestMetadata(want)
		if err != nil {
			t.Fatalf("request %d: metadata: %v", i, err)
		}
		for _, kv := range r.Metadata {
			if !contains(md[kv.Key], kv.Value) {
				t.Errorf("request %d: metadata %q=%q lost: %v", i, kv.Key, kv.Value, md)
			}
		}
	}

	detail, _ := anypb.New(wrapperspb.String("detail"))
	responses := []*Response{
		{},
		{Payload: []byte("payload")},
		{Status: &spb.Status{Code: 5, Message: "not found"}},
		{Status: &spb.Status{Code: 3, Message: "bad", Details: []*anypb.Any{detail}}, Payload: []byte{9}},
	}
	for i, r := range responses {
		want, err := proto.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendResponse(nil, r.Status, r.Payload)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("response %d: appendResponse\n got % x (%v)\nwant % x", i, got, err, want)
		}
		var v responseView
		if err := decodeResponse(want, &v); err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		if !proto.Equal(v.status, r.Status) || !bytes.Equal(v.payload, r.Payload) {
			t.Errorf("response %d decoded as %v / % x", i, v.status, v.payload)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestEnvelopeRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{
		{0x0a},             // tag, no length
		{0x0a, 0x05, 'a'},  // length past the end
		{0xff, 0xff, 0xff}, // truncated varint tag
		{0x22, 0x01},       // unknown bytes field past the end
		{0x2a, 0x02, 0x0a}, // metadata entry with a truncated key
	} {
		var rv requestView
		if err := decodeRequest(b, &rv); !errors.Is(err, errMalformedEnvelope) {
			t.Errorf("decodeRequest(% x) = %v, want a malformed-envelope error", b, err)
		}
		var sv responseView
		if err := decodeResponse(b, &sv); err == nil && len(b) > 2 && b[0] == 0x0a {
			t.Errorf("decodeResponse(% x) accepted garbage", b)
		}
	}
	// Unknown fields are skipped, as protobuf requires.
	var rv requestView
	if err := decodeRequest([]byte{0x30, 0x01, 0x0a, 0x01, 's'}, &rv); err != nil || string(rv.service) != "s" {
		t.Errorf("unknown field: %v %q", err, rv.service)
	}
}

func BenchmarkEnvelope(b *testing.B) {
	r := &Request{Service: "pkg.v1.Service", Method: "Method", Payload: make([]byte, 16), TimeoutNano: 1e9}
	buf := make([]byte, 0, 256)
	b.Run("appendRequest", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf = appendRequest(buf[:0], r)
		}
	})
	b.Run("proto.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = proto.MarshalOptions{}.MarshalAppend(buf[:0], r)
		}
	})
	enc := appendRequest(nil, r)
	b.Run("decodeRequest", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v requestView
			if err := decodeRequest(enc, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proto.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v Request
			if err := proto.Unmarshal(enc, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	_ = fmt.Sprint()
}
