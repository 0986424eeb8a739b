package export

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/thematic-qda/thematic/internal/fsx"
)

// Sheet is one worksheet of a workbook: a Table and how to present it.
type Sheet struct {
	// Name must be a valid sheet name, unique in the workbook ignoring
	// case; make one from any text with SheetName.
	Name string
	Table
	// FreezeHeader keeps the header row in view while scrolling.
	FreezeHeader bool
	// AutoFilter puts filter buttons on the header over all the data.
	AutoFilter bool
	// HeatMaps colour numeric ranges of the sheet.
	HeatMaps []HeatMap
}

// HeatMap colours the numbers of a block of columns on a colour scale, the
// lowest value in Low and the highest in High (Excel conditional format).
// The block runs over all data rows but the last SkipLastRows.
type HeatMap struct {
	FirstCol, LastCol int // 0-based, inclusive
	SkipLastRows      int // rows at the bottom left out, such as a totals row
	// Colours as "#RRGGBB". Empty Low and High mean white to red. With Mid
	// set the scale has three colours and Mid marks the median (50th
	// percentile); without it, two.
	Low, Mid, High string
}

// Default heat-map colours.
const (
	heatLow  = "#FFFFFF"
	heatHigh = "#F8696B"
)

// maxSheetLinks is the most hyperlinks Excel keeps on one worksheet.
const maxSheetLinks = 65530

// WriteXLSX writes the sheets as an Excel workbook at path, atomically.
func WriteXLSX(path string, sheets ...Sheet) error {
	return fsx.WriteWith(path, 0o644, func(w io.Writer) error {
		return EncodeXLSX(w, sheets...)
	})
}

// EncodeXLSX writes the sheets as an Excel workbook to w, in the order
// given, the first one active. Rows are streamed: memory stays bounded
// however many rows there are (excelize keeps large sheets in temporary
// files until the workbook is written). Nothing is written to w unless
// every sheet's rows were produced without error.
//
// Strings are written as text cells, never formulas, after CleanText and
// FitCell; numbers as numbers; times as dates (yyyy-mm-dd) or date-times;
// booleans as TRUE/FALSE; a Link as blue underlined text linking to its
// target. NaN and infinite floats, which Excel cannot hold, are written as
// the text NaN, +Inf or -Inf.
func EncodeXLSX(w io.Writer, sheets ...Sheet) (err error) {
	if err := checkSheets(sheets); err != nil {
		return err
	}
	f := excelize.NewFile()
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("export: xlsx: %w", cerr)
		}
	}()
	if err := f.SetSheetName(f.GetSheetName(0), sheets[0].Name); err != nil {
		return fmt.Errorf("export: sheet %q: %w", sheets[0].Name, err)
	}
	names := map[string]string{sheetKey(sheets[0].Name): sheets[0].Name}
	for _, sh := range sheets[1:] {
		if _, err := f.NewSheet(sh.Name); err != nil {
			return fmt.Errorf("export: sheet %q: %w", sh.Name, err)
		}
		names[sheetKey(sh.Name)] = sh.Name
	}
	st := &styles{f: f, ids: map[styleKey]int{}}
	for _, sh := range sheets {
		if err := writeSheet(f, st, sh, names); err != nil {
			return err
		}
	}
	// The first sheet, excelize's default one renamed, is already the
	// active tab. (SetActiveSheet would reread the streamed sheets.)
	if err := f.Write(w); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	return nil
}

// checkSheets rejects what would make a broken workbook: no sheets, names
// Excel refuses or repeats, too many columns, heat maps outside the table.
func checkSheets(sheets []Sheet) error {
	if len(sheets) == 0 {
		return fmt.Errorf("export: xlsx: a workbook needs at least one sheet")
	}
	seen := map[string]bool{}
	for _, sh := range sheets {
		if why := checkSheetName(sh.Name); why != "" {
			return fmt.Errorf("export: sheet name %q %s (make names with SheetName)", sh.Name, why)
		}
		if seen[sheetKey(sh.Name)] {
			return fmt.Errorf("export: sheet name %q is used twice (make names with SheetName)", sh.Name)
		}
		seen[sheetKey(sh.Name)] = true
		if len(sh.Columns) == 0 {
			return fmt.Errorf("export: sheet %q: a table needs at least one column", sh.Name)
		}
		if len(sh.Columns) > maxSheetCols {
			return fmt.Errorf("export: sheet %q: %d columns, more than Excel's %d", sh.Name, len(sh.Columns), maxSheetCols)
		}
		for _, hm := range sh.HeatMaps {
			if hm.FirstCol < 0 || hm.LastCol < hm.FirstCol || hm.LastCol >= len(sh.Columns) || hm.SkipLastRows < 0 {
				return fmt.Errorf("export: sheet %q: heat map over columns %d-%d, rows but %d, is outside the %d columns", sh.Name, hm.FirstCol, hm.LastCol, hm.SkipLastRows, len(sh.Columns))
			}
		}
	}
	return nil
}

// pendingLink is a hyperlink to add once the sheet's rows are written.
type pendingLink struct {
	cell, location, tip string
}

// writeSheet streams one sheet. excelize's stream writer wants panes and
// column widths before the first row, and hyperlinks, the autofilter and
// conditional formats after the last row but before Flush (after Flush
// they would be silently dropped).
func writeSheet(f *excelize.File, st *styles, sh Sheet, names map[string]string) error {
	fail := func(err error) error { return fmt.Errorf("export: sheet %q: %w", sh.Name, err) }
	sw, err := f.NewStreamWriter(sh.Name)
	if err != nil {
		return fail(err)
	}
	ncol := len(sh.Columns)
	// excelize puts each new column width first; going from the last
	// column back leaves them in the ascending order Excel expects.
	for i := ncol - 1; i >= 0; i-- {
		if err := sw.SetColWidth(i+1, i+1, columnWidth(sh.Columns[i])); err != nil {
			return fail(err)
		}
	}
	if sh.FreezeHeader {
		err := sw.SetPanes(&excelize.Panes{
			Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
			Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}},
		})
		if err != nil {
			return fail(err)
		}
	}
	cols := make([]colStyles, ncol)
	header := make([]any, ncol)
	headerStyle, err := st.get(styleKey{kind: kindHeader})
	if err != nil {
		return fail(err)
	}
	for i, c := range sh.Columns {
		if cols[i], err = st.column(c); err != nil {
			return fail(err)
		}
		header[i] = excelize.Cell{StyleID: headerStyle, Value: FitCell(CleanText(c.Title))}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return fail(err)
	}

	var links []pendingLink
	cells := make([]any, ncol)
	rows := 0
	err = sh.stream(fmt.Sprintf("sheet %q", sh.Name), func(n int, row []any) error {
		if n >= maxSheetRows {
			return fmt.Errorf("export: sheet %q: more than %d rows, Excel's limit; split the export", sh.Name, maxSheetRows-1)
		}
		rows = n
		clear(cells)
		for i, v := range row {
			c, link, err := xlsxCell(st, cols[i], v)
			if err != nil {
				if errors.Is(err, errUnsupported) {
					return unsupported(fmt.Sprintf("sheet %q", sh.Name), n, i, v)
				}
				return fail(err)
			}
			cells[i] = c
			if link != nil {
				target, ok := names[sheetKey(link.Sheet)]
				if !ok {
					return fmt.Errorf("export: sheet %q: row %d, column %d: link to sheet %q, which is not in the workbook", sh.Name, n, i+1, link.Sheet)
				}
				ref := link.Cell
				if ref == "" {
					ref = "A1"
				}
				if _, _, err := excelize.CellNameToCoordinates(ref); err != nil {
					return fmt.Errorf("export: sheet %q: row %d, column %d: link to cell %q: %w", sh.Name, n, i+1, link.Cell, err)
				}
				if len(links) == maxSheetLinks {
					return fmt.Errorf("export: sheet %q: more than %d links, Excel's limit", sh.Name, maxSheetLinks)
				}
				cell, _ := excelize.CoordinatesToCellName(i+1, n+1)
				links = append(links, pendingLink{cell: cell, location: sheetRef(target) + "!" + strings.ToUpper(ref), tip: target})
			}
		}
		if err := sw.SetRow("A"+strconv.Itoa(n+1), cells); err != nil {
			return fail(err)
		}
		return nil
	})
	if err != nil {
		return err
	}

	for _, l := range links {
		tip := l.tip
		if err := f.SetCellHyperLink(sh.Name, l.cell, l.location, "Location", excelize.HyperlinkOpts{Tooltip: &tip}); err != nil {
			return fail(err)
		}
	}
	lastCol, _ := excelize.ColumnNumberToName(ncol)
	if sh.AutoFilter {
		if err := f.AutoFilter(sh.Name, "A1:"+lastCol+strconv.Itoa(rows+1), nil); err != nil {
			return fail(err)
		}
	}
	for _, hm := range sh.HeatMaps {
		last := rows - hm.SkipLastRows
		if last < 1 {
			continue
		}
		first, _ := excelize.ColumnNumberToName(hm.FirstCol + 1)
		end, _ := excelize.ColumnNumberToName(hm.LastCol + 1)
		ref := first + "2:" + end + strconv.Itoa(last+1)
		if err := f.SetConditionalFormat(sh.Name, ref, []excelize.ConditionalFormatOptions{hm.format()}); err != nil {
			return fail(err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fail(err)
	}
	return nil
}

// format is the heat map as an excelize colour-scale rule.
func (hm HeatMap) format() excelize.ConditionalFormatOptions {
	low, high := hm.Low, hm.High
	if low == "" && high == "" {
		low, high = heatLow, heatHigh
	}
	o := excelize.ConditionalFormatOptions{
		Type: "2_color_scale", Criteria: "=",
		MinType: "min", MaxType: "max", MinColor: low, MaxColor: high,
	}
	if hm.Mid != "" {
		o.Type = "3_color_scale"
		o.MidType, o.MidValue, o.MidColor = "percentile", "50", hm.Mid
	}
	return o
}

// sheetRef quotes a sheet name for use in a cell reference.
func sheetRef(name string) string {
	return "'" + strings.ReplaceAll(name, "'", "''") + "'"
}

// columnWidth is the column's width, or one chosen from its title.
func columnWidth(c Column) float64 {
	switch {
	case c.Width > 0:
		return min(c.Width, 255)
	case c.Wrap:
		return 60
	default:
		return float64(min(max(utf16Len(c.Title)+3, 10), 40))
	}
}

// errUnsupported marks a cell value of a type no writer handles.
var errUnsupported = errors.New("unsupported cell value")

// xlsxCell converts one value to what excelize's stream writer writes,
// with its style; link is set for a Link value.
func xlsxCell(st *styles, cs colStyles, v any) (cell any, link *Link, err error) {
	switch v := v.(type) {
	case nil:
		return nil, nil, nil
	case string:
		if v == "" {
			return nil, nil, nil
		}
		return excelize.Cell{StyleID: cs.text, Value: FitCell(CleanText(v))}, nil, nil
	case Link:
		return excelize.Cell{StyleID: cs.link, Value: FitCell(CleanText(v.Text))}, &v, nil
	case bool:
		return excelize.Cell{StyleID: cs.text, Value: v}, nil, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return excelize.Cell{StyleID: cs.text, Value: formatFloat(v, 64)}, nil, nil
		}
		return excelize.Cell{StyleID: cs.number, Value: v}, nil, nil
	case float32:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return excelize.Cell{StyleID: cs.text, Value: formatFloat(float64(v), 32)}, nil, nil
		}
		return excelize.Cell{StyleID: cs.number, Value: v}, nil, nil
	case time.Time:
		kind := kindDateTime
		if isDate(v) {
			kind = kindDate
		}
		id, err := st.get(styleKey{kind: kind, wrap: cs.wrap})
		if err != nil {
			return nil, nil, err
		}
		return excelize.Cell{StyleID: id, Value: v}, nil, nil
	}
	if i, ok := asInt64(v); ok {
		return excelize.Cell{StyleID: cs.number, Value: i}, nil, nil
	}
	if u, ok := asUint64(v); ok {
		return excelize.Cell{StyleID: cs.number, Value: u}, nil, nil
	}
	return nil, nil, errUnsupported
}

// Kinds of cell style.
const (
	kindHeader = iota
	kindText
	kindNumber
	kindLink
	kindDate
	kindDateTime
)

// styleKey identifies one cell style of the workbook.
type styleKey struct {
	kind   int
	wrap   bool
	numFmt string
}

// styles creates each cell style once per workbook.
type styles struct {
	f   *excelize.File
	ids map[styleKey]int
}

// colStyles are the style ids of one column's cells.
type colStyles struct {
	text, number, link int
	wrap               bool
}

// column returns the styles of column c.
func (st *styles) column(c Column) (cs colStyles, err error) {
	cs.wrap = c.Wrap
	if cs.text, err = st.get(styleKey{kind: kindText, wrap: c.Wrap}); err != nil {
		return cs, err
	}
	if cs.number, err = st.get(styleKey{kind: kindNumber, wrap: c.Wrap, numFmt: c.NumFmt}); err != nil {
		return cs, err
	}
	cs.link, err = st.get(styleKey{kind: kindLink, wrap: c.Wrap})
	return cs, err
}

// get returns the id of the style k, creating it on first use.
func (st *styles) get(k styleKey) (int, error) {
	if id, ok := st.ids[k]; ok {
		return id, nil
	}
	s := &excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: k.wrap}}
	switch k.kind {
	case kindHeader:
		s.Font = &excelize.Font{Bold: true}
		s.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"#E7E6E6"}}
		s.Border = []excelize.Border{{Type: "bottom", Color: "#808080", Style: 1}}
		s.Alignment = &excelize.Alignment{Vertical: "center", WrapText: true}
	case kindNumber:
		if k.numFmt != "" {
			nf := k.numFmt
			s.CustomNumFmt = &nf
		}
	case kindLink:
		s.Font = &excelize.Font{Color: "#0563C1", Underline: "single"}
	case kindDate:
		nf := "yyyy-mm-dd"
		s.CustomNumFmt = &nf
	case kindDateTime:
		nf := "yyyy-mm-dd hh:mm:ss"
		s.CustomNumFmt = &nf
	}
	id, err := st.f.NewStyle(s)
	if err != nil {
		return 0, err
	}
	st.ids[k] = id
	return id, nil
}
