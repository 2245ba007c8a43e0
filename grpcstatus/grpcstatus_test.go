package grpcstatus_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"

	_ "github.com/ttrpc-go/ttrpc/grpcstatus"
	"github.com/ttrpc-go/ttrpc/status"
)

func TestGRPCErrorsRecognised(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want codes.Code
	}{
		{"bare", grpcstatus.Error(codes.NotFound, "gone"), codes.NotFound},
		{"wrapped", fmt.Errorf("ctx: %w", grpcstatus.Error(codes.AlreadyExists, "x")), codes.AlreadyExists},
		{"joined", errors.Join(errors.New("a"), grpcstatus.Error(codes.Unavailable, "y")), codes.Unavailable},
		{"from context", grpcstatus.FromContextError(context.DeadlineExceeded).Err(), codes.DeadlineExceeded},
		{"plain", errors.New("plain"), codes.Unknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := status.Code(tc.err); uint32(got) != uint32(tc.want) {
				t.Fatalf("status.Code = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDetailsSurvive(t *testing.T) {
	st := grpcstatus.New(codes.InvalidArgument, "bad")
	p := st.Proto()
	got, ok := status.FromError(st.Err())
	if !ok || got.Proto().GetMessage() != p.GetMessage() || int32(got.Code()) != p.GetCode() {
		t.Fatalf("FromError = %v, %v", got, ok)
	}
}
