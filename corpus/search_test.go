package corpus

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/thematic-qda/thematic/internal/errs"
)

var updateSearchGolden = flag.Bool("update-search", false, "rewrite testdata/search/golden.txt (review the diff!)")

// matchedWords returns the words a hit's matches cover in its source.
func matchedWords(srcs []*Source, h Hit) []string {
	var text []rune
	for _, s := range srcs {
		if s.ID == h.Source {
			text = []rune(s.Text)
		}
	}
	var out []string
	for _, m := range h.Matches {
		out = append(out, string(text[m.Start:m.End]))
	}
	return out
}

// Every match of every query must slice its source to exactly one token of
// the analysed text, inside the hit's segment.
func TestSearchOffsetsAreWords(t *testing.T) {
	srcs := loadSearchFixtures(t)
	for _, fold := range []bool{false, true} {
		ix := openSynced(t, Config{FoldAccents: fold}, srcs)
		an := ix.Analyzer()
		tokens := map[string]map[Span]bool{}
		segs := map[string]Segment{}
		for _, s := range srcs {
			tokens[s.ID] = map[Span]bool{}
			for _, tk := range an.Tokens(s.Text) {
				tokens[s.ID][Span{tk.Start, tk.End}] = true
			}
			for _, g := range s.Segments {
				segs[s.ID+"#"+g.ID] = g
			}
		}
		for _, q := range []string{"naïve", "naive", "résumé", "zoë", "don't", "don’t", `"don't know"`, "parent*",
			"+boundaries -night", "know~1", "/par.*/", "café", "2019", "björn", "supervision helps"} {
			hits := mustSearch(t, ix, SearchRequest{Query: q})
			if len(hits) == 0 && q != "björn" {
				t.Errorf("fold=%v %q: no hits", fold, q)
			}
			for _, h := range hits {
				g, ok := segs[h.Source+"#"+h.Segment]
				if !ok || g.Start != h.SegStart || g.End != h.SegEnd {
					t.Errorf("%q: hit %s#%s %d-%d does not match its segment %+v", q, h.Source, h.Segment, h.SegStart, h.SegEnd, g)
				}
				if len(h.Matches) == 0 {
					t.Errorf("%q: hit %s#%s without matches", q, h.Source, h.Segment)
				}
				for i, m := range h.Matches {
					if !tokens[h.Source][m] {
						t.Errorf("fold=%v %q: match %v in %s is not a word: %q", fold, q, m, h.Source, matchedWords(srcs, Hit{Source: h.Source, Matches: []Span{m}}))
					}
					if m.Start < h.SegStart || m.End > h.SegEnd {
						t.Errorf("%q: match %v outside segment %d-%d", q, m, h.SegStart, h.SegEnd)
					}
					if i > 0 && !(h.Matches[i-1].Start < m.Start) {
						t.Errorf("%q: matches not sorted: %v", q, h.Matches)
					}
				}
			}
		}
	}
}

// searchCase is one query and the words each hit must match, as
// "source#segment: word word".
type searchCase struct {
	name string
	req  SearchRequest
	want []string
}

func runSearchCases(t *testing.T, ix *Index, srcs []*Source, cases []searchCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hits := mustSearch(t, ix, c.req)
			var got []string
			for _, h := range hits {
				got = append(got, fmt.Sprintf("%s#%s: %s", h.Source, h.Segment, strings.Join(matchedWords(srcs, h), " ")))
			}
			sort.Strings(got)
			want := append([]string(nil), c.want...)
			sort.Strings(want)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%+v\ngot:\n  %s\nwant:\n  %s", c.req, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

func TestSearchQueries(t *testing.T) {
	srcs := loadSearchFixtures(t)
	ix := openSynced(t, Config{}, srcs)
	runSearchCases(t, ix, srcs, []searchCase{
		{"straight apostrophe finds both", SearchRequest{Query: "don't"}, []string{
			"int01#t2.p1: don’t", "int01#t3.p1: don't", "int02#t3.p1: don't"}},
		{"curly apostrophe finds both", SearchRequest{Query: "don’t"}, []string{
			"int01#t2.p1: don’t", "int01#t3.p1: don't", "int02#t3.p1: don't"}},
		{"stemming", SearchRequest{Query: "parenting"}, []string{
			"int01#t2.p1: parenting", "int01#t5.p1: Parents", "int02#t3.p1: Parenting parents", "diary01#e1.p1: parent"}},
		{"phrase marks only the phrase", SearchRequest{Query: `"don't know"`}, []string{
			"int01#t2.p1: don’t know", "int02#t3.p1: don't know"}},
		{"phrase across a line break", SearchRequest{Query: `"helps parenting"`}, []string{
			"int02#t3.p1: helps Parenting"}},
		{"must and must not", SearchRequest{Query: "+boundaries -night"}, []string{
			"int01#t3.p1: boundaries", "int01#t4.p1: boundaries"}},
		{"must with optional", SearchRequest{Query: "+boundaries setting"}, []string{
			"int01#t3.p1: boundaries", "int01#t4.p1: setting boundaries", "diary01#e1.p1: Boundaries"}},
		{"wildcard, upper case", SearchRequest{Query: "Superv*"}, []string{
			"int02#t3.p1: supervision", "diary01#e2.p1: Supervision"}},
		{"wildcard with ?", SearchRequest{Query: "mo?th"}, nil},
		{"wildcard matches stems", SearchRequest{Query: "boundary*"}, []string{
			"int01#t3.p1: boundaries", "int01#t4.p1: boundaries", "diary01#e1.p1: Boundaries"}},
		{"wildcard in a field value stays exact", SearchRequest{Query: "+speaker:Bj* +helps"}, []string{
			"int02#t3.p1: helps help"}},
		{"accents not folded", SearchRequest{Query: "naive"}, []string{"int02#t2.p1: naive"}},
		{"accented query", SearchRequest{Query: "naïve"}, []string{"int01#t3.p1: naïve", "notes01#e2.p1: naïve"}},
		{"fuzzy", SearchRequest{Query: "boundries~1"}, []string{
			"int01#t3.p1: boundaries", "int01#t4.p1: boundaries", "diary01#e1.p1: Boundaries"}},
		{"fuzzy distance is on stems", SearchRequest{Query: "supervison~1"}, nil},
		{"regexp", SearchRequest{Query: "/bound.*/"}, []string{
			"int01#t3.p1: boundaries", "int01#t4.p1: boundaries", "diary01#e1.p1: Boundaries"}},
		{"number", SearchRequest{Query: "2019"}, []string{"int02#t2.p1: 2019"}},
		{"field in the query", SearchRequest{Query: "+speaker:Björn know"}, []string{
			"int02#t2.p1: ", "int02#t3.p1: know know"}},
		{"attribute in the query", SearchRequest{Query: "+attr.site:York +burnout"}, []string{"int02#t2.p1: burnout"}},
		{"stop words only", SearchRequest{Query: "the and"}, nil},
		{"must not only", SearchRequest{Query: "-know", Sources: []string{"int02"}}, []string{"int02#t1.p1: ", "int02#t2.p1: "}},
	})
}

func TestSearchFilters(t *testing.T) {
	srcs := loadSearchFixtures(t)
	ix := openSynced(t, Config{}, srcs)
	runSearchCases(t, ix, srcs, []searchCase{
		{"kind", SearchRequest{Query: "boundaries", Kinds: []string{KindDiary}}, []string{"diary01#e1.p1: Boundaries"}},
		{"kinds", SearchRequest{Query: "boundaries", Kinds: []string{KindDiary, KindInterview}}, []string{
			"int01#t3.p1: boundaries", "int01#t4.p1: boundaries", "diary01#e1.p1: Boundaries"}},
		{"case", SearchRequest{Query: "know", Cases: []string{"P02"}}, []string{"int02#t3.p1: know know"}},
		{"speaker", SearchRequest{Query: "boundaries", Speakers: []string{"Ann"}}, []string{"int01#t3.p1: boundaries"}},
		{"inherited speaker", SearchRequest{Query: "know", Speakers: []string{"Björn"}}, []string{"int02#t3.p1: know know"}},
		{"speaker is exact", SearchRequest{Query: "know", Speakers: []string{"björn"}}, nil},
		{"role", SearchRequest{Query: "boundaries", Roles: []string{RoleInterviewer}}, []string{"int01#t4.p1: boundaries"}},
		{"inherited role", SearchRequest{Roles: []string{RoleInterviewer}, Sources: []string{"int02"}}, []string{"int02#t1.p1: "}},
		{"source", SearchRequest{Query: "résumé", Sources: []string{"notes01", "int01"}}, []string{
			"notes01#e1.p1: résumé", "notes01#e2.p1: résumé"}},
		{"attribute", SearchRequest{Query: "know", Attrs: map[string]string{"site": "Leeds"}}, []string{"int01#t2.p1: know"}},
		{"two attributes", SearchRequest{Attrs: map[string]string{"site": "Leeds", "wave": "1"}}, []string{
			"int01#t1.p1: ", "int01#t2.p1: ", "int01#t3.p1: ", "int01#t4.p1: ", "int01#t5.p1: "}},
		{"unknown attribute", SearchRequest{Attrs: map[string]string{"colour": "red"}}, nil},
		{"all filters at once", SearchRequest{Query: "don't", Kinds: []string{KindInterview}, Cases: []string{"P01"},
			Speakers: []string{"Ann"}, Roles: []string{RoleParticipant}, Sources: []string{"int01"},
			Attrs: map[string]string{"site": "Leeds"}}, []string{"int01#t2.p1: don’t", "int01#t3.p1: don't"}},
		{"empty query lists every paragraph", SearchRequest{Kinds: []string{KindNotes}}, []string{"notes01#e1.p1: ", "notes01#e2.p1: "}},
	})
}

// Filters restrict the hits but leave their scores as they were.
func TestFiltersDoNotScore(t *testing.T) {
	srcs := loadSearchFixtures(t)
	ix := openSynced(t, Config{}, srcs)
	plain := mustSearch(t, ix, SearchRequest{Query: "boundaries"})
	filtered := mustSearch(t, ix, SearchRequest{Query: "boundaries", Speakers: []string{"Ann", "I"}, Kinds: []string{KindInterview}})
	scores := map[string]float64{}
	for _, h := range plain {
		scores[h.Source+"#"+h.Segment] = h.Score
	}
	if len(filtered) != 2 {
		t.Fatalf("filtered: %v", hitIDs(filtered))
	}
	for _, h := range filtered {
		if s := scores[h.Source+"#"+h.Segment]; s != h.Score {
			t.Errorf("%s#%s: score %v with filters, %v without", h.Source, h.Segment, h.Score, s)
		}
	}
}

func TestSearchFoldAccents(t *testing.T) {
	srcs := loadSearchFixtures(t)
	ix := openSynced(t, Config{FoldAccents: true}, srcs)
	runSearchCases(t, ix, srcs, []searchCase{
		{"plain finds accented", SearchRequest{Query: "naive"}, []string{
			"int01#t3.p1: naïve", "int02#t2.p1: naive", "notes01#e2.p1: naïve"}},
		{"accented finds plain", SearchRequest{Query: "naïve"}, []string{
			"int01#t3.p1: naïve", "int02#t2.p1: naive", "notes01#e2.p1: naïve"}},
		{"wildcard folded", SearchRequest{Query: "NAÏV*"}, []string{
			"int01#t3.p1: naïve", "int02#t2.p1: naive", "notes01#e2.p1: naïve", "diary01#e1.p1: Naïveté"}},
		{"cafe", SearchRequest{Query: "cafe"}, []string{"int02#t2.p1: café"}},
		{"NFD query", SearchRequest{Query: "Zoe\u0308"}, []string{"notes01#e1.p1: Zoë", "notes01#e2.p1: Zoë’s"}},
		{"speaker filter stays exact", SearchRequest{Query: "know", Speakers: []string{"Bjorn"}}, nil},
	})
}

// Hits are ordered by score; equal scores by source, then position. Limit 0
// pages through every hit.
func TestSearchOrderAndPaging(t *testing.T) {
	var srcs []*Source
	// 1,250 identical paragraphs (so equal scores) across 5 sources, added
	// in an order unlike the expected one, and one paragraph that scores
	// higher.
	for _, id := range []string{"s3", "s1", "s5", "s2", "s4"} {
		srcs = append(srcs, handSource(id, KindNotes, "", strings.Repeat("alpha beta gamma\n\n", 250), nil, false))
	}
	srcs = append(srcs, handSource("s0", KindNotes, "", "alpha alpha alpha", nil, false))
	ix := openSynced(t, Config{}, srcs)

	all := mustSearch(t, ix, SearchRequest{Query: "alpha"})
	if len(all) != 1251 {
		t.Fatalf("got %d hits, want 1251", len(all))
	}
	if all[0].Source != "s0" {
		t.Errorf("first hit %s#%s, want the best-scoring s0", all[0].Source, all[0].Segment)
	}
	seen := map[string]bool{}
	for i, h := range all {
		key := h.Source + "#" + h.Segment
		if seen[key] {
			t.Fatalf("hit %s repeated at %d", key, i)
		}
		seen[key] = true
		if i < 2 {
			continue
		}
		p := all[i-1]
		if p.Score != h.Score {
			t.Fatalf("hits %d and %d score %v and %v; the ixFixture expects ties", i-1, i, p.Score, h.Score)
		}
		if p.Source > h.Source || (p.Source == h.Source && p.SegStart >= h.SegStart) {
			t.Fatalf("tie at %d not ordered by source and position: %s@%d then %s@%d", i, p.Source, p.SegStart, h.Source, h.SegStart)
		}
	}
	for _, limit := range []int{1, 7, 1000, 1001, 5000} {
		hits, total, err := ix.Search(SearchRequest{Query: "alpha", Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		if total != 1251 || len(hits) != min(limit, 1251) {
			t.Errorf("Limit %d: %d hits of %d", limit, len(hits), total)
		}
		for i := range hits {
			if hits[i].Source != all[i].Source || hits[i].Segment != all[i].Segment {
				t.Fatalf("Limit %d: hit %d is %s#%s, want %s#%s", limit, i, hits[i].Source, hits[i].Segment, all[i].Source, all[i].Segment)
			}
		}
	}
}

func TestInvalidQueries(t *testing.T) {
	ix := openSynced(t, Config{}, loadSearchFixtures(t))
	cases := []struct {
		q    string
		col  int
		want string
	}{
		{`"unclosed phrase`, 1, "unclosed quote"},
		{`know "open`, 6, "unclosed quote"},
		{`+`, 1, "+ must be followed by a word or a phrase"},
		{`know -`, 6, "- must be followed"},
		{`speaker:`, 8, "speaker: needs a value"},
		{`:know`, 1, "':' needs a field name"},
		{`~1 know`, 1, "~ must follow a word"},
		{`^2`, 1, "^ must follow"},
		{`"a phrase"~2`, 11, "~ cannot follow a phrase"},
		{`2019:x`, 1, "field name cannot be a number"},
		{`a > b`, 3, `">" is only allowed`},
		{`know~x`, 5, "fuzziness must be 0, 1 or 2"},
		{`know~3`, 5, "fuzziness must be 0, 1 or 2"},
		{`know^x`, 5, "boost must be a number"},
		{`boundaries AND limits`, 12, "AND is not an operator"},
		{`NOT limits`, 1, "NOT is not an operator"},
		{`naïve /[a/`, 7, "regular expression /[a/"},
		{`start:>x`, 8, "range on start: needs a number"},
		{`f:<"2020"`, 4, `"2020" is not a date`},
		{`\`, 1, "nothing to search for"},
		{`know /`, 6, "a lone /"},
		{`in ٢٠١٩`, 4, `quote it ("٢٠١٩")`},
	}
	for _, c := range cases {
		for _, check := range []func(string) error{
			func(q string) error { _, _, err := ix.Search(SearchRequest{Query: q}); return err },
			ValidateQuery,
		} {
			err := check(c.q)
			var ie *errs.InputError
			if !errors.As(err, &ie) {
				t.Errorf("%q: %v, want an input error", c.q, err)
				continue
			}
			if ie.Col != c.col || !strings.Contains(ie.Msg, c.want) || !strings.HasPrefix(ie.Msg, "invalid query: ") ||
				!strings.Contains(ie.Msg, fmt.Sprintf("at column %d", c.col)) || strings.Contains(ie.Msg, "\n") {
				t.Errorf("%q: %q (col %d), want column %d and %q", c.q, ie.Msg, ie.Col, c.col, c.want)
			}
		}
	}
	for _, q := range []string{"", "  ", "know", `speaker:"Björn" +know`, "a OR b", "attr.site:York", "know~2 ^3", "know^3", `in "٢٠١٩"`, "start:>=10",
		`start:<"2020-01-01"`, `e-mail`, `weird\:field`, "tab\tseparated"} {
		if err := ValidateQuery(q); err != nil {
			t.Errorf("ValidateQuery(%q): %v", q, err)
		}
	}
}

// TestSearchGolden runs a list of queries over the fixtures and compares the
// ordered hits with their matched words against testdata/search/golden.txt.
func TestSearchGolden(t *testing.T) {
	srcs := loadSearchFixtures(t)
	var b strings.Builder
	for _, fold := range []bool{false, true} {
		ix := openSynced(t, Config{FoldAccents: fold}, srcs)
		for _, q := range []string{"know", "parents boundaries", `"first worker"`, "messag* +parents", "zoë résumé", "naïve", "-know +don't"} {
			hits, total, err := ix.Search(SearchRequest{Query: q})
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "# fold=%v query=%s total=%d\n", fold, q, total)
			for _, h := range hits {
				var spans []string
				text := []rune(fixtureText(srcs, h.Source))
				for _, m := range h.Matches {
					spans = append(spans, fmt.Sprintf("%d-%d %q", m.Start, m.End, string(text[m.Start:m.End])))
				}
				fmt.Fprintf(&b, "%s#%s %d-%d [%s] %.40q\n", h.Source, h.Segment, h.SegStart, h.SegEnd,
					strings.Join(spans, ", "), string(text[h.SegStart:h.SegEnd]))
			}
		}
	}
	path := filepath.Join("testdata", "search", "golden.txt")
	if *updateSearchGolden {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("search results differ from %s (run with -update-search after checking):\n%s", path, b.String())
	}
}

func fixtureText(srcs []*Source, id string) string {
	for _, s := range srcs {
		if s.ID == id {
			return s.Text
		}
	}
	return ""
}

func TestKWIC(t *testing.T) {
	const fox = "The quick brown fox jumps over the lazy dog"
	cases := []struct {
		name              string
		text              string
		span              Span
		width             int
		left, match, rite string
	}{
		{"cut inside words", fox, Span{16, 19}, 10, "brown ", "fox", " jumps"},
		{"window on word boundaries", fox, Span{16, 19}, 6, "brown ", "fox", " jumps"},
		{"whole text", fox, Span{16, 19}, 100, "The quick brown ", "fox", " jumps over the lazy dog"},
		{"no context", fox, Span{16, 19}, 0, "", "fox", ""},
		{"negative width", fox, Span{16, 19}, -3, "", "fox", ""},
		{"at the start", fox, Span{0, 3}, 10, "", "The", " quick"},
		{"at the end", fox, Span{40, 43}, 9, "the lazy ", "dog", ""},
		{"newlines become spaces", "one two\n\nthree\nfour five", Span{9, 14}, 6, "two ", "three", " four"},
		{"newline inside the match", "a b\nc d", Span{2, 5}, 2, "a ", "b c", " d"},
		{"multi-byte", "Café 😀 naïve 👩‍👧 résumé kept", Span{7, 12}, 4, "😀 ", "naïve", " 👩‍👧"},
		{"accents inside a cut word", "Zoë brought her résumé to the meeting", Span{16, 22}, 5, "her ", "résumé", " to"},
		{"span clamped", "short", Span{3, 99}, 5, "sho", "rt", ""},
		{"span before text", "short", Span{-4, -1}, 5, "", "", "short"},
		{"reversed span", "short", Span{4, 2}, 1, "", "", "t"},
		{"empty text", "", Span{0, 0}, 10, "", "", ""},
		{"word longer than the window", "a extraordinarily b", Span{18, 19}, 5, "", "b", ""},
		{"apostrophes are inside words", "we don’t know", Span{9, 13}, 4, "", "know", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, m, r := KWIC(c.text, c.span, c.width)
			if l != c.left || m != c.match || r != c.rite {
				t.Errorf("KWIC(%q, %v, %d) = %q, %q, %q; want %q, %q, %q", c.text, c.span, c.width, l, m, r, c.left, c.match, c.rite)
			}
		})
	}
}

// FuzzQuery checks that no query string panics the parser and that every
// rejection is an input error on one line.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{"know", `"don't know"`, "+a -b", `speaker:"x y"`, "a~2^3", "/re/", `"open`, "x:>=-1",
		`\"`, "AND", "ü:ü", "a\\", "~", "^", ":", "f:<\"2020\"", "2019:x", "a*?"} {
		f.Add(s)
	}
	an := mustAnalyzer(f, "en", true)
	f.Fuzz(func(t *testing.T, q string) {
		if c := cleanQuery(q); strings.TrimSpace(c) != "" {
			if _, perr := query.NewQueryStringQuery(c).Parse(); perr == nil {
				toks, lexErr := lexQuery(c)
				if lexErr != nil {
					t.Fatalf("bleve parses %q but the lexer says %v", c, lexErr)
				}
				if gerr := checkGrammar(toks, c); gerr != nil {
					t.Fatalf("bleve parses %q but the grammar check says %v", c, gerr)
				}
			}
		}
		_, err := compileQuery(q, an)
		if err == nil {
			return
		}
		var ie *errs.InputError
		if !errors.As(err, &ie) {
			t.Fatalf("compileQuery(%q): %v is not an input error", q, err)
		}
		if strings.Contains(ie.Msg, "\n") || !strings.HasPrefix(ie.Msg, "invalid query: ") {
			t.Fatalf("compileQuery(%q): message %q", q, ie.Msg)
		}
		// The column-finding lexer and grammar mirror bleve's: every
		// rejection says where the fault is, and a query bleve accepts
		// passes the grammar check.
		if ie.Col < 1 || ie.Col > utf8.RuneCountInString(q)+1 {
			t.Fatalf("compileQuery(%q): %q has no column", q, ie.Msg)
		}
	})
}

// FuzzKWIC checks that KWIC never panics and that the match it shows is the
// span's text.
func FuzzKWIC(f *testing.F) {
	f.Add("The quick brown fox", 4, 9, 5)
	f.Add("Café 😀\nnaïve", 5, 6, 3)
	f.Add("", 0, 0, 0)
	f.Fuzz(func(t *testing.T, text string, start, end, width int) {
		if width > 1<<20 || width < -1<<20 {
			return
		}
		l, m, r := KWIC(text, Span{start, end}, width)
		if strings.ContainsAny(l+m+r, "\n\r") {
			t.Fatalf("KWIC kept a line break: %q %q %q", l, m, r)
		}
		rs := []rune(text)
		if 0 <= start && start <= end && end <= len(rs) {
			if want := strings.Join(strings.Fields(string(rs[start:end])), " "); strings.TrimSpace(m) != want {
				t.Fatalf("KWIC(%q, %d-%d) match %q, want %q", text, start, end, m, want)
			}
			if width >= 0 && (utf8.RuneCountInString(l) > width || utf8.RuneCountInString(r) > width) {
				t.Fatalf("KWIC(%q, %d-%d, %d) context %q / %q wider than asked", text, start, end, width, l, r)
			}
		}
	})
}

// benchSearchIndex is a 10k-paragraph index shared by the search benchmarks.
func benchSearchIndex(b *testing.B) *Index {
	b.Helper()
	ix, err := OpenIndex(b.TempDir(), Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ix.Close() })
	if err := ix.Rebuild(benchParagraphSources(10000), nil); err != nil {
		b.Fatal(err)
	}
	return ix
}

// BenchmarkSearch measures query latency over 10k paragraphs (all hits
// fetched, with their match offsets) and reports p50 and p95.
func BenchmarkSearch(b *testing.B) {
	ix := benchSearchIndex(b)
	for _, c := range []struct {
		name string
		req  SearchRequest
	}{
		{"match", SearchRequest{Query: "burnout", Limit: 20}},
		{"boolean+filter", SearchRequest{Query: "+supervision -guilt", Kinds: []string{KindDiary}, Roles: []string{RoleParticipant},
			Attrs: map[string]string{"site": "Leeds"}, Limit: 20}},
		{"phrase", SearchRequest{Query: `"don't know"`, Limit: 20}},
		{"phrase-all-hits", SearchRequest{Query: `"don't know"`}},
		{"phrase-common-words", SearchRequest{Query: `"know just"`, Limit: 20}},
		{"phrase-stop-word", SearchRequest{Query: `"was really"`, Limit: 20}},
		{"match-common-word", SearchRequest{Query: "really", Limit: 20}},
	} {
		b.Run(c.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, _, err := ix.Search(c.req); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
		})
	}
}

// TestRealInterviews indexes real transcripts (the PDPilot user-study
// interviews in the shared corpora) and checks, for a range of queries,
// that every match slices the text to a word the analyser found there.
func TestRealInterviews(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "corpora", "interviews-pdpilot")
	files, _ := filepath.Glob(filepath.Join(dir, "P*.txt"))
	if len(files) == 0 {
		t.Skipf("shared corpora not found at %s", dir)
	}
	var srcs []*Source
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.ReplaceAll(string(data), "\r\n", "\n")
		id := strings.TrimSuffix(filepath.Base(f), ".txt")
		srcs = append(srcs, handSource(id, KindInterview, id, text, nil, false))
	}
	ix := openSynced(t, Config{FoldAccents: true}, srcs)
	words := map[string]map[Span]bool{}
	for _, s := range srcs {
		words[s.ID] = map[Span]bool{}
		for _, tk := range ix.Analyzer().Tokens(s.Text) {
			words[s.ID][Span{tk.Start, tk.End}] = true
		}
	}
	for _, q := range []string{"plot", "plots", "feature*", `"ice plots"`, "+average -scatter", "interactions~1",
		"don't", "we'll", "/clust.*/", "model data"} {
		hits := mustSearch(t, ix, SearchRequest{Query: q})
		if len(hits) == 0 {
			t.Errorf("%q: no hits in the PDPilot interviews", q)
		}
		for _, h := range hits {
			for _, m := range h.Matches {
				if !words[h.Source][m] {
					t.Fatalf("%q: match %v in %s is not a word", q, m, h.Source)
				}
			}
		}
	}
}

// TestPhraseMatchesBleve checks the phrase searcher against bleve's own
// over the same index: the same documents, scores and matched words, for
// phrases drawn from the text (with stop words, repeated words, curly
// apostrophes) and phrases that occur nowhere.
func TestPhraseMatchesBleve(t *testing.T) {
	srcs := append(benchParagraphSources(1500), loadSearchFixtures(t)...)
	ix := openSynced(t, Config{}, srcs)
	phrases := []string{
		"the and", "and the", "i to the", "don’t know", "don't know", "really think", "burnout burnout",
		"the the", "first worker", "naïve café", "boundaries were hard", "nothing like this at all",
		"zz qq", "to", "the",
	}
	for _, s := range srcs[:min(len(srcs), 40)] {
		ws := strings.Fields(s.Text)
		for k := 0; k+3 < len(ws); k += 97 {
			phrases = append(phrases, strings.Trim(strings.Join(ws[k:k+2], " "), "."), strings.Trim(strings.Join(ws[k:k+3], " "), "."))
		}
	}
	for _, p := range phrases {
		want, wantTotal, err := ix.searchPage(query.NewMatchPhraseQuery(p), 100000, false)
		if err != nil {
			t.Fatal(err)
		}
		got, gotTotal, err := ix.searchPage(phraseQuery{query.NewMatchPhraseQuery(p)}, 100000, false)
		if err != nil {
			t.Fatal(err)
		}
		sortHits(want)
		sortHits(got)
		if wantTotal != gotTotal || fmt.Sprint(want) != fmt.Sprint(got) {
			t.Errorf("%q: phrase searcher found %d hits, bleve %d\n got  %.300v\n want %.300v", p, gotTotal, wantTotal, got, want)
		}
	}
	// Within a boolean query too, where the phrase's weight joins others'.
	for _, q := range []string{`"really think" -burnout`, `+"the and" supervision`, `"don't know" OR worker`} {
		parsed, err := query.NewQueryStringQuery(q).Parse()
		if err != nil {
			t.Fatal(err)
		}
		want, _, err := ix.searchPage(parsed, 100000, false)
		if err != nil {
			t.Fatal(err)
		}
		parsed, _ = query.NewQueryStringQuery(q).Parse()
		got, _, err := ix.searchPage(foldPatterns(parsed, ix.an), 100000, false)
		if err != nil {
			t.Fatal(err)
		}
		sortHits(want)
		sortHits(got)
		if fmt.Sprint(want) != fmt.Sprint(got) {
			t.Errorf("%q: differs from bleve's phrase searcher", q)
		}
	}
}

// TestLoc checks that a paragraph's loc field maps every byte offset at a
// character boundary to its code point, for texts of every width.
func TestLoc(t *testing.T) {
	for _, text := range []string{"", "plain ascii", "naïve café", "Zoë’s 🌱 garden", "ααα βββ", "日本語のテキスト", "a\u0301b", "🌱🌱🌱x🌻"} {
		checkLoc(t, 7, text)
	}
}

func checkLoc(t *testing.T, start int, text string) {
	t.Helper()
	enc := encodeLoc(start, start+utf8.RuneCountInString(text), text)
	loc, ok := decodeLoc(enc)
	if !ok {
		t.Fatalf("%q: loc %q does not decode", text, enc)
	}
	if loc.start != start || loc.end != start+utf8.RuneCountInString(text) || loc.bytes != len(text) {
		t.Fatalf("%q: loc %q decodes to %+v", text, enc, loc)
	}
	cp := 0
	for b := range text {
		if got := loc.runeAt(b); got != cp {
			t.Fatalf("%q (loc %q): byte %d is code point %d, runeAt says %d", text, enc, b, cp, got)
		}
		cp++
	}
	if got := loc.runeAt(len(text)); got != cp {
		t.Fatalf("%q: end byte %d is code point %d, runeAt says %d", text, len(text), cp, got)
	}
}

func FuzzLoc(f *testing.F) {
	for _, s := range []string{"naïve café", "🌱x", "ab", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkLoc(t, 3, validUTF8(s))
		// Whatever is stored, decoding never panics.
		if l, ok := decodeLoc(s); ok {
			l.runeAt(len(s))
		}
	})
}

// A page of hits finds its match locations in a second pass over the
// page's documents: the hits must be those of the full search, matches and
// scores included.
func TestSearchPageMatchesFullSearch(t *testing.T) {
	srcs := append(benchParagraphSources(600), loadSearchFixtures(t)...)
	ix := openSynced(t, Config{}, srcs)
	for _, q := range []string{"know", "parents boundaries", `"first worker"`, "messag* +parents", `"the and" -burnout`,
		"supervision~1", "+kindness +guilt", `"don't know"`, "/tra.*/", "was really", "messages +parents",
		"burnout +parents", "+parents burnout guilt", `+"really think" burnout -guilt`, "-burnout"} {
		for _, roles := range [][]string{nil, {RoleParticipant}} {
			all := mustSearch(t, ix, SearchRequest{Query: q, Roles: roles})
			for _, limit := range []int{1, 5, 50} {
				page := mustSearch(t, ix, SearchRequest{Query: q, Roles: roles, Limit: limit})
				want := all[:min(limit, len(all))]
				if describeHits(page) != describeHits(want) {
					t.Errorf("%q roles %v Limit %d:\n got  %s\n want %s", q, roles, limit, describeHits(page), describeHits(want))
				}
			}
		}
	}
}

// describeHits writes hits compactly: id, span, score and matches.
func describeHits(hits []Hit) string {
	var b strings.Builder
	for _, h := range hits {
		fmt.Fprintf(&b, "%s#%s[%d,%d) %.6f %v; ", h.Source, h.Segment, h.SegStart, h.SegEnd, h.Score, h.Matches)
	}
	return b.String()
}
