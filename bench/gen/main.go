// Command gen writes a generated corpus for benchmarks: N documents
// (interviews and diaries) under docs/, a cases.csv of their participants, a
// codebook.yaml with R rules and words.txt (every rule word, one a line, for
// rg -f).
//
//	go run ./bench/gen -out /tmp/corpus -sources 100 -words 10000 -rules 200
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/thematic-qda/thematic/internal/gencorpus"
)

func main() {
	out := flag.String("out", "bench-corpus", "output folder")
	n := flag.Int("sources", 100, "documents")
	words := flag.Int("words", 10000, "words per document")
	rules := flag.Int("rules", 200, "codes with rules")
	seed := flag.Int64("seed", 1, "random seed")
	flag.Parse()
	g := gencorpus.New(gencorpus.Options{Seed: *seed, Sources: *n, Words: *words, Rules: *rules})
	if err := os.MkdirAll(filepath.Join(*out, "docs"), 0o755); err != nil {
		fail(err)
	}
	for i := 0; i < *n; i++ {
		d := g.Doc(i)
		if err := os.WriteFile(filepath.Join(*out, "docs", d.Name), []byte(d.Text), 0o644); err != nil {
			fail(err)
		}
	}
	if err := os.WriteFile(filepath.Join(*out, "cases.csv"), []byte(g.Cases()), 0o644); err != nil {
		fail(err)
	}
	cb, ws := g.Codebook()
	if err := os.WriteFile(filepath.Join(*out, "codebook.yaml"), []byte(cb), 0o644); err != nil {
		fail(err)
	}
	f, err := os.Create(filepath.Join(*out, "words.txt"))
	if err != nil {
		fail(err)
	}
	for _, w := range ws {
		fmt.Fprintln(f, w)
	}
	f.Close()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}
