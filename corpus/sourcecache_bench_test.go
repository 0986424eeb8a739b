package corpus

import (
	"os"
	"testing"
)

// benchProject opens the project named by $THEMATIC_BENCH_PROJECT (such as
// a copy of the M-scale bench project), or skips.
func benchProject(b *testing.B) *Project {
	dir := os.Getenv("THEMATIC_BENCH_PROJECT")
	if dir == "" {
		b.Skip("set THEMATIC_BENCH_PROJECT to a project folder (e.g. a copy of the M bench project)")
	}
	p, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkProjectSources reads every source of a real project.
func BenchmarkProjectSources(b *testing.B) {
	p := benchProject(b)
	for _, withText := range []bool{false, true} {
		name := "meta"
		if withText {
			name = "text"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				srcs, err := p.Sources(withText)
				if err != nil || len(srcs) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}
