package main

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

// The stubs import github.com/containerd/ttrpc and register on a
// *ttrpc.Server, as containerd's generator writes them. (interop/ compares
// the generator with containerd's own plugin byte for byte.)
func TestContainerdShapedOutput(t *testing.T) {
	file := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("demo/v1/demo.proto"),
		Package: proto.String("demo.v1"),
		Syntax:  proto.String("proto3"),
		Options: &descriptorpb.FileOptions{GoPackage: proto.String("example.com/demo/v1;demo")},
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Ping")},
		},
		Service: []*descriptorpb.ServiceDescriptorProto{{
			Name: proto.String("Demo"),
			Method: []*descriptorpb.MethodDescriptorProto{{
				Name:       proto.String("Echo"),
				InputType:  proto.String(".demo.v1.Ping"),
				OutputType: proto.String(".demo.v1.Ping"),
			}},
		}},
	}
	req := &pluginpb.CodeGeneratorRequest{
		FileToGenerate: []string{file.GetName()},
		Parameter:      proto.String("paths=source_relative,prefix=TTRPC"),
		ProtoFile:      []*descriptorpb.FileDescriptorProto{file},
	}
	resp, err := generate(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Error != nil || len(resp.File) != 1 {
		t.Fatalf("response: %v", resp)
	}
	out := resp.File[0].GetContent()
	for _, want := range []string{
		`ttrpc "github.com/containerd/ttrpc"`,
		"func RegisterTTRPCDemoService(srv *ttrpc.Server, svc TTRPCDemoService)",
		"func NewTTRPCDemoClient(client *ttrpc.Client) TTRPCDemoService",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if resp.File[0].GetName() != "demo/v1/demo_ttrpc.pb.go" {
		t.Errorf("file name %q", resp.File[0].GetName())
	}
}
