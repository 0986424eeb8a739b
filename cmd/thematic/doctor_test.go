package main

import (
	"os"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

func doctorRun(t *testing.T, p *corpus.Project, json bool) (string, string, error) {
	t.Helper()
	ios, out, errOut := codeTestIO()
	err := runDoctor(&DoctorOptions{IO: ios, Project: func() (*corpus.Project, error) { return corpus.Open(p.Root) }, JSON: json})
	return out.String(), errOut.String(), err
}

func TestDoctorFindsProblems(t *testing.T) {
	p := codingsTestProject(t)
	// bob's orphan and his coding of a code the codebook lacks, in the
	// order of his file.
	out, _, err := doctorRun(t, p, false)
	want := "" +
		"orphan\tbob p01 [0,5)\tquote \"Hello\" was not found again after the source changed; recode it or remove it with 'thematic uncode'\n" +
		"coding\tbob p01 [3,6)\tcode \"legacy\" is not in the codebook\n"
	if out != want || err == nil || err.Error() != "2 problems found" {
		t.Fatalf("doctor:\n%s(%v)\nwant:\n%s", out, err, want)
	}

	// Break more: d01's text changes behind its sidecar's back, carol codes
	// a source that is gone, dave's file is torn, alice's coding no longer
	// slices its quote.
	if err := os.WriteFile(p.Path(corpus.SourcesDir, "d01.txt"), []byte("rewritten by hand\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	gone, err := analysis.NewCoding("gone", "some words", 0, 4, "welcome", "carol", analysis.OriginManual, codeTestTime)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Save("carol", []analysis.Coding{gone}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Path(corpus.CodingsDir, "dave.jsonl"), []byte("{\"id\":\"x\",\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = store.Update("alice", func(cs []analysis.Coding) ([]analysis.Coding, error) {
		for i := range cs {
			if cs[i].Source == "p01" && cs[i].Code == "gate" {
				cs[i].Quote = strings.ToUpper(cs[i].Quote)
			}
		}
		return cs, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err = doctorRun(t, p, false)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	wantPrefixes := []string{
		"source\td01\tsources/d01.txt: text does not match its sidecar's sha256",
		"coding\talice d01 [36,50)\tsource \"d01\" is not in the project (removed?); code welcome, quote \"I felt welcome\"",
		"coding\talice d01 [73,84)\tsource \"d01\" is not in the project (removed?); code plots, quote \"dug my plot\"",
		"coding\talice p01 [44,64)\toffsets no longer slice the quote \"WALKED PAST THE GATE\"",
		"orphan\tbob p01 [0,5)\t",
		"coding\tbob p01 [3,6)\tcode \"legacy\" is not in the codebook",
		"coding\tcarol gone [0,4)\tsource \"gone\" is not in the project (removed?); code welcome, quote \"some\"",
		"coding\tdave\tcodings/dave.jsonl:1:",
	}
	if len(lines) != len(wantPrefixes) || err == nil || err.Error() != "8 problems found" {
		t.Fatalf("doctor gave %d lines (%v), want %d:\n%s", len(lines), err, len(wantPrefixes), out)
	}
	for i, w := range wantPrefixes {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d:\n%s\nwant it to start with\n%s", i+1, lines[i], w)
		}
	}
}

func TestDoctorCleanProject(t *testing.T) {
	p := codeTestProject(t)
	if err := runCode(codeTestOpts(p, "alice", "p01:t2.p1.s2", "welcome")); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := doctorRun(t, p, true)
	if err != nil || strings.TrimSpace(out) != "null" && strings.TrimSpace(out) != "[]" {
		t.Fatalf("clean project: %q, %v", out, err)
	}
	if !strings.Contains(errOut, "No problems found") {
		t.Fatalf("stderr %q", errOut)
	}
}
