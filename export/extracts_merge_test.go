package export

import (
	"testing"
	"time"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
)

// Merge joins codings of one code that overlap or touch across white
// space, and only those.
func TestExtractsMergeAdjacent(t *testing.T) {
	text := "P: One. Two.\n\nThree. Four.\n\nI: Five?\n"
	segs, speakers := corpus.Segments(corpus.Document{Text: text}, corpus.KindInterview, nil)
	src := &corpus.Source{ID: "s", Kind: corpus.KindInterview, Number: 1, Text: text, Segments: segs, Speakers: speakers}
	cb, probs := codebook.Parse("codebook.yaml", []byte("themes:\n  - id: t\n    name: T\n    codes:\n      - id: c\n        name: C\n"))
	if len(probs) > 0 {
		t.Fatal(probs[0])
	}
	ti := analysis.NewTextIndex(text)
	code := func(quote string) analysis.Coding {
		start := -1
		for i := 0; i+len([]rune(quote)) <= ti.Len(); i++ {
			if ti.Slice(i, i+len([]rune(quote))) == quote {
				start = i
				break
			}
		}
		c, err := ti.NewCoding("s", start, start+len([]rune(quote)), "c", "bob", analysis.OriginManual, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// "One." and "Two." touch across a space; "Three." follows a paragraph
	// break (white space only); "Five?" is after the interviewer's label,
	// which is not white space, so it stays apart.
	cs := []analysis.Coding{code("One."), code("Two."), code("Three."), code("Five?")}
	st := &Study{Codebook: cb, Sources: []*corpus.Source{src}, Citation: "({Kind} {n})", Codings: cs}
	for _, tt := range []struct {
		merge bool
		want  int
	}{{false, 4}, {true, 2}} {
		x, err := BuildExtracts(st, ExtractOptions{Merge: tt.merge})
		if err != nil {
			t.Fatal(err)
		}
		if x.Len() != tt.want {
			t.Errorf("merge=%v: %d extracts, want %d", tt.merge, x.Len(), tt.want)
		}
		if tt.merge && x.items[0].text != "One. Two.\n\nThree." {
			t.Errorf("merged extract = %q", x.items[0].text)
		}
	}
}
