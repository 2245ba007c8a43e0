package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// binary is the ttrpc command built once by TestMain; the tests run it as
// a user would.
var binary string

// buildFlags are the flags of the go build that makes binary.
var buildFlags = []string{"build"}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ttrpc-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "ttrpc")
	build := exec.Command("go", append(buildFlags, "-o", binary, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the ttrpc command:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	// A race-enabled binary sleeps a second before exiting unless told not
	// to; the tests run it many times.
	if _, set := os.LookupEnv("GORACE"); !set {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the command did.
type result struct {
	stdout, stderr string
	exit           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.exit, r.stdout, r.stderr)
}

// cli runs the command with args and stdin (nil for none) and returns
// what it did. A run that does not end within 30 s fails the test.
func cli(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("ttrpc %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("ttrpc %s did not end within 30s", strings.Join(args, " "))
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), exit: cmd.ProcessState.ExitCode()}
}

// want fails the test unless r exited with exit and its stdout and stderr
// contain the given parts (stderr parts are those after "stderr:").
func want(t *testing.T, r result, exit int, parts ...string) {
	t.Helper()
	if r.exit != exit {
		t.Errorf("want exit %d, got %v", exit, r)
		return
	}
	out := &r.stdout
	for _, p := range parts {
		if p == "stderr:" {
			out = &r.stderr
			continue
		}
		if !strings.Contains(*out, p) {
			t.Errorf("want %q in the output, got %v", p, r)
		}
	}
}
