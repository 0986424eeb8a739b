package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/analysis/suggest"
)

func TestUncodedCommand(t *testing.T) {
	p, open := suggestTestProject(t)
	// alice codes one of P01's four interview sentences, bob one of P02's
	suggestTestCode(t, p, "p01-w1", "I bought slug pellets.", "pests", "alice")
	suggestTestCode(t, p, "p02-w1", "Work was busy.", "time", "bob")

	ios, out, errOut := suggestTestIO()
	if err := runUncoded(&UncodedOptions{IO: ios, Project: open, Unit: "sentence", Roles: []string{"participant"}, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var rep suggest.UncodedReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	// participant sentences: p01-diary 3, p01-w1 4, p02-w1 4, p03-w1 4 = 15;
	// 2 coded -> 13 uncoded
	if rep.Total.Segments != 15 || rep.Total.Uncoded != 13 {
		t.Errorf("total %+v", rep.Total)
	}
	for _, s := range rep.BySource {
		if s.Key == "p01-w1" && (s.Segments != 4 || s.Uncoded != 3 || s.Words != 21 || s.UncodedWords != 17) {
			t.Errorf("p01-w1: %+v", s)
		}
	}
	for _, s := range rep.ByCase {
		if s.Key == "P01" && (s.Segments != 7 || s.Uncoded != 6) {
			t.Errorf("P01: %+v", s)
		}
	}

	// only alice's codings: bob's sentence is uncoded again; text listing
	ios, out, errOut = suggestTestIO()
	if err := runUncoded(&UncodedOptions{IO: ios, Project: open, Unit: "sentence", Roles: []string{"participant"}, Coders: []string{"alice"}}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !strings.Contains(text, "Work was busy.") || strings.Contains(text, "I bought slug pellets.") {
		t.Errorf("listing:\n%s", text)
	}
	if !strings.Contains(text, "p01-w1:t2.p1.s2 L5 (Interview 1)") && !strings.Contains(text, "p01-w1:") {
		t.Errorf("listing:\n%s", text)
	}
	if !strings.Contains(text, "source p01-w1") || !strings.Contains(text, "case P01") || !strings.Contains(text, "75.0") {
		t.Errorf("shares:\n%s", text)
	}
	if !strings.Contains(errOut.String(), "14 of 15 sentences uncoded (93.3%)") {
		t.Errorf("stderr %q", errOut.String())
	}

	// --summary prints no segments
	ios, out, _ = suggestTestIO()
	if err := runUncoded(&UncodedOptions{IO: ios, Project: open, Unit: "turn", Roles: []string{"participant", "interviewer"}, Summary: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "Maureen") || !strings.HasPrefix(strings.TrimSpace(out.String()), "SEGMENTS") {
		t.Errorf("summary:\n%s", out.String())
	}
	for _, bad := range []*UncodedOptions{
		{IO: ios, Project: open, Unit: "page", Roles: []string{"participant"}},
		{IO: ios, Project: open, Unit: "turn", Roles: []string{"nobody"}},
		{IO: ios, Project: open, Unit: "turn", Coders: []string{"carol"}},
	} {
		if err := runUncoded(bad); err == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
}
