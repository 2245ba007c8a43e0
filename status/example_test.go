package status_test

import (
	"errors"
	"fmt"
	"os"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// A handler reports a typed failure by returning a status error; the
// client sees the same code and message.
func ExampleError() {
	err := status.Error(codes.NotFound, `container "web" not found`)
	fmt.Println(err)
	fmt.Println(status.Code(err) == codes.NotFound)
	// Output:
	// rpc error: code = NotFound desc = container "web" not found
	// true
}

// FromError finds a status behind wrapping; the message then is the whole
// wrapped text, and errors without a status come back as Unknown.
func ExampleFromError() {
	wrapped := fmt.Errorf("delete: %w", status.Error(codes.FailedPrecondition, "task running"))
	if s, ok := status.FromError(wrapped); ok {
		fmt.Println(s.Code(), "|", s.Message())
	}

	s, ok := status.FromError(os.ErrNotExist)
	fmt.Println(s.Code(), "|", s.Message(), "|", ok)
	// Output:
	// FailedPrecondition | delete: rpc error: code = FailedPrecondition desc = task running
	// Unknown | file does not exist | false
}

// errors.Is compares two status errors by code, message and details.
func ExampleStatus_Err() {
	errBusy := status.Error(codes.Unavailable, "busy")
	err := fmt.Errorf("attempt 3: %w", status.New(codes.Unavailable, "busy").Err())
	fmt.Println(errors.Is(err, errBusy))
	// Output:
	// true
}

func ExampleStatus_WithDetails() {
	s, err := status.New(codes.InvalidArgument, "bad spec").WithDetails(wrapperspb.String("field: mounts[2]"))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range status.Convert(s.Err()).Details() {
		fmt.Println(d.(*wrapperspb.StringValue).GetValue())
	}
	// Output:
	// field: mounts[2]
}
