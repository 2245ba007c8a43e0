package ttrpc

import (
	"context"
	"io"
	"net"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// A peer that answers and hangs up at once must not lose its answer: the
// Response arrives before the end of the connection, so the call returns
// it. Two bugs made this fail: the end of a connection dropped what its
// calls had received and not yet read, and, since unary calls recycle
// their streams and every connection numbers its first call 1, the end of
// one connection could end the next connection's call 1 (the stream had
// been handed to it meanwhile).
func TestAnswerThenHangUpKeepsTheAnswer(t *testing.T) {
	defer checkGoroutines(t)
	for _, kind := range []string{"pipe", "unix"} {
		t.Run(kind, func(t *testing.T) {
			for i := 0; i < 200; i++ {
				a, b := connPair(t, kind)
				answerOnceAndHangUp(t, a, b)
			}
		})
	}
}

func connPair(t *testing.T, kind string) (net.Conn, net.Conn) {
	t.Helper()
	if kind == "pipe" {
		a, b := net.Pipe()
		return a, b
	}
	l, err := net.Listen("unix", socketPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func answerOnceAndHangUp(t *testing.T, clientSide, peer net.Conn) {
	t.Helper()
	c := NewClient(clientSide)
	defer c.Close()
	done := make(chan error, 1)
	go func() {
		defer peer.Close()
		var hdr [frameHeaderLength]byte
		if _, err := io.ReadFull(peer, hdr[:]); err != nil {
			done <- err
			return
		}
		h := decodeFrameHeader(hdr[:])
		if _, err := io.CopyN(io.Discard, peer, int64(h.length)); err != nil {
			done <- err
			return
		}
		body := relMarshal(&Response{Payload: relMarshal(wrapperspb.String("x"))})
		_, err := peer.Write(relFrame(h.streamID, frameResponse, 0, body))
		done <- err
	}()
	var out wrapperspb.StringValue
	err := c.Call(context.Background(), testService, "Echo", wrapperspb.String("x"), &out)
	if perr := <-done; perr != nil {
		t.Fatal(perr)
	}
	if err != nil || out.GetValue() != "x" {
		t.Fatalf("call: %q %v; want the answer sent before the hang-up", out.GetValue(), err)
	}
}

// An inbox ignores ends and frames meant for an earlier use of its stream:
// the same id on another connection is another stream.
func TestInboxIgnoresAnEarlierOwner(t *testing.T) {
	var q inbox
	earlier, current := streamKey{conn: 1, id: 1}, streamKey{conn: 2, id: 1}
	q.init(current, 1, nil)
	q.closeWith(earlier, ErrClosed)
	q.fail(earlier, ErrClosed)
	if q.push(earlier, inboundFrame{header: frameHeader{streamID: 1}}) {
		t.Fatal("a frame for an earlier owner was queued")
	}
	if !q.push(current, inboundFrame{header: frameHeader{streamID: 1, typ: frameResponse}}) {
		t.Fatal("the current owner's frame was refused")
	}
	f, err := q.pop(context.Background())
	if err != nil || f.header.typ != frameResponse {
		t.Fatalf("pop: %v %v; want the current owner's frame", f.header, err)
	}
}
