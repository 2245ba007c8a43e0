package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/ttrpc-go/ttrpc"
	"github.com/ttrpc-go/ttrpc/reflection"
	"github.com/ttrpc-go/ttrpc/reflection/gogofiles"
)

const exampleMethods = `ttrpc.example.v1.Example/Greet      unary             ttrpc.example.v1.GreetRequest -> ttrpc.example.v1.GreetResponse
ttrpc.example.v1.Example/Countdown  server-streaming  ttrpc.example.v1.CountdownRequest -> ttrpc.example.v1.Tick
ttrpc.example.v1.Example/Sum        client-streaming  ttrpc.example.v1.Number -> ttrpc.example.v1.Total
ttrpc.example.v1.Example/Chat       bidi-streaming    ttrpc.example.v1.ChatMessage -> ttrpc.example.v1.ChatMessage
`

func TestListReflection(t *testing.T) {
	srv := startServer(t, true)
	r := cli(t, nil, "list", srv.addr)
	want(t, r, exitOK)
	if r.stdout != "ttrpc.example.v1.Example\nttrpc.reflection.v1.Reflection\n" {
		t.Errorf("list = %q", r.stdout)
	}
	r = cli(t, nil, "list", srv.addr, service)
	want(t, r, exitOK)
	if r.stdout != exampleMethods {
		t.Errorf("list %s =\n%s\nwant\n%s", service, r.stdout, exampleMethods)
	}
	want(t, cli(t, nil, "list", srv.addr, "ttrpc.example.v1.Nope"), exitUsage, "stderr:", "unknown service ttrpc.example.v1.Nope")
	want(t, cli(t, nil, "list", srv.addr, "ttrpc.example.v1.Tick"), exitUsage, "stderr:", "is a message, not a service")
}

// A service registered by hand is served but not described: list says
// so, and names its methods.
func TestListUndescribed(t *testing.T) {
	srv, err := ttrpc.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService("hand.v1.Made", &ttrpc.ServiceDesc{Methods: map[string]ttrpc.Method{
		"Do": func(ctx context.Context, unmarshal func(any) error) (any, error) { return nil, nil },
	}})
	reflection.Register(srv)
	path := socketPath(t)
	serve(t, srv, path)
	want(t, cli(t, nil, "list", path), exitOK, "hand.v1.Made (served but not described")
	want(t, cli(t, nil, "list", path, "hand.v1.Made"), exitOK, "hand.v1.Made/Do\t(shape and types unknown)")
	want(t, cli(t, nil, "call", path, "hand.v1.Made/Do"), exitFailure, "stderr:", "does not describe it", "--proto")
}

func TestDescribeReflection(t *testing.T) {
	srv := startServer(t, true)
	r := cli(t, nil, "describe", srv.addr, service)
	want(t, r, exitOK)
	const svc = `ttrpc.example.v1.Example is a service in example.proto:
service Example {
  rpc Greet(GreetRequest) returns (GreetResponse);
  rpc Countdown(CountdownRequest) returns (stream Tick);
  rpc Sum(stream Number) returns (Total);
  rpc Chat(stream ChatMessage) returns (stream ChatMessage);
}
`
	if r.stdout != svc {
		t.Errorf("describe service =\n%s\nwant\n%s", r.stdout, svc)
	}
	want(t, cli(t, nil, "describe", srv.addr, "ttrpc.example.v1.ChatMessage"), exitOK,
		"ttrpc.example.v1.ChatMessage is a message in example.proto:\nmessage ChatMessage {\n  string from = 1;\n  string text = 2;\n  repeated string tags = 3;\n}\n")
	want(t, cli(t, nil, "describe", srv.addr, service+"/Chat"), exitOK, "bidi-streaming method", "rpc Chat(stream ChatMessage) returns (stream ChatMessage);")
	want(t, cli(t, nil, "describe", srv.addr, "."+service+".Countdown"), exitOK, "rpc Countdown(CountdownRequest) returns (stream Tick);")
	want(t, cli(t, nil, "describe", srv.addr, "ttrpc.example.v1.Total.count"), exitOK, "is a field", "uint32 count = 2;")
	want(t, cli(t, nil, "describe", srv.addr, "ttrpc.example.v1.Nope"), exitUsage, "stderr:", "unknown symbol ttrpc.example.v1.Nope")
}

// Against a server without reflection every command says so plainly, and
// --proto makes them work.
func TestNoReflection(t *testing.T) {
	srv := startServer(t, false)
	for _, args := range [][]string{
		{"list", srv.addr},
		{"list", srv.addr, service},
		{"describe", srv.addr, service},
		{"call", srv.addr, service + "/Greet", "-d", `{"name": "x"}`},
	} {
		want(t, cli(t, nil, args...), exitFailure, "stderr:",
			"does not offer reflection (ttrpc.reflection.v1.Reflection answered Unimplemented)", "--proto FILE", "--protoset FILE")
	}

	// The .proto file by path, by name in an -I directory, or both.
	dir := filepath.Dir(exampleProto)
	for _, flags := range [][]string{
		{"--proto", exampleProto},
		{"--proto", "example.proto", "-I", dir},
		{"--import-path", dir, "--proto", exampleProto},
		{"--proto", exampleProto, "-I", t.TempDir()}, // a file outside every -I directory
	} {
		want(t, cli(t, nil, append([]string{"list", srv.addr}, flags...)...), exitOK, "ttrpc.example.v1.Example\n")
		r := cli(t, nil, append([]string{"list", srv.addr, service}, flags...)...)
		if want(t, r, exitOK); r.stdout != exampleMethods {
			t.Errorf("list %s with %v =\n%s", service, flags, r.stdout)
		}
		// describe keeps the comments of the source.
		want(t, cli(t, nil, append([]string{"describe", srv.addr, service}, flags...)...), exitOK,
			"  // Greet answers one request with one response.\n  rpc Greet(GreetRequest) returns (GreetResponse);\n")
		want(t, cli(t, nil, append([]string{"call", srv.addr, service + "/Greet", "-d", `{"name": "proto"}`}, flags...)...), exitOK, `"Hello, proto!"`)
	}
	p := []string{"--proto", exampleProto}
	want(t, cli(t, nil, append([]string{"call", srv.addr, service + "/Countdown", "-d", `{"count": 2}`}, p...)...), exitOK,
		"{\"remaining\":2}\n{\"remaining\":1}\n")
	want(t, cli(t, strings.NewReader(`{"value": 20} {"value": 22}`), append([]string{"call", srv.addr, service + "/Sum", "-d", "@-"}, p...)...), exitOK,
		`"sum": "42"`)
	want(t, cli(t, strings.NewReader(`{"text": "proto"}`), append([]string{"call", srv.addr, service + "/Chat", "-d", "@-"}, p...)...), exitOK,
		`{"from":"server","text":"PROTO","tags":["echo"]}`)

	// With --proto, list and describe do not need the server at all.
	want(t, cli(t, nil, "list", "--proto", exampleProto, "unix:///nonexistent.sock"), exitOK, "ttrpc.example.v1.Example\n")

	// A .proto file that does not parse is bad usage.
	bad := filepath.Join(t.TempDir(), "bad.proto")
	if err := os.WriteFile(bad, []byte("syntax = \"proto3\";\nmessage {"), 0o600); err != nil {
		t.Fatal(err)
	}
	want(t, cli(t, nil, "list", "--proto", bad, srv.addr), exitUsage, "stderr:", "bad.proto:2")
}

func TestProtoset(t *testing.T) {
	srv := startServer(t, false)
	files, err := gogofiles.Load("example.proto")
	if err != nil {
		t.Fatal(err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		set.File = append(set.File, protodesc.ToFileDescriptorProto(fd))
		return true
	})
	b, err := proto.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "example.protoset")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	want(t, cli(t, nil, "list", "--protoset", path, srv.addr), exitOK, "ttrpc.example.v1.Example\n")
	want(t, cli(t, nil, "describe", "--protoset", path, srv.addr, "ttrpc.example.v1.Tick"), exitOK, "uint32 remaining = 1;")
	want(t, cli(t, nil, "call", "--protoset", path, srv.addr, service+"/Greet", "-d", `{"name": "set"}`), exitOK, `"Hello, set!"`)

	notASet := filepath.Join(t.TempDir(), "junk")
	if err := os.WriteFile(notASet, []byte("not a descriptor set"), 0o600); err != nil {
		t.Fatal(err)
	}
	want(t, cli(t, nil, "list", "--protoset", notASet, srv.addr), exitUsage, "stderr:", "not a FileDescriptorSet")
}
