// Command benchtable reads `go test -bench` output of the benchmarks module
// and prints a markdown table with one row per benchmark case and one column
// per implementation (medians over -count runs), the time ratios of ours to
// the others, and a check of the performance targets.
//
// Usage: benchtable [-targets=false] [file] (standard input when no file is
// given). Sub-benchmark names must be key=value elements, one of them
// impl=<name>; the other elements form the row.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// column order of the implementations; unknown ones follow in order of
// appearance.
var knownImpls = []string{"raw", "ours", "containerd", "grpc"}

type sample struct{ ns, bytes, allocs float64 }

type row struct {
	key   string // benchmark name without impl, e.g. Unary/size=16/mode=serial
	byImp map[string][]sample
}

type table struct {
	rows  []*row
	index map[string]*row
	impls []string
}

func main() {
	targets := flag.Bool("targets", true, "also check the performance targets of the issue")
	flag.Parse()
	var in io.Reader = os.Stdin
	if flag.NArg() > 0 {
		f, err := os.Open(flag.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
		defer f.Close()
		in = f
	}
	t, err := parse(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	if len(t.rows) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark results in input")
		os.Exit(1)
	}
	t.print(os.Stdout)
	if *targets {
		t.checkTargets(os.Stdout)
	}
}

// parse reads benchmark result lines and returns them grouped by row, or
// the read error. Lines that are not results are ignored.
func parse(r io.Reader) (*table, error) {
	t := &table{index: map[string]*row{}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, s, ok := parseLine(sc.Text())
		if !ok {
			continue
		}
		key, imp, ok := splitImpl(name)
		if !ok {
			continue
		}
		rw := t.index[key]
		if rw == nil {
			rw = &row{key: key, byImp: map[string][]sample{}}
			t.index[key] = rw
			t.rows = append(t.rows, rw)
		}
		rw.byImp[imp] = append(rw.byImp[imp], s)
		if !slices.Contains(t.impls, imp) {
			t.impls = append(t.impls, imp)
		}
	}
	ordered := []string{}
	for _, k := range knownImpls {
		if slices.Contains(t.impls, k) {
			ordered = append(ordered, k)
		}
	}
	for _, k := range t.impls {
		if !slices.Contains(ordered, k) {
			ordered = append(ordered, k)
		}
	}
	t.impls = ordered
	return t, sc.Err()
}

// parseLine decodes "BenchmarkX/a=b-2  N  v unit  v unit ..." and returns
// the name without the Benchmark prefix and GOMAXPROCS suffix.
func parseLine(line string) (string, sample, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return "", sample{}, false
	}
	if _, err := strconv.Atoi(f[1]); err != nil {
		return "", sample{}, false
	}
	name := strings.TrimPrefix(f[0], "Benchmark")
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	s := sample{ns: math.NaN(), bytes: math.NaN(), allocs: math.NaN()}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", sample{}, false
		}
		switch f[i+1] {
		case "ns/op":
			s.ns = v
		case "B/op":
			s.bytes = v
		case "allocs/op":
			s.allocs = v
		}
	}
	return name, s, !math.IsNaN(s.ns)
}

// splitImpl removes the impl=<name> element from a benchmark name.
func splitImpl(name string) (key, imp string, ok bool) {
	parts := strings.Split(name, "/")
	kept := parts[:0:0]
	for _, p := range parts {
		if v, found := strings.CutPrefix(p, "impl="); found {
			imp = v
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "/"), imp, imp != ""
}

func median(xs []float64) float64 {
	xs = slices.DeleteFunc(slices.Clone(xs), math.IsNaN)
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}

// stats returns the medians of a row for one implementation and the spread
// of its times ((max-min)/median), ok false when it did not run.
func (r *row) stats(imp string) (med sample, spread float64, ok bool) {
	ss := r.byImp[imp]
	if len(ss) == 0 {
		return sample{}, 0, false
	}
	var ns, b, a []float64
	for _, s := range ss {
		ns, b, a = append(ns, s.ns), append(b, s.bytes), append(a, s.allocs)
	}
	med = sample{median(ns), median(b), median(a)}
	spread = (slices.Max(ns) - slices.Min(ns)) / med.ns
	return med, spread, true
}

func fmtTime(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2f s", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func fmtBytes(b float64) string {
	switch {
	case math.IsNaN(b):
		return "? B"
	case b >= 1<<20:
		return fmt.Sprintf("%.2f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

func (t *table) print(w io.Writer) {
	counts := 0
	for _, r := range t.rows {
		for _, ss := range r.byImp {
			counts = max(counts, len(ss))
		}
	}
	fmt.Fprintf(w, "Medians of %d run(s); each cell: time/op ±spread (max-min)/median, B/op, allocs/op (both ends).\n\n", counts)
	head := []string{"benchmark"}
	head = append(head, t.impls...)
	var others []string
	if slices.Contains(t.impls, "ours") {
		for _, imp := range t.impls {
			if imp != "ours" {
				others = append(others, imp)
				head = append(head, "ours/"+imp)
			}
		}
	}
	fmt.Fprintln(w, "| "+strings.Join(head, " | ")+" |")
	fmt.Fprintln(w, "|"+strings.Repeat(" --- |", len(head)))
	for _, r := range t.rows {
		cells := []string{r.key}
		for _, imp := range t.impls {
			m, sp, ok := r.stats(imp)
			if !ok {
				cells = append(cells, "—")
				continue
			}
			cells = append(cells, fmt.Sprintf("%s ±%.0f%%, %s, %.0f", fmtTime(m.ns), sp*100, fmtBytes(m.bytes), m.allocs))
		}
		ours, _, haveOurs := r.stats("ours")
		for _, imp := range others {
			o, _, ok := r.stats(imp)
			if !ok || !haveOurs {
				cells = append(cells, "—")
				continue
			}
			cells = append(cells, fmt.Sprintf("%.2f×", ours.ns/o.ns))
		}
		fmt.Fprintln(w, "| "+strings.Join(cells, " | ")+" |")
	}
}

// target is one of the performance goals for ours.
type target struct {
	desc  string
	check func(t *table) (measured string, met bool, ok bool)
}

// ratio returns the median metric of ours divided by that of other for the
// row key, ok false when either is missing.
func (t *table) ratio(key, other string, metric func(sample) float64) (float64, bool) {
	r := t.index[key]
	if r == nil {
		return 0, false
	}
	o, _, ok1 := r.stats("ours")
	x, _, ok2 := r.stats(other)
	if !ok1 || !ok2 {
		return 0, false
	}
	return metric(o) / metric(x), true
}

func (t *table) ours(key string) (sample, bool) {
	r := t.index[key]
	if r == nil {
		return sample{}, false
	}
	s, _, ok := r.stats("ours")
	return s, ok
}

func nsOf(s sample) float64 { return s.ns }

func maxRatio(key, other string, limit float64) func(*table) (string, bool, bool) {
	return func(t *table) (string, bool, bool) {
		r, ok := t.ratio(key, other, nsOf)
		return fmt.Sprintf("%.2f×", r), r <= limit, ok
	}
}

func maxAllocs(key string, limit float64) func(*table) (string, bool, bool) {
	return func(t *table) (string, bool, bool) {
		s, ok := t.ours(key)
		return fmt.Sprintf("%.0f allocs/op", s.allocs), s.allocs <= limit, ok
	}
}

// targets are issue 10's goals, row by row.
var targets = []target{
	{"unary 16 B serial ≤ 1.3× raw", maxRatio("Unary/size=16/mode=serial", "raw", 1.3)},
	{"unary 16 B serial ≤ 8 allocs/op", maxAllocs("Unary/size=16/mode=serial", 8)},
	{"unary 4 KiB serial ≤ 1.4× raw", maxRatio("Unary/size=4096/mode=serial", "raw", 1.4)},
	{"unary 4 KiB serial ≤ 8 allocs/op", maxAllocs("Unary/size=4096/mode=serial", 8)},
	{"unary 16 B, 64 goroutines ≤ 0.5× containerd", maxRatio("Unary/size=16/mode=parallel", "containerd", 0.5)},
	{"unary 1 MiB serial ≤ 0.3× containerd", maxRatio("Unary/size=1048576/mode=serial", "containerd", 0.3)},
	{"unary 1 MiB serial ≤ 1.5× payload B/op", func(t *table) (string, bool, bool) {
		s, ok := t.ours("Unary/size=1048576/mode=serial")
		x := s.bytes / (1 << 20)
		return fmt.Sprintf("%.2f× payload", x), x <= 1.5, ok
	}},
	{"bidi ping-pong 16 B ≤ 0.7× containerd", maxRatio("BidiPingPong/size=16/mode=serial", "containerd", 0.7)},
	{"server stream 1000×1 KiB ≤ 0.35× containerd", maxRatio("ServerStream/size=1024/mode=x1000", "containerd", 0.35)},
}

func (t *table) checkTargets(w io.Writer) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| target (ours) | measured | result |")
	fmt.Fprintln(w, "| --- | --- | --- |")
	for _, tg := range targets {
		measured, met, ok := tg.check(t)
		res := "MISSED"
		switch {
		case !ok:
			measured, res = "—", "not measured"
		case met:
			res = "met"
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", tg.desc, measured, res)
	}
}
