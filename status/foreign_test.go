package status

import (
	"os"
	"testing"

	spb "google.golang.org/genproto/googleapis/rpc/status"

	"github.com/ttrpc-go/ttrpc/codes"
)

// fakeConverter is the converter a program linking grpc-go would install,
// written for the fake grpc-shaped errors of these tests.
func fakeConverter(err error) (*spb.Status, bool) {
	switch e := err.(type) {
	case interface{ GRPCStatus() *fakeGRPCStatus }:
		if e == (*fakeGRPCError)(nil) {
			return nil, true
		}
		return e.GRPCStatus().Proto(), true
	case interface{ GRPCStatus() protoer }:
		s := e.GRPCStatus()
		if s == nil {
			return nil, true
		}
		return s.Proto(), true
	}
	return nil, false
}

func TestMain(m *testing.M) {
	RegisterForeignStatus(fakeConverter)
	os.Exit(m.Run())
}

// Without a converter a grpc-shaped error is an ordinary error: nothing is
// found by reflection.
func TestNoForeignConverter(t *testing.T) {
	RegisterForeignStatus(nil)
	defer RegisterForeignStatus(fakeConverter)
	err := newFake(codes.NotFound, "gone")
	if got := Code(err); got != codes.Unknown {
		t.Fatalf("Code without converter = %v, want Unknown", got)
	}
	if _, ok := FromError(err); ok {
		t.Fatal("FromError found a status without a converter")
	}
	RegisterForeignStatus(fakeConverter)
	if got := Code(err); got != codes.NotFound {
		t.Fatalf("Code with converter = %v, want NotFound", got)
	}
}
