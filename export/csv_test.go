package export

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"time"
)

// extractTable is a small table of awkward extracts used by the CSV,
// Markdown and JSON golden tests.
func extractTable() Table {
	return Table{
		Columns: []Column{
			{Title: "Theme"}, {Title: "Extract", Wrap: true}, {Title: "Citation"},
			{Title: "Start", Key: "start", Number: true}, {Title: "Share", Key: "share", Number: true},
			{Title: "Coded", Key: "coded"}, {Title: "Date", Key: "date"},
		},
		Rows: rowsOf(
			[]any{"Boundaries", "I said \"no\", and that was that.", "(Interview 11)", 120, 0.25, true, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
			[]any{"Work/life", "=HYPERLINK(\"http://x\",\"click\")", "(Diary 4)", 0, -0.5, false, time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)},
			[]any{"Roles", "- first\n- second, with a comma", "(Interview 2)", -3, math.NaN(), nil, nil},
			[]any{"@mentions", "+44 20 7946 0000", "\tTabbed", uint16(7), 1e21, true},
			[]any{"Control", "bell\x07 and NUL\x00 gone; | pipe * star _under_ `code` <b>x</b> &amp; $5", "'quoted'"},
			[]any{"Short row"},
		),
	}
}

func TestCSVGolden(t *testing.T) {
	tests := []struct {
		file string
		opts CSVOptions
	}{
		{"extracts.csv", CSVOptions{}},
		{"extracts_crlf_nobom.csv", CSVOptions{CRLF: true, NoBOM: true}},
		{"extracts_semicolon.csv", CSVOptions{Comma: ';'}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := EncodeCSV(&buf, extractTable(), tt.opts); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, buf.Bytes())
		})
	}
}

func TestCSVRules(t *testing.T) {
	var buf bytes.Buffer
	if err := EncodeCSV(&buf, extractTable(), CSVOptions{}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\xEF\xBB\xBF") {
		t.Errorf("no UTF-8 byte order mark by default")
	}
	if strings.Contains(out, "\r\n") {
		t.Errorf("CRLF written without the CRLF option")
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\uFEFF")))
	r.FieldsPerRecord = -1
	records, err := r.ReadAll()
	if err != nil {
		t.Fatalf("the output is not valid CSV: %v", err)
	}
	// Each cell, read back by a CSV reader, as a spreadsheet gets it.
	want := map[[2]int]string{
		{0, 1}: "Extract",
		{1, 1}: `I said "no", and that was that.`,
		{1, 3}: "120",
		{1, 4}: "0.25",
		{1, 5}: "true",
		{1, 6}: "2024-03-01",
		{2, 1}: `'=HYPERLINK("http://x","click")`,
		{2, 4}: "-0.5", // a number, not text: no quote
		{2, 6}: "2024-03-01T09:30:00Z",
		{3, 1}: "'- first\n- second, with a comma",
		{3, 3}: "-3",
		{3, 4}: "NaN",
		{3, 5}: "",
		{4, 0}: "'@mentions",
		{4, 1}: "'+44 20 7946 0000",
		{4, 2}: "'\tTabbed",
		{4, 4}: "1000000000000000000000",
		{5, 1}: "bell and NUL gone; | pipe * star _under_ `code` <b>x</b> &amp; $5",
		{5, 2}: "'quoted'",
		{6, 0}: "Short row",
		{6, 6}: "",
	}
	for at, w := range want {
		if at[0] >= len(records) || at[1] >= len(records[at[0]]) {
			t.Errorf("no cell at row %d column %d", at[0], at[1])
			continue
		}
		if got := records[at[0]][at[1]]; got != w {
			t.Errorf("row %d column %d = %q, want %q", at[0], at[1], got, w)
		}
	}
	for i, rec := range records {
		if len(rec) != 7 {
			t.Errorf("record %d has %d fields, want 7", i, len(rec))
		}
	}
}

func TestCSVQuirks(t *testing.T) {
	tests := []struct {
		name string
		t    Table
		opts CSVOptions
		want string
	}{
		{"SYLK guard without BOM", Table{Columns: []Column{{Title: "ID"}, {Title: "Text"}}, Rows: rowsOf([]any{1, "a"})}, CSVOptions{NoBOM: true}, "\"ID\",Text\n1,a\n"},
		{"SYLK guard, one column", Table{Columns: []Column{{Title: "IDs"}}, Rows: rowsOf([]any{1})}, CSVOptions{NoBOM: true}, "\"IDs\"\n1\n"},
		{"no guard needed with BOM", Table{Columns: []Column{{Title: "ID"}}}, CSVOptions{}, "\uFEFFID\n"},
		{"single empty field kept", Table{Columns: []Column{{Title: "Memo"}}, Rows: rowsOf([]any{""}, []any{nil}, []any{"x"})}, CSVOptions{NoBOM: true}, "Memo\n\"\"\n\"\"\nx\n"},
		{"CRLF inside a field", Table{Columns: []Column{{Title: "T"}}, Rows: rowsOf([]any{"a\nb"})}, CSVOptions{NoBOM: true, CRLF: true}, "T\r\n\"a\r\nb\"\r\n"},
		{"formula-like title", Table{Columns: []Column{{Title: "=1+1"}}}, CSVOptions{NoBOM: true}, "'=1+1\n"},
		{"link text", Table{Columns: []Column{{Title: "T"}}, Rows: rowsOf([]any{Link{Text: "-x", Sheet: "S"}})}, CSVOptions{NoBOM: true}, "T\n'-x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := EncodeCSV(&buf, tt.t, tt.opts); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.want {
				t.Errorf("got %q, want %q", buf.String(), tt.want)
			}
		})
	}
}

func TestCSVErrors(t *testing.T) {
	cols := []Column{{Title: "A"}}
	tests := []struct {
		name string
		t    Table
		opts CSVOptions
		want string
	}{
		{"no columns", Table{}, CSVOptions{}, "at least one column"},
		{"bad separator", Table{Columns: cols}, CSVOptions{Comma: '"'}, "csv"},
		{"unsupported value", Table{Columns: cols, Rows: rowsOf([]any{[]string{"x"}})}, CSVOptions{}, "row 1, column 1: unsupported cell value of type []string"},
		{"too many values", Table{Columns: cols, Rows: rowsOf([]any{1, 2})}, CSVOptions{}, "row 1 has 2 values for 1 columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := EncodeCSV(io.Discard, tt.t, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	err := EncodeCSV(io.Discard, Table{Columns: []Column{{Title: "A"}, {Title: "B"}}, Rows: failingRows(3)}, CSVOptions{})
	if !errors.Is(err, errHalfway) {
		t.Errorf("err = %v, want the rows' own error", err)
	}
}

// FuzzCSVRoundTrip writes a fuzzed cell to CSV and reads it back: the
// reader must get exactly the cleaned, guarded text, and nothing a
// spreadsheet would take for a formula.
func FuzzCSVRoundTrip(f *testing.F) {
	for _, s := range []string{"plain", "=1+1", "a,b", "say \"hi\"", "line\nbreak", "\r\n", "-", "\x00", "ID", ""} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, crlf bool) {
		var buf bytes.Buffer
		tab := Table{Columns: []Column{{Title: "Before"}, {Title: s}, {Title: "After"}}, Rows: rowsOf([]any{"x", s, "y"})}
		if err := EncodeCSV(&buf, tab, CSVOptions{NoBOM: true, CRLF: crlf}); err != nil {
			t.Fatal(err)
		}
		records, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("output does not parse: %v", err)
		}
		want := SafeCSVCell(CleanText(s))
		if crlf {
			// With CRLF, encoding/csv writes a line break in a field as CR LF
			// and drops a lone CR; reading turns CR LF back into LF.
			want = strings.ReplaceAll(want, "\r", "")
		} else {
			want = strings.ReplaceAll(want, "\r\n", "\n")
		}
		if len(records) != 2 {
			t.Fatalf("%d records, want 2", len(records))
		}
		for i, rec := range records {
			if len(rec) != 3 || rec[0] != [2]string{"Before", "x"}[i] || rec[2] != [2]string{"After", "y"}[i] {
				t.Fatalf("record %q lost its shape", rec)
			}
			if rec[1] != want {
				t.Fatalf("cell read back as %q, want %q", rec[1], want)
			}
			if excelTrigger(rec[1]) {
				t.Fatalf("cell %q starts like a formula", rec[1])
			}
		}
	})
}

func BenchmarkEncodeCSV100k(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := EncodeCSV(io.Discard, Table{Columns: benchColumns, Rows: benchRows(100000)}, CSVOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
