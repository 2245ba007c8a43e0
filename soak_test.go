//go:build soak

package ttrpc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/wrapperspb"
)

// TestSoak is the load test behind `make soak` (scripts/soak.sh): many
// connections over a unix socket keep thousands of calls in flight for a
// while, every result is checked, and the figures are printed. Tunables:
// TTRPC_SOAK_DURATION (default 1m), TTRPC_SOAK_CONNS (100) and
// TTRPC_SOAK_INFLIGHT (10000 calls in flight, spread over the connections);
// TTRPC_SOAK_HEAPPROFILE=file writes a profile of the heap left afterwards.
func TestSoak(t *testing.T) {
	duration := soakEnvDuration(t, "TTRPC_SOAK_DURATION", time.Minute)
	conns := soakEnvInt(t, "TTRPC_SOAK_CONNS", 100)
	inflight := soakEnvInt(t, "TTRPC_SOAK_INFLIGHT", 10000)
	if conns < 1 || inflight < conns {
		t.Fatalf("need at least one connection and one call per connection, got %d and %d", conns, inflight)
	}

	goroutinesBefore := runtime.NumGoroutine()
	rssBefore := soakRSS(t)
	heapBefore := soakHeap()

	srv, err := NewServer()
	if err != nil {
		t.Fatal(err)
	}
	srv.RegisterService(testService, echoService())
	path := socketPath(t)
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), l) }()

	clients := make([]*Client, conns)
	for i := range clients {
		nc, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = NewClient(nc)
	}

	var (
		stop                  atomic.Bool
		unary, streams, fails atomic.Int64
		current, peak         atomic.Int64
		firstErr              sync.Once
		firstErrText          string
		wg                    sync.WaitGroup
	)
	fail := func(err error) {
		fails.Add(1)
		firstErr.Do(func() { firstErrText = err.Error() })
	}
	enter := func() {
		n := current.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
	}
	start := time.Now()
	for w := range inflight {
		c := clients[w%conns]
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			payload := make([]byte, 64+rng.IntN(960))
			for i := range payload {
				payload[i] = byte(rng.Uint32())
			}
			ctx := context.Background()
			for !stop.Load() {
				enter()
				var err error
				if rng.IntN(20) == 0 {
					err = soakStream(ctx, c)
					if err == nil {
						streams.Add(1)
					}
				} else {
					var got wrapperspb.BytesValue
					err = c.Call(ctx, testService, "Echo", wrapperspb.Bytes(payload), &got)
					if err == nil && !bytes.Equal(got.Value, payload) {
						err = errors.New("echo answered with other bytes")
					}
					if err == nil {
						unary.Add(1)
					}
				}
				current.Add(-1)
				if err != nil {
					fail(err)
				}
			}
		}()
	}

	// Sample while loaded: goroutines and RSS at the busiest.
	var goroutinesPeak int
	var rssPeak int64
	ticker := time.NewTicker(time.Second)
	deadline := time.After(duration)
	report := time.Now()
	var lastCalls int64
sampling:
	for {
		select {
		case <-ticker.C:
			goroutinesPeak = max(goroutinesPeak, runtime.NumGoroutine())
			rssPeak = max(rssPeak, soakRSS(t))
			if time.Since(report) >= 10*time.Second {
				calls := unary.Load() + streams.Load()
				t.Logf("%v: %d calls/s, %d in flight, %d errors", time.Since(start).Round(time.Second),
					int64(float64(calls-lastCalls)/time.Since(report).Seconds()), current.Load(), fails.Load())
				report, lastCalls = time.Now(), calls
			}
		case <-deadline:
			break sampling
		}
	}
	ticker.Stop()
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(start)

	for _, c := range clients {
		c.Close()
	}
	clients = nil // what the clients held must not count as left over
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	goroutinesAfter := soakSettle(goroutinesBefore)
	// The first collection moves pooled buffers to the pools' victim
	// caches, the one in FreeOSMemory frees them and returns the memory.
	runtime.GC()
	debug.FreeOSMemory()
	rssAfter := soakRSS(t)
	heapAfter := soakHeap()
	if path := os.Getenv("TTRPC_SOAK_HEAPPROFILE"); path != "" {
		soakHeapProfile(t, path)
	}

	calls := unary.Load() + streams.Load()
	lines := []string{
		fmt.Sprintf("duration             %v", elapsed.Round(time.Millisecond)),
		fmt.Sprintf("connections          %d", conns),
		fmt.Sprintf("calls in flight      %d (peak %d)", inflight, peak.Load()),
		fmt.Sprintf("calls completed      %d (%d unary, %d streams)", calls, unary.Load(), streams.Load()),
		fmt.Sprintf("calls per second     %.0f", float64(calls)/elapsed.Seconds()),
		fmt.Sprintf("errors               %d", fails.Load()),
		fmt.Sprintf("goroutines           %d before, %d peak, %d after", goroutinesBefore, goroutinesPeak, goroutinesAfter),
		fmt.Sprintf("RSS                  %.1f MiB before, %.1f MiB peak, %.1f MiB after", soakMiB(rssBefore), soakMiB(rssPeak), soakMiB(rssAfter)),
		fmt.Sprintf("heap in use          %.1f MiB before, %.1f MiB after", soakMiB(heapBefore), soakMiB(heapAfter)),
		fmt.Sprintf("GOMAXPROCS           %d", runtime.GOMAXPROCS(0)),
	}
	for _, line := range lines {
		fmt.Println("SOAK " + line)
	}
	if fails.Load() != 0 {
		t.Errorf("%d calls failed; first: %s", fails.Load(), firstErrText)
	}
	if goroutinesAfter > goroutinesBefore {
		t.Errorf("%d goroutines before, %d after", goroutinesBefore, goroutinesAfter)
	}
	if calls == 0 {
		t.Error("no call completed")
	}
}

// soakStream runs a short bidirectional stream and checks its answers.
func soakStream(ctx context.Context, c *Client) error {
	s, err := c.NewStream(ctx, &StreamDesc{StreamingClient: true, StreamingServer: true}, testService, "Bidi", nil)
	if err != nil {
		return err
	}
	for i := range 5 {
		want := strconv.Itoa(i)
		if err := s.SendMsg(wrapperspb.String(want)); err != nil {
			return err
		}
		var got wrapperspb.StringValue
		if err := s.RecvMsg(&got); err != nil {
			return err
		}
		if got.Value != "echo:"+want {
			return fmt.Errorf("bidi answered %q to %q", got.Value, want)
		}
	}
	if err := s.CloseSend(); err != nil {
		return err
	}
	var got wrapperspb.StringValue
	if err := s.RecvMsg(&got); err != io.EOF {
		return fmt.Errorf("after CloseSend: %v", err)
	}
	return nil
}

// soakSettle waits (a bounded while) for goroutines to wind down to want
// and returns the count it ended with.
func soakSettle(want int) int {
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling the count, not synchronising
	}
	return runtime.NumGoroutine()
}

// soakRSS reads this process's resident set size.
func soakRSS(t *testing.T) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Logf("RSS unavailable: %v", err)
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

func soakMiB(b int64) float64 { return float64(b) / (1 << 20) }

// soakHeapProfile writes a heap profile of what is left after the run.
func soakHeapProfile(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Errorf("heap profile: %v", err)
		return
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		t.Errorf("heap profile: %v", err)
	}
}

// soakHeap returns the heap in use after a collection.
func soakHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

func soakEnvDuration(t *testing.T, name string, def time.Duration) time.Duration {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return d
}

func soakEnvInt(t *testing.T, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}
