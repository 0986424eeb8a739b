//go:build unix

package corpus

import (
	"syscall"
	"testing"
)

// cpuTime is the CPU time (user and system) this process has used, in
// nanoseconds; 0 where it cannot be read.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// reportCPU makes a benchmark also report the CPU time per operation of
// the whole process (every goroutine, the garbage collector included),
// which other processes on a shared machine disturb far less than the
// wall-clock time. Call it after the set-up and defer the result.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
