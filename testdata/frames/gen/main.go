//go:build ignore

// Command gen writes the golden frame files of testdata/frames.
//
// It encodes every frame by hand with protowire instead of using the
// library's own types, so that the files are an independent statement of
// the wire format that the library's tests can be checked against.
//
// Run from the repository root:
//
//	go run ./testdata/frames/gen/main.go
package main

import (
	"encoding/binary"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/encoding/protowire"
)

const (
	typeRequest  = 0x1
	typeResponse = 0x2
	typeData     = 0x3

	flagRemoteClosed = 0x1
	flagRemoteOpen   = 0x2
	flagNoData       = 0x4

	codeResourceExhausted = 8
	codeUnimplemented     = 12
)

// frame prepends the 10-byte header to data.
func frame(streamID uint32, typ, flags byte, data []byte) []byte {
	b := make([]byte, 10, 10+len(data))
	binary.BigEndian.PutUint32(b[0:4], uint32(len(data)))
	binary.BigEndian.PutUint32(b[4:8], streamID)
	b[8] = typ
	b[9] = flags
	return append(b, data...)
}

func str(b []byte, num protowire.Number, s string) []byte {
	if s == "" { // proto3 leaves default values out
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func byts(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func varint(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// stringValue encodes google.protobuf.StringValue{value: s}.
func stringValue(s string) []byte { return str(nil, 1, s) }

type kv struct{ key, value string }

// request encodes ttrpc.Request.
func request(service, method string, payload []byte, timeoutNano int64, md ...kv) []byte {
	var b []byte
	b = str(b, 1, service)
	b = str(b, 2, method)
	b = byts(b, 3, payload)
	b = varint(b, 4, uint64(timeoutNano))
	for _, e := range md {
		var m []byte
		m = str(m, 1, e.key)
		m = str(m, 2, e.value)
		b = protowire.AppendTag(b, 5, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	}
	return b
}

// response encodes ttrpc.Response; code 0 means success, which carries no
// status field at all.
func response(code int32, message string, payload []byte) []byte {
	var b []byte
	if code != 0 || message != "" {
		var st []byte
		st = varint(st, 1, uint64(code))
		st = str(st, 2, message)
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, st)
	}
	return byts(b, 2, payload)
}

func main() {
	dir := "testdata/frames"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	hi := stringValue("hi")
	files := []struct {
		name string
		data []byte
	}{
		{"unary_request.bin", frame(1, typeRequest, 0, request("svc", "Echo", hi, 0))},
		{"unary_request_full.bin", frame(1, typeRequest, 0, request("svc", "Echo", hi, 1_000_000_000, kv{"foo", "bar"}))},
		{"response_ok.bin", frame(1, typeResponse, 0, response(0, "", hi))},
		{"response_unimplemented.bin", frame(1, typeResponse, 0, response(codeUnimplemented, "service svc", nil))},
		{"response_resource_exhausted.bin", frame(1, typeResponse, 0, response(codeResourceExhausted,
			"message length 4194305 exceed maximum message size of 4194304", nil))},
		{"server_stream_request.bin", frame(3, typeRequest, flagRemoteClosed, request("svc", "ServerStream", hi, 0))},
		{"data.bin", frame(3, typeData, 0, hi)},
		{"data_empty.bin", frame(3, typeData, 0, nil)},
		{"data_close.bin", frame(3, typeData, flagRemoteClosed|flagNoData, nil)},
		{"client_stream_request.bin", frame(5, typeRequest, flagRemoteOpen, request("svc", "ClientStream", nil, 0))},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-34s % x\n", f.name, f.data)
	}
}
