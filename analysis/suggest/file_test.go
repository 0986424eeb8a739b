package suggest

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/internal/errs"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestFileRoundTrip(t *testing.T) {
	srcs := toyInterviews()
	res, err := Suggest(srcs, Options{Analyzer: testAnalyzer(t), Clusters: -1})
	if err != nil {
		t.Fatal(err)
	}
	f := NewFile(res, "Suggested")
	if len(f.Suggestions) != len(res.Phrases)+len(res.InVivo)+len(res.Entities) {
		t.Fatalf("%d entries", len(f.Suggestions))
	}
	var b bytes.Buffer
	if err := f.Encode(&b, "made from 7 sources\nsecond line"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "# made from 7 sources\n# second line\n") || !strings.HasPrefix(b.String(), "# Suggested codes") {
		t.Errorf("header:\n%s", b.String()[:400])
	}
	got, err := ParseFile("s.yaml", b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for i := range got.Suggestions {
		if got.Suggestions[i].Line == 0 {
			t.Errorf("entry %d: no line", i)
		}
		got.Suggestions[i].Line = 0
	}
	if !reflect.DeepEqual(got, f) {
		t.Errorf("round trip differs:\n%+v\n%+v", got.Suggestions[0], f.Suggestions[0])
	}
	// Every entry's extracts carry the citation.
	if x := f.Suggestions[0].Extracts; len(x) == 0 || !strings.HasSuffix(x[0], ")") {
		t.Errorf("extracts %q", x)
	}
}

func TestParseFileErrors(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"empty", "", "s.yaml: empty file"},
		{"unknown key", "under: x\nsuggestions:\n  - keep: true\n    nmae: x\n", "s.yaml:4: field nmae not found"},
		{"not bool", "suggestions:\n  - keep: yes please\n    name: x\n", "s.yaml:2: cannot unmarshal"},
		{"no name", "suggestions:\n  - keep: false\n    name: a\n  - keep: true\n    name: \"  \"\n", "s.yaml:4: a kept suggestion needs a name"},
		{"two-line name", "suggestions:\n  - keep: true\n    name: \"a\\nb\"\n", "s.yaml:2: the name \"a\\nb\" is more than one line"},
		{"empty word", "suggestions:\n  - keep: true\n    name: a\n    words: [x, \"\"]\n", "s.yaml:2: \"a\": an empty word"},
		{"bad yaml", "suggestions: [\n", "s.yaml:1: did not find expected node content"},
		{"a list", "- a\n- b\n", "s.yaml"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("s.yaml", []byte(tc.text))
			var ie *errs.InputError
			if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want an input error starting %q", err, tc.want)
			}
		})
	}
	// Entries not kept need nothing.
	f, err := ParseFile("s.yaml", []byte("suggestions:\n  - keep: false\n"))
	if err != nil || len(f.Suggestions) != 1 {
		t.Errorf("%+v %v", f, err)
	}
}

func FuzzParseFile(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "accept", "suggestions.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("under: x\nsuggestions: []\n"))
	f.Add([]byte("suggestions:\n  - {keep: true, name: a, words: [b]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseFile("s.yaml", data)
		if err != nil {
			var ie *errs.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("%v is not an input error", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of several lines: %q", err)
			}
			return
		}
		for _, s := range file.Suggestions {
			if s.Keep && strings.TrimSpace(s.Name) == "" {
				t.Fatal("kept without a name")
			}
		}
	})
}

func TestAcceptKeepsComments(t *testing.T) {
	dir := t.TempDir()
	in, err := os.ReadFile(filepath.Join("testdata", "accept", "codebook.in.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cbPath := filepath.Join(dir, "codebook.yaml")
	if err := os.WriteFile(cbPath, in, 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("testdata", "accept", "suggestions.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	file, err := ParseFile("suggestions.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	ed, err := codebook.Edit(cbPath)
	if err != nil {
		t.Fatal(err)
	}
	added, err := Accept(ed, file, "suggestions.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := ed.Save(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range added {
		got = append(got, a.ID+" in "+a.Parent+" "+strings.Join(a.Words, ","))
	}
	want := []string{
		"slug-pellets in setbacks slugs,slug pellets",         // under a sub-theme by id
		"watering-rota in suggested-codes rota,watering rota", // the file's under: a new theme
		"kids-at-the-garden in belonging ",                    // by name, no words
		"maureen in people Maureen",                           // a new theme
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("added:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	out, err := os.ReadFile(cbPath)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "accept", "codebook.golden.yaml")
	if *update {
		os.WriteFile(golden, out, 0o644)
	}
	wantOut, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, wantOut) {
		t.Errorf("codebook:\n%s\nwant (%s):\n%s", out, golden, wantOut)
	}
	// Every comment and the original text stay as they were.
	for _, line := range strings.Split(string(in), "\n") {
		if strings.Contains(line, "#") && !strings.Contains(string(out), line) {
			t.Errorf("comment line lost: %q", line)
		}
	}
	cb, err := codebook.Load(cbPath)
	if err != nil {
		t.Fatal(err)
	}
	n := cb.Node("slug-pellets")
	if n == nil || n.Definition != "Pellets against slugs, and the rules about them." || len(n.Rules) != 2 ||
		n.Rules[0].Kind != codebook.RuleWords || n.Rules[1].Phrase != "slug pellets" {
		t.Errorf("slug-pellets: %+v", n)
	}
}

func TestAcceptErrors(t *testing.T) {
	dir := t.TempDir()
	cbPath := filepath.Join(dir, "codebook.yaml")
	os.WriteFile(cbPath, []byte("themes:\n  - id: a\n    name: Same\n    codes:\n      - name: Taken\n  - id: b\n    name: Other\n    subthemes:\n      - id: c\n        name: Same\n"), 0o644)
	for _, tc := range []struct{ text, want string }{
		{"suggestions:\n  - keep: true\n    name: Taken\n    under: a\n", `s.yaml:2: "Taken": there is already a code named "Taken"`},
		{"suggestions:\n  - keep: true\n    name: New\n    under: same\n", `s.yaml:2: "New": under "same": several themes or sub-themes have that name (a, c); give an id`},
		{"suggestions:\n  - keep: false\n    name: x\n  - keep: true\n    name: W\n    words: [\"*\"]\n", `s.yaml:4: "W": "*" would match every word`},
	} {
		f, err := ParseFile("s.yaml", []byte(tc.text))
		if err != nil {
			t.Fatal(err)
		}
		ed, err := codebook.Edit(cbPath)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Accept(ed, f, "s.yaml", "")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}
