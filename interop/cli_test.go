package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	taskv3 "github.com/containerd/containerd/api/runtime/task/v3"
	tasktypes "github.com/containerd/containerd/api/types/task"
	ref "github.com/containerd/ttrpc"
	grpccodes "google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
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

// fakeShim answers State as a containerd shim would; the other methods of
// the task service are not called.
type fakeShim struct {
	taskv3.TTRPCTaskService
}

func (fakeShim) State(ctx context.Context, req *taskv3.StateRequest) (*taskv3.StateResponse, error) {
	if req.ID != "c1" {
		return nil, grpcstatus.Errorf(grpccodes.NotFound, "container %s: not found", req.ID)
	}
	return &taskv3.StateResponse{
		ID: req.ID, Pid: 4242, Status: tasktypes.Status_RUNNING,
		ExitedAt: timestamppb.New(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)),
	}, nil
}

// The ttrpc command reaches a shim as containerd's own generated code
// serves it on containerd/ttrpc, with containerd's .proto files (which
// import one another relative to the API module's root).
func TestCLIAgainstContainerdShim(t *testing.T) {
	bin := buildCLI(t)
	list := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/containerd/containerd/api")
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	apiDir := strings.TrimSpace(string(out))

	s, err := ref.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	taskv3.RegisterTTRPCTaskService(s, fakeShim{})
	path := socketPath(t)
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(context.Background(), l) }()
	t.Cleanup(func() {
		s.Close()
		if err := <-served; !errors.Is(err, ref.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})

	proto := []string{"--proto", "runtime/task/v3/shim.proto", "-I", apiDir}
	r := runCLI(t, bin, "", append([]string{"call", path, "containerd.task.v3.Task/State", "-d", `{"id": "c1"}`}, proto...)...)
	const state = `{
  "id": "c1",
  "pid": 4242,
  "status": "RUNNING",
  "exitedAt": "2025-01-02T03:04:05Z"
}
`
	if r.exit != 0 || r.stdout != state {
		t.Errorf("State: exit %d, stdout %q, stderr %q; want\n%s", r.exit, r.stdout, r.stderr, state)
	}
	r = runCLI(t, bin, "", append([]string{"call", path, "containerd.task.v3.Task/State", "-d", `{"id": "c2"}`}, proto...)...)
	if r.exit != 64+5 || r.stderr != "ERROR: code = NotFound desc = container c2: not found\n" {
		t.Errorf("State of a missing container: exit %d, stderr %q", r.exit, r.stderr)
	}
	r = runCLI(t, bin, "", "list", path)
	if r.exit != 1 || !strings.Contains(r.stderr, "does not offer reflection") {
		t.Errorf("list on the shim: exit %d, stderr %q", r.exit, r.stderr)
	}
}
