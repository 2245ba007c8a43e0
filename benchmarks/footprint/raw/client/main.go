// Command client holds idle connections open to footprint/raw/server, each
// after one echo of a 16-byte BytesValue marshalled into a raw frame; see
// internal/fp.ClientMain.
package main

import (
	"context"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/benchmarks/internal/echo"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/fp"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/rawecho"
)

// protoClient sends each message marshalled, as the floor server expects.
type protoClient struct{ echo.Client }

func (c protoClient) Unary(ctx context.Context, req, resp *wrapperspb.BytesValue) error {
	b, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	var out wrapperspb.BytesValue
	if err := c.Client.Unary(ctx, &wrapperspb.BytesValue{Value: b}, &out); err != nil {
		return err
	}
	return proto.Unmarshal(out.Value, resp)
}

func main() {
	fp.ClientMain(func(path string) (echo.Client, error) {
		c, err := rawecho.Dial(path)
		if err != nil {
			return nil, err
		}
		return protoClient{c}, nil
	})
}
