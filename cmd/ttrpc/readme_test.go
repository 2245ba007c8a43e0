package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeSocket is the socket path the README's examples use.
const readmeSocket = "/tmp/x.sock"

// readmeExample is one command of the README with the output it shows.
type readmeExample struct {
	command, output string
}

// readmeSection returns the "Command-line client" section of the
// repository's README.
func readmeSection(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Command-line client\n")
	if !ok {
		t.Fatal("README.md has no section \"Command-line client\"")
	}
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	return section
}

// readmeExamples returns the "$ command" lines of the section's console
// blocks, each with the lines that follow it.
func readmeExamples(section string) []readmeExample {
	var examples []readmeExample
	inConsole := false
	for _, line := range strings.Split(section, "\n") {
		switch {
		case line == "```console":
			inConsole = true
		case line == "```":
			inConsole = false
		case inConsole && strings.HasPrefix(line, "$ "):
			examples = append(examples, readmeExample{command: strings.TrimPrefix(line, "$ ")})
		case inConsole && len(examples) > 0:
			examples[len(examples)-1].output += line + "\n"
		}
	}
	return examples
}

// The README's newcomer path works as written: its example server is
// started with the README's own command, and every "$ ttrpc ..." line is
// run by the shell from the repository root and prints exactly what the
// README shows.
func TestReadmeExamples(t *testing.T) {
	section := readmeSection(t)
	const serverCommand = "go run ./example/cmd -server -socket " + readmeSocket
	if !strings.Contains(section, "```sh\n"+serverCommand+"\n```") {
		t.Fatalf("the README no longer starts the example server with %q", serverCommand)
	}
	if !strings.Contains(section, "```sh\ngo install -C cmd/ttrpc .\n```") {
		t.Error("the README no longer installs the command with go install -C cmd/ttrpc .")
	}
	examples := readmeExamples(section)
	if len(examples) < 6 {
		t.Fatalf("found %d examples in the README, want the whole newcomer's path", len(examples))
	}

	// The example server, built once (go run would leave its child running
	// when killed), on a socket of the test's own.
	dir := t.TempDir()
	server := filepath.Join(dir, "example-server")
	build := exec.Command("go", "build", "-o", server, "./example/cmd")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the example server: %v\n%s", err, out)
	}
	socket := socketPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, server, strings.Fields(strings.TrimPrefix(strings.ReplaceAll(serverCommand, readmeSocket, socket), "go run ./example/cmd"))...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("example server: %v", err)
		}
	}()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || !strings.Contains(lines.Text(), "listening on") {
		t.Fatalf("example server: %q (%v)", lines.Text(), lines.Err())
	}
	go func() { // the server logs every call; keep its pipe flowing
		for lines.Scan() {
		}
	}()

	path := filepath.Dir(binary) + string(os.PathListSeparator) + os.Getenv("PATH")
	for _, ex := range examples {
		t.Run(ex.command, func(t *testing.T) {
			if !strings.Contains(ex.command, "ttrpc ") {
				t.Fatalf("README example %q does not run ttrpc", ex.command)
			}
			sh := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", "exec 2>&1\n"+strings.ReplaceAll(ex.command, readmeSocket, socket))
			sh.Dir = "../.."
			sh.Env = append(os.Environ(), "PATH="+path)
			out, err := sh.Output()
			if err != nil {
				t.Errorf("%s: %v\n%s", ex.command, err, out)
			}
			if got := strings.ReplaceAll(string(out), socket, readmeSocket); got != ex.output {
				t.Errorf("%s printed\n%s\nthe README shows\n%s", ex.command, got, ex.output)
			}
		})
	}
}
