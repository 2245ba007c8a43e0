// Package ctrdgen runs protoc-gen-go-ttrpc's generator over containerd's
// API. Its input is the set of descriptors containerd compiled into its own
// Go packages, so it needs neither protoc nor containerd's .proto files, and
// it covers exactly the API those packages implement.
package ctrdgen

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/ttrpc-go/ttrpc/plugin/genttrpc"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"

	// Every containerd API package with a service; importing them
	// registers their descriptors. TestEveryServiceCovered fails when
	// containerd adds a service file that is missing here.
	_ "github.com/containerd/containerd/api/runtime/sandbox/v1"
	_ "github.com/containerd/containerd/api/runtime/task/v2"
	_ "github.com/containerd/containerd/api/runtime/task/v3"
	_ "github.com/containerd/containerd/api/services/containers/v1"
	_ "github.com/containerd/containerd/api/services/content/v1"
	_ "github.com/containerd/containerd/api/services/diff/v1"
	_ "github.com/containerd/containerd/api/services/events/v1"
	_ "github.com/containerd/containerd/api/services/images/v1"
	_ "github.com/containerd/containerd/api/services/introspection/v1"
	_ "github.com/containerd/containerd/api/services/leases/v1"
	_ "github.com/containerd/containerd/api/services/mounts/v1"
	_ "github.com/containerd/containerd/api/services/namespaces/v1"
	_ "github.com/containerd/containerd/api/services/sandbox/v1"
	_ "github.com/containerd/containerd/api/services/snapshots/v1"
	_ "github.com/containerd/containerd/api/services/streaming/v1"
	_ "github.com/containerd/containerd/api/services/tasks/v1"
	_ "github.com/containerd/containerd/api/services/transfer/v1"
	_ "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	_ "github.com/containerd/containerd/api/services/version/v1"
)

// APIModule is the Go module of containerd's API.
const APIModule = "github.com/containerd/containerd/api"

// StubsRoot is the import path below which the stubs for containerd's API
// are generated, one package per proto directory.
const StubsRoot = "github.com/ttrpc-go/ttrpc/interop/containerdapi"

// Prefix is the prefix= parameter containerd generates its API with.
const Prefix = "TTRPC"

// ServiceFiles returns the paths of the registered containerd API proto
// files that declare at least one service, sorted.
func ServiceFiles() []string {
	var files []string
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		goPkg := fd.Options().(*descriptorpb.FileOptions).GetGoPackage()
		if fd.Services().Len() > 0 && strings.HasPrefix(goPkg, APIModule+"/") {
			files = append(files, fd.Path())
		}
		return true
	})
	sort.Strings(files)
	return files
}

// Generate returns the ttrpc stubs of every file of ServiceFiles, by
// output file name ("services/tasks/v1/tasks_ttrpc.pb.go"). With apart
// set, each file is generated into its own package below StubsRoot and
// refers to containerd's messages by import; otherwise it is generated into
// containerd's package, as containerd itself does. It fails when the
// generator rejects the descriptors.
func Generate(apart bool) (map[string][]byte, error) {
	files := ServiceFiles()
	req := &pluginpb.CodeGeneratorRequest{
		FileToGenerate: files,
		Parameter:      proto.String("paths=source_relative,prefix=" + Prefix),
	}
	seen := make(map[string]bool)
	var add func(fd protoreflect.FileDescriptor)
	add = func(fd protoreflect.FileDescriptor) {
		if seen[fd.Path()] {
			return
		}
		seen[fd.Path()] = true
		imports := fd.Imports()
		for i := 0; i < imports.Len(); i++ {
			add(imports.Get(i).FileDescriptor)
		}
		req.ProtoFile = append(req.ProtoFile, protodesc.ToFileDescriptorProto(fd))
	}
	for _, name := range files {
		fd, err := protoregistry.GlobalFiles.FindFileByPath(name)
		if err != nil {
			return nil, err
		}
		add(fd)
	}
	gen, err := protogen.Options{}.New(req)
	if err != nil {
		return nil, err
	}
	for _, f := range gen.Files {
		if !f.Generate {
			continue
		}
		opts := genttrpc.Options{Prefix: Prefix}
		if apart {
			opts.ImportPath = protogen.GoImportPath(StubsRoot + "/" + path.Dir(f.Desc.Path()))
		}
		genttrpc.GenerateFile(gen, f, opts)
	}
	resp := gen.Response()
	if resp.Error != nil {
		return nil, fmt.Errorf("generator: %s", resp.GetError())
	}
	out := make(map[string][]byte, len(resp.File))
	for _, f := range resp.File {
		out[f.GetName()] = []byte(f.GetContent())
	}
	return out, nil
}
