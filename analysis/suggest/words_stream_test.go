package suggest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/gencorpus"
)

// wordsGenerated makes a few generated interviews and diaries, some with
// accented words and capitals so that words have several spellings.
func wordsGenerated() []*corpus.Source {
	g := gencorpus.New(gencorpus.Options{Seed: 9, Sources: 12, Words: 1500, Rules: 4})
	var out []*corpus.Source
	for i := range 12 {
		d := g.Doc(i)
		text := d.Text
		if i%3 == 1 {
			text = strings.ReplaceAll(text, "garden", "Gardens")
			text = strings.ReplaceAll(text, " plot ", " plöt ")
		}
		out = append(out, toySource(fmt.Sprintf("s%02d", i), d.Kind, d.Case, i+1, text))
	}
	return out
}

// The compact counter gives what the counting before it gave (kept in
// words_oracle_test.go), on the example study and on generated sources,
// grouped every way the command groups, with every cut.
func TestFrequenciesEqualOld(t *testing.T) {
	an := testAnalyzer(t)
	_, study, _ := exampleProject(t)
	groupings := map[string]func(*corpus.Source) string{
		"none":   nil,
		"case":   func(s *corpus.Source) string { return s.Case },
		"kind":   func(s *corpus.Source) string { return s.Kind },
		"source": func(s *corpus.Source) string { return s.ID },
		"odd":    func(s *corpus.Source) string { return []string{"x", "y"}[len(s.ID)%2] },
	}
	for name, srcs := range map[string][]*corpus.Source{"study": study, "generated": wordsGenerated(), "toy": wordsSources()} {
		for gname, group := range groupings {
			for _, opts := range []WordsOptions{
				{Analyzer: an, Group: group},
				{Analyzer: an, Group: group, Top: 3, MinCount: 3, Roles: []string{corpus.RoleParticipant}},
			} {
				got, want := Frequencies(srcs, opts), oldFrequencies(srcs, opts)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("%s by %s, top %d, min %d, roles %v: %s", name, gname, opts.Top, opts.MinCount, opts.Roles, wordsDiff(got, want))
				}
			}
		}
	}
}

// wordsDiff describes the first difference between two lists of groups.
func wordsDiff(got, want []WordGroup) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d groups, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Group != w.Group || g.Words != w.Words {
			return fmt.Sprintf("group %q of %d words, want %q of %d", g.Group, g.Words, w.Group, w.Words)
		}
		for _, part := range [][2][]Freq{{g.Terms, w.Terms}, {g.Phrases, w.Phrases}} {
			if len(part[0]) != len(part[1]) {
				return fmt.Sprintf("group %q: %d entries, want %d", g.Group, len(part[0]), len(part[1]))
			}
			for k := range part[1] {
				if !reflect.DeepEqual(part[0][k], part[1][k]) {
					return fmt.Sprintf("group %q, entry %d: %+v, want %+v", g.Group, k, part[0][k], part[1][k])
				}
			}
		}
	}
	return "differ"
}

// KWIC over many sources, checked line by line against the sources' own
// text: each match is the text at its span, in a turn of the roles asked
// for, flanked by the text around it (white space shown as one space), and every occurrence of a plain word
// (as the analyser finds it) is listed.
func TestKWICAgainstTheText(t *testing.T) {
	an := testAnalyzer(t)
	_, study, _ := exampleProject(t)
	srcs := append(study, wordsGenerated()...)
	byID := map[string]*corpus.Source{}
	for _, s := range srcs {
		byID[s.ID] = s
	}
	for _, q := range []string{"garden*", "slug pellets", "the rota", "plöt", "on my own", "?a*", "nosuchword"} {
		for _, roles := range [][]string{nil, {corpus.RoleParticipant}} {
			got, err := KWIC(srcs, q, WordsOptions{Analyzer: an, Roles: roles, Width: 30})
			if err != nil {
				t.Fatalf("%q: %v", q, err)
			}
			for _, c := range got {
				src := byID[c.Source]
				rs := []rune(src.Text)
				// KWIC shows each run of white space as one space.
				squash := func(s string) string { return strings.Join(strings.Fields(s), " ") }
				if squash(string(rs[c.Start:c.End])) != c.Match {
					t.Fatalf("%q: %s %d-%d is %q, the line says %q", q, c.Source, c.Start, c.End, string(rs[c.Start:c.End]), c.Match)
				}
				if !strings.HasSuffix(squash(string(rs[:c.Start])), squash(c.Left)) || !strings.HasPrefix(squash(string(rs[c.End:])), squash(c.Right)) {
					t.Fatalf("%q: %s %d: context %q | %q not around the match", q, c.Source, c.Start, c.Left, c.Right)
				}
				var turn *corpus.Segment
				for i := range src.Segments {
					if g := &src.Segments[i]; g.Unit == corpus.UnitTurn && g.Start <= c.Start && c.End <= g.End {
						turn = g
					}
				}
				if turn == nil || turn.ID != c.Segment || (roles != nil && turn.Role != roles[0]) {
					t.Fatalf("%q %v: %s %d-%d not in a turn of the roles asked for (%+v)", q, roles, c.Source, c.Start, c.End, turn)
				}
				if q == "garden*" && !strings.HasPrefix(an.Fold(c.Match), "garden") {
					t.Fatalf("garden*: matched %q", c.Match)
				}
			}
		}
	}
	// A plain word: one line per token of its stem in the turns.
	want := 0
	slug := an.Tokens("slugs")[0].Term
	for _, s := range srcs {
		for _, g := range s.Segments {
			if g.Unit != corpus.UnitTurn {
				continue
			}
			for _, tok := range an.Tokens(string([]rune(s.Text)[g.Start:g.End])) {
				if tok.Term == slug {
					want++
				}
			}
		}
	}
	got, _ := KWIC(srcs, "slug", WordsOptions{Analyzer: an})
	if want == 0 || len(got) != want {
		t.Errorf("slug: %d lines, want %d (the analyser's tokens)", len(got), want)
	}
	if got, _ := KWIC(srcs, "garden*", WordsOptions{Analyzer: an}); len(got) < 10 {
		t.Errorf("garden*: %d lines: the test finds too little", len(got))
	}
}

// A case's sources must come together: the distinct cases are counted by
// keeping the last one.
func TestWordCounterCaseOrder(t *testing.T) {
	an := testAnalyzer(t)
	srcs := wordsSources() // cases P01, P02
	wc := NewWordCounter(WordsOptions{Analyzer: an})
	for _, s := range []*corpus.Source{srcs[0], srcs[1]} {
		if err := wc.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := wc.Add(srcs[0]); err == nil || !strings.Contains(err.Error(), `case "P01"`) {
		t.Errorf("case P01 again: %v", err)
	}
	g := wc.Group("g")
	if f := freqOf(g.Terms, "slug"); f == nil || f.Cases != 2 {
		t.Errorf("slug %+v", f)
	}
	// A new group starts afresh.
	wc.Add(srcs[1])
	if g := wc.Group("h"); g.Group != "h" || freqOf(g.Terms, "lettuce") != nil || freqOf(g.Terms, "pellets").Sources != 1 {
		t.Errorf("second group %+v", g)
	}
}
