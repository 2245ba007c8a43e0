package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const service = "ttrpc.example.v1.Example"

// jsonLines decodes every line of out as a JSON object.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q of the output is not a JSON object: %v", line, err)
		}
		objs = append(objs, m)
	}
	return objs
}

// jsonObject decodes out, one (possibly indented) JSON object.
func jsonObject(t *testing.T, out string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("the output %q is not a JSON object: %v", out, err)
	}
	return m
}

func TestCallUnary(t *testing.T) {
	srv := startServer(t, true)
	r := cli(t, nil, "call", srv.addr, service+"/Greet", "-d", `{"name": "world"}`)
	want(t, r, exitOK)
	if got := jsonObject(t, r.stdout)["greeting"]; got != "Hello, world!" {
		t.Errorf("greeting = %v, want Hello, world!", got)
	}
	if r.stdout != "{\n  \"greeting\": \"Hello, world!\"\n}\n" {
		t.Errorf("a unary answer is printed indented, got %q", r.stdout)
	}

	// The same from a file and from standard input, and with the other
	// spellings of the method name and the address.
	file := filepath.Join(t.TempDir(), "req.json")
	if err := os.WriteFile(file, []byte(`{"name": "file"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	want(t, cli(t, nil, "call", srv.socket, service+".Greet", "-d", "@"+file), exitOK, `"Hello, file!"`)
	want(t, cli(t, strings.NewReader(`{"name": "stdin"}`), "call", srv.addr, "/"+service+"/Greet", "-d", "@-"), exitOK, `"Hello, stdin!"`)

	// --emit-defaults prints empty fields.
	want(t, cli(t, nil, "call", srv.addr, service+"/Greet", "-d", `{"name": "deadline"}`, "--emit-defaults"), exitOK, `"no deadline"`)
}

func TestCallUnaryFailure(t *testing.T) {
	srv := startServer(t, true)
	// No -d: an empty request, which the handler refuses.
	want(t, cli(t, nil, "call", srv.addr, service+"/Greet"), exitCall+3, "stderr:",
		"ERROR: code = InvalidArgument desc = name must not be empty\n")
}

func TestCallServerStreaming(t *testing.T) {
	srv := startServer(t, true)
	r := cli(t, nil, "call", srv.addr, service+"/Countdown", "-d", `{"count": 3}`)
	want(t, r, exitOK)
	if r.stdout != "{\"remaining\":3}\n{\"remaining\":2}\n{\"remaining\":1}\n" {
		t.Errorf("stream answers, one a line: got %q", r.stdout)
	}
	want(t, cli(t, nil, "call", srv.addr, service+"/Countdown", "-d", `{"count": 5000}`), exitCall+11, "stderr:",
		"ERROR: code = OutOfRange desc = count 5000 is above 1000")
}

func TestCallClientStreaming(t *testing.T) {
	srv := startServer(t, true)
	in := "{\"value\": 1}\n{\"value\": 2}\n{\"value\": 39}\n"
	r := cli(t, strings.NewReader(in), "call", srv.addr, service+"/Sum", "-d", "@-")
	want(t, r, exitOK)
	got := jsonObject(t, r.stdout)
	if got["sum"] != "42" || got["count"] != 3.0 {
		t.Errorf("Sum = %v, want sum 42 of 3 numbers", got)
	}
	// Inline, and with no request at all.
	want(t, cli(t, nil, "call", srv.addr, service+"/Sum", "-d", `{"value": 5} {"value": 6}`), exitOK, `"sum": "11"`)
	r = cli(t, nil, "call", srv.addr, service+"/Sum")
	want(t, r, exitOK)
	if strings.TrimSpace(r.stdout) != "{}" {
		t.Errorf("Sum of nothing = %q, want {}", r.stdout)
	}
	want(t, cli(t, strings.NewReader(`{"value": 1} {"value": -1}`), "call", srv.addr, service+"/Sum", "-d", "@-"), exitCall+5, "stderr:",
		"ERROR: code = NotFound desc = no number -1 here")
}

func TestCallBidiStreaming(t *testing.T) {
	srv := startServer(t, true)
	in := "{\"from\": \"me\", \"text\": \"hi\"}\n{\"text\": \"there\", \"tags\": [\"x\"]}\n"
	r := cli(t, strings.NewReader(in), "call", srv.addr, service+"/Chat", "-d", "@-")
	want(t, r, exitOK)
	got := jsonLines(t, r.stdout)
	if len(got) != 2 || got[0]["text"] != "HI" || got[1]["text"] != "THERE" || got[1]["from"] != "server" {
		t.Errorf("Chat answers = %v", got)
	}
	want(t, cli(t, strings.NewReader(`{"text": "a"}`+"\n"+`{"text": "fail"}`), "call", srv.addr, service+"/Chat", "-d", "@-"),
		exitCall+7, `{"from":"server","text":"A","tags":["echo"]}`, "stderr:", "ERROR: code = PermissionDenied desc = chat refused")
}

// A bidirectional call sends each line as it is read and prints each
// answer as it arrives: the test answers the command line by line, as a
// person at a terminal would.
func TestCallBidiInteractive(t *testing.T) {
	srv := startServer(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "call", srv.addr, service+"/Chat", "-d", "@-")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	for _, word := range []string{"one", "two", "three"} {
		if _, err := io.WriteString(stdin, `{"text": "`+word+`"}`+"\n"); err != nil {
			t.Fatal(err)
		}
		if !lines.Scan() {
			t.Fatalf("no answer to %q: %v", word, lines.Err())
		}
		if want := `{"from":"server","text":"` + strings.ToUpper(word) + `","tags":["echo"]}`; lines.Text() != want {
			t.Errorf("answer = %s, want %s", lines.Text(), want)
		}
	}
	stdin.Close()
	if lines.Scan() {
		t.Errorf("unexpected output %q", lines.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("ttrpc call Chat after the input ended: %v", err)
	}
}

func TestCallMetadata(t *testing.T) {
	srv := startServer(t, true)
	want(t, cli(t, nil, "call", "-H", "greeting=Good morning", srv.addr, service+"/Greet", "-d", `{"name": "world"}`), exitOK,
		`"Good morning, world!"`)
	r := cli(t, nil, "call", "-H", "a=1", "-H", "a=2", "--header", "b=x=y", srv.addr, service+"/Greet", "-d", `{"name": "metadata"}`)
	want(t, r, exitOK)
	var md map[string][]string
	if err := json.Unmarshal([]byte(jsonObject(t, r.stdout)["greeting"].(string)), &md); err != nil {
		t.Fatal(err)
	}
	if strings.Join(md["a"], ",") != "1,2" || strings.Join(md["b"], ",") != "x=y" {
		t.Errorf("the handler got metadata %v, want a=[1 2] b=[x=y]", md)
	}
}

func TestCallTimeout(t *testing.T) {
	srv := startServer(t, true)
	want(t, cli(t, nil, "call", "--timeout", "200ms", srv.addr, service+"/Greet", "-d", `{"name": "block"}`), exitCall+4, "stderr:",
		"ERROR: code = DeadlineExceeded desc = the call did not finish within --timeout")
	// The deadline travels with the call.
	want(t, cli(t, nil, "call", "--timeout", "1m", srv.addr, service+"/Greet", "-d", `{"name": "deadline"}`), exitOK, `"has a deadline"`)
	want(t, cli(t, nil, "call", srv.addr, service+"/Greet", "-d", `{"name": "deadline"}`), exitOK, `"no deadline"`)
}

func TestCallBadJSON(t *testing.T) {
	srv := startServer(t, true)
	for _, tc := range []struct {
		name, method, data, msg string
	}{
		{"syntax", "Greet", `{"name": `, "bad JSON in request 1"},
		{"not an object of the type", "Greet", `{"nom": "x"}`, `unknown field "nom"`},
		{"wrong field type", "Greet", `{"name": 3}`, "request 1 is not a valid ttrpc.example.v1.GreetRequest"},
		{"two requests for a unary call", "Greet", `{"name": "a"} {"name": "b"}`, "more than one"},
		{"two requests for a server stream", "Countdown", `{"count": 1} {"count": 2}`, "more than one"},
		{"bad second line of a client stream", "Sum", "{\"value\": 1}\n{\"value\": \n", "bad JSON in request 2"},
		{"bad line of a bidi stream", "Chat", "{\"text\": \"a\"}\n[1,2]\n", "request 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want(t, cli(t, nil, "call", srv.addr, service+"/"+tc.method, "-d", tc.data), exitUsage, "stderr:", tc.msg)
		})
	}
}

// A method or service the descriptors do not define is a usage error,
// found before any call: the message says what there is.
func TestCallUnknownMethod(t *testing.T) {
	srv := startServer(t, true)
	want(t, cli(t, nil, "call", srv.addr, service+"/Nope"), exitUsage, "stderr:",
		"unknown method ttrpc.example.v1.Example/Nope: the service has Greet, Countdown, Sum, Chat")
	want(t, cli(t, nil, "call", srv.addr, "ttrpc.example.v1.Nope/Greet"), exitUsage, "stderr:",
		"unknown service ttrpc.example.v1.Nope", "ttrpc list ADDRESS")
	want(t, cli(t, nil, "call", srv.addr, "ttrpc.example.v1.GreetRequest/name"), exitUsage, "stderr:", "is a field, not a method")
	want(t, cli(t, nil, "call", "--proto", exampleProto, srv.addr, service+"/Nope"), exitUsage, "stderr:",
		"unknown method ttrpc.example.v1.Example/Nope")
}

// A method the --proto file defines but the server does not serve ends
// with the server's Unimplemented.
func TestCallUnimplemented(t *testing.T) {
	srv := startServer(t, false)
	proto := filepath.Join(t.TempDir(), "extra.proto")
	if err := os.WriteFile(proto, []byte(`syntax = "proto3";
package ttrpc.example.v1;
import "google/protobuf/empty.proto";
service Example { rpc Missing(google.protobuf.Empty) returns (google.protobuf.Empty); }
`), 0o600); err != nil {
		t.Fatal(err)
	}
	want(t, cli(t, nil, "call", "--proto", proto, srv.addr, service+"/Missing"), exitCall+12, "stderr:",
		"ERROR: code = Unimplemented desc = ")
}

func TestCallMaxMessageSize(t *testing.T) {
	srv := startServer(t, true)
	long := strings.Repeat("x", 10000)
	want(t, cli(t, nil, "call", "--max-message-size", "5000", srv.addr, service+"/Greet", "-d", `{"name": "`+long+`"}`),
		exitCall+8, "stderr:", "ERROR: code = ResourceExhausted")
	want(t, cli(t, nil, "call", "--max-message-size", "20000", srv.addr, service+"/Greet", "-d", `{"name": "`+long+`"}`),
		exitOK, long)
}
