package corpus

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/thematic-qda/thematic/internal/gencorpus"
)

// postingSource segments text as ingest does.
func postingSource(id, kind, text string) *Source {
	segs, speakers := Segments(Document{Text: text}, kind, nil)
	return &Source{ID: id, Kind: kind, Text: text, SHA: HashText(text), Segments: segs, Speakers: speakers}
}

var postingTexts = []struct{ id, kind, text string }{
	{"int1", KindInterview, "Interviewer: Tell me about the garden.\n\nParticipant: I love gardening. Gardens calm me.\nMy neighbour’s help with the compost, don’t laugh, was gardening too.\n\nMore on the second paragraph: boundaries, boundary, BOUNDARIES.\n\nInterviewer: And the shed?\n"},
	{"diary1", KindDiary, "2024-03-01\nZoë’s café 🌱 garden is naïve. José said the garden 🌻 grows.\n\n2024-03-02\nGardens again; the shed, the plot, the compost heap. 12 tomatoes.\n"},
	{"notes1", KindNotes, "Plain notes with no speakers at all. Garden garden GARDEN."},
}

func postingFixtures() []*Source {
	var out []*Source
	for _, f := range postingTexts {
		out = append(out, postingSource(f.id, f.kind, f.text))
	}
	return out
}

func newPostingIndex(t testing.TB, cfg Config, srcs []*Source) *Index {
	t.Helper()
	ix, err := OpenIndex(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	if _, err := ix.Sync(srcs, nil); err != nil {
		t.Fatal(err)
	}
	return ix
}

// occurrence is a term at a span of a source's text, in code points, with
// its position in its indexed segment.
type occurrence struct {
	source, segment, term string
	start, end, pos       int
}

func (o occurrence) String() string {
	return fmt.Sprintf("%s#%s %q [%d,%d) @%d", o.source, o.segment, o.term, o.start, o.end, o.pos)
}

// analysedOccurrences is the oracle: the analyser run over each indexed
// segment's text, offsets turned into code points of the source.
func analysedOccurrences(an *Analyzer, srcs []*Source, keep map[string]bool) []occurrence {
	var out []occurrence
	for _, s := range srcs {
		rs := []rune(s.Text)
		for _, g := range IndexedSegments(s) {
			for _, tok := range an.Tokens(string(rs[g.Start:g.End])) {
				if keep[tok.Term] {
					out = append(out, occurrence{s.ID, g.ID, tok.Term, g.Start + tok.Start, g.Start + tok.End, tok.Pos})
				}
			}
		}
	}
	return out
}

func sortOccurrences(os []occurrence) {
	sort.Slice(os, func(i, j int) bool { return os[i].String() < os[j].String() })
}

// postingOccurrences reads the postings of terms and turns their byte
// offsets into code points of the source.
func postingOccurrences(t *testing.T, ix *Index, srcs []*Source, terms []string) []occurrence {
	t.Helper()
	byID := map[string]*Source{}
	for _, s := range srcs {
		byID[s.ID] = s
	}
	var out []occurrence
	err := ix.Postings(terms, func(p Posting) error {
		s := byID[p.Source]
		if s == nil {
			return fmt.Errorf("posting of unknown source %q", p.Source)
		}
		var seg *Segment
		for i := range s.Segments {
			if s.Segments[i].ID == p.Segment {
				seg = &s.Segments[i]
			}
		}
		if seg == nil {
			return fmt.Errorf("posting of unknown segment %s#%s", p.Source, p.Segment)
		}
		segText := string([]rune(s.Text)[seg.Start:seg.End])
		if p.Start < 0 || p.End > len(segText) || p.Start >= p.End {
			return fmt.Errorf("posting %+v outside its segment of %d bytes", p, len(segText))
		}
		start := seg.Start + utf8.RuneCountInString(segText[:p.Start])
		end := start + utf8.RuneCountInString(segText[p.Start:p.End])
		out = append(out, occurrence{p.Source, p.Segment, p.Term, start, end, p.Pos})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPostingsAreTheAnalysedWords(t *testing.T) {
	for _, fold := range []bool{false, true} {
		t.Run(fmt.Sprintf("fold=%v", fold), func(t *testing.T) {
			cfg := Config{Language: "en", FoldAccents: fold}
			srcs := postingFixtures()
			ix := newPostingIndex(t, cfg, srcs)
			an := ix.Analyzer()
			// Every term the analyser finds, plus some it never does.
			keep := map[string]bool{}
			var terms []string
			for _, s := range srcs {
				for _, tok := range an.Tokens(s.Text) {
					if !keep[tok.Term] {
						keep[tok.Term] = true
						terms = append(terms, tok.Term)
					}
				}
			}
			terms = append(terms, "zebra", "", "the")
			want := analysedOccurrences(an, srcs, keep)
			got := postingOccurrences(t, ix, srcs, terms)
			sortOccurrences(want)
			sortOccurrences(got)
			if len(want) < 30 {
				t.Fatalf("oracle found only %d occurrences", len(want))
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("postings\n  %v\nwant\n  %v", got, want)
			}
			for _, s := range srcs {
				if !ix.Current(s) {
					t.Errorf("Current(%s) = false for a source just indexed", s.ID)
				}
			}
		})
	}
}

// The postings of one segment stand for the tokens of the whole text there
// when the segments are bounded by white space.
func TestPostingsAgreeWithWholeTextAnalysis(t *testing.T) {
	srcs := postingFixtures()
	ix := newPostingIndex(t, Config{Language: "en"}, srcs)
	an := ix.Analyzer()
	for _, s := range srcs {
		segs := IndexedSegments(s)
		in := func(start int) string {
			for _, g := range segs {
				if start >= g.Start && start < g.End {
					return g.ID
				}
			}
			return ""
		}
		keep := map[string]bool{}
		var want []occurrence
		for _, tok := range an.Tokens(s.Text) {
			if id := in(tok.Start); id != "" {
				keep[tok.Term] = true
				want = append(want, occurrence{source: s.ID, segment: id, term: tok.Term, start: tok.Start, end: tok.End})
			}
		}
		var terms []string
		for term := range keep {
			terms = append(terms, term)
		}
		var got []occurrence
		for _, o := range postingOccurrences(t, ix, srcs, terms) {
			if o.source == s.ID {
				o.pos = 0
				got = append(got, o)
			}
		}
		sortOccurrences(want)
		sortOccurrences(got)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: postings\n  %v\nwhole-text tokens\n  %v", s.ID, got, want)
		}
	}
}

func TestPostingsStopOnError(t *testing.T) {
	srcs := postingFixtures()
	ix := newPostingIndex(t, Config{Language: "en"}, srcs)
	stop := errors.New("enough")
	n := 0
	err := ix.Postings([]string{"garden"}, func(Posting) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Postings = %v after %d calls, want the callback's error after 1", err, n)
	}
	ix.Close()
	if err := ix.Postings([]string{"garden"}, func(Posting) error { return nil }); err == nil {
		t.Error("Postings on a closed index succeeded")
	}
	if _, err := ix.Terms("", nil); err == nil {
		t.Error("Terms on a closed index succeeded")
	}
}

func TestIndexedSegmentsAreTheIndexedUnits(t *testing.T) {
	srcs := append(postingFixtures(), &Source{ID: "turns", Text: "a b", Segments: []Segment{
		{ID: "t1", Unit: UnitTurn, Start: 0, End: 1}, {ID: "t1.s1", Unit: UnitSentence, Start: 0, End: 1}, {ID: "t2", Unit: UnitTurn, Start: 2, End: 3}}},
		&Source{ID: "none"})
	for _, s := range srcs {
		got, want := IndexedSegments(s), indexUnits(s)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: IndexedSegments = %v, the index makes documents of %v", s.ID, got, want)
		}
	}
}

func TestTerms(t *testing.T) {
	srcs := postingFixtures()
	ix := newPostingIndex(t, Config{Language: "en"}, srcs)
	tests := []struct {
		prefix string
		keep   func(string) bool
		want   []string
	}{
		{"garden", nil, []string{"garden"}},
		{"bound", nil, []string{"boundari"}},
		{"co", nil, []string{"compost"}},
		{"g", func(s string) bool { return s != "garden" }, []string{"grow"}},
		{"zz", nil, []string{}},
	}
	for _, tt := range tests {
		got, err := ix.Terms(tt.prefix, tt.keep)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("Terms(%q) = %q, want %q", tt.prefix, got, tt.want)
		}
	}
	all, err := ix.Terms("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sort.StringsAreSorted(all) || len(all) < 20 {
		t.Errorf("Terms(\"\") = %d terms, sorted %v", len(all), sort.StringsAreSorted(all))
	}
}

func TestCurrent(t *testing.T) {
	srcs := postingFixtures()
	// A turn whose text starts right after its label, with no space (as a
	// reader of another format might make it).
	glued := &Source{ID: "glued", Kind: KindInterview, Text: "P:garden is here", Segments: []Segment{
		{ID: "t1", Unit: UnitTurn, Start: 2, End: 16, Speaker: "P", Role: RoleParticipant},
		{ID: "t1.p1", Unit: UnitParagraph, Parent: "t1", Start: 2, End: 16, Speaker: "P", Role: RoleParticipant},
	}}
	ix := newPostingIndex(t, Config{Language: "en"}, append(srcs, glued))
	if !ix.Current(srcs[0]) {
		t.Fatal("Current = false for an indexed source")
	}
	changed := postingSource("int1", KindInterview, strings.Replace(postingTexts[0].text, "garden", "orchard", 1))
	moved := *srcs[1]
	moved.Attrs = map[string]string{"wave": "2"}
	unknown := postingSource("other", KindNotes, "Garden.")
	for name, s := range map[string]*Source{"changed text": changed, "changed attributes": &moved, "not indexed": unknown} {
		if ix.Current(s) {
			t.Errorf("%s: Current = true", name)
		}
	}
	// "P:garden" is one word of the whole text ("p:garden") but the turn's
	// paragraph starts at "garden": the postings cannot stand for the text.
	if ix.Current(glued) {
		t.Error("Current = true for a paragraph glued to its label")
	}
	ix.Close()
	if ix.Current(srcs[0]) {
		t.Error("Current = true on a closed index")
	}

	// Bigrams join neighbouring characters: the postings of a paragraph are
	// not those of the whole text.
	ja := newPostingIndex(t, Config{Language: "ja"}, srcs)
	if ja.Current(srcs[0]) {
		t.Error("Current = true with CJK bigrams")
	}
}

func TestWordBounded(t *testing.T) {
	seg := func(s, e int) Segment { return Segment{Start: s, End: e} }
	tests := []struct {
		name string
		text string
		segs []Segment
		want bool
	}{
		{"whole text", "one two", []Segment{seg(0, 7)}, true},
		{"after a space, before a newline", "P: one two\nthree", []Segment{seg(3, 10)}, true},
		{"glued to a label", "P:one two", []Segment{seg(2, 9)}, false},
		{"ends inside a word", "one two", []Segment{seg(0, 5)}, false},
		{"starts with a combining mark", "a \u0301b c", []Segment{seg(2, 4)}, false},
		{"multibyte", "Zoë: café 🌱\n\nnaïve", []Segment{seg(5, 11), seg(13, 18)}, true},
		{"no-break space counts as space", "x\u00a0café", []Segment{seg(2, 6)}, true},
		{"out of order", "aa bb cc", []Segment{seg(6, 8), seg(0, 2)}, false},
		{"empty", "aa bb", []Segment{seg(3, 3)}, false},
		{"past the end", "aa bb", []Segment{seg(3, 9)}, false},
	}
	for _, tt := range tests {
		if got := wordBounded(tt.text, len(tt.segs), func(i int) *Segment { return &tt.segs[i] }); got != tt.want {
			t.Errorf("%s: wordBounded = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// BenchmarkPostings reads the postings of 200 mid-frequency words (600
// terms) from an index of ~1M generated words.
func BenchmarkPostings(b *testing.B) {
	g := gencorpus.New(gencorpus.Options{Seed: 1, Sources: 100, Words: 10000, Rules: 200})
	var srcs []*Source
	for i := 0; i < 100; i++ {
		d := g.Doc(i)
		s := postingSource(d.Name, d.Kind, d.Text)
		srcs = append(srcs, s)
	}
	_, words := g.Codebook()
	ix := newPostingIndex(b, Config{Language: "en"}, srcs)
	var terms []string
	for _, w := range words {
		terms = append(terms, ix.Analyzer().Term(w))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		if err := ix.Postings(terms, func(Posting) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(n), "postings")
	}
}
