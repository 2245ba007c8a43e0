package ttrpc

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"net"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// relOK is a successful answer carrying BytesValue("ok").
func relOK(id uint32) []byte {
	return relFrame(id, frameResponse, 0, relMarshal(&Response{Payload: relMarshal(wrapperspb.Bytes([]byte("ok")))}))
}

// relFakeServer accepts one connection and answers its first request with
// what first returns (written one frame per write, or one byte per write
// when tiny is set), and every later request with relOK.
func relFakeServer(t *testing.T, first func(id uint32) [][]byte, tiny bool) string {
	t.Helper()
	l, err := net.Listen("unix", socketPath(t))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	go func() {
		defer close(done)
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		fr := newFrameReader(nc, maxMessageSizeLimit)
		for n := 0; ; n++ {
			h, body, err := fr.next()
			putBuffer(body)
			if err != nil {
				return
			}
			frames := [][]byte{relOK(h.streamID)}
			if n == 0 {
				frames = first(h.streamID)
			}
			for _, f := range frames {
				if !tiny {
					if _, err := nc.Write(f); err != nil {
						return
					}
					continue
				}
				for i := range f {
					if _, err := nc.Write(f[i : i+1]); err != nil {
						return
					}
				}
			}
		}
	}()
	return l.Addr().String()
}

// TestHostileServer has a client call a server that answers wrongly: the
// call gets the answer it is owed or a clear error, and the connection
// stays usable for the next call unless the answer cut it.
func TestHostileServer(t *testing.T) {
	huge := relFrame(1, frameResponse, 0, nil)
	binary.BigEndian.PutUint32(huge, math.MaxUint32)
	tests := []struct {
		name   string
		first  func(id uint32) [][]byte
		tiny   bool
		check  func(err error) bool
		dead   bool // the connection cannot be used afterwards
		expect string
	}{
		{
			name:   "answer split into one-byte writes",
			first:  func(id uint32) [][]byte { return [][]byte{relOK(id)} },
			tiny:   true,
			check:  func(err error) bool { return err == nil },
			expect: "success",
		},
		{
			name: "answers on streams never opened, then the answer",
			first: func(id uint32) [][]byte {
				return [][]byte{relOK(id + 100), relOK(id + 1), relOK(0), relFrame(id+2, frameData, 0, []byte{1}), relOK(id)}
			},
			check:  func(err error) bool { return err == nil },
			expect: "success",
		},
		{
			name: "unknown frame types, then the answer",
			first: func(id uint32) [][]byte {
				return [][]byte{relFrame(id, 0x7f, 0xff, []byte("x")), relFrame(id, 0, 0, nil), relOK(id)}
			},
			check:  func(err error) bool { return err == nil },
			expect: "success (PROTOCOL.md section 3)",
		},
		{
			name: "a request from the server",
			first: func(id uint32) [][]byte {
				return [][]byte{relEcho(id, "reverse"), relEcho(2, "reverse"), relOK(id)}
			},
			check:  func(err error) bool { return err == nil },
			expect: "success",
		},
		{
			name: "data frame for a unary call",
			first: func(id uint32) [][]byte {
				return [][]byte{relFrame(id, frameData, 0, relMarshal(wrapperspb.Bytes([]byte("x"))))}
			},
			check:  func(err error) bool { return errors.Is(err, ErrProtocol) },
			expect: "ErrProtocol",
		},
		{
			name:   "garbage envelope",
			first:  func(id uint32) [][]byte { return [][]byte{relFrame(id, frameResponse, 0, []byte{0xff, 0xff})} },
			check:  func(err error) bool { return status.Code(err) == codes.Internal },
			expect: "Internal",
		},
		{
			name: "garbage payload",
			first: func(id uint32) [][]byte {
				return [][]byte{relFrame(id, frameResponse, 0, relMarshal(&Response{Payload: []byte{0xff}}))}
			},
			check:  func(err error) bool { return status.Code(err) == codes.Internal },
			expect: "Internal",
		},
		{
			name: "error status",
			first: func(id uint32) [][]byte {
				return [][]byte{relFrame(id, frameResponse, 0, relMarshal(&Response{Status: status.New(codes.NotFound, "gone").Proto()}))}
			},
			check:  func(err error) bool { return status.Code(err) == codes.NotFound },
			expect: "NotFound",
		},
		{
			name:   "answer over the client's limit",
			first:  func(id uint32) [][]byte { return [][]byte{relFrame(id, frameResponse, 0, make([]byte, 8<<10))} },
			check:  func(err error) bool { return status.Code(err) == codes.ResourceExhausted },
			expect: "ResourceExhausted",
		},
		{
			name:   "4 GiB length header",
			first:  func(id uint32) [][]byte { return [][]byte{huge} },
			check:  func(err error) bool { return errors.Is(err, context.DeadlineExceeded) },
			dead:   true,
			expect: "the caller's deadline",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkGoroutines(t)
			addr := relFakeServer(t, tt.first, tt.tiny)
			nc, err := net.Dial("unix", addr)
			if err != nil {
				t.Fatal(err)
			}
			c := NewClient(nc, WithClientWireMessageLimit(4<<10))
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			var got wrapperspb.BytesValue
			err = c.Call(ctx, testService, "Echo", wrapperspb.Bytes([]byte("hi")), &got)
			if !tt.check(err) {
				t.Fatalf("call returned %v, want %s", err, tt.expect)
			}
			if err == nil && string(got.Value) != "ok" {
				t.Fatalf("call answered %q", got.Value)
			}
			if tt.dead {
				return
			}
			ctx, cancel = context.WithTimeout(context.Background(), relIOTimeout)
			defer cancel()
			if err := c.Call(ctx, testService, "Echo", wrapperspb.Bytes([]byte("hi")), &got); err != nil || string(got.Value) != "ok" {
				t.Fatalf("next call on the same connection: %q, %v", got.Value, err)
			}
		})
	}
}
