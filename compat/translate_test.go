package ttrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	ttrpcgo "github.com/ttrpc-go/ttrpc"
	ttcodes "github.com/ttrpc-go/ttrpc/codes"
	ttstatus "github.com/ttrpc-go/ttrpc/status"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
)

func TestCompatError(t *testing.T) {
	own := ttstatus.Error(ttcodes.ResourceExhausted, "over budget")
	wrapped := fmt.Errorf("receiving: %w", own)
	for _, tc := range []struct {
		name string
		in   error
		code codes.Code
		is   error // errors.Is must hold, when set
		same bool  // the result is tc.in itself
	}{
		{name: "nil", in: nil, code: codes.OK, same: true},
		{name: "joined ErrClosed", in: errors.Join(ttrpcgo.ErrClosed, io.ErrUnexpectedEOF), code: codes.Unknown, is: ErrClosed},
		{name: "ttrpc-go status", in: own, code: codes.ResourceExhausted, is: own},
		{name: "wrapped ttrpc-go status", in: wrapped, code: codes.ResourceExhausted, is: own},
		{name: "grpc-go status", in: grpcstatus.Error(codes.NotFound, "x"), code: codes.NotFound, same: true},
		{name: "protocol", in: fmt.Errorf("unexpected: %w", ttrpcgo.ErrProtocol), code: codes.Unknown, is: ErrProtocol, same: true},
		{name: "EOF", in: io.EOF, code: codes.Unknown, same: true},
		{name: "deadline", in: context.DeadlineExceeded, code: codes.Unknown, same: true},
	} {
		got := compatError(tc.in)
		if c := grpcstatus.Code(got); c != tc.code {
			t.Errorf("%s: code %v, want %v", tc.name, c, tc.code)
		}
		if tc.is != nil && !errors.Is(got, tc.is) {
			t.Errorf("%s: %v is not %v", tc.name, got, tc.is)
		}
		if tc.same && got != tc.in {
			t.Errorf("%s: %#v changed into %#v", tc.name, tc.in, got)
		}
		if tc.in != nil && got.Error() != tc.in.Error() && tc.is != ErrClosed {
			t.Errorf("%s: text %q changed into %q", tc.name, tc.in, got)
		}
	}
	if got := compatError(errors.Join(ttrpcgo.ErrClosed, io.ErrUnexpectedEOF)); got != ErrClosed {
		t.Errorf("closed: %#v, want the bare ErrClosed", got)
	}
	big := compatError(fmt.Errorf("send: %w", ttrpcgo.OversizedMessageError(5<<20)))
	var e *OversizedMessageErr
	if !errors.As(big, &e) || e.RejectedLength() != 5<<20 || grpcstatus.Code(big) != codes.ResourceExhausted {
		t.Errorf("oversized: %#v", big)
	}
}

func TestTimeoutError(t *testing.T) {
	late := grpcstatus.Error(codes.DeadlineExceeded, "context deadline exceeded")
	past, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	if got := timeoutError(past, late); got != context.DeadlineExceeded {
		t.Errorf("passed deadline: %#v", got)
	}
	future, cancel2 := context.WithTimeout(context.Background(), time.Hour)
	defer cancel2()
	if got := timeoutError(future, late); got != late {
		t.Errorf("a handler's own DeadlineExceeded before the caller's deadline: %#v", got)
	}
	if got := timeoutError(context.Background(), late); got != late {
		t.Errorf("no deadline: %#v", got)
	}
	other := grpcstatus.Error(codes.NotFound, "x")
	if got := timeoutError(past, other); got != other {
		t.Errorf("other codes stay: %#v", got)
	}
}
