package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	ref "github.com/containerd/ttrpc"
	grpccodes "google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	ours "github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	"github.com/ttrpc-go/ttrpc/status"
)

// The test service is written once, against plain function types, and
// registered on either server. Messages are protobuf well-known types so no
// code generation is needed. Handlers that need library specifics
// (metadata lookup, the status error type the library's users would
// return) get them from a flavor.

const serviceName = "ttrpc.interop.v1.Test"

// flavor supplies what differs between the two server libraries.
type flavor struct {
	metadata func(ctx context.Context) (map[string][]string, bool)
	// statusError is the error a handler written for this library
	// returns: our status package for ours, grpc-go's for the reference
	// (which is what containerd code uses with it).
	statusError func(c codes.Code, msg string) error
}

var (
	oursFlavor = flavor{
		metadata: func(ctx context.Context) (map[string][]string, bool) {
			md, ok := ours.GetMetadata(ctx)
			return md, ok
		},
		statusError: status.Error,
	}
	refFlavor = flavor{
		metadata: func(ctx context.Context) (map[string][]string, bool) {
			md, ok := ref.GetMetadata(ctx)
			return md, ok
		},
		statusError: grpcError,
	}
)

func grpcError(c codes.Code, msg string) error {
	return grpcstatus.Error(grpccodes.Code(c), msg)
}

// hooks let a test observe and release handlers that block.
type hooks struct {
	started     chan struct{}
	release     chan struct{}
	releaseOnce sync.Once
}

func newHooks() *hooks {
	return &hooks{started: make(chan struct{}, 128), release: make(chan struct{})}
}

func (h *hooks) releaseAll() { h.releaseOnce.Do(func() { close(h.release) }) }

type unaryFunc = func(ctx context.Context, unmarshal func(any) error) (any, error)

// msgStream is the method set both libraries' StreamServer share.
type msgStream interface {
	SendMsg(m any) error
	RecvMsg(m any) error
}

type streamFunc = func(ctx context.Context, ss msgStream) (any, error)

type streamMethod struct {
	handler        streamFunc
	client, server bool
}

// encodeFailure and decodeFailure carry the code and message a Fail
// handler must return inside a StringValue: "<code>|<message>".
func encodeFailure(c codes.Code, msg string) *wrapperspb.StringValue {
	return wrapperspb.String(strconv.Itoa(int(c)) + "|" + msg)
}

func decodeFailure(s string) (codes.Code, string, error) {
	num, msg, ok := strings.Cut(s, "|")
	if !ok {
		return 0, "", errors.New("bad failure spec")
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return 0, "", err
	}
	return codes.Code(n), msg, nil
}

// plainErrors are errors without a status that handlers may return, by
// name.
var plainErrors = map[string]error{
	"eof":               io.EOF,
	"wrapped eof":       fmt.Errorf("read: %w", io.EOF),
	"unexpected eof":    io.ErrUnexpectedEOF,
	"closed pipe":       io.ErrClosedPipe,
	"short write":       io.ErrShortWrite,
	"invalid":           os.ErrInvalid,
	"canceled":          context.Canceled,
	"deadline":          context.DeadlineExceeded,
	"wrapped cancel":    fmt.Errorf("op: %w", context.Canceled),
	"wrapped not exist": fmt.Errorf("load: %w", fs.ErrNotExist),
	"exist":             os.ErrExist,
	"not exist":         &fs.PathError{Op: "open", Path: "/nope", Err: syscall.ENOENT},
	"permission":        os.ErrPermission,
	"other":             errors.New("something else"),
}

// callInfo is what the Info handlers report about their context.
type callInfo struct {
	HasMetadata  bool                `json:"has_metadata"`
	Metadata     map[string][]string `json:"metadata"`
	HasDeadline  bool                `json:"has_deadline"`
	DeadlineUnix int64               `json:"deadline_unix_nano"`
}

func describeContext(f flavor, ctx context.Context) (*wrapperspb.StringValue, error) {
	var info callInfo
	info.Metadata, info.HasMetadata = f.metadata(ctx)
	if dl, ok := ctx.Deadline(); ok {
		info.HasDeadline, info.DeadlineUnix = true, dl.UnixNano()
	}
	b, err := json.Marshal(info)
	if err != nil {
		return nil, err
	}
	return wrapperspb.String(string(b)), nil
}

func parseCallInfo(s string) (callInfo, error) {
	var info callInfo
	err := json.Unmarshal([]byte(s), &info)
	return info, err
}

func unaryMethods(f flavor, h *hooks) map[string]unaryFunc {
	failure := func(unmarshal func(any) error) (codes.Code, string, error) {
		var req wrapperspb.StringValue
		if err := unmarshal(&req); err != nil {
			return 0, "", err
		}
		return decodeFailure(req.GetValue())
	}
	return map[string]unaryFunc{
		// Echo returns the request bytes.
		"Echo": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			var req wrapperspb.BytesValue
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			return &req, nil
		},
		// Make returns a BytesValue of the requested length.
		"Make": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			var req wrapperspb.UInt32Value
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			return wrapperspb.Bytes(make([]byte, req.GetValue())), nil
		},
		// Fail returns the library's own status error.
		"Fail": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			c, msg, err := failure(unmarshal)
			if err != nil {
				return nil, err
			}
			return nil, f.statusError(c, msg)
		},
		// FailGRPC returns a grpc-go status error whatever the server.
		"FailGRPC": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			c, msg, err := failure(unmarshal)
			if err != nil {
				return nil, err
			}
			return nil, grpcError(c, msg)
		},
		// FailWrapped wraps the library's status error with more context.
		"FailWrapped": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			c, msg, err := failure(unmarshal)
			if err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("while testing: %w", f.statusError(c, msg))
		},
		// FailPlain returns a plain (status-less) error chosen by name;
		// the server maps it to a code.
		"FailPlain": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			var req wrapperspb.StringValue
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			err, ok := plainErrors[req.GetValue()]
			if !ok {
				return nil, fmt.Errorf("no plain error named %q", req.GetValue())
			}
			return nil, err
		},
		// Nil returns neither a response nor an error.
		"Nil": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			return nil, nil
		},
		// Info reports the metadata and deadline the handler sees.
		"Info": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			if err := unmarshal(&emptypb.Empty{}); err != nil {
				return nil, err
			}
			return describeContext(f, ctx)
		},
		// Block parks until the test releases it or the call's context
		// ends.
		"Block": func(ctx context.Context, unmarshal func(any) error) (any, error) {
			if err := unmarshal(&emptypb.Empty{}); err != nil {
				return nil, err
			}
			h.started <- struct{}{}
			select {
			case <-h.release:
				return &emptypb.Empty{}, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		},
	}
}

func streamMethods(f flavor) map[string]streamMethod {
	return map[string]streamMethod{
		// Count sends "item 0" … "item n-1" for a request of n.
		"Count": {server: true, handler: func(ctx context.Context, ss msgStream) (any, error) {
			var req wrapperspb.Int32Value
			if err := ss.RecvMsg(&req); err != nil {
				return nil, err
			}
			for i := range req.GetValue() {
				if err := ss.SendMsg(wrapperspb.String(fmt.Sprintf("item %d", i))); err != nil {
					return nil, err
				}
			}
			return nil, nil
		}},
		// CountThenFail sends n items and then ends the stream with
		// NotFound.
		"CountThenFail": {server: true, handler: func(ctx context.Context, ss msgStream) (any, error) {
			var req wrapperspb.Int32Value
			if err := ss.RecvMsg(&req); err != nil {
				return nil, err
			}
			for i := range req.GetValue() {
				if err := ss.SendMsg(wrapperspb.String(fmt.Sprintf("item %d", i))); err != nil {
					return nil, err
				}
			}
			return nil, f.statusError(codes.NotFound, fmt.Sprintf("stopped after %d", req.GetValue()))
		}},
		// Join receives strings until the client closes and answers with
		// them joined by commas.
		"Join": {client: true, handler: func(ctx context.Context, ss msgStream) (any, error) {
			var parts []string
			for {
				var m wrapperspb.StringValue
				err := ss.RecvMsg(&m)
				if errors.Is(err, io.EOF) {
					return wrapperspb.String(strings.Join(parts, ",")), nil
				}
				if err != nil {
					return nil, err
				}
				parts = append(parts, m.GetValue())
			}
		}},
		// Echo answers every string with "echo:" + string until the
		// client closes.
		"EchoStream": {client: true, server: true, handler: func(ctx context.Context, ss msgStream) (any, error) {
			for {
				var m wrapperspb.StringValue
				err := ss.RecvMsg(&m)
				if errors.Is(err, io.EOF) {
					return nil, nil
				}
				if err != nil {
					return nil, err
				}
				if err := ss.SendMsg(wrapperspb.String("echo:" + m.GetValue())); err != nil {
					return nil, err
				}
			}
		}},
		// StreamInfo reports the metadata and deadline a stream handler
		// sees, as its only message.
		"StreamInfo": {server: true, handler: func(ctx context.Context, ss msgStream) (any, error) {
			if err := ss.RecvMsg(&emptypb.Empty{}); err != nil {
				return nil, err
			}
			info, err := describeContext(f, ctx)
			if err != nil {
				return nil, err
			}
			return nil, ss.SendMsg(info)
		}},
	}
}

func oursServiceDesc(h *hooks) *ours.ServiceDesc {
	d := &ours.ServiceDesc{Methods: map[string]ours.Method{}, Streams: map[string]ours.Stream{}}
	for name, m := range unaryMethods(oursFlavor, h) {
		d.Methods[name] = m
	}
	for name, s := range streamMethods(oursFlavor) {
		handler := s.handler
		d.Streams[name] = ours.Stream{
			Handler:         func(ctx context.Context, ss ours.StreamServer) (any, error) { return handler(ctx, ss) },
			StreamingClient: s.client,
			StreamingServer: s.server,
		}
	}
	return d
}

func refServiceDesc(h *hooks) *ref.ServiceDesc {
	d := &ref.ServiceDesc{Methods: map[string]ref.Method{}, Streams: map[string]ref.Stream{}}
	for name, m := range unaryMethods(refFlavor, h) {
		d.Methods[name] = m
	}
	for name, s := range streamMethods(refFlavor) {
		handler := s.handler
		d.Streams[name] = ref.Stream{
			Handler:         func(ctx context.Context, ss ref.StreamServer) (any, error) { return handler(ctx, ss) },
			StreamingClient: s.client,
			StreamingServer: s.server,
		}
	}
	return d
}
