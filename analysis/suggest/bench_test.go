package suggest

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/gencorpus"
)

// generated makes sources of generated interviews and diaries until they
// hold at least segments paragraphs, as ingest would segment them.
func generated(segments, wordsPerDoc int) (srcs []*corpus.Source, paragraphs, words int) {
	g := gencorpus.New(gencorpus.Options{Seed: 1, Words: wordsPerDoc})
	for i := 0; paragraphs < segments; i++ {
		d := g.Doc(i)
		kind := corpus.KindInterview
		if d.Kind == "diary" {
			kind = corpus.KindDiary
		}
		src := toySource(d.Name, kind, d.Case, i+1, d.Text)
		for _, s := range src.Segments {
			if s.Unit == corpus.UnitParagraph {
				paragraphs++
			}
		}
		words += len(strings.Fields(d.Text))
		srcs = append(srcs, src)
	}
	return srcs, paragraphs, words
}

func BenchmarkSuggest(b *testing.B) {
	an, err := corpus.NewAnalyzer("en", false)
	if err != nil {
		b.Fatal(err)
	}
	srcs, paras, words := generated(2000, 2000)
	b.Logf("%d sources, %d paragraphs, %d words", len(srcs), paras, words)
	for _, ner := range []bool{false, true} {
		name := "no-entities"
		if ner {
			name = "entities"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Suggest(srcs, Options{Analyzer: an, NoEntities: !ner}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(words)*float64(b.N)/b.Elapsed().Seconds(), "words/s")
		})
	}
}

func BenchmarkFrequencies(b *testing.B) {
	an, err := corpus.NewAnalyzer("en", false)
	if err != nil {
		b.Fatal(err)
	}
	srcs, _, words := generated(2000, 2000)
	for b.Loop() {
		Frequencies(srcs, WordsOptions{Analyzer: an, Top: 20, Group: func(s *corpus.Source) string { return s.Case }})
	}
	b.ReportMetric(float64(words)*float64(b.N)/b.Elapsed().Seconds(), "words/s")
}

// TestScale runs Suggest on THEMATIC_SUGGEST_SEGMENTS generated paragraphs
// (100000 for the figure in the report) and logs the time and memory. It
// is skipped unless the variable is set: it takes minutes.
func TestScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("THEMATIC_SUGGEST_SEGMENTS"))
	if n <= 0 {
		t.Skip("set THEMATIC_SUGGEST_SEGMENTS=100000 to measure suggest at scale")
	}
	an := testAnalyzer(t)
	start := time.Now()
	srcs, paras, words := generated(n, 5000)
	t.Logf("generated %d sources, %d paragraphs, %d words in %v", len(srcs), paras, words, time.Since(start))
	for _, ner := range []bool{false, true} {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start = time.Now()
		res, err := Suggest(srcs, Options{Analyzer: an, NoEntities: !ner})
		if err != nil {
			t.Fatal(err)
		}
		el := time.Since(start)
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		t.Logf("entities=%v: %v (%.0f words/s); read %d sentences, %d words; clustered %d segments into %d; allocated %d MB; heap %d MB before (the sources), %d MB after; sys %d MB; peak RSS %s",
			ner, el, float64(res.Words)/el.Seconds(), res.Sentences, res.Words, res.Segments, len(res.Clusters),
			(after.TotalAlloc-before.TotalAlloc)>>20, before.HeapAlloc>>20, after.HeapAlloc>>20, after.Sys>>20, peakRSS())
	}
}

// peakRSS reads the process's peak resident set size (Linux).
func peakRSS() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "unknown"
}
