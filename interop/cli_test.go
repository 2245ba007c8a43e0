package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testServiceProto describes the test service for the ttrpc command.
const testServiceProto = "testdata/interop_test_service.proto"

// buildCLI builds the ttrpc command (cmd/ttrpc, a module of its own) into
// a directory of t's and returns its path.
func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ttrpc")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = "../cmd/ttrpc"
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building cmd/ttrpc: %v\n%s", err, out)
	}
	return bin
}

type cliResult struct {
	stdout, stderr string
	exit           int
}

// runCLI runs the command; a run that does not end in 30 s fails t.
func runCLI(t *testing.T, bin, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("ttrpc %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("ttrpc %v did not end within 30s", args)
	}
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), exit: cmd.ProcessState.ExitCode()}
}

// The ttrpc command against a containerd/ttrpc server: it says plainly
// that there is no reflection, and with --proto it makes calls of every
// shape, with metadata and deadlines, and reports their failures by code.
func TestCLIAgainstReferenceServer(t *testing.T) {
	bin := buildCLI(t)
	h := newHooks()
	srv := startServer(t, implRef, h)
	addr := "unix://" + srv.addr
	proto := []string{"--proto", testServiceProto}
	call := func(stdin, method string, args ...string) cliResult {
		return runCLI(t, bin, stdin, append(append([]string{"call", addr, serviceName + "/" + method}, proto...), args...)...)
	}
	check := func(what string, r cliResult, exit int, stdout, stderr string) {
		t.Helper()
		if r.exit != exit || (stdout != "" && r.stdout != stdout) || !strings.Contains(r.stderr, stderr) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr containing %q",
				what, r.exit, r.stdout, r.stderr, exit, stdout, stderr)
		}
	}

	for _, args := range [][]string{{"list", addr}, {"describe", addr, serviceName}, {"call", addr, serviceName + "/Echo"}} {
		check(strings.Join(args[:1], " ")+" without --proto", runCLI(t, bin, "", args...), 1, "",
			"does not offer reflection (ttrpc.reflection.v1.Reflection answered Unimplemented): give the service's .proto file with --proto FILE")
	}
	check("list --proto", runCLI(t, bin, "", append([]string{"list", addr}, proto...)...), 0, serviceName+"\n", "")

	check("unary", call("", "Echo", "-d", `"aGVsbG8="`), 0, "\"aGVsbG8=\"\n", "")
	check("server-streaming", call("", "Count", "-d", "3"), 0, "\"item 0\"\n\"item 1\"\n\"item 2\"\n", "")
	check("client-streaming", call("\"a\"\n\"b\"\n\"c\"\n", "Join", "-d", "@-"), 0, "\"a,b,c\"\n", "")
	check("bidi-streaming", call("\"x\"\n\"y\"\n", "EchoStream", "-d", "@-"), 0, "\"echo:x\"\n\"echo:y\"\n", "")

	check("failure", call("", "Fail", "-d", `"5|no such thing"`), 64+5, "", "ERROR: code = NotFound desc = no such thing\n")
	check("failure after two answers", call("", "CountThenFail", "-d", "2"), 64+5, "\"item 0\"\n\"item 1\"\n",
		"ERROR: code = NotFound desc = stopped after 2\n")
	check("not served", call("", "Missing"), 64+12, "", "ERROR: code = Unimplemented desc = ")
	check("unknown method", call("", "Nope"), 2, "", "unknown method ttrpc.interop.v1.Test/Nope")
	check("bad JSON", call("", "Echo", "-d", `{"value":`), 2, "", "bad JSON")
	check("timeout", call("", "Block", "--timeout", "300ms"), 64+4, "", "ERROR: code = DeadlineExceeded")

	r := call("", "Info", "-H", "who=cli", "-H", "who=again", "--timeout", "1m")
	check("metadata and deadline", r, 0, "", "")
	var text string
	if err := json.Unmarshal([]byte(r.stdout), &text); err != nil {
		t.Fatalf("Info answer %q: %v", r.stdout, err)
	}
	info, err := parseCallInfo(text)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(info.Metadata["who"], ",") != "cli,again" || !info.HasDeadline {
		t.Errorf("the containerd/ttrpc handler saw %+v, want metadata who=[cli again] and a deadline", info)
	}
}
