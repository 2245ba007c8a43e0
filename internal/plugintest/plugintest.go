// Package plugintest holds what the golden-file tests of the protoc plugins
// share: the test protos, compiled to a descriptor set that is embedded into
// the test binary (so the tests need no protoc), and the golden comparison.
//
// The .proto sources are in testdata/; scripts/generate.sh recompiles them
// into testdata/protos.protoset. Run a plugin's tests with -update to rewrite
// its golden files.
package plugintest

import (
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/pluginpb"
)

//go:embed testdata/protos.protoset
var protoset []byte

var update = flag.Bool("update", false, "rewrite golden files with the current output")

// Request returns a marshalled CodeGeneratorRequest asking to generate files
// (paths as in testdata/, e.g. "greeter/v1/greeter.proto") with parameter,
// as protoc would send it. Test failures are reported through t.
func Request(t testing.TB, parameter string, files ...string) []byte {
	t.Helper()
	var set descriptorpb.FileDescriptorSet
	if err := proto.Unmarshal(protoset, &set); err != nil {
		t.Fatalf("decoding embedded descriptor set: %v", err)
	}
	byName := make(map[string]*descriptorpb.FileDescriptorProto)
	for _, f := range set.File {
		byName[f.GetName()] = f
	}
	req := &pluginpb.CodeGeneratorRequest{
		FileToGenerate:  files,
		Parameter:       proto.String(parameter),
		CompilerVersion: &pluginpb.Version{Major: proto.Int32(3), Minor: proto.Int32(21), Patch: proto.Int32(12)},
	}
	// protoc lists every file after its dependencies.
	seen := make(map[string]bool)
	var add func(name string)
	add = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		f, ok := byName[name]
		if !ok {
			t.Fatalf("%s is not in testdata/protos.protoset; run scripts/generate.sh", name)
		}
		for _, dep := range f.GetDependency() {
			add(dep)
		}
		req.ProtoFile = append(req.ProtoFile, f)
	}
	for _, f := range files {
		add(f)
	}
	out, err := proto.Marshal(req)
	if err != nil {
		t.Fatalf("encoding request: %v", err)
	}
	return out
}

// Compare checks that got (generated file name to content) is exactly the
// set of files under dir, and rewrites dir from got when -update is set.
func Compare(t testing.TB, dir string, got map[string]string) {
	t.Helper()
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for name, content := range got {
			path := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want := make(map[string]string)
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		want[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for name := range got {
		names = append(names, name)
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		g, inGot := got[name]
		w, inWant := want[name]
		switch {
		case !inWant:
			t.Errorf("%s: generated but has no golden file in %s (run with -update)", name, dir)
		case !inGot:
			t.Errorf("%s: golden file in %s but not generated", name, dir)
		case g != w:
			t.Errorf("%s differs from its golden file (run with -update to accept):\n%s", name, firstDiff(w, g))
		}
	}
}

// firstDiff describes the first differing line of two texts.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want: %q\n  got:  %q", i+1, w, g)
		}
	}
	return "(no line differs)"
}

// GenImportPath is the import path of the checked-in packages generated
// from the test protos by protoc-gen-go and protoc-gen-go-ttrpc (their
// go_package options point below it).
const GenImportPath = "github.com/ttrpc-go/ttrpc/internal/plugintest/gen"

// Vet runs go vet, which type-checks, on the packages below gen/ with some
// of their files swapped: files maps a path relative to gen/ (e.g.
// "greeter/v1/greeter_ttrpc.pb.go") to the file to use instead, or to ""
// to leave the file out. It uses an overlay, so nothing is written into
// the module.
func Vet(t testing.TB, files map[string]string) {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	replace := make(map[string]string)
	pkgs := make(map[string]bool)
	for rel, src := range files {
		if src != "" {
			if src, err = filepath.Abs(src); err != nil {
				t.Fatal(err)
			}
		}
		replace[filepath.Join(root, "internal", "plugintest", "gen", filepath.FromSlash(rel))] = src
		pkgs[GenImportPath+"/"+path.Dir(rel)] = true
	}
	overlay, err := json.Marshal(struct{ Replace map[string]string }{replace})
	if err != nil {
		t.Fatal(err)
	}
	ovl := filepath.Join(t.TempDir(), "overlay.json")
	if err := os.WriteFile(ovl, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"vet", "-overlay", ovl}
	for p := range pkgs {
		args = append(args, p)
	}
	sort.Strings(args[3:])
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
