package status

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/codes"
)

// fakeGRPCStatus and fakeGRPCError have the method shapes of grpc-go's
// *status.Status and *status.Error, standing in for them so this package's
// tests need no grpc dependency. The interop module checks the real thing.
type fakeGRPCStatus struct{ p *spb.Status }

func (s *fakeGRPCStatus) Proto() *spb.Status {
	if s == nil || s.p == nil {
		return nil
	}
	return proto.Clone(s.p).(*spb.Status)
}

type fakeGRPCError struct{ s *fakeGRPCStatus }

func (e *fakeGRPCError) Error() string {
	p := e.s.Proto()
	return fmt.Sprintf("rpc error: code = %s desc = %s", codes.Code(p.GetCode()), p.GetMessage())
}

func (e *fakeGRPCError) GRPCStatus() *fakeGRPCStatus { return e.s }

func newFake(c codes.Code, msg string) *fakeGRPCError {
	return &fakeGRPCError{s: &fakeGRPCStatus{p: &spb.Status{Code: int32(c), Message: msg}}}
}

// protoer is returned as an interface by ifaceGRPCError, to check that an
// interface-typed GRPCStatus result is handled too.
type protoer interface{ Proto() *spb.Status }

type ifaceGRPCError struct{ s protoer }

func (e ifaceGRPCError) Error() string       { return "iface" }
func (e ifaceGRPCError) GRPCStatus() protoer { return e.s }

// wrongShapeError has a GRPCStatus method whose result lacks a suitable
// Proto method; it must be treated as a plain error.
type wrongShapeError struct{}

type wrongProto struct{}

func (wrongProto) Proto() string { return "" }

func (wrongShapeError) Error() string          { return "wrong shape" }
func (wrongShapeError) GRPCStatus() wrongProto { return wrongProto{} }

type panickyError struct{}

func (*panickyError) Error() string               { return "panicky" }
func (*panickyError) GRPCStatus() *fakeGRPCStatus { panic("boom") }

// ourCarrier presents one of our statuses without being our error type.
type ourCarrier struct{ s *Status }

func (c ourCarrier) Error() string       { return "carrier" }
func (c ourCarrier) GRPCStatus() *Status { return c.s }

// asOnly exposes a status only through an As method.
type asOnly struct{ s *Status }

func (a asOnly) Error() string { return "as only" }
func (a asOnly) As(target any) bool {
	if p, ok := target.(*statusCarrier); ok {
		*p = ourCarrier(a)
		return true
	}
	return false
}

func TestStatusAccessors(t *testing.T) {
	tests := []struct {
		name    string
		s       *Status
		code    codes.Code
		msg     string
		str     string
		wantErr bool
	}{
		{"nil", nil, codes.OK, "", "rpc error: code = OK desc = ", false},
		{"zero", &Status{}, codes.OK, "", "rpc error: code = OK desc = ", false},
		{"ok with message", New(codes.OK, "fine"), codes.OK, "fine", "rpc error: code = OK desc = fine", false},
		{"not found", New(codes.NotFound, "no such thing"), codes.NotFound, "no such thing", "rpc error: code = NotFound desc = no such thing", true},
		{"newf", Newf(codes.Internal, "x=%d", 7), codes.Internal, "x=7", "rpc error: code = Internal desc = x=7", true},
		{"unnamed code", New(codes.Code(99), "odd"), codes.Code(99), "odd", "rpc error: code = Code(99) desc = odd", true},
		{"from nil proto", FromProto(nil), codes.OK, "", "rpc error: code = OK desc = ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Code(); got != tt.code {
				t.Errorf("Code() = %v, want %v", got, tt.code)
			}
			if got := tt.s.Message(); got != tt.msg {
				t.Errorf("Message() = %q, want %q", got, tt.msg)
			}
			if got := tt.s.String(); got != tt.str {
				t.Errorf("String() = %q, want %q", got, tt.str)
			}
			err := tt.s.Err()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Err() = %v, want error: %v", err, tt.wantErr)
			}
			if err != nil && err.Error() != tt.str {
				t.Errorf("Err().Error() = %q, want %q", err.Error(), tt.str)
			}
			if tt.s.Code() == codes.OK && tt.s.Message() == "" && tt.s.Proto() != nil {
				t.Errorf("Proto() of an empty status = %v, want nil", tt.s.Proto())
			}
		})
	}
}

func TestErrorConstructors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string // "" means nil error
	}{
		{"Error", Error(codes.NotFound, "gone"), "rpc error: code = NotFound desc = gone"},
		{"Error OK", Error(codes.OK, "ignored"), ""},
		{"Errorf", Errorf(codes.AlreadyExists, "%q exists", "c1"), `rpc error: code = AlreadyExists desc = "c1" exists`},
		{"Errorf OK", Errorf(codes.OK, "%d", 1), ""},
		{"ErrorProto", ErrorProto(&spb.Status{Code: 8, Message: "big"}), "rpc error: code = ResourceExhausted desc = big"},
		{"ErrorProto nil", ErrorProto(nil), ""},
		{"ErrorProto OK", ErrorProto(&spb.Status{Message: "x"}), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == "" {
				if tt.err != nil {
					t.Fatalf("got %v, want nil", tt.err)
				}
				return
			}
			if tt.err == nil || tt.err.Error() != tt.want {
				t.Fatalf("got %v, want %q", tt.err, tt.want)
			}
		})
	}
}

func TestProtoCopies(t *testing.T) {
	src := &spb.Status{Code: int32(codes.Aborted), Message: "orig"}
	s := FromProto(src)
	src.Message = "changed"
	if s.Message() != "orig" {
		t.Fatalf("FromProto shares its input: message %q", s.Message())
	}
	p := s.Proto()
	p.Message = "mutated"
	if s.Message() != "orig" {
		t.Fatalf("Proto exposes internal state: message %q", s.Message())
	}
	if err := ErrorProto(src); Convert(err).Message() != "changed" {
		t.Fatalf("ErrorProto message = %q", Convert(err).Message())
	}
}

func TestFromError(t *testing.T) {
	ours := Error(codes.NotFound, "missing")
	fake := newFake(codes.PermissionDenied, "nope")
	tests := []struct {
		name   string
		err    error
		code   codes.Code
		msg    string
		ok     bool
		nilOut bool
	}{
		{name: "nil", err: nil, code: codes.OK, ok: true, nilOut: true},
		{name: "ours", err: ours, code: codes.NotFound, msg: "missing", ok: true},
		{name: "ours wrapped", err: fmt.Errorf("lookup: %w", ours), code: codes.NotFound,
			msg: "lookup: rpc error: code = NotFound desc = missing", ok: true},
		{name: "ours wrapped twice", err: fmt.Errorf("b: %w", fmt.Errorf("a: %w", ours)), code: codes.NotFound,
			msg: "b: a: rpc error: code = NotFound desc = missing", ok: true},
		{name: "ours joined", err: errors.Join(io.EOF, ours), code: codes.NotFound,
			msg: "EOF\nrpc error: code = NotFound desc = missing", ok: true},
		{name: "first of joined wins", err: errors.Join(Error(codes.Aborted, "a"), ours), code: codes.Aborted,
			msg: "rpc error: code = Aborted desc = a\nrpc error: code = NotFound desc = missing", ok: true},
		{name: "plain", err: errors.New("boom"), code: codes.Unknown, msg: "boom", ok: false},
		{name: "plain wrapped", err: fmt.Errorf("x: %w", io.EOF), code: codes.Unknown, msg: "x: EOF", ok: false},
		{name: "grpc-shaped", err: fake, code: codes.PermissionDenied, msg: "nope", ok: true},
		{name: "grpc-shaped wrapped", err: fmt.Errorf("ctx: %w", fake), code: codes.PermissionDenied,
			msg: "ctx: rpc error: code = PermissionDenied desc = nope", ok: true},
		{name: "grpc-shaped joined", err: errors.Join(errors.New("first"), fake), code: codes.PermissionDenied,
			msg: "first\nrpc error: code = PermissionDenied desc = nope", ok: true},
		{name: "grpc-shaped nil status", err: &fakeGRPCError{s: nil}, code: codes.Unknown,
			msg: "rpc error: code = OK desc = ", ok: false},
		{name: "wraps nil grpc-shaped pointer", err: nilPtrWrapper{}, code: codes.Unknown,
			msg: "<nil>", ok: false},
		{name: "interface result", err: ifaceGRPCError{s: &fakeGRPCStatus{p: &spb.Status{Code: 14, Message: "later"}}},
			code: codes.Unavailable, msg: "later", ok: true},
		{name: "interface result nil", err: ifaceGRPCError{}, code: codes.Unknown, msg: "iface", ok: false},
		{name: "wrong shape", err: wrongShapeError{}, code: codes.Unknown, msg: "wrong shape", ok: false},
		{name: "panicking GRPCStatus", err: &panickyError{}, code: codes.Unknown, msg: "panicky", ok: false},
		{name: "our carrier", err: ourCarrier{s: New(codes.DataLoss, "lost")}, code: codes.DataLoss, msg: "lost", ok: true},
		{name: "our carrier nil", err: ourCarrier{}, code: codes.Unknown, msg: "carrier", ok: false},
		{name: "as method", err: asOnly{s: New(codes.Aborted, "inner")}, code: codes.Aborted, msg: "as only", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := FromError(tt.err)
			if ok != tt.ok {
				t.Errorf("ok = %v, want %v", ok, tt.ok)
			}
			if tt.nilOut {
				if s != nil {
					t.Errorf("status = %v, want nil", s)
				}
				return
			}
			if s.Code() != tt.code || s.Message() != tt.msg {
				t.Errorf("got (%v, %q), want (%v, %q)", s.Code(), s.Message(), tt.code, tt.msg)
			}
			if got := Code(tt.err); got != tt.code {
				t.Errorf("Code() = %v, want %v", got, tt.code)
			}
			if got := Convert(tt.err); got.Code() != tt.code || got.Message() != tt.msg {
				t.Errorf("Convert() = %v", got)
			}
		})
	}
}

// nilPtrWrapper wraps a nil *fakeGRPCError: the walk must not call methods
// on the nil pointer (grpc-go's own GRPCStatus would dereference it).
type nilPtrWrapper struct{}

func (nilPtrWrapper) Error() string { return "<nil>" }
func (nilPtrWrapper) Unwrap() error { return (*fakeGRPCError)(nil) }

func TestFromErrorKeepsDetailsWhenWrapped(t *testing.T) {
	s, err := New(codes.FailedPrecondition, "pre").WithDetails(wrapperspb.String("why"))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := FromError(fmt.Errorf("outer: %w", s.Err()))
	if !ok || got.Code() != codes.FailedPrecondition {
		t.Fatalf("FromError = %v, %v", got, ok)
	}
	d := got.Details()
	if len(d) != 1 || d[0].(*wrapperspb.StringValue).GetValue() != "why" {
		t.Fatalf("details = %v", d)
	}
	if s.Message() != "pre" {
		t.Fatalf("wrapping changed the original status: %q", s.Message())
	}
}

func TestFromErrorReturnsSameStatus(t *testing.T) {
	s := New(codes.Internal, "x")
	got, ok := FromError(s.Err())
	if !ok || got != s {
		t.Fatalf("FromError(s.Err()) = %p, %v; want %p", got, ok, s)
	}
}

func TestCodeOfNil(t *testing.T) {
	if c := Code(nil); c != codes.OK {
		t.Fatalf("Code(nil) = %v", c)
	}
	if s := Convert(nil); s != nil {
		t.Fatalf("Convert(nil) = %v", s)
	}
}

func TestFromContextError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code codes.Code
	}{
		{"deadline", context.DeadlineExceeded, codes.DeadlineExceeded},
		{"canceled", context.Canceled, codes.Canceled},
		{"wrapped deadline", fmt.Errorf("op: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
		{"wrapped canceled", fmt.Errorf("op: %w", context.Canceled), codes.Canceled},
		{"cause", context.Cause(canceledWithCause()), codes.Unknown},
		{"other", io.EOF, codes.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := FromContextError(tt.err)
			if s.Code() != tt.code || s.Message() != tt.err.Error() {
				t.Fatalf("got (%v, %q), want (%v, %q)", s.Code(), s.Message(), tt.code, tt.err.Error())
			}
		})
	}
	if s := FromContextError(nil); s != nil {
		t.Fatalf("FromContextError(nil) = %v", s)
	}
}

func canceledWithCause() context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("custom cause"))
	return ctx
}

func TestIs(t *testing.T) {
	withDetail, err := New(codes.NotFound, "a").WithDetails(wrapperspb.Int32(1))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"equal", Error(codes.NotFound, "a"), Error(codes.NotFound, "a"), true},
		{"other message", Error(codes.NotFound, "a"), Error(codes.NotFound, "b"), false},
		{"other code", Error(codes.NotFound, "a"), Error(codes.Internal, "a"), false},
		{"details differ", withDetail.Err(), Error(codes.NotFound, "a"), false},
		{"wrapped", fmt.Errorf("x: %w", Error(codes.NotFound, "a")), Error(codes.NotFound, "a"), true},
		{"plain target", Error(codes.Unknown, "EOF"), io.EOF, false},
		{"grpc-shaped target", Error(codes.NotFound, "a"), newFake(codes.NotFound, "a"), true},
		{"grpc-shaped target differs", Error(codes.NotFound, "a"), newFake(codes.NotFound, "b"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Fatalf("errors.Is = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDetails(t *testing.T) {
	base := New(codes.InvalidArgument, "bad")
	s, err := base.WithDetails(wrapperspb.String("field x"), durationpb.New(3))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(base.Details()); n != 0 {
		t.Fatalf("WithDetails modified the receiver: %d details", n)
	}
	d := s.Details()
	if len(d) != 2 {
		t.Fatalf("got %d details, want 2", len(d))
	}
	if v, ok := d[0].(*wrapperspb.StringValue); !ok || v.GetValue() != "field x" {
		t.Errorf("detail 0 = %#v", d[0])
	}
	if v, ok := d[1].(*durationpb.Duration); !ok || v.GetNanos() != 3 {
		t.Errorf("detail 1 = %#v", d[1])
	}
	if s.Code() != codes.InvalidArgument || s.Message() != "bad" {
		t.Errorf("code/message changed: %v", s)
	}
	if got := Convert(ErrorProto(s.Proto())).Details(); len(got) != 2 {
		t.Errorf("details lost through ErrorProto: %v", got)
	}

	if _, err := New(codes.OK, "").WithDetails(wrapperspb.String("x")); err == nil {
		t.Error("WithDetails on an OK status succeeded")
	}
	var nilStatus *Status
	if _, err := nilStatus.WithDetails(); err == nil {
		t.Error("WithDetails on a nil status succeeded")
	}
	if d := nilStatus.Details(); d != nil {
		t.Errorf("nil status details = %v", d)
	}

	unknown := FromProto(&spb.Status{Code: 2, Details: []*anypb.Any{{TypeUrl: "type.googleapis.com/no.such.Type", Value: []byte{1}}}})
	d = unknown.Details()
	if len(d) != 1 {
		t.Fatalf("got %d details, want 1", len(d))
	}
	if _, isErr := d[0].(error); !isErr {
		t.Errorf("unregistered detail = %#v, want an error", d[0])
	}
}

// TestFromErrorConcurrent exercises the shape cache from many goroutines;
// run with -race.
func TestFromErrorConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				err := fmt.Errorf("w%d: %w", i, newFake(codes.Aborted, "x"))
				if Code(err) != codes.Aborted {
					t.Error("lost the code")
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestForeignProtoNilReceiver(t *testing.T) {
	// A typed nil pointer must not have its methods called: grpc-go's
	// GRPCStatus would dereference it.
	p, found := foreignProto((*fakeGRPCError)(nil))
	if !found || p != nil {
		t.Fatalf("foreignProto(nil pointer) = %v, %v; want nil, true", p, found)
	}
	if _, found := foreignProto(io.EOF); found {
		t.Fatal("io.EOF recognised as a status carrier")
	}
}
