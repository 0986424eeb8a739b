package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/analysis/suggest"
	"github.com/thematic-qda/thematic/corpus"
)

// agreeStreamProject is agreeTestProject with two more sources: p02, which
// alice and carol coded and bob did not, and p03, which nobody coded; and
// a third coder, carol.
func agreeStreamProject(t *testing.T) (*corpus.Project, *IOStreams, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	p, ios, out, errOut := agreeTestProject(t)
	in := t.TempDir()
	for _, f := range []struct{ name, text string }{
		{"p02.txt", "I: And the plot?\n\nP: The plot is small. The beans grew well. I gave some away.\n"},
		{"p03.txt", "I: Anything else?\n\nP: Nothing much.\n"},
	} {
		path := filepath.Join(in, f.name)
		if err := os.WriteFile(path, []byte(f.text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Ingest([]string{path}, corpus.IngestOptions{Kind: corpus.KindInterview}); err != nil {
			t.Fatal(err)
		}
	}
	code := func(coder, src, quote, code string) {
		t.Helper()
		s, err := p.Source(src, true)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(s.Text, quote)
		start := len([]rune(s.Text[:i]))
		c, err := analysis.NewCoding(src, s.Text, start, start+len([]rune(quote)), code, coder, analysis.OriginManual, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
		if err := store.Update(coder, func(cs []analysis.Coding) ([]analysis.Coding, error) { return append(cs, c), nil }); err != nil {
			t.Fatal(err)
		}
	}
	code("alice", "p02", "The plot is small.", "struggle")
	code("alice", "p02", "I gave some away.", "kindness")
	code("carol", "p02", "The beans grew well. I gave", "kindness")
	code("carol", "p01", "It was hard.", "struggle")
	return p, ios, out, errOut
}

// agreeMaterialised builds the report the way the command did before it
// streamed: every source whole, every coding whole, every list at once.
func agreeMaterialised(t *testing.T, p *corpus.Project, opts *AgreeOptions) *analysis.AgreementReport {
	t.Helper()
	all, err := p.Sources(true)
	if err != nil {
		t.Fatal(err)
	}
	codings, err := agreeLoadCodings(analysis.Store{Dir: p.Path(corpus.CodingsDir)}, opts.Coders)
	if err != nil {
		t.Fatal(err)
	}
	srcs := all
	if !opts.AllSources {
		srcs = analysis.AgreeSources(all, opts.Coders, codings)
	}
	cb, err := agreeCodebook(p)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := analysis.AgreeCodes(cb, opts.Codes, opts.Coders, codings, srcs)
	if err != nil {
		t.Fatal(err)
	}
	ud, err := analysis.BuildUnitData(srcs, codings, analysis.AgreeOptions{Coders: opts.Coders, Codes: codes, Unit: opts.Unit,
		MinCover: opts.MinOverlap, UncodedMissing: opts.Uncoded == "missing"})
	if err != nil {
		t.Fatal(err)
	}
	return ud.Report()
}

// The JSON report, streamed, is byte for byte what writeJSON made of the
// whole report before.
func TestAgreeJSONStreamedAsBefore(t *testing.T) {
	p, ios, out, _ := agreeStreamProject(t)
	cite := func(src *corpus.Source) string { return corpus.Citation(p.Config.Citation, src, nil) }
	for _, tc := range []func(o *AgreeOptions){
		func(o *AgreeOptions) {},
		func(o *AgreeOptions) { o.Coders = []string{"alice", "bob", "carol"}; o.Uncoded = "missing" },
		func(o *AgreeOptions) {
			o.Coders = []string{"alice", "carol"}
			o.Unit = corpus.UnitTurn
			o.AllSources = true
		},
		func(o *AgreeOptions) { o.Codes = []string{"belonging"}; o.MinOverlap = 0.5 },
	} {
		opts := agreeTestOpts(p, ios)
		opts.JSON = true
		tc(opts)
		out.Reset()
		if err := runAgree(opts); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		if err := writeJSON(&want, agreeOldJSONReport(opts, agreeMaterialised(t, p, opts), cite)); err != nil {
			t.Fatal(err)
		}
		if out.String() != want.String() {
			t.Errorf("%v %s: streamed JSON differs:\n got %s\nwant %s", opts.Coders, opts.Unit, out, &want)
		}
		if !strings.Contains(out.String(), `"disagreements": [`+"\n") {
			t.Errorf("no disagreements in %s", out)
		}
	}
}

// The character table, written in two passes, is aligned as tabwriter
// aligned it.
func TestAgreeCharTableAsTabwriter(t *testing.T) {
	p, _, _, _ := agreeStreamProject(t)
	opts := agreeTestOpts(p, nil)
	opts.Coders = []string{"alice", "bob", "carol"}
	opts.Codes = []string{"struggle", "kindness", "unused"} // nobody used "unused": kappa undefined
	rep := agreeMaterialised(t, p, opts)
	var want bytes.Buffer
	tw := tabwriter.NewWriter(&want, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tSOURCE\tCODERS\tCHARS\tAGREE\tKAPPA\tBOTH\tA ONLY\tB ONLY")
	for _, c := range rep.Chars {
		src := c.Source
		if src == "" {
			src = "(all sources)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%d\t%d\t%d\n", c.Code, src, c.First+"/"+c.Second, c.Chars,
			agreeValue(c.Percent), agreeValue(c.Kappa), c.Both, c.FirstOnly, c.SecondOnly)
	}
	tw.Flush()
	var got bytes.Buffer
	var notes agreeNotes
	if err := agreeCharTable(&got, rep.Data, &notes); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("table\n got:\n%s\nwant:\n%s", &got, &want)
	}
	if len(notes.lines) == 0 || !strings.Contains(got.String(), "—") {
		t.Errorf("the table has no undefined kappa with a note: the test checks too little\n%s", &got)
	}
}

// A sheet longer than Excel allows stops with a row saying how many were
// left out, and the command says so too.
func TestAgreeXLSXCapped(t *testing.T) {
	p, ios, _, errOut := agreeStreamProject(t)
	defer func(n int) { agreeSheetRows = n }(agreeSheetRows)
	agreeSheetRows = 2
	opts := agreeTestOpts(p, ios)
	opts.XLSX = filepath.Join(t.TempDir(), "a.xlsx")
	if err := runAgree(opts); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(opts.XLSX)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, sh := range []struct {
		name string
		all  int
	}{{"Disagreements", 5}, {"Characters", 6}} {
		rows, err := f.GetRows(sh.name)
		if err != nil {
			t.Fatal(err)
		}
		note := fmt.Sprintf("The first 2 of %d ", sh.all)
		if len(rows) != 4 || len(rows[3]) == 0 || !strings.HasPrefix(rows[3][0], note) {
			t.Errorf("%s sheet: %q, want the header, 2 rows and a note %q...", sh.name, rows, note)
		}
		if !strings.Contains(errOut.String(), "Note: "+note) {
			t.Errorf("stderr %q", errOut)
		}
	}
}

// The uncoded segments, streamed, are byte for byte what writeJSON made of
// the whole report.
func TestUncodedJSONStreamedAsBefore(t *testing.T) {
	p, open := suggestTestProject(t)
	suggestTestCode(t, p, "p01-w1", "I bought slug pellets.", "pests", "alice")
	suggestTestCode(t, p, "p02-w1", "Work was busy.", "time", "bob")
	srcs, err := p.Sources(true)
	if err != nil {
		t.Fatal(err)
	}
	all, err := analysis.Store{Dir: p.Path(corpus.CodingsDir)}.LoadAll()
	if err != nil {
		t.Fatal(err)
	}
	var codings []analysis.Coding
	for _, cs := range all {
		codings = append(codings, cs...)
	}
	for _, roles := range [][]string{{"participant"}, {"nobody-has-this-role"}} {
		ios, out, _ := suggestTestIO()
		if err := runUncoded(&UncodedOptions{IO: ios, Project: open, Unit: "sentence", Roles: roles, JSON: true}); err != nil && roles[0] == "participant" {
			t.Fatal(err)
		} else if err != nil {
			continue // an unknown role is refused
		}
		var want bytes.Buffer
		writeJSON(&want, suggest.Uncoded(srcs, codings, "sentence", roles))
		if out.String() != want.String() {
			t.Errorf("roles %v:\n got %s\nwant %s", roles, out, &want)
		}
	}
	// No uncoded segment at all: an empty list.
	ios, out, _ := suggestTestIO()
	if err := runUncoded(&UncodedOptions{IO: ios, Project: open, Unit: "sentence", Roles: []string{"other"}, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	writeJSON(&want, suggest.Uncoded(srcs, codings, "sentence", []string{"other"}))
	if out.String() != want.String() || !strings.Contains(out.String(), `"segments": [],`) {
		t.Errorf("no segments:\n got %s\nwant %s", out, &want)
	}
}

// Keyword in context, streamed, is byte for byte what writeJSON made of
// every line at once.
func TestWordsKWICStreamedAsBefore(t *testing.T) {
	p, open := suggestTestProject(t)
	srcs, err := p.Sources(true)
	if err != nil {
		t.Fatal(err)
	}
	an, err := corpus.NewAnalyzer(p.Config.Language, p.Config.FoldAccents)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"slug*", "watering rota", "tractor"} {
		ios, out, errOut := suggestTestIO()
		if err := runWords(&WordsOptions{IO: ios, Project: open, KWIC: q, Context: 20, JSON: true}); err != nil {
			t.Fatal(err)
		}
		lines, err := suggest.KWIC(srcs, q, suggest.WordsOptions{Analyzer: an, Width: 20,
			Cite: func(s *corpus.Source) string { return corpus.Citation(p.Config.Citation, s, nil) }})
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		writeJSON(&want, lines)
		if out.String() != want.String() {
			t.Errorf("%q:\n got %s\nwant %s (%s)", q, out, &want, errOut)
		}
	}
}

// A coding sheet longer than a worksheet is refused before its sources are
// read, or, with roles or for review, as soon as the rows pass the limit.
func TestSheetExportTooLong(t *testing.T) {
	p, _ := sheetTestProject(t)
	defer func(n int) { sheetMaxRows = n }(sheetMaxRows)
	sheetMaxRows = 3
	for _, tc := range []struct {
		mod  func(o *SheetExportOptions)
		want string
	}{
		{func(o *SheetExportOptions) {}, "rows, more than a worksheet holds"},
		{func(o *SheetExportOptions) { o.Roles = []string{corpus.RoleParticipant} }, "more than 3 rows"},
	} {
		ios, _, _ := mainTestIO()
		opts := &SheetExportOptions{IO: ios, Project: sheetTestOpen(p), Coder: "bob", Unit: corpus.UnitSentence,
			Out: filepath.Join(t.TempDir(), "bob.xlsx"), Now: time.Now}
		tc.mod(opts)
		if err := runSheetExport(opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
		if _, err := os.Stat(opts.Out); err == nil {
			t.Error("a sheet was written")
		}
	}
}

// agreeJSON is the whole JSON report as one value: what agreeWriteJSON
// streams must be what encoding it at once gives.
type agreeJSON struct {
	agreeJSONHead
	Chars         []agreeJSONChars        `json:"chars"`
	Disagreements []agreeJSONDisagreement `json:"disagreements"`
}

// agreeOldJSONReport is the report made at once from the report's lists
// (the oracle of TestAgreeJSONStreamedAsBefore, which checks the streaming
// and the lists the streamed report walks).
func agreeOldJSONReport(opts *AgreeOptions, rep *analysis.AgreementReport, cite func(*corpus.Source) string) agreeJSON {
	head, byID := agreeJSONHeadOf(opts, rep)
	out := agreeJSON{agreeJSONHead: head, Chars: []agreeJSONChars{}, Disagreements: []agreeJSONDisagreement{}}
	for i := range rep.Chars {
		out.Chars = append(out.Chars, agreeJSONCharsOf(&rep.Chars[i], byID, cite))
	}
	for i := range rep.Disagreements {
		out.Disagreements = append(out.Disagreements, agreeJSONDisagreementOf(&rep.Disagreements[i], byID, cite))
	}
	return out
}
