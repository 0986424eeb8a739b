package analysis

import (
	"testing"

	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/gencorpus"
)

// BenchmarkAutocode200Rules runs 200 words-rules over ~100k sentence
// segments of generated transcripts and diaries (about 1.3M words).
func BenchmarkAutocode200Rules(b *testing.B) {
	g := gencorpus.New(gencorpus.Options{Seed: 1, Sources: 130, Words: 10000, Rules: 200})
	var srcs []*corpus.Source
	var bytes int64
	sentences := 0
	for i := 0; i < 130; i++ {
		d := g.Doc(i)
		segs, speakers := corpus.Segments(corpus.Document{Text: d.Text}, d.Kind, nil)
		for _, s := range segs {
			if s.Unit == corpus.UnitSentence {
				sentences++
			}
		}
		srcs = append(srcs, &corpus.Source{ID: d.Name, Kind: d.Kind, Case: d.Case, Text: d.Text, Segments: segs, Speakers: speakers})
		bytes += int64(len(d.Text))
	}
	yaml, _ := g.Codebook()
	cb, problems := codebook.Parse("codebook.yaml", []byte(yaml))
	if len(problems) > 0 {
		b.Fatal(problems[0])
	}
	an, err := corpus.NewAnalyzer("en", false)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(bytes)
	b.ReportMetric(float64(sentences), "sentences")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Autocode(cb, srcs, AutocodeOptions{Analyzer: an})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Codings) == 0 {
			b.Fatal("no codings")
		}
		b.ReportMetric(float64(len(res.Codings)), "codings")
	}
}
