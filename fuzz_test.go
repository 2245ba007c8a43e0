package ttrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// Fuzz targets for everything that parses bytes from a peer: the frame
// reader, the envelope decoders, and whole server and client connections
// fed fuzzer-chosen bytes over net.Pipe. The properties checked: no panic,
// no hang (every connection and call ends once the peer is gone), no
// goroutine left behind, no allocation driven by a declared length above
// the configured limit, and envelope decoding that agrees with protobuf-go.
//
// Seeds are the golden frames of testdata/frames plus hand-made hostile
// frames; `make fuzz` runs every target for FUZZTIME.

// relFuzzLimit is the message limit the connection targets configure: far
// below the default, so that honouring it is visible in allocations.
const relFuzzLimit = 4 << 10

// relGoldenFrames returns the golden frames of testdata/frames.
func relGoldenFrames(f *testing.F) [][]byte {
	paths, err := filepath.Glob(filepath.Join("testdata", "frames", "*.bin"))
	if err != nil {
		f.Fatal(err)
	}
	var frames [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		frames = append(frames, b)
	}
	return frames
}

// relHostileFrames are frames that break rules, for seeding.
func relHostileFrames() [][]byte {
	huge := relFrame(1, frameRequest, 0, nil)
	huge[0], huge[1], huge[2], huge[3] = 0xff, 0xff, 0xff, 0xff
	overLimit := relFrame(1, frameData, 0, make([]byte, relFuzzLimit+1))
	return [][]byte{
		huge,
		overLimit,
		relEcho(0, "zero"),
		relEcho(2, "even"),
		relFrame(1, frameRequest, 0, []byte{0xff, 0xff}),
		relFrame(1, 0x7f, 0xff, []byte("unknown")),
		relFrame(7, frameData, flagRemoteClosed, []byte{0x08, 0x01}),
		relRequest(1, flagRemoteOpen, &Request{Service: testService, Method: "Sum"}),
		relRequest(3, flagRemoteClosed, &Request{Service: testService, Method: "Count", Payload: relMarshal(wrapperspb.Int32(3))}),
		relRequest(5, flagRemoteOpen, &Request{Service: testService, Method: "Bidi", TimeoutNano: -1}),
		relRequest(9, 0, &Request{Service: testService, Method: "Block", Metadata: []*KeyValue{{Key: "k", Value: "v"}}}),
		relFrame(1, frameResponse, 0, relMarshal(&Response{Status: &spb.Status{Code: 5, Message: "nf"}})),
		relFrame(3, frameData, flagNoData, nil),
		relFrame(1, frameCancel, 0, nil),
		relFrame(1, frameHello, 0x01, nil),
	}
}

// relAddStreamSeeds adds each frame alone, all golden frames in a row, and
// a conversation mixing good and hostile frames.
func relAddStreamSeeds(f *testing.F) {
	golden := relGoldenFrames(f)
	hostile := relHostileFrames()
	for _, fr := range append(slices.Clone(golden), hostile...) {
		f.Add(fr)
	}
	f.Add(bytes.Join(golden, nil))
	f.Add(bytes.Join(hostile[2:], nil))
	var conv []byte
	for i, fr := range append(hostile[2:], golden...) {
		conv = append(conv, fr...)
		conv = append(conv, relEcho(uint32(101+2*i), "between")...)
	}
	f.Add(conv)
	f.Add(append(bytes.Join(golden, nil), 0, 0, 0))
}

// relAllocBudget is what handling data may allocate: proportional to the
// bytes actually received (bodies, one goroutine's worth of bookkeeping per
// frame), plus at most a few limit-sized buffers. A length header above the
// limit that is believed costs up to 16 MiB or 4 GiB and fails it.
func relAllocBudget(data []byte) uint64 {
	frames := uint64(len(data)/frameHeaderLength + 1)
	return 8*uint64(len(data)) + frames*16<<10 + 8*relFuzzLimit + 1<<20
}

func relTotalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// relWaitGoroutines waits until no more than n goroutines run.
func relWaitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(relIOTimeout)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines left behind: %d, want at most %d\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
		time.Sleep(100 * time.Microsecond) // polling the count, not synchronising
	}
}

// relMaxFuzzInput keeps inputs small enough for the allocation budget to
// mean something; larger ones are cut, not skipped.
const relMaxFuzzInput = 64 << 10

// FuzzFrameReader checks the frame reader against a direct reading of the
// header fields: every frame within the limit is returned whole, every
// frame above it is skipped and reported, and no more than the limit is
// ever allocated for one frame.
func FuzzFrameReader(f *testing.F) {
	relAddStreamSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		data = data[:min(len(data), relMaxFuzzInput)]
		start := relTotalAlloc()
		fr := newFrameReader(bytes.NewReader(data), relFuzzLimit)
		rest := data
		for {
			h, body, err := fr.next()
			if len(rest) < frameHeaderLength {
				if err == nil {
					t.Fatalf("frame returned from %d trailing bytes", len(rest))
				}
				if len(rest) == 0 && err != io.EOF || len(rest) > 0 && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("%d trailing bytes: %v", len(rest), err)
				}
				break
			}
			want := decodeFrameHeader(rest)
			rest = rest[frameHeaderLength:]
			if h != want {
				t.Fatalf("header %+v, want %+v", h, want)
			}
			if int(want.length) > len(rest) {
				if err == nil || errors.As(err, new(*oversizeError)) {
					t.Fatalf("truncated frame of %d bytes (%d left): %v", want.length, len(rest), err)
				}
				putBuffer(body)
				break
			}
			if int(want.length) > relFuzzLimit {
				var oe *oversizeError
				if !errors.As(err, &oe) || body != nil {
					t.Fatalf("frame of %d bytes over the limit: %v", want.length, err)
				}
			} else {
				if err != nil {
					t.Fatalf("frame of %d bytes: %v", want.length, err)
				}
				var got []byte
				if body != nil {
					got = *body
				}
				if !bytes.Equal(got, rest[:want.length]) || want.length == 0 && body != nil {
					t.Fatalf("body of a %d-byte frame differs", want.length)
				}
				putBuffer(body)
			}
			rest = rest[want.length:]
		}
		if used := relTotalAlloc() - start; used > relAllocBudget(data) {
			t.Fatalf("reading %d bytes allocated %d bytes", len(data), used)
		}
	})
}

// relEnvelopeSeeds adds the bodies of the golden frames and a few
// malformed envelopes.
func relEnvelopeSeeds(f *testing.F, typ frameType) {
	for _, fr := range relGoldenFrames(f) {
		if frameType(fr[8]) == typ {
			f.Add(fr[frameHeaderLength:])
		}
	}
	for _, b := range [][]byte{
		nil,
		{0xff, 0xff},
		{0x0a, 0x80},
		{0x00},
		{0x2a, 0x02, 0x0a, 0x7f},
		{0x0a, 0x02, 0xc3, 0x28}, // invalid UTF-8 in field 1
		{0x0b, 0x0c},             // a group in field 1
		{0x0a, 0x00, 0x0a, 0x00}, // field 1 twice
		{0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		{0x0a, 0x02, 0x08, 0x05, 0x0a, 0x03, 0x12, 0x01, 0x78}, // Response.status split in two
	} {
		f.Add(b)
	}
}

// relProtoOnlyError reports whether protobuf-go's error is about a check
// the hand-written decoders leave to later stages (UTF-8 validation of
// strings, which ttrpc-go does not need to route a call).
func relProtoOnlyError(err error) bool {
	return strings.Contains(err.Error(), "UTF-8")
}

// FuzzDecodeRequest checks the hand-written Request decoder against
// protobuf-go on the generated type.
func FuzzDecodeRequest(f *testing.F) {
	relEnvelopeSeeds(f, frameRequest)
	f.Fuzz(func(t *testing.T, data []byte) {
		var got requestView
		err := decodeRequest(data, &got)
		var want Request
		perr := proto.Unmarshal(data, &want)
		if perr != nil {
			if err == nil && !relProtoOnlyError(perr) {
				t.Fatalf("decodeRequest accepts what protobuf-go rejects: %v", perr)
			}
			return
		}
		if err != nil {
			t.Fatalf("decodeRequest rejects what protobuf-go accepts: %v", err)
		}
		if string(got.service) != want.Service || string(got.method) != want.Method ||
			!bytes.Equal(got.payload, want.Payload) || got.timeoutNano != want.TimeoutNano {
			t.Fatalf("decoded %q %q %x %d, protobuf-go %q %q %x %d", got.service, got.method, got.payload, got.timeoutNano,
				want.Service, want.Method, want.Payload, want.TimeoutNano)
		}
		var gotMD MD
		if got.hasMetadata {
			if gotMD, err = decodeRequestMetadata(data); err != nil {
				if err == errMetadataTooLarge {
					return
				}
				t.Fatalf("metadata of a valid request: %v", err)
			}
		}
		var md MD
		for _, kv := range want.Metadata {
			if md == nil {
				md = MD{}
			}
			md[kv.Key] = append(md[kv.Key], kv.Value)
		}
		if !maps.EqualFunc(gotMD, md, slices.Equal) {
			t.Fatalf("metadata %v, protobuf-go %v", gotMD, md)
		}
	})
}

// FuzzDecodeResponse checks the hand-written Response decoder against
// protobuf-go on the generated type.
func FuzzDecodeResponse(f *testing.F) {
	relEnvelopeSeeds(f, frameResponse)
	f.Fuzz(func(t *testing.T, data []byte) {
		var got responseView
		err := decodeResponse(data, &got)
		var want Response
		perr := proto.Unmarshal(data, &want)
		if perr != nil {
			if err == nil && !relProtoOnlyError(perr) {
				t.Fatalf("decodeResponse accepts what protobuf-go rejects: %v", perr)
			}
			return
		}
		if err != nil {
			t.Fatalf("decodeResponse rejects what protobuf-go accepts: %v", err)
		}
		if !proto.Equal(got.status, want.Status) || !bytes.Equal(got.payload, want.Payload) {
			t.Fatalf("decoded %v %x, protobuf-go %v %x", got.status, got.payload, want.Status, want.Payload)
		}
	})
}

// relFuzzService is what the fuzzed server serves: every kind of call,
// each cheap and each ending when its connection does.
func relFuzzService() *ServiceDesc {
	desc := echoService()
	desc.Streams["Count"] = Stream{Handler: func(ctx context.Context, ss StreamServer) (any, error) {
		var n wrapperspb.Int32Value
		if err := ss.RecvMsg(&n); err != nil {
			return nil, err
		}
		for i := range min(n.Value, 8) {
			if err := ss.SendMsg(wrapperspb.Int32(i)); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}, StreamingServer: true}
	desc.Methods["Fail"] = func(ctx context.Context, unmarshal func(any) error) (any, error) {
		return nil, status.Errorf(codes.NotFound, "nothing here")
	}
	return desc
}

// FuzzServerConn feeds a server connection fuzzer-chosen bytes, then hangs
// up: the connection and every handler it started must end.
func FuzzServerConn(f *testing.F) {
	relAddStreamSeeds(f)
	srv, err := NewServer(WithServerWireMessageLimit(relFuzzLimit), WithServerMaxConcurrentStreams(64))
	if err != nil {
		f.Fatal(err)
	}
	srv.RegisterService(testService, relFuzzService())
	f.Fuzz(func(t *testing.T, data []byte) {
		data = data[:min(len(data), relMaxFuzzInput)]
		goroutines := runtime.NumGoroutine()
		start := relTotalAlloc()
		peer, side := net.Pipe()
		c := newConn(side, srv.connCfg, false, context.Background())
		c.start()
		drained := make(chan struct{})
		go func() {
			_, _ = io.Copy(io.Discard, peer)
			close(drained)
		}()
		_ = peer.SetWriteDeadline(time.Now().Add(relIOTimeout))
		if _, err := peer.Write(data); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			t.Fatalf("the server stopped reading: %v", err)
		}
		peer.Close()
		relWaitClosed(t, c.done, "server connection")
		<-drained
		relWaitGoroutines(t, goroutines)
		if used := relTotalAlloc() - start; used > relAllocBudget(data) {
			t.Fatalf("serving %d bytes allocated %d bytes", len(data), used)
		}
	})
}

func relWaitClosed(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	timer := time.NewTimer(relIOTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		t.Fatalf("%s did not end after its peer hung up", what)
	}
}

// FuzzClientConn has a client make a unary call, a server-streaming, a
// client-streaming and a bidirectional call (stream ids 1, 3, 5 and 7, as
// in the golden frames), answers with fuzzer-chosen bytes and hangs up:
// every call must end, with a result or an error.
func FuzzClientConn(f *testing.F) {
	relAddStreamSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		data = data[:min(len(data), relMaxFuzzInput)]
		goroutines := runtime.NumGoroutine()
		start := relTotalAlloc()
		side, peer := net.Pipe()
		c := NewClient(side, WithClientWireMessageLimit(relFuzzLimit))
		requests := make(chan struct{}, 64)
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			fr := newFrameReader(peer, maxMessageSizeLimit)
			for {
				h, body, err := fr.next()
				putBuffer(body)
				if err != nil && !errors.As(err, new(*oversizeError)) {
					return
				}
				if h.typ == frameRequest {
					select {
					case requests <- struct{}{}:
					default:
					}
				}
			}
		}()
		ctx := context.Background()
		results := make(chan error, 4)
		go func() {
			var resp wrapperspb.StringValue
			results <- c.Call(ctx, testService, "Echo", wrapperspb.String("hi"), &resp)
		}()
		<-requests
		recvAll := func(s ClientStream) {
			for {
				var v wrapperspb.StringValue
				if err := s.RecvMsg(&v); err != nil {
					results <- err
					return
				}
			}
		}
		descs := []*StreamDesc{{StreamingServer: true}, {StreamingClient: true}, {StreamingClient: true, StreamingServer: true}}
		for i, desc := range descs {
			s, err := c.NewStream(ctx, desc, testService, fmt.Sprint("Stream", i), wrapperspb.String("hi"))
			if err != nil {
				t.Fatalf("opening stream %d: %v", i, err)
			}
			<-requests
			if desc.StreamingClient {
				_ = s.SendMsg(wrapperspb.String("more"))
			}
			go recvAll(s)
		}
		_ = peer.SetWriteDeadline(time.Now().Add(relIOTimeout))
		if _, err := peer.Write(data); err != nil && !errors.Is(err, io.ErrClosedPipe) {
			t.Fatalf("the client stopped reading: %v", err)
		}
		peer.Close()
		timer := time.NewTimer(relIOTimeout)
		defer timer.Stop()
		for range 4 {
			select {
			case <-results:
			case <-timer.C:
				t.Fatal("a call did not end after the server hung up")
			}
		}
		c.Close()
		<-drained
		if err := c.UserOnCloseWait(ctx); err != nil {
			t.Fatal(err)
		}
		relWaitGoroutines(t, goroutines)
		if used := relTotalAlloc() - start; used > relAllocBudget(data) {
			t.Fatalf("receiving %d bytes allocated %d bytes", len(data), used)
		}
	})
}
