package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

func statusRun(t *testing.T, p *corpus.Project) projectStatus {
	t.Helper()
	ios, out, _ := codeTestIO()
	if err := runStatus(&StatusOptions{IO: ios, Project: func() (*corpus.Project, error) { return corpus.Open(p.Root) }, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var st projectStatus
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStatusCountsAndFollowsEdits(t *testing.T) {
	p := codingsTestProject(t)
	// By hand (see codingsTestProject): alice made 6 codings, bob 2 and
	// has an orphan and a coding of a code not in the codebook.
	st := statusRun(t, p)
	if st.Sources != 2 || st.Kinds["interview"] != 1 || st.Kinds["diary"] != 1 || st.Cases != 2 {
		t.Errorf("sources: %+v", st)
	}
	if st.Coders["alice"] != 6 || st.Coders["bob"] != 4 || len(st.Coders) != 2 || st.Orphaned["bob"] != 1 || len(st.Orphaned) != 1 {
		t.Errorf("codings %v, orphaned %v", st.Coders, st.Orphaned)
	}
	if st.Codebook.Codes == 0 || st.Codebook.Problem != "" {
		t.Errorf("codebook %+v", st.Codebook)
	}
	// An edit by hand (a line removed) and a coder added are seen, though
	// the caches were written before.
	path := p.Path(corpus.CodingsDir, "alice.jsonl")
	data, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(data), "\n")
	os.WriteFile(path, []byte(strings.Join(lines[1:], "")), 0o644)
	c, _ := analysis.NewCoding("p01", "Hello", 0, 5, "welcome", "carol", analysis.OriginManual, codeTestTime)
	if err := (analysis.Store{Dir: p.Path(corpus.CodingsDir)}).Save("carol", []analysis.Coding{c}); err != nil {
		t.Fatal(err)
	}
	st = statusRun(t, p)
	if st.Coders["alice"] != 5 || st.Coders["carol"] != 1 {
		t.Errorf("after edits: %v", st.Coders)
	}
	// A broken file is a problem, not a crash.
	os.WriteFile(p.Path(corpus.CodingsDir, "bob.jsonl"), []byte("{oops\n"), 0o644)
	st = statusRun(t, p)
	if len(st.Problems) != 1 || !strings.Contains(st.Problems[0], "codings/bob.jsonl:1:") {
		t.Errorf("problems %v", st.Problems)
	}
}

func TestSourcesListing(t *testing.T) {
	p := codingsTestProject(t)
	for round := 0; round < 2; round++ { // the cache built, then read
		ios, out, _ := codeTestIO()
		if err := runSources(&SourcesOptions{IO: ios, Project: func() (*corpus.Project, error) { return corpus.Open(p.Root) }, JSON: true}); err != nil {
			t.Fatal(err)
		}
		var rows []sourceRow
		if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[0].ID != "d01" || rows[1].ID != "p01" {
			t.Fatalf("rows %+v", rows)
		}
		p01 := rows[1]
		if p01.Kind != corpus.KindInterview || p01.Case != "P01" || p01.Turns == 0 || p01.Words == 0 ||
			p01.Citation == "" || p01.Attrs["wave"] != "1" || len(p01.Speakers) == 0 {
			t.Errorf("p01: %+v", p01)
		}
	}
}
