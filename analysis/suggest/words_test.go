package suggest

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

func wordsSources() []*corpus.Source {
	a := toySource("a", corpus.KindInterview, "P01", 1,
		"I: What grows?\n\nP: Slugs ate my lettuce. The slugs love lettuce and the slug pellets don't work.\n")
	b := toySource("b", corpus.KindDiary, "P02", 1, "## 2025-06-01\n\nSlug pellets again. Slug pellets everywhere!\n")
	return []*corpus.Source{a, b}
}

func freqOf(fs []Freq, term string) *Freq {
	for i := range fs {
		if fs[i].Term == term {
			return &fs[i]
		}
	}
	return nil
}

func TestFrequenciesByHand(t *testing.T) {
	an := testAnalyzer(t)
	// Participants' words, by hand:
	//   a: Slugs ate my lettuce (4) + The slugs love lettuce and the slug
	//      pellets don't work (10) = 14 words
	//   b: Slug pellets again (3) + Slug pellets everywhere (3) = 6 words
	// Stop words (my, the, and, don't) are not counted but are words.
	//   slug: slugs x2 + slug x1 (a) + slug x2 (b) = 5, per 1,000 = 5000/20
	//   pellets 1 + 2 = 3; lettuce 2; ate, love, work, everywhere 1
	//   phrase "slug pellets": 1 (a) + 2 (b) = 3; others once (not listed)
	groups := Frequencies(wordsSources(), WordsOptions{Analyzer: an, Roles: []string{corpus.RoleParticipant}})
	if len(groups) != 1 || groups[0].Group != "all" || groups[0].Words != 20 {
		t.Fatalf("groups %+v", groups)
	}
	g := groups[0]
	slug := freqOf(g.Terms, "slug")
	if slug == nil || slug.Count != 5 || !slices.Equal(slug.Forms, []string{"slug", "slugs"}) ||
		slug.Sources != 2 || slug.Cases != 2 || slug.PerThousand != 250 {
		t.Errorf("slug: %+v", slug)
	}
	var got []string
	for _, f := range g.Terms {
		got = append(got, f.Term+"="+strconv.Itoa(f.Count))
	}
	want := "slug=5 pellets=3 lettuce=2 ate=1 everywhere=1 love=1 work=1" // "again" is a stop word
	if strings.Join(got, " ") != want {
		t.Errorf("words %q, want %q", strings.Join(got, " "), want)
	}
	if len(g.Phrases) != 1 || g.Phrases[0].Term != "slug pellets" || g.Phrases[0].Count != 3 {
		t.Errorf("phrases %+v", g.Phrases)
	}
	// By case, all roles, top 2: the interviewer's "What grows" counts for
	// P01; P01 wrote "slugs" twice and "slug" once, so "slugs" names it.
	groups = Frequencies(wordsSources(), WordsOptions{Analyzer: an, Top: 2, Group: func(s *corpus.Source) string { return s.Case }})
	if len(groups) != 2 || groups[0].Group != "P01" || groups[1].Group != "P02" {
		t.Fatalf("groups %+v", groups)
	}
	if groups[0].Words != 16 || len(groups[0].Terms) != 2 || groups[0].Terms[0].Term != "slugs" || groups[0].Terms[1].Term != "lettuce" {
		t.Errorf("P01: %+v", groups[0])
	}
	if f := freqOf(Frequencies(wordsSources(), WordsOptions{Analyzer: an})[0].Terms, "grows"); f == nil || f.Count != 1 {
		t.Errorf("all roles: grows %+v", f)
	}
	if groups[1].Words != 6 || groups[1].Terms[0].Term != "pellets" && groups[1].Terms[0].Term != "slug" {
		t.Errorf("P02: %+v", groups[1])
	}
}

func TestKWIC(t *testing.T) {
	an := testAnalyzer(t)
	srcs := wordsSources()
	opts := WordsOptions{Analyzer: an, Roles: []string{corpus.RoleParticipant}, Width: 12}
	cases := []struct {
		query string
		want  []string // left [match] right
	}{
		// context is cut back to whole words within 12 characters, inside
		// the turn (so never the interviewer's question before it)
		{"slug", []string{
			"[Slugs] ate my",
			". The [slugs] love",
			"and the [slug] pellets",
			"[Slug] pellets",
			"again. [Slug] pellets",
		}},
		{"slug pellets", []string{"and the [slug pellets] don't work.", "[Slug pellets] again. Slug", "again. [Slug pellets] everywhere!"}},
		{"lett*", []string{"ate my [lettuce]. The slugs", "slugs love [lettuce] and the"}},
		{"my lettuce", []string{"Slugs ate [my lettuce]. The slugs"}},
		{"grows", nil}, // the interviewer's
	}
	for _, tc := range cases {
		got, err := KWIC(srcs, tc.query, opts)
		if err != nil {
			t.Fatalf("%q: %v", tc.query, err)
		}
		var lines []string
		for _, c := range got {
			lines = append(lines, c.Left+"["+c.Match+"]"+c.Right)
			src := srcs[0]
			if c.Source == "b" {
				src = srcs[1]
			}
			if string([]rune(src.Text)[c.Start:c.End]) != c.Match {
				t.Errorf("%q: match %q at [%d,%d)", tc.query, c.Match, c.Start, c.End)
			}
		}
		if !slices.Equal(lines, tc.want) {
			t.Errorf("%q:\n got %q\nwant %q", tc.query, lines, tc.want)
		}
	}
	got, _ := KWIC(srcs, "everywhere", opts)
	if len(got) != 1 || got[0].Line != 3 || got[0].Citation != "(Diary 1)" || got[0].Segment != "e1" {
		t.Errorf("everywhere: %+v", got)
	}
	for _, q := range []string{"", "  ", "...", "a/b*", "[x*"} {
		_, err := KWIC(srcs, q, opts)
		var ie *errs.InputError
		if !errors.As(err, &ie) {
			t.Errorf("%q: error %v, want an input error", q, err)
		}
	}
}

func FuzzKWIC(f *testing.F) {
	for _, s := range []string{"slug", "slug pellets", "lett*", "my lettuce", "?", "[", "don't", "naïve*", "a\\b"} {
		f.Add(s)
	}
	an, err := corpus.NewAnalyzer("en", false)
	if err != nil {
		f.Fatal(err)
	}
	srcs := wordsSources()
	f.Fuzz(func(t *testing.T, q string) {
		got, err := KWIC(srcs, q, WordsOptions{Analyzer: an})
		if err != nil {
			var ie *errs.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("%q: %v is not an input error", q, err)
			}
			return
		}
		for _, c := range got {
			src := srcs[0]
			if c.Source == "b" {
				src = srcs[1]
			}
			if c.Start < 0 || c.End > len([]rune(src.Text)) || c.Start >= c.End {
				t.Fatalf("%q: span [%d,%d)", q, c.Start, c.End)
			}
		}
	})
}

func TestWordSpans(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Don't stop-gap it's  ok", "Don't|stop-gap|it's|ok"},
		{"'quoted' - dash -- end-", "quoted|dash|end"},
		{"naïve café 2025 🌱 émoji", "naïve|café|2025|émoji"},
		{"x’y z'", "x’y|z"},
	} {
		rs := []rune(tc.in)
		var parts []string
		for _, sp := range wordSpans(rs) {
			parts = append(parts, string(rs[sp[0]:sp[1]]))
		}
		if strings.Join(parts, "|") != tc.want {
			t.Errorf("%q: %q, want %q", tc.in, strings.Join(parts, "|"), tc.want)
		}
	}
}
