// Command pkgcost prints what each Go package costs in a binary: the sizes
// of its symbols as `go tool nm -size` reports them, grouped by package, and
// optionally the difference to a second binary (typically a floor program
// without the library under study).
//
// Usage:
//
//	pkgcost [-top N] [-min BYTES] BINARY [BASE]
//
// BINARY must be built without -s (nm needs the symbol table; -w is fine).
// With BASE, every row shows the package in both binaries and the
// difference, sorted by the difference; packages only BASE has are listed
// too (as negative differences).
//
// Columns: "text" is machine code, "rodata" read-only data (type
// descriptors, string and table data the package's symbols own), "data"
// initialised variables. Uninitialised variables (bss) take no file space
// and are left out. "est. file" adds to text the package's share of the
// function tables (pclntab and go:func.*, which nm reports as single
// unattributed symbols), in proportion to its text: an estimate of what the
// package adds to a stripped binary. String literals are pooled by the
// linker and belong to no package; they are one row of their own.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// sizes of one package in one binary.
type sizes struct {
	text, rodata, data int64
}

func (s sizes) total() int64 { return s.text + s.rodata + s.data }

// binary is the nm view of one executable.
type binary struct {
	pkgs map[string]sizes
	// tables is the size of the function tables nm cannot attribute:
	// runtime.pclntab..runtime.epclntab plus go:func.*.
	tables int64
	text   int64 // all text symbols
}

// estFile is the package's text, rodata and data plus its share of the
// function tables.
func (b *binary) estFile(s sizes) int64 {
	if b.text == 0 {
		return s.total()
	}
	return s.total() + s.text*b.tables/b.text
}

func main() {
	top := flag.Int("top", 40, "rows to print (0: all)")
	minDiff := flag.Int64("min", 0, "leave out rows whose size (or difference, with BASE) is below this many bytes")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: pkgcost [-top N] [-min BYTES] BINARY [BASE]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 || flag.NArg() > 2 {
		flag.Usage()
		os.Exit(2)
	}
	a, err := load(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "pkgcost:", err)
		os.Exit(1)
	}
	if flag.NArg() == 1 {
		printOne(a, *top, *minDiff)
		return
	}
	b, err := load(flag.Arg(1))
	if err != nil {
		fmt.Fprintln(os.Stderr, "pkgcost:", err)
		os.Exit(1)
	}
	printDiff(a, b, flag.Arg(0), flag.Arg(1), *top, *minDiff)
}

// load runs `go tool nm -size` on path and groups its symbols by package.
func load(path string) (*binary, error) {
	out, err := exec.Command("go", "tool", "nm", "-size", path).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return nil, fmt.Errorf("go tool nm %s: %v: %s", path, err, bytes.TrimSpace(ee.Stderr))
		}
		return nil, fmt.Errorf("go tool nm %s: %v", path, err)
	}
	b := &binary{pkgs: map[string]sizes{}}
	var pcln, epcln int64
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		// "  ADDR SIZE KIND NAME", NAME may contain spaces.
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		addr, err1 := strconv.ParseInt(f[0], 16, 64)
		size, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		kind := f[2]
		name := strings.Join(f[3:], " ")
		switch name {
		case "runtime.pclntab":
			pcln = addr
		case "runtime.epclntab":
			epcln = addr
		}
		if name == "go:func.*" {
			b.tables += size
			continue
		}
		s := b.pkgs[pkgOf(name)]
		switch kind {
		case "T", "t":
			s.text += size
			b.text += size
		case "R", "r":
			s.rodata += size
		case "D", "d":
			s.data += size
		default: // bss, undefined, ...: no file space
			continue
		}
		b.pkgs[pkgOf(name)] = s
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if epcln > pcln {
		b.tables += epcln - pcln
	}
	if len(b.pkgs) == 0 {
		return nil, fmt.Errorf("%s has no symbols: build it without -s", path)
	}
	return b, nil
}

// shapeField matches the first field of a struct shape, "pkg/path.name type".
var shapeField = regexp.MustCompile(`^ ?([A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*)\.[A-Za-z_][A-Za-z0-9_]* `)

// pkgOf returns the import path of the package a symbol belongs to, or a
// pseudo package ("go:string", "go:itab" ...) for linker-made symbols
// that belong to none.
func pkgOf(name string) string {
	for _, p := range []string{"type:", "go:info.", "gclocals·", "go:cuinfo.", ".eq.", ".hash."} {
		name = strings.TrimPrefix(name, p)
	}
	if rest, ok := strings.CutPrefix(name, "go:itab."); ok {
		// go:itab.*pkg.T,iface: the concrete type's package pays for it.
		name, _, _ = strings.Cut(rest, ",")
	}
	if strings.HasPrefix(name, "go:") {
		kind, _, _ := strings.Cut(name, ".")
		return kind
	}
	// Type symbols can be composite: *T, []T, map[K]V, func(...),
	// struct {...}, noalg.*: attribute them to the first named type.
	name = strings.TrimPrefix(name, "noalg.")
	name = strings.TrimLeft(name, "*[]0123456789")
	if strings.HasPrefix(name, "map.") || strings.HasPrefix(name, "map[") ||
		strings.HasPrefix(name, "func(") || strings.HasPrefix(name, "struct {") ||
		strings.HasPrefix(name, "interface {") || strings.HasPrefix(name, "chan ") {
		return "(composite types)"
	}
	// A generic function instantiated for a package's struct shape (sort
	// helpers of slices for encoding/json's field lists, say) is paid for
	// by the package whose fields the shape names.
	if _, args, ok := strings.Cut(name, "[go.shape.struct {"); ok {
		if m := shapeField.FindStringSubmatch(args); m != nil {
			return m[1]
		}
	}
	// The package path ends at the first dot after its last slash (a
	// method name or a generic instance can hold slashes after that dot).
	end := strings.IndexAny(name, "[(")
	if end < 0 {
		end = len(name)
	}
	slash := strings.LastIndex(name[:end], "/")
	dot := strings.Index(name[slash+1:], ".")
	if dot < 0 {
		return name
	}
	return name[:slash+1+dot]
}

func printOne(b *binary, top int, minSize int64) {
	type row struct {
		pkg string
		s   sizes
	}
	var rows []row
	for p, s := range b.pkgs {
		if s.total() >= minSize {
			rows = append(rows, row{p, s})
		}
	}
	slices.SortFunc(rows, func(x, y row) int {
		return cmp.Or(cmp.Compare(b.estFile(y.s), b.estFile(x.s)), cmp.Compare(x.pkg, y.pkg))
	})
	if top > 0 && len(rows) > top {
		rows = rows[:top]
	}
	fmt.Println("| package | text | rodata | data | est. file |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		fmt.Printf("| %s | %d | %d | %d | %d |\n", r.pkg, r.s.text, r.s.rodata, r.s.data, b.estFile(r.s))
	}
	fmt.Printf("\nfunction tables (pclntab, go:func.*): %d bytes for %d bytes of text\n", b.tables, b.text)
}

func printDiff(a, b *binary, aName, bName string, top int, minDiff int64) {
	type row struct {
		pkg        string
		inA, inB   int64
		diff, text int64
	}
	var rows []row
	var sumA, sumB int64
	seen := map[string]bool{}
	add := func(p string) {
		if seen[p] {
			return
		}
		seen[p] = true
		sa, sb := a.pkgs[p], b.pkgs[p]
		ea, eb := a.estFile(sa), b.estFile(sb)
		sumA += ea
		sumB += eb
		r := row{pkg: p, inA: ea, inB: eb, diff: ea - eb, text: sa.text - sb.text}
		if abs(r.diff) >= minDiff {
			rows = append(rows, r)
		}
	}
	for p := range a.pkgs {
		add(p)
	}
	for p := range b.pkgs {
		add(p)
	}
	slices.SortFunc(rows, func(x, y row) int {
		return cmp.Or(cmp.Compare(y.diff, x.diff), cmp.Compare(x.pkg, y.pkg))
	})
	if top > 0 && len(rows) > top {
		rows = rows[:top]
	}
	fmt.Printf("est. file bytes per package: A = %s, B = %s\n\n", aName, bName)
	fmt.Println("| package | A | B | A - B | text A - B |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		fmt.Printf("| %s | %d | %d | %+d | %+d |\n", r.pkg, r.inA, r.inB, r.diff, r.text)
	}
	fmt.Printf("| (all packages) | %d | %d | %+d | |\n", sumA, sumB, sumA-sumB)
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
