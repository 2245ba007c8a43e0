package main

import "testing"

func TestPkgOf(t *testing.T) {
	for _, c := range []struct{ sym, want string }{
		{"github.com/ttrpc-go/ttrpc.(*conn).run", "github.com/ttrpc-go/ttrpc"},
		{"github.com/ttrpc-go/ttrpc/status.FromError", "github.com/ttrpc-go/ttrpc/status"},
		{"type:*github.com/containerd/ttrpc.Server", "github.com/containerd/ttrpc"},
		{"go:itab.*os.File,io.Writer", "os"},
		{"go:string.*", "go:string"},
		{"encoding/json.(*encodeState).marshal", "encoding/json"},
		{".eq.log/slog.Attr", "log/slog"},
		{"slices.pdqsortCmpFunc[go.shape.struct { encoding/json.name string; encoding/json.tag bool }]", "encoding/json"},
		{"slices.Compare[go.shape.[]int,go.shape.int]", "slices"},
		{"google.golang.org/protobuf/internal/impl.fieldCoder", "google.golang.org/protobuf/internal/impl"},
		{"type:map[string]int", "(composite types)"},
		{"main.main", "main"},
	} {
		if got := pkgOf(c.sym); got != c.want {
			t.Errorf("pkgOf(%q) = %q, want %q", c.sym, got, c.want)
		}
	}
}
