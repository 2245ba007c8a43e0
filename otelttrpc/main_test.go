package otelttrpc_test

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"testing"
	"time"

	reflog "github.com/containerd/log"
)

// TestMain fails the run when goroutines outlive the tests: every server,
// client and stream a test starts must be gone by the end.
func TestMain(m *testing.M) {
	// The reference implementation logs dropped connections on stderr.
	reflog.L.Logger.SetOutput(io.Discard)
	before := runtime.NumGoroutine()
	code := m.Run()
	if code == 0 {
		if n := settledGoroutines(before); n > before {
			buf := make([]byte, 1<<20)
			fmt.Fprintf(os.Stderr, "%d goroutines left behind (had %d):\n%s\n", n-before, before, buf[:runtime.Stack(buf, true)])
			code = 1
		}
	}
	os.Exit(code)
}

// settledGoroutines returns the goroutine count once it is down to want,
// or what it is after a few seconds: closed connections end their
// goroutines asynchronously, and nothing announces it.
func settledGoroutines(want int) int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}
