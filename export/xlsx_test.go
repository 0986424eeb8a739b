package export

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// writeXLSX writes sheets to a temporary file and opens it with excelize.
func writeXLSX(t *testing.T, sheets ...Sheet) (*excelize.File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "book.xlsx")
	if err := WriteXLSX(path, sheets...); err != nil {
		t.Fatalf("WriteXLSX: %v", err)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatalf("excelize cannot open what was written: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f, path
}

// zipPart returns one part of the xlsx package, such as a sheet's XML.
func zipPart(t *testing.T, path, name string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if zf.Name == name {
			rc, err := zf.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
	t.Fatalf("%s has no part %s", path, name)
	return ""
}

func TestXLSXCellValuesAndTypes(t *testing.T) {
	long := strings.Repeat("I kept talking. ", 2500) // 40,000 characters
	date := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	stamp := time.Date(2024, 3, 1, 14, 30, 5, 0, time.UTC)
	tests := []struct {
		name     string
		value    any
		want     string            // formatted value read back
		wantType excelize.CellType // t attribute read back
	}{
		{"formula-like =", "=SUM(A1)", "=SUM(A1)", excelize.CellTypeInlineString},
		{"formula-like +", "+1", "+1", excelize.CellTypeInlineString},
		{"formula-like @", "@x", "@x", excelize.CellTypeInlineString},
		{"formula-like -", "-2+3", "-2+3", excelize.CellTypeInlineString},
		{"DDE payload", `=cmd|' /C calc'!A0`, `=cmd|' /C calc'!A0`, excelize.CellTypeInlineString},
		{"numeric string stays text", "0012", "0012", excelize.CellTypeInlineString},
		{"multi-line text", "line one\nline two", "line one\nline two", excelize.CellTypeInlineString},
		{"control characters removed", "a\x00b\x01c\x1Fd\x0Be", "abcde", excelize.CellTypeInlineString},
		{"invalid UTF-8 replaced", "caf\xe9", "caf\uFFFD", excelize.CellTypeInlineString},
		{"escape-like text kept", "_x0041_ & <b>", "_x0041_ & <b>", excelize.CellTypeInlineString},
		{"int", 42, "42", excelize.CellTypeUnset},
		{"negative int64", int64(-7), "-7", excelize.CellTypeUnset},
		{"uint8", uint8(200), "200", excelize.CellTypeUnset},
		{"float", 0.25, "0.25", excelize.CellTypeUnset},
		{"float32", float32(1.5), "1.5", excelize.CellTypeUnset},
		{"NaN as text", math.NaN(), "NaN", excelize.CellTypeInlineString},
		{"infinity as text", math.Inf(-1), "-Inf", excelize.CellTypeInlineString},
		{"bool", true, "TRUE", excelize.CellTypeBool},
		{"date", date, "2024-03-01", excelize.CellTypeUnset},
		{"date-time", stamp, "2024-03-01 14:30:05", excelize.CellTypeUnset},
		{"link text", Link{Text: "=HYPERLINK(1)", Sheet: "Values"}, "=HYPERLINK(1)", excelize.CellTypeInlineString},
	}
	var rows [][]any
	for _, tt := range tests {
		rows = append(rows, []any{tt.name, tt.value})
	}
	rows = append(rows, []any{"long", long}, []any{"nil", nil}, []any{"short row"})
	f, path := writeXLSX(t, Sheet{
		Name:  "Values",
		Table: Table{Columns: []Column{{Title: "Case"}, {Title: "Value", Wrap: true}}, Rows: rowsOf(rows...)},
	})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cell := "B" + strconv.Itoa(i+2)
			got, err := f.GetCellValue("Values", cell)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("%s = %q, want %q", cell, got, tt.want)
			}
			typ, err := f.GetCellType("Values", cell)
			if err != nil {
				t.Fatal(err)
			}
			if typ != tt.wantType {
				t.Errorf("%s has type %v, want %v", cell, typ, tt.wantType)
			}
			if formula, _ := f.GetCellFormula("Values", cell); formula != "" {
				t.Errorf("%s holds the formula %q", cell, formula)
			}
		})
	}
	n := len(tests) + 2
	got, _ := f.GetCellValue("Values", "B"+strconv.Itoa(n))
	if utf16Len(got) > MaxCellChars {
		t.Errorf("the 40,000-character cell has %d UTF-16 units", utf16Len(got))
	}
	if !strings.HasSuffix(got, "… [truncated: 7269 more characters]") || !strings.HasPrefix(long, strings.TrimSuffix(got, "… [truncated: 7269 more characters]")) {
		t.Errorf("the 40,000-character cell does not end with the marker: ...%q", got[len(got)-50:])
	}
	for _, cell := range []string{"B" + strconv.Itoa(n+1), "B" + strconv.Itoa(n+2)} {
		if v, _ := f.GetCellValue("Values", cell); v != "" {
			t.Errorf("%s = %q, want empty", cell, v)
		}
	}
	// No cell of the sheet is a formula, whatever the reader.
	sheetXML := zipPart(t, path, "xl/worksheets/sheet1.xml")
	if strings.Contains(sheetXML, "<f>") || strings.Contains(sheetXML, "<f ") || strings.Contains(sheetXML, `t="str"`) {
		t.Errorf("sheet XML contains a formula element")
	}
	// The header is the column titles, bold.
	for cell, want := range map[string]string{"A1": "Case", "B1": "Value"} {
		if got, _ := f.GetCellValue("Values", cell); got != want {
			t.Errorf("header %s = %q, want %q", cell, got, want)
		}
		id, _ := f.GetCellStyle("Values", cell)
		style, err := f.GetStyle(id)
		if err != nil || style.Font == nil || !style.Font.Bold {
			t.Errorf("header %s is not bold", cell)
		}
	}
	// The Value column wraps; its width is the wrapped default.
	id, _ := f.GetCellStyle("Values", "B2")
	if style, err := f.GetStyle(id); err != nil || style.Alignment == nil || !style.Alignment.WrapText {
		t.Errorf("B2 of a Wrap column does not wrap")
	}
	if w, _ := f.GetColWidth("Values", "B"); w != 60 {
		t.Errorf("wrapped column width = %v, want 60", w)
	}
	if w, _ := f.GetColWidth("Values", "A"); w != 10 {
		t.Errorf("column A width = %v, want 10 (the minimum)", w)
	}
}

func TestXLSXWorkbookFeatures(t *testing.T) {
	used := map[string]bool{}
	index := SheetName("Index", used)
	themes := []string{"Making sense of the role", "Work/life balance", "Carers' time [draft]"}
	var sheetNames []string
	for _, th := range themes {
		sheetNames = append(sheetNames, SheetName(th, used))
	}
	var indexRows [][]any
	for i, th := range themes {
		indexRows = append(indexRows, []any{Link{Text: th, Sheet: sheetNames[i]}, i + 1})
	}
	sheets := []Sheet{{
		Name: index,
		Table: Table{
			Columns: []Column{{Title: "Theme", Width: 45}, {Title: "Extracts", Number: true}},
			Rows:    rowsOf(indexRows...),
		},
		FreezeHeader: true,
		AutoFilter:   true,
	}}
	for i, name := range sheetNames {
		rows := make([][]any, 0, 5)
		for r := 0; r < 5; r++ {
			rows = append(rows, []any{"case " + strconv.Itoa(r), r * (i + 1), float64(r) / 4, "total"})
		}
		sheets = append(sheets, Sheet{
			Name: name,
			Table: Table{Columns: []Column{{Title: "Case"}, {Title: "Segments"}, {Title: "Share", NumFmt: "0%"}, {Title: "Note"}},
				Rows: rowsOf(rows...)},
			FreezeHeader: i != 2,
			AutoFilter:   true,
			HeatMaps:     []HeatMap{{FirstCol: 1, LastCol: 2, SkipLastRows: 1, Mid: "#FFEB84"}},
		})
	}
	sheets[2].HeatMaps = []HeatMap{{FirstCol: 1, LastCol: 1}}
	f, path := writeXLSX(t, sheets...)

	if got, want := f.GetSheetList(), append([]string{"Index"}, "Making sense of the role", "Work-life balance", "Carers’ time (draft)"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("sheets = %q, want %q", got, want)
	}
	if got := f.GetActiveSheetIndex(); got != 0 {
		t.Errorf("active sheet %d, want the first", got)
	}
	for i := 2; i <= 4; i++ {
		if xml := zipPart(t, path, "xl/worksheets/sheet"+strconv.Itoa(i)+".xml"); strings.Contains(xml, `tabSelected="true"`) || strings.Contains(xml, `tabSelected="1"`) {
			t.Errorf("sheet %d is selected too", i)
		}
	}
	// Hyperlinks from the index to each theme's A1.
	for i, name := range sheetNames {
		cell := "A" + strconv.Itoa(i+2)
		ok, target, err := f.GetCellHyperLink("Index", cell)
		if err != nil || !ok {
			t.Errorf("%s has no hyperlink (%v)", cell, err)
			continue
		}
		if want := "'" + name + "'!A1"; target != want {
			t.Errorf("%s links to %q, want %q", cell, target, want)
		}
	}
	if ok, _, _ := f.GetCellHyperLink("Index", "B2"); ok {
		t.Errorf("B2 has a hyperlink but holds a number")
	}
	if v, _ := f.GetCellValue("Index", "B3"); v != "2" {
		t.Errorf("Index!B3 = %q, want 2", v)
	}
	// Frozen header row.
	panes, err := f.GetPanes("Index")
	if err != nil {
		t.Fatal(err)
	}
	if !panes.Freeze || panes.YSplit != 1 || panes.XSplit != 0 || panes.TopLeftCell != "A2" {
		t.Errorf("Index panes = %+v, want frozen at row 1", panes)
	}
	if panes, _ := f.GetPanes(sheetNames[2]); panes.Freeze {
		t.Errorf("sheet without FreezeHeader has frozen panes")
	}
	// Autofilter over the header and all the data.
	af := regexp.MustCompile(`<autoFilter ref="([^"]+)"`)
	for i, want := range map[int]string{1: "A1:B4", 2: "A1:D6"} {
		m := af.FindStringSubmatch(zipPart(t, path, "xl/worksheets/sheet"+strconv.Itoa(i)+".xml"))
		if m == nil {
			t.Errorf("sheet %d has no autofilter", i)
			continue
		}
		if got := strings.ReplaceAll(m[1], "$", ""); got != want {
			t.Errorf("sheet %d autofilter over %s, want %s", i, got, want)
		}
	}
	// Heat maps: a 3-colour scale without the totals row, a 2-colour one.
	cf, err := f.GetConditionalFormats(sheetNames[0])
	if err != nil {
		t.Fatal(err)
	}
	rule, ok := cf["B2:C5"]
	if !ok || len(rule) != 1 {
		t.Fatalf("conditional formats = %+v, want one rule on B2:C5", cf)
	}
	if rule[0].Type != "3_color_scale" || !sameColour(rule[0].MidColor, "#FFEB84") || rule[0].MidType != "percentile" || rule[0].MidValue != "50" {
		t.Errorf("heat map rule = %+v, want a 3-colour scale through #FFEB84 at the median", rule[0])
	}
	cf, _ = f.GetConditionalFormats(sheetNames[1])
	if rule := cf["B2:B6"]; len(rule) != 1 || rule[0].Type != "2_color_scale" || !sameColour(rule[0].MinColor, heatLow) || !sameColour(rule[0].MaxColor, heatHigh) {
		t.Errorf("conditional formats = %+v, want a default 2-colour scale on B2:B6", cf)
	}
	// Numbers are numbers, with the column's format.
	if v, _ := f.GetCellValue(sheetNames[0], "C3"); v != "25%" {
		t.Errorf("Share C3 formatted = %q, want 25%%", v)
	}
	if typ, _ := f.GetCellType(sheetNames[0], "B3"); typ != excelize.CellTypeUnset {
		t.Errorf("Segments B3 type = %v, want a number", typ)
	}
}

// sameColour compares colours as "#RRGGBB" or "RRGGBB", ignoring case.
func sameColour(a, b string) bool {
	return strings.EqualFold(strings.TrimPrefix(a, "#"), strings.TrimPrefix(b, "#"))
}

func TestXLSXEmptyAndErrors(t *testing.T) {
	cols := []Column{{Title: "A"}, {Title: "B"}}
	// A sheet without rows still has its header and a filter on it; a heat
	// map with no rows is left out.
	f, path := writeXLSX(t, Sheet{Name: "Empty", Table: Table{Columns: cols}, AutoFilter: true, HeatMaps: []HeatMap{{FirstCol: 0, LastCol: 1}}})
	if v, _ := f.GetCellValue("Empty", "B1"); v != "B" {
		t.Errorf("B1 = %q, want the header", v)
	}
	if xml := zipPart(t, path, "xl/worksheets/sheet1.xml"); !strings.Contains(strings.ReplaceAll(xml, "$", ""), `<autoFilter ref="A1:B1"`) || strings.Contains(xml, "conditionalFormatting") {
		t.Errorf("empty sheet: want a header-only autofilter and no heat map")
	}

	tests := []struct {
		name   string
		sheets []Sheet
		want   string
	}{
		{"no sheets", nil, "at least one sheet"},
		{"bad name", []Sheet{{Name: "a/b", Table: Table{Columns: cols}}}, `"a/b" contains`},
		{"apostrophe", []Sheet{{Name: "it's", Table: Table{Columns: cols}}}, "contains"},
		{"duplicate", []Sheet{{Name: "X", Table: Table{Columns: cols}}, {Name: "x", Table: Table{Columns: cols}}}, "used twice"},
		{"no columns", []Sheet{{Name: "X"}}, "at least one column"},
		{"heat map outside", []Sheet{{Name: "X", Table: Table{Columns: cols}, HeatMaps: []HeatMap{{FirstCol: 1, LastCol: 2}}}}, "heat map"},
		{"row too long", []Sheet{{Name: "X", Table: Table{Columns: cols, Rows: rowsOf([]any{1, 2, 3})}}}, "row 1 has 3 values for 2 columns"},
		{"unsupported type", []Sheet{{Name: "X", Table: Table{Columns: cols, Rows: rowsOf([]any{"ok"}, []any{1, struct{}{}})}}}, "row 2, column 2: unsupported cell value of type struct {}"},
		{"link to missing sheet", []Sheet{{Name: "X", Table: Table{Columns: cols, Rows: rowsOf([]any{Link{Text: "t", Sheet: "Nope"}})}}}, `link to sheet "Nope"`},
		{"link to bad cell", []Sheet{{Name: "X", Table: Table{Columns: cols, Rows: rowsOf([]any{Link{Text: "t", Sheet: "X", Cell: "1A"}})}}}, `link to cell "1A"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := EncodeXLSX(&buf, tt.sheets...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("%d bytes written despite the error", buf.Len())
			}
		})
	}
}

func TestXLSXLinkToOtherCell(t *testing.T) {
	f, _ := writeXLSX(t,
		Sheet{Name: "Index", Table: Table{Columns: []Column{{Title: "Go"}}, Rows: rowsOf([]any{Link{Text: "row 7", Sheet: "data", Cell: "b7"}})}},
		Sheet{Name: "Data", Table: Table{Columns: []Column{{Title: "x"}}}},
	)
	if _, target, _ := f.GetCellHyperLink("Index", "A2"); target != "'Data'!B7" {
		t.Errorf("link target = %q, want 'Data'!B7", target)
	}
}

var errHalfway = errors.New("the coding store went away")

// failingRows produces n good rows and then fails.
func failingRows(n int) Rows {
	return func(emit func([]any) error) error {
		for i := 0; i < n; i++ {
			if err := emit([]any{"row " + strconv.Itoa(i), i}); err != nil {
				return err
			}
		}
		return errHalfway
	}
}

func TestAtomicWrites(t *testing.T) {
	cols := []Column{{Title: "Text"}, {Title: "N"}}
	good := Table{Columns: cols, Rows: rowsOf([]any{"kept", 1})}
	bad := Table{Columns: cols, Rows: failingRows(500)}
	writers := []struct {
		name  string
		write func(path string, t Table) error
	}{
		{"xlsx", func(path string, t Table) error { return WriteXLSX(path, Sheet{Name: "S", Table: t}) }},
		{"csv", func(path string, t Table) error { return WriteCSV(path, t, CSVOptions{}) }},
		{"json", func(path string, t Table) error { return WriteJSON(path, t.Records(), JSONOptions{}) }},
		{"markdown", func(path string, t Table) error {
			return WriteMarkdown(path, func(m *Markdown) error {
				m.Heading(1, "Extracts")
				m.Table(t)
				return m.Err()
			})
		}},
	}
	for _, w := range writers {
		t.Run(w.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "export."+w.name)
			if err := w.write(path, good); err != nil {
				t.Fatal(err)
			}
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			err = w.write(path, bad)
			if !errors.Is(err, errHalfway) {
				t.Fatalf("err = %v, want the rows' error", err)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Errorf("the previous file was changed by a failed export")
			}
			if names := dirNames(t, dir); len(names) != 1 {
				t.Errorf("directory holds %q, want only the export", names)
			}
			// A failed first export leaves nothing at all.
			fresh := filepath.Join(dir, "new."+w.name)
			if err := w.write(fresh, bad); err == nil {
				t.Fatal("no error")
			}
			if _, err := os.Stat(fresh); !os.IsNotExist(err) {
				t.Errorf("a failed export left %s", fresh)
			}
			if names := dirNames(t, dir); len(names) != 1 {
				t.Errorf("directory holds %q, want only the first export", names)
			}
		})
	}
}

// TestXLSXLibreOffice has LibreOffice, a second and independent reader,
// open a workbook and save it again as xlsx, then reads LibreOffice's file
// back: the values, and the features as LibreOffice understood them.
func TestXLSXLibreOffice(t *testing.T) {
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
	path := filepath.Join(dir, "book.xlsx")
	long := strings.Repeat("x", 40000)
	err = WriteXLSX(path,
		Sheet{
			Name: "Extracts",
			Table: Table{
				Columns: []Column{{Title: "Quote", Wrap: true}, {Title: "Count"}, {Title: "Share", NumFmt: "0.0%"}, {Title: "Date"}, {Title: "Go"}},
				Rows: rowsOf(
					[]any{"=SUM(1,2)", 3, 0.5, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), Link{Text: "Other", Sheet: "Other"}},
					[]any{"+1\nsecond line", -2, 0.125, nil, nil},
					[]any{"@x \x00\x07 café ✓", 0, 1.0, nil, nil},
					[]any{long, 1, 0.0, nil, nil},
				),
			},
			FreezeHeader: true, AutoFilter: true,
			HeatMaps: []HeatMap{{FirstCol: 1, LastCol: 1, Mid: "#FFEB84"}},
		},
		Sheet{Name: "Other", Table: Table{Columns: []Column{{Title: "x"}}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(dir, "out")
	profile := "file://" + filepath.ToSlash(filepath.Join(dir, "profile"))
	cmd := exec.Command(bin, "-env:UserInstallation="+profile, "--headless", "--convert-to", "xlsx", "--outdir", outDir, path)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("LibreOffice failed: %v\n%s", err, msg)
	}
	resaved := filepath.Join(outDir, "book.xlsx")
	f, err := excelize.OpenFile(resaved)
	if err != nil {
		t.Fatalf("cannot open LibreOffice's file: %v", err)
	}
	defer f.Close()

	truncated := long[:MaxCellChars-36] + "… [truncated: 7269 more characters]"
	want := [][]string{
		{"Quote", "Count", "Share", "Date", "Go"},
		{"=SUM(1,2)", "3", "50.0%", "2024-03-01", "Other"},
		{"+1\nsecond line", "-2", "12.5%", "", ""},
		{"@x  café ✓", "0", "100.0%", "", ""},
		{truncated, "1", "0.0%", "", ""},
	}
	for r, row := range want {
		for c, w := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			got, err := f.GetCellValue("Extracts", cell)
			if err != nil {
				t.Fatal(err)
			}
			if got != w {
				if len(got) > 80 {
					got = got[:20] + "..." + got[len(got)-40:]
				}
				t.Errorf("LibreOffice read %s as %q", cell, got)
			}
			if formula, _ := f.GetCellFormula("Extracts", cell); formula != "" {
				t.Errorf("LibreOffice read %s as the formula %q", cell, formula)
			}
		}
	}
	if ok, target, _ := f.GetCellHyperLink("Extracts", "E2"); !ok || target != "'Other'!A1" {
		t.Errorf("LibreOffice kept the link E2 -> %q (%v), want 'Other'!A1", target, ok)
	}
	sheetXML := zipPart(t, resaved, "xl/worksheets/sheet1.xml")
	if m := regexp.MustCompile(`<autoFilter ref="([^"]+)"`).FindStringSubmatch(sheetXML); m == nil || strings.ReplaceAll(m[1], "$", "") != "A1:E5" {
		t.Errorf("LibreOffice's autofilter = %q, want A1:E5", m)
	}
	// excelize does not read the colours back from LibreOffice's file, so
	// look at the rule itself.
	if !regexp.MustCompile(`<conditionalFormatting sqref="B2:B5">.*?<colorScale>.*?<cfvo type="percentile" val="50"/?>.*?<color rgb="FFFFEB84"/?>`).MatchString(sheetXML) {
		t.Errorf("LibreOffice's file lacks the 3-colour scale on B2:B5")
	}
}

// benchRows produces n rows of 8 columns: text of quote length, a
// formula-like string, numbers and a date.
func benchRows(n int) Rows {
	quote := "I suppose it's about where the role starts and stops, and who decides that, really."
	day := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	return func(emit func([]any) error) error {
		row := make([]any, 8)
		for i := 0; i < n; i++ {
			row[0] = "Making sense of the role"
			row[1] = "boundaries"
			row[2] = quote
			row[3] = "(Interview " + strconv.Itoa(i%40+1) + ")"
			row[4] = i
			row[5] = float64(i%100) / 100
			row[6] = day
			row[7] = "-" + strconv.Itoa(i%7)
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	}
}

var benchColumns = []Column{
	{Title: "Theme"}, {Title: "Code"}, {Title: "Extract", Wrap: true}, {Title: "Citation"},
	{Title: "Position"}, {Title: "Share", NumFmt: "0%"}, {Title: "Date"}, {Title: "Memo"},
}

// BenchmarkWriteXLSX100k writes 100,000 rows of 8 columns to an xlsx file.
// B/op counts all allocation, not the peak; for peak memory run the
// compiled test binary under /usr/bin/time -v:
//
//	go test -c -o export.test ./export/
//	/usr/bin/time -v ./export.test -test.run '^$' -test.bench WriteXLSX100k -test.benchtime 1x
func BenchmarkWriteXLSX100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.xlsx")
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteXLSX(path, Sheet{Name: "Extracts", Table: Table{Columns: benchColumns, Rows: benchRows(100000)}, FreezeHeader: true, AutoFilter: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(100000, "rows/op")
}

// Excel serial numbers of dates and times, as Excel shows them (it counts
// the 29 February 1900 that never was).
func TestExcelSerial(t *testing.T) {
	plus2 := time.FixedZone("+02:00", 2*60*60)
	tests := []struct {
		t    time.Time
		want float64
		ok   bool
	}{
		{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), 1, true},
		{time.Date(1900, 2, 28, 0, 0, 0, 0, time.UTC), 59, true},
		{time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC), 61, true},
		{time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), 45352, true},
		{time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), 45352.5, true},
		{time.Date(2024, 3, 1, 6, 0, 0, 0, plus2), 45352.25, true}, // the wall clock, not UTC
		{time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC), 0, false},
		{time.Date(1850, 6, 1, 0, 0, 0, 0, time.UTC), 0, false},
	}
	for _, tt := range tests {
		got, ok := excelSerial(tt.t)
		if ok != tt.ok || (ok && math.Abs(got-tt.want) > 1e-9) {
			t.Errorf("excelSerial(%v) = %v, %v; want %v, %v", tt.t, got, ok, tt.want, tt.ok)
		}
	}
}

// Text that looks like the _xHHHH_ escapes of spreadsheet strings reads
// back as written, however the sequences touch or overlap.
func TestXLSXEscapeLikeText(t *testing.T) {
	texts := []string{
		"_x0041_", "_x005F_x0041_", "a_x0041__x0042_b", "__x0041__", "_x00e9_ and _X0041_", "_x004_", "_x0041",
		"x_x_x_", "tail_x12AB_", "\r\nCR LF & <tag> \"q\" 'a'", " leading and trailing ",
	}
	var rows [][]any
	for _, s := range texts {
		rows = append(rows, []any{s})
	}
	f, _ := writeXLSX(t, Sheet{Name: "T", Table: Table{Columns: []Column{{Title: "Text"}}, Rows: rowsOf(rows...)}})
	for i, want := range texts {
		got, err := f.GetCellValue("T", "A"+strconv.Itoa(i+2))
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("row %d = %q, want %q", i+2, got, want)
		}
	}
}

// Numbers keep Excel's 15 significant digits, in plain decimals.
func TestExcelNumber(t *testing.T) {
	for _, tt := range []struct {
		f    float64
		want string
	}{
		{0.25, "0.25"}, {-7, "-7"}, {1e21, "1000000000000000000000"}, {1.0 / 3, "0.333333333333333"},
		{2.0 / 3, "0.666666666666667"}, {123456789.123456789, "123456789.123457"}, {1e-7, "0.0000001"},
	} {
		if got := string(appendExcelNumber([]byte("x"), tt.f, 64)); got != "x"+tt.want {
			t.Errorf("appendExcelNumber(%v) = %q, want x%q", tt.f, got, tt.want)
		}
	}
}
