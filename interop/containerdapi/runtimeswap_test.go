package containerdapi_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ttrpc-go/ttrpc/interop/containerdapi/internal/ctrdgen"
)

// TestStubsCompileAgainstContainerd type-checks every stub package with the
// ttrpc import switched to github.com/containerd/ttrpc: code generated for
// one runtime must build against the other, including the RegisterXService
// parameter that accepts a *ttrpc.Client. The swapped files replace the
// checked-in ones through a go vet overlay; nothing is written into the
// module.
func TestStubsCompileAgainstContainerd(t *testing.T) {
	files, err := ctrdgen.Generate(true)
	if err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	replace := make(map[string]string)
	pkgs := make(map[string]bool)
	for name, src := range files {
		swapped := bytes.ReplaceAll(src, []byte(`"github.com/ttrpc-go/ttrpc"`), []byte(`"github.com/containerd/ttrpc"`))
		if bytes.Equal(swapped, src) {
			t.Fatalf("%s does not import github.com/ttrpc-go/ttrpc", name)
		}
		dst := filepath.Join(tmp, strings.ReplaceAll(name, "/", "_"))
		if err := os.WriteFile(dst, swapped, 0o644); err != nil {
			t.Fatal(err)
		}
		replace[filepath.Join(wd, filepath.FromSlash(name))] = dst
		pkgs["./"+path.Dir(name)] = true
	}
	// And containerd's *ttrpc.Server is accepted where a caller passes it.
	caller := filepath.Join(tmp, "caller.go")
	const callerSrc = "package version\n\nimport \"github.com/containerd/ttrpc\"\n\n" +
		"var _ = func(s *ttrpc.Server, svc TTRPCVersionService) { RegisterTTRPCVersionService(s, svc) }\n"
	if err := os.WriteFile(caller, []byte(callerSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	replace[filepath.Join(wd, "services", "version", "v1", "caller_test_overlay.go")] = caller
	overlay, err := json.Marshal(struct{ Replace map[string]string }{replace})
	if err != nil {
		t.Fatal(err)
	}
	ovl := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ovl, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"vet", "-overlay", ovl}
	for p := range pkgs {
		args = append(args, p)
	}
	sort.Strings(args[3:])
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
