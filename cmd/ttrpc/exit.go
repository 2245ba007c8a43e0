package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// Exit statuses of the command (see the package documentation).
const (
	exitOK      = 0  // the command did what was asked
	exitFailure = 1  // the tool failed: no connection, no descriptors, …
	exitUsage   = 2  // bad usage: flags, arguments, JSON, unknown method
	exitCall    = 64 // exitCall + code: the call ended with that status code
)

// failure is an error that knows the exit status it ends the command with.
type failure struct {
	exit int
	err  error
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// usageErrorf returns a bad-usage failure (exit 2).
func usageErrorf(format string, args ...any) error {
	return &failure{exit: exitUsage, err: fmt.Errorf(format, args...)}
}

// toolError returns a tool failure (exit 1) wrapping err.
func toolError(err error) error {
	return &failure{exit: exitFailure, err: err}
}

// toolErrorf returns a tool failure (exit 1).
func toolErrorf(format string, args ...any) error {
	return toolError(fmt.Errorf(format, args...))
}

// callError returns the failure of a call that did not end with OK: its
// exit status is exitCall plus the status code. A call that ended because
// the connection went away counts as Unavailable, and one whose deadline
// (--timeout) passed as DeadlineExceeded, whatever error reported it.
func callError(err error) error {
	var f *failure
	if errors.As(err, &f) {
		return err
	}
	return &failure{exit: exitCall + int(callCode(err)), err: err}
}

// callCode is the status code reported for a failed call.
func callCode(err error) codes.Code {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errors.Is(err, ttrpc.ErrClosed), errors.Is(err, io.ErrUnexpectedEOF):
		return codes.Unavailable
	}
	return status.Code(err)
}

// report prints err to w as the command's last word and returns the exit
// status it calls for. A failed call is printed with its code name and
// message, "ERROR: code = NotFound desc = no such thing"; other failures as
// "ttrpc: message".
func report(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	exit := exitFailure
	var f *failure
	if errors.As(err, &f) {
		exit = f.exit
	}
	if exit >= exitCall {
		code := codes.Code(exit - exitCall)
		fmt.Fprintf(w, "ERROR: code = %s desc = %s\n", code, callMessage(f.err, code))
		return exit
	}
	// Errors of the library already start with "ttrpc: ".
	fmt.Fprintf(w, "ttrpc: %s\n", strings.TrimPrefix(err.Error(), "ttrpc: "))
	return exit
}

// callMessage is the human part of a failed call's error.
func callMessage(err error, code codes.Code) string {
	st, _ := status.FromError(err)
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		code == codes.DeadlineExceeded && st.Message() == context.DeadlineExceeded.Error():
		// The command's own --timeout passed (while calling, or while
		// asking the reflection service).
		return "the call did not finish within --timeout (context deadline exceeded)"
	case code == codes.Unavailable && (errors.Is(err, ttrpc.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF)):
		return "the connection closed before the call finished: " + err.Error()
	}
	if st != nil {
		return st.Message()
	}
	return err.Error()
}
