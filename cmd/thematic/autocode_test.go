package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

const autocodeTestCodebook = `themes:
  - name: Garden
    codes:
      - id: pests
        name: Pests
        speakers: [participant]
        rules:
          - words: [slug, snail, aphid]
          - not: {words: [pellet]}
      - id: help
        name: Help
        unit: turn
        rules:
          - near: {terms: [neighbour, help], within: 4}
          - all: [water, rota]
      - id: firsts
        name: Firsts
        unit: match
        rules:
          - regex: '(?i)\bfirst (?:tomato(?:es)?|beans)\b'
          - words: [harvest]
      - id: never
        name: Never
        rules:
          - words: [zebra]
`

// autocodeTestProject makes a project with three small sources and the
// codebook above.
func autocodeTestProject(t *testing.T) (*corpus.Project, func() (*corpus.Project, error)) {
	t.Helper()
	p, open := mainTestProject(t)
	dir := t.TempDir()
	files := map[string]string{
		"p01-w1.txt": "I: How was the spring?\n\nP: Slugs everywhere. I bought slug pellets.\nThe snails came back anyway.\n\nI: And the neighbours?\n\nP: My neighbour came over to help. We share the water rota now.\n\nThat was our first harvest, first tomatoes too.\n",
		"p02-w1.txt": "I: Tell me about the plot.\n\nP: Aphids on the beans. No help from anyone.\n\nI: Anything good?\n\nP: First beans in June. The harvest was small.\n",
	}
	var paths []string
	for name, text := range files {
		paths = append(paths, mainWriteFile(t, dir, name, text))
	}
	if _, err := p.Ingest(paths, corpus.IngestOptions{Kind: corpus.KindInterview}); err != nil {
		t.Fatal(err)
	}
	diary := mainWriteFile(t, dir, "p01-diary.md", "## 2025-05-01\n\nSlug damage again. Neighbour said she would help me net it.\n\n## 2025-05-02\n\nFirst harvest of radishes.\n")
	if _, err := p.Ingest([]string{diary}, corpus.IngestOptions{Kind: corpus.KindDiary}); err != nil {
		t.Fatal(err)
	}
	mainWriteFile(t, p.Root, corpus.CodebookFile, autocodeTestCodebook)
	return p, open
}

func readAutoCodings(t *testing.T, p *corpus.Project) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(p.Path(corpus.CodingsDir), analysis.AutoCoder+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestAutocodeCommandSameWithAndWithoutIndex(t *testing.T) {
	p, open := autocodeTestProject(t)
	if err := os.RemoveAll(p.IndexDir()); err != nil {
		t.Fatal(err)
	}
	ios, out, errOut := mainTestIO()
	if err := runAutocode(&AutocodeOptions{IO: ios, Project: open}); err != nil {
		t.Fatal(err)
	}
	scanned := readAutoCodings(t, p)
	if _, err := os.Stat(p.IndexDir()); err == nil {
		t.Error("autocode made a search index; it only reads one that exists")
	}
	if !strings.Contains(errOut.String(), "Rules matched nothing for: never") {
		t.Errorf("stderr: %q", errOut.String())
	}
	summary := out.String()

	ix, err := p.OpenIndex(nil)
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
	ios, out, _ = mainTestIO()
	if err := runAutocode(&AutocodeOptions{IO: ios, Project: open}); err != nil {
		t.Fatal(err)
	}
	if got := readAutoCodings(t, p); string(got) != string(scanned) {
		t.Errorf("codings from the index differ from the scan:\n%s\nwant\n%s", got, scanned)
	}
	if out.String() != summary {
		t.Errorf("summary from the index:\n%s\nwant\n%s", out.String(), summary)
	}

	// What the rules coded, checked by hand: slug pellets veto a sentence;
	// the interviewer's sentences are out of scope for pests.
	var quotes []string
	for _, line := range strings.Split(strings.TrimSpace(string(scanned)), "\n") {
		var c analysis.Coding
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatal(err)
		}
		if c.Code == "pests" || c.Code == "firsts" {
			quotes = append(quotes, c.Code+": "+c.Quote)
		}
	}
	want := []string{
		"pests: Slug damage again.",
		"firsts: harvest",
		"pests: Slugs everywhere.",
		"pests: The snails came back anyway.",
		"firsts: harvest",
		"firsts: first tomatoes",
		"pests: Aphids on the beans.",
		"firsts: First beans",
		"firsts: harvest",
	}
	if strings.Join(quotes, "|") != strings.Join(want, "|") {
		t.Errorf("coded\n  %q\nwant\n  %q", quotes, want)
	}
}

func TestAutocodeCommandDryRunAndExplain(t *testing.T) {
	p, open := autocodeTestProject(t)
	ios, out, _ := mainTestIO()
	if err := runAutocode(&AutocodeOptions{IO: ios, Project: open, DryRun: true, JSON: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(p.Path(corpus.CodingsDir), analysis.AutoCoder+".jsonl")); err == nil {
		t.Error("--dry-run wrote the codings")
	}
	var sum struct {
		Codings int  `json:"codings"`
		Written bool `json:"written"`
		Codes   []struct {
			Code    string `json:"code"`
			Codings int    `json:"codings"`
			Vetoed  int    `json:"vetoed"`
		} `json:"codes"`
	}
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Written || sum.Codings == 0 || len(sum.Codes) != 4 || sum.Codes[0].Code != "pests" || sum.Codes[0].Vetoed != 1 {
		t.Errorf("summary %+v", sum)
	}
	ios, _, errOut := mainTestIO()
	if err := runAutocode(&AutocodeOptions{IO: ios, Project: open, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "Would write") {
		t.Errorf("stderr %q", errOut.String())
	}

	ios, out, _ = mainTestIO()
	if err := runAutocode(&AutocodeOptions{IO: ios, Project: open, Explain: "help"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "«neighbour» came over to «help»") || !strings.Contains(out.String(), "«water» «rota»") {
		t.Errorf("explain:\n%s", out.String())
	}
	ios, _, _ = mainTestIO()
	if err := runAutocode(&AutocodeOptions{IO: ios, Project: open, Explain: "nosuch"}); err == nil || !strings.Contains(err.Error(), "nosuch") {
		t.Errorf("explain of an unknown code: %v", err)
	}
}
