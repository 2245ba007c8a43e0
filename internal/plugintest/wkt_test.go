package plugintest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	gogotypes "github.com/gogo/protobuf/types"
	"github.com/ttrpc-go/ttrpc"
	gowkt "github.com/ttrpc-go/ttrpc/internal/plugintest/gen/wkt/v1"
	gogowkt "github.com/ttrpc-go/ttrpc/internal/plugintest/gengogo/wkt/v1"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// clockTime is what both Clock servers report; nanoseconds make a lossy
// conversion visible.
var clockTime = time.Unix(1700000000, 123456789).UTC()

const payloadURL = "type.googleapis.com/demo.common.v1.Note"

type goClock struct{}

func (goClock) Now(context.Context, *emptypb.Empty) (*gowkt.Event, error) {
	return &gowkt.Event{
		At:      timestamppb.New(clockTime),
		Payload: &anypb.Any{TypeUrl: payloadURL, Value: []byte{0x0a, 0x01, 'n'}},
		Labels:  map[string]string{"k": "v"},
	}, nil
}

func (goClock) Watch(_ context.Context, _ *emptypb.Empty, s gowkt.Clock_WatchServer) error {
	for i := 0; i < 2; i++ {
		if err := s.Send(&gowkt.Event{At: timestamppb.New(clockTime.Add(time.Duration(i) * time.Second))}); err != nil {
			return err
		}
	}
	return nil
}

func (goClock) Idle(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

type gogoClock struct{}

func (gogoClock) Now(context.Context, *gogotypes.Empty) (*gogowkt.Event, error) {
	at, err := gogotypes.TimestampProto(clockTime)
	if err != nil {
		return nil, err
	}
	return &gogowkt.Event{
		At:      at,
		Payload: &gogotypes.Any{TypeUrl: payloadURL, Value: []byte{0x0a, 0x01, 'n'}},
		Labels:  map[string]string{"k": "v"},
	}, nil
}

func (gogoClock) Watch(_ context.Context, _ *gogotypes.Empty, s gogowkt.Clock_WatchServer) error {
	for i := 0; i < 2; i++ {
		at, err := gogotypes.TimestampProto(clockTime.Add(time.Duration(i) * time.Second))
		if err != nil {
			return err
		}
		if err := s.Send(&gogowkt.Event{At: at}); err != nil {
			return err
		}
	}
	return nil
}

func (gogoClock) Idle(context.Context, *gogotypes.Empty) (*gogotypes.Empty, error) {
	return &gogotypes.Empty{}, nil
}

// Every observation a Clock client makes, identical for both flavours.
const wantClock = "now=2023-11-14T22:13:20.123456789Z payload=" + payloadURL + ":0a016e labels=map[k:v] " +
	"watch=[2023-11-14T22:13:20.123456789Z 2023-11-14T22:13:21.123456789Z] idle=ok"

func goClockClient(ctx context.Context, c gowkt.ClockClient) (string, error) {
	ev, err := c.Now(ctx, &emptypb.Empty{})
	if err != nil {
		return "", err
	}
	s, err := c.Watch(ctx, &emptypb.Empty{})
	if err != nil {
		return "", err
	}
	var watched []string
	for {
		e, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		watched = append(watched, e.At.AsTime().Format(time.RFC3339Nano))
	}
	if _, err := c.Idle(ctx, &emptypb.Empty{}); err != nil {
		return "", err
	}
	return fmt.Sprintf("now=%s payload=%s:%x labels=%v watch=%v idle=ok",
		ev.At.AsTime().Format(time.RFC3339Nano), ev.Payload.TypeUrl, ev.Payload.Value, ev.Labels, watched), nil
}

func gogoClockClient(ctx context.Context, c gogowkt.ClockClient) (string, error) {
	ev, err := c.Now(ctx, &gogotypes.Empty{})
	if err != nil {
		return "", err
	}
	now, err := gogotypes.TimestampFromProto(ev.At)
	if err != nil {
		return "", err
	}
	s, err := c.Watch(ctx, &gogotypes.Empty{})
	if err != nil {
		return "", err
	}
	var watched []string
	for {
		e, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		at, err := gogotypes.TimestampFromProto(e.At)
		if err != nil {
			return "", err
		}
		watched = append(watched, at.UTC().Format(time.RFC3339Nano))
	}
	if _, err := c.Idle(ctx, &gogotypes.Empty{}); err != nil {
		return "", err
	}
	return fmt.Sprintf("now=%s payload=%s:%x labels=%v watch=%v idle=ok",
		now.UTC().Format(time.RFC3339Nano), ev.Payload.TypeUrl, ev.Payload.Value, ev.Labels, watched), nil
}

// TestWellKnownTypesRoundTrip mixes gogo's well-known types (the gogo
// plugin's default mapping) with protobuf-go's across the two flavours.
func TestWellKnownTypesRoundTrip(t *testing.T) {
	servers := map[string]func(*ttrpc.Server){
		"go server":   func(s *ttrpc.Server) { gowkt.RegisterClockService(s, goClock{}) },
		"gogo server": func(s *ttrpc.Server) { gogowkt.RegisterClockService(s, gogoClock{}) },
	}
	clients := map[string]func(context.Context, *ttrpc.Client) (string, error){
		"go client": func(ctx context.Context, c *ttrpc.Client) (string, error) {
			return goClockClient(ctx, gowkt.NewClockClient(c))
		},
		"gogo client": func(ctx context.Context, c *ttrpc.Client) (string, error) {
			return gogoClockClient(ctx, gogowkt.NewClockClient(c))
		},
	}
	for cname, run := range clients {
		for sname, register := range servers {
			t.Run(cname+" to "+sname, func(t *testing.T) {
				got, err := run(testContext(t), serve(t, register))
				if err != nil {
					t.Fatal(err)
				}
				if got != wantClock {
					t.Errorf("got  %s\nwant %s", got, wantClock)
				}
			})
		}
	}
}
