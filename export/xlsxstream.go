package export

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// The workbook is written as SpreadsheetML (ECMA-376) by hand rather than
// through excelize: excelize's stream writer keeps every sheet under 16 MB
// in memory until the whole workbook is written, which for an export of
// 100,000 extracts on ten theme sheets is over 100 MB, and its per-cell work
// doubles the time. Here each row goes through the deflate stream of its
// zip entry as soon as it is made. The parts are the few a workbook needs:
// content types, relationships, the workbook (sheets, filter ranges),
// styles, and one worksheet per sheet.

// xlsxDeflate is the compression level of the workbook's parts: the
// fastest, since the XML of a large sheet compresses well at any level and
// the time goes with the level.
const xlsxDeflate = flate.BestSpeed

// XML namespaces and relationship types of SpreadsheetML.
const (
	nsMain       = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
	nsRel        = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	nsPkgRel     = "http://schemas.openxmlformats.org/package/2006/relationships"
	nsCT         = "http://schemas.openxmlformats.org/package/2006/content-types"
	relDocument  = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
	relWorksheet = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"
	relStyles    = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
	relTheme     = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme"
	ctWorkbook   = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
	ctWorksheet  = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
	ctStyles     = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
	ctTheme      = "application/vnd.openxmlformats-officedocument.theme+xml"
	xmlDecl      = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
)

// writeWorkbook writes checked sheets as an xlsx package to w. On an error
// w holds part of a package, which the callers throw away.
func writeWorkbook(w io.Writer, sheets []Sheet) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	zw := zip.NewWriter(bw)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, xlsxDeflate)
	})
	wb := &xlsxBook{zw: zw, styles: newXLSXStyles(), names: map[string]string{}}
	for _, sh := range sheets {
		wb.names[sheetKey(sh.Name)] = sh.Name
	}
	fail := func(err error) error { return fmt.Errorf("export: xlsx: %w", err) }
	if err := wb.part("[Content_Types].xml", contentTypes(len(sheets))); err != nil {
		return fail(err)
	}
	if err := wb.part("_rels/.rels", xmlDecl+`<Relationships xmlns="`+nsPkgRel+`"><Relationship Id="rId1" Type="`+relDocument+`" Target="xl/workbook.xml"/></Relationships>`); err != nil {
		return fail(err)
	}
	filters := make([]string, len(sheets)) // autofilter range of each sheet, or ""
	for i, sh := range sheets {
		ref, err := wb.sheet(i, sh)
		if err != nil {
			return err
		}
		filters[i] = ref
	}
	if err := wb.part("xl/workbook.xml", workbookXML(sheets, filters)); err != nil {
		return fail(err)
	}
	if err := wb.part("xl/_rels/workbook.xml.rels", workbookRels(len(sheets))); err != nil {
		return fail(err)
	}
	if err := wb.part("xl/styles.xml", wb.styles.xml()); err != nil {
		return fail(err)
	}
	if err := wb.part("xl/theme/theme1.xml", themeXML()); err != nil {
		return fail(err)
	}
	if err := zw.Close(); err != nil {
		return fail(err)
	}
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	return nil
}

// xlsxBook is a workbook being written.
type xlsxBook struct {
	zw     *zip.Writer
	styles *xlsxStyles
	names  map[string]string // sheetKey -> sheet name, for links
}

// part writes a whole part of the package.
func (wb *xlsxBook) part(name, body string) error {
	w, err := wb.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, body)
	return err
}

func contentTypes(nsheets int) string {
	var b strings.Builder
	b.WriteString(xmlDecl + `<Types xmlns="` + nsCT + `">`)
	b.WriteString(`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>`)
	b.WriteString(`<Default Extension="xml" ContentType="application/xml"/>`)
	b.WriteString(`<Override PartName="/xl/workbook.xml" ContentType="` + ctWorkbook + `"/>`)
	b.WriteString(`<Override PartName="/xl/styles.xml" ContentType="` + ctStyles + `"/>`)
	b.WriteString(`<Override PartName="/xl/theme/theme1.xml" ContentType="` + ctTheme + `"/>`)
	for i := range nsheets {
		b.WriteString(`<Override PartName="/xl/worksheets/sheet` + strconv.Itoa(i+1) + `.xml" ContentType="` + ctWorksheet + `"/>`)
	}
	b.WriteString(`</Types>`)
	return b.String()
}

func workbookXML(sheets []Sheet, filters []string) string {
	var b strings.Builder
	b.WriteString(xmlDecl + `<workbook xmlns="` + nsMain + `" xmlns:r="` + nsRel + `">`)
	b.WriteString(`<bookViews><workbookView activeTab="0"/></bookViews><sheets>`)
	for i, sh := range sheets {
		n := strconv.Itoa(i + 1)
		b.WriteString(`<sheet name="` + xmlAttr(sh.Name) + `" sheetId="` + n + `" r:id="rId` + n + `"/>`)
	}
	b.WriteString(`</sheets>`)
	// Excel keeps each filter's range as a hidden name local to its sheet.
	any := false
	for i, ref := range filters {
		if ref == "" {
			continue
		}
		if !any {
			b.WriteString(`<definedNames>`)
			any = true
		}
		from, to, _ := strings.Cut(ref, ":")
		b.WriteString(`<definedName name="_xlnm._FilterDatabase" localSheetId="` + strconv.Itoa(i) + `" hidden="1">`)
		b.WriteString(xmlText(sheetRef(sheets[i].Name) + "!" + absRef(from) + ":" + absRef(to)))
		b.WriteString(`</definedName>`)
	}
	if any {
		b.WriteString(`</definedNames>`)
	}
	b.WriteString(`</workbook>`)
	return b.String()
}

// absRef makes a cell reference absolute: B7 -> $B$7.
func absRef(cell string) string {
	i := strings.IndexFunc(cell, func(r rune) bool { return r >= '0' && r <= '9' })
	if i < 0 {
		return "$" + cell
	}
	return "$" + cell[:i] + "$" + cell[i:]
}

func workbookRels(nsheets int) string {
	var b strings.Builder
	b.WriteString(xmlDecl + `<Relationships xmlns="` + nsPkgRel + `">`)
	for i := range nsheets {
		n := strconv.Itoa(i + 1)
		b.WriteString(`<Relationship Id="rId` + n + `" Type="` + relWorksheet + `" Target="worksheets/sheet` + n + `.xml"/>`)
	}
	b.WriteString(`<Relationship Id="rId` + strconv.Itoa(nsheets+1) + `" Type="` + relStyles + `" Target="styles.xml"/>`)
	b.WriteString(`<Relationship Id="rId` + strconv.Itoa(nsheets+2) + `" Type="` + relTheme + `" Target="theme/theme1.xml"/>`)
	b.WriteString(`</Relationships>`)
	return b.String()
}

// xlsxLink is a hyperlink of a sheet, written after its rows.
type xlsxLink struct {
	cell, location, tip string
}

// sheet streams sheet i and returns its autofilter range ("" for none).
// A worksheet's parts come in the order the schema sets: the view (frozen
// header), the column widths, the rows, then the autofilter, the colour
// scales and the hyperlinks, which are known only once the rows are.
func (wb *xlsxBook) sheet(i int, sh Sheet) (string, error) {
	fail := func(err error) error { return fmt.Errorf("export: sheet %q: %w", sh.Name, err) }
	zf, err := wb.zw.CreateHeader(&zip.FileHeader{Name: "xl/worksheets/sheet" + strconv.Itoa(i+1) + ".xml", Method: zip.Deflate})
	if err != nil {
		return "", fail(err)
	}
	w := bufio.NewWriterSize(zf, 64<<10)
	ncol := len(sh.Columns)
	colNames := make([]string, ncol)
	for c := range colNames {
		colNames[c], _ = excelize.ColumnNumberToName(c + 1)
	}

	b := make([]byte, 0, 4096)
	b = append(b, xmlDecl+`<worksheet xmlns="`+nsMain+`" xmlns:r="`+nsRel+`"><sheetViews><sheetView`...)
	if i == 0 {
		b = append(b, ` tabSelected="1"`...)
	}
	b = append(b, ` workbookViewId="0"`...)
	if sh.FreezeHeader {
		b = append(b, `><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView>`...)
	} else {
		b = append(b, `/>`...)
	}
	b = append(b, `</sheetViews><sheetFormatPr defaultRowHeight="15"/><cols>`...)
	for c, col := range sh.Columns {
		n := strconv.Itoa(c + 1)
		b = append(b, `<col min="`+n+`" max="`+n+`" width="`...)
		b = strconv.AppendFloat(b, columnWidth(col), 'f', -1, 64)
		b = append(b, `" customWidth="1"/>`...)
	}
	b = append(b, `</cols><sheetData>`...)

	cols := make([]colStyles, ncol)
	for c, col := range sh.Columns {
		cols[c] = wb.styles.column(col)
	}
	header := wb.styles.get(styleKey{kind: kindHeader})
	b = append(b, `<row r="1">`...)
	for c, col := range sh.Columns {
		b = appendTextCell(b, colNames[c], "1", header, FitCell(CleanText(col.Title)))
	}
	b = append(b, `</row>`...)
	if _, err := w.Write(b); err != nil {
		return "", fail(err)
	}

	var links []xlsxLink
	rows := 0
	err = sh.stream(fmt.Sprintf("sheet %q", sh.Name), func(n int, row []any) error {
		if n >= maxSheetRows {
			return fmt.Errorf("export: sheet %q: more than %d rows, Excel's limit; split the export", sh.Name, maxSheetRows-1)
		}
		rows = n
		r := strconv.Itoa(n + 1)
		b = append(b[:0], `<row r="`...)
		b = append(b, r...)
		b = append(b, `">`...)
		for c, v := range row {
			var link *Link
			var err error
			b, link, err = wb.appendCell(b, colNames[c], r, cols[c], v)
			if err != nil {
				if errors.Is(err, errUnsupported) {
					return unsupported(fmt.Sprintf("sheet %q", sh.Name), n, c, v)
				}
				return fail(err)
			}
			if link == nil {
				continue
			}
			target, ok := wb.names[sheetKey(link.Sheet)]
			if !ok {
				return fmt.Errorf("export: sheet %q: row %d, column %d: link to sheet %q, which is not in the workbook", sh.Name, n, c+1, link.Sheet)
			}
			ref := link.Cell
			if ref == "" {
				ref = "A1"
			}
			if _, _, err := excelize.CellNameToCoordinates(ref); err != nil {
				return fmt.Errorf("export: sheet %q: row %d, column %d: link to cell %q: %w", sh.Name, n, c+1, link.Cell, err)
			}
			if len(links) == maxSheetLinks {
				return fmt.Errorf("export: sheet %q: more than %d links, Excel's limit", sh.Name, maxSheetLinks)
			}
			links = append(links, xlsxLink{cell: colNames[c] + r, location: sheetRef(target) + "!" + strings.ToUpper(ref), tip: target})
		}
		b = append(b, `</row>`...)
		if _, err := w.Write(b); err != nil {
			return fail(err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}

	b = append(b[:0], `</sheetData>`...)
	filter := ""
	if sh.AutoFilter {
		filter = "A1:" + colNames[ncol-1] + strconv.Itoa(rows+1)
		b = append(b, `<autoFilter ref="`+filter+`"/>`...)
	}
	priority := 0
	for _, hm := range sh.HeatMaps {
		last := rows - hm.SkipLastRows
		if last < 1 {
			continue
		}
		priority++
		b = append(b, `<conditionalFormatting sqref="`+colNames[hm.FirstCol]+"2:"+colNames[hm.LastCol]+strconv.Itoa(last+1)+`">`...)
		b = append(b, `<cfRule type="colorScale" priority="`+strconv.Itoa(priority)+`"><colorScale>`...)
		low, mid, high := hm.Low, hm.Mid, hm.High
		if low == "" && high == "" {
			low, high = heatLow, heatHigh
		}
		b = append(b, `<cfvo type="min"/>`...)
		if mid != "" {
			b = append(b, `<cfvo type="percentile" val="50"/>`...)
		}
		b = append(b, `<cfvo type="max"/>`...)
		for _, c := range []string{low, mid, high} {
			if c != "" {
				b = append(b, `<color rgb="`+argb(c)+`"/>`...)
			}
		}
		b = append(b, `</colorScale></cfRule></conditionalFormatting>`...)
	}
	if len(links) > 0 {
		b = append(b, `<hyperlinks>`...)
		for _, l := range links {
			b = append(b, `<hyperlink ref="`+l.cell+`" location="`+xmlAttr(l.location)+`" tooltip="`+xmlAttr(l.tip)+`"/>`...)
		}
		b = append(b, `</hyperlinks>`...)
	}
	b = append(b, `</worksheet>`...)
	if _, err := w.Write(b); err != nil {
		return "", fail(err)
	}
	if err := w.Flush(); err != nil {
		return "", fail(err)
	}
	return filter, nil
}

// argb turns "#RRGGBB" (or "RRGGBB") into the opaque "FFRRGGBB" of
// SpreadsheetML.
func argb(c string) string {
	c = strings.ToUpper(strings.TrimPrefix(c, "#"))
	if len(c) == 6 {
		c = "FF" + c
	}
	return c
}

// appendCell appends the cell of value v at column col, row r, with its
// style; link is set for a Link value. A nil value or an empty string is
// no cell at all.
func (wb *xlsxBook) appendCell(b []byte, col, r string, cs colStyles, v any) (out []byte, link *Link, err error) {
	switch v := v.(type) {
	case nil:
		return b, nil, nil
	case string:
		if v == "" {
			return b, nil, nil
		}
		return appendTextCell(b, col, r, cs.text, FitCell(CleanText(v))), nil, nil
	case Link:
		return appendTextCell(b, col, r, cs.link, FitCell(CleanText(v.Text))), &v, nil
	case bool:
		b = appendValueStart(b, col, r, cs.text, "b")
		if v {
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
		return append(b, valueEnd...), nil, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return appendTextCell(b, col, r, cs.text, formatFloat(v, 64)), nil, nil
		}
		b = appendValueStart(b, col, r, cs.number, "")
		return append(appendExcelNumber(b, v, 64), valueEnd...), nil, nil
	case float32:
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return appendTextCell(b, col, r, cs.text, formatFloat(float64(v), 32)), nil, nil
		}
		b = appendValueStart(b, col, r, cs.number, "")
		return append(appendExcelNumber(b, float64(v), 32), valueEnd...), nil, nil
	case time.Time:
		kind := kindDateTime
		if isDate(v) {
			kind = kindDate
		}
		s := wb.styles.get(styleKey{kind: kind, wrap: cs.wrap})
		if serial, ok := excelSerial(v); ok {
			b = appendValueStart(b, col, r, s, "")
			return append(strconv.AppendFloat(b, serial, 'f', -1, 64), valueEnd...), nil, nil
		}
		return appendTextCell(b, col, r, s, v.Format(time.RFC3339Nano)), nil, nil
	}
	if i, ok := asInt64(v); ok {
		b = appendValueStart(b, col, r, cs.number, "")
		return append(strconv.AppendInt(b, i, 10), valueEnd...), nil, nil
	}
	if u, ok := asUint64(v); ok {
		b = appendValueStart(b, col, r, cs.number, "")
		return append(strconv.AppendUint(b, u, 10), valueEnd...), nil, nil
	}
	return b, nil, errUnsupported
}

// valueEnd closes a cell that appendValueStart opened.
const valueEnd = `</v></c>`

// appendValueStart opens a cell holding a value (a number, or a boolean
// with typ "b"); the value and valueEnd follow.
func appendValueStart(b []byte, col, r string, style int, typ string) []byte {
	b = append(b, `<c r="`...)
	b = append(b, col...)
	b = append(b, r...)
	b = appendStyle(b, style)
	if typ != "" {
		b = append(b, `" t="`...)
		b = append(b, typ...)
	}
	return append(b, `"><v>`...)
}

// appendTextCell appends a cell of inline text, which no reader takes for
// a formula.
func appendTextCell(b []byte, col, r string, style int, s string) []byte {
	b = append(b, `<c r="`...)
	b = append(b, col...)
	b = append(b, r...)
	b = appendStyle(b, style)
	b = append(b, `" t="inlineStr"><is><t xml:space="preserve">`...)
	b = appendCellText(b, s)
	return append(b, `</t></is></c>`...)
}

func appendStyle(b []byte, style int) []byte {
	if style == 0 {
		return b
	}
	b = append(b, `" s="`...)
	return strconv.AppendInt(b, int64(style), 10)
}

// appendCellText appends the text of a cell, escaped for XML. A carriage
// return is written as a character reference so that XML readers keep it;
// and since spreadsheet readers take _xHHHH_ in text for the character
// U+HHHH, an underscore that starts such a sequence is written as _x005F_,
// the escape of the underscore itself, so the text reads back as written.
func appendCellText(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\r':
			esc = "&#xD;"
		case '_':
			if !hexEscapeAt(s, i) {
				continue
			}
			esc = "_x005F_"
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		start = i + 1
	}
	return append(b, s[start:]...)
}

// hexEscapeAt reports whether s holds _xHHHH_ (H a hex digit) at i.
func hexEscapeAt(s string, i int) bool {
	if i+7 > len(s) || s[i+1] != 'x' || s[i+6] != '_' {
		return false
	}
	for _, c := range []byte(s[i+2 : i+6]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// xmlText escapes text for an element's content.
func xmlText(s string) string {
	return string(appendCellText(nil, s))
}

// xmlAttr escapes text for an attribute value in double quotes.
func xmlAttr(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\t':
			b.WriteString("&#x9;")
		case '\n':
			b.WriteString("&#xA;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// appendExcelNumber appends a number as a cell value: in plain decimals,
// rounded to the 15 significant digits Excel keeps.
func appendExcelNumber(b []byte, f float64, bits int) []byte {
	from := len(b)
	b = strconv.AppendFloat(b, f, 'f', -1, bits)
	digits := 0
	for _, c := range b[from:] {
		if c >= '0' && c <= '9' && (digits > 0 || c != '0') {
			digits++
		}
	}
	if digits <= 15 {
		return b
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
	if err != nil {
		return b
	}
	return strconv.AppendFloat(b[:from], r, 'f', -1, 64)
}

// Day zero of Excel's 1900 date system, and the day its count is one off
// from: Excel counts 29 February 1900, which did not exist.
var (
	excelDayZero = time.Date(1899, time.December, 31, 0, 0, 0, 0, time.UTC)
	excelLeapBug = time.Date(1900, time.March, 1, 0, 0, 0, 0, time.UTC)
)

// excelSerial is the Excel serial number (days since the start of 1900,
// with the time of day as a fraction) of t's wall-clock time, or false for
// a time before Excel's first day.
func excelSerial(t time.Time) (float64, bool) {
	wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	if !wall.After(excelDayZero) {
		return 0, false
	}
	d := wall.Sub(excelDayZero)
	const day = 24 * time.Hour
	serial := float64(d/day) + float64(d%day)/float64(day)
	if !wall.Before(excelLeapBug) {
		serial++
	}
	return serial, true
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

// colStyles are the style ids of one column's cells.
type colStyles struct {
	text, number, link int
	wrap               bool
}

// xlsxStyles are the cell styles of a workbook, each made on first use;
// styles.xml is written once every sheet is.
type xlsxStyles struct {
	ids    map[styleKey]int
	keys   []styleKey     // by id - 1 (id 0 is the default style)
	numFmt map[string]int // custom number format -> its id
	fmts   []string       // by id - firstNumFmt
}

// firstNumFmt is the first id of a custom number format.
const firstNumFmt = 164

func newXLSXStyles() *xlsxStyles {
	return &xlsxStyles{ids: map[styleKey]int{}, numFmt: map[string]int{}}
}

// column returns the styles of column c.
func (st *xlsxStyles) column(c Column) colStyles {
	return colStyles{
		text:   st.get(styleKey{kind: kindText, wrap: c.Wrap}),
		number: st.get(styleKey{kind: kindNumber, wrap: c.Wrap, numFmt: c.NumFmt}),
		link:   st.get(styleKey{kind: kindLink, wrap: c.Wrap}),
		wrap:   c.Wrap,
	}
}

// get returns the id of the style k, making it on first use.
func (st *xlsxStyles) get(k styleKey) int {
	if id, ok := st.ids[k]; ok {
		return id
	}
	switch k.kind {
	case kindDate:
		k.numFmt = "yyyy-mm-dd"
	case kindDateTime:
		k.numFmt = "yyyy-mm-dd hh:mm:ss"
	}
	if k.numFmt != "" {
		if _, ok := st.numFmt[k.numFmt]; !ok {
			st.numFmt[k.numFmt] = firstNumFmt + len(st.fmts)
			st.fmts = append(st.fmts, k.numFmt)
		}
	}
	st.keys = append(st.keys, k)
	id := len(st.keys)
	st.ids[k] = id
	return id
}

// Fonts, fills and borders of styles.xml, by index.
const (
	fontPlain, fontBold, fontLink = 0, 1, 2
	fillNone, fillHeader          = 0, 2 // 1 is the gray125 pattern Excel requires
	borderNone, borderHeader      = 0, 1
)

// xml is styles.xml.
func (st *xlsxStyles) xml() string {
	var b strings.Builder
	b.WriteString(xmlDecl + `<styleSheet xmlns="` + nsMain + `">`)
	if len(st.fmts) > 0 {
		b.WriteString(`<numFmts count="` + strconv.Itoa(len(st.fmts)) + `">`)
		for i, f := range st.fmts {
			b.WriteString(`<numFmt numFmtId="` + strconv.Itoa(firstNumFmt+i) + `" formatCode="` + xmlAttr(f) + `"/>`)
		}
		b.WriteString(`</numFmts>`)
	}
	const font = `<sz val="11"/><name val="Calibri"/><family val="2"/>`
	b.WriteString(`<fonts count="3"><font>` + font + `</font><font><b/>` + font + `</font>`)
	b.WriteString(`<font><u/><sz val="11"/><color rgb="FF0563C1"/><name val="Calibri"/><family val="2"/></font></fonts>`)
	b.WriteString(`<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>`)
	b.WriteString(`<fill><patternFill patternType="solid"><fgColor rgb="FFE7E6E6"/><bgColor indexed="64"/></patternFill></fill></fills>`)
	b.WriteString(`<borders count="2"><border><left/><right/><top/><bottom/><diagonal/></border>`)
	b.WriteString(`<border><left/><right/><top/><bottom style="thin"><color rgb="FF808080"/></bottom><diagonal/></border></borders>`)
	b.WriteString(`<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>`)
	b.WriteString(`<cellXfs count="` + strconv.Itoa(len(st.keys)+1) + `"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>`)
	for _, k := range st.keys {
		numFmt, font, fill, border, vertical := 0, fontPlain, fillNone, borderNone, "top"
		switch k.kind {
		case kindHeader:
			font, fill, border, vertical = fontBold, fillHeader, borderHeader, "center"
		case kindLink:
			font = fontLink
		}
		if k.numFmt != "" {
			numFmt = st.numFmt[k.numFmt]
		}
		fmt.Fprintf(&b, `<xf numFmtId="%d" fontId="%d" fillId="%d" borderId="%d" xfId="0"`, numFmt, font, fill, border)
		if numFmt != 0 {
			b.WriteString(` applyNumberFormat="1"`)
		}
		if font != fontPlain {
			b.WriteString(` applyFont="1"`)
		}
		if fill != fillNone {
			b.WriteString(` applyFill="1"`)
		}
		if border != borderNone {
			b.WriteString(` applyBorder="1"`)
		}
		b.WriteString(` applyAlignment="1"><alignment vertical="` + vertical + `"`)
		if k.wrap || k.kind == kindHeader {
			b.WriteString(` wrapText="1"`)
		}
		b.WriteString(`/></xf>`)
	}
	b.WriteString(`</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`)
	return b.String()
}

// themeXML is the workbook's theme: Office's usual colours and fonts, and
// the plainest formatting scheme the schema allows (three of each kind).
// Styles here give colours as RGB, not from the theme; readers still look
// for one.
func themeXML() string {
	var b strings.Builder
	b.WriteString(xmlDecl + `<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="thematic"><a:themeElements>`)
	b.WriteString(`<a:clrScheme name="thematic">`)
	b.WriteString(`<a:dk1><a:sysClr val="windowText" lastClr="000000"/></a:dk1><a:lt1><a:sysClr val="window" lastClr="FFFFFF"/></a:lt1>`)
	for _, c := range [][2]string{
		{"dk2", "44546A"}, {"lt2", "E7E6E6"}, {"accent1", "4472C4"}, {"accent2", "ED7D31"}, {"accent3", "A5A5A5"},
		{"accent4", "FFC000"}, {"accent5", "5B9BD5"}, {"accent6", "70AD47"}, {"hlink", "0563C1"}, {"folHlink", "954F72"},
	} {
		b.WriteString(`<a:` + c[0] + `><a:srgbClr val="` + c[1] + `"/></a:` + c[0] + `>`)
	}
	b.WriteString(`</a:clrScheme><a:fontScheme name="thematic">`)
	b.WriteString(`<a:majorFont><a:latin typeface="Calibri Light"/><a:ea typeface=""/><a:cs typeface=""/></a:majorFont>`)
	b.WriteString(`<a:minorFont><a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/></a:minorFont>`)
	b.WriteString(`</a:fontScheme><a:fmtScheme name="thematic">`)
	const fill = `<a:solidFill><a:schemeClr val="phClr"/></a:solidFill>`
	three := func(list, item string) {
		b.WriteString(`<a:` + list + `>` + item + item + item + `</a:` + list + `>`)
	}
	three("fillStyleLst", fill)
	three("lnStyleLst", `<a:ln w="6350">`+fill+`</a:ln>`)
	three("effectStyleLst", `<a:effectStyle><a:effectLst/></a:effectStyle>`)
	three("bgFillStyleLst", fill)
	b.WriteString(`</a:fmtScheme></a:themeElements></a:theme>`)
	return b.String()
}
