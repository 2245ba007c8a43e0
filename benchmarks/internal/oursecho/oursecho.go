// Package oursecho serves and calls the benchmark echo service with
// github.com/ttrpc-go/ttrpc, the library under test.
//
// internal/ctrdecho is the same code against github.com/containerd/ttrpc; the
// two files differ only in the import path and package name, so that the
// comparison measures the libraries and nothing else.
package oursecho

import (
	"context"
	"errors"
	"io"
	"net"

	ttrpc "github.com/ttrpc-go/ttrpc"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/benchmarks/internal/echo"
)

// NewServer returns a ttrpc server with the echo service registered, or the
// error of creating the server.
func NewServer() (*ttrpc.Server, error) {
	s, err := ttrpc.NewServer()
	if err != nil {
		return nil, err
	}
	s.RegisterService(echo.Service, &ttrpc.ServiceDesc{
		Methods: map[string]ttrpc.Method{
			echo.MethodUnary: func(_ context.Context, unmarshal func(any) error) (any, error) {
				req := new(wrapperspb.BytesValue)
				if err := unmarshal(req); err != nil {
					return nil, err
				}
				return req, nil
			},
		},
		Streams: map[string]ttrpc.Stream{
			echo.MethodStream: {Handler: serverStream, StreamingServer: true},
			echo.MethodBidi:   {Handler: bidi, StreamingClient: true, StreamingServer: true},
		},
	})
	return s, nil
}

func serverStream(_ context.Context, ss ttrpc.StreamServer) (any, error) {
	req := new(wrapperspb.BytesValue)
	if err := ss.RecvMsg(req); err != nil {
		return nil, err
	}
	for range echo.StreamCount {
		if err := ss.SendMsg(req); err != nil {
			return nil, err
		}
	}
	return nil, nil
}

func bidi(_ context.Context, ss ttrpc.StreamServer) (any, error) {
	m := new(wrapperspb.BytesValue)
	for {
		if err := ss.RecvMsg(m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, nil
			}
			return nil, err
		}
		if err := ss.SendMsg(m); err != nil {
			return nil, err
		}
	}
}

// Serve runs s on l until the returned stop function is called; stop closes
// the server and returns the error of closing it.
func Serve(s *ttrpc.Server, l net.Listener) (stop func() error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(context.Background(), l) // returns ErrServerClosed after Close
	}()
	return func() error {
		err := s.Close()
		<-done
		return err
	}
}

// Dial connects to the unix socket at path and returns an echo client over
// one connection, or the dial error.
func Dial(path string) (echo.Client, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	return client{ttrpc.NewClient(conn)}, nil
}

type client struct{ c *ttrpc.Client }

func (c client) Unary(ctx context.Context, req, resp *wrapperspb.BytesValue) error {
	return c.c.Call(ctx, echo.Service, echo.MethodUnary, req, resp)
}

func (c client) ServerStream(ctx context.Context, req, resp *wrapperspb.BytesValue) (int, error) {
	st, err := c.c.NewStream(ctx, &ttrpc.StreamDesc{StreamingServer: true}, echo.Service, echo.MethodStream, req)
	if err != nil {
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
	st, err := c.c.NewStream(ctx, &ttrpc.StreamDesc{StreamingClient: true, StreamingServer: true}, echo.Service, echo.MethodBidi, nil)
	if err != nil {
		return nil, err
	}
	return bidiStream{st}, nil
}

func (c client) Close() error { return c.c.Close() }

type bidiStream struct{ st ttrpc.ClientStream }

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
