package interop

import (
	"errors"
	"fmt"
	"io"
	"testing"

	grpccodes "google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

func grpcCode(err error) codes.Code { return codes.Code(grpcstatus.Code(err)) }

// TestCodesMatchGRPC pins our code numbers and names to grpc-go's.
func TestCodesMatchGRPC(t *testing.T) {
	for c := uint32(0); c <= 20; c++ {
		if got, want := codes.Code(c).String(), grpccodes.Code(c).String(); got != want {
			t.Errorf("code %d: String() = %q, grpc-go says %q", c, got, want)
		}
	}
}

// TestStatusRecognisesGRPCErrors checks with the real grpc-go package what
// the status package's own tests check with a look-alike type: for errors
// built by grpc-go, our FromError gives the same answer as grpc-go's.
func TestStatusRecognisesGRPCErrors(t *testing.T) {
	withDetails, err := grpcstatus.New(grpccodes.FailedPrecondition, "pre").WithDetails(wrapperspb.String("why"))
	if err != nil {
		t.Fatal(err)
	}
	grpcErr := grpcstatus.Error(grpccodes.NotFound, "gone")
	tests := []struct {
		name string
		err  error
	}{
		{"nil", nil},
		{"plain", io.EOF},
		{"direct", grpcErr},
		{"wrapped", fmt.Errorf("lookup: %w", grpcErr)},
		{"joined", errors.Join(io.EOF, grpcErr)},
		{"details", withDetails.Err()},
		{"details wrapped", fmt.Errorf("x: %w", withDetails.Err())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantOK := grpcstatus.FromError(tt.err)
			got, gotOK := status.FromError(tt.err)
			if gotOK != wantOK || uint32(got.Code()) != uint32(want.Code()) || got.Message() != want.Message() {
				t.Fatalf("ours (%v, %q, %v), grpc-go (%v, %q, %v)",
					got.Code(), got.Message(), gotOK, want.Code(), want.Message(), wantOK)
			}
			if len(got.Details()) != len(want.Details()) {
				t.Fatalf("ours has %d details, grpc-go %d", len(got.Details()), len(want.Details()))
			}
			if status.Code(tt.err) != grpcCode(tt.err) {
				t.Fatalf("Code: ours %v, grpc-go %v", status.Code(tt.err), grpcCode(tt.err))
			}
		})
	}
	if !errors.Is(status.Error(codes.NotFound, "gone"), grpcErr) {
		t.Error("errors.Is(our error, equal grpc-go error) = false")
	}
	if got := status.Error(codes.NotFound, "gone").Error(); got != grpcErr.Error() {
		t.Errorf("error text %q, grpc-go %q", got, grpcErr.Error())
	}
}

// TestGRPCStatusDoesNotRecogniseOurErrors records a limitation: grpc-go's
// FromError only accepts its own *status.Status type, which the main
// module cannot produce without importing grpc-go. So code that runs our
// errors through grpc-go's status package (containerd's errdefs.FromGRPC,
// for instance) sees Unknown, with the full error text as message. This
// test fails if that ever changes, so the note can be updated.
func TestGRPCStatusDoesNotRecogniseOurErrors(t *testing.T) {
	err := status.Error(codes.NotFound, "gone")
	s, ok := grpcstatus.FromError(err)
	if ok || s.Code() != grpccodes.Unknown || s.Message() != "rpc error: code = NotFound desc = gone" {
		t.Fatalf("grpc-go FromError(our error) = (%v, %q, %v)", s.Code(), s.Message(), ok)
	}
}
