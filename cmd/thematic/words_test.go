package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/thematic-qda/thematic/analysis/suggest"
	"github.com/thematic-qda/thematic/corpus"
)

func TestWordsCommand(t *testing.T) {
	_, open := suggestTestProject(t)
	ios, out, _ := suggestTestIO()
	if err := runWords(&WordsOptions{IO: ios, Project: open, By: "attr:site", Top: 3, Roles: []string{"participant"}, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var groups []suggest.WordGroup
	if err := json.Unmarshal(out.Bytes(), &groups); err != nil {
		t.Fatal(err)
	}
	// site from cases.csv: North = P01 (interview + diary), South = P02, P03
	if len(groups) != 2 || groups[0].Group != "North" || groups[1].Group != "South" {
		t.Fatalf("groups %+v", groups)
	}
	// North's slugs: "slugs" (interview), "slug" (pellets), "Slugs" (diary) = 3
	north := groups[0]
	if len(north.Terms) != 3 || north.Terms[0].Term != "watering" && north.Terms[0].Term != "rota" && north.Terms[0].Term != "slugs" {
		t.Errorf("North: %+v", north.Terms)
	}
	var slug *suggest.Freq
	for i := range north.Terms {
		if strings.HasPrefix(north.Terms[i].Term, "slug") {
			slug = &north.Terms[i]
		}
	}
	if slug == nil || slug.Count != 3 || slug.Sources != 2 {
		t.Errorf("North slug: %+v", slug)
	}
	if len(north.Phrases) == 0 || north.Phrases[0].Term != "watering rota" || north.Phrases[0].Count != 3 {
		t.Errorf("North phrases: %+v", north.Phrases)
	}

	// text listing by case
	ios, out, _ = suggestTestIO()
	if err := runWords(&WordsOptions{IO: ios, Project: open, By: "case", Top: 2}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "case P02") || !strings.Contains(out.String(), "PER 1000") {
		t.Errorf("listing:\n%s", out.String())
	}

	// csv
	ios, _, _ = suggestTestIO()
	csvPath := filepath.Join(t.TempDir(), "w.csv")
	if err := runWords(&WordsOptions{IO: ios, Project: open, By: "kind", CSV: csvPath}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "\uFEFFgroup,kind,term,count") || !strings.Contains(string(data), "interview,phrase,watering rota,4,") {
		t.Errorf("csv:\n%s", data)
	}

	// KWIC
	ios, out, errOut := suggestTestIO()
	if err := runWords(&WordsOptions{IO: ios, Project: open, KWIC: "watering rota", Roles: []string{"participant"}, Context: 20}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "watering rota"); got != 5 {
		t.Errorf("kwic: %d lines:\n%s", got, out.String())
	}
	if !strings.Contains(errOut.String(), `5 occurrences of "watering rota"`) || !strings.Contains(out.String(), "(Diary 1)") {
		t.Errorf("kwic:\n%s\n%s", out.String(), errOut.String())
	}

	for _, bad := range []*WordsOptions{
		{IO: ios, Project: open, By: "site"},
		{IO: ios, Project: open, By: "attr:"},
		{IO: ios, Project: open, JSON: true, CSV: "x.csv"},
		{IO: ios, Project: open, KWIC: "  "},
		{IO: ios, Project: open, Top: -1},
	} {
		if err := runWords(bad); err == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
}

// The listings are written a group and a word at a time: they must be what
// the whole groups, written as before (writeJSON, newTable), give.
func TestWordsStreamedAsWhole(t *testing.T) {
	p, open := suggestTestProject(t)
	// spellings with accents and capitals, and words wider than a column
	extra := filepath.Join(t.TempDir(), "p02-diary.md")
	text := "---\ncase: P02\n---\n## 2025-05-02\n\nCafé garden. CAFÉ GARDEN! café garden, Watering rota. " +
		"Über-long-compound-word-that-widens-the-column rota.\n"
	if err := os.WriteFile(extra, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Ingest([]string{extra}, corpus.IngestOptions{Kind: corpus.KindDiary}); err != nil {
		t.Fatal(err)
	}
	srcs, err := p.Sources(true)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		t.Fatal(err)
	}
	an, err := corpus.NewAnalyzer(p.Config.Language, p.Config.FoldAccents)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		by    string
		top   int
		roles []string
	}{
		{"", 0, nil}, {"", 2, nil}, {"case", 0, nil}, {"attr:site", 3, []string{"participant"}},
		{"kind", 1, []string{"interviewer"}}, {"source", 0, []string{"other"}},
	} {
		group, err := wordsGroupBy(tc.by)
		if err != nil {
			t.Fatal(err)
		}
		wopts := suggest.WordsOptions{Analyzer: an, Roles: tc.roles, Top: tc.top}
		if group != nil {
			wopts.Group = func(s *corpus.Source) string { return group(s, corpus.CaseAttrs(s, cases)) }
		}
		groups := suggest.Frequencies(srcs, wopts)
		var want bytes.Buffer
		if err := writeJSON(&want, groups); err != nil {
			t.Fatal(err)
		}
		ios, out, _ := suggestTestIO()
		if err := runWords(&WordsOptions{IO: ios, Project: open, By: tc.by, Top: tc.top, Roles: tc.roles, JSON: true}); err != nil {
			t.Fatal(err)
		}
		if out.String() != want.String() {
			t.Errorf("--by %q --top %d --roles %v, json:\n%s\nwant\n%s", tc.by, tc.top, tc.roles, out, &want)
		}
		want.Reset()
		wordsTextWhole(&want, groups, tc.by)
		ios, out, _ = suggestTestIO()
		if err := runWords(&WordsOptions{IO: ios, Project: open, By: tc.by, Top: tc.top, Roles: tc.roles}); err != nil {
			t.Fatal(err)
		}
		if out.String() != want.String() {
			t.Errorf("--by %q --top %d --roles %v, text:\n%s\nwant\n%s", tc.by, tc.top, tc.roles, out, &want)
		}
	}
	// no sources, no groups
	empty, err := corpus.Init(filepath.Join(t.TempDir(), "empty"), "empty")
	if err != nil {
		t.Fatal(err)
	}
	ios, out, _ := suggestTestIO()
	if err := runWords(&WordsOptions{IO: ios, Project: func() (*corpus.Project, error) { return empty, nil }, JSON: true}); err != nil || out.String() != "[]\n" {
		t.Errorf("empty project: %q, %v", out, err)
	}
}

// wordsTextWhole is the listing as it was written from whole groups.
func wordsTextWhole(w io.Writer, groups []suggest.WordGroup, by string) {
	for i, g := range groups {
		if i > 0 {
			fmt.Fprintln(w)
		}
		title := g.Group
		if by != "" {
			title = by + " " + g.Group
		}
		fmt.Fprintf(w, "%s  (%d words)\n", title, g.Words)
		for _, part := range []struct {
			head string
			fs   []suggest.Freq
		}{{"WORD", g.Terms}, {"PHRASE", g.Phrases}} {
			if len(part.fs) == 0 {
				continue
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "  %s\tCOUNT\tPER 1000\tSOURCES\tCASES\tFORMS\n", part.head)
			for _, f := range part.fs {
				fmt.Fprintf(tw, "  %s\t%d\t%.1f\t%d\t%d\t%s\n", f.Term, f.Count, f.PerThousand, f.Sources, f.Cases, strings.Join(f.Forms, ", "))
			}
			tw.Flush()
		}
	}
}

// A source whose text no longer matches its sidecar stops the count with
// an error naming it, whichever source it is.
func TestWordsSourceError(t *testing.T) {
	p, open := suggestTestProject(t)
	ids, err := p.SourceIDs()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ids[0], ids[len(ids)-1]} {
		path := p.Path(corpus.SourcesDir, id+".txt")
		orig, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append([]byte("edited "), orig...), 0o644); err != nil {
			t.Fatal(err)
		}
		ios, _, _ := suggestTestIO()
		err = runWords(&WordsOptions{IO: ios, Project: open, Top: 5, JSON: true})
		if err == nil || !strings.Contains(err.Error(), id+".txt") {
			t.Errorf("%s edited: %v", id, err)
		}
		if err := os.WriteFile(path, orig, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// and wordsEachSource stops at an error from fn, and gives it
	n := 0
	stop := fmt.Errorf("stop")
	if err := wordsEachSource(p, ids, func(*corpus.Source) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("stop: %v after %d", err, n)
	}
}
