package export

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
)

// Texts of the sources of the coding sheet tests. The interview has an
// interviewer's turns and a sentence that looks like a formula; the diary
// has accents and a character outside the BMP.
const (
	sheetInterview = "I: How do you manage your time?\nP: I set limits on my time. Evenings are mine — I don't answer e-mails after six.\n\nSometimes the café calls me anyway. =SUM(A1) is what I type at work.\nI: Do you say no?\nP: Yes. I say no.\n"
	sheetDiary     = "Monday 3 March 2025\nFelt naïve about the role. Then I said no to extra shifts 😀.\n\nTuesday 4 March 2025\nQuiet day.\n"
	sheetCodebook  = `name: Test
themes:
  - name: Boundaries
    id: boundaries
    definition: Limits of the role.
    codes:
      - id: limits
        name: Setting limits
        definition: Talk about limits on time or availability.
        when_to_use: The speaker describes a limit they set.
        when_not_to_use: Limits set by others.
        examples: ["I don't answer e-mails after six.", "I said no."]
      - id: saying-no
        name: Saying no
        definition: Refusing a request.
  - name: Feelings
    codes:
      - id: naivety
        name: Feeling naive
`
)

var sheetTime = time.Date(2026, 3, 1, 14, 5, 0, 0, time.UTC)

// sheetSource makes an ingested source from text as ingest would.
func sheetSource(t testing.TB, id, kind, text string, n int) *corpus.Source {
	t.Helper()
	segs, speakers := corpus.Segments(corpus.Document{Text: text}, kind, nil)
	return &corpus.Source{ID: id, Kind: kind, Number: n, Text: text, SHA: corpus.HashText(text), Segments: segs, Speakers: speakers}
}

func sheetFixture(t testing.TB) ([]*corpus.Source, *codebook.Codebook) {
	t.Helper()
	cb, probs := codebook.Parse("codebook.yaml", []byte(sheetCodebook))
	if len(probs) > 0 {
		t.Fatal(probs[0])
	}
	return []*corpus.Source{
		sheetSource(t, "p01", corpus.KindInterview, sheetInterview, 1),
		sheetSource(t, "d01", corpus.KindDiary, sheetDiary, 1),
	}, cb
}

func sheetCite(src *corpus.Source) string { return corpus.Citation("({Kind} {n})", src, nil) }

// codesSheet is the codes sheet of the tests: participants' sentences, the
// three codes as columns.
func codesSheet(t testing.TB) (*CodingSheet, []*corpus.Source, *codebook.Codebook) {
	srcs, cb := sheetFixture(t)
	return &CodingSheet{
		About:    analysis.SheetAbout{Project: "Test study", Coder: "bob", Unit: corpus.UnitSentence, Roles: []string{corpus.RoleParticipant}, Created: sheetTime},
		Codebook: cb,
		Codes:    []*codebook.Node{cb.Node("limits"), cb.Node("saying-no"), cb.Node("naivety")},
		Sources:  srcs,
		Cite:     sheetCite,
	}, srcs, cb
}

// codingOf makes one of alice's codings of the first occurrence of quote.
func codingOf(t testing.TB, src *corpus.Source, quote, code string) analysis.Coding {
	t.Helper()
	i := strings.Index(src.Text, quote)
	if i < 0 {
		t.Fatalf("%q not in %s", quote, src.ID)
	}
	start := len([]rune(src.Text[:i]))
	c, err := analysis.NewCoding(src.ID, src.Text, start, start+len([]rune(quote)), code, "alice", analysis.OriginManual, sheetTime)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// reviewSheet is the review sheet of the tests: four of alice's codings
// and an orphaned one.
func reviewSheet(t testing.TB) (*CodingSheet, []*corpus.Source, *codebook.Codebook) {
	srcs, cb := sheetFixture(t)
	p01, d01 := srcs[0], srcs[1]
	orphan := codingOf(t, p01, "Evenings", "limits")
	orphan.Orphan = true
	return &CodingSheet{
		About:    analysis.SheetAbout{Project: "Test study", Coder: "bob", From: "alice", Unit: corpus.UnitSentence, Created: sheetTime},
		Codebook: cb,
		Sources:  srcs,
		Cite:     sheetCite,
		Review: reviewCodings(
			codingOf(t, d01, "Then I said no to extra shifts 😀.", "limits"),
			codingOf(t, p01, "I set limits on my time", "limits"),
			codingOf(t, p01, "I say no.", "saying-no"),
			orphan,
			codingOf(t, d01, "Felt naïve about the role.", "naivety"),
		),
	}, srcs, cb
}

// reviewCodings is what a review sheet takes of codings.
func reviewCodings(cs ...analysis.Coding) []SheetCoding {
	out := make([]SheetCoding, len(cs))
	for i := range cs {
		out[i] = SheetCodingOf(&cs[i])
	}
	return out
}

func quoteOf(t testing.TB, src *corpus.Source, quote string) (int, int) {
	t.Helper()
	i := strings.Index(src.Text, quote)
	if i < 0 {
		t.Fatalf("%q not in %s", quote, src.ID)
	}
	s := len([]rune(src.Text[:i]))
	return s, s + len([]rune(quote))
}

func writeTestSheet(t testing.TB, cs *CodingSheet) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sheet.xlsx")
	if _, err := WriteCodingSheet(path, cs); err != nil {
		t.Fatal(err)
	}
	return path
}

// sheetKeyRows maps each key of the Coding sheet to its row.
func sheetKeyRows(t testing.TB, f *excelize.File) map[string]int {
	t.Helper()
	rows, err := f.GetRows(analysis.SheetNameCoding)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for i, r := range rows {
		if len(r) > 0 && r[0] != "" {
			out[r[0]] = i + 1
		}
	}
	return out
}

// cellEdit is a value a co-author puts in a cell: in the row of key (or
// row 1 when key is ""), column col.
type cellEdit struct {
	key, col string
	value    any
}

// fill edits the workbook at path as a co-author would and saves it.
func fill(t testing.TB, path string, edits []cellEdit) {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := sheetKeyRows(t, f)
	for _, e := range edits {
		row := 1
		if e.key != "" {
			var ok bool
			if row, ok = keys[e.key]; !ok {
				t.Fatalf("no row %q on the sheet; have %v", e.key, keys)
			}
		}
		if err := f.SetCellValue(analysis.SheetNameCoding, fmt.Sprintf("%s%d", e.col, row), e.value); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
}

// sourceReader serves srcs by id, as SheetImportOptions.Source: nil for
// an id not among them.
func sourceReader(srcs []*corpus.Source) func(id string) (*corpus.Source, error) {
	byID := map[string]*corpus.Source{}
	for _, s := range srcs {
		byID[s.ID] = s
	}
	return func(id string) (*corpus.Source, error) { return byID[id], nil }
}

func importTestSheet(t testing.TB, path string, srcs []*corpus.Source, cb *codebook.Codebook) (*analysis.SheetImport, error) {
	t.Helper()
	d, err := ReadCodingSheet(path)
	if err != nil {
		t.Fatal(err)
	}
	return analysis.ImportSheet(d, analysis.SheetImportOptions{
		File:     "sheet.xlsx",
		Source:   sourceReader(srcs),
		Known:    func(code string) bool { return cb.Node(code) != nil },
		Time:     sheetTime,
		CellText: SheetCellText,
	})
}

// wantCoding is a coding expected from an import: the exact text of the
// span, its code and (codes sheets) its segment.
type wantCoding struct {
	src, quote, code, segment, memo string
}

func checkCodings(t *testing.T, got []analysis.Coding, srcs []*corpus.Source, want []wantCoding) {
	t.Helper()
	byID := map[string]*corpus.Source{}
	for _, s := range srcs {
		byID[s.ID] = s
	}
	if len(got) != len(want) {
		t.Errorf("%d codings, want %d: %+v", len(got), len(want), got)
	}
	for _, w := range want {
		start, end := quoteOf(t, byID[w.src], w.quote)
		i := slices.IndexFunc(got, func(c analysis.Coding) bool {
			return c.Source == w.src && c.Start == start && c.End == end && c.Code == w.code
		})
		if i < 0 {
			t.Errorf("no coding of %s %d-%d %q with %s", w.src, start, end, w.quote, w.code)
			continue
		}
		c := got[i]
		if span := string([]rune(byID[w.src].Text)[c.Start:c.End]); span != w.quote || c.Quote != w.quote {
			t.Errorf("coding %s: span slices %q, quote %q; want %q", c.ID, span, c.Quote, w.quote)
		}
		if c.Coder != "bob" || c.Origin != analysis.OriginSheet || c.Segment != w.segment || c.Memo != w.memo || !c.Time.Equal(sheetTime) {
			t.Errorf("coding %+v: want coder bob, origin sheet, segment %q, memo %q", c, w.segment, w.memo)
		}
	}
}

// codesFill marks cells of the codes sheet the way a co-author might: x, X,
// yes, a tick and the number 1. Columns: F limits, G saying-no, H naivety.
var codesFill = []cellEdit{
	{"p01:t2.p1.s1", "F", "x"},
	{"p01:t2.p1.s2", "F", "X"},
	{"p01:t4.p1.s2", "G", "yes"},
	{"d01:e1.p1.s1", "H", "✓"},
	{"d01:e1.p1.s2", "G", 1},
	{"d01:e1.p1.s2", "F", " "}, // blank: not a mark
}

var codesWant = []wantCoding{
	{"p01", "I set limits on my time.", "limits", "t2.p1.s1", ""},
	{"p01", "Evenings are mine — I don't answer e-mails after six.", "limits", "t2.p1.s2", ""},
	{"p01", "I say no.", "saying-no", "t4.p1.s2", ""},
	{"d01", "Felt naïve about the role.", "naivety", "e1.p1.s1", ""},
	{"d01", "Then I said no to extra shifts 😀.", "saying-no", "e1.p1.s2", ""},
}

// reviewKey is the key of the review row of the coding of quote with code.
func reviewKey(t testing.TB, src *corpus.Source, quote, code string) string {
	start, end := quoteOf(t, src, quote)
	return fmt.Sprintf("%s@%d-%d#%s", src.ID, start, end, code)
}

// reviewKeys are the keys of the four rows of the review sheet, in order.
func reviewKeys(t testing.TB) [4]string {
	srcs, _ := sheetFixture(t)
	return [4]string{
		reviewKey(t, srcs[0], "I set limits on my time", "limits"),
		reviewKey(t, srcs[0], "I say no.", "saying-no"),
		reviewKey(t, srcs[1], "Felt naïve about the role.", "naivety"),
		reviewKey(t, srcs[1], "Then I said no to extra shifts 😀.", "limits"),
	}
}

// reviewFill decides on each of alice's codings.
func reviewFill(t testing.TB) []cellEdit {
	k := reviewKeys(t)
	return []cellEdit{
		{k[0], "H", "accept"},
		{k[0], "J", "A clear limit."},
		{k[1], "H", "Reject"},
		{k[2], "H", " accept "},
		{k[3], "H", "correct"},
		{k[3], "I", "saying-no"},
	}
}

var reviewWant = []wantCoding{
	{"p01", "I set limits on my time", "limits", "", "A clear limit."},
	{"d01", "Felt naïve about the role.", "naivety", "", ""},
	{"d01", "Then I said no to extra shifts 😀.", "saying-no", "", ""},
}

func TestCodingSheetRoundTrip(t *testing.T) {
	cs, srcs, cb := codesSheet(t)
	path := writeTestSheet(t, cs)
	fill(t, path, codesFill)
	imp, err := importTestSheet(t, path, srcs, cb)
	if err != nil {
		t.Fatal(err)
	}
	checkCodings(t, imp.Codings, srcs, codesWant)
	if imp.Coder != "bob" || imp.Rows != 9 || imp.Missing != 0 || !slices.Equal(imp.Codes, []string{"limits", "saying-no", "naivety"}) {
		t.Errorf("import: coder %s, %d rows, %d missing, codes %v; want bob, 9 (participants' sentences), 0, the three columns", imp.Coder, imp.Rows, imp.Missing, imp.Codes)
	}
}

func TestReviewSheetRoundTrip(t *testing.T) {
	cs, srcs, cb := reviewSheet(t)
	path := writeTestSheet(t, cs)
	fill(t, path, reviewFill(t))
	imp, err := importTestSheet(t, path, srcs, cb)
	if err != nil {
		t.Fatal(err)
	}
	checkCodings(t, imp.Codings, srcs, reviewWant)
	if imp.Accepted != 2 || imp.Rejected != 1 || imp.Corrected != 1 || imp.Codes != nil {
		t.Errorf("accepted %d, rejected %d, corrected %d, codes %v; want 2, 1, 1, none (every code)", imp.Accepted, imp.Rejected, imp.Corrected, imp.Codes)
	}
}

// dumpSheet writes a workbook's sheets as text: per sheet its visibility,
// panes, column widths and hidden columns, data validations, comments and
// every cell (type, formula if any, value).
func dumpSheet(t testing.TB, path string) []byte {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b bytes.Buffer
	for _, name := range f.GetSheetList() {
		visible, _ := f.GetSheetVisible(name)
		panes, _ := f.GetPanes(name)
		fmt.Fprintf(&b, "== %s visible=%v freeze=%v x=%d y=%d top=%s\n", name, visible, panes.Freeze, panes.XSplit, panes.YSplit, panes.TopLeftCell)
		rows, err := f.GetRows(name, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		ncol := 0
		for _, r := range rows {
			ncol = max(ncol, len(r))
		}
		for c := 1; c <= ncol; c++ {
			col, _ := excelize.ColumnNumberToName(c)
			w, _ := f.GetColWidth(name, col)
			v, _ := f.GetColVisible(name, col)
			fmt.Fprintf(&b, "col %s width=%g visible=%v\n", col, w, v)
		}
		dvs, _ := f.GetDataValidations(name)
		for _, dv := range dvs {
			fmt.Fprintf(&b, "validation %s %s %s blank=%v\n", dv.Sqref, dv.Type, dv.Formula1, dv.AllowBlank)
		}
		comments, _ := f.GetComments(name)
		for _, c := range comments {
			fmt.Fprintf(&b, "comment %s %q\n", c.Cell, c.Text)
		}
		for i, r := range rows {
			for j, v := range r {
				if v == "" {
					continue
				}
				cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
				typ, _ := f.GetCellType(name, cell)
				formula, _ := f.GetCellFormula(name, cell)
				if formula != "" {
					formula = " formula=" + formula
				}
				if name == analysis.SheetNameAbout && strings.HasPrefix(v, "20") && j == 1 && r[0] == "created" {
					v = "(time)"
				}
				fmt.Fprintf(&b, "%s t%d%s %q\n", cell, typ, formula, v)
			}
		}
	}
	return b.Bytes()
}

// The written workbooks, cell by cell, against reviewed golden files.
func TestCodingSheetGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		cs   func(testing.TB) (*CodingSheet, []*corpus.Source, *codebook.Codebook)
	}{{"codes", codesSheet}, {"review", reviewSheet}} {
		t.Run(tc.name, func(t *testing.T) {
			cs, _, _ := tc.cs(t)
			golden(t, "sheet/"+tc.name+".golden", dumpSheet(t, writeTestSheet(t, cs)))
		})
	}
}

func TestCodingSheetLayout(t *testing.T) {
	cs, _, _ := codesSheet(t)
	f, err := excelize.OpenFile(writeTestSheet(t, cs))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const sh = analysis.SheetNameCoding
	dvs, err := f.GetDataValidations(sh)
	if err != nil {
		t.Fatal(err)
	}
	// 9 participant sentences in rows 3-11, codes in F-H.
	if len(dvs) != 1 || dvs[0].Sqref != "F3:H11" || dvs[0].Type != "list" || dvs[0].Formula1 != `"x"` || !dvs[0].AllowBlank {
		t.Errorf("validations %+v; want one list of x over F3:H11", dvs)
	}
	if v, _ := f.GetSheetVisible(analysis.SheetNameAbout); v {
		t.Error("the About sheet is visible")
	}
	if v, _ := f.GetColVisible(sh, "A"); v {
		t.Error("the key column is visible")
	}
	// The sentence that looks like a formula is a string cell, not a formula.
	keys := sheetKeyRows(t, f)
	cell := fmt.Sprintf("E%d", keys["p01:t2.p2.s2"])
	if formula, _ := f.GetCellFormula(sh, cell); formula != "" {
		t.Errorf("%s has the formula %q", cell, formula)
	}
	if v, _ := f.GetCellValue(sh, cell); v != "=SUM(A1) is what I type at work." {
		t.Errorf("%s = %q", cell, v)
	}
	styleID, _ := f.GetCellStyle(sh, cell)
	if st, err := f.GetStyle(styleID); err != nil || st.Alignment == nil || !st.Alignment.WrapText {
		t.Errorf("%s is not wrapped: %+v %v", cell, st, err)
	}
	if _, ok := keys["p01:t1.p1.s1"]; ok {
		t.Error("an interviewer's sentence is listed though --roles participant")
	}
}

func TestReviewSheetLayout(t *testing.T) {
	cs, _, _ := reviewSheet(t)
	var buf bytes.Buffer
	st, err := EncodeCodingSheet(&buf, cs)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != 4 || st.Skipped != 1 || st.Sources != 2 {
		t.Errorf("stats %+v; want 4 rows, 1 orphan skipped, 2 sources", st)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dvs, err := f.GetDataValidations(analysis.SheetNameCoding)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, dv := range dvs {
		got[dv.Sqref] = dv.Type + " " + dv.Formula1
	}
	// The codebook has 5 nodes, in rows 2-6 of the Codebook sheet.
	want := map[string]string{
		"H3:H6": `list "accept,reject,correct"`,
		"I3:I6": `list 'Codebook'!$A$2:$A$6`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("validations %v; want %v", got, want)
	}
}

// problemAt finds a problem at cell whose message holds msg.
func problemAt(err error, cell, msg string) bool {
	var se *analysis.SheetError
	if !errors.As(err, &se) {
		return false
	}
	return slices.ContainsFunc(se.Problems, func(p analysis.SheetProblem) bool {
		return p.Cell == cell && strings.Contains(p.Msg, msg)
	})
}

func TestCodingSheetRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edits  []cellEdit
		change func(srcs []*corpus.Source) []*corpus.Source
		cell   string // "" + row of key: the cell expected
		key    string
		msg    string
	}{
		{name: "edited text", edits: []cellEdit{{"p01:t2.p1.s1", "E", "I set limits on my time!"}},
			cell: "E", key: "p01:t2.p1.s1", msg: `text differs from segment p01:t2.p1.s1 at character 24 (the source has ".")`},
		{name: "unknown code column", edits: []cellEdit{{"", "I", "made-up"}, {"p01:t2.p1.s1", "I", "x"}},
			cell: "Coding!I1", msg: `unknown code "made-up"`},
		{name: "code column twice", edits: []cellEdit{{"", "I", "limits"}},
			cell: "Coding!I1", msg: `code "limits" heads a second column (also column F)`},
		{name: "bad mark", edits: []cellEdit{{"p01:t4.p1.s2", "G", "maybe"}},
			cell: "G", key: "p01:t4.p1.s2", msg: `unknown mark "maybe"`},
		{name: "no means empty", edits: []cellEdit{{"p01:t4.p1.s2", "G", "no"}},
			cell: "G", key: "p01:t4.p1.s2", msg: `unknown mark "no"`},
		{name: "key not found", edits: []cellEdit{{"p01:t4.p1.s2", "A", "p01:t9.p1.s1"}},
			cell: "A", key: "p01:t9.p1.s1", msg: `source "p01" has no segment "t9.p1.s1" (key not found)`},
		{name: "key of another source", edits: []cellEdit{{"p01:t4.p1.s2", "A", "p02:t4.p1.s2"}},
			cell: "A", key: "p02:t4.p1.s2", msg: `source "p02" is not listed on the About sheet`},
		{name: "row twice", edits: []cellEdit{{"p01:t4.p1.s1", "A", "p01:t4.p1.s2"}},
			cell: "Coding!A8", msg: `key "p01:t4.p1.s2" is listed twice (also row 7)`},
		{name: "changed source", change: func(srcs []*corpus.Source) []*corpus.Source {
			p := *srcs[0]
			p.Text = strings.Replace(p.Text, "six", "seven", 1)
			p.SHA = corpus.HashText(p.Text)
			return []*corpus.Source{&p, srcs[1]}
		}, cell: "About!B12", msg: `source "p01" has changed since the sheet was made (its sha256 differs; rows 3-8)`},
		{name: "source gone", change: func(srcs []*corpus.Source) []*corpus.Source { return srcs[:1] },
			cell: "About!B13", msg: `source "d01" is no longer in the project (rows 9-11)`},
		{name: "header row deleted", edits: []cellEdit{{"", "A", ""}, {"", "B", ""}},
			cell: "Coding!A1", msg: `column A should be "Key"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, srcs, cb := codesSheet(t)
			path := writeTestSheet(t, cs)
			fill(t, path, append(slices.Clone(codesFill), tc.edits...))
			if tc.change != nil {
				srcs = tc.change(srcs)
			}
			cell := tc.cell
			if tc.key != "" {
				f, err := excelize.OpenFile(path)
				if err != nil {
					t.Fatal(err)
				}
				cell = fmt.Sprintf("Coding!%s%d", tc.cell, sheetKeyRows(t, f)[tc.key])
				f.Close()
			}
			imp, err := importTestSheet(t, path, srcs, cb)
			if imp != nil || !problemAt(err, cell, tc.msg) {
				t.Fatalf("import gave %v, %v; want a problem at %s: %s", imp, err, cell, tc.msg)
			}
		})
	}
}

func TestReviewSheetRefused(t *testing.T) {
	one := func(row int, col string, v any) func([4]string) []cellEdit {
		return func(k [4]string) []cellEdit { return []cellEdit{{k[row], col, v}} }
	}
	for _, tc := range []struct {
		name  string
		edits func(keys [4]string) []cellEdit
		cell  string
		msg   string
	}{
		{"no decision", one(1, "H", ""), "Coding!H4", "no decision"},
		{"unknown decision", one(1, "H", "maybe"), "Coding!H4", `unknown decision "maybe"`},
		{"correct without code", one(3, "I", ""), "Coding!I6", "no correct code is given"},
		{"unknown correct code", one(3, "I", "boundary"), "Coding!I6", `unknown code "boundary"`},
		{"code with accept", one(2, "I", "limits"), "Coding!I5", "the decision is accept"},
		{"code edited", one(2, "G", "limits"), "Coding!G5", `the code was "naivety" when the sheet was made, not "limits"`},
		{"quote edited", one(2, "F", "Felt naive about the role."), "Coding!F5", "text differs from the coded quote d01@"},
		{"span outside", one(2, "A", "d01@20-4600#naivety"), "Coding!A5", "the span is outside source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, srcs, cb := reviewSheet(t)
			path := writeTestSheet(t, cs)
			fill(t, path, append(reviewFill(t), tc.edits(reviewKeys(t))...))
			imp, err := importTestSheet(t, path, srcs, cb)
			if imp != nil || !problemAt(err, tc.cell, tc.msg) {
				t.Fatalf("import gave %v, %v; want a problem at %s: %s", imp, err, tc.cell, tc.msg)
			}
		})
	}
}

func TestReadCodingSheetNotXLSX(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "sheet.xlsx")
	if err := os.WriteFile(csv, []byte("Key,Text\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCodingSheet(csv); err == nil || !strings.Contains(err.Error(), csv+": not an xlsx workbook") {
		t.Errorf("got %v", err)
	}
	other := filepath.Join(dir, "other.xlsx")
	if err := WriteXLSX(other, Sheet{Name: "Data", Table: Table{Columns: []Column{{Title: "A"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCodingSheet(other); err == nil || !strings.Contains(err.Error(), `no sheet "Coding"`) {
		t.Errorf("got %v", err)
	}
	if _, err := ReadCodingSheet(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("a folder: got %v", err)
	}
}

func TestEncodeCodingSheetNothingToList(t *testing.T) {
	cs, _, _ := codesSheet(t)
	cs.About.Roles = []string{"nobody"}
	if _, err := EncodeCodingSheet(&bytes.Buffer{}, cs); err == nil || !strings.Contains(err.Error(), "no segments") {
		t.Errorf("got %v", err)
	}
	rs, _, _ := reviewSheet(t)
	rs.Review = nil
	if _, err := EncodeCodingSheet(&bytes.Buffer{}, rs); err == nil || !strings.Contains(err.Error(), "no codings of alice") {
		t.Errorf("got %v", err)
	}
}

// A co-author saving the sheet with LibreOffice Calc: the re-saved files
// import to the same codings.
func TestCodingSheetLibreOffice(t *testing.T) {
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		t.Skip("soffice (LibreOffice) is not on PATH")
	}
	if testing.Short() {
		t.Skip("LibreOffice takes ~15 s to start; skipped with -short")
	}
	dir := t.TempDir()
	codes, srcs, cb := codesSheet(t)
	review, _, _ := reviewSheet(t)
	in := []string{filepath.Join(dir, "codes.xlsx"), filepath.Join(dir, "review.xlsx")}
	for i, cs := range []*CodingSheet{codes, review} {
		if _, err := WriteCodingSheet(in[i], cs); err != nil {
			t.Fatal(err)
		}
	}
	fill(t, in[0], codesFill)
	fill(t, in[1], reviewFill(t))
	out := filepath.Join(dir, "out")
	cmd := exec.Command(soffice, "-env:UserInstallation=file://"+filepath.ToSlash(filepath.Join(dir, "profile")),
		"--headless", "--convert-to", "xlsx", "--outdir", out, in[0], in[1])
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, msg)
	}
	for i, want := range [][]wantCoding{codesWant, reviewWant} {
		resaved := filepath.Join(out, filepath.Base(in[i]))
		imp, err := importTestSheet(t, resaved, srcs, cb)
		if err != nil {
			t.Fatalf("%s: %v", resaved, err)
		}
		checkCodings(t, imp.Codings, srcs, want)
		f, err := excelize.OpenFile(resaved)
		if err != nil {
			t.Fatal(err)
		}
		if dvs, _ := f.GetDataValidations(analysis.SheetNameCoding); len(dvs) == 0 {
			t.Errorf("%s: LibreOffice dropped the drop-downs", resaved)
		}
		f.Close()
	}
}

// BenchmarkEncodeCodingSheet writes a codes sheet of 20 sources of 500
// sentences each (10,000 rows) with 12 code columns.
func BenchmarkEncodeCodingSheet(b *testing.B) {
	cs, _, _ := benchSheet(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := EncodeCodingSheet(io.Discard, cs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImportCodingSheet reads and checks the same sheet with a mark in
// every fifth row.
func BenchmarkImportCodingSheet(b *testing.B) {
	cs, srcs, cb := benchSheet(b)
	var buf bytes.Buffer
	if _, err := EncodeCodingSheet(&buf, cs); err != nil {
		b.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		b.Fatal(err)
	}
	rows := 0
	for _, src := range srcs {
		rows += len(analysis.SheetSegments(src, cs.About.Unit, cs.About.Roles))
	}
	for row := analysis.SheetHeaderRows + 1; row <= analysis.SheetHeaderRows+rows; row += 5 {
		if err := f.SetCellValue(analysis.SheetNameCoding, fmt.Sprintf("F%d", row), "x"); err != nil {
			b.Fatal(err)
		}
	}
	marked, err := f.WriteToBuffer()
	if err != nil {
		b.Fatal(err)
	}
	f.Close()
	data := marked.Bytes()
	opts := analysis.SheetImportOptions{Source: sourceReader(srcs), Known: func(c string) bool { return cb.Node(c) != nil }, Time: sheetTime, CellText: SheetCellText}
	imp, err := importBytes(data, opts)
	if err != nil {
		b.Fatal(err)
	}
	if len(imp.Codings) != (rows+4)/5 {
		b.Fatalf("%d codings, want %d", len(imp.Codings), (rows+4)/5)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := importBytes(data, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func importBytes(data []byte, opts analysis.SheetImportOptions) (*analysis.SheetImport, error) {
	d, err := DecodeCodingSheet("bench.xlsx", data)
	if err != nil {
		return nil, err
	}
	return analysis.ImportSheet(d, opts)
}

func benchSheet(b *testing.B) (*CodingSheet, []*corpus.Source, *codebook.Codebook) {
	var yaml strings.Builder
	yaml.WriteString("themes:\n  - name: Theme\n    codes:\n")
	for i := range 12 {
		fmt.Fprintf(&yaml, "      - id: code-%d\n        name: Code %d\n        definition: The %dth code.\n", i, i, i)
	}
	cb, probs := codebook.Parse("codebook.yaml", []byte(yaml.String()))
	if len(probs) > 0 {
		b.Fatal(probs[0])
	}
	var srcs []*corpus.Source
	for s := range 20 {
		var text strings.Builder
		for i := range 100 {
			fmt.Fprintf(&text, "P: This is sentence %d of the answer. It goes on for a while with ordinary words. Another one follows here. Then a fourth. And the fifth one ends it.\n", i)
		}
		srcs = append(srcs, sheetSource(b, fmt.Sprintf("s%02d", s), corpus.KindInterview, text.String(), s+1))
	}
	cs := &CodingSheet{
		About:    analysis.SheetAbout{Project: "Bench", Coder: "bob", Unit: corpus.UnitSentence, Created: sheetTime},
		Codebook: cb, Sources: srcs, Cite: sheetCite,
	}
	for _, n := range cb.Codes() {
		if n.Level == codebook.LevelCode {
			cs.Codes = append(cs.Codes, n)
		}
	}
	return cs, srcs, cb
}

// Codings that cannot be reviewed are left out and counted: orphans, spans
// past the text, codes no key can hold; codings of other sources or codes
// are left out without counting.
func TestReviewSheetSkips(t *testing.T) {
	cs, srcs, cb := reviewSheet(t)
	past := codingOf(t, srcs[1], "Quiet day.", "naivety")
	past.Start, past.End = 200, 210
	odd := codingOf(t, srcs[1], "Quiet day.", "naivety")
	odd.Code = "two words"
	other := codingOf(t, srcs[1], "Quiet day.", "naivety")
	other.Source = "p99"
	cs.Review = append(cs.Review, reviewCodings(past, odd, other)...)
	st, err := EncodeCodingSheet(io.Discard, cs)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != 4 || st.Skipped != 3 {
		t.Errorf("stats %+v; want 4 rows, 3 skipped (orphan, past the text, odd code)", st)
	}
	// Only limits and naivety: saying-no and the odd code are not asked for.
	cs.Codes = []*codebook.Node{cb.Node("limits"), cb.Node("naivety")}
	if st, err = EncodeCodingSheet(io.Discard, cs); err != nil {
		t.Fatal(err)
	}
	if st.Rows != 3 || st.Skipped != 2 {
		t.Errorf("stats %+v; want 3 rows, 2 skipped", st)
	}
}
