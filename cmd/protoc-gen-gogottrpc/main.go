// Command protoc-gen-gogottrpc is a gogo protobuf generator with the ttrpc
// plugin built in. It writes messages (with fast Marshal, Unmarshal and Size
// methods) and ttrpc service stubs into one "<file>.pb.go".
//
// Usage:
//
//	protoc --gogottrpc_out=plugins=ttrpc,paths=source_relative:. foo.proto
//
// It takes the parameters of gogo's protoc-gen-gogo: "plugins=ttrpc" is
// needed for the stubs (without it only messages are written), and
// import_path=, import_prefix=, paths=import|source_relative and
// M<file>=<package> work as usual. The vanity settings applied to every file
// are those of gogofaster: marshaler, unmarshaler, sizer and stringer on,
// getters and GoString off.
//
// Unless an M parameter says otherwise, the well-known types
// (google/protobuf/timestamp.proto and the like) map to gogo's own Go
// packages (github.com/gogo/protobuf/types), the usual setting of gogo code
// bases: the marshalling code gogo writes for a message calls methods only
// gogo's versions of those types have.
//
// Files with proto3 optional fields are accepted: gogo predates them and
// generates each one as a oneof with a single member (field XName of type
// isMsg_XName, member type Msg_Name), which keeps presence and the wire
// format.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gogo/protobuf/proto"
	"github.com/gogo/protobuf/protoc-gen-gogo/descriptor"
	plugin "github.com/gogo/protobuf/protoc-gen-gogo/plugin"
	"github.com/gogo/protobuf/vanity"
	"github.com/gogo/protobuf/vanity/command"
	_ "github.com/ttrpc-go/ttrpc/plugin"
	"google.golang.org/protobuf/encoding/protowire"
)

// featureProto3Optional is CodeGeneratorResponse.Feature.FEATURE_PROTO3_OPTIONAL.
const featureProto3Optional = 1

// supportedFeaturesField is the number of CodeGeneratorResponse's
// supported_features field, which gogo's copy of plugin.proto predates.
const supportedFeaturesField = 2

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "protoc-gen-gogottrpc:", err)
		os.Exit(1)
	}
}

// run reads a CodeGeneratorRequest from r and writes the response to w. It
// fails only on I/O and encoding errors; generation problems are reported in
// the response, or make gogo's generator exit the process.
func run(r io.Reader, w io.Writer) error {
	in, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	req := new(plugin.CodeGeneratorRequest)
	if err := proto.Unmarshal(in, req); err != nil {
		return err
	}
	out, err := marshalResponse(generate(req))
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// gogoWellKnown maps the well-known proto files to gogo's Go packages.
var gogoWellKnown = map[string]string{
	"google/protobuf/any.proto":             "github.com/gogo/protobuf/types",
	"google/protobuf/api.proto":             "github.com/gogo/protobuf/types",
	"google/protobuf/duration.proto":        "github.com/gogo/protobuf/types",
	"google/protobuf/empty.proto":           "github.com/gogo/protobuf/types",
	"google/protobuf/field_mask.proto":      "github.com/gogo/protobuf/types",
	"google/protobuf/source_context.proto":  "github.com/gogo/protobuf/types",
	"google/protobuf/struct.proto":          "github.com/gogo/protobuf/types",
	"google/protobuf/timestamp.proto":       "github.com/gogo/protobuf/types",
	"google/protobuf/type.proto":            "github.com/gogo/protobuf/types",
	"google/protobuf/wrappers.proto":        "github.com/gogo/protobuf/types",
	"google/protobuf/descriptor.proto":      "github.com/gogo/protobuf/protoc-gen-gogo/descriptor",
	"google/protobuf/compiler/plugin.proto": "github.com/gogo/protobuf/protoc-gen-gogo/plugin",
}

// withWellKnownMappings returns the generator parameter extended with an M
// mapping to gogo's packages for every well-known file of the request that
// the parameter does not map itself.
func withWellKnownMappings(param string, files []*descriptor.FileDescriptorProto) string {
	mapped := make(map[string]bool)
	for _, p := range strings.Split(param, ",") {
		if name, _, ok := strings.Cut(p, "="); ok && strings.HasPrefix(name, "M") {
			mapped[name[1:]] = true
		}
	}
	var extra []string
	for _, f := range files {
		if pkg, ok := gogoWellKnown[f.GetName()]; ok && !mapped[f.GetName()] {
			extra = append(extra, "M"+f.GetName()+"="+pkg)
		}
	}
	if len(extra) == 0 {
		return param
	}
	if param != "" {
		extra = append([]string{param}, extra...)
	}
	return strings.Join(extra, ",")
}

// generate applies the vanity settings and runs gogo's generator.
func generate(req *plugin.CodeGeneratorRequest) *plugin.CodeGeneratorResponse {
	req.Parameter = proto.String(withWellKnownMappings(req.GetParameter(), req.GetProtoFile()))
	files := vanity.FilterFiles(req.GetProtoFile(), vanity.NotGoogleProtobufDescriptorProto)
	for _, opt := range []func(*descriptor.FileDescriptorProto){
		vanity.TurnOffGoGettersAll,
		vanity.TurnOffGoStringerAll,
		vanity.TurnOnMarshalerAll,
		vanity.TurnOnStringerAll,
		vanity.TurnOnUnmarshalerAll,
		vanity.TurnOnSizerAll,
	} {
		vanity.ForEachFile(files, opt)
	}
	return command.Generate(req)
}

// marshalResponse encodes resp and declares proto3 optional support, so that
// protoc hands such files to the plugin. gogo treats the synthetic oneof of
// an optional field as an ordinary oneof, which keeps field presence and the
// wire format.
func marshalResponse(resp *plugin.CodeGeneratorResponse) ([]byte, error) {
	out, err := proto.Marshal(resp)
	if err != nil {
		return nil, err
	}
	out = protowire.AppendTag(out, supportedFeaturesField, protowire.VarintType)
	return protowire.AppendVarint(out, featureProto3Optional), nil
}
