package main

import (
	"math"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		line string
		name string
		want sample
		ok   bool
	}{
		{"BenchmarkUnary/size=16/mode=serial/impl=raw-2   \t  100\t  21054 ns/op\t  0 B/op\t  0 allocs/op", "Unary/size=16/mode=serial/impl=raw", sample{21054, 0, 0}, true},
		{"BenchmarkX/impl=a-16 5 1.5 ns/op 3.2 MB/s 8 B/op 1 allocs/op", "X/impl=a", sample{1.5, 8, 1}, true},
		{"BenchmarkNoProcs/impl=a 5 7 ns/op", "NoProcs/impl=a", sample{7, math.NaN(), math.NaN()}, true},
		{"BenchmarkFailed/impl=a-2 --- FAIL", "", sample{}, false},
		{"goos: linux", "", sample{}, false},
		{"BenchmarkNoTime/impl=a-2 5 8 B/op", "", sample{}, false},
	}
	for _, tc := range tests {
		name, s, ok := parseLine(tc.line)
		if ok != tc.ok || ok && (name != tc.name || !sameSample(s, tc.want)) {
			t.Errorf("parseLine(%q) = %q, %+v, %v; want %q, %+v, %v", tc.line, name, s, ok, tc.name, tc.want, tc.ok)
		}
	}
}

func sameSample(a, b sample) bool {
	eq := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
	return eq(a.ns, b.ns) && eq(a.bytes, b.bytes) && eq(a.allocs, b.allocs)
}

func TestSplitImpl(t *testing.T) {
	tests := []struct{ in, key, imp string }{
		{"Unary/size=16/mode=serial/impl=ours", "Unary/size=16/mode=serial", "ours"},
		{"Unary/impl=grpc/size=16", "Unary/size=16", "grpc"},
		{"Unary/size=16", "Unary/size=16", ""},
	}
	for _, tc := range tests {
		key, imp, ok := splitImpl(tc.in)
		if key != tc.key || imp != tc.imp || ok != (tc.imp != "") {
			t.Errorf("splitImpl(%q) = %q, %q, %v", tc.in, key, imp, ok)
		}
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{math.NaN(), 5}, 5},
		{[]float64{7}, 7},
	}
	for _, tc := range tests {
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := median(nil); !math.IsNaN(got) {
		t.Errorf("median(nil) = %v, want NaN", got)
	}
}

func TestTableAndTargets(t *testing.T) {
	in := strings.Join([]string{
		"BenchmarkUnary/size=16/mode=serial/impl=raw-2 10 10000 ns/op 0 B/op 0 allocs/op",
		"BenchmarkUnary/size=16/mode=serial/impl=ours-2 10 12000 ns/op 100 B/op 5 allocs/op",
		"BenchmarkUnary/size=16/mode=serial/impl=ours-2 10 14000 ns/op 100 B/op 5 allocs/op",
		"BenchmarkUnary/size=16/mode=serial/impl=ours-2 10 13000 ns/op 100 B/op 5 allocs/op",
		"BenchmarkUnary/size=16/mode=serial/impl=containerd-2 10 26000 ns/op 1500 B/op 37 allocs/op",
		"BenchmarkUnary/size=16/mode=parallel/impl=ours-2 10 3000 ns/op 100 B/op 5 allocs/op",
		"BenchmarkUnary/size=16/mode=parallel/impl=containerd-2 10 9000 ns/op 100 B/op 37 allocs/op",
	}, "\n")
	tb, err := parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(tb.impls, ","), "raw,ours,containerd"; got != want {
		t.Errorf("impls = %s, want %s", got, want)
	}
	if len(tb.rows) != 2 {
		t.Fatalf("got %d rows, want 2", len(tb.rows))
	}
	var out strings.Builder
	tb.print(&out)
	tb.checkTargets(&out)
	for _, want := range []string{
		"| Unary/size=16/mode=serial | 10.0 µs ±0%, 0 B, 0 | 13.0 µs ±15%, 100 B, 5 | 26.0 µs ±0%, 1.5 KiB, 37 | 1.30× | 0.50× |",
		"| unary 16 B serial ≤ 1.3× raw | 1.30× | met |",
		"| unary 16 B serial ≤ 8 allocs/op | 5 allocs/op | met |",
		"| unary 16 B, 64 goroutines ≤ 0.5× containerd | 0.33× | met |",
		"| unary 1 MiB serial ≤ 0.3× containerd | — | not measured |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
