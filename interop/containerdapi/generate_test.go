package containerdapi_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ttrpc-go/ttrpc/interop/containerdapi/internal/ctrdgen"
)

// apiDir returns the module cache directory of the containerd API module
// this module builds against.
func apiDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", ctrdgen.APIModule).Output()
	if err != nil {
		t.Fatalf("go list -m %s: %v", ctrdgen.APIModule, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		t.Fatalf("%s is not downloaded (go mod download)", ctrdgen.APIModule)
	}
	return dir
}

func TestStubsUpToDate(t *testing.T) {
	files, err := ctrdgen.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("nothing generated")
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.FromSlash(name))
		if err != nil {
			t.Errorf("%v (run scripts/generate.sh)", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale (run scripts/generate.sh)", name)
		}
	}
}

// TestMatchesContainerd generates into containerd's own packages and
// compares with the _ttrpc.pb.go files containerd ships, which come from
// containerd/ttrpc's protoc-gen-go-ttrpc. Only two things may differ: the
// ttrpc import, and the srv parameter of every RegisterXService, which takes
// anything with RegisterService (a *ttrpc.Server or a *ttrpc.Client) where
// containerd's takes a *ttrpc.Server (see acceptRegistrar).
func TestMatchesContainerd(t *testing.T) {
	dir := apiDir(t)
	files, err := ctrdgen.Generate(false)
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range files {
		want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Error(err)
			continue
		}
		want = bytes.ReplaceAll(want, []byte(`"github.com/containerd/ttrpc"`), []byte(`"github.com/ttrpc-go/ttrpc"`))
		want = acceptRegistrar(want)
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from containerd's", name)
		}
	}
}

// TestEveryServiceCovered compares the service files the generator sees
// (those of the Go packages ctrdgen imports) with the .proto files of the
// API module that declare a service.
func TestEveryServiceCovered(t *testing.T) {
	dir := apiDir(t)
	service := regexp.MustCompile(`(?m)^\s*service\s+\w+\s*\{`)
	var want []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".proto") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if service.Match(src) {
			rel, err := filepath.Rel(dir, path)
			want = append(want, filepath.ToSlash(rel))
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(want)
	got := ctrdgen.ServiceFiles()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("service files seen by the generator:\n%s\nservice files in %s:\n%s",
			strings.Join(got, "\n"), dir, strings.Join(want, "\n"))
	}
	if len(got) < 19 {
		t.Errorf("only %d service files", len(got))
	}
}

// serverParam is the srv parameter containerd's generator writes.
var serverParam = regexp.MustCompile(`(?m)^(func Register\w+Service)\(srv \*ttrpc\.Server, svc `)

// acceptRegistrar rewrites containerd's RegisterXService(srv *ttrpc.Server,
// ...) into the signature ttrpc-go's generator writes: the one intended
// difference of its output.
func acceptRegistrar(src []byte) []byte {
	return serverParam.ReplaceAll(src, []byte("$1(srv interface {\n\tRegisterService(string, *ttrpc.ServiceDesc)\n}, svc "))
}
