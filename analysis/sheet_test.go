package analysis

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/thematic-qda/thematic/corpus"
)

func TestParseSheetMark(t *testing.T) {
	for _, tc := range []struct {
		cell       string
		marked, ok bool
	}{
		{"", false, true},
		{"   ", false, true},
		{"\n", false, true},
		{"x", true, true},
		{"X", true, true},
		{" x ", true, true},
		{"1", true, true},
		{"yes", true, true},
		{"YES", true, true},
		{"Yes", true, true},
		{"✓", true, true},
		{"✔", true, true},
		{"no", false, false},
		{"0", false, false},
		{"xx", false, false},
		{"x x", false, false},
		{"?", false, false},
		{"✗", false, false},
		{"TRUE", false, false},
		{"1.0", false, false},
	} {
		marked, ok := ParseSheetMark(tc.cell)
		if marked != tc.marked || ok != tc.ok {
			t.Errorf("ParseSheetMark(%q) = %v, %v; want %v, %v", tc.cell, marked, ok, tc.marked, tc.ok)
		}
	}
}

func TestParseSheetDecision(t *testing.T) {
	for _, tc := range []struct {
		cell, want string
		ok         bool
	}{
		{"", "", true},
		{" ", "", true},
		{"accept", DecisionAccept, true},
		{"Accept ", DecisionAccept, true},
		{"REJECT", DecisionReject, true},
		{"correct", DecisionCorrect, true},
		{"corrected", "", false},
		{"yes", "", false},
		{"x", "", false},
	} {
		got, ok := ParseSheetDecision(tc.cell)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseSheetDecision(%q) = %q, %v; want %q, %v", tc.cell, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseSheetKey(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want SheetKey
		err  string
	}{
		{in: "p01:t3.p1.s2", want: SheetKey{Source: "p01", Segment: "t3.p1.s2"}},
		{in: " p01-wave1:e4 ", want: SheetKey{Source: "p01-wave1", Segment: "e4"}},
		{in: "P_01.x:t1", want: SheetKey{Source: "P_01.x", Segment: "t1"}},
		{in: "p01@0-5#limits", want: SheetKey{Source: "p01", Start: 0, End: 5, Code: "limits"}},
		{in: "a.b_c@12-130#x.y-z", want: SheetKey{Source: "a.b_c", Start: 12, End: 130, Code: "x.y-z"}},
		{in: "", err: "is empty"},
		{in: "p01", err: "is neither"},
		{in: ":t1", err: "invalid source id"},
		{in: "-p01:t1", err: "invalid source id"},
		{in: "p 01:t1", err: "invalid source id"},
		{in: "p01:", err: "invalid segment id"},
		{in: "p01:t1:x", err: "invalid segment id"},
		{in: "p01@5-5#c", err: "end not after its start"},
		{in: "p01@9-5#c", err: "end not after its start"},
		{in: "p01@05-9#c", err: "not a whole number"},
		{in: "p01@1-+9#c", err: "not a whole number"},
		{in: "p01@-1-5#c", err: "not a whole number"},
		{in: "p01@1-5", err: "no '#'"},
		{in: "p01@1_5#c", err: "no '-'"},
		{in: "p01@1-5#", err: "invalid code id"},
		{in: "p01@1-5#a b", err: "invalid code id"},
		{in: "@1-5#c", err: "invalid source id"},
		{in: "p01@1-99999999999999999999#c", err: "not a whole number"},
	} {
		got, err := ParseSheetKey(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseSheetKey(%q) = %+v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
		case err != nil || got != tc.want:
			t.Errorf("ParseSheetKey(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		case got.String() != strings.TrimSpace(tc.in):
			t.Errorf("key %q written back as %q", tc.in, got.String())
		}
	}
}

func TestColumnName(t *testing.T) {
	for col, want := range map[int]string{0: "A", 4: "E", 25: "Z", 26: "AA", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA", 16383: "XFD"} {
		if got := columnName(col); got != want {
			t.Errorf("columnName(%d) = %q, want %q", col, got, want)
		}
	}
}

func TestRowRanges(t *testing.T) {
	for _, tc := range []struct {
		rows []int
		want string
	}{
		{[]int{3}, "3"},
		{[]int{3, 4, 5}, "3-5"},
		{[]int{9, 3, 4, 12, 13, 7}, "3-4, 7, 9, 12-13"},
		{[]int{5, 5, 6}, "5-6"},
	} {
		if got := rowRanges(tc.rows); got != tc.want {
			t.Errorf("rowRanges(%v) = %q, want %q", tc.rows, got, tc.want)
		}
	}
}

func TestSheetContext(t *testing.T) {
	// Sentences at 0-10, 11-20 and 30-40 (a gap, as a label line would leave).
	segs := []corpus.Segment{{ID: "a", Start: 0, End: 10}, {ID: "b", Start: 11, End: 20}, {ID: "c", Start: 30, End: 40}}
	for _, tc := range []struct {
		start, end, from, to int
		first                string
	}{
		{2, 5, 0, 10, "a"},    // inside one sentence
		{0, 10, 0, 10, "a"},   // exactly one
		{8, 13, 0, 20, "a"},   // across two
		{10, 11, 10, 11, ""},  // between them: the coding alone
		{22, 25, 22, 25, ""},  // in the gap
		{18, 32, 11, 40, "b"}, // across the gap
		{39, 45, 30, 45, "c"}, // past the last
		{50, 60, 50, 60, ""},  // after all
	} {
		from, to, first := SheetContext(segs, tc.start, tc.end)
		id := ""
		if first != nil {
			id = first.ID
		}
		if from != tc.from || to != tc.to || id != tc.first {
			t.Errorf("SheetContext(%d, %d) = %d, %d, %q; want %d, %d, %q", tc.start, tc.end, from, to, id, tc.from, tc.to, tc.first)
		}
	}
}

func TestSheetAboutRoundTrip(t *testing.T) {
	a := &SheetAbout{
		Mode: SheetModeReview, Project: "A study", Coder: "bob", From: "alice", Unit: corpus.UnitParagraph,
		Roles: []string{"participant", "other"}, Codes: []string{"limits", "saying-no"},
		Sources: []SheetSource{{ID: "p01", SHA: strings.Repeat("ab", 32)}, {ID: "p02", SHA: strings.Repeat("0", 64)}},
		Created: time.Date(2026, 3, 1, 14, 5, 0, 0, time.UTC),
	}
	got, probs := ParseSheetAbout(a.Rows())
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	for i := range got.Sources {
		got.Sources[i].row = 0
	}
	if !reflect.DeepEqual(got, a) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, a)
	}
}

func TestParseSheetAboutProblems(t *testing.T) {
	good := func() [][]string {
		return [][]string{
			{SheetFormat, SheetVersion}, {"mode", "codes"}, {"coder", "bob"}, {"unit", "sentence"},
			{"source", "p01", strings.Repeat("a", 64)},
		}
	}
	for _, tc := range []struct {
		name string
		edit func(rows [][]string) [][]string
		want string
	}{
		{"empty", func([][]string) [][]string { return nil }, `About!A1: not a coding sheet`},
		{"other format", func(r [][]string) [][]string { r[0][0] = "Sheet"; return r }, `About!A1: not a coding sheet`},
		{"newer version", func(r [][]string) [][]string { r[0][1] = "2"; return r }, `About!B1: sheet layout version "2"`},
		{"unknown field", func(r [][]string) [][]string { return append(r, []string{"colour", "red"}) }, `About!A6: unknown field "colour"`},
		{"field twice", func(r [][]string) [][]string { return append(r, []string{"coder", "carol"}) }, `About!A6: field "coder" is given twice (also on row 3)`},
		{"bad mode", func(r [][]string) [][]string { r[1][1] = "both"; return r }, `About!B2: mode "both"`},
		{"bad coder", func(r [][]string) [][]string { r[2][1] = "Bob"; return r }, `About!B3: coder name "Bob" has upper-case letters`},
		{"bad unit", func(r [][]string) [][]string { r[3][1] = "word"; return r }, `About!B4: unit "word"`},
		{"bad sha", func(r [][]string) [][]string { r[4][2] = "abc"; return r }, `About!C5: invalid sha256 "abc"`},
		{"source twice", func(r [][]string) [][]string { return append(r, r[4]) }, `About!B6: source "p01" is listed twice (also on row 5)`},
		{"no coder", func(r [][]string) [][]string { return slices.Delete(r, 2, 3) }, `About: the field "coder" is missing`},
		{"no sources", func(r [][]string) [][]string { return r[:4] }, `About: no source is listed`},
		{"review without from", func(r [][]string) [][]string { r[1][1] = "review"; return r }, `About: a review sheet lacks the field "from"`},
	} {
		_, probs := ParseSheetAbout(tc.edit(good()))
		var got []string
		for _, p := range probs {
			got = append(got, p.String())
		}
		if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, tc.want) }) {
			t.Errorf("%s: problems %q; want one starting %q", tc.name, got, tc.want)
		}
	}
	if _, probs := ParseSheetAbout(good()); len(probs) > 0 {
		t.Errorf("good About: %v", probs)
	}
}

// sheetTestSource is an interview with two participant sentences and an
// interviewer's question.
func sheetTestSource(t testing.TB) *corpus.Source {
	t.Helper()
	text := "I: Why?\nP: Because I can. Naïve, maybe 😀.\n"
	segs, _ := corpus.Segments(corpus.Document{Text: text}, corpus.KindInterview, nil)
	return &corpus.Source{ID: "p01", Kind: corpus.KindInterview, Text: text, SHA: corpus.HashText(text), Segments: segs}
}

// testGrid is a coding sheet's cells, row by row.
type testGrid struct {
	About, Coding [][]string
}

// data is the grid as a workbook reader gives it to ImportSheet.
func (g *testGrid) data() *SheetData {
	d := &SheetData{About: g.About}
	for _, r := range g.Coding {
		d.Coding.Add(r)
	}
	return d
}

// codesGrid is a filled-in codes sheet of sheetTestSource's sentences, with
// the code columns limits and naivety.
func codesGrid(src *corpus.Source) *testGrid {
	about := &SheetAbout{Mode: SheetModeCodes, Project: "t", Coder: "bob", Unit: corpus.UnitSentence,
		Codes: []string{"limits", "naivety"}, Sources: []SheetSource{{ID: src.ID, SHA: src.SHA}}}
	return &testGrid{
		About: about.Rows(),
		Coding: [][]string{
			{"Key", "Citation", "Speaker", "Line", "Text", "limits", "naivety"},
			{SheetNamesMarker, "", "", "", "", "Setting limits", "Feeling naive"},
			{"p01:t1.p1.s1", "(Interview 1)", "I", "1", "Why?"},
			{"p01:t2.p1.s1", "(Interview 1)", "P", "2", "Because I can.", "x"},
			// decomposed ï, as some editors save it: equal after NFC
			{"p01:t2.p1.s2", "(Interview 1)", "P", "2", "Nai\u0308ve, maybe 😀.", "", "X"},
			{},
		},
	}
}

// sourcesByID serves srcs to an import (SheetImportOptions.Source).
func sourcesByID(srcs ...*corpus.Source) func(id string) (*corpus.Source, error) {
	return func(id string) (*corpus.Source, error) {
		for _, s := range srcs {
			if s.ID == id {
				return s, nil
			}
		}
		return nil, nil
	}
}

func sheetOpts(src *corpus.Source) SheetImportOptions {
	return SheetImportOptions{
		File:   "s.xlsx",
		Source: sourcesByID(src),
		Known:  func(c string) bool { return c == "limits" || c == "naivety" },
		Time:   time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
	}
}

func TestImportSheetGrid(t *testing.T) {
	src := sheetTestSource(t)
	imp, err := ImportSheet(codesGrid(src).data(), sheetOpts(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range imp.Codings {
		got = append(got, fmt.Sprintf("%s %d-%d %s %q %s", c.Segment, c.Start, c.End, c.Code, c.Quote, c.Origin))
	}
	// "I: Why?\nP: " is 11 code points; "Because I can." 14; then a space.
	want := []string{
		`t2.p1.s1 11-25 limits "Because I can." sheet`,
		`t2.p1.s2 26-41 naivety "Naïve, maybe 😀." sheet`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("codings\n%q\nwant\n%q", got, want)
	}
	if imp.Rows != 3 || imp.Missing != 0 {
		t.Errorf("rows %d, missing %d; want 3, 0", imp.Rows, imp.Missing)
	}
}

// Every problem of a sheet is reported at once, in sheet order.
func TestImportSheetAllProblems(t *testing.T) {
	src := sheetTestSource(t)
	d := codesGrid(src)
	d.Coding[0] = append(d.Coding[0], "ghost")
	d.Coding[2] = append(d.Coding[2], "no", "", "x")               // row 3: bad mark in F
	d.Coding[3][4] = "Because I can!"                              // row 4: text edited
	d.Coding[4][0] = "p01:t2.p1.s9"                                // row 5: key not found
	d.Coding = append(d.Coding, []string{"", "", "", "", "", "x"}) // row 7: no key
	_, err := ImportSheet(d.data(), sheetOpts(src))
	var se *SheetError
	if !errors.As(err, &se) {
		t.Fatalf("got %v, want a *SheetError", err)
	}
	var got []string
	for _, p := range se.Problems {
		got = append(got, p.String())
	}
	want := []string{
		`Coding!H1: unknown code "ghost" (a code column is headed by a code id of the codebook; see the Codebook sheet)`,
		`Coding!F3: unknown mark "no" (mark a code with x, or leave the cell empty)`,
		`Coding!E4: text differs from segment p01:t2.p1.s1 at character 14 (the source has ".")`,
		`Coding!A5: key "p01:t2.p1.s9": source "p01" has no segment "t2.p1.s9" (key not found)`,
		`Coding!A7: the row has no key: rows cannot be added to a coding sheet (mark an exported row instead)`,
	}
	for i := range want {
		if i >= len(got) || !strings.HasPrefix(got[i], want[i]) {
			t.Fatalf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	if msg := se.Error(); !strings.HasPrefix(msg, `s.xlsx: Coding!H1: unknown code "ghost"`) || !strings.HasSuffix(msg, "(and 4 more problems); nothing was imported") {
		t.Errorf("Error() = %q", msg)
	}
}

func TestImportSheetCoder(t *testing.T) {
	src := sheetTestSource(t)
	for _, tc := range []struct {
		coder, want, err string
	}{
		{"", "bob", ""},
		{"carol", "carol", ""},
		{"Carol", "", "upper-case"},
		{AutoCoder, "", "belongs to 'thematic autocode'"},
	} {
		opts := sheetOpts(src)
		opts.Coder = tc.coder
		imp, err := ImportSheet(codesGrid(src).data(), opts)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("coder %q: got %v, want an error with %q", tc.coder, err, tc.err)
			}
		case err != nil:
			t.Errorf("coder %q: %v", tc.coder, err)
		case imp.Coder != tc.want || imp.Codings[0].Coder != tc.want:
			t.Errorf("coder %q: imported as %q", tc.coder, imp.Coder)
		}
	}
}

// A codes sheet missing a row counts the segment as missing; a sheet
// without the second header row is refused.
func TestImportSheetRowsRemoved(t *testing.T) {
	src := sheetTestSource(t)
	d := codesGrid(src)
	d.Coding = slices.Delete(d.Coding, 2, 3)
	imp, err := ImportSheet(d.data(), sheetOpts(src))
	if err != nil || imp.Missing != 1 {
		t.Errorf("got %+v, %v; want 1 missing segment", imp, err)
	}
	d = codesGrid(src)
	d.Coding = slices.Delete(d.Coding, 1, 2)
	if _, err := ImportSheet(d.data(), sheetOpts(src)); err == nil || !strings.Contains(err.Error(), "Coding!A2: the second header row is missing") {
		t.Errorf("got %v", err)
	}
}

func TestSheetImportMerge(t *testing.T) {
	src := sheetTestSource(t)
	imp, err := ImportSheet(codesGrid(src).data(), sheetOpts(src))
	if err != nil {
		t.Fatal(err)
	}
	mk := func(source, code string, start int) Coding {
		return Coding{ID: fmt.Sprint(source, code, start), Source: source, Start: start, End: start + 1, Code: code, Coder: "bob"}
	}
	old := []Coding{
		mk("p01", "limits", 0),  // in scope: replaced
		mk("p01", "other", 0),   // another code: kept
		mk("p02", "limits", 0),  // another source: kept
		mk("p01", "naivety", 3), // in scope: replaced
	}
	out, removed := imp.Merge(old, true)
	var ids []string
	for _, c := range out {
		ids = append(ids, c.ID)
	}
	if removed != 2 || !slices.Equal(ids[:2], []string{"p01other0", "p02limits0"}) || len(out) != 4 {
		t.Errorf("replace: removed %d, kept %v", removed, ids)
	}
	out, removed = imp.Merge(old, false)
	if removed != 0 || len(out) != 6 {
		t.Errorf("add: removed %d, %d codings", removed, len(out))
	}
}

func FuzzParseSheetKey(f *testing.F) {
	for _, s := range []string{"p01:t3.p1.s2", "p01@0-5#limits", " a:b ", "p01@05-9#c", "x@1-2#", "p01:t1:x", "@-#", "p01@9999999999999-99999999999999#c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseSheetKey(s)
		if err != nil {
			return
		}
		// Every key read is in canonical form: written back, it is the
		// input without surrounding spaces, and reads back the same.
		if k.String() != strings.TrimSpace(s) {
			t.Errorf("%q read as %+v, written back %q", s, k, k.String())
		}
		if k2, err := ParseSheetKey(k.String()); err != nil || k2 != k {
			t.Errorf("%q: %+v reads back as %+v, %v", s, k, k2, err)
		}
		if k.IsSpan() && (k.Start < 0 || k.End <= k.Start || k.Code == "") {
			t.Errorf("%q: bad span key %+v", s, k)
		}
	})
}

func FuzzParseSheetMark(f *testing.F) {
	for _, s := range []string{"", "x", " X ", "✓", "yes", "no", "1", "\t", "xx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		marked, ok := ParseSheetMark(s)
		trimmed := strings.TrimSpace(s)
		switch {
		case !ok && marked:
			t.Errorf("%q: marked but not ok", s)
		case ok && !marked && trimmed != "":
			t.Errorf("%q: not blank, yet read as no mark", s)
		case ok && marked && !slices.ContainsFunc(SheetMarks, func(m string) bool { return strings.EqualFold(m, trimmed) }):
			t.Errorf("%q: read as a mark", s)
		}
		d, ok := ParseSheetDecision(s)
		if ok && d != "" && !slices.Contains(SheetDecisions, d) {
			t.Errorf("%q: decision %q", s, d)
		}
	})
}

// FuzzImportSheet fills a codes sheet's data rows with arbitrary cells
// (rows split at newlines, cells at tabs). An import never panics, and
// whatever it accepts codes exactly the listed segments' text.
func FuzzImportSheet(f *testing.F) {
	f.Add("p01:t2.p1.s1\t\t\t\tBecause I can.\tx")
	f.Add("p01:t2.p1.s2\t\t\t\tNaïve, maybe 😀.\t\t✓\np01:t2.p1.s1\t\t\t\tBecause I can.\tyes")
	f.Add("p01:t1.p1.s1\t\t\t\tWhy?\t1\t1\tx")
	f.Add("p01@0-3#limits\t\t\t\tWhy?\tx")
	f.Add("p01:t1\t\t\t\tWhy?\tx")
	src := sheetTestSource(f)
	f.Fuzz(func(t *testing.T, cells string) {
		d := codesGrid(src)
		d.Coding = d.Coding[:2]
		for _, line := range strings.Split(cells, "\n") {
			d.Coding = append(d.Coding, strings.Split(line, "\t"))
		}
		imp, err := ImportSheet(d.data(), sheetOpts(src))
		if err != nil {
			var se *SheetError
			if !errors.As(err, &se) || len(se.Problems) == 0 {
				t.Fatalf("error %v is not a *SheetError with problems", err)
			}
			return
		}
		runes := []rune(src.Text)
		for _, c := range imp.Codings {
			if c.Start < 0 || c.End > len(runes) || c.Start >= c.End || string(runes[c.Start:c.End]) != c.Quote {
				t.Fatalf("coding %+v does not slice the text", c)
			}
			if !utf8.ValidString(c.Quote) || (c.Code != "limits" && c.Code != "naivety") {
				t.Fatalf("coding %+v", c)
			}
		}
	})
}

// BenchmarkParseSheetKey parses a segment key and a span key.
func BenchmarkParseSheetKey(b *testing.B) {
	for b.Loop() {
		if _, err := ParseSheetKey("p01-wave1:t12.p3.s4"); err != nil {
			b.Fatal(err)
		}
		if _, err := ParseSheetKey("p01-wave1@12345-12400#boundaries"); err != nil {
			b.Fatal(err)
		}
	}
}

// Where a text cell differs from the source is said in characters.
func TestImportSheetTextDiffers(t *testing.T) {
	src := sheetTestSource(t)
	for _, tc := range []struct {
		cell, want string
	}{
		{"Because I can!", `at character 14 (the source has ".")`},
		{"Because I", `at character 10 (the source has " can.")`},
		{"Because I can. And more.", `at character 15 (the source's text ends there)`},
		{"", `at character 1 (the source has "Because I can.")`},
		{"Becau\u00dfe I can.", `at character 6 (the source has "se I can.")`},
	} {
		d := codesGrid(src)
		d.Coding[3][4] = tc.cell
		_, err := ImportSheet(d.data(), sheetOpts(src))
		want := "Coding!E4: text differs from segment p01:t2.p1.s1 " + tc.want
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("cell %q: got %v, want %q", tc.cell, err, want)
		}
	}
	// Line ends and composition do not count.
	d := codesGrid(src)
	d.Coding[3][4] = "Because I can."
	d.Coding[4][4] = "Nai\u0308ve, maybe 😀."
	if _, err := ImportSheet(d.data(), sheetOpts(src)); err != nil {
		t.Error(err)
	}
}
