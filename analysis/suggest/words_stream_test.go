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

func TestKWICEqualsOld(t *testing.T) {
	an := testAnalyzer(t)
	_, study, _ := exampleProject(t)
	srcs := append(study, wordsGenerated()...)
	for _, q := range []string{"garden*", "slug pellets", "the rota", "plöt", "on my own", "?a*", "nosuchword"} {
		for _, roles := range [][]string{nil, {corpus.RoleParticipant}} {
			opts := WordsOptions{Analyzer: an, Roles: roles, Width: 30}
			got, gerr := KWIC(srcs, q, opts)
			want, werr := oldKWIC(srcs, q, opts)
			if !reflect.DeepEqual(got, want) || fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Errorf("%q %v: %d lines (%v), want %d (%v)", q, roles, len(got), gerr, len(want), werr)
			}
		}
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
