package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
)

// The fixture study: three sources of two cases, a codebook of two themes,
// and codings by alice, bob and auto.
//
// Sources, in the order Project.Sources lists them (by id), with their
// sentences (code points, half-open):
//
//	p01-diary (Diary 1, case P01): 4 sentences
//	  "Nobody spoke to me." "I felt like an outsider." / "Kath said hello." "It was freezing."
//	p01-int (Interview 1, case P01): 6 sentences
//	  I  [3,21)   "How did you start?"                                  line 1
//	  P  [26,44)  "I joined in March."                                  line 3
//	  P  [45,100) "=HYPERLINK("http://x.example","click") was on the sign."
//	  I  [105,121) "And the weather?"                                   line 5
//	  P  [126,145) "It was -10 degrees."                                line 7
//	  P  [146,160) "We dug anyway."
//	p02-int (Interview 2, case P02, Zoom vtt with timestamps): 4 sentences
//	  Ruth [17,23) "Hello."  [24,41) "Why did you join?"                 00:00:01
//	  Ana  [59,72) "I was lonely."  [73,91) "The garden helped."        00:00:05
//
// Codebook, in file order: belonging (theme) > welcome (sub-theme) >
// first-visit (code); belonging > outsider (code); weather (theme) > cold
// (code) > freezing (child code).
const fixtureCodebook = `name: Garden study
description: Newcomers to a community garden.
themes:
  - id: belonging
    name: Belonging
    definition: Feeling part of the garden.
    subthemes:
      - id: welcome
        name: Welcome
        definition: Being received.
        codes:
          - id: first-visit
            name: First visit
            definition: The first time at the garden.
            when_to_use: Arrival stories.
            examples: ["I joined in March", "first day"]
    codes:
      - id: outsider
        name: Outsider
        definition: Feeling apart.
        colour: "#ff0000"
  - id: weather
    name: Weather
    definition: Talk about the weather.
    codes:
      - id: cold
        name: Cold
        definition: Cold weather.
        when_not_to_use: Cold people.
        codes:
          - id: freezing
            name: Freezing
`

const fixtureInterview1 = "I: How did you start?\n\nP: I joined in March. =HYPERLINK(\"http://x.example\",\"click\") was on the sign.\n\nI: And the weather?\n\nP: It was -10 degrees. We dug anyway.\n"

const fixtureInterview2 = "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\nRuth: Hello. Why did you join?\n\n2\n00:00:05.000 --> 00:00:09.000\nAna: I was lonely. The garden helped.\n"

const fixtureDiary = "---\ncase: P01\n---\n\n## 2025-04-05\n\nNobody spoke to me. I felt like an outsider.\n\n## 2025-04-12\n\nKath said hello. It was freezing.\n"

// fixtureCoding is a coding of the fixture: the nth (0-based) occurrence
// of quote in a source, to a code, by a coder.
type fixtureCoding struct {
	source, quote string
	nth           int
	code, coder   string
	memo          string
}

// fixtureCodings are the codings of the fixture. Labels (A1...) are used in
// the tests' comments.
var fixtureCodings = []fixtureCoding{
	{source: "p01-int", quote: "I joined in March.", code: "first-visit", coder: "alice"},                                      // A1 [26,44)
	{source: "p01-int", quote: `=HYPERLINK("http://x.example","click") was on the sign.`, code: "first-visit", coder: "alice"}, // A2 [45,100)
	{source: "p01-int", quote: "It was -10 degrees.", code: "cold", coder: "alice"},                                            // A3 [126,145)
	{source: "p02-int", quote: "I was lonely.", code: "outsider", coder: "alice"},                                              // A4 [59,72)
	{source: "p01-diary", quote: "I felt like an outsider.", code: "outsider", coder: "alice", memo: "key moment"},             // A5
	{source: "p01-diary", quote: "It was freezing.", code: "freezing", coder: "alice"},                                         // A6
	{source: "p01-int", quote: "joined in March", code: "outsider", coder: "alice"},                                            // A8 [28,43)
	{source: "p01-int", quote: `March. =HYPERLINK("http://x.example","click")`, code: "first-visit", coder: "bob"},             // B1 [38,82)
	{source: "p01-int", quote: "And the weather?\n\nP: It was -10 degrees. We dug anyway.", code: "cold", coder: "bob"},        // B2 [105,160)
	{source: "p02-int", quote: "The garden helped.", code: "welcome", coder: "bob", memo: "hopeful"},                           // B3 [73,91)
	{source: "p02-int", quote: "Hello.", code: "first-visit", coder: "auto"},                                                   // U1 [17,23)
}

// fixture is a project made in a temporary folder.
type fixture struct {
	p       *corpus.Project
	srcs    []*corpus.Source
	cb      *codebook.Codebook
	cases   corpus.Cases
	codings map[string][]analysis.Coding
}

// newFixture makes the fixture project: init, ingest, codebook, codings.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	p, err := corpus.Init(filepath.Join(dir, "study"), "Garden")
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in")
	write := func(name, body string) string {
		path := filepath.Join(in, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cases := write("cases.csv", "case,site,age\nP01,North,30-39\nP02,South,60-69\n")
	i1 := write("P01-int.txt", fixtureInterview1)
	i2 := write("P02-int.vtt", fixtureInterview2)
	d1 := write("diaries/P01-diary.md", fixtureDiary)
	if _, err := p.Ingest([]string{cases, i1, i2}, corpus.IngestOptions{Kind: corpus.KindInterview}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Ingest([]string{d1}, corpus.IngestOptions{Kind: corpus.KindDiary}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Path(corpus.CodebookFile), []byte(fixtureCodebook), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &fixture{p: p}
	if f.cb, err = codebook.Load(p.Path(corpus.CodebookFile)); err != nil {
		t.Fatal(err)
	}
	if f.srcs, err = p.Sources(true); err != nil {
		t.Fatal(err)
	}
	if f.cases, err = corpus.ReadCases(p.Path(corpus.CasesFile)); err != nil {
		t.Fatal(err)
	}
	byID := map[string]*corpus.Source{}
	for _, s := range f.srcs {
		byID[s.ID] = s
	}
	when := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	made := map[string][]analysis.Coding{}
	for _, fc := range fixtureCodings {
		src := byID[fc.source]
		if src == nil {
			t.Fatalf("no source %s", fc.source)
		}
		start, end := findQuote(t, src.Text, fc.quote, fc.nth)
		origin := analysis.OriginManual
		if fc.coder == "auto" {
			origin = "rule:" + fc.code + "/0"
		}
		c, err := analysis.NewCoding(src.ID, src.Text, start, end, fc.code, fc.coder, origin, when)
		if err != nil {
			t.Fatal(err)
		}
		c.Memo = fc.memo
		made[fc.coder] = append(made[fc.coder], c)
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	for coder, cs := range made {
		if err := store.Save(coder, cs); err != nil {
			t.Fatal(err)
		}
	}
	if f.codings, err = store.LoadAll(); err != nil {
		t.Fatal(err)
	}
	return f
}

// findQuote returns the code-point span of the nth occurrence of quote.
func findQuote(t testing.TB, text, quote string, nth int) (int, int) {
	t.Helper()
	from := 0
	for k := 0; ; k++ {
		i := strings.Index(text[from:], quote)
		if i < 0 {
			t.Fatalf("%q not found %d times in %q", quote, nth+1, text)
		}
		if k == nth {
			start := utf8.RuneCountInString(text[:from+i])
			return start, start + utf8.RuneCountInString(quote)
		}
		from += i + len(quote)
	}
}

// study returns the fixture as a Study of the coders' codings.
func (f *fixture) study(coders ...string) *Study {
	var cs []analysis.Coding
	for _, c := range coders {
		cs = append(cs, f.codings[c]...)
	}
	return &Study{Codebook: f.cb, Sources: f.srcs, Cases: f.cases, Citation: f.p.Config.Citation, Codings: cs}
}

// openXLSX writes sheets to a temporary workbook and opens it.
func openXLSX(t *testing.T, sheets []Sheet) (*excelize.File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "out.xlsx")
	if err := WriteXLSX(path, sheets...); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f, path
}

// sheetRows reads a sheet's rows, each padded to width.
func sheetRows(t *testing.T, f *excelize.File, sheet string, width int) [][]string {
	t.Helper()
	rows, err := f.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		for len(rows[i]) < width {
			rows[i] = append(rows[i], "")
		}
	}
	return rows
}

// col returns the index of a header title, failing when absent.
func col(t *testing.T, header []string, title string) int {
	t.Helper()
	i := slices.Index(header, title)
	if i < 0 {
		t.Fatalf("no column %q in %q", title, header)
	}
	return i
}

// pick returns the named columns of rows (the header excluded), joined by |.
func pick(t *testing.T, rows [][]string, titles ...string) []string {
	t.Helper()
	var idx []int
	for _, title := range titles {
		idx = append(idx, col(t, rows[0], title))
	}
	var out []string
	for _, r := range rows[1:] {
		var parts []string
		for _, i := range idx {
			parts = append(parts, r[i])
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

const hyperlinkQuote = `=HYPERLINK("http://x.example","click") was on the sign.`

func TestExtractsWorkbook(t *testing.T) {
	f := newFixture(t)
	x, err := BuildExtracts(f.study("alice", "bob"), ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 10 codings by alice and bob, one extract each.
	if x.Len() != 10 || x.Groups() != 2 {
		t.Fatalf("%d extracts in %d groups, want 10 in 2", x.Len(), x.Groups())
	}
	wb, path := openXLSX(t, x.Sheets())
	if got := wb.GetSheetList(); !slices.Equal(got, []string{"Index", "Belonging", "Weather"}) {
		t.Fatalf("sheets %q", got)
	}

	// The index: the codebook tree, counts under each node (its own
	// extracts and those below it), links to the first extract.
	idx := sheetRows(t, wb, "Index", 7)
	sameLines(t, "index", pick(t, idx, "Theme", "Sub-theme", "Code", "ID", "Extracts", "Sources", "Cases"), []string{
		// belonging: B3, A1, B1, A2 (welcome), A5, A8, A4 (outsider) in 3 sources of 2 cases
		"Belonging|||belonging|7|3|2",
		"|Welcome||welcome|4|2|2",
		"||First visit|first-visit|3|1|1",
		"||Outsider|outsider|3|3|2",
		"Weather|||weather|3|2|1",
		"||Cold|cold|3|2|1",
		"||Cold › Freezing|freezing|1|1|1",
		"All extracts||||10|3|2",
	})
	links := map[string]string{
		"A2": "'Belonging'!A2", // belonging: its first extract, B3 (welcome)
		"B3": "'Belonging'!A2", // welcome
		"C4": "'Belonging'!A3", // first-visit after welcome's own B3
		"C5": "'Belonging'!A6", // outsider after B3, A1, B1, A2
		"A6": "'Weather'!A2",
		"C7": "'Weather'!A2",
		"C8": "'Weather'!A4", // freezing after cold's B2 and A3
	}
	for cell, want := range links {
		ok, target, err := wb.GetCellHyperLink("Index", cell)
		if err != nil || !ok || target != want {
			t.Errorf("Index!%s links to %q (%v, %v), want %q", cell, target, ok, err, want)
		}
	}
	if ok, _, _ := wb.GetCellHyperLink("Index", "A9"); ok {
		t.Errorf("the totals row has a link")
	}

	// The Belonging sheet: codebook order, then source order (p01-diary,
	// p01-int, p02-int), then position.
	bel := sheetRows(t, wb, "Belonging", 17)
	wantHeader := []string{"Theme", "Sub-theme", "Code", "Extract", "Citation", "Source", "Case", "age", "site", "Speaker", "Position", "Coder", "Origin", "Memo"}
	if !slices.Equal(bel[0][:len(wantHeader)], wantHeader) {
		t.Errorf("header %q, want %q", bel[0], wantHeader)
	}
	sameLines(t, "Belonging", pick(t, bel, "Theme", "Sub-theme", "Code", "Extract", "Citation", "Source", "Case", "site", "Speaker", "Position", "Coder", "Memo"), []string{
		"Belonging|Welcome||The garden helped.|(Interview 2)|p02-int|P02|South|Ana|00:00:05|bob|hopeful",
		"Belonging|Welcome|First visit|I joined in March.|(Interview 1)|p01-int|P01|North|P|line 3|alice|",
		`Belonging|Welcome|First visit|March. =HYPERLINK("http://x.example","click")|(Interview 1)|p01-int|P01|North|P|line 3|bob|`,
		"Belonging|Welcome|First visit|" + hyperlinkQuote + "|(Interview 1)|p01-int|P01|North|P|line 3|alice|",
		"Belonging||Outsider|I felt like an outsider.|(Diary 1)|p01-diary|P01|North||line 3|alice|key moment",
		"Belonging||Outsider|joined in March|(Interview 1)|p01-int|P01|North|P|line 3|alice|",
		"Belonging||Outsider|I was lonely.|(Interview 2)|p02-int|P02|South|Ana|00:00:05|alice|",
	})
	// B2 starts in the interviewer's question and runs into the answer.
	wea := sheetRows(t, wb, "Weather", 17)
	sameLines(t, "Weather", pick(t, wea, "Code", "Extract", "Speaker", "Position", "Origin"), []string{
		"Cold|And the weather?\n\nP: It was -10 degrees. We dug anyway.|I|lines 5-7|manual",
		"Cold|It was -10 degrees.|P|line 7|manual",
		"Cold › Freezing|It was freezing.||line 7|manual",
	})
	// Text that looks like a formula stays text.
	for _, cell := range []string{"D5", "D3"} {
		if fm, _ := wb.GetCellFormula("Belonging", cell); fm != "" {
			t.Errorf("Belonging!%s holds the formula %q", cell, fm)
		}
	}
	if v, _ := wb.GetCellValue("Weather", "D3"); v != "It was -10 degrees." {
		t.Errorf("Weather!D3 = %q", v)
	}
	// Frozen header and filters on extract sheets.
	panes, err := wb.GetPanes("Belonging")
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("Belonging panes %+v (%v), want a frozen header", panes, err)
	}
	if m := regexp.MustCompile(`<autoFilter ref="([^"]+)"`).FindStringSubmatch(zipPart(t, path, "xl/worksheets/sheet2.xml")); m == nil || strings.ReplaceAll(m[1], "$", "") != "A1:N8" {
		t.Errorf("Belonging's autofilter %q, want A1:N8", m)
	}
	if w, _ := wb.GetColWidth("Belonging", "D"); w < 50 {
		t.Errorf("Extract column width %v, want a wide column", w)
	}
	st, _ := wb.GetCellStyle("Belonging", "D2")
	if style, err := wb.GetStyle(st); err != nil || style.Alignment == nil || !style.Alignment.WrapText {
		t.Errorf("the Extract column does not wrap")
	}
}

func TestExtractsOptions(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		coders []string
		opts   ExtractOptions
		want   []string // code|extract|coder|position, in table order
	}{
		{
			name:   "merge overlapping codings of a code",
			coders: []string{"alice", "bob"},
			opts:   ExtractOptions{Merge: true},
			want: []string{
				"welcome|The garden helped.|bob|00:00:05",
				// A1 [26,44), B1 [38,82) and A2 [45,100) overlap in a run.
				"first-visit|I joined in March. " + hyperlinkQuote + "|alice, bob|line 3",
				"outsider|I felt like an outsider.|alice|line 3",
				"outsider|joined in March|alice|line 3",
				"outsider|I was lonely.|alice|00:00:05",
				// B2 [105,160) holds A3 [126,145).
				"cold|And the weather?\n\nP: It was -10 degrees. We dug anyway.|bob, alice|lines 5-7",
				"freezing|It was freezing.|alice|line 7",
			},
		},
		{
			name:   "participants' words only",
			coders: []string{"bob", "auto"},
			opts:   ExtractOptions{Roles: []string{corpus.RoleParticipant}},
			want: []string{
				"welcome|The garden helped.|bob|00:00:05",
				// U1 "Hello." is the interviewer's: left out.
				"first-visit|March. =HYPERLINK(\"http://x.example\",\"click\")|bob|line 3",
				// B2 is cut to the answer.
				"cold|It was -10 degrees. We dug anyway.|bob|line 7",
			},
		},
		{
			name:   "interviewer's words only",
			coders: []string{"bob", "auto"},
			opts:   ExtractOptions{Roles: []string{corpus.RoleInterviewer}},
			want: []string{
				"first-visit|Hello.|auto|00:00:01",
				"cold|And the weather?|bob|line 5",
			},
		},
		{
			name:   "at least 4 words",
			coders: []string{"alice"},
			opts:   ExtractOptions{MinWords: 4},
			want: []string{
				"first-visit|I joined in March.|alice|line 3",
				"first-visit|" + hyperlinkQuote + "|alice|line 3",
				"outsider|I felt like an outsider.|alice|line 3",
				"cold|It was -10 degrees.|alice|line 7",
				// "joined in March" (3), "I was lonely." (3), "It was freezing." (3) are too short.
			},
		},
		{
			name:   "auto only",
			coders: []string{"auto"},
			want:   []string{"first-visit|Hello.|auto|00:00:01"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x, err := BuildExtracts(f.study(tc.coders...), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range x.items {
				got = append(got, strings.Join([]string{e.code, e.text, e.coder, e.position}, "|"))
			}
			sameLines(t, "extracts", got, tc.want)
		})
	}
}

func TestExtractsGrouping(t *testing.T) {
	f := newFixture(t)
	st := f.study("alice", "bob")
	st.Codings = append(st.Codings, analysis.Coding{ID: "x1", Source: "p02-int", Start: 24, End: 41, Quote: "Why did you join?", Code: "motive", Coder: "carol", Origin: "manual"},
		analysis.Coding{ID: "x2", Source: "p02-int", Start: 59, End: 72, Quote: "I was lonely.", Code: "outsider", Coder: "carol", Origin: "manual", Orphan: true},
		analysis.Coding{ID: "x3", Source: "gone", Start: 0, End: 4, Quote: "Gone", Code: "cold", Coder: "carol", Origin: "manual"})
	for _, tc := range []struct {
		by     string
		sheets []string
		rows   []int // data rows per sheet after the index
	}{
		// Orphaned x2 and x3 of an unknown source are left out; "motive" is not in the codebook.
		{ByTheme, []string{"Index", "Belonging", "Weather", "Not in the codebook"}, []int{7, 3, 1}},
		// Outsider lies under no sub-theme: it stays on its theme's sheet.
		{BySubtheme, []string{"Index", "Welcome", "Belonging", "Weather", "Not in the codebook"}, []int{4, 3, 3, 1}},
		{ByCode, []string{"Index", "Welcome", "First visit", "Outsider", "Cold", "Freezing", "Not in the codebook"}, []int{1, 3, 3, 2, 1, 1}},
	} {
		t.Run(tc.by, func(t *testing.T) {
			x, err := BuildExtracts(st, ExtractOptions{By: tc.by})
			if err != nil {
				t.Fatal(err)
			}
			wb, _ := openXLSX(t, x.Sheets())
			if got := wb.GetSheetList(); !slices.Equal(got, tc.sheets) {
				t.Fatalf("sheets %q, want %q", got, tc.sheets)
			}
			for i, n := range tc.rows {
				rows, _ := wb.GetRows(tc.sheets[i+1])
				if len(rows)-1 != n {
					t.Errorf("%s has %d rows, want %d", tc.sheets[i+1], len(rows)-1, n)
				}
			}
			idx := sheetRows(t, wb, "Index", 7)
			last := idx[len(idx)-2]
			if got := strings.Join(last, "|"); got != "(not in the codebook)||motive|motive|1|1|1" {
				t.Errorf("index row of the unknown code: %q", got)
			}
			ok, target, _ := wb.GetCellHyperLink("Index", "C"+strconv.Itoa(len(idx)-1))
			if !ok || target != "'Not in the codebook'!A2" {
				t.Errorf("unknown code links to %q", target)
			}
		})
	}
	if _, err := BuildExtracts(st, ExtractOptions{By: "case"}); err == nil {
		t.Error("By case: no error")
	}
	if _, err := BuildExtracts(st, ExtractOptions{Roles: []string{"boss"}}); err == nil {
		t.Error("role boss: no error")
	}
}

// TestExtractsFormulaSafety sends a participant's "=HYPERLINK(...)" and
// "-10 degrees" through the extracts export to xlsx and CSV and reads them
// back: text in the workbook, quoted in the CSV.
func TestExtractsFormulaSafety(t *testing.T) {
	f := newFixture(t)
	st := f.study("alice")
	st.Codings = slices.DeleteFunc(slices.Clone(st.Codings), func(c analysis.Coding) bool {
		return !strings.HasPrefix(c.Quote, "=") && !strings.Contains(c.Quote, "-10")
	})
	x, err := BuildExtracts(st, ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	xlsxPath, csvPath := filepath.Join(dir, "x.xlsx"), filepath.Join(dir, "x.csv")
	if err := WriteDocument(xlsxPath, FormatXLSX, x); err != nil {
		t.Fatal(err)
	}
	if err := WriteDocument(csvPath, FormatCSV, x); err != nil {
		t.Fatal(err)
	}
	wb, err := excelize.OpenFile(xlsxPath)
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	for sheet, want := range map[string]string{"Belonging": hyperlinkQuote, "Weather": "It was -10 degrees."} {
		v, _ := wb.GetCellValue(sheet, "D2")
		fm, _ := wb.GetCellFormula(sheet, "D2")
		typ, _ := wb.GetCellType(sheet, "D2")
		if v != want || fm != "" || typ == excelize.CellTypeFormula {
			t.Errorf("%s!D2 = %q (formula %q, type %v), want the text %q", sheet, v, fm, typ, want)
		}
	}
	data, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs[1:] {
		got = append(got, r[3])
	}
	sameLines(t, "CSV extracts", got, []string{"'" + hyperlinkQuote, "It was -10 degrees."})
	// Speaker text starting with "-" would get the quote too; the negative
	// number inside a sentence does not.
	if !bytes.Contains(data, []byte(`"'=HYPERLINK(""http://x.example"",""click"") was on the sign."`)) {
		t.Errorf("CSV lacks the quoted formula-like cell:\n%s", data)
	}
}

func TestExtractsCSVAndJSON(t *testing.T) {
	f := newFixture(t)
	x, err := BuildExtracts(f.study("alice", "bob"), ExtractOptions{Merge: true})
	if err != nil {
		t.Fatal(err)
	}
	var csvBuf, jsonBuf bytes.Buffer
	if err := EncodeDocument(&csvBuf, FormatCSV, x); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(csvBuf.Bytes(), []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "Theme,Sub-theme,Code,Extract,Citation,Source,Case,age,site,Speaker,Position,Coder,Origin,Memo" {
		t.Errorf("CSV header %s", got)
	}
	if len(recs) != 8 {
		t.Fatalf("%d CSV records, want a header and 7 extracts", len(recs))
	}
	if got := strings.Join(recs[2], "|"); got != "Belonging|Welcome|First visit|I joined in March. "+hyperlinkQuote+"|(Interview 1)|p01-int|P01|30-39|North|P|line 3|alice, bob|manual|" {
		t.Errorf("CSV row 2: %s", got)
	}
	if err := EncodeDocument(&jsonBuf, FormatJSON, x); err != nil {
		t.Fatal(err)
	}
	var recsJSON []map[string]any
	if err := json.Unmarshal(jsonBuf.Bytes(), &recsJSON); err != nil {
		t.Fatal(err)
	}
	if len(recsJSON) != 7 {
		t.Fatalf("%d JSON records", len(recsJSON))
	}
	r := recsJSON[0]
	if r["code"] != "" || r["subtheme"] != "Welcome" || r["extract"] != "The garden helped." || r["citation"] != "(Interview 2)" || r["site"] != "South" || r["memo"] != "hopeful" || r["position"] != "00:00:05" {
		t.Errorf("JSON record 0: %v", r)
	}
}

func TestExtractsMarkdownGolden(t *testing.T) {
	f := newFixture(t)
	st := f.study("alice", "bob")
	st.Codings = append(st.Codings, analysis.Coding{ID: "x1", Source: "p02-int", Start: 24, End: 41, Quote: "Why did you join?", Code: "motive", Coder: "carol", Origin: "manual"})
	x, err := BuildExtracts(st, ExtractOptions{Merge: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := EncodeDocument(&buf, FormatMarkdown, x); err != nil {
		t.Fatal(err)
	}
	golden(t, "extracts_findings.md", buf.Bytes())
}

func TestExtractsEmpty(t *testing.T) {
	f := newFixture(t)
	x, err := BuildExtracts(f.study(), ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := openXLSX(t, x.Sheets())
	if got := wb.GetSheetList(); !slices.Equal(got, []string{"Index"}) {
		t.Errorf("sheets %q, want the index alone", got)
	}
	idx := sheetRows(t, wb, "Index", 7)
	if got := strings.Join(idx[len(idx)-1], "|"); got != "All extracts||||0|0|0" {
		t.Errorf("totals %q", got)
	}
	var buf bytes.Buffer
	if err := EncodeDocument(&buf, FormatMarkdown, x); err != nil || buf.String() != "# Garden study\n" {
		t.Errorf("markdown %q (%v)", buf.String(), err)
	}
	if err := EncodeDocument(&buf, "pdf", x); err == nil {
		t.Error("format pdf: no error")
	}
}

// TestExtractsAttributeKeys checks that an attribute named like a fixed
// column gets its own JSON key.
func TestExtractsAttributeKeys(t *testing.T) {
	f := newFixture(t)
	st := f.study("bob")
	st.Cases = corpus.Cases{"P01": {"speaker": "x", "Case": "y"}, "P02": {"speaker": "z"}}
	x, err := BuildExtracts(st, ExtractOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := EncodeDocument(&buf, FormatJSON, x); err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &recs); err != nil {
		t.Fatal(err)
	}
	if r := recs[0]; r["attr_speaker"] != "z" || r["speaker"] != "Ana" {
		t.Errorf("record %v, want attr_speaker z and speaker Ana", r)
	}
}

// libreOffice has LibreOffice, an independent reader, open each workbook
// and save every sheet as CSV, the text as shown (number formats applied);
// it returns the records by file name and sheet ("name-Sheet"). It skips
// the test when LibreOffice is missing or with -short. One run converts
// all the files, as starting LibreOffice takes most of the time.
func libreOffice(t *testing.T, paths ...string) map[string][][]string {
	t.Helper()
	bin, err := exec.LookPath("soffice")
	if err != nil {
		if bin, err = exec.LookPath("libreoffice"); err != nil {
			t.Skip("LibreOffice not installed")
		}
	}
	if testing.Short() {
		t.Skip("LibreOffice conversion is slow; skipped with -short")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	profile := "file://" + filepath.ToSlash(filepath.Join(dir, "profile"))
	// Comma, double quotes, UTF-8, from line 1, text quoted, cells as
	// shown, every sheet (-1) to a file of its own.
	filter := "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,true,true,true,false,false,-1"
	args := append([]string{"-env:UserInstallation=" + profile, "--headless", "--convert-to", filter, "--outdir", out}, paths...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("LibreOffice failed: %v\n%s", err, msg)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][][]string{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(out, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil {
			t.Fatalf("LibreOffice's %s: %v\n%s", e.Name(), err, data)
		}
		got[strings.TrimSuffix(e.Name(), ".csv")] = recs
	}
	return got
}

// TestLibreOffice has LibreOffice read the workbook of every export and
// checks what it shows.
func TestLibreOffice(t *testing.T) {
	f := newFixture(t)
	st := f.study("alice", "bob")
	dir := t.TempDir()
	write := func(name string, d Document, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".xlsx")
		if err := WriteDocument(path, FormatXLSX, d); err != nil {
			t.Fatal(err)
		}
		return path
	}
	x, err := BuildExtracts(st, ExtractOptions{})
	xp := write("extracts", x, err)
	mx, err := BuildMatrix(st, MatrixOptions{Cell: CellPercent})
	mp := write("matrix", mx, err)
	co, err := BuildCooccurrence(st, CooccurrenceOptions{})
	cp := write("cooccurrence", co, err)
	cb := write("codebook", BuildCodebookTable(st), nil)
	got := libreOffice(t, xp, mp, cp, cb)
	check := func(t *testing.T, sheet string, want []string) {
		t.Helper()
		recs, ok := got[sheet]
		if !ok {
			t.Fatalf("LibreOffice wrote no %s (it wrote %d files)", sheet, len(got))
		}
		sameLines(t, sheet, joinRecs(recs), want)
	}
	t.Run("extracts", func(t *testing.T) {
		check(t, "extracts-Index", []string{
			"Theme|Sub-theme|Code|ID|Extracts|Sources|Cases",
			"Belonging|||belonging|7|3|2",
			"|Welcome||welcome|4|2|2",
			"||First visit|first-visit|3|1|1",
			"||Outsider|outsider|3|3|2",
			"Weather|||weather|3|2|1",
			"||Cold|cold|3|2|1",
			"||Cold › Freezing|freezing|1|1|1",
			"All extracts||||10|3|2",
		})
		recs := got["extracts-Belonging"]
		if len(recs) != 8 || recs[4][3] != hyperlinkQuote || recs[4][4] != "(Interview 1)" {
			t.Errorf("LibreOffice's Belonging sheet: %q", recs)
		}
		if recs := got["extracts-Weather"]; len(recs) != 4 || recs[2][3] != "It was -10 degrees." {
			t.Errorf("LibreOffice's Weather sheet: %q", recs)
		}
	})
	t.Run("matrix", func(t *testing.T) {
		check(t, "matrix-Matrix", []string{
			"Case|Belonging|Weather|Total",
			"P01|30.0%|40.0%|70.0%",
			"P02|50.0%|0.0%|50.0%",
			"Total|35.7%|28.6%|64.3%",
		})
	})
	t.Run("cooccurrence", func(t *testing.T) {
		check(t, "cooccurrence-Jaccard", []string{
			"Code|First visit|Outsider|Cold|Cold › Freezing",
			"First visit|1.00|0.25|0.00|0.00",
			"Outsider|0.25|1.00|0.00|0.00",
			"Cold|0.00|0.00|1.00|0.25",
			"Cold › Freezing|0.00|0.00|0.25|1.00",
		})
	})
	t.Run("codebook", func(t *testing.T) {
		recs := got["codebook-Codebook"]
		if len(recs) != 8 || strings.Join(recs[3], "|") != "Belonging|Welcome|First visit|first-visit|The first time at the garden.|Arrival stories.||I joined in March\nfirst day||3|1|1" {
			t.Errorf("LibreOffice's codebook: %q", recs)
		}
	})
}

// BenchmarkExtractsXLSX100k exports 100,000 codings (over 200 sources) to
// an xlsx workbook, building the extracts included. For peak memory:
//
//	go test -c -o export.test ./export/
//	/usr/bin/time -v ./export.test -test.run '^$' -test.bench ExtractsXLSX100k -test.benchtime 1x
func BenchmarkExtractsXLSX100k(b *testing.B) {
	st := benchStudy(b, 200, 100000)
	path := filepath.Join(b.TempDir(), "bench.xlsx")
	b.ReportAllocs()
	for b.Loop() {
		x, err := BuildExtracts(st, ExtractOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteDocument(path, FormatXLSX, x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(100000, "codings/op")
}

// benchStudy makes a study of nsrc interview sources of 60 turns each and
// n codings of sentences spread over the codes of a 3-theme codebook.
func benchStudy(b *testing.B, nsrc, n int) *Study {
	b.Helper()
	var yml strings.Builder
	yml.WriteString("themes:\n")
	var codes []string
	for t := 1; t <= 3; t++ {
		yml.WriteString("  - id: t" + strconv.Itoa(t) + "\n    name: Theme " + strconv.Itoa(t) + "\n    subthemes:\n")
		for s := 1; s <= 2; s++ {
			id := "t" + strconv.Itoa(t) + "s" + strconv.Itoa(s)
			yml.WriteString("      - id: " + id + "\n        name: Sub " + id + "\n        codes:\n")
			for c := 1; c <= 4; c++ {
				cid := id + "c" + strconv.Itoa(c)
				codes = append(codes, cid)
				yml.WriteString("          - id: " + cid + "\n            name: Code " + cid + "\n            definition: A code.\n")
			}
		}
	}
	cb, probs := codebook.Parse("bench.yaml", []byte(yml.String()))
	if len(probs) > 0 {
		b.Fatal(probs[0])
	}
	st := &Study{Codebook: cb, Cases: corpus.Cases{}, Citation: "({Kind} {n})"}
	sentence := "I suppose it's about where the role starts and stops, and who decides that, really."
	type sent struct{ start, end int }
	var sents []sent
	for i := range nsrc {
		var text strings.Builder
		var segs []corpus.Segment
		sents = sents[:0]
		pos, line := 0, 1
		for t := 1; t <= 60; t++ {
			label := "P: "
			if t%2 == 1 {
				label = "I: "
			}
			text.WriteString(label)
			pos += 3
			start := pos
			for s := 0; s < 3; s++ {
				if s > 0 {
					text.WriteString(" ")
					pos++
				}
				text.WriteString(sentence)
				sents = append(sents, sent{pos, pos + len(sentence)})
				pos += len(sentence)
			}
			role := corpus.RoleParticipant
			if t%2 == 1 {
				role = corpus.RoleInterviewer
			}
			segs = append(segs, corpus.Segment{ID: "t" + strconv.Itoa(t), Unit: corpus.UnitTurn, Start: start, End: pos, Line: line, EndLine: line, Speaker: label[:1], Role: role})
			text.WriteString("\n\n")
			pos += 2
			line += 2
		}
		case_ := "P" + strconv.Itoa(i%40+1)
		st.Cases[case_] = map[string]string{"site": "North", "wave": strconv.Itoa(i%3 + 1)}
		src := &corpus.Source{ID: "s" + strconv.Itoa(i), Kind: corpus.KindInterview, Case: case_, Number: i + 1, Text: text.String(), Segments: segs}
		st.Sources = append(st.Sources, src)
		for k := 0; k < n/nsrc; k++ {
			s := sents[k%len(sents)]
			st.Codings = append(st.Codings, analysis.Coding{ID: strconv.Itoa(len(st.Codings)), Source: src.ID, Start: s.start, End: s.end,
				Quote: sentence, Code: codes[(k+i)%len(codes)], Coder: "alice", Origin: "manual"})
		}
	}
	return st
}

// FuzzExports adds one coding with arbitrary offsets, code and quote (as a
// hand-edited codings file could hold) to the fixture and writes every
// export in every format: none may fail or panic.
func FuzzExports(f *testing.F) {
	fx := newFixture(f)
	f.Add("p01-int", 26, 44, "first-visit", "I joined in March.", false, false)
	f.Add("p01-int", -5, 3, "weather", "", true, true)
	f.Add("p02-int", 80, 9999, "nope", "=1+1", true, false)
	f.Add("p01-diary", 10, 10, "welcome", "x", false, true)
	f.Add("gone", 0, 1, "cold", "\x00\xff", true, true)
	f.Fuzz(func(t *testing.T, source string, start, end int, code, quote string, roles, merge bool) {
		st := fx.study("alice", "bob", "auto")
		st.Codings = append(slices.Clone(st.Codings), analysis.Coding{ID: "fuzz", Source: source, Start: start, End: end,
			Quote: quote, Code: code, Coder: "fuzz", Origin: "manual"})
		opts := ExtractOptions{Merge: merge}
		if roles {
			opts.Roles = []string{corpus.RoleParticipant}
		}
		var docs []Document
		x, err := BuildExtracts(st, opts)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, x, BuildCodebookTable(st))
		for _, cell := range []string{CellSegments, CellWords, CellPercent, CellExtracts} {
			mx, err := BuildMatrix(st, MatrixOptions{Rows: "attr:site", Cols: "subtheme", Cell: cell})
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, mx)
		}
		co, err := BuildCooccurrence(st, CooccurrenceOptions{Unit: corpus.UnitParagraph})
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, co)
		for _, d := range docs {
			for _, format := range []string{FormatXLSX, FormatCSV, FormatJSON, FormatMarkdown} {
				if err := EncodeDocument(io.Discard, format, d); err != nil {
					t.Fatalf("%T as %s: %v", d, format, err)
				}
			}
		}
	})
}
