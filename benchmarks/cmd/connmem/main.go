// Command connmem breaks down what an idle server connection costs: it
// serves the benchmark echo service in this process, has a child process
// open N connections and make one 16-byte call on each, waits, and prints
// the growth of the server's goroutines, stacks, heap and resident memory
// per connection, with the heap growth by allocation site and the
// goroutines by the function they run.
//
// Usage:
//
//	connmem [-impl ours|containerd] [-n 100] [-wait 0s]
//
// -wait is how long the connections stay idle before the measurement
// (ttrpc-go keeps a finished call's handler goroutine for 2 s, so -wait 3s
// shows the connection without it). Every allocation is sampled
// (MemProfileRate 1), so heap figures are exact, as of the last GC.
package main

import (
	"bufio"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/ttrpc-go/ttrpc/benchmarks/internal/ctrdecho"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/echo"
	"github.com/ttrpc-go/ttrpc/benchmarks/internal/oursecho"
)

// The sampling rate is set before main so that package initialisation is
// profiled too; -memprofilerate overrides it for the measurement itself.
func init() { runtime.MemProfileRate = 1 }

// snapshot is the server process at one moment, after two GCs.
type snapshot struct {
	goroutines     int
	vmRSS, rssAnon int64 // KiB
	heapInuse      uint64
	stackInuse     uint64
	sites          map[string]int64 // heap bytes in use by allocation site
	entries        map[string]int   // goroutines by entry function
	mem            runtime.MemStats
	// stackScanned is the stack in use by live goroutines (from their
	// stack pointer up) at the last GC; startStack is the size new
	// goroutines start with (adaptive since Go 1.19).
	stackScanned, startStack uint64
}

func main() {
	impl := flag.String("impl", "ours", "ours or containerd")
	n := flag.Int("n", 100, "connections")
	wait := flag.Duration("wait", 0, "idle time before measuring")
	rate := flag.Int("memprofilerate", 1, "runtime.MemProfileRate (0: no heap sites, for undisturbed RSS figures)")
	client := flag.String("client", "", "internal: run as the client process against this socket")
	flag.Parse()
	runtime.MemProfileRate = *rate
	dial, serve, err := implFuncs(*impl)
	if err != nil {
		fail(err)
	}
	if *client != "" {
		runClient(dial, *client, *n)
		return
	}

	dir, err := os.MkdirTemp("", "connmem")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		fail(err)
	}
	stop := serve(l)
	defer stop()

	before := take()
	cmd := exec.Command(os.Args[0], "-impl", *impl, "-n", strconv.Itoa(*n), "-client", sock)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		fail(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		fail(err)
	}
	if err := cmd.Start(); err != nil {
		fail(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		fail(fmt.Errorf("client did not get ready: %q %v", line, err))
	}
	time.Sleep(*wait) // the measured state is "idle for this long"
	after := take()
	in.Close() // the client exits when its stdin closes
	_ = cmd.Wait()

	report(*impl, *n, *wait, before, after)
}

func implFuncs(impl string) (dial func(string) (echo.Client, error), serve func(net.Listener) func(), err error) {
	switch impl {
	case "ours":
		return oursecho.Dial, func(l net.Listener) func() {
			s, err := oursecho.NewServer()
			if err != nil {
				fail(err)
			}
			stop := oursecho.Serve(s, l)
			return func() { _ = stop() }
		}, nil
	case "containerd":
		return ctrdecho.Dial, func(l net.Listener) func() {
			s, err := ctrdecho.NewServer()
			if err != nil {
				fail(err)
			}
			stop := ctrdecho.Serve(s, l)
			return func() { _ = stop() }
		}, nil
	}
	return nil, nil, fmt.Errorf("unknown -impl %q", impl)
}

func runClient(dial func(string) (echo.Client, error), sock string, n int) {
	req := &wrapperspb.BytesValue{Value: make([]byte, 16)}
	clients := make([]echo.Client, 0, n)
	for range n {
		c, err := dial(sock)
		if err != nil {
			fail(err)
		}
		var resp wrapperspb.BytesValue
		if err := c.Unary(context.Background(), req, &resp); err != nil {
			fail(err)
		}
		clients = append(clients, c)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range clients {
		_ = c.Close()
	}
}

func take() snapshot {
	runtime.GC()
	runtime.GC()
	var s snapshot
	runtime.ReadMemStats(&s.mem)
	s.heapInuse, s.stackInuse = s.mem.HeapInuse, s.mem.StackInuse
	s.goroutines = runtime.NumGoroutine()
	s.vmRSS, s.rssAnon = procStatus("VmRSS"), procStatus("RssAnon")
	s.sites = heapSites()
	s.entries = goroutineEntries()
	ms := []metrics.Sample{{Name: "/gc/scan/stack:bytes"}, {Name: "/gc/stack/starting-size:bytes"}}
	metrics.Read(ms)
	if ms[0].Value.Kind() == metrics.KindUint64 {
		s.stackScanned = ms[0].Value.Uint64()
	}
	if ms[1].Value.Kind() == metrics.KindUint64 {
		s.startStack = ms[1].Value.Uint64()
	}
	return s
}

func procStatus(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// heapSites sums the bytes in use by allocation site: the first frame
// outside the runtime, and the first frame of an RPC library below it when
// that is a different function ("bufio.NewReaderSize <- ttrpc.newFrameReader").
func heapSites() map[string]int64 {
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, false)
	for {
		recs = make([]runtime.MemProfileRecord, n+50)
		var ok bool
		if n, ok = runtime.MemProfile(recs, false); ok {
			recs = recs[:n]
			break
		}
	}
	sites := map[string]int64{}
	for _, r := range recs {
		if r.InUseBytes() == 0 {
			continue
		}
		sites[siteOf(r.Stack())] += r.InUseBytes()
	}
	return sites
}

func siteOf(pcs []uintptr) string {
	frames := runtime.CallersFrames(pcs)
	var first, lib string
	for {
		f, more := frames.Next()
		fn := short(f.Function)
		if first == "" && !strings.HasPrefix(f.Function, "runtime.") {
			first = fn
		}
		if first != "" && lib == "" && isLibrary(f.Function) {
			lib = fn
		}
		if !more || (first != "" && lib != "") {
			break
		}
	}
	if first == "" {
		return "(runtime)"
	}
	if lib != "" && lib != first {
		return first + " <- " + lib
	}
	return first
}

func isLibrary(fn string) bool {
	return strings.HasPrefix(fn, "github.com/ttrpc-go/ttrpc.") || strings.HasPrefix(fn, "github.com/containerd/ttrpc.")
}

// short drops the module prefix of the RPC libraries from a function name.
func short(fn string) string {
	for _, p := range []string{"github.com/ttrpc-go/", "github.com/containerd/"} {
		fn = strings.TrimPrefix(fn, p)
	}
	return fn
}

// goroutineEntries counts goroutines by the function they were started
// with (the frame above runtime.goexit).
func goroutineEntries() map[string]int {
	n, _ := runtime.GoroutineProfile(nil)
	var recs []runtime.StackRecord
	for {
		recs = make([]runtime.StackRecord, n+20)
		var ok bool
		if n, ok = runtime.GoroutineProfile(recs); ok {
			recs = recs[:n]
			break
		}
	}
	m := map[string]int{}
	for _, r := range recs {
		frames := runtime.CallersFrames(r.Stack())
		entry := "?"
		for {
			f, more := frames.Next()
			if f.Function != "runtime.goexit" && f.Function != "" {
				entry = short(f.Function)
			}
			if !more {
				break
			}
		}
		m[entry]++
	}
	return m
}

func report(impl string, n int, wait time.Duration, a, b snapshot) {
	per := func(x, y int64) string { return fmt.Sprintf("%.1f", float64(y-x)/float64(n)) }
	fmt.Printf("connmem: impl=%s conns=%d idle for %v before measuring (%s)\n\n", impl, n, wait, runtime.Version())
	fmt.Println("| quantity | before | with the connections | per connection |")
	fmt.Println("| --- | ---: | ---: | ---: |")
	fmt.Printf("| goroutines | %d | %d | %s |\n", a.goroutines, b.goroutines, per(int64(a.goroutines), int64(b.goroutines)))
	fmt.Printf("| VmRSS KiB | %d | %d | %s |\n", a.vmRSS, b.vmRSS, per(a.vmRSS, b.vmRSS))
	fmt.Printf("| RssAnon KiB | %d | %d | %s |\n", a.rssAnon, b.rssAnon, per(a.rssAnon, b.rssAnon))
	fmt.Printf("| StackInuse B | %d | %d | %s |\n", a.stackInuse, b.stackInuse, per(int64(a.stackInuse), int64(b.stackInuse)))
	fmt.Printf("| stack used by live goroutines B (GC scan) | %d | %d | %s |\n", a.stackScanned, b.stackScanned, per(int64(a.stackScanned), int64(b.stackScanned)))
	fmt.Printf("| starting goroutine stack B | %d | %d | |\n", a.startStack, b.startStack)
	fmt.Printf("| HeapInuse B (spans) | %d | %d | %s |\n", a.heapInuse, b.heapInuse, per(int64(a.heapInuse), int64(b.heapInuse)))
	fmt.Printf("| heap objects in use B | %d | %d | %s |\n", a.mem.HeapAlloc, b.mem.HeapAlloc, per(int64(a.mem.HeapAlloc), int64(b.mem.HeapAlloc)))

	fmt.Println("\nHeap in use by allocation site (growth per connection, bytes):")
	fmt.Println()
	type site struct {
		name string
		d    int64
	}
	var sites []site
	for k, v := range b.sites {
		if d := v - a.sites[k]; d != 0 {
			sites = append(sites, site{k, d})
		}
	}
	slices.SortFunc(sites, func(x, y site) int { return cmp.Or(cmp.Compare(y.d, x.d), cmp.Compare(x.name, y.name)) })
	fmt.Println("| site | B per conn |")
	fmt.Println("| --- | ---: |")
	for _, s := range sites {
		if abs(s.d) < int64(n)*8 { // below 8 B per connection
			continue
		}
		fmt.Printf("| %s | %.0f |\n", s.name, float64(s.d)/float64(n))
	}

	fmt.Println("\nGoroutines by entry function (growth per connection):")
	fmt.Println()
	fmt.Println("| entry | per conn |")
	fmt.Println("| --- | ---: |")
	var names []string
	for k := range b.entries {
		if b.entries[k] != a.entries[k] {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		fmt.Printf("| %s | %.2f |\n", k, float64(b.entries[k]-a.entries[k])/float64(n))
	}
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "connmem:", err)
	os.Exit(1)
}
