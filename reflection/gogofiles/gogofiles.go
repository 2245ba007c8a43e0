// Package gogofiles turns the file descriptors that gogo-generated code
// registers in gogo's own registry (github.com/gogo/protobuf/proto) into a
// protobuf-go registry, for the reflection service (reflection.WithResolver)
// or any other protobuf-go API. It is a package of its own so that
// programs using only protobuf-go never link gogo.
package gogofiles

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	gogoproto "github.com/gogo/protobuf/proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// ErrNotFound is wrapped by Load's error for a file path neither gogo's
// registry nor protoregistry.GlobalFiles knows.
var ErrNotFound = errors.New("gogofiles: file not registered")

// Load returns a registry holding the files at paths (as given to
// protoc, such as "example.proto") that gogo-generated code registered in
// gogo's registry, with every file they import. Imports gogo does not know,
// such as the well-known types, are taken from protoregistry.GlobalFiles.
// Pass the result to reflection.WithResolver. It fails, wrapping
// ErrNotFound, for a path neither registry has, and with the
// parser's error for a descriptor that does not build.
func Load(paths ...string) (*protoregistry.Files, error) {
	files := new(protoregistry.Files)
	for _, p := range paths {
		if err := loadGogoFile(files, p); err != nil {
			return nil, err
		}
	}
	return files, nil
}

func loadGogoFile(files *protoregistry.Files, path string) error {
	if _, err := files.FindFileByPath(path); err == nil {
		return nil
	}
	gz := gogoproto.FileDescriptor(path)
	if gz == nil {
		fd, err := protoregistry.GlobalFiles.FindFileByPath(path)
		if err != nil {
			return fmt.Errorf("%w: %s", ErrNotFound, path)
		}
		return files.RegisterFile(fd)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return fmt.Errorf("gogofiles: gogo descriptor of %s: %w", path, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return fmt.Errorf("gogofiles: gogo descriptor of %s: %w", path, err)
	}
	var fdp descriptorpb.FileDescriptorProto
	if err := proto.Unmarshal(raw, &fdp); err != nil {
		return fmt.Errorf("gogofiles: gogo descriptor of %s: %w", path, err)
	}
	for _, dep := range fdp.GetDependency() {
		if err := loadGogoFile(files, dep); err != nil {
			return err
		}
	}
	fd, err := protodesc.NewFile(&fdp, files)
	if err != nil {
		return fmt.Errorf("gogofiles: gogo descriptor of %s: %w", path, err)
	}
	return files.RegisterFile(fd)
}
