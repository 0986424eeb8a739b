package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/thematic-qda/thematic/corpus"
)

// The fixture's spans (alice and bob; see extracts_test.go), merged per
// theme and source:
//
//	Belonging  p01-int   A1 [26,44) A8 [28,43) B1 [38,82) A2 [45,100) -> [26,100)
//	           p02-int   A4 [59,72), B3 [73,91)
//	           p01-diary A5 "I felt like an outsider."
//	Weather    p01-int   B2 [105,160) holding A3 [126,145) -> [105,160)
//	           p01-diary A6 "It was freezing."
//
// Sentences: case P01 has 10 (p01-int 6, p01-diary 4), P02 has 4.

// matrixCSV builds a matrix and returns its CSV records, header first.
func matrixCSV(t *testing.T, st *Study, opts MatrixOptions) [][]string {
	t.Helper()
	mx, err := BuildMatrix(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := EncodeDocument(&buf, FormatCSV, mx); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func joinRecs(recs [][]string) []string {
	var out []string
	for _, r := range recs {
		out = append(out, strings.Join(r, "|"))
	}
	return out
}

func TestMatrixCounts(t *testing.T) {
	f := newFixture(t)
	st := f.study("alice", "bob")
	tests := []struct {
		name string
		opts MatrixOptions
		want []string
	}{
		{
			// P01 Belonging: p01-int sentences [26,44) and [45,100), the
			// diary's "I felt like an outsider." = 3. Weather: [105,121),
			// [126,145), [146,160) and "It was freezing." = 4. Total: the 7
			// sentences of either (none has both). P02 Belonging: "I was
			// lonely." and "The garden helped." = 2.
			name: "cases by themes, coded sentences",
			opts: MatrixOptions{},
			want: []string{
				"Case|Belonging|Weather|Total",
				"P01|3|4|7",
				"P02|2|0|2",
				"Total|5|4|9",
			},
		},
		{
			// The counts above over 10 (P01), 4 (P02) and 14 sentences.
			name: "percent of sentences",
			opts: MatrixOptions{Cell: CellPercent},
			want: []string{
				"Case|Belonging|Weather|Total",
				"P01|30|40|70",
				"P02|50|0|50",
				"Total|35.7|28.6|64.3",
			},
		},
		{
			// Paragraphs: P01 has p01-int's 4 and the diary's 2; P02 has 2.
			// Belonging: p01-int t2.p1, the diary's first = 2; P02 t2.p1 = 1.
			// Weather: t3.p1, t4.p1, the diary's second = 3.
			name: "paragraphs",
			opts: MatrixOptions{Unit: corpus.UnitParagraph},
			want: []string{
				"Case|Belonging|Weather|Total",
				"P01|2|3|5",
				"P02|1|0|1",
				"Total|3|3|6",
			},
		},
		{
			name: "sources",
			opts: MatrixOptions{Cell: CellSources},
			want: []string{
				"Case|Belonging|Weather|Total",
				"P01|2|2|2",
				"P02|1|0|1",
				"Total|3|2|3",
			},
		},
		{
			// P01 Belonging: [26,100) "I joined in March. =HYPERLINK(
			// "http://x.example","click") was on the sign." = 4 + 5 + 4 = 13
			// words, and "I felt like an outsider." = 5: 18. Weather: "And the
			// weather?\n\nP: It was -10 degrees. We dug anyway." = 3+1+4+3 =
			// 11 and "It was freezing." = 3: 14. P02: 3 + 3 = 6.
			name: "words",
			opts: MatrixOptions{Cell: CellWords},
			want: []string{
				"Case|Belonging|Weather|Total",
				"P01|18|14|32",
				"P02|6|0|6",
				"Total|24|14|38",
			},
		},
		{
			name: "sources by sub-themes",
			opts: MatrixOptions{Rows: RowsSource, Cols: "subtheme"},
			// Welcome counts first-visit and welcome; "Belonging (other)"
			// the outsider code; Weather has no sub-theme and is a column.
			want: []string{
				"Source|Welcome|Belonging (other)|Weather|Total",
				"p01-diary|0|1|1|2",
				"p01-int|2|1|3|5", // A8 [28,43) lies in the sentence [26,44)
				"p02-int|1|1|0|2",
				"Total|3|3|4|9",
			},
		},
		{
			// Code columns leave out B3 (coded to the sub-theme welcome), so
			// P02's total is 1. Cold counts its child code Freezing.
			name: "site by codes",
			opts: MatrixOptions{Rows: "attr:site", Cols: "code"},
			want: []string{
				"site|First visit|Outsider|Cold|Cold › Freezing|Total",
				"North|2|2|4|1|7",
				"South|0|1|0|0|1",
				"Total|2|3|4|1|8",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sameLines(t, "matrix", joinRecs(matrixCSV(t, st, tc.opts)), tc.want)
		})
	}
}

func TestMatrixRowsWithoutValue(t *testing.T) {
	f := newFixture(t)
	st := f.study("alice", "bob")
	st.Cases = corpus.Cases{"P02": {"site": "South"}}
	// p01-diary and p01-int have no site now; their row comes last.
	want := []string{
		"site|Belonging|Weather|Total",
		"South|2|0|2",
		"(none)|3|4|7",
		"Total|5|4|9",
	}
	sameLines(t, "matrix", joinRecs(matrixCSV(t, st, MatrixOptions{Rows: "attr:site"})), want)
	kinds := joinRecs(matrixCSV(t, st, MatrixOptions{Rows: "attr:kind", Cell: CellSources}))
	sameLines(t, "kinds", kinds, []string{"kind|Belonging|Weather|Total", "diary|1|1|1", "interview|2|1|2", "Total|3|2|3"})
}

func TestMatrixErrors(t *testing.T) {
	f := newFixture(t)
	st := f.study("alice")
	for _, opts := range []MatrixOptions{
		{Rows: "speaker"},
		{Rows: "attr:"},
		{Rows: "attr:colour"}, // no source has it
		{Cols: "case"},
		{Cell: "quotes"},
		{Unit: "word"},
	} {
		if _, err := BuildMatrix(st, opts); err == nil {
			t.Errorf("%+v: no error", opts)
		}
	}
	_, err := BuildMatrix(st, MatrixOptions{Rows: "attr:colour"})
	if err == nil || !strings.Contains(err.Error(), "attributes: age, site") {
		t.Errorf("error %v does not list the attributes", err)
	}
}

func TestMatrixWorkbook(t *testing.T) {
	f := newFixture(t)
	mx, err := BuildMatrix(f.study("alice", "bob"), MatrixOptions{Cell: CellPercent, About: [][2]string{{"Coders", "alice, bob"}}})
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := openXLSX(t, mx.Sheets())
	rows := sheetRows(t, wb, "Matrix", 4)
	// Percentages show with one decimal and a % sign but are the numbers.
	sameLines(t, "matrix", joinRecs(rows), []string{
		"Case|Belonging|Weather|Total",
		"P01|30.0%|40.0%|70.0%",
		"P02|50.0%|0.0%|50.0%",
		"Total|35.7%|28.6%|64.3%",
	})
	if v, _ := wb.GetCellValue("Matrix", "B4", excelize.Options{RawCellValue: true}); v != "35.7" {
		t.Errorf("B4 raw %q, want 35.7", v)
	}
	// The heat map covers the count cells, not the totals.
	cf, err := wb.GetConditionalFormats("Matrix")
	if err != nil {
		t.Fatal(err)
	}
	if len(cf) != 1 || len(cf["B2:C3"]) != 1 || cf["B2:C3"][0].Type != "2_color_scale" {
		t.Errorf("conditional formats %+v, want a colour scale on B2:C3", cf)
	}
	about := sheetRows(t, wb, "About", 2)
	sameLines(t, "about", joinRecs(about), []string{
		"Setting|Value", "Rows|case", "Columns|theme", "Cells|percent", "Unit|sentence", "Sources|3", "Codings|10", "Coders|alice, bob",
	})
}

func TestMatrixFramework(t *testing.T) {
	f := newFixture(t)
	mx, err := BuildMatrix(f.study("alice", "bob"), MatrixOptions{Cell: CellExtracts})
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := openXLSX(t, mx.Sheets())
	rows := sheetRows(t, wb, "Matrix", 3)
	want := [][]string{
		{"Case", "Belonging", "Weather"},
		{"P01",
			"I felt like an outsider. (Diary 1)\n\nI joined in March. " + hyperlinkQuote + " (Interview 1)",
			"It was freezing. (Diary 1)\n\nAnd the weather?\n\nP: It was -10 degrees. We dug anyway. (Interview 1)"},
		{"P02", "I was lonely. (Interview 2)\n\nThe garden helped. (Interview 2)", ""},
	}
	sameLines(t, "framework", joinRecs(rows), joinRecs(want))
	if cf, _ := wb.GetConditionalFormats("Matrix"); len(cf) != 0 {
		t.Errorf("a framework matrix has a heat map: %v", cf)
	}
	st, _ := wb.GetCellStyle("Matrix", "B2")
	if style, err := wb.GetStyle(st); err != nil || style.Alignment == nil || !style.Alignment.WrapText {
		t.Errorf("framework cells do not wrap")
	}

	// JSON: one object per row keyed by the column ids.
	var buf bytes.Buffer
	if err := EncodeDocument(&buf, FormatJSON, mx); err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[1]["case"] != "P02" || recs[1]["weather"] != "" || !strings.HasPrefix(recs[1]["belonging"].(string), "I was lonely.") {
		t.Errorf("JSON %v", recs)
	}
}

// TestMatrixFrameworkLongCell checks that a framework cell longer than
// Excel's limit is cut with a marker and the workbook still opens.
func TestMatrixFrameworkLongCell(t *testing.T) {
	f := newFixture(t)
	st := f.study("alice")
	long := strings.Repeat("word ", 9000) // 45,000 characters
	src := *st.Sources[1]                 // p01-int
	src.Text = src.Text + long
	st.Sources = append(st.Sources[:1:1], &src, st.Sources[2])
	n := len([]rune(f.srcs[1].Text))
	c := st.Codings[0]
	c.ID, c.Source, c.Start, c.End, c.Quote = "long", "p01-int", n, n+len(long)-1, strings.TrimSpace(long)
	st.Codings = append(st.Codings, c)
	mx, err := BuildMatrix(st, MatrixOptions{Cell: CellExtracts})
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := openXLSX(t, mx.Sheets())
	v, _ := wb.GetCellValue("Matrix", "B2")
	if utf16Len(v) > MaxCellChars || !strings.Contains(v, "… [truncated: ") {
		t.Errorf("long framework cell: %d characters, ends %q", len(v), v[max(0, len(v)-60):])
	}
}

func TestMatrixMarkdown(t *testing.T) {
	f := newFixture(t)
	mx, err := BuildMatrix(f.study("alice", "bob"), MatrixOptions{Cols: "subtheme", Cell: CellWords})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := EncodeDocument(&buf, FormatMarkdown, mx); err != nil {
		t.Fatal(err)
	}
	golden(t, "matrix_subthemes_words.md", buf.Bytes())
}

func TestNaturalCompare(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"P2", "P10", -1},
		{"P10", "P2", 1},
		{"P02", "P2", -1}, // equal numbers: then plain order
		{"p1", "P2", -1},
		{"wave 3", "wave 12", -1},
		{"", "a", -1},
		{"ab", "a", 1},
		{"é2", "é10", -1},
	} {
		if got := naturalCompare(tc.a, tc.b); got != tc.want {
			t.Errorf("naturalCompare(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// BenchmarkMatrix counts coded turns and words of 100,000 codings in 200
// sources, cases by codes.
func BenchmarkMatrix(b *testing.B) {
	st := benchStudy(b, 200, 100000)
	b.ReportAllocs()
	for b.Loop() {
		for _, cell := range []string{CellSegments, CellWords} {
			if _, err := BuildMatrix(st, MatrixOptions{Cols: "code", Cell: cell, Unit: corpus.UnitTurn}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
