package consumers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// reference is the containerd/ttrpc release the consumers are compared with.
const reference = "v1.2.10"

// consumer is a published module whose own tests are run on both ttrpc
// implementations.
type consumer struct {
	module, version string
	// pkgs are the packages whose tests run ("./..." for all); nil means
	// the packages of the module that import github.com/containerd/ttrpc.
	pkgs []string
}

// goCmd runs the go command in dir with a writable module graph (the
// copies are edited) and no workspace, and returns its output; failure
// ends the test.
func goCmd(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	out, err := goRun(dir, args...)
	if err != nil {
		t.Fatalf("go %s (in %s): %v\n%s", strings.Join(args, " "), dir, err, tail(out))
	}
	return out
}

func goRun(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

func tail(b []byte) string {
	const max = 8000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// checkout is the root of this repository.
func checkout(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// copyRelease downloads c from the module proxy and copies its source into
// a fresh directory under base, which it returns.
func copyRelease(t *testing.T, c consumer, base string) string {
	t.Helper()
	var info struct{ Dir, Error string }
	out := goCmd(t, base, "mod", "download", "-json", c.module+"@"+c.version)
	if err := json.Unmarshal(out, &info); err != nil || info.Dir == "" {
		t.Fatalf("go mod download %s@%s: %v %s", c.module, c.version, err, info.Error)
	}
	dst, err := os.MkdirTemp(base, "src")
	if err != nil {
		t.Fatal(err)
	}
	dst = filepath.Join(dst, "m")
	if err := os.CopyFS(dst, os.DirFS(info.Dir)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// onCompat points a copied module at this checkout's compat module.
func onCompat(t *testing.T, dir string) {
	t.Helper()
	root := checkout(t)
	goCmd(t, dir, "mod", "edit",
		"-replace=github.com/containerd/ttrpc="+filepath.Join(root, "compat"),
		"-replace=github.com/ttrpc-go/ttrpc="+root,
		"-replace=github.com/ttrpc-go/ttrpc/grpcstatus="+filepath.Join(root, "grpcstatus"))
	// NRI names containerd's protoc plugin as a tool; under the replace it
	// must come from the compat module. Until the compat module has it,
	// say so loudly and drop the tool line, so the rest still runs.
	const plugin = "github.com/containerd/ttrpc/cmd/protoc-gen-go-ttrpc"
	if _, err := os.Stat(filepath.Join(root, "compat", "cmd", "protoc-gen-go-ttrpc")); err != nil {
		if mod, _ := os.ReadFile(filepath.Join(dir, "go.mod")); bytes.Contains(mod, []byte(plugin)) {
			t.Logf("!!! compat module has no %s: dropping it from the tools of %s", plugin, dir)
			goCmd(t, dir, "mod", "edit", "-droptool="+plugin)
		}
	}
	goCmd(t, dir, "mod", "tidy")
}

// onReference points a copied module at containerd/ttrpc v1.2.10.
func onReference(t *testing.T, dir string) {
	t.Helper()
	goCmd(t, dir, "mod", "edit", "-require=github.com/containerd/ttrpc@"+reference)
	goCmd(t, dir, "mod", "tidy")
}

// ttrpcPackages lists the packages of the module in dir that import
// github.com/containerd/ttrpc directly.
func ttrpcPackages(t *testing.T, dir string) []string {
	t.Helper()
	out := goCmd(t, dir, "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}{{range .TestImports}} {{.}}{{end}}`, "./...")
	var pkgs []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		for _, imp := range f[min(1, len(f)):] {
			if imp == "github.com/containerd/ttrpc" {
				pkgs = append(pkgs, f[0])
				break
			}
		}
	}
	return pkgs
}

// testResults runs the tests of pkgs in dir and returns the outcome
// ("pass", "fail", "skip") of every test by "package TestName[/sub]".
// A package that does not build counts as a failed test named "(build)".
func testResults(t *testing.T, dir string, pkgs []string) map[string]string {
	t.Helper()
	out, _ := goRun(dir, append([]string{"test", "-count=1", "-json"}, pkgs...)...)
	results := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct{ Action, Package, Test string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		switch ev.Action {
		case "pass", "fail", "skip":
			name := ev.Test
			if name == "" {
				name = "(package)"
			}
			results[ev.Package+" "+name] = ev.Action
		case "build-fail":
			results[ev.Package+" (build)"] = "fail"
		}
	}
	if len(results) == 0 {
		t.Fatalf("go test %v ran no test:\n%s", pkgs, tail(out))
	}
	return results
}

// sideBySide builds c on containerd/ttrpc and on the compat module and
// checks that every test passing on the former passes on the latter.
func sideBySide(t *testing.T, c consumer) {
	base := t.TempDir()
	ref, compat := copyRelease(t, c, base), copyRelease(t, c, base)
	onReference(t, ref)
	onCompat(t, compat)
	goCmd(t, compat, "build", "./...")
	goCmd(t, compat, "vet", "./...")
	pkgs := c.pkgs
	if pkgs == nil {
		pkgs = ttrpcPackages(t, compat)
		if len(pkgs) == 0 {
			t.Fatal("no package imports github.com/containerd/ttrpc")
		}
	}
	want := testResults(t, ref, pkgs)
	got := testResults(t, compat, pkgs)
	var names []string
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	passed := 0
	for _, name := range names {
		if want[name] != "pass" {
			continue
		}
		passed++
		if got[name] != "pass" {
			t.Errorf("%s: %s on containerd/ttrpc %s, %q on the compat module", name, want[name], reference, got[name])
		}
	}
	t.Logf("%s@%s: %d tests and packages pass on containerd/ttrpc %s; %d results on the compat module",
		c.module, c.version, passed, reference, len(got))
}

func TestNRIOwnSuite(t *testing.T) {
	sideBySide(t, consumer{module: "github.com/containerd/nri", version: "v0.12.5", pkgs: []string{"./..."}})
}

func TestOtelttrpcOwnSuite(t *testing.T) {
	sideBySide(t, consumer{module: "github.com/containerd/otelttrpc", version: "v0.1.0", pkgs: []string{"./..."}})
}
