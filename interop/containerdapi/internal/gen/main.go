// Command gen writes ttrpc-go stubs for containerd's API into
// interop/containerdapi (see package ctrdgen). scripts/generate.sh runs it.
//
// Usage (from interop/): go run ./containerdapi/internal/gen -out containerdapi
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ttrpc-go/ttrpc/interop/containerdapi/internal/ctrdgen"
)

func main() {
	out := flag.String("out", "containerdapi", "directory the generated tree is written into")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	files, err := ctrdgen.Generate(true)
	if err != nil {
		return err
	}
	for name, content := range files {
		dst := filepath.Join(out, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, content, 0o644); err != nil {
			return err
		}
	}
	return nil
}
