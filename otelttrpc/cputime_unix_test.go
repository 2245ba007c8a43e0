//go:build unix

package otelttrpc_test

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) the process used so
// far, and false if it cannot tell.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
