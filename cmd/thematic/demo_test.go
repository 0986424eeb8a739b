package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

// TestDemo runs the README's main command end to end on the embedded study.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo runs the whole pipeline; skipped with -short")
	}
	out := filepath.Join(t.TempDir(), "demo")
	ios, stdout, stderr := mainTestIO()
	if err := runDemo(&DemoOptions{IO: ios, Out: out}); err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr)
	}
	p, err := corpus.Open(filepath.Join(out, "project"))
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := p.Sources(false)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, s := range srcs {
		kinds[s.Kind]++
		if s.Case == "" {
			t.Errorf("source %s has no case", s.ID)
		}
		for _, sp := range s.Speakers {
			if strings.HasPrefix(sp.Name, "Ruth") && sp.Role != corpus.RoleInterviewer {
				t.Errorf("%s: %s is %s, want interviewer", s.ID, sp.Name, sp.Role)
			}
		}
	}
	if kinds[corpus.KindInterview] != 12 || kinds[corpus.KindDiary] != 4 {
		t.Errorf("kinds = %v, want 12 interviews and 4 diaries", kinds)
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	all, err := store.LoadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(all["auto"]) < 100 || len(all["bob"]) != 311 {
		t.Errorf("codings: auto %d, bob %d; want many and 311", len(all["auto"]), len(all["bob"]))
	}
	// Every path the demo prints as a result exists.
	lines := strings.Split(stdout.String(), "\n")
	found := 0
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) == 2 && filepath.IsAbs(f[1]) {
			found++
			if _, err := os.Stat(f[1]); err != nil {
				t.Errorf("result %s: %v", f[0], err)
			}
		}
	}
	if found < 2 {
		t.Errorf("demo printed %d result paths:\n%s", found, stdout)
	}
	// Running it again replaces its own folder...
	ios, _, _ = mainTestIO()
	if err := runDemo(&DemoOptions{IO: ios, Out: out}); err != nil {
		t.Fatalf("second demo run: %v", err)
	}
	// ... but never a folder it did not make.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "thesis.docx"), []byte("precious"), 0o644)
	ios, _, _ = mainTestIO()
	if err := runDemo(&DemoOptions{IO: ios, Out: other}); err == nil || !strings.Contains(err.Error(), "not made by 'thematic demo'") {
		t.Errorf("demo into a foreign folder: err = %v", err)
	}
}
