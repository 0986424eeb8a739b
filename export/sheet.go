package export

import (
	"archive/zip"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
	"github.com/thematic-qda/thematic/internal/fsx"
)

// CodingSheet is a coding sheet to write: a workbook a co-author fills in
// with Excel or LibreOffice, without thematic, and that 'thematic sheet
// import' reads back as the co-author's codings (see analysis.ImportSheet
// for the layout and the checks).
type CodingSheet struct {
	// About gives the project, the coder the sheet is for, the unit, the
	// roles listed and the time; with From set the sheet is a review of
	// From's codings. Its Mode, Codes and Sources are filled in by the
	// writer from the fields below.
	About analysis.SheetAbout
	// Codebook fills the Codebook sheet (every node, in file order).
	Codebook *codebook.Codebook
	// Codes are the code columns of a codes sheet, in order; for a review
	// sheet, the codes whose codings are listed (nil: every code).
	Codes []*codebook.Node
	// Sources are the sources to list, with their text, in order.
	Sources []*corpus.Source
	// Cite gives a source's citation label; nil shows the source id.
	Cite func(src *corpus.Source) string
	// Review holds the codings to review (those of About.From). Orphaned
	// codings, codings of other sources or codes, and codings outside
	// About.Roles are left out.
	Review []analysis.Coding
}

// SheetStats tell what a coding sheet holds.
type SheetStats struct {
	Rows    int // data rows
	Sources int // sources with at least one row
	Skipped int // review codings left out: orphaned, outside the text, or of a code id a key cannot hold
}

// SheetCellText is a source's text as a coding sheet's cell holds it: made
// safe for XML (CleanText) and cut to what a cell holds (FitCell). Import
// compares the cells with it (analysis.SheetImportOptions.CellText).
func SheetCellText(s string) string { return FitCell(CleanText(s)) }

// WriteCodingSheet writes the sheet at path, atomically.
func WriteCodingSheet(path string, cs *CodingSheet) (SheetStats, error) {
	var st SheetStats
	err := fsx.WriteWith(path, 0o644, func(w io.Writer) error {
		var err error
		st, err = EncodeCodingSheet(w, cs)
		return err
	})
	return st, err
}

// sheetRow is one data row to write: a segment (codes mode) or a coding
// (review mode) of a source.
type sheetRow struct {
	src *corpus.Source
	seg corpus.Segment   // codes mode
	c   *analysis.Coding // review mode
}

// EncodeCodingSheet writes the sheet as an xlsx workbook to w, with three
// sheets:
//
//   - Coding: a hidden key column, then Citation, Speaker, Line and the
//     wrapped Text of each segment; a codes sheet has one column per code
//     (the id in row 1, with the definition as a comment, the name in row 2)
//     whose cells take x from a drop-down; a review sheet has the coded
//     Quote, the Code, a Decision (accept, reject, correct), a Correct code
//     (the codebook's ids) and a Note. Two header rows, frozen with the
//     text columns, and filter buttons;
//   - Codebook: id, name, level, path, definition, when to use and when not
//     to use, and examples of every node;
//   - About (hidden and protected): what import checks — the project, the
//     coder, the unit, the codes and each source's sha256.
//
// Text cells are always text, never formulas. It fails when there is no
// row to write.
func EncodeCodingSheet(w io.Writer, cs *CodingSheet) (SheetStats, error) {
	var st SheetStats
	about := cs.About
	review := about.From != ""
	about.Mode = analysis.SheetModeCodes
	if review {
		about.Mode = analysis.SheetModeReview
	}
	if err := analysis.ValidCoderName(about.Coder); err != nil {
		return st, fmt.Errorf("export: coding sheet: %w", err)
	}
	switch about.Unit {
	case corpus.UnitSentence, corpus.UnitParagraph, corpus.UnitTurn:
	default:
		return st, fmt.Errorf("export: coding sheet: unit %q: want sentence, paragraph or turn", about.Unit)
	}
	if cs.Codebook == nil {
		return st, errors.New("export: coding sheet: no codebook")
	}
	if !review && len(cs.Codes) == 0 {
		return st, errors.New("export: coding sheet: no codes to code with")
	}
	about.Codes = nil
	for _, n := range cs.Codes {
		about.Codes = append(about.Codes, n.ID)
	}
	var rows []sheetRow
	if review {
		rows, st.Skipped = reviewRows(cs)
	} else {
		rows = codesRows(cs)
	}
	if len(rows) == 0 {
		what := "no segments"
		if review {
			what = "no codings of " + about.From
		}
		return st, errs.New("", 0, 0, "%s to put on the sheet (check --sources, --codes, --roles)", what)
	}
	if len(rows)+analysis.SheetHeaderRows > maxSheetRows {
		return st, errs.New("", 0, 0, "%d rows, more than a worksheet holds; make several sheets with --sources", len(rows))
	}
	about.Sources = nil
	for i, r := range rows {
		if i == 0 || r.src != rows[i-1].src {
			about.Sources = append(about.Sources, analysis.SheetSource{ID: r.src.ID, SHA: r.src.SHA})
		}
	}
	st.Rows, st.Sources = len(rows), len(about.Sources)

	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName(f.GetSheetName(0), analysis.SheetNameCoding); err != nil {
		return st, err
	}
	for _, name := range []string{analysis.SheetNameCodebook, analysis.SheetNameAbout} {
		if _, err := f.NewSheet(name); err != nil {
			return st, err
		}
	}
	// Hide About now: SetSheetVisible reads every sheet, which after
	// streaming would mean reading the rows back.
	if err := f.SetSheetVisible(analysis.SheetNameAbout, false); err != nil {
		return st, err
	}
	ss, err := newSheetStyles(f)
	if err != nil {
		return st, err
	}
	sw := &sheetWriter{f: f, st: ss, cs: cs, about: &about}
	if review {
		err = sw.reviewSheet(rows)
	} else {
		err = sw.codesSheet(rows)
	}
	if err != nil {
		return st, fmt.Errorf("export: sheet %q: %w", analysis.SheetNameCoding, err)
	}
	if err := sw.codebookSheet(); err != nil {
		return st, fmt.Errorf("export: sheet %q: %w", analysis.SheetNameCodebook, err)
	}
	if err := sw.aboutSheet(); err != nil {
		return st, fmt.Errorf("export: sheet %q: %w", analysis.SheetNameAbout, err)
	}
	if err := f.Write(w); err != nil {
		return st, fmt.Errorf("export: xlsx: %w", err)
	}
	return st, nil
}

// codesRows lists the segments of the unit (and roles) of every source.
func codesRows(cs *CodingSheet) []sheetRow {
	var rows []sheetRow
	for _, src := range cs.Sources {
		for _, seg := range analysis.SheetSegments(src, cs.About.Unit, cs.About.Roles) {
			rows = append(rows, sheetRow{src: src, seg: seg})
		}
	}
	return rows
}

// reviewRows lists the codings to review in source order, then by span and
// code, one row per distinct span and code.
func reviewRows(cs *CodingSheet) (rows []sheetRow, skipped int) {
	order := make(map[string]int, len(cs.Sources))
	for i, s := range cs.Sources {
		order[s.ID] = i
	}
	var codes map[string]bool
	if len(cs.Codes) > 0 {
		codes = map[string]bool{}
		for _, n := range cs.Codes {
			codes[n.ID] = true
		}
	}
	var picked []*analysis.Coding
	for i := range cs.Review {
		c := &cs.Review[i]
		if _, ok := order[c.Source]; !ok || codes != nil && !codes[c.Code] {
			continue
		}
		picked = append(picked, c)
	}
	slices.SortStableFunc(picked, func(a, b *analysis.Coding) int {
		return cmp.Or(cmp.Compare(order[a.Source], order[b.Source]), cmp.Compare(a.Start, b.Start),
			cmp.Compare(a.End, b.End), strings.Compare(a.Code, b.Code))
	})
	unitSegs := map[*corpus.Source][]corpus.Segment{}
	length := map[*corpus.Source]int{}
	for i, c := range picked {
		src := cs.Sources[order[c.Source]]
		n, ok := length[src]
		if !ok {
			n = utf8.RuneCountInString(src.Text)
			length[src] = n
		}
		key := analysis.SheetKey{Source: c.Source, Start: c.Start, End: c.End, Code: c.Code}
		if back, err := analysis.ParseSheetKey(key.String()); c.Orphan || c.End > n || err != nil || back != key {
			skipped++ // no longer placed, or a code id no key can hold
			continue
		}
		if i > 0 && picked[i-1].Source == c.Source && picked[i-1].Start == c.Start && picked[i-1].End == c.End && picked[i-1].Code == c.Code {
			continue
		}
		if len(cs.About.Roles) > 0 {
			segs, ok := unitSegs[src]
			if !ok {
				segs = analysis.SheetSegments(src, cs.About.Unit, nil)
				unitSegs[src] = segs
			}
			_, _, first := analysis.SheetContext(segs, c.Start, c.End)
			if first == nil || !slices.Contains(cs.About.Roles, first.Role) {
				continue
			}
		}
		rows = append(rows, sheetRow{src: src, c: c})
	}
	return rows, skipped
}

// sheetStyles are the cell styles of a coding sheet.
type sheetStyles struct {
	header, names, key, text, plain, number, mark int
}

func newSheetStyles(f *excelize.File) (*sheetStyles, error) {
	top := func(wrap bool) *excelize.Alignment {
		return &excelize.Alignment{Vertical: "top", WrapText: wrap}
	}
	thin := func(side string) excelize.Border { return excelize.Border{Type: side, Color: "#BFBFBF", Style: 1} }
	ss := &sheetStyles{}
	for _, d := range []struct {
		id *int
		s  excelize.Style
	}{
		{&ss.header, excelize.Style{
			Font:      &excelize.Font{Bold: true},
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"#E7E6E6"}},
			Alignment: &excelize.Alignment{Vertical: "center", WrapText: true},
		}},
		{&ss.names, excelize.Style{
			Font:      &excelize.Font{Italic: true, Color: "#404040"},
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"#F2F2F2"}},
			Border:    []excelize.Border{{Type: "bottom", Color: "#808080", Style: 1}},
			Alignment: top(true),
		}},
		{&ss.key, excelize.Style{Font: &excelize.Font{Color: "#808080", Size: 8}, Alignment: top(false)}},
		{&ss.text, excelize.Style{Alignment: top(true)}},
		{&ss.plain, excelize.Style{Alignment: top(false)}},
		{&ss.number, excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", Horizontal: "right"}}},
		// Cells to fill in: pale yellow with thin borders.
		{&ss.mark, excelize.Style{
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"#FFF2CC"}},
			Border:    []excelize.Border{thin("left"), thin("right"), thin("top"), thin("bottom")},
			Alignment: &excelize.Alignment{Vertical: "top", Horizontal: "center", WrapText: true},
		}},
	} {
		id, err := f.NewStyle(&d.s)
		if err != nil {
			return nil, err
		}
		*d.id = id
	}
	return ss, nil
}

// sheetWriter writes the sheets of one coding sheet.
type sheetWriter struct {
	f     *excelize.File
	st    *sheetStyles
	cs    *CodingSheet
	about *analysis.SheetAbout
}

// sheetColumn is a column of a written sheet.
type sheetColumn struct {
	title string
	width float64
}

// start opens a stream on sheet with the columns' widths, column A hidden
// when hideKey, and panes frozen above row 1+ySplit and left of column
// 1+xSplit.
func (w *sheetWriter) start(sheet string, cols []sheetColumn, hideKey bool, xSplit, ySplit int) (*excelize.StreamWriter, error) {
	sw, err := w.f.NewStreamWriter(sheet)
	if err != nil {
		return nil, err
	}
	// excelize puts each new column width first; going from the last
	// column back leaves them in the ascending order Excel expects.
	for i := len(cols) - 1; i >= 0; i-- {
		if err := sw.SetColWidth(i+1, i+1, cols[i].width); err != nil {
			return nil, err
		}
	}
	if hideKey {
		if err := sw.SetColVisible(1, 1, false); err != nil {
			return nil, err
		}
	}
	if ySplit > 0 {
		top, _ := excelize.CoordinatesToCellName(xSplit+1, ySplit+1)
		pane := "bottomLeft"
		if xSplit > 0 {
			pane = "bottomRight"
		}
		err := sw.SetPanes(&excelize.Panes{
			Freeze: true, XSplit: xSplit, YSplit: ySplit, TopLeftCell: top, ActivePane: pane,
			Selection: []excelize.Selection{{SQRef: top, ActiveCell: top, Pane: pane}},
		})
		if err != nil {
			return nil, err
		}
	}
	return sw, nil
}

// text is a text cell, or an empty cell for "".
func (w *sheetWriter) text(s string, style int) any {
	if s == "" {
		return excelize.Cell{StyleID: style}
	}
	return excelize.Cell{StyleID: style, Value: SheetCellText(s)}
}

// headerRows writes rows 1 and 2 of the Coding sheet.
func (w *sheetWriter) headerRows(sw *excelize.StreamWriter, titles, names []string, nameStyle []int) error {
	h := make([]any, len(titles))
	n := make([]any, len(titles))
	for i := range titles {
		h[i] = w.text(titles[i], w.st.header)
		n[i] = w.text(names[i], nameStyle[i])
	}
	if err := sw.SetRow("A1", h); err != nil {
		return err
	}
	return sw.SetRow("A2", n)
}

// finish adds the filter buttons and drop-downs of the Coding sheet, which
// excelize wants after the rows and before Flush, and flushes.
func (w *sheetWriter) finish(sw *excelize.StreamWriter, ncol, nrows int, lists []*excelize.DataValidation) error {
	last := strconv.Itoa(nrows + analysis.SheetHeaderRows)
	lastCol, _ := excelize.ColumnNumberToName(ncol)
	if err := w.f.AutoFilter(analysis.SheetNameCoding, "A2:"+lastCol+last, nil); err != nil {
		return err
	}
	for _, dv := range lists {
		if err := w.f.AddDataValidation(analysis.SheetNameCoding, dv); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// dropDown is a list validation over columns first..lastCol (1-based) of
// the data rows.
func dropDown(first, lastCol, nrows int, title, msg string, set func(dv *excelize.DataValidation) error) (*excelize.DataValidation, error) {
	a, _ := excelize.CoordinatesToCellName(first, analysis.SheetHeaderRows+1)
	b, _ := excelize.CoordinatesToCellName(lastCol, analysis.SheetHeaderRows+nrows)
	dv := excelize.NewDataValidation(true)
	dv.Sqref = a + ":" + b
	if err := set(dv); err != nil {
		return nil, err
	}
	dv.SetError(excelize.DataValidationErrorStyleStop, title, msg)
	return dv, nil
}

// codesSheet writes the Coding sheet of a codes sheet.
func (w *sheetWriter) codesSheet(rows []sheetRow) error {
	fixed := len(analysis.SheetColumns)
	cols := []sheetColumn{{"Key", 18}, {"Citation", 16}, {"Speaker", 14}, {"Line", 6}, {"Text", 70}}
	titles := slices.Clone(analysis.SheetColumns)
	names := []string{analysis.SheetNamesMarker, "", "", "", "Mark with x each code that applies to the segment; leave other cells empty."}
	nameStyle := []int{w.st.key, w.st.names, w.st.names, w.st.names, w.st.names}
	for _, n := range w.cs.Codes {
		width := float64(min(max(utf16Len(n.ID)+2, 10), 24))
		cols = append(cols, sheetColumn{n.ID, width})
		titles = append(titles, n.ID)
		names = append(names, n.Name)
		nameStyle = append(nameStyle, w.st.names)
	}
	sw, err := w.start(analysis.SheetNameCoding, cols, true, fixed, analysis.SheetHeaderRows)
	if err != nil {
		return err
	}
	if err := w.headerRows(sw, titles, names, nameStyle); err != nil {
		return err
	}
	cells := make([]any, len(cols))
	var ti *analysis.TextIndex
	for i, r := range rows {
		if i == 0 || r.src != rows[i-1].src {
			ti = analysis.NewTextIndex(r.src.Text)
		}
		key := analysis.SheetKey{Source: r.src.ID, Segment: r.seg.ID}
		cells[0] = w.text(key.String(), w.st.key)
		cells[1] = w.text(w.cite(r.src), w.st.plain)
		cells[2] = w.text(r.seg.Speaker, w.st.plain)
		cells[3] = excelize.Cell{StyleID: w.st.number, Value: r.seg.Line}
		cells[4] = w.text(ti.Slice(r.seg.Start, r.seg.End), w.st.text)
		for j := fixed; j < len(cells); j++ {
			cells[j] = excelize.Cell{StyleID: w.st.mark}
		}
		if err := sw.SetRow("A"+strconv.Itoa(i+1+analysis.SheetHeaderRows), cells); err != nil {
			return err
		}
	}
	// The definitions as comments on the code ids; after the rows, as
	// excelize's stream writer wants.
	for i, n := range w.cs.Codes {
		if n.Definition == "" {
			continue
		}
		cell, _ := excelize.CoordinatesToCellName(fixed+i+1, 1)
		text := CleanText(n.Name + ": " + n.Definition)
		if err := w.f.AddComment(analysis.SheetNameCoding, excelize.Comment{Cell: cell, Author: "thematic", Text: cutRunes(text, 1000)}); err != nil {
			return err
		}
	}
	marks, err := dropDown(fixed+1, len(cols), len(rows), "Mark with x",
		"Mark a code that applies to the segment with x; leave the cell empty otherwise.",
		func(dv *excelize.DataValidation) error { return dv.SetDropList(analysis.SheetMarks[:1]) })
	if err != nil {
		return err
	}
	return w.finish(sw, len(cols), len(rows), []*excelize.DataValidation{marks})
}

// reviewSheet writes the Coding sheet of a review sheet.
func (w *sheetWriter) reviewSheet(rows []sheetRow) error {
	cols := []sheetColumn{{"Key", 18}, {"Citation", 16}, {"Speaker", 14}, {"Line", 6}, {"Text", 50},
		{"Quote", 45}, {"Code", 18}, {"Decision", 12}, {"Correct code", 18}, {"Note", 30}}
	titles := append(slices.Clone(analysis.SheetColumns), analysis.SheetReviewColumns...)
	names := []string{analysis.SheetNamesMarker, "", "", "", "The text around the coding",
		"The text " + w.about.From + " coded", "The code " + w.about.From + " gave it",
		"accept, reject or correct", "When correct: the right code (see Codebook)", "Optional; kept as the coding's memo"}
	nameStyle := make([]int, len(titles))
	for i := range nameStyle {
		nameStyle[i] = w.st.names
	}
	nameStyle[0] = w.st.key
	sw, err := w.start(analysis.SheetNameCoding, cols, true, 0, analysis.SheetHeaderRows)
	if err != nil {
		return err
	}
	if err := w.headerRows(sw, titles, names, nameStyle); err != nil {
		return err
	}
	type srcState struct {
		ti       *analysis.TextIndex
		unitSegs []corpus.Segment
		pos      int // code point up to which lines are counted
		line     int // line of pos
	}
	var cur *srcState
	var curSrc *corpus.Source
	cells := make([]any, len(cols))
	for i, r := range rows {
		if r.src != curSrc {
			curSrc = r.src
			cur = &srcState{ti: analysis.NewTextIndex(r.src.Text), unitSegs: analysis.SheetSegments(r.src, w.about.Unit, nil), line: 1}
		}
		c := r.c
		cur.line += strings.Count(cur.ti.Slice(cur.pos, c.Start), "\n")
		cur.pos = c.Start
		from, to, first := analysis.SheetContext(cur.unitSegs, c.Start, c.End)
		speaker := ""
		if first != nil {
			speaker = first.Speaker
		}
		key := analysis.SheetKey{Source: c.Source, Start: c.Start, End: c.End, Code: c.Code}
		cells[0] = w.text(key.String(), w.st.key)
		cells[1] = w.text(w.cite(r.src), w.st.plain)
		cells[2] = w.text(speaker, w.st.plain)
		cells[3] = excelize.Cell{StyleID: w.st.number, Value: cur.line}
		cells[4] = w.text(cur.ti.Slice(from, to), w.st.text)
		cells[5] = w.text(cur.ti.Slice(c.Start, c.End), w.st.text)
		cells[6] = w.text(c.Code, w.st.plain)
		for j := 7; j < len(cells); j++ {
			cells[j] = excelize.Cell{StyleID: w.st.mark}
		}
		if err := sw.SetRow("A"+strconv.Itoa(i+1+analysis.SheetHeaderRows), cells); err != nil {
			return err
		}
	}
	decisions, err := dropDown(8, 8, len(rows), "Decision", "Choose accept, reject or correct.",
		func(dv *excelize.DataValidation) error { return dv.SetDropList(analysis.SheetDecisions) })
	if err != nil {
		return err
	}
	lists := []*excelize.DataValidation{decisions}
	if n := len(w.cs.Codebook.Codes()); n > 0 {
		ids := "'" + analysis.SheetNameCodebook + "'!$A$2:$A$" + strconv.Itoa(n+1)
		correct, err := dropDown(9, 9, len(rows), "Correct code", "Choose a code id from the Codebook sheet.",
			func(dv *excelize.DataValidation) error { dv.SetSqrefDropList(ids); return nil })
		if err != nil {
			return err
		}
		lists = append(lists, correct)
	}
	return w.finish(sw, len(cols), len(rows), lists)
}

// cite is a source's citation label, or its id.
func (w *sheetWriter) cite(src *corpus.Source) string {
	if w.cs.Cite == nil {
		return src.ID
	}
	return w.cs.Cite(src)
}

// cutRunes cuts s to at most n code points, marking a cut with "…".
func cutRunes(s string, n int) string {
	i := 0
	for k := range s {
		if i == n {
			return s[:k] + "…"
		}
		i++
	}
	return s
}

// codebookSheet writes every node of the codebook, in file order.
func (w *sheetWriter) codebookSheet() error {
	cols := []sheetColumn{{"ID", 20}, {"Name", 28}, {"Level", 10}, {"Path", 40}, {"Definition", 50},
		{"When to use", 40}, {"When not to use", 40}, {"Examples", 50}}
	sw, err := w.start(analysis.SheetNameCodebook, cols, false, 0, 1)
	if err != nil {
		return err
	}
	h := make([]any, len(cols))
	for i, c := range cols {
		h[i] = w.text(c.title, w.st.header)
	}
	if err := sw.SetRow("A1", h); err != nil {
		return err
	}
	for i, n := range w.cs.Codebook.Codes() {
		var path []string
		for _, p := range n.Path() {
			path = append(path, p.Name)
		}
		row := []any{
			w.text(n.ID, w.st.plain), w.text(n.Name, w.st.text), w.text(n.Level, w.st.plain),
			w.text(strings.Join(path, " > "), w.st.text), w.text(n.Definition, w.st.text),
			w.text(n.WhenToUse, w.st.text), w.text(n.WhenNotToUse, w.st.text),
			w.text(strings.Join(n.Examples, "\n"), w.st.text),
		}
		if err := sw.SetRow("A"+strconv.Itoa(i+2), row); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// aboutSheet writes the About sheet, protected (EncodeCodingSheet hides it).
func (w *sheetWriter) aboutSheet() error {
	sw, err := w.start(analysis.SheetNameAbout, []sheetColumn{{"", 24}, {"", 40}, {"", 70}}, false, 0, 0)
	if err != nil {
		return err
	}
	for i, r := range w.about.Rows() {
		cells := make([]any, len(r))
		for j, v := range r {
			cells[j] = w.text(v, w.st.plain)
		}
		if err := sw.SetRow("A"+strconv.Itoa(i+1), cells); err != nil {
			return err
		}
	}
	if err := w.f.ProtectSheet(analysis.SheetNameAbout, &excelize.SheetProtectionOptions{SelectLockedCells: true, SelectUnlockedCells: true}); err != nil {
		return err
	}
	return sw.Flush()
}

// ReadCodingSheet reads the Coding and About sheets of a coding sheet as
// text, for analysis.ImportSheet. Cells are read as stored (raw values: a 1
// is "1" whatever its number format). A file that is not an xlsx workbook,
// or lacks either sheet, is an *errs.InputError naming path.
func ReadCodingSheet(path string) (*analysis.SheetData, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return DecodeCodingSheet(path, data)
}

// DecodeCodingSheet is ReadCodingSheet of a workbook's bytes; name labels
// errors.
func DecodeCodingSheet(name string, data []byte) (*analysis.SheetData, error) {
	if _, err := zip.NewReader(bytes.NewReader(data), int64(len(data))); err != nil {
		return nil, errs.New(name, 0, 0, "not an xlsx workbook (save it from Excel or LibreOffice as .xlsx)")
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, errs.New(name, 0, 0, "cannot read the workbook: %v (save it from Excel or LibreOffice as .xlsx)", err)
	}
	defer f.Close()
	d := &analysis.SheetData{}
	for _, s := range []struct {
		name string
		rows *[][]string
	}{{analysis.SheetNameCoding, &d.Coding}, {analysis.SheetNameAbout, &d.About}} {
		if idx, _ := f.GetSheetIndex(s.name); idx < 0 {
			return nil, errs.New(name, 0, 0, "no sheet %q: not a coding sheet made by 'thematic sheet export', or the sheet was renamed", s.name)
		}
		rows, err := readSheetRows(f, s.name)
		if err != nil {
			return nil, errs.New(name, 0, 0, "cannot read sheet %q: %v", s.name, err)
		}
		*s.rows = rows
	}
	return d, nil
}

// readSheetRows reads a sheet's cells row by row, keeping empty rows so that
// Rows[i] is row i+1.
func readSheetRows(f *excelize.File, sheet string) ([][]string, error) {
	it, err := f.Rows(sheet)
	if err != nil {
		return nil, err
	}
	var out [][]string
	last := 0
	for n := 1; it.Next(); n++ {
		cols, err := it.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			it.Close()
			return nil, err
		}
		out = append(out, cols)
		if len(cols) > 0 {
			last = n
		}
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	return out[:last], nil
}
