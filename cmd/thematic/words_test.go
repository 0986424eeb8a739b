package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/analysis/suggest"
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
