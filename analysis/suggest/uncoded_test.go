package suggest

import (
	"math"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

// spanOf returns the code-point span of the first occurrence of sub in text.
func spanOf(t *testing.T, text, sub string) (int, int) {
	t.Helper()
	i := strings.Index(text, sub)
	if i < 0 {
		t.Fatalf("%q not in text", sub)
	}
	s := len([]rune(text[:i]))
	return s, s + len([]rune(sub))
}

func TestUncodedByHand(t *testing.T) {
	a := toySource("a", corpus.KindInterview, "P01", 1,
		"I: First question?\n\nP: Alpha beta gamma. Delta epsilon.\n\nI: Second?\n\nP: Zeta eta théta iota.\n")
	b := toySource("b", corpus.KindDiary, "P01", 1, "## 2025-01-02\n\nOne two. Three four five six.\n")
	c := toySource("c", corpus.KindInterview, "P02", 2, "I: Anything?\n\nP: Just one sentence here.\n")
	s, e := spanOf(t, a.Text, "eta thé") // inside "Zeta eta théta iota."
	s2, e2 := spanOf(t, b.Text, "One")
	codings := []analysis.Coding{
		{Source: "a", Start: s, End: e, Code: "x"},
		{Source: "b", Start: s2, End: e2, Code: "y"},
		// an orphan, and a coding of the interviewer's question: neither
		// touches a participant's sentence
		{Source: "c", Start: 3, End: 8, Code: "z", Orphan: true},
	}
	qs, qe := spanOf(t, c.Text, "Anything")
	codings = append(codings, analysis.Coding{Source: "c", Start: qs, End: qe, Code: "z"})

	rep := Uncoded([]*corpus.Source{a, b, c}, codings, corpus.UnitSentence, []string{corpus.RoleParticipant})
	// By hand, participant sentences (words):
	//   a: "Alpha beta gamma." (3), "Delta epsilon." (2), "Zeta eta théta iota." (4, coded)
	//      -> 2 of 3 uncoded = 66.67%; words 5 of 9 = 55.56%
	//   b: "One two." (2, coded), "Three four five six." (4)
	//      -> 1 of 2 = 50%; words 4 of 6 = 66.67%
	//   c: "Just one sentence here." (4) -> 1 of 1 = 100%; 4 of 4
	//   P01 = a + b: 3 of 5 = 60%; words 9 of 15 = 60%
	//   P02 = c: 100%
	//   all: 4 of 6 = 66.67%; words 13 of 19 = 68.42%
	want := []struct {
		share         Share
		pct, wordsPct float64
	}{
		{Share{"a", 3, 2, 9, 5}, 66.667, 55.556},
		{Share{"b", 2, 1, 6, 4}, 50, 66.667},
		{Share{"c", 1, 1, 4, 4}, 100, 100},
		{Share{"P01", 5, 3, 15, 9}, 60, 60},
		{Share{"P02", 1, 1, 4, 4}, 100, 100},
		{Share{"all", 6, 4, 19, 13}, 66.667, 68.421},
	}
	got := append(append(append([]Share{}, rep.BySource...), rep.ByCase...), rep.Total)
	if len(got) != len(want) {
		t.Fatalf("got %d shares: %+v", len(got), got)
	}
	for i, w := range want {
		g := got[i]
		if g != w.share {
			t.Errorf("share %d = %+v, want %+v", i, g, w.share)
		}
		if math.Abs(g.Percent()-w.pct) > 0.001 || math.Abs(g.WordsPercent()-w.wordsPct) > 0.001 {
			t.Errorf("%s: %.3f%% of segments, %.3f%% of words; want %.3f, %.3f", g.Key, g.Percent(), g.WordsPercent(), w.pct, w.wordsPct)
		}
	}
	var texts []string
	for _, u := range rep.Segments {
		texts = append(texts, u.Text)
		if got := string([]rune(map[string]*corpus.Source{"a": a, "b": b, "c": c}[u.Source].Text)[u.Start:u.End]); got != u.Text {
			t.Errorf("segment %s:%s text %q, source has %q", u.Source, u.Segment, u.Text, got)
		}
	}
	if strings.Join(texts, "|") != "Alpha beta gamma.|Delta epsilon.|Three four five six.|Just one sentence here." {
		t.Errorf("uncoded: %q", texts)
	}
	// Paragraphs, every role: a's interviewer questions are uncoded too.
	rep = Uncoded([]*corpus.Source{a}, codings, corpus.UnitParagraph, nil)
	if rep.Total.Segments != 4 || rep.Total.Uncoded != 3 {
		t.Errorf("paragraphs of a, all roles: %+v", rep.Total)
	}
	if (Share{}).Percent() != 0 {
		t.Error("no segments: 0%")
	}
}

func TestCoverageTouches(t *testing.T) {
	cov := newCoverage([]analysis.Coding{
		{Source: "s", Start: 10, End: 20}, {Source: "s", Start: 15, End: 25}, {Source: "s", Start: 40, End: 41},
		{Source: "s", Start: 50, End: 50}, // empty: ignored
	})
	for _, tc := range []struct {
		s, e int
		want bool
	}{
		{0, 10, false}, {0, 11, true}, {24, 30, true}, {25, 40, false}, {40, 41, true}, {41, 60, false}, {19, 21, true},
	} {
		if got := cov.touches("s", tc.s, tc.e); got != tc.want {
			t.Errorf("[%d,%d): %v, want %v", tc.s, tc.e, got, tc.want)
		}
	}
	if cov.touches("other", 0, 100) {
		t.Error("another source")
	}
}
