package ttrpc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestClientInterceptorInfo: client interceptors get the peer's address,
// and may keep the envelopes, the response payload and the info of a call
// after it returned; later calls do not reuse them. (The request payload
// is a pooled buffer, as it always was: it is valid during the call only.)
func TestClientInterceptorInfo(t *testing.T) {
	checkGoroutines(t)
	ts := newEchoServer(t)
	type kept struct {
		req  *Request
		resp *Response
		info *UnaryClientInfo
	}
	var calls []kept
	var streamInfo *StreamClientInfo
	c := ts.dial(t,
		WithUnaryClientInterceptor(func(ctx context.Context, req *Request, resp *Response, info *UnaryClientInfo, inv Invoker) error {
			calls = append(calls, kept{req, resp, info})
			return inv(ctx, req, resp)
		}),
		WithStreamClientInterceptor(func(ctx context.Context, desc *StreamDesc, info *StreamClientInfo, service, method string, req any, streamer Streamer) (ClientStream, error) {
			streamInfo = info
			return streamer(ctx, desc, service, method, req)
		}))
	for i := range 3 {
		var out wrapperspb.BytesValue
		if err := c.Call(context.Background(), testService, "Echo", wrapperspb.Bytes([]byte{byte('a' + i)}), &out); err != nil {
			t.Fatal(err)
		}
	}
	for i, k := range calls {
		want := []byte{byte('a' + i)}
		var resp wrapperspb.BytesValue
		if k.req.Service != testService || k.req.Method != "Echo" {
			t.Errorf("call %d: kept request for %s/%s", i, k.req.Service, k.req.Method)
		}
		if err := unmarshalMessage(k.resp.Payload, &resp); err != nil || string(resp.Value) != string(want) {
			t.Errorf("call %d: kept response %q %v, want %q", i, resp.Value, err, want)
		}
		if k.info.FullMethod != "/"+testService+"/Echo" {
			t.Errorf("call %d: FullMethod %q", i, k.info.FullMethod)
		}
		if a, ok := k.info.RemoteAddr.(*net.UnixAddr); !ok || a.Name != ts.path {
			t.Errorf("call %d: RemoteAddr %#v, want the socket %s", i, k.info.RemoteAddr, ts.path)
		}
	}
	s, err := c.NewStream(context.Background(), &StreamDesc{StreamingServer: true}, testService, "Count", wrapperspb.Int32(1))
	if err != nil {
		t.Fatal(err)
	}
	for {
		if err := s.RecvMsg(&wrapperspb.Int32Value{}); errors.Is(err, errEOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if a, ok := streamInfo.RemoteAddr.(*net.UnixAddr); !ok || a.Name != ts.path {
		t.Errorf("stream RemoteAddr %#v, want the socket %s", streamInfo.RemoteAddr, ts.path)
	}
	if streamInfo.FullMethod != "/"+testService+"/Count" {
		t.Errorf("stream FullMethod %q", streamInfo.FullMethod)
	}
}

// TestMethodNameCache: cached names are those fullMethodName builds,
// cleaning included, before and after the cache is full.
func TestMethodNameCache(t *testing.T) {
	var mc methodNameCache
	names := [][2]string{{"pkg.v1.S", "M"}, {"a/../b", "M"}, {"", "M"}, {"S", ""}, {"S", "x/./y"}}
	for i := range maxCachedMethodNames + 8 {
		names = append(names, [2]string{"svc", fmt.Sprint("m", i)})
	}
	for range 2 {
		for _, n := range names {
			if got, want := mc.get(n[0], n[1]), fullMethodName(n[0], n[1]); got != want {
				t.Fatalf("get(%q, %q) = %q, want %q", n[0], n[1], got, want)
			}
		}
	}
	if p := mc.names.Load(); p == nil || len(*p) != maxCachedMethodNames {
		t.Errorf("cache holds %v names, want %d", p, maxCachedMethodNames)
	}
}

// TestHandlerMetadataFallsBack: a call without metadata sees the metadata
// of the context the server was started with, a call with metadata its
// own, as before the handler context carried it itself.
func TestHandlerMetadataFallsBack(t *testing.T) {
	checkGoroutines(t)
	srv, err := NewServer()
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService(testService, echoService())
	path := socketPath(t)
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(WithMetadata(context.Background(), MD{"base": {"1"}}), l) }()
	defer func() {
		srv.Close()
		<-served
	}()
	nc, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(nc)
	defer c.Close()
	for _, tc := range []struct {
		ctx  context.Context
		want string
	}{
		{context.Background(), "base=1"},
		{WithMetadata(context.Background(), MD{"k": {"v", "w"}}), "k=v,w"},
	} {
		var out wrapperspb.StringValue
		if err := c.Call(tc.ctx, testService, "Metadata", &wrapperspb.StringValue{}, &out); err != nil {
			t.Fatal(err)
		}
		if out.Value != tc.want {
			t.Errorf("handler saw metadata %q, want %q", out.Value, tc.want)
		}
	}
}
