package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/analysis/suggest"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// suggestTestIO returns streams writing to buffers, as when piped.
func suggestTestIO() (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: &bytes.Buffer{}, Out: out, ErrOut: errOut}, out, errOut
}

// suggestTestProject makes a project of three participants' interviews and
// a diary, and returns it with a function that opens it.
func suggestTestProject(t *testing.T) (*corpus.Project, func() (*corpus.Project, error)) {
	t.Helper()
	root := t.TempDir()
	p, err := corpus.Init(filepath.Join(root, "study"), "test study")
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(root, "in")
	files := map[string]string{
		"cases.csv":    "case,site\nP01,North\nP02,South\nP03,South\n",
		"p01-w1.txt":   "---\ncase: P01\n---\nI: How is the garden?\n\nP: The slugs ate my lettuce again. I bought slug pellets.\n\nI: And the rota?\n\nP: The watering rota is a mess. Maureen runs the watering rota.\n",
		"p02-w1.txt":   "---\ncase: P02\n---\nI: How is the garden?\n\nP: Slugs everywhere, and the lettuce is gone. Slug pellets are banned here.\n\nI: Anything else?\n\nP: I missed my slot on the watering rota. Work was busy.\n",
		"p03-w1.txt":   "---\ncase: P03\n---\nI: How is the garden?\n\nP: No slugs on the roof. My lettuce grows well.\n\nI: And people?\n\nP: Maureen showed me the watering rota. The slugs stay downstairs.\n",
		"p01-diary.md": "---\ncase: P01\n---\n## 2025-05-01\n\nSlugs again. Pellets again. The watering rota says it is my turn.\n",
	}
	for name, text := range files {
		path := filepath.Join(in, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []struct{ path, kind string }{
		{filepath.Join(in, "cases.csv"), ""},
		{filepath.Join(in, "p01-w1.txt"), corpus.KindInterview},
		{filepath.Join(in, "p02-w1.txt"), corpus.KindInterview},
		{filepath.Join(in, "p03-w1.txt"), corpus.KindInterview},
		{filepath.Join(in, "p01-diary.md"), corpus.KindDiary},
	} {
		if _, err := p.Ingest([]string{step.path}, corpus.IngestOptions{Kind: step.kind}); err != nil {
			t.Fatal(err)
		}
	}
	return p, func() (*corpus.Project, error) { return corpus.Open(p.Root) }
}

// suggestTestCode codes the first occurrence of quote in source id for coder.
func suggestTestCode(t *testing.T, p *corpus.Project, id, quote, code, coder string) {
	t.Helper()
	src, err := p.Source(id, true)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(src.Text, quote)
	if i < 0 {
		t.Fatalf("%q not in %s", quote, id)
	}
	start := len([]rune(src.Text[:i]))
	c, err := analysis.NewTextIndex(src.Text).NewCoding(id, start, start+len([]rune(quote)), code, coder, analysis.OriginManual, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	if err := store.Update(coder, func(cs []analysis.Coding) ([]analysis.Coding, error) { return append(cs, c), nil }); err != nil {
		t.Fatal(err)
	}
}

func TestSuggestCommand(t *testing.T) {
	p, open := suggestTestProject(t)
	ios, out, _ := suggestTestIO()
	if err := runSuggest(&SuggestOptions{IO: ios, Project: open, Roles: []string{"participant"}, Top: 5, MinCount: 3,
		ClusterUnit: "paragraph", Reference: "general", Extracts: 1, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"Key phrases", "watering rota", "slugs", "(Interview 1)", "Clusters of uncoded segments", "Named entities"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "garden") {
		t.Errorf("the interviewer's word: %s", text)
	}

	// --json, and --out writes a file accept-suggestions reads
	ios, out, errOut := suggestTestIO()
	outFile := filepath.Join(t.TempDir(), "s.yaml")
	opts := &SuggestOptions{IO: ios, Project: open, Roles: []string{"participant"}, Top: 5, MinCount: 3,
		ClusterUnit: "paragraph", Reference: "general", Seed: 1, JSON: true, Out: outFile, Under: "Emerging"}
	if err := runSuggest(opts); err != nil {
		t.Fatal(err)
	}
	var res suggest.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Phrases) == 0 || res.Cases != 3 || res.Sources != 4 {
		t.Errorf("json: %d phrases, %d cases, %d sources", len(res.Phrases), res.Cases, res.Sources)
	}
	if !strings.Contains(errOut.String(), "accept-suggestions "+outFile) {
		t.Errorf("stderr %q", errOut.String())
	}
	data, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "under: Emerging") || !strings.Contains(string(data), "keep: false") {
		t.Errorf("file:\n%s", data)
	}
	// An existing file is not replaced without --force.
	err = runSuggest(opts)
	var ie *errs.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "--force") {
		t.Errorf("second --out: %v", err)
	}
	opts.Force = true
	if err := runSuggest(opts); err != nil {
		t.Errorf("--force: %v", err)
	}

	// --uncoded: coded sentences are not read
	suggestTestCode(t, p, "p01-w1", "The watering rota is a mess.", "rota", "alice")
	ios, out, _ = suggestTestIO()
	if err := runSuggest(&SuggestOptions{IO: ios, Project: open, Roles: []string{"participant"}, Top: 5, MinCount: 1,
		ClusterUnit: "paragraph", Reference: "general", Uncoded: true, JSON: true, Clusters: -1, NoEntities: true}); err != nil {
		t.Fatal(err)
	}
	var unc suggest.Result
	if err := json.Unmarshal(out.Bytes(), &unc); err != nil {
		t.Fatal(err)
	}
	for _, s := range unc.Phrases {
		for _, x := range s.Extracts {
			if strings.Contains(x.Text, "is a mess") {
				t.Errorf("coded sentence read: %q", x.Text)
			}
		}
	}
}

func TestSuggestCommandErrors(t *testing.T) {
	_, open := suggestTestProject(t)
	base := func() *SuggestOptions {
		ios, _, _ := suggestTestIO()
		return &SuggestOptions{IO: ios, Project: open, Roles: []string{"participant"}, Top: 5, MinCount: 3, ClusterUnit: "paragraph", Reference: "general"}
	}
	for _, tc := range []struct {
		name string
		edit func(o *SuggestOptions)
		want string
	}{
		{"reference", func(o *SuggestOptions) { o.Reference = "bnc" }, `--reference "bnc": use general or corpus`},
		{"unit", func(o *SuggestOptions) { o.ClusterUnit = "page" }, `--cluster-unit "page"`},
		{"role", func(o *SuggestOptions) { o.Roles = []string{"patient"} }, `--roles "patient"`},
		{"top", func(o *SuggestOptions) { o.Top = 0 }, "--top and --min-count must be at least 1"},
		{"coder", func(o *SuggestOptions) { o.Coders = []string{"carol"} }, `no coder "carol"`},
		{"out folder", func(o *SuggestOptions) { o.Out = filepath.Join(t.TempDir(), "no", "s.yaml") }, "the folder does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base()
			tc.edit(o)
			err := runSuggest(o)
			var ie *errs.InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want an input error with %q", err, tc.want)
			}
		})
	}
}
