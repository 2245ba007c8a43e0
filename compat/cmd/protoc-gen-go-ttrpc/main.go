// Command protoc-gen-go-ttrpc is containerd's protoc plugin, as NRI's
// go.mod and containerd's setup scripts name it
// (github.com/containerd/ttrpc/cmd/protoc-gen-go-ttrpc): under the replace
// of github.com/containerd/ttrpc by ttrpc-go's compatibility module, that
// path resolves here. Its output is containerd/ttrpc v1.2.10's generator's
// for the github.com/containerd/ttrpc import path, with
// RegisterXService(srv *ttrpc.Server, ...), apart from the two fixes listed
// in the documentation of github.com/ttrpc-go/ttrpc/plugin/genttrpc (the
// proto method name on the wire; no unused "context" import).
//
// Parameters are protogen's usual ones (paths=, module=, M<file>=<package>)
// plus prefix=<X>, prepended to every service's Go name; unknown ones are
// ignored, as containerd's plugin does.
package main

import (
	"fmt"
	"io"
	"os"

	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"

	"github.com/ttrpc-go/ttrpc/plugin/genttrpc"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "protoc-gen-go-ttrpc:", err)
		os.Exit(1)
	}
}

// run reads a CodeGeneratorRequest from r and writes the response to w.
// Generation errors go into the response, as protoc expects; the returned
// error is about reading, decoding or writing.
func run(r io.Reader, w io.Writer) error {
	in, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	req := new(pluginpb.CodeGeneratorRequest)
	if err := proto.Unmarshal(in, req); err != nil {
		return err
	}
	resp, err := generate(req)
	if err != nil {
		return err
	}
	out, err := proto.Marshal(resp)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// generate answers one request with containerd-compatible stubs. It fails
// when the request's parameters or descriptors are invalid.
func generate(req *pluginpb.CodeGeneratorRequest) (*pluginpb.CodeGeneratorResponse, error) {
	opts := genttrpc.Options{
		RuntimeImportPath:  "github.com/containerd/ttrpc",
		ServerOnlyRegister: true,
	}
	gen, err := protogen.Options{ParamFunc: func(name, value string) error {
		if name == "prefix" {
			opts.Prefix = value
		}
		return nil
	}}.New(req)
	if err != nil {
		return nil, err
	}
	gen.SupportedFeatures = uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL)
	for _, f := range gen.Files {
		if f.Generate {
			genttrpc.GenerateFile(gen, f, opts)
		}
	}
	return gen.Response(), nil
}
