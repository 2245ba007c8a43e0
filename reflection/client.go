package reflection

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/codes"
	reflectionv1 "github.com/ttrpc-go/ttrpc/reflection/v1"
	"github.com/ttrpc-go/ttrpc/status"
)

// Client asks a server's reflection service what it serves.
type Client struct {
	rc reflectionv1.ReflectionService
}

// NewClient returns a reflection client calling over c.
func NewClient(c *ttrpc.Client) *Client {
	return &Client{rc: reflectionv1.NewReflectionClient(c)}
}

// ListServices returns the services the server serves, sorted by name. It
// fails wrapping ErrNotServed when the server has no reflection, and with
// the call's error otherwise.
func (c *Client) ListServices(ctx context.Context) ([]*reflectionv1.ServiceInfo, error) {
	resp, err := c.rc.ListServices(ctx, &reflectionv1.ListServicesRequest{})
	if err != nil {
		return nil, callError(err)
	}
	return resp.GetServices(), nil
}

// FileContainingSymbol returns a registry of the file defining symbol (a
// fully-qualified name) and the files it imports, in which the caller then
// finds the descriptors. It fails wrapping ErrNotServed when the server has
// no reflection, with a NotFound status error for a symbol the server does
// not describe, and with the build error for descriptors that do not fit
// together.
func (c *Client) FileContainingSymbol(ctx context.Context, symbol string) (*protoregistry.Files, error) {
	resp, err := c.rc.FileContainingSymbol(ctx, &reflectionv1.FileContainingSymbolRequest{Symbol: symbol})
	if err != nil {
		return nil, callError(err)
	}
	return buildFiles(resp)
}

// FileByFilename returns a registry of the file at path and the files it
// imports; it fails as FileContainingSymbol does.
func (c *Client) FileByFilename(ctx context.Context, path string) (*protoregistry.Files, error) {
	resp, err := c.rc.FileByFilename(ctx, &reflectionv1.FileByFilenameRequest{Filename: path})
	if err != nil {
		return nil, callError(err)
	}
	return buildFiles(resp)
}

func callError(err error) error {
	if status.Code(err) == codes.Unimplemented {
		return fmt.Errorf("%w: %w", ErrNotServed, err)
	}
	return err
}

func buildFiles(resp *reflectionv1.FileDescriptorsResponse) (*protoregistry.Files, error) {
	set := &descriptorpb.FileDescriptorSet{}
	for i, b := range resp.GetFileDescriptorProto() {
		fdp := new(descriptorpb.FileDescriptorProto)
		if err := proto.Unmarshal(b, fdp); err != nil {
			return nil, fmt.Errorf("reflection: file descriptor %d of the answer: %w", i, err)
		}
		set.File = append(set.File, fdp)
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, fmt.Errorf("reflection: the server's descriptors do not build: %w", err)
	}
	return files, nil
}
