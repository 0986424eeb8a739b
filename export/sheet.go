package export

import (
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

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
	// Sources are the sources to list, in order: with their text and
	// segments, or, when Read is set, with their metadata alone (as
	// corpus.Project.SourceInfos gives it).
	Sources []*corpus.Source
	// Read, when set, reads a source by id with its text and segments (as
	// corpus.Project.Source does with text). Each source of Sources is
	// read, in order, when its rows are written, and dropped after: the
	// sheet holds a source or two at a time however many it lists. Read is
	// called on a goroutine of its own, one call at a time, a source ahead
	// of the one being written; an error it returns stops the sheet and is
	// returned as it is.
	Read func(id string) (*corpus.Source, error)
	// Cite gives a source's citation label; nil shows the source id.
	Cite func(src *corpus.Source) string
	// Review holds the codings to review (those of About.From). Orphaned
	// codings, codings of other sources or codes, and codings outside
	// About.Roles are left out.
	Review []SheetCoding
	// MaxRows, when above 0, caps the data rows below the most a
	// worksheet holds: a sheet with more is refused.
	MaxRows int
}

// SheetCoding is a coding to review on a sheet: the little of an
// analysis.Coding that a review sheet needs (a quarter of its size), so
// that a sheet's worth of them stays small.
type SheetCoding struct {
	Source     string
	Start, End int // code points, as in analysis.Coding
	Code       string
	Orphan     bool // no longer placed in its source: left out
}

// SheetCodingOf returns what a review sheet needs of c.
func SheetCodingOf(c *analysis.Coding) SheetCoding {
	return SheetCoding{Source: c.Source, Start: c.Start, End: c.End, Code: c.Code, Orphan: c.Orphan}
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

// WriteCodingSheet writes the sheet at path, atomically: a sheet refused
// part of the way through (see EncodeCodingSheet) leaves path as it was.
// The workbook goes to the file as it is compressed, never whole in memory.
func WriteCodingSheet(path string, cs *CodingSheet) (SheetStats, error) {
	var st SheetStats
	err := fsx.WriteWith(path, 0o644, func(w io.Writer) error {
		save := func(f *excelize.File) error { return f.Write(w) }
		if file, ok := w.(*os.File); ok {
			save = func(f *excelize.File) error { return writeXLSXFile(f, file) }
		}
		var err error
		st, err = encodeCodingSheet(cs, save)
		return err
	})
	return st, err
}

// rowLimit is how many data rows the Coding sheet may have: a worksheet's
// rows less the header rows, or MaxRows when lower.
func (cs *CodingSheet) rowLimit() int {
	n := maxSheetRows - analysis.SheetHeaderRows
	if cs.MaxRows > 0 {
		n = min(n, cs.MaxRows)
	}
	return n
}

// errSheetTooMany is the error for a sheet whose rows pass limit.
func errSheetTooMany(limit int) error {
	return errs.New("", 0, 0, "more than %d rows, more than a worksheet holds; make several sheets with --sources", limit)
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
// Text cells are always text, never formulas. The sources are taken one
// at a time (see CodingSheet.Read) and nothing is written to w until the
// last is done: it fails, having written nothing, when there is no row to
// write, when the rows pass what a worksheet holds, or when a source
// cannot be read.
//
// The compressed workbook is held in memory until it is written to w;
// WriteCodingSheet writes it to its file as it goes.
func EncodeCodingSheet(w io.Writer, cs *CodingSheet) (SheetStats, error) {
	return encodeCodingSheet(cs, func(f *excelize.File) error { return f.Write(w) })
}

// encodeCodingSheet makes the workbook of EncodeCodingSheet and has save
// write it.
func encodeCodingSheet(cs *CodingSheet, save func(f *excelize.File) error) (SheetStats, error) {
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
	about.Sources = nil

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
		err = sw.reviewSheet()
	} else {
		err = sw.codesSheet()
	}
	st = sw.stats
	st.Sources = len(about.Sources)
	if err != nil {
		return st, err
	}
	if err := sw.codebookSheet(); err != nil {
		return st, fmt.Errorf("export: sheet %q: %w", analysis.SheetNameCodebook, err)
	}
	if err := sw.aboutSheet(); err != nil {
		return st, fmt.Errorf("export: sheet %q: %w", analysis.SheetNameAbout, err)
	}
	if err := save(f); err != nil {
		return st, fmt.Errorf("export: xlsx: %w", err)
	}
	return st, nil
}

// writeXLSXFile writes f's workbook to file, from its current offset, as
// it is compressed: excelize's own Write first makes the whole package in
// a buffer, which for a sheet of a million rows is hundreds of megabytes.
// The package is the one Write makes, the same parts compressed alike,
// down to the mark excelize puts on parts of 4 GiB or more (their local
// headers say zip64, version 4.5, which Excel checks): it is put here once
// the package is written, when the parts' sizes and places are known.
func writeXLSXFile(f *excelize.File, file *os.File) error {
	start, err := file.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(file, 256<<10)
	zw := &sheetZip{zw: zip.NewWriter(bw)}
	f.ZipWriter = func(io.Writer) excelize.ZipWriter { return zw }
	// The buffer excelize returns stays empty: the parts went to zw.
	if _, err := f.WriteToBuffer(); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if len(zw.big) == 0 {
		return nil
	}
	end, err := file.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	return markZip64(file, start, end-start, zw.big)
}

// sheetZip is the zip writer excelize writes a workbook through, counting
// what goes into each part.
type sheetZip struct {
	zw  *zip.Writer
	cur *sheetZipPart
	big []string // parts of more than 4 GiB - 1 bytes
}

// sheetZipPart counts the bytes written to a part.
type sheetZipPart struct {
	w    io.Writer
	name string
	n    int64
}

func (p *sheetZipPart) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.n += int64(n)
	return n, err
}

// done ends the count of the current part.
func (z *sheetZip) done() {
	if z.cur != nil && z.cur.n > math.MaxUint32 {
		z.big = append(z.big, z.cur.name)
	}
	z.cur = nil
}

func (z *sheetZip) Create(name string) (io.Writer, error) {
	z.done()
	w, err := z.zw.Create(name)
	if err != nil {
		return nil, err
	}
	z.cur = &sheetZipPart{w: w, name: name}
	return z.cur, nil
}

func (z *sheetZip) AddFS(fsys fs.FS) error {
	z.done()
	return z.zw.AddFS(fsys)
}

func (z *sheetZip) Close() error {
	z.done()
	return z.zw.Close()
}

// markZip64 sets to 4.5 (zip64) the version needed to extract in the local
// headers of the parts named, in the zip package of size bytes at offset
// start of file, as excelize does in the buffers it writes.
func markZip64(file *os.File, start, size int64, names []string) error {
	zr, err := zip.NewReader(io.NewSectionReader(file, start, size), size)
	if err != nil {
		return err
	}
	const localHeaderLen = 30 // before the name; archive/zip writes no extra field here
	for _, zf := range zr.File {
		if !slices.Contains(names, zf.Name) {
			continue
		}
		data, err := zf.DataOffset()
		if err != nil {
			return err
		}
		at := data - localHeaderLen - int64(len(zf.Name))
		h := make([]byte, localHeaderLen+len(zf.Name))
		if _, err := file.ReadAt(h, start+at); err != nil {
			return err
		}
		if string(h[:4]) != "PK\x03\x04" || binary.LittleEndian.Uint16(h[26:]) != uint16(len(zf.Name)) ||
			binary.LittleEndian.Uint16(h[28:]) != 0 || string(h[localHeaderLen:]) != zf.Name {
			return fmt.Errorf("zip part %s: local header not found", zf.Name)
		}
		if _, err := file.WriteAt([]byte{45, 0}, start+at+4); err != nil {
			return err
		}
	}
	return nil
}

// eachSource calls fn with each source of the sheet in order, with its
// text and segments: as given, or read with Read, the next one on another
// goroutine while fn takes the current one. Errors from Read and fn are
// returned as they are.
func (cs *CodingSheet) eachSource(fn func(src *corpus.Source) error) error {
	if cs.Read == nil {
		for _, src := range cs.Sources {
			if err := fn(src); err != nil {
				return err
			}
		}
		return nil
	}
	type read struct {
		src *corpus.Source
		err error
	}
	next := make(chan read) // unbuffered: one source read ahead, no more
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(next)
		for _, s := range cs.Sources {
			select {
			case <-quit:
				return
			default:
			}
			src, err := cs.Read(s.ID)
			select {
			case next <- read{src, err}:
			case <-quit:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		close(quit)
		<-done
	}()
	for r := range next {
		if r.err != nil {
			return r.err
		}
		if err := fn(r.src); err != nil {
			return err
		}
	}
	return nil
}

// reviewOrder returns the codings to review in source order, then by span
// and code (a stable sort: codings alike keep their order), as runs, one
// per source of cs.Sources. Codings of other sources or codes are left out.
func reviewOrder(cs *CodingSheet) [][]*SheetCoding {
	order := make(map[string]int32, len(cs.Sources))
	for i, s := range cs.Sources {
		order[s.ID] = int32(i)
	}
	var codes map[string]bool
	if len(cs.Codes) > 0 {
		codes = map[string]bool{}
		for _, n := range cs.Codes {
			codes[n.ID] = true
		}
	}
	// Count the codings of each source, then place them: a bucket per
	// source, in the codings' order.
	ord := make([]int32, len(cs.Review))
	count := make([]int, len(cs.Sources)+1)
	for i := range cs.Review {
		c := &cs.Review[i]
		o, ok := order[c.Source]
		if !ok || codes != nil && !codes[c.Code] {
			ord[i] = -1
			continue
		}
		ord[i] = o
		count[o+1]++
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	picked := make([]*SheetCoding, count[len(count)-1])
	at := slices.Clone(count[:len(cs.Sources)])
	for i, o := range ord {
		if o >= 0 {
			picked[at[o]] = &cs.Review[i]
			at[o]++
		}
	}
	runs := make([][]*SheetCoding, len(cs.Sources))
	for i := range runs {
		run := picked[count[i]:count[i+1]:count[i+1]]
		slices.SortStableFunc(run, func(a, b *SheetCoding) int {
			return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End), strings.Compare(a.Code, b.Code))
		})
		runs[i] = run
	}
	return runs
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
	stats SheetStats // Rows and Skipped, as the Coding sheet is written
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

// codesSheet writes the Coding sheet of a codes sheet: a row per segment
// of the unit (and roles) of each source.
func (w *sheetWriter) codesSheet() error {
	fail := func(err error) error { return fmt.Errorf("export: sheet %q: %w", analysis.SheetNameCoding, err) }
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
		return fail(err)
	}
	if err := w.headerRows(sw, titles, names, nameStyle); err != nil {
		return fail(err)
	}
	unit, roles := w.about.Unit, w.about.Roles
	listed := func(g *corpus.Segment) bool {
		return g.Unit == unit && (len(roles) == 0 || slices.Contains(roles, g.Role))
	}
	cells := make([]any, len(cols))
	mark := any(excelize.Cell{StyleID: w.st.mark}) // the same empty cell in every code column
	rows, limit := 0, w.cs.rowLimit()
	err = w.cs.eachSource(func(src *corpus.Source) error {
		n := 0
		for k := range src.Segments {
			if listed(&src.Segments[k]) {
				n++
			}
		}
		if n == 0 {
			return nil
		}
		if rows+n > limit {
			return errSheetTooMany(limit)
		}
		w.about.Sources = append(w.about.Sources, analysis.SheetSource{ID: src.ID, SHA: src.SHA})
		ti := analysis.NewTextIndex(src.Text)
		cite := w.text(w.cite(src), w.st.plain)
		for k := range src.Segments {
			seg := &src.Segments[k]
			if !listed(seg) {
				continue
			}
			rows++
			key := analysis.SheetKey{Source: src.ID, Segment: seg.ID}
			cells[0] = w.text(key.String(), w.st.key)
			cells[1] = cite
			cells[2] = w.text(seg.Speaker, w.st.plain)
			cells[3] = excelize.Cell{StyleID: w.st.number, Value: seg.Line}
			cells[4] = w.text(ti.Slice(seg.Start, seg.End), w.st.text)
			for j := fixed; j < len(cells); j++ {
				cells[j] = mark
			}
			if err := sw.SetRow("A"+strconv.Itoa(rows+analysis.SheetHeaderRows), cells); err != nil {
				return fail(err)
			}
		}
		return nil
	})
	w.stats.Rows = rows
	if err != nil {
		return err
	}
	if rows == 0 {
		return errs.New("", 0, 0, "no segments to put on the sheet (check --sources, --codes, --roles)")
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
			return fail(err)
		}
	}
	marks, err := dropDown(fixed+1, len(cols), rows, "Mark with x",
		"Mark a code that applies to the segment with x; leave the cell empty otherwise.",
		func(dv *excelize.DataValidation) error { return dv.SetDropList(analysis.SheetMarks[:1]) })
	if err != nil {
		return fail(err)
	}
	if err := w.finish(sw, len(cols), rows, []*excelize.DataValidation{marks}); err != nil {
		return fail(err)
	}
	return nil
}

// reviewSheet writes the Coding sheet of a review sheet: a row per coding
// to review, in source order, then by span and code, one per distinct span
// and code.
func (w *sheetWriter) reviewSheet() error {
	fail := func(err error) error { return fmt.Errorf("export: sheet %q: %w", analysis.SheetNameCoding, err) }
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
		return fail(err)
	}
	if err := w.headerRows(sw, titles, names, nameStyle); err != nil {
		return fail(err)
	}
	runs := reviewOrder(w.cs)
	roles := w.about.Roles
	cells := make([]any, len(cols))
	mark := any(excelize.Cell{StyleID: w.st.mark})
	rows, next, limit := 0, 0, w.cs.rowLimit()
	var unitSegs []corpus.Segment
	err = w.cs.eachSource(func(src *corpus.Source) error {
		run := runs[next]
		runs[next] = nil
		next++
		if len(run) == 0 {
			return nil
		}
		ti := analysis.NewTextIndex(src.Text)
		// The unit's segments (analysis.SheetSegments without roles), in
		// a buffer each source reuses.
		unitSegs = unitSegs[:0]
		for k := range src.Segments {
			if src.Segments[k].Unit == w.about.Unit {
				unitSegs = append(unitSegs, src.Segments[k])
			}
		}
		var cite any
		pos, line := 0, 1 // lines are counted up to code point pos
		for j, c := range run {
			key := analysis.SheetKey{Source: c.Source, Start: c.Start, End: c.End, Code: c.Code}
			ks := key.String()
			if back, err := analysis.ParseSheetKey(ks); c.Orphan || c.End > ti.Len() || err != nil || back != key {
				w.stats.Skipped++ // no longer placed, or a code id no key can hold
				continue
			}
			if j > 0 && run[j-1].Start == c.Start && run[j-1].End == c.End && run[j-1].Code == c.Code {
				continue // listed once
			}
			from, to, first := analysis.SheetContext(unitSegs, c.Start, c.End)
			if len(roles) > 0 && (first == nil || !slices.Contains(roles, first.Role)) {
				continue
			}
			if rows++; rows > limit {
				return errSheetTooMany(limit)
			}
			if cite == nil {
				w.about.Sources = append(w.about.Sources, analysis.SheetSource{ID: src.ID, SHA: src.SHA})
				cite = w.text(w.cite(src), w.st.plain)
			}
			line += strings.Count(ti.Slice(pos, c.Start), "\n")
			pos = c.Start
			speaker := ""
			if first != nil {
				speaker = first.Speaker
			}
			cells[0] = w.text(ks, w.st.key)
			cells[1] = cite
			cells[2] = w.text(speaker, w.st.plain)
			cells[3] = excelize.Cell{StyleID: w.st.number, Value: line}
			cells[4] = w.text(ti.Slice(from, to), w.st.text)
			cells[5] = w.text(ti.Slice(c.Start, c.End), w.st.text)
			cells[6] = w.text(c.Code, w.st.plain)
			for k := 7; k < len(cells); k++ {
				cells[k] = mark
			}
			if err := sw.SetRow("A"+strconv.Itoa(rows+analysis.SheetHeaderRows), cells); err != nil {
				return fail(err)
			}
		}
		return nil
	})
	w.stats.Rows = rows
	if err != nil {
		return err
	}
	if rows == 0 {
		return errs.New("", 0, 0, "no codings of %s to put on the sheet (check --sources, --codes, --roles)", w.about.From)
	}
	decisions, err := dropDown(8, 8, rows, "Decision", "Choose accept, reject or correct.",
		func(dv *excelize.DataValidation) error { return dv.SetDropList(analysis.SheetDecisions) })
	if err != nil {
		return fail(err)
	}
	lists := []*excelize.DataValidation{decisions}
	if n := len(w.cs.Codebook.Codes()); n > 0 {
		ids := "'" + analysis.SheetNameCodebook + "'!$A$2:$A$" + strconv.Itoa(n+1)
		correct, err := dropDown(9, 9, rows, "Correct code", "Choose a code id from the Codebook sheet.",
			func(dv *excelize.DataValidation) error { dv.SetSqrefDropList(ids); return nil })
		if err != nil {
			return fail(err)
		}
		lists = append(lists, correct)
	}
	if err := w.finish(sw, len(cols), rows, lists); err != nil {
		return fail(err)
	}
	return nil
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
// text, for analysis.ImportSheet: the Coding sheet a row at a time into
// the compact analysis.SheetRows, the About sheet whole. Cells are read as
// stored (raw values: a 1 is "1" whatever its number format). A file that
// is not an xlsx workbook, or lacks either sheet, is an *errs.InputError
// naming path.
func ReadCodingSheet(path string) (*analysis.SheetData, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		// Reading it gives the error: "is a directory".
		if _, err := file.Read(make([]byte, 1)); err != nil {
			return nil, err
		}
	}
	return decodeCodingSheet(path, file, fi.Size())
}

// DecodeCodingSheet is ReadCodingSheet of a workbook's bytes; name labels
// errors.
func DecodeCodingSheet(name string, data []byte) (*analysis.SheetData, error) {
	return decodeCodingSheet(name, bytes.NewReader(data), int64(len(data)))
}

// decodeCodingSheet reads a coding sheet of size bytes from r, which is at
// its start. The workbook is read into memory once (by excelize), not kept
// beside.
func decodeCodingSheet(name string, r interface {
	io.Reader
	io.ReaderAt
}, size int64) (*analysis.SheetData, error) {
	if _, err := zip.NewReader(r, size); err != nil {
		return nil, errs.New(name, 0, 0, "not an xlsx workbook (save it from Excel or LibreOffice as .xlsx)")
	}
	f, err := excelize.OpenReader(r)
	if err != nil {
		return nil, errs.New(name, 0, 0, "cannot read the workbook: %v (save it from Excel or LibreOffice as .xlsx)", err)
	}
	defer f.Close()
	d := &analysis.SheetData{}
	for _, s := range []struct {
		name string
		add  func(cells []string)
	}{
		{analysis.SheetNameCoding, d.Coding.Add},
		{analysis.SheetNameAbout, func(cells []string) { d.About = append(d.About, cells) }},
	} {
		if idx, _ := f.GetSheetIndex(s.name); idx < 0 {
			return nil, errs.New(name, 0, 0, "no sheet %q: not a coding sheet made by 'thematic sheet export', or the sheet was renamed", s.name)
		}
		if err := readSheetRows(f, s.name, s.add); err != nil {
			return nil, errs.New(name, 0, 0, "cannot read sheet %q: %v", s.name, err)
		}
	}
	d.About = slices.Clip(d.About)
	return d, nil
}

// readSheetRows reads a sheet's cells a row at a time, as excelize's
// iterator reads them from the workbook, and passes each row to add, row 1
// first, empty rows too: the n-th call is row n. Empty rows at the end are
// left out.
func readSheetRows(f *excelize.File, sheet string, add func(cells []string)) error {
	it, err := f.Rows(sheet)
	if err != nil {
		return err
	}
	empty := 0 // empty rows read and not yet passed on
	for it.Next() {
		cols, err := it.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			it.Close()
			return err
		}
		if len(cols) == 0 {
			empty++
			continue
		}
		for ; empty > 0; empty-- {
			add(nil)
		}
		add(cols)
	}
	return it.Close()
}
