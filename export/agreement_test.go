package export

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

// agreementReport builds a small report by hand: one source of three
// sentences (the first starting with "=", as a participant may type it),
// three coders of whom carol has no coding on the source, compared with
// her values missing.
//
//	code x   s1 s2 s3
//	ana       x  .  x
//	ben       x  x  .
//	carol     -  -  -     (missing)
//
// s2 and s3 are disagreements between ana and ben.
func agreementReport(t *testing.T) *analysis.AgreementReport {
	t.Helper()
	text := `=HYPERLINK("http://x") she typed. Then a pause. Then a laugh.`
	src := &corpus.Source{ID: "p07", Kind: corpus.KindInterview, Number: 7, Text: text, Segments: []corpus.Segment{
		{ID: "t1", Unit: corpus.UnitTurn, Start: 0, End: 61, Speaker: "Ana"},
		{ID: "t1.p1.s1", Unit: corpus.UnitSentence, Start: 0, End: 33, Speaker: "Ana", Line: 1},
		{ID: "t1.p1.s2", Unit: corpus.UnitSentence, Start: 34, End: 47, Speaker: "Ana", Line: 1},
		{ID: "t1.p1.s3", Unit: corpus.UnitSentence, Start: 48, End: 61, Speaker: "Ana", Line: 1},
	}}
	if got := string([]rune(text)[48:61]); got != "Then a laugh." {
		t.Fatalf("fixture: s3 is %q", got)
	}
	coding := func(coder string, start, end int) analysis.Coding {
		return analysis.Coding{Source: "p07", Start: start, End: end, Code: "x", Coder: coder}
	}
	codings := map[string][]analysis.Coding{
		"ana": {coding("ana", 0, 33), coding("ana", 48, 61)},
		"ben": {coding("ben", 0, 47)},
	}
	ud, err := analysis.BuildUnitData([]*corpus.Source{src}, codings, analysis.AgreeOptions{
		Coders: []string{"ana", "ben", "carol"}, Codes: []analysis.AgreeCode{{ID: "x", Name: "Code X", IDs: []string{"x"}}},
		Unit: corpus.UnitSentence, UncodedMissing: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ud.Report()
}

func TestAgreementSheets(t *testing.T) {
	rep := agreementReport(t)
	path := filepath.Join(t.TempDir(), "agreement.xlsx")
	opts := AgreementOptions{
		Cite:  func(src *corpus.Source) string { return "(P" + src.ID[1:] + ")" },
		About: [][2]string{{"Overlap rule", "any overlap"}},
	}
	if err := WriteAgreementXLSX(path, rep, opts); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	dis, err := f.GetRows("Disagreements")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Source", "Segment", "Citation", "Speaker", "Text", "Code", "Coded by", "Not coded by", "No value from", "Decision"},
		{"p07", "t1.p1.s2", "(P07)", "Ana", "Then a pause.", "x", "ben", "ana", "carol"},
		{"p07", "t1.p1.s3", "(P07)", "Ana", "Then a laugh.", "x", "ana", "ben", "carol"},
	}
	if !reflect.DeepEqual(dis, want) {
		t.Errorf("Disagreements\n got %q\nwant %q", dis, want)
	}

	// Summary: 3 units; ana and ben each coded 2, carol none. No unit has
	// a value from every coder, so percent and Fleiss' kappa are undefined
	// and Cohen's kappa needs 2 coders: "—" with their notes.
	sum, err := f.GetRows("Summary")
	if err != nil {
		t.Fatal(err)
	}
	if len(sum) != 3 {
		t.Fatalf("summary %q", sum)
	}
	head, x := sum[0], sum[1]
	wantHead := []string{"Code", "Name", "Units", "Coded by ana", "Coded by ben", "Coded by carol", "Percent agreement",
		"Cohen's kappa", "Fleiss' kappa", "Krippendorff's alpha (nominal)", "Brennan-Prediger kappa", "Notes"}
	if !reflect.DeepEqual(head, wantHead) {
		t.Errorf("summary header %q", head)
	}
	if x[0] != "x" || x[1] != "Code X" || x[2] != "3" || x[3] != "2" || x[4] != "2" || x[5] != "0" || x[6] != UndefinedMark || x[7] != UndefinedMark || x[8] != UndefinedMark {
		t.Errorf("summary row %q", x)
	}
	// Alpha pairs ana's and ben's values: n = 6, four 1s and two 0s, s2 and
	// s3 disagree: Do = 4/6, De = 2*4*2/(6*5) = 16/30, alpha = 1 - 1.25.
	if x[9] != "-0.250" {
		t.Errorf("alpha cell %q, want -0.250", x[9])
	}
	if !strings.Contains(x[11], "cohen-kappa: Cohen's kappa needs exactly 2 coders") {
		t.Errorf("notes %q", x[11])
	}
	if sum[2][0] != "(all codes)" {
		t.Errorf("pooled row %q", sum[2])
	}

	// Characters: three pairs; carol's pairs are left out of the source
	// (no value from her), so only their all-sources rows, over 0 characters.
	chars, _ := f.GetRows("Characters")
	var pairs []string
	for _, r := range chars[1:] {
		pairs = append(pairs, r[1]+" "+r[3]+"/"+r[4]+" "+r[5])
	}
	if wantPairs := []string{"p07 ana/ben 61", "(all sources) ana/ben 61", "(all sources) ana/carol 0", "(all sources) ben/carol 0"}; !reflect.DeepEqual(pairs, wantPairs) {
		t.Errorf("character rows %q, want %q", pairs, wantPairs)
	}

	about, _ := f.GetRows("About")
	if !reflect.DeepEqual(about[len(about)-1], []string{"Overlap rule", "any overlap"}) || about[1][1] != "ana, ben, carol" {
		t.Errorf("About %q", about)
	}
}

// Participants' text that looks like a formula stays text.
func TestAgreementSheetsNoFormulas(t *testing.T) {
	rep := agreementReport(t)
	rep.Disagreements[0].Text = `=HYPERLINK("http://x") she typed.`
	path := filepath.Join(t.TempDir(), "a.xlsx")
	if err := WriteAgreementXLSX(path, rep, AgreementOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if formula, _ := f.GetCellFormula("Disagreements", "E2"); formula != "" {
		t.Errorf("E2 holds the formula %q", formula)
	}
	if v, _ := f.GetCellValue("Disagreements", "E2"); v != `=HYPERLINK("http://x") she typed.` {
		t.Errorf("E2 = %q", v)
	}
	if v, _ := f.GetCellValue("Disagreements", "C2"); v != "" {
		t.Errorf("citation without Cite: %q", v)
	}
}
