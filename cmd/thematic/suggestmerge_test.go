package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
)

func TestAcceptSuggestionsCommand(t *testing.T) {
	p, open := suggestTestProject(t)
	cbPath := p.Path(corpus.CodebookFile)
	orig := "# our codebook\nname: test\nthemes:\n  - id: garden   # the place\n    name: The garden\n"
	if err := os.WriteFile(cbPath, []byte(orig), 0o644); err != nil {
		t.Fatal(err)
	}
	// suggest, then keep two suggestions by editing the file as a person would
	ios, _, _ := suggestTestIO()
	file := filepath.Join(t.TempDir(), "s.yaml")
	if err := runSuggest(&SuggestOptions{IO: ios, Project: open, Roles: []string{"participant"}, Top: 5, MinCount: 3,
		ClusterUnit: "paragraph", Reference: "general", Out: file, Clusters: -1, NoEntities: true}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	// the first two: slugs, and rota with its variants
	text = strings.Replace(text, "keep: false\n    name: rota", "keep: true\n    name: Watering rota", 1)
	text = strings.Replace(text, "keep: false\n    name: slugs", "keep: true\n    name: slugs", 1)
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	// dry run: nothing changes
	ios, out, errOut := suggestTestIO()
	if err := runAcceptSuggestions(&AcceptSuggestionsOptions{IO: ios, Project: open, File: file, Under: "garden", DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if now, _ := os.ReadFile(cbPath); string(now) != orig {
		t.Errorf("dry run changed the codebook:\n%s", now)
	}
	if !strings.Contains(errOut.String(), "would add 2 codes") {
		t.Errorf("stderr %q, stdout %q", errOut.String(), out.String())
	}

	ios, out, errOut = suggestTestIO()
	if err := runAcceptSuggestions(&AcceptSuggestionsOptions{IO: ios, Project: open, File: file, Under: "garden"}); err != nil {
		t.Fatal(err)
	}
	now, err := os.ReadFile(cbPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(now), orig) {
		t.Errorf("the codebook's own text changed:\n%s", now)
	}
	cb, err := codebook.Load(cbPath)
	if err != nil {
		t.Fatal(err)
	}
	n := cb.Node("watering-rota")
	if n == nil || n.Parent == nil || n.Parent.ID != "garden" || len(n.Rules) != 2 ||
		strings.Join(n.Rules[0].Words, " ") != "rota watering" || n.Rules[1].Phrase != "watering rota" {
		t.Fatalf("watering-rota: %+v\n%s", n, now)
	}
	if !strings.Contains(out.String(), "watering-rota\tWatering rota\tunder garden") || !strings.Contains(errOut.String(), "added 2 codes") {
		t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
	}
	// accepting again: the names are taken, nothing is added
	ios, _, _ = suggestTestIO()
	err = runAcceptSuggestions(&AcceptSuggestionsOptions{IO: ios, Project: open, File: file, Under: "garden"})
	if err == nil || !strings.Contains(err.Error(), "already") || !strings.HasPrefix(err.Error(), file+":") {
		t.Errorf("second accept: %v", err)
	}
	if again, _ := os.ReadFile(cbPath); string(again) != string(now) {
		t.Error("a failed accept changed the codebook")
	}
	// a missing file
	if err := runAcceptSuggestions(&AcceptSuggestionsOptions{IO: ios, Project: open, File: filepath.Join(t.TempDir(), "none.yaml")}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}
