package main

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/analysis/suggest"
	"github.com/thematic-qda/thematic/corpus"
)

// demoReports runs the demo's agreement and exports and returns the
// (label, path) of each file written.
func demoReports(opts *DemoOptions, project func() (*corpus.Project, error), out string) ([][2]string, error) {
	step := func(format string, args ...any) { fmt.Fprintf(opts.IO.ErrOut, "\n== "+format+"\n", args...) }
	p, err := project()
	if err != nil {
		return nil, err
	}
	// Agreement is measured where both coded: the sources bob coded.
	bob, err := analysis.Store{Dir: p.Path(corpus.CodingsDir)}.Load("bob")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var sources []string
	for _, c := range bob {
		if !seen[c.Source] {
			seen[c.Source] = true
			sources = append(sources, c.Source)
		}
	}
	sort.Strings(sources)
	var results [][2]string

	step("agree: the rules (auto) against the second coder (bob), by sentence, on bob's %d sources", len(sources))
	agreePath := filepath.Join(out, "agreement.xlsx")
	if err := runAgree(&AgreeOptions{IO: opts.IO, Project: project, Coders: []string{analysis.AutoCoder, "bob"},
		Unit: corpus.UnitSentence, Sources: sources, Uncoded: "absent", XLSX: agreePath}); err != nil {
		return nil, err
	}
	results = append(results, [2]string{"agreement", agreePath})

	step("export: the second coder's extracts, theme-by-participant matrices, the codebook")
	exports := []struct {
		label string
		opts  ExportOptions
	}{
		{"extracts", ExportOptions{What: exportExtracts, XLSX: filepath.Join(out, "extracts.xlsx"), Coders: []string{"bob"}}},
		{"findings", ExportOptions{What: exportExtracts, MD: filepath.Join(out, "extracts.md"), Coders: []string{"bob"}, Roles: []string{corpus.RoleParticipant}, Merge: true}},
		{"rules", ExportOptions{What: exportExtracts, XLSX: filepath.Join(out, "extracts-auto.xlsx"), Coders: []string{analysis.AutoCoder}}},
		{"matrix", ExportOptions{What: exportMatrix, XLSX: filepath.Join(out, "matrix.xlsx"), Coders: []string{analysis.AutoCoder}, Rows: "case", Cols: "theme", Cell: "segments", Unit: corpus.UnitSentence}},
		{"framework", ExportOptions{What: exportMatrix, XLSX: filepath.Join(out, "framework.xlsx"), Coders: []string{"bob"}, Rows: "case", Cols: "subtheme", Cell: "extracts"}},
		{"codebook", ExportOptions{What: exportCodebook, XLSX: filepath.Join(out, "codebook.xlsx"), Coders: []string{analysis.AutoCoder, "bob"}}},
	}
	for _, e := range exports {
		o := e.opts
		o.IO, o.Project = opts.IO, project
		if err := runExport(&o); err != nil {
			return nil, fmt.Errorf("export %s: %w", e.label, err)
		}
		results = append(results, [2]string{e.label, o.Written})
	}

	step("suggest: candidate codes in participants' words no coder has coded yet (for a person to accept)")
	sugPath := filepath.Join(out, "suggestions.yaml")
	if err := runSuggest(&SuggestOptions{IO: opts.IO, Project: project, Roles: []string{corpus.RoleParticipant},
		Uncoded: true, Top: 5, MinCount: suggest.DefaultMinCount, ClusterUnit: corpus.UnitParagraph, Reference: "general",
		Seed: 1, Extracts: 1, Out: sugPath}); err != nil {
		return nil, err
	}
	results = append(results, [2]string{"suggested", sugPath})
	return results, nil
}
