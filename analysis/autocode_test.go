package analysis

import (
	"sort"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
)

// testSource builds a source the way ingest does, from text.
func testSource(t *testing.T, id, kind, text string, attrs map[string]string) *corpus.Source {
	t.Helper()
	segs, speakers := corpus.Segments(corpus.Document{Text: text}, kind, nil)
	return &corpus.Source{ID: id, Kind: kind, Text: text, Segments: segs, Speakers: speakers, Attrs: attrs}
}

func parseCodebook(t *testing.T, yaml string) *codebook.Codebook {
	t.Helper()
	cb, problems := codebook.Parse("codebook.yaml", []byte(yaml))
	if len(problems) > 0 {
		t.Fatalf("codebook: %v", problems[0])
	}
	return cb
}

// quotesOf runs the codebook on srcs and returns the quotes coded with code.
func quotesOf(t *testing.T, cb *codebook.Codebook, code string, srcs ...*corpus.Source) []string {
	t.Helper()
	an, err := corpus.NewAnalyzer("en", false)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Autocode(cb, srcs, AutocodeOptions{Analyzer: an})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range res.Codings {
		if c.Code == code {
			out = append(out, c.Quote)
			src := srcs[0]
			for _, s := range srcs {
				if s.ID == c.Source {
					src = s
				}
			}
			if got := string([]rune(src.Text)[c.Start:c.End]); got != c.Quote {
				t.Errorf("coding [%d,%d) slices %q, quote is %q", c.Start, c.End, got, c.Quote)
			}
			if c.Coder != AutoCoder || !strings.HasPrefix(c.Origin, "rule:"+code+"/") {
				t.Errorf("coding coder/origin = %s/%s", c.Coder, c.Origin)
			}
		}
	}
	sort.Strings(out)
	return out
}

func codebookWith(code string) string {
	return "themes:\n  - name: Theme\n    codes:\n" + indent(code, "      ")
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pre + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestAutocodeRules(t *testing.T) {
	const interview = "I: Tell me about the garden.\n\nP: I love gardening. Gardens calm me. My neighbour came to help with the compost.\n\nI: And the shed?\n\nP: I sit alone at my plot. The shed is on my own patch, don’t laugh. My First tomatoes were a joke.\n"
	tests := []struct {
		name string
		code string
		kind string
		want []string
	}{
		{"words are stemmed and case-folded",
			"- id: c\n  name: C\n  rules:\n    - words: [garden]\n",
			corpus.KindInterview,
			[]string{"Gardens calm me.", "I love gardening.", "Tell me about the garden."}},
		{"speaker scope keeps to participants",
			"- id: c\n  name: C\n  speakers: [participant]\n  rules:\n    - words: [garden]\n",
			corpus.KindInterview,
			[]string{"Gardens calm me.", "I love gardening."}},
		{"wildcard on the surface form",
			"- id: c\n  name: C\n  rules:\n    - words: [\"compos*\"]\n",
			corpus.KindInterview,
			[]string{"My neighbour came to help with the compost."}},
		{"phrase needs the words in order",
			"- id: c\n  name: C\n  rules:\n    - phrase: \"my own patch\"\n",
			corpus.KindInterview,
			[]string{"The shed is on my own patch, don’t laugh."}},
		{"phrase not matched out of order",
			"- id: c\n  name: C\n  rules:\n    - phrase: \"own my patch\"\n",
			corpus.KindInterview,
			nil},
		{"all within the sentence",
			"- id: c\n  name: C\n  rules:\n    - all: [plot, alone]\n",
			corpus.KindInterview,
			[]string{"I sit alone at my plot."}},
		{"all across sentences needs a larger unit",
			"- id: c\n  name: C\n  unit: turn\n  rules:\n    - all: [plot, shed]\n",
			corpus.KindInterview,
			[]string{"I sit alone at my plot. The shed is on my own patch, don’t laugh. My First tomatoes were a joke."}},
		{"near within distance",
			"- id: c\n  name: C\n  rules:\n    - near: {terms: [neighbour, help], within: 3}\n",
			corpus.KindInterview,
			[]string{"My neighbour came to help with the compost."}},
		{"near beyond distance",
			"- id: c\n  name: C\n  rules:\n    - near: {terms: [neighbour, compost], within: 3}\n",
			corpus.KindInterview,
			nil},
		{"near ordered refuses reversed order",
			"- id: c\n  name: C\n  rules:\n    - near: {terms: [help, neighbour], within: 5, ordered: true}\n",
			corpus.KindInterview,
			nil},
		{"near unordered accepts reversed order",
			"- id: c\n  name: C\n  rules:\n    - near: {terms: [help, neighbour], within: 5}\n",
			corpus.KindInterview,
			[]string{"My neighbour came to help with the compost."}},
		{"regex is case-insensitive",
			"- id: c\n  name: C\n  rules:\n    - regex: '\\bfirst (harvest|tomato(es)?)\\b'\n",
			corpus.KindInterview,
			[]string{"My First tomatoes were a joke."}},
		{"not vetoes a unit",
			"- id: c\n  name: C\n  rules:\n    - words: [tomato, shed]\n    - not: {words: [joke]}\n",
			corpus.KindInterview,
			[]string{"And the shed?", "The shed is on my own patch, don’t laugh."}},
		{"curly and straight apostrophes match",
			"- id: c\n  name: C\n  unit: match\n  rules:\n    - words: [\"don't\"]\n",
			corpus.KindInterview,
			[]string{"don’t"}},
		{"unit match codes the words",
			"- id: c\n  name: C\n  unit: match\n  rules:\n    - phrase: \"my own\"\n    - words: [shed]\n",
			corpus.KindInterview,
			[]string{"my own", "shed", "shed"}},
		{"kind scope excludes other kinds",
			"- id: c\n  name: C\n  kinds: [diary]\n  rules:\n    - words: [garden]\n",
			corpus.KindInterview,
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb := parseCodebook(t, codebookWith(tt.code))
			src := testSource(t, "s1", tt.kind, interview, nil)
			got := quotesOf(t, cb, "c", src)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("coded\n  %q\nwant\n  %q", got, tt.want)
			}
		})
	}
}

func TestAutocodeAttributeScopeAndCounts(t *testing.T) {
	cb := parseCodebook(t, codebookWith("- id: c\n  name: C\n  attrs: {wave: [\"2\"]}\n  rules:\n    - words: [garden]\n- id: never\n  name: Never\n  rules:\n    - words: [zebra]\n"))
	w1 := testSource(t, "w1", corpus.KindNotes, "The garden was wet.", map[string]string{"wave": "1"})
	w2 := testSource(t, "w2", corpus.KindNotes, "The garden was dry.", map[string]string{"wave": "2"})
	an, _ := corpus.NewAnalyzer("en", false)
	res, err := Autocode(cb, []*corpus.Source{w1, w2}, AutocodeOptions{Analyzer: an})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Codings) != 1 || res.Codings[0].Source != "w2" {
		t.Fatalf("codings = %+v, want one on w2", res.Codings)
	}
	if n, ok := res.Counts["never"]; !ok || n != 0 {
		t.Errorf("Counts[never] = %d, %v; want a zero entry for a code whose rules matched nothing", n, ok)
	}
	if res.Counts["c"] != 1 {
		t.Errorf("Counts[c] = %d, want 1", res.Counts["c"])
	}
}

func TestAutocodeMultibyteOffsets(t *testing.T) {
	text := "P: Zoë’s café 🌱 garden is naïve. José said the garden 🌻 grows.\n"
	cb := parseCodebook(t, codebookWith("- id: c\n  name: C\n  unit: match\n  rules:\n    - words: [garden, café]\n"))
	src := testSource(t, "m", corpus.KindInterview, text, nil)
	got := quotesOf(t, cb, "c", src)
	want := []string{"café", "garden", "garden"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("coded %q, want %q", got, want)
	}
}

// Wildcards in rules match as they do in search: on stemmed terms too, so
// "boundary*" finds "boundaries" (indexed as the stem "boundari").
func TestAutocodeWildcardMatchesStems(t *testing.T) {
	cb := parseCodebook(t, codebookWith("- id: c\n  name: C\n  unit: match\n  rules:\n    - words: [\"boundary*\", \"gard?n\"]\n"))
	src := testSource(t, "w", corpus.KindNotes, "Setting boundaries matters. One boundary. The garden, the gardens.", nil)
	got := quotesOf(t, cb, "c", src)
	want := []string{"boundaries", "boundary", "garden", "gardens"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("coded %q, want %q", got, want)
	}
}
