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

func TestStatusCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want codes.Code
	}{
		{nil, codes.OK},
		{status.Error(codes.NotFound, "x"), codes.NotFound},
		{fmt.Errorf("wrapped: %w", status.Error(codes.Aborted, "x")), codes.Aborted},
		{io.EOF, codes.OutOfRange},
		{context.Canceled, codes.Canceled},
		{fmt.Errorf("late: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
		{os.ErrPermission, codes.PermissionDenied},
		{errors.New("plain"), codes.Unknown},
	} {
		if got := StatusCode(tc.err); got != tc.want {
			t.Errorf("StatusCode(%v) = %v, want %v", tc.err, got, tc.want)
		}
		if got := codes.Code(statusProto(tc.err).GetCode()); got != tc.want {
			t.Errorf("statusProto(%v) code = %v, want %v (StatusCode must match the wire)", tc.err, got, tc.want)
		}
	}
}
