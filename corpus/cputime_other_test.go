//go:build !unix

package corpus

import "testing"

// reportCPU reports nothing where the CPU time of a process is not read.
func reportCPU(b *testing.B) func() { return func() {} }
