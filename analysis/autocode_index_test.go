package analysis

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/gencorpus"
)

// casesIndex is the index as Project.OpenIndex syncs it: sources carry their
// case's attributes.
type casesIndex struct {
	*corpus.Index
	cases corpus.Cases
}

func (x casesIndex) Current(src *corpus.Source) bool {
	return x.Index.Current(corpus.IndexedSources([]*corpus.Source{src}, x.cases)[0])
}

// exampleStudy ingests the example study as its README does and returns its
// sources, cases, codebook and synced index.
func exampleStudy(t *testing.T) ([]*corpus.Source, corpus.Cases, *codebook.Codebook, *corpus.Index) {
	t.Helper()
	ex := filepath.Join("..", "examples", "growing-together")
	if _, err := os.Stat(ex); err != nil {
		t.Skipf("example study not found: %v", err)
	}
	p, err := corpus.Init(t.TempDir(), "gt")
	if err != nil {
		t.Fatal(err)
	}
	p.Config.Roles = map[string]string{"Ruth Kerr": corpus.RoleInterviewer}
	ingest := func(path, kind, caseID string, attrs map[string]string) {
		if _, err := p.Ingest([]string{filepath.Join(ex, path)}, corpus.IngestOptions{Kind: kind, Case: caseID, Attrs: attrs}); err != nil {
			t.Fatal(err)
		}
	}
	for _, pid := range []string{"P01", "P02", "P03", "P04"} {
		ingest("interviews/wave1/"+pid+"-wave1.txt", corpus.KindInterview, "", nil)
		ingest("interviews/wave2/"+pid+"-wave2.docx", corpus.KindInterview, pid, map[string]string{"wave": "2"})
		ingest("interviews/wave3/"+pid+"-wave3.vtt", corpus.KindInterview, pid, map[string]string{"wave": "3"})
		ingest("diaries/"+pid+"-diary.md", corpus.KindDiary, "", nil)
	}
	data, err := os.ReadFile(filepath.Join(ex, "cases.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Path(corpus.CasesFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := p.Sources(true)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := p.OpenIndex(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	cbData, err := os.ReadFile(filepath.Join(ex, "codebook.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cb, problems := codebook.Parse("codebook.yaml", cbData)
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	return srcs, cases, cb, ix
}

// withoutSurfaceRules drops the rules that match words as written (phrases,
// wildcards), which the index cannot answer, keeping every other rule.
func withoutSurfaceRules(cb *codebook.Codebook) {
	for _, n := range cb.Codes() {
		var keep []codebook.Rule
		for _, r := range n.Rules {
			inner := r
			if r.Kind == codebook.RuleNot && r.Not != nil {
				inner = *r.Not
			}
			surface := inner.Kind == codebook.RulePhrase
			for _, w := range inner.Words {
				surface = surface || strings.ContainsAny(w, "*?")
			}
			if !surface {
				keep = append(keep, r)
			}
		}
		n.Rules = keep
	}
}

func setUnits(cb *codebook.Codebook, unit string) {
	for _, n := range cb.Codes() {
		n.Unit = unit
	}
}

// sameResults fails unless the two runs coded the same.
func sameResults(t *testing.T, what string, got, want *AutocodeResult) {
	t.Helper()
	if len(want.Codings) == 0 {
		t.Fatalf("%s: the scan coded nothing; the comparison proves nothing", what)
	}
	if !reflect.DeepEqual(codingSet(got.Codings), codingSet(want.Codings)) {
		t.Errorf("%s: %d codings from the index, %d from the scan; first differences:\n%s", what, len(got.Codings), len(want.Codings),
			firstDiffs(codingSet(got.Codings), codingSet(want.Codings)))
	}
	if !reflect.DeepEqual(got.Counts, want.Counts) || !reflect.DeepEqual(got.Vetoed, want.Vetoed) {
		t.Errorf("%s: counts %v vetoed %v, want %v and %v", what, got.Counts, got.Vetoed, want.Counts, want.Vetoed)
	}
	if !reflect.DeepEqual(got.Matches, want.Matches) {
		t.Errorf("%s: %d matches from the index, %d from the scan", what, len(got.Matches), len(want.Matches))
	}
}

// codingSet renders codings one per line, in canonical order.
func codingSet(cs []Coding) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s %d-%d %s %s %s %q|%q|%q %s", c.Source, c.Start, c.End, c.Code, c.Origin, c.Segment, c.Prefix, c.Quote, c.Suffix, c.ID))
	}
	return out
}

func firstDiffs(a, b []string) string {
	in := func(s []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range s {
			m[x] = true
		}
		return m
	}
	ia, ib := in(a), in(b)
	var out []string
	for _, x := range a {
		if !ib[x] && len(out) < 5 {
			out = append(out, "  only from the index: "+x)
		}
	}
	for _, x := range b {
		if !ia[x] && len(out) < 10 {
			out = append(out, "  only from the scan:  "+x)
		}
	}
	return strings.Join(out, "\n")
}

func TestPostingsPathMatchesScanExampleStudy(t *testing.T) {
	srcs, cases, cb, ix := exampleStudy(t)
	an := ix.Analyzer()
	attrs := func(s *corpus.Source) map[string]string { return corpus.CaseAttrs(s, cases) }
	query := func(q string) ([]corpus.Hit, error) {
		hits, _, err := ix.Search(corpus.SearchRequest{Query: q})
		return hits, err
	}
	run := func(cb *codebook.Codebook, withIndex bool) *AutocodeResult {
		opts := AutocodeOptions{Analyzer: an, Attrs: attrs, Explain: true, Query: query}
		if withIndex {
			opts.Index = casesIndex{ix, cases}
		}
		res, err := Autocode(cb, srcs, opts)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	// The codebook as written has wildcards and phrases: every source is
	// analysed, index or not.
	res := run(cb, true)
	sameResults(t, "example codebook", res, run(cb, false))
	if res.FromIndex != 0 {
		t.Errorf("example codebook: %d sources coded from postings; wildcards need the text", res.FromIndex)
	}
	// Without them, the postings answer for every source, at every unit.
	withoutSurfaceRules(cb)
	for _, unit := range []string{"", UnitMatch, corpus.UnitParagraph, corpus.UnitTurn} {
		if unit != "" {
			setUnits(cb, unit)
		}
		what := "words, all, near, regex and not rules, unit " + unit
		res := run(cb, true)
		sameResults(t, what, res, run(cb, false))
		if res.FromIndex != len(srcs) {
			t.Errorf("%s: %d of %d sources coded from postings", what, res.FromIndex, len(srcs))
		}
	}
}

// generatedSources makes n generated transcripts and diaries, segmented as
// ingest would, and a codebook of words rules over their vocabulary.
func generatedSources(n, words int) ([]*corpus.Source, string, []string) {
	g := gencorpus.New(gencorpus.Options{Seed: 7, Sources: n, Words: words, Rules: 40})
	var srcs []*corpus.Source
	for i := 0; i < n; i++ {
		d := g.Doc(i)
		segs, speakers := corpus.Segments(corpus.Document{Text: d.Text}, d.Kind, nil)
		srcs = append(srcs, &corpus.Source{ID: strings.ToLower(strings.TrimSuffix(d.Name, ".txt")), Kind: d.Kind, Case: d.Case,
			Text: d.Text, SHA: corpus.HashText(d.Text), Segments: segs, Speakers: speakers})
	}
	yaml, ws := g.Codebook()
	return srcs, yaml, ws
}

func syncedIndex(t testing.TB, srcs []*corpus.Source) *corpus.Index {
	t.Helper()
	ix, err := corpus.OpenIndex(t.TempDir(), corpus.Config{Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	if _, err := ix.Sync(srcs, nil); err != nil {
		t.Fatal(err)
	}
	return ix
}

func TestPostingsPathMatchesScanGenerated(t *testing.T) {
	srcs, yaml, _ := generatedSources(12, 3000)
	ix := syncedIndex(t, srcs)
	// More rule kinds, with scopes and vetoes, over the most frequent words
	// that are not stop words (as written: the rules analyse them again).
	freq := map[string]int{}
	for _, s := range srcs {
		rs := []rune(s.Text)
		for _, tok := range ix.Analyzer().Tokens(s.Text) {
			if w := strings.ToLower(string(rs[tok.Start:tok.End])); !strings.ContainsAny(w, "'’") {
				freq[w]++
			}
		}
	}
	var words []string
	for word := range freq {
		words = append(words, word)
	}
	sort.Slice(words, func(i, j int) bool {
		if freq[words[i]] != freq[words[j]] {
			return freq[words[i]] > freq[words[j]]
		}
		return words[i] < words[j]
	})
	w := func(i int) string { return words[i] }
	extra := fmt.Sprintf(`  - id: extra
    name: Extra
    codes:
      - id: allc
        name: All
        rules:
          - all: [%s, %s]
      - id: nearturn
        name: Near in turns
        unit: turn
        rules:
          - near: {terms: [%s, %s], within: 12}
      - id: nearord
        name: Near ordered
        unit: paragraph
        rules:
          - near: {terms: [%s, %s, %s], within: 20, ordered: true}
      - id: vetoed
        name: Vetoed
        unit: match
        speakers: [participant]
        rules:
          - words: [%s, %s, %s, %s]
          - not: {words: [%s]}
          - not: {near: {terms: [%s, %s], within: 5}}
      - id: diaryonly
        name: Diary only
        kinds: [diary]
        rules:
          - words: [%s, the, and]
          - regex: '(?i)\bjust then\b'
`, w(0), w(1), w(2), w(3), w(4), w(5), w(6), w(7), w(8), w(9), w(10), w(11), w(12), w(13), w(14))
	cb, problems := codebook.Parse("codebook.yaml", []byte(yaml+extra))
	if len(problems) > 0 {
		t.Fatal(problems[0])
	}
	an := ix.Analyzer()
	scan, err := Autocode(cb, srcs, AutocodeOptions{Analyzer: an, Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	posts, err := Autocode(cb, srcs, AutocodeOptions{Analyzer: an, Explain: true, Index: ix})
	if err != nil {
		t.Fatal(err)
	}
	sameResults(t, "generated corpus", posts, scan)
	// Each coding is what NewCoding makes of its span.
	text := map[string]string{}
	for _, s := range srcs {
		text[s.ID] = s.Text
	}
	for _, c := range posts.Codings {
		want, err := NewCoding(c.Source, text[c.Source], c.Start, c.End, c.Code, AutoCoder, c.Origin, c.Time)
		if err != nil {
			t.Fatal(err)
		}
		want.Segment = c.Segment
		if c != want {
			t.Fatalf("coding\n  %+v\nNewCoding makes\n  %+v", c, want)
		}
	}
	if posts.FromIndex != len(srcs) {
		t.Errorf("%d of %d sources coded from postings", posts.FromIndex, len(srcs))
	}
	for _, code := range []string{"allc", "nearturn", "nearord", "vetoed", "diaryonly"} {
		if scan.Counts[code] == 0 {
			t.Errorf("code %s coded nothing: pick other words", code)
		}
	}
	if scan.Vetoed["vetoed"] == 0 {
		t.Error("no unit was vetoed: pick other words")
	}

	// A source changed since the index was synced is analysed; the others
	// still come from the postings.
	changed := *srcs[3]
	changed.Text = strings.Replace(changed.Text, " ", "  ", 1)
	segs, _ := corpus.Segments(corpus.Document{Text: changed.Text}, changed.Kind, nil)
	changed.Segments, changed.SHA = segs, corpus.HashText(changed.Text)
	srcs2 := append(append([]*corpus.Source{}, srcs[:3]...), &changed)
	srcs2 = append(srcs2, srcs[4:]...)
	scan2, err := Autocode(cb, srcs2, AutocodeOptions{Analyzer: an, Explain: true})
	if err != nil {
		t.Fatal(err)
	}
	posts2, err := Autocode(cb, srcs2, AutocodeOptions{Analyzer: an, Explain: true, Index: ix})
	if err != nil {
		t.Fatal(err)
	}
	sameResults(t, "one source changed", posts2, scan2)
	if posts2.FromIndex != len(srcs)-1 {
		t.Errorf("one source changed: %d of %d sources coded from postings, want all but one", posts2.FromIndex, len(srcs))
	}
}

// failingIndex cannot be read.
type failingIndex struct{}

func (failingIndex) Postings([]string, func(corpus.Posting) error) error {
	return errors.New("index unreadable")
}
func (failingIndex) Current(*corpus.Source) bool { return true }

func TestUnreadableIndexFallsBackToScan(t *testing.T) {
	srcs, yaml, _ := generatedSources(3, 2000)
	cb := parseCodebook(t, yaml)
	an, err := corpus.NewAnalyzer("en", false)
	if err != nil {
		t.Fatal(err)
	}
	scan, err := Autocode(cb, srcs, AutocodeOptions{Analyzer: an})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Autocode(cb, srcs, AutocodeOptions{Analyzer: an, Index: failingIndex{}})
	if err != nil {
		t.Fatal(err)
	}
	sameResults(t, "unreadable index", res, scan)
	if res.FromIndex != 0 {
		t.Errorf("FromIndex = %d with an unreadable index", res.FromIndex)
	}
}

func TestAutocodeSourcesReportsFirstError(t *testing.T) {
	srcs, yaml, _ := generatedSources(6, 500)
	cb := parseCodebook(t, yaml)
	an, _ := corpus.NewAnalyzer("en", false)
	bad := errors.New("sidecar broken")
	_, err := AutocodeSources(cb, len(srcs), func(i int) (*corpus.Source, error) {
		if i == 2 || i == 4 {
			return nil, fmt.Errorf("source %d: %w", i, bad)
		}
		return srcs[i], nil
	}, AutocodeOptions{Analyzer: an})
	if !errors.Is(err, bad) {
		t.Fatalf("err = %v, want the loader's error", err)
	}
	if !strings.HasPrefix(err.Error(), "source 2:") && !strings.HasPrefix(err.Error(), "source 4:") {
		t.Errorf("err = %v", err)
	}
}

func TestCovered(t *testing.T) {
	text := "aaa bbb\n\nccc ddd\n\neee"
	seg := func(s, e int) corpus.Segment { return corpus.Segment{Start: s, End: e} }
	ptrs := func(gs ...corpus.Segment) []*corpus.Segment {
		var out []*corpus.Segment
		for i := range gs {
			out = append(out, &gs[i])
		}
		return out
	}
	indexed := []corpus.Segment{seg(0, 7), seg(9, 16)}
	sx := &sourceIndex{ti: NewTextIndex(text)}
	tests := []struct {
		name  string
		units []*corpus.Segment
		want  bool
	}{
		{"inside the indexed segments", ptrs(seg(0, 3), seg(4, 7), seg(9, 16)), true},
		{"spanning two with blank lines between", ptrs(seg(0, 16)), true},
		{"text outside any indexed segment", ptrs(seg(9, 21)), false},
		{"no units", nil, true},
	}
	for _, tt := range tests {
		if got := sx.covered(tt.units, indexed); got != tt.want {
			t.Errorf("%s: covered = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// BenchmarkAutocodeFromPostings is BenchmarkAutocode200Rules with the
// words looked up in an index of the same sources.
func BenchmarkAutocodeFromPostings(b *testing.B) {
	g := gencorpus.New(gencorpus.Options{Seed: 1, Sources: 130, Words: 10000, Rules: 200})
	var srcs []*corpus.Source
	var bytes int64
	for i := 0; i < 130; i++ {
		d := g.Doc(i)
		segs, speakers := corpus.Segments(corpus.Document{Text: d.Text}, d.Kind, nil)
		srcs = append(srcs, &corpus.Source{ID: strings.ToLower(strings.TrimSuffix(d.Name, ".txt")), Kind: d.Kind, Case: d.Case,
			Text: d.Text, SHA: corpus.HashText(d.Text), Segments: segs, Speakers: speakers})
		bytes += int64(len(d.Text))
	}
	yaml, _ := g.Codebook()
	cb, problems := codebook.Parse("codebook.yaml", []byte(yaml))
	if len(problems) > 0 {
		b.Fatal(problems[0])
	}
	ix := syncedIndex(b, srcs)
	b.SetBytes(bytes)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := Autocode(cb, srcs, AutocodeOptions{Analyzer: ix.Analyzer(), Index: ix})
		if err != nil {
			b.Fatal(err)
		}
		if res.FromIndex != len(srcs) {
			b.Fatalf("%d of %d sources from postings", res.FromIndex, len(srcs))
		}
		b.ReportMetric(float64(len(res.Codings)), "codings")
	}
}

// Word positions in postings restart with each indexed paragraph, so near
// rules over units of several paragraphs count them on the text itself.
func TestPostingsPathNearAcrossParagraphs(t *testing.T) {
	long := strings.Repeat("filler words go here ", 5)
	texts := map[string]string{
		// 21 words apart in the text, 3 apart by the second paragraph's count.
		"far": "P: alpha " + long + "\n\nsome more beta here\n",
		// 3 words apart across the blank line.
		"near": "P: " + long + "alpha one\n\ntwo beta\n",
	}
	var srcs []*corpus.Source
	for _, id := range []string{"far", "near"} {
		text := texts[id]
		segs, speakers := corpus.Segments(corpus.Document{Text: text}, corpus.KindInterview, nil)
		srcs = append(srcs, &corpus.Source{ID: id, Kind: corpus.KindInterview, Text: text, SHA: corpus.HashText(text), Segments: segs, Speakers: speakers})
	}
	ix := syncedIndex(t, srcs)
	cb := parseCodebook(t, codebookWith("- id: c\n  name: C\n  unit: turn\n  rules:\n    - near: {terms: [alpha, beta], within: 5}\n"))
	scan, err := Autocode(cb, srcs, AutocodeOptions{Analyzer: ix.Analyzer()})
	if err != nil {
		t.Fatal(err)
	}
	if len(scan.Codings) != 1 || scan.Codings[0].Source != "near" {
		t.Fatalf("scan coded %v, want the one turn of source near", codingSet(scan.Codings))
	}
	res, err := Autocode(cb, srcs, AutocodeOptions{Analyzer: ix.Analyzer(), Index: ix})
	if err != nil {
		t.Fatal(err)
	}
	sameResults(t, "near across paragraphs", res, scan)
	if res.FromIndex != 2 {
		t.Errorf("FromIndex = %d, want 2", res.FromIndex)
	}
}
