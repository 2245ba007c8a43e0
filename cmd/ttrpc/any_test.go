package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bufbuild/protocompile"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/reflection"
)

// Two files: the service's, whose method takes and returns a
// google.protobuf.Any, and another service's, which defines the message
// the Any carries. Only reflection's second lookup finds that type.
var anyProtos = map[string]string{
	"anys.proto": `syntax = "proto3";
package clitest.v1;
import "google/protobuf/any.proto";
service Anys { rpc Echo(google.protobuf.Any) returns (google.protobuf.Any); }
`,
	"other.proto": `syntax = "proto3";
package clitest.v1;
message Note { string text = 1; }
service Other { rpc Get(Note) returns (Note); }
`,
}

func TestCallAny(t *testing.T) {
	dir := t.TempDir()
	for name, text := range anyProtos {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	compiler := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{dir}})}
	compiled, err := compiler.Compile(context.Background(), "anys.proto", "other.proto")
	if err != nil {
		t.Fatal(err)
	}
	files := new(protoregistry.Files)
	for _, fd := range compiled {
		if err := register(files, fd); err != nil {
			t.Fatal(err)
		}
	}

	srv, err := ttrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	echo := func(ctx context.Context, unmarshal func(any) error) (any, error) {
		var a anypb.Any
		if err := unmarshal(&a); err != nil {
			return nil, err
		}
		return &a, nil
	}
	srv.RegisterService("clitest.v1.Anys", &ttrpc.ServiceDesc{Methods: map[string]ttrpc.Method{"Echo": echo}})
	srv.RegisterService("clitest.v1.Other", &ttrpc.ServiceDesc{Methods: map[string]ttrpc.Method{"Get": echo}})
	reflection.Register(srv, reflection.WithResolver(files))
	path := socketPath(t)
	serve(t, srv, path)

	const note = `{"@type": "type.googleapis.com/clitest.v1.Note", "text": "inside"}`
	const answer = "{\n  \"@type\": \"type.googleapis.com/clitest.v1.Note\",\n  \"text\": \"inside\"\n}\n"
	for _, flags := range [][]string{nil, {"--proto", filepath.Join(dir, "anys.proto"), "--proto", filepath.Join(dir, "other.proto")}} {
		r := cli(t, nil, append([]string{"call", path, "clitest.v1.Anys/Echo", "-d", note}, flags...)...)
		if want(t, r, exitOK); r.stdout != answer {
			t.Errorf("Echo of an Any with %v = %q, want %q", flags, r.stdout, answer)
		}
	}
	// A type nobody defines is a usage error of the request.
	want(t, cli(t, nil, "call", path, "clitest.v1.Anys/Echo", "-d", `{"@type": "type.googleapis.com/clitest.v1.Nope"}`), exitUsage,
		"stderr:", "clitest.v1.Nope")
}
