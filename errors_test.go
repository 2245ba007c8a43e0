package ttrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

func TestOversizedMessageError(t *testing.T) {
	if err := OversizedMessageError(defaultMaxMessageSize); err != nil {
		t.Errorf("exactly the limit is allowed, got %v", err)
	}
	err := OversizedMessageError(defaultMaxMessageSize + 1)
	var oe *OversizedMessageErr
	if !errors.As(err, &oe) || oe.RejectedLength() != defaultMaxMessageSize+1 || oe.MaximumLength() != defaultMaxMessageSize {
		t.Fatalf("got %v", err)
	}
	want := "rpc error: code = ResourceExhausted desc = message length 4194305 exceed maximum message size of 4194304"
	if err.Error() != want {
		t.Errorf("text %q, want %q (containerd/ttrpc's)", err.Error(), want)
	}
	if status.Code(err) != codes.ResourceExhausted || status.Code(fmt.Errorf("wrapped: %w", err)) != codes.ResourceExhausted {
		t.Error("code not ResourceExhausted")
	}
}

// Handler errors become wire statuses as in containerd/ttrpc (and
// grpc-go): status errors keep theirs, plain errors are mapped.
func TestStatusProto(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code codes.Code
		msg  string
	}{
		{status.Error(codes.NotFound, "gone"), codes.NotFound, "gone"},
		{io.EOF, codes.OutOfRange, "EOF"},
		{io.ErrUnexpectedEOF, codes.FailedPrecondition, "unexpected EOF"},
		{os.ErrInvalid, codes.InvalidArgument, "invalid argument"},
		{context.Canceled, codes.Canceled, "context canceled"},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), codes.DeadlineExceeded, "x: context deadline exceeded"},
		{os.ErrExist, codes.AlreadyExists, "file already exists"},
		{os.ErrPermission, codes.PermissionDenied, "permission denied"},
		{errors.New("boom"), codes.Unknown, "boom"},
	} {
		st := statusProto(tc.err)
		if codes.Code(st.Code) != tc.code || st.Message != tc.msg {
			t.Errorf("%v: got %v %q, want %v %q", tc.err, codes.Code(st.Code), st.Message, tc.code, tc.msg)
		}
	}
	if statusProto(nil) != nil {
		t.Error("nil error gave a status")
	}
}
