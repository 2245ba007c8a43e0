package genttrpc_test

import (
	"google.golang.org/protobuf/compiler/protogen"

	"github.com/ttrpc-go/ttrpc/plugin/genttrpc"
)

// The main function of a protoc plugin writing stubs for containerd's
// runtime, with containerd's RegisterXService(srv *ttrpc.Server, ...)
// signature. (Compiled only: a plugin reads its request from protoc.)
func ExampleGenerateFile() {
	opts := genttrpc.Options{
		RuntimeImportPath:  "github.com/containerd/ttrpc",
		ServerOnlyRegister: true,
	}
	protogen.Options{}.Run(func(gen *protogen.Plugin) error {
		for _, f := range gen.Files {
			if f.Generate {
				genttrpc.GenerateFile(gen, f, opts)
			}
		}
		return nil
	})
}
