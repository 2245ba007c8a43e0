package ttrpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Header layout, PROTOCOL.md "Framing": big-endian length, big-endian
// stream id, type, flags.
func TestFrameHeaderEncoding(t *testing.T) {
	for _, tc := range []struct {
		h    frameHeader
		wire []byte
	}{
		{frameHeader{0, 1, frameRequest, 0}, []byte{0, 0, 0, 0, 0, 0, 0, 1, 1, 0}},
		{frameHeader{0x25, 1, frameRequest, 0}, []byte{0, 0, 0, 0x25, 0, 0, 0, 1, 1, 0}},
		{frameHeader{4 << 20, 0x7fffffff, frameResponse, 0}, []byte{0, 0x40, 0, 0, 0x7f, 0xff, 0xff, 0xff, 2, 0}},
		{frameHeader{0, 3, frameData, flagRemoteClosed | flagNoData}, []byte{0, 0, 0, 0, 0, 0, 0, 3, 3, 5}},
		{frameHeader{0xffffffff, 0xffffffff, 0xff, 0xff}, bytes.Repeat([]byte{0xff}, 10)},
	} {
		var b [frameHeaderLength]byte
		tc.h.encode(b[:])
		if !bytes.Equal(b[:], tc.wire) {
			t.Errorf("%+v encodes as % x, want % x", tc.h, b, tc.wire)
		}
		if got := decodeFrameHeader(tc.wire); got != tc.h {
			t.Errorf("% x decodes as %+v, want %+v", tc.wire, got, tc.h)
		}
	}
}

func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "frames", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The frames this library builds match the golden frames byte for byte
// (testdata/frames/README.md says how each was checked against
// containerd/ttrpc).
func TestGoldenFrames(t *testing.T) {
	hi := wrapperspb.String("hi")
	hiBytes, _ := appendMessage(nil, hi)
	withID := func(id uint32) func([]byte, error) []byte {
		return func(b []byte, err error) []byte {
			if err != nil {
				t.Fatal(err)
			}
			binary.BigEndian.PutUint32(b[4:8], id)
			return b
		}
	}
	must := func(b []byte, err error) []byte {
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	closeFrame, _ := beginFrame(nil)
	for _, tc := range []struct {
		file  string
		frame []byte
	}{
		{"unary_request.bin", withID(1)(appendRequestFrame(nil, &Request{Service: "svc", Method: "Echo", Payload: hiBytes}, 0, defaultMaxMessageSize))},
		{"unary_request_full.bin", withID(1)(appendRequestFrame(nil, &Request{
			Service: "svc", Method: "Echo", Payload: hiBytes, TimeoutNano: 1e9,
			Metadata: []*KeyValue{{Key: "foo", Value: "bar"}},
		}, 0, defaultMaxMessageSize))},
		{"server_stream_request.bin", withID(3)(appendRequestFrame(nil, &Request{Service: "svc", Method: "ServerStream", Payload: hiBytes}, flagRemoteClosed, defaultMaxMessageSize))},
		{"client_stream_request.bin", withID(5)(appendRequestFrame(nil, &Request{Service: "svc", Method: "ClientStream"}, flagRemoteOpen, defaultMaxMessageSize))},
		{"response_ok.bin", must(appendPayloadResponseFrame(nil, 1, mustMeasure(t, hi), defaultMaxMessageSize))},
		{"response_unimplemented.bin", must(appendResponseFrame(nil, 1, &spb.Status{Code: 12, Message: "service svc"}, nil))},
		{"response_resource_exhausted.bin", must(appendResponseFrame(nil, 1, statusProto(newOversizedMessageErr(4<<20+1, 4<<20)), nil))},
		{"data.bin", must(appendDataFrame(nil, 3, 0, mustMeasure(t, hi), defaultMaxMessageSize))},
		{"data_empty.bin", must(appendDataFrame(nil, 3, 0, mustMeasure(t, &emptypb.Empty{}), defaultMaxMessageSize))},
		{"data_close.bin", finishFrame(closeFrame, 0, 3, frameData, flagRemoteClosed|flagNoData)},
	} {
		if want := readGolden(t, tc.file); !bytes.Equal(tc.frame, want) {
			t.Errorf("%s:\n got % x\nwant % x", tc.file, tc.frame, want)
		}
	}
}

// A raw peer sending the golden unary request to a server without service
// "svc" gets the golden Unimplemented response back, byte for byte.
func TestGoldenExchangeWithServer(t *testing.T) {
	checkGoroutines(t)
	ts := newEchoServer(t)
	nc, err := net.Dial("unix", ts.path)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write(readGolden(t, "unary_request.bin")); err != nil {
		t.Fatal(err)
	}
	want := readGolden(t, "response_unimplemented.bin")
	got := make([]byte, len(want))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(nc, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got % x\nwant % x", got, want)
	}
}

func TestFrameReader(t *testing.T) {
	frame := func(h frameHeader, body []byte) []byte {
		b := make([]byte, frameHeaderLength, frameHeaderLength+len(body))
		h.length = uint32(len(body))
		h.encode(b)
		return append(b, body...)
	}
	big := frameHeader{length: 5000, streamID: 7, typ: frameData}
	var bigFrame [frameHeaderLength]byte
	big.encode(bigFrame[:])

	for _, tc := range []struct {
		name    string
		input   []byte
		limit   int
		want    []frameHeader
		wantErr func(error) bool
	}{
		{"empty stream", nil, 100, nil, func(err error) bool { return err == io.EOF }},
		{"two frames", append(frame(frameHeader{streamID: 1, typ: frameRequest}, []byte("abc")), frame(frameHeader{streamID: 1, typ: frameResponse}, nil)...), 100,
			[]frameHeader{{3, 1, frameRequest, 0}, {0, 1, frameResponse, 0}}, func(err error) bool { return err == io.EOF }},
		{"truncated header", []byte{0, 0, 0}, 100, nil, func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		{"truncated body", frame(frameHeader{streamID: 1, typ: frameData}, []byte("abcdef"))[:13], 100, nil,
			func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
		{"oversized body is skipped", append(append(bigFrame[:], make([]byte, 5000)...), frame(frameHeader{streamID: 9, typ: frameData}, []byte("x"))...), 4096,
			[]frameHeader{{1, 9, frameData, 0}}, func(err error) bool { return err == io.EOF }},
		{"oversized body that never arrives", bigFrame[:], 4096, nil, func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fr := newFrameReader(bytes.NewReader(tc.input), tc.limit)
			var got []frameHeader
			for {
				h, body, err := fr.next()
				var oe *oversizeError
				if errors.As(err, &oe) {
					if oe.header != big || oe.limit != tc.limit {
						t.Errorf("oversize error for %+v/%d", oe.header, oe.limit)
					}
					continue
				}
				if err != nil {
					if !tc.wantErr(err) {
						t.Errorf("ended with %v", err)
					}
					break
				}
				if int(h.length) != lenBody(body) {
					t.Errorf("body of %d bytes for length %d", lenBody(body), h.length)
				}
				putBuffer(body)
				got = append(got, h)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("frames %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("frame %d: %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func lenBody(b *[]byte) int {
	if b == nil {
		return 0
	}
	return len(*b)
}

// A length of 0xFFFFFFFF must not allocate its body: the reader skips what
// it can and the connection ends when the body does not come.
func TestFrameReaderHugeLengthDoesNotAllocate(t *testing.T) {
	hdr := bytes.Repeat([]byte{0xff}, frameHeaderLength)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		fr := newFrameReader(bytes.NewReader(hdr), defaultMaxMessageSize)
		if _, _, err := fr.next(); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("got %v, want ErrUnexpectedEOF", err)
		}
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("%d bytes allocated reading ten 4 GiB headers", n)
	}
}

func TestBufferPoolClasses(t *testing.T) {
	for _, n := range []int{0, 1, 64, 65, 4096, 4097, 1 << 20, 16 << 20} {
		b := getBuffer(n)
		if len(*b) != n || cap(*b) < n || cap(*b) > max(2*n, 64) {
			t.Errorf("getBuffer(%d): len %d cap %d", n, len(*b), cap(*b))
		}
		putBuffer(b)
	}
	putBuffer(nil)
	// A buffer grown by append is filed under the class its capacity
	// covers, so a later request of that class can use it.
	grown := make([]byte, 0, 3000)
	putBuffer(&grown)
	for range 100 {
		if b := getBuffer(2048); cap(*b) < 2048 {
			t.Fatalf("getBuffer(2048) has cap %d", cap(*b))
		}
	}
}

func mustMeasure(t testing.TB, m any) measured {
	t.Helper()
	mm, err := measure(m)
	if err != nil {
		t.Fatal(err)
	}
	return mm
}

// A peer that announces a large frame and sends only part of it makes the
// reader hold memory in proportion to what arrived, not to the length.
func TestFrameReaderGrowsLargeBodies(t *testing.T) {
	const announced = 4 << 20
	var hdr [frameHeaderLength]byte
	frameHeader{length: announced, streamID: 1, typ: frameData}.encode(hdr[:])
	client, server := net.Pipe()
	defer client.Close()
	defer server.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fr := newFrameReader(server, defaultMaxMessageSize)
	done := make(chan error, 1)
	go func() {
		_, _, err := fr.next()
		done <- err
	}()
	// net.Pipe writes return once the reader has taken the bytes: after
	// these, the reader holds what it allocated for the body.
	client.Write(hdr[:])
	client.Write(make([]byte, 1000)) // then stall
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("%d bytes allocated for a frame of which 1000 bytes arrived", grew)
	}
	client.Close()
	if err := <-done; !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("got %v", err)
	}

	// Whole large frames still arrive intact.
	body := bytes.Repeat([]byte("0123456789"), 300_000)
	frame := make([]byte, frameHeaderLength, frameHeaderLength+len(body))
	frameHeader{length: uint32(len(body)), streamID: 3, typ: frameData}.encode(frame)
	frame = append(frame, body...)
	fr = newFrameReader(bytes.NewReader(frame), defaultMaxMessageSize)
	h, got, err := fr.next()
	if err != nil || h.streamID != 3 || !bytes.Equal(*got, body) {
		t.Fatalf("large frame: %+v %v", h, err)
	}
}
