package benchmarks

import (
	"os"
	"strings"
	"testing"
)

// TestEchoImplsInSync guards the fairness of the ours/containerd comparison:
// both ttrpc echo services must stay the same code apart from the library
// they import and their names.
func TestEchoImplsInSync(t *testing.T) {
	ours, err := os.ReadFile("internal/oursecho/oursecho.go")
	if err != nil {
		t.Fatal(err)
	}
	ctrd, err := os.ReadFile("internal/ctrdecho/ctrdecho.go")
	if err != nil {
		t.Fatal(err)
	}
	// Drop the package comments, which name each other, then the names.
	body := func(src []byte) string {
		s := string(src)
		if i := strings.Index(s, "\nimport ("); i >= 0 {
			s = s[i:]
		}
		return s
	}
	normalised := strings.NewReplacer(
		`"github.com/containerd/ttrpc"`, `"LIB"`,
		`"github.com/ttrpc-go/ttrpc"`, `"LIB"`,
	).Replace
	o, c := normalised(body(ours)), normalised(body(ctrd))
	if o != c {
		ol, cl := strings.Split(o, "\n"), strings.Split(c, "\n")
		for i := range min(len(ol), len(cl)) {
			if ol[i] != cl[i] {
				t.Fatalf("oursecho and ctrdecho differ after the import block, first at line %d of the body:\n ours: %s\n ctrd: %s", i, ol[i], cl[i])
			}
		}
		t.Fatalf("oursecho and ctrdecho differ in length: %d vs %d body lines", len(ol), len(cl))
	}
}
