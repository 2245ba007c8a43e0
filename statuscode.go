package ttrpc

import "github.com/ttrpc-go/ttrpc/codes"

// StatusCode returns the code of the status a server sends its caller when
// a handler returns err: codes.OK for nil, the carried code for status
// errors, and the mapping of plain errors (io.EOF, context and os errors,
// codes.Unknown otherwise) that the server applies. Instrumentation uses it
// to record the code the caller really receives. It never fails.
func StatusCode(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	return codes.Code(statusProto(err).GetCode())
}
