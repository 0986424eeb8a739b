package suggest

import (
	"fmt"
	"testing"
	"time"
)

func TestProbe(t *testing.T) {
	_, srcs, cb := exampleProject(t)
	an := testAnalyzer(t)
	for _, corpusRef := range []bool{false, true} {
		t0 := time.Now()
		res, err := Suggest(srcs, Options{Analyzer: an, CorpusReference: corpusRef})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Println(time.Since(t0), res.Reference, res.Words, res.Sentences, res.Cases)
		v := newVocab(an)
		codes := leafCodes(cb, v)
		for _, l := range [][]Suggestion{res.Phrases, res.InVivo, res.Entities, res.Clusters} {
			for _, s := range l {
				fmt.Printf("%-8s %-30q %7.2f %7.2f n=%d c=%d s=%d %v\n", s.Kind, s.Label, s.Score, s.Keyness, s.Count, len(s.Cases), len(s.Sources), s.Words)
			}
			r := measureRecall(codes, l, 20, v)
			fmt.Println(r)
			fmt.Println(recallReport(codes, l, r))
		}
	}
}
