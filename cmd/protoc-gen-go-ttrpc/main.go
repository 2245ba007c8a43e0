// Command protoc-gen-go-ttrpc is a protoc plugin that writes ttrpc service
// stubs into "<file>_ttrpc.pb.go", next to the messages protoc-gen-go writes.
//
// Usage:
//
//	protoc --go_out=. --go_opt=paths=source_relative \
//		--go-ttrpc_out=. --go-ttrpc_opt=paths=source_relative,prefix=TTRPC \
//		foo.proto
//
// Parameters are protogen's usual ones (paths=, module=, M<file>=<package>)
// plus prefix=<X>, which is prepended to every service's Go name. Unknown
// parameters are ignored. Files without services produce no output.
//
// The generated RegisterXService takes a *ttrpc.Server or a *ttrpc.Client
// (anything with RegisterService(string, *ttrpc.ServiceDesc)), so a client
// serves a service to the server it is connected to in one line; otherwise
// the output is that of containerd's plugin (see package plugin/genttrpc).
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/ttrpc-go/ttrpc/plugin/genttrpc"
	"google.golang.org/protobuf/compiler/protogen"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"
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

// generate answers one request. It fails when the request's parameters or
// descriptors are invalid.
func generate(req *pluginpb.CodeGeneratorRequest) (*pluginpb.CodeGeneratorResponse, error) {
	var opts genttrpc.Options
	gen, err := protogen.Options{ParamFunc: func(name, value string) error {
		if name == "prefix" {
			opts.Prefix = value
		}
		return nil // like containerd's plugin, ignore what we do not know
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
