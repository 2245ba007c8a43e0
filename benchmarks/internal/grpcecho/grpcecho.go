// Package grpcecho serves and calls the benchmark echo service with
// google.golang.org/grpc, using a hand-written service description and the
// library's default settings.
package grpcecho

import (
	"context"
	"errors"
	"io"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/benchmarks/internal/echo"
)

const (
	fullUnary  = "/" + echo.Service + "/" + echo.MethodUnary
	fullStream = "/" + echo.Service + "/" + echo.MethodStream
	fullBidi   = "/" + echo.Service + "/" + echo.MethodBidi
)

var (
	streamDesc = grpc.StreamDesc{StreamName: echo.MethodStream, ServerStreams: true}
	bidiDesc   = grpc.StreamDesc{StreamName: echo.MethodBidi, ServerStreams: true, ClientStreams: true}
)

var serviceDesc = grpc.ServiceDesc{
	ServiceName: echo.Service,
	// The handlers ignore their srv argument, so any value satisfies this.
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: echo.MethodUnary,
		Handler: func(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			req := new(wrapperspb.BytesValue)
			if err := dec(req); err != nil {
				return nil, err
			}
			return req, nil
		},
	}},
	Streams: []grpc.StreamDesc{
		{StreamName: echo.MethodStream, ServerStreams: true, Handler: serverStream},
		{StreamName: echo.MethodBidi, ServerStreams: true, ClientStreams: true, Handler: bidi},
	},
}

func serverStream(_ any, ss grpc.ServerStream) error {
	req := new(wrapperspb.BytesValue)
	if err := ss.RecvMsg(req); err != nil {
		return err
	}
	for range echo.StreamCount {
		if err := ss.SendMsg(req); err != nil {
			return err
		}
	}
	return nil
}

func bidi(_ any, ss grpc.ServerStream) error {
	m := new(wrapperspb.BytesValue)
	for {
		if err := ss.RecvMsg(m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if err := ss.SendMsg(m); err != nil {
			return err
		}
	}
}

// NewServer returns a gRPC server with the echo service registered.
func NewServer() *grpc.Server {
	s := grpc.NewServer()
	s.RegisterService(&serviceDesc, struct{}{})
	return s
}

// Serve runs s on l until the returned stop function is called; stop ends
// every connection at once and always returns nil.
func Serve(s *grpc.Server, l net.Listener) (stop func() error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(l) // returns nil after Stop
	}()
	return func() error {
		s.Stop()
		<-done
		return nil
	}
}

// Dial returns an echo client for the unix socket at path, or the error of
// creating the client. gRPC connects lazily: the first call opens the
// connection, and every call of the client shares it.
func Dial(path string) (echo.Client, error) {
	cc, err := grpc.NewClient("unix://"+path, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	return client{cc}, nil
}

type client struct{ cc *grpc.ClientConn }

func (c client) Unary(ctx context.Context, req, resp *wrapperspb.BytesValue) error {
	return c.cc.Invoke(ctx, fullUnary, req, resp)
}

func (c client) ServerStream(ctx context.Context, req, resp *wrapperspb.BytesValue) (int, error) {
	st, err := c.cc.NewStream(ctx, &streamDesc, fullStream)
	if err != nil {
		return 0, err
	}
	if err := st.SendMsg(req); err != nil {
		return 0, err
	}
	if err := st.CloseSend(); err != nil {
		return 0, err
	}
	n := 0
	for {
		if err := st.RecvMsg(resp); err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
		n++
	}
}

func (c client) Bidi(ctx context.Context) (echo.BidiStream, error) {
	st, err := c.cc.NewStream(ctx, &bidiDesc, fullBidi)
	if err != nil {
		return nil, err
	}
	return bidiStream{st}, nil
}

func (c client) Close() error { return c.cc.Close() }

type bidiStream struct{ st grpc.ClientStream }

func (b bidiStream) Send(m *wrapperspb.BytesValue) error { return b.st.SendMsg(m) }
func (b bidiStream) Recv(m *wrapperspb.BytesValue) error { return b.st.RecvMsg(m) }

func (b bidiStream) Close() error {
	if err := b.st.CloseSend(); err != nil {
		return err
	}
	var m wrapperspb.BytesValue
	for {
		if err := b.st.RecvMsg(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
