package consumers

import (
	"context"
	"fmt"
	"io"
	"testing"

	streamingapi "github.com/containerd/containerd/api/services/streaming/v1"
	"github.com/containerd/containerd/v2/core/streaming/proxy"
	"github.com/containerd/errdefs"
	"github.com/containerd/errdefs/pkg/errgrpc"
	"github.com/containerd/ttrpc"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
)

// containerd's streaming proxy (core/streaming/proxy) opens a bidirectional
// ttrpc stream, sends StreamInit, waits for an ack, and maps every stream
// error with errgrpc.ToNative. On the compat module those errors must
// still carry the shim's codes.
//
// The module links containerd v2.2.1's proxy: v2.4.2 requires go 1.26,
// above this repository's go 1.25 bound (make consumers-containerd runs
// v2.4.2's own suites from a downloaded tree instead). The proxy's error
// handling on the paths tested here is the same in both releases.

// streams answers the streaming service: "missing" ids are refused with
// NotFound before the ack; others are acked, echo one message and then
// fail with Unavailable.
type streams struct{}

func (streams) Stream(ctx context.Context, ss streamingapi.TTRPCStreaming_StreamServer) error {
	first, err := ss.Recv()
	if err != nil {
		return err
	}
	var init streamingapi.StreamInit
	if err := typeurl.UnmarshalTo(first, &init); err != nil {
		return err
	}
	if init.ID == "missing" {
		return errgrpc.ToGRPC(fmt.Errorf("stream %s: %w", init.ID, errdefs.ErrNotFound))
	}
	ack, _ := anypb.New(&emptypb.Empty{})
	if err := ss.Send(ack); err != nil {
		return err
	}
	msg, err := ss.Recv()
	if err != nil {
		return err
	}
	if err := ss.Send(msg); err != nil {
		return err
	}
	return errgrpc.ToGRPC(fmt.Errorf("stream %s: %w", init.ID, errdefs.ErrUnavailable))
}

func TestStreamingProxyErrdefs(t *testing.T) {
	srv, err := ttrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	streamingapi.RegisterTTRPCStreamingService(srv, streams{})
	creator := proxy.NewStreamCreator(serve(t, srv))
	ctx := testContext(t)

	if _, err := creator.Create(ctx, "missing"); !errdefs.IsNotFound(err) {
		t.Fatalf("Create of a missing stream: %v (%T), want errdefs NotFound", err, err)
	}

	s, err := creator.Create(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sent, _ := anypb.New(&emptypb.Empty{})
	if err := s.Send(typeurl.MarshalProto(sent)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil {
		t.Fatalf("echo: %v", err)
	}
	_, err = s.Recv()
	if err == io.EOF || !errdefs.IsUnavailable(err) {
		t.Fatalf("stream error through the proxy: %v (%T), want errdefs Unavailable", err, err)
	}
}
