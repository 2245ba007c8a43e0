package genttrpc_test

import (
	"strings"
	"testing"

	"github.com/ttrpc-go/ttrpc/internal/plugintest"
	"github.com/ttrpc-go/ttrpc/plugin/genttrpc"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"
)

// generate runs GenerateFile with opts over the greeter test proto and
// returns the stub file's content.
func generate(t *testing.T, opts genttrpc.Options) string {
	t.Helper()
	var req pluginpb.CodeGeneratorRequest
	if err := proto.Unmarshal(plugintest.Request(t, "paths=source_relative", "greeter/v1/greeter.proto"), &req); err != nil {
		t.Fatal(err)
	}
	gen, err := protogen.Options{}.New(&req)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range gen.Files {
		if f.Generate && genttrpc.GenerateFile(gen, f, opts) == nil {
			t.Fatalf("%s: no stubs generated", f.Desc.Path())
		}
	}
	resp := gen.Response()
	if resp.Error != nil {
		t.Fatalf("generator: %s", resp.GetError())
	}
	if len(resp.File) != 1 {
		t.Fatalf("generated %d files, want 1", len(resp.File))
	}
	return resp.File[0].GetContent()
}

func TestRegisterParameter(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts genttrpc.Options
		want string
	}{
		{"default", genttrpc.Options{},
			"func RegisterGreeterService(srv interface {\n\tRegisterService(string, *ttrpc.ServiceDesc)\n}, svc GreeterService) {"},
		{"server only", genttrpc.Options{ServerOnlyRegister: true},
			"func RegisterGreeterService(srv *ttrpc.Server, svc GreeterService) {"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if src := generate(t, tc.opts); !strings.Contains(src, tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, src)
			}
		})
	}
}

func TestRuntimeImportPath(t *testing.T) {
	for _, tc := range []struct {
		path protogen.GoImportPath
		want string
	}{
		{"", `ttrpc "github.com/ttrpc-go/ttrpc"`},
		{"github.com/containerd/ttrpc", `ttrpc "github.com/containerd/ttrpc"`},
	} {
		t.Run(string(tc.path), func(t *testing.T) {
			src := generate(t, genttrpc.Options{RuntimeImportPath: tc.path})
			if !strings.Contains(src, tc.want) {
				t.Errorf("output lacks import %s:\n%s", tc.want, src)
			}
			if other := `"github.com/ttrpc-go/ttrpc"`; tc.path != "" && strings.Contains(src, other) {
				t.Errorf("output still imports %s:\n%s", other, src)
			}
		})
	}
}
