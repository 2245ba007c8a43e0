package codes

import "testing"

func TestCodeValuesAndNames(t *testing.T) {
	// The numbers travel on the wire and the names appear in error texts
	// that callers match on, so both are pinned here.
	tests := []struct {
		code Code
		num  uint32
		name string
	}{
		{OK, 0, "OK"},
		{Canceled, 1, "Canceled"},
		{Unknown, 2, "Unknown"},
		{InvalidArgument, 3, "InvalidArgument"},
		{DeadlineExceeded, 4, "DeadlineExceeded"},
		{NotFound, 5, "NotFound"},
		{AlreadyExists, 6, "AlreadyExists"},
		{PermissionDenied, 7, "PermissionDenied"},
		{ResourceExhausted, 8, "ResourceExhausted"},
		{FailedPrecondition, 9, "FailedPrecondition"},
		{Aborted, 10, "Aborted"},
		{OutOfRange, 11, "OutOfRange"},
		{Unimplemented, 12, "Unimplemented"},
		{Internal, 13, "Internal"},
		{Unavailable, 14, "Unavailable"},
		{DataLoss, 15, "DataLoss"},
		{Unauthenticated, 16, "Unauthenticated"},
		{Code(17), 17, "Code(17)"},
		{Code(1 << 31), 1 << 31, "Code(2147483648)"},
		{Code(^uint32(0)), ^uint32(0), "Code(4294967295)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if uint32(tt.code) != tt.num {
				t.Errorf("value = %d, want %d", uint32(tt.code), tt.num)
			}
			if got := tt.code.String(); got != tt.name {
				t.Errorf("String() = %q, want %q", got, tt.name)
			}
		})
	}
}
