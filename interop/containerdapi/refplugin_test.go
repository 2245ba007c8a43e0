package containerdapi_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ttrpc-go/ttrpc/internal/plugintest"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"
)

// buildPlugin builds the protoc plugin main package pkg as dir/name.
func buildPlugin(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

func runPlugin(t *testing.T, bin string, req []byte) map[string]string {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, stderr.String())
	}
	var resp pluginpb.CodeGeneratorResponse
	if err := proto.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Error != nil {
		t.Fatalf("%s: %s", bin, resp.GetError())
	}
	files := make(map[string]string)
	for _, f := range resp.File {
		files[f.GetName()] = f.GetContent()
	}
	return files
}

// TestSameOutputAsReferencePlugin runs containerd/ttrpc's protoc-gen-go-ttrpc
// and ours on the plugin test protos. Outputs must be identical but for
// the ttrpc import path and the wire names of methods whose proto names are
// not CamelCase, which the reference got wrong (registered under the Go
// name, so that its own clients could not reach them).
func TestSameOutputAsReferencePlugin(t *testing.T) {
	dir := t.TempDir()
	ref := buildPlugin(t, dir, "reference", "github.com/containerd/ttrpc/cmd/protoc-gen-go-ttrpc")
	ours := buildPlugin(t, dir, "ours", "github.com/ttrpc-go/ttrpc/cmd/protoc-gen-go-ttrpc")
	fixes := strings.NewReplacer(
		`"github.com/containerd/ttrpc"`, `"github.com/ttrpc-go/ttrpc"`,
		`"LowerCase"`, `"lower_case"`,
		`"LowerStream"`, `"lower_stream"`,
	)
	files := []string{"greeter/v1/greeter.proto", "common/v1/common.proto", "plain/plain.proto", "wkt/v1/wkt.proto"}
	// Not nothing/nothing.proto: the reference imports "context" into stubs
	// that do not use it, which does not compile; ours leaves it out.
	const plainM = "Mplain/plain.proto=example.com/plain;plainpb"
	for _, param := range []string{
		"paths=source_relative," + plainM,
		"prefix=TTRPC," + plainM,
		"paths=source_relative,prefix=Ttrpc," + plainM,
	} {
		t.Run(param, func(t *testing.T) {
			req := plugintest.Request(t, param, files...)
			want, got := runPlugin(t, ref, req), runPlugin(t, ours, req)
			if len(got) != len(want) || len(got) == 0 {
				t.Errorf("generated %d files, reference %d", len(got), len(want))
			}
			for name, w := range want {
				if g, ok := got[name]; !ok {
					t.Errorf("%s: not generated", name)
				} else if g != fixes.Replace(w) {
					t.Errorf("%s differs from the reference's output:\n--- ours\n%s\n--- reference (fixed)\n%s", name, g, fixes.Replace(w))
				}
			}
		})
	}
}
