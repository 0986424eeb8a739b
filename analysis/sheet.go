package analysis

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// Coding sheets are workbooks a co-author fills in without thematic (in Excel
// or LibreOffice) and that come back as that co-author's codings. The export
// package writes and reads the workbook; this file holds what both sides
// share: the layout, the keys that tie a row to a source, and the checks that
// turn a filled-in sheet into codings.
//
// A sheet has one of two modes:
//
//   - codes: one row per segment (sentence, paragraph or turn), one column
//     per code; a marked cell codes the whole segment with that code;
//   - review: one row per coding of another coder (the "from" coder), with
//     a decision: accept (the coding is kept for the new coder), reject
//     (dropped) or correct (the same span, coded with the code given in the
//     "Correct code" column).
//
// The sheet "Coding" holds the rows; its column A holds each row's key,
// columns B to E the citation, speaker, line and text, which the co-author
// reads. Rows 1 and 2 are headers. The sheet "About" records where the
// sheet came from: the project, coder, unit, codes and the sha256 of every
// source's text, so that an import can tell that the sources did not change.

// Sheet modes.
const (
	SheetModeCodes  = "codes"  // one column per code, cells marked with x
	SheetModeReview = "review" // one row per coding of another coder, with a decision
)

// Sheet names and layout of a coding sheet.
const (
	SheetNameCoding   = "Coding"   // the rows to fill in
	SheetNameCodebook = "Codebook" // the codebook's definitions
	SheetNameAbout    = "About"    // where the sheet came from (hidden)

	// SheetFormat is cell A1 of the About sheet, and SheetVersion cell B1:
	// the layout this package writes and reads.
	SheetFormat  = "thematic coding sheet"
	SheetVersion = "1"

	// SheetNamesMarker is cell A2 of the Coding sheet: the second header row
	// (code names, instructions), never a row of data.
	SheetNamesMarker = "(header)"

	// SheetHeaderRows is the number of header rows of the Coding sheet.
	SheetHeaderRows = 2
)

// SheetColumns are the titles of the fixed columns of a Coding sheet, A to
// E in both modes. In codes mode every column after them is a code column
// headed by the code's id; in review mode the columns SheetReviewColumns
// follow.
var SheetColumns = []string{"Key", "Citation", "Speaker", "Line", "Text"}

// SheetReviewColumns are the titles of the columns after SheetColumns in
// review mode (F to J).
var SheetReviewColumns = []string{"Quote", "Code", "Decision", "Correct code", "Note"}

// Column indexes (0-based) of a Coding sheet.
const (
	sheetColKey = iota
	sheetColCitation
	sheetColSpeaker
	sheetColLine
	sheetColText
	sheetColQuote // review mode from here
	sheetColCode
	sheetColDecision
	sheetColCorrect
	sheetColNote
)

// SheetMarks are the marks a code cell may hold to code its segment, after
// surrounding spaces are trimmed and compared without regard to case. The
// first is the one the sheet's drop-down offers.
var SheetMarks = []string{"x", "1", "yes", "✓", "✔"}

// Review decisions, as the Decision column's drop-down offers them.
const (
	DecisionAccept  = "accept"
	DecisionReject  = "reject"
	DecisionCorrect = "correct"
)

// SheetDecisions lists the review decisions in drop-down order.
var SheetDecisions = []string{DecisionAccept, DecisionReject, DecisionCorrect}

// ParseSheetMark reads a code cell: marked for one of SheetMarks, not marked
// for an empty (or blank) cell; ok is false for anything else.
func ParseSheetMark(cell string) (marked, ok bool) {
	s := strings.TrimSpace(cell)
	if s == "" {
		return false, true
	}
	for _, m := range SheetMarks {
		if strings.EqualFold(s, m) {
			return true, true
		}
	}
	return false, false
}

// ParseSheetDecision reads a Decision cell: one of SheetDecisions, without
// regard to case or surrounding spaces, or "" for an empty cell; ok is false
// for anything else.
func ParseSheetDecision(cell string) (decision string, ok bool) {
	s := strings.TrimSpace(cell)
	if s == "" {
		return "", true
	}
	for _, d := range SheetDecisions {
		if strings.EqualFold(s, d) {
			return d, true
		}
	}
	return "", false
}

// SheetKey identifies what one row of a coding sheet is about. In codes mode
// it is a segment of a source, written "SOURCE:SEGMENT" ("p01-wave1:t3.p1.s2");
// in review mode a coding, written "SOURCE@START-END#CODE" with its span in
// code points ("p01-wave1@120-245#boundaries").
type SheetKey struct {
	Source  string
	Segment string // codes mode
	Start   int    // review mode
	End     int
	Code    string
}

// IsSpan reports whether the key names a coding's span (review mode) rather
// than a segment.
func (k SheetKey) IsSpan() bool { return k.Segment == "" }

// String writes the key as it appears in a sheet.
func (k SheetKey) String() string {
	if !k.IsSpan() {
		return k.Source + ":" + k.Segment
	}
	return k.Source + "@" + strconv.Itoa(k.Start) + "-" + strconv.Itoa(k.End) + "#" + k.Code
}

// maxSheetOffset bounds the offsets of a span key, far above any real text.
const maxSheetOffset = 1 << 40

// ParseSheetKey reads a key as SheetKey.String writes it. Source ids, segment
// ids and codes hold letters, digits, '.', '_' and '-' and start with a
// letter or digit (digits for segments too); offsets are whole numbers
// without sign or leading zeros, start before end. Spaces around the key are
// ignored.
func ParseSheetKey(s string) (SheetKey, error) {
	s = strings.TrimSpace(s)
	bad := func(why string) (SheetKey, error) {
		return SheetKey{}, fmt.Errorf("key %q %s", clipQuote(s), why)
	}
	if s == "" {
		return bad("is empty")
	}
	if i := strings.IndexByte(s, '@'); i >= 0 {
		src, rest := s[:i], s[i+1:]
		span, code, ok := strings.Cut(rest, "#")
		if !ok {
			return bad("has no '#' before the code (want SOURCE@START-END#CODE)")
		}
		a, b, ok := strings.Cut(span, "-")
		if !ok {
			return bad("has no '-' between start and end (want SOURCE@START-END#CODE)")
		}
		if !sheetName(src) {
			return bad("has an invalid source id")
		}
		if !sheetName(code) {
			return bad("has an invalid code id")
		}
		start, ok1 := sheetOffset(a)
		end, ok2 := sheetOffset(b)
		if !ok1 || !ok2 {
			return bad("has a start or end that is not a whole number")
		}
		if end <= start {
			return bad("has an end not after its start")
		}
		return SheetKey{Source: src, Start: start, End: end, Code: code}, nil
	}
	src, seg, ok := strings.Cut(s, ":")
	if !ok {
		return bad("is neither SOURCE:SEGMENT nor SOURCE@START-END#CODE")
	}
	if !sheetName(src) {
		return bad("has an invalid source id")
	}
	if !sheetName(seg) {
		return bad("has an invalid segment id")
	}
	return SheetKey{Source: src, Segment: seg}, nil
}

// sheetName reports whether s is a valid source, segment or code id:
// [A-Za-z0-9][A-Za-z0-9._-]*, at most 120 bytes.
func sheetName(s string) bool {
	if s == "" || len(s) > 120 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// sheetOffset parses a non-negative whole number without leading zeros.
func sheetOffset(s string) (int, bool) {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
		if n > maxSheetOffset {
			return 0, false
		}
	}
	return n, true
}

// SheetSegments returns the segments of unit in src that a codes sheet lists,
// in document order: all of them, or with roles only those whose speaker has
// one of the roles.
func SheetSegments(src *corpus.Source, unit string, roles []string) []corpus.Segment {
	var out []corpus.Segment
	for _, s := range src.Segments {
		if s.Unit == unit && (len(roles) == 0 || slices.Contains(roles, s.Role)) {
			out = append(out, s)
		}
	}
	return out
}

// SheetContext returns the text around a coding that a review sheet shows:
// from the start of the first segment of unitSegs that overlaps [start,end)
// to the end of the last, and never less than the coding itself. unitSegs
// are the segments of one unit in document order (SheetSegments without
// roles). first is the first overlapping segment, or nil when none does.
func SheetContext(unitSegs []corpus.Segment, start, end int) (from, to int, first *corpus.Segment) {
	from, to = start, end
	i := sort.Search(len(unitSegs), func(i int) bool { return unitSegs[i].End > start })
	for j := i; j < len(unitSegs) && unitSegs[j].Start < end; j++ {
		if first == nil {
			first = &unitSegs[j]
		}
		from = min(from, unitSegs[j].Start)
		to = max(to, unitSegs[j].End)
	}
	return from, to, first
}

// SheetSource is a source a sheet was made from and the sha256 of its text
// then.
type SheetSource struct {
	ID  string
	SHA string
	row int // About sheet row it was read from; 0 when not read
}

// SheetAbout is the content of a coding sheet's About sheet.
type SheetAbout struct {
	Mode    string // SheetModeCodes or SheetModeReview
	Project string
	Coder   string   // the co-author the sheet is for
	From    string   // review mode: the coder whose codings are reviewed
	Unit    string   // corpus.UnitSentence, UnitParagraph or UnitTurn
	Roles   []string // the speaker roles listed; empty: all
	// Codes are the code columns (codes mode) or the codes under review
	// (review mode; empty: every code).
	Codes   []string
	Sources []SheetSource
	Created time.Time
}

// Field names of the About sheet (column A).
const (
	aboutMode    = "mode"
	aboutProject = "project"
	aboutCoder   = "coder"
	aboutFrom    = "from"
	aboutUnit    = "unit"
	aboutRoles   = "roles"
	aboutCreated = "created"
	aboutCode    = "code"
	aboutSource  = "source"
	aboutNote    = "note"
)

// Rows returns the About sheet's cells, row by row: the format and version,
// then one field per row (name in column A, value in B; a source's sha256
// in C).
func (a *SheetAbout) Rows() [][]string {
	rows := [][]string{
		{SheetFormat, SheetVersion},
		{aboutNote, "Written by 'thematic sheet export'; 'thematic sheet import' checks these values. Do not edit."},
		{aboutMode, a.Mode},
		{aboutProject, a.Project},
		{aboutCoder, a.Coder},
	}
	if a.From != "" {
		rows = append(rows, []string{aboutFrom, a.From})
	}
	rows = append(rows,
		[]string{aboutUnit, a.Unit},
		[]string{aboutRoles, strings.Join(a.Roles, ",")},
		[]string{aboutCreated, a.Created.UTC().Format(time.RFC3339)})
	for _, c := range a.Codes {
		rows = append(rows, []string{aboutCode, c})
	}
	for _, s := range a.Sources {
		rows = append(rows, []string{aboutSource, s.ID, s.SHA})
	}
	return rows
}

// SheetProblem is one thing wrong with a coding sheet, at a cell such as
// "Coding!F12" where there is one.
type SheetProblem struct {
	Cell string
	Msg  string
}

// String gives the problem as "CELL: MESSAGE".
func (p SheetProblem) String() string {
	if p.Cell == "" {
		return p.Msg
	}
	return p.Cell + ": " + p.Msg
}

// SheetError lists every problem found in a coding sheet; nothing of the
// sheet is imported.
type SheetError struct {
	File     string
	Problems []SheetProblem
}

// Error gives the first problem and how many more there are, on one line.
func (e *SheetError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	if len(e.Problems) == 0 {
		b.WriteString("invalid coding sheet")
		return b.String()
	}
	b.WriteString(e.Problems[0].String())
	if n := len(e.Problems) - 1; n > 0 {
		fmt.Fprintf(&b, " (and %d more %s)", n, plural(n, "problem", "problems"))
	}
	b.WriteString("; nothing was imported")
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// cellName is "Sheet!A1" for a 0-based column and 1-based row.
func cellName(sheet string, col, row int) string {
	return sheet + "!" + columnName(col) + strconv.Itoa(row)
}

// columnName is the spreadsheet name of a 0-based column: A, B, ... Z, AA...
func columnName(col int) string {
	var b []byte
	for col++; col > 0; col = (col - 1) / 26 {
		b = append(b, byte('A'+(col-1)%26))
	}
	slices.Reverse(b)
	return string(b)
}

// ParseSheetAbout reads an About sheet's rows (as SheetAbout.Rows writes
// them; column C of a source row is its sha256). Unknown fields are
// problems, so that a sheet from a newer thematic is not half understood.
func ParseSheetAbout(rows [][]string) (*SheetAbout, []SheetProblem) {
	cell := func(r []string, i int) string {
		if i < len(r) {
			return strings.TrimSpace(r[i])
		}
		return ""
	}
	var probs []SheetProblem
	bad := func(row, col int, format string, args ...any) {
		probs = append(probs, SheetProblem{cellName(SheetNameAbout, col, row), fmt.Sprintf(format, args...)})
	}
	if len(rows) == 0 || cell(rows[0], 0) != SheetFormat {
		return nil, []SheetProblem{{SheetNameAbout + "!A1", fmt.Sprintf("not a coding sheet made by 'thematic sheet export' (A1 should read %q)", SheetFormat)}}
	}
	if v := cell(rows[0], 1); v != SheetVersion {
		return nil, []SheetProblem{{SheetNameAbout + "!B1", fmt.Sprintf("sheet layout version %q; this thematic reads version %s (update thematic, or export the sheet again)", v, SheetVersion)}}
	}
	a := &SheetAbout{}
	seen := map[string]int{}
	srcSeen := map[string]int{}
	for i, r := range rows[1:] {
		row := i + 2
		name, val := cell(r, 0), cell(r, 1)
		switch name {
		case "", aboutNote:
			continue
		case aboutCode:
			if !sheetName(val) {
				bad(row, 1, "invalid code id %q", val)
				continue
			}
			a.Codes = append(a.Codes, val)
			continue
		case aboutSource:
			sha := cell(r, 2)
			switch {
			case !sheetName(val):
				bad(row, 1, "invalid source id %q", val)
			case len(sha) != 64 || strings.Trim(sha, "0123456789abcdef") != "":
				bad(row, 2, "invalid sha256 %q of source %q", sha, val)
			case srcSeen[val] > 0:
				bad(row, 1, "source %q is listed twice (also on row %d)", val, srcSeen[val])
			default:
				srcSeen[val] = row
				a.Sources = append(a.Sources, SheetSource{ID: val, SHA: sha, row: row})
			}
			continue
		}
		if prev := seen[name]; prev > 0 {
			bad(row, 0, "field %q is given twice (also on row %d)", name, prev)
			continue
		}
		seen[name] = row
		switch name {
		case aboutMode:
			if val != SheetModeCodes && val != SheetModeReview {
				bad(row, 1, "mode %q: want %s or %s", val, SheetModeCodes, SheetModeReview)
			}
			a.Mode = val
		case aboutProject:
			a.Project = val
		case aboutCoder:
			if err := ValidCoderName(val); err != nil {
				bad(row, 1, "%v", err)
			}
			a.Coder = val
		case aboutFrom:
			if err := ValidCoderName(val); err != nil {
				bad(row, 1, "%v", err)
			}
			a.From = val
		case aboutUnit:
			switch val {
			case corpus.UnitSentence, corpus.UnitParagraph, corpus.UnitTurn:
			default:
				bad(row, 1, "unit %q: want sentence, paragraph or turn", val)
			}
			a.Unit = val
		case aboutRoles:
			for _, r := range strings.Split(val, ",") {
				if r = strings.TrimSpace(r); r != "" {
					a.Roles = append(a.Roles, r)
				}
			}
		case aboutCreated:
			t, err := time.Parse(time.RFC3339, val)
			if err != nil {
				bad(row, 1, "created %q is not an RFC 3339 time", val)
			}
			a.Created = t
		default:
			bad(row, 0, "unknown field %q", name)
		}
	}
	for _, f := range []string{aboutMode, aboutCoder, aboutUnit} {
		if seen[f] == 0 {
			probs = append(probs, SheetProblem{SheetNameAbout, fmt.Sprintf("the field %q is missing", f)})
		}
	}
	if a.Mode == SheetModeReview && seen[aboutFrom] == 0 {
		probs = append(probs, SheetProblem{SheetNameAbout, `a review sheet lacks the field "from"`})
	}
	if len(a.Sources) == 0 {
		probs = append(probs, SheetProblem{SheetNameAbout, "no source is listed"})
	}
	return a, probs
}

// SheetData is a coding sheet as a workbook reader found it, before any
// check: the cells of its About sheet as text, row by row (About[0] is row
// 1, and a row may be shorter than others), and the rows of its Coding
// sheet, kept compactly.
type SheetData struct {
	Coding SheetRows
	About  [][]string
}

// sheetChunk is the size of the largest buffers SheetRows keeps the text
// of cells in.
const sheetChunk = 1 << 20

// SheetRows holds the rows of a Coding sheet as an import reads them: the
// header rows whole and, of each other row, only the cells an import
// checks, their text packed in large buffers. The columns Citation,
// Speaker and Line, there for reading only, and empty cells are not kept;
// nor are blank rows (every cell empty or spaces), which an import skips.
// The zero value holds no rows.
type SheetRows struct {
	n      int        // rows added
	head   [][]string // rows 1 to SheetHeaderRows
	chunks []*strings.Builder
	rows   []sheetRow
	cells  []sheetCell
}

// sheetRow is a data row kept by SheetRows: its number, and where its
// cells are: cells[cell:] up to the next row's, their text one after
// another in chunks[chunk] from byte off.
type sheetRow struct {
	num, cell, chunk, off int32
}

// sheetCell is a cell kept by SheetRows: its column (0-based) and the
// length of its text in bytes.
type sheetCell struct {
	col, len int32
}

// sheetKept reports whether SheetRows keeps the cells of a column of a
// data row.
func sheetKept(col int) bool { return col < sheetColCitation || col > sheetColLine }

// Add appends the sheet's next row, row 1 first: its cells from column A
// (a row may be shorter than others, or empty). Add keeps no reference to
// cells.
func (r *SheetRows) Add(cells []string) {
	r.n++
	if r.n <= SheetHeaderRows {
		row := make([]string, len(cells))
		for i, c := range cells {
			row[i] = strings.Clone(c)
		}
		r.head = append(r.head, row)
		return
	}
	if blankRow(cells) {
		return
	}
	size := 0
	for i, c := range cells {
		if sheetKept(i) {
			size += len(c)
		}
	}
	var b *strings.Builder
	if k := len(r.chunks); k > 0 && r.chunks[k-1].Cap()-r.chunks[k-1].Len() >= size {
		b = r.chunks[k-1]
	} else {
		// A chunk never grows, so that the strings cut from it stay
		// valid; the first are small, for small sheets.
		n := 4 << 10
		if k > 0 {
			n = min(2*r.chunks[k-1].Cap(), sheetChunk)
		}
		b = new(strings.Builder)
		b.Grow(max(size, n))
		r.chunks = append(r.chunks, b)
	}
	r.rows = append(r.rows, sheetRow{num: int32(r.n), cell: int32(len(r.cells)), chunk: int32(len(r.chunks) - 1), off: int32(b.Len())})
	for i, c := range cells {
		if c != "" && sheetKept(i) {
			b.WriteString(c)
			r.cells = append(r.cells, sheetCell{col: int32(i), len: int32(len(c))})
		}
	}
}

// headCell returns the cell of a header row (1-based) and a column
// (0-based); "" when the sheet has none.
func (r *SheetRows) headCell(row, col int) string {
	if row > len(r.head) || col >= len(r.head[row-1]) {
		return ""
	}
	return r.head[row-1][col]
}

// sheetLine is a data row of SheetRows as the import reads it.
type sheetLine struct {
	num   int    // row number
	text  string // the text of its cells one after another (and more)
	cells []sheetCell
}

// line returns the i-th data row kept.
func (r *SheetRows) line(i int) sheetLine {
	row := r.rows[i]
	end := len(r.cells)
	if i+1 < len(r.rows) {
		end = int(r.rows[i+1].cell)
	}
	return sheetLine{num: int(row.num), text: r.chunks[row.chunk].String()[row.off:], cells: r.cells[row.cell:end]}
}

// cell returns the text of the row's cell in column col; "" when empty.
func (l *sheetLine) cell(col int) string {
	off := 0
	for _, c := range l.cells {
		if int(c.col) == col {
			return l.text[off : off+int(c.len)]
		}
		off += int(c.len)
	}
	return ""
}

// SheetImportOptions are what ImportSheet checks a sheet against.
type SheetImportOptions struct {
	// File names the sheet in messages.
	File string
	// Source reads a source of the project by id, with its text and
	// segments (as corpus.Project.Source does), or returns nil and no
	// error when the project has no such source. The import calls it
	// once for each source the About sheet lists, in the About sheet's
	// order, checks the rows of that source and keeps nothing of it after:
	// it holds one source at a time however many the sheet lists. An
	// error it returns stops the import and is returned as it is. nil
	// means the project has none of the sources.
	Source func(id string) (*corpus.Source, error)
	// Known reports whether a code is in the codebook.
	Known func(code string) bool
	// Coder is whose codings the sheet's are; "" takes the About sheet's.
	Coder string
	// Time stamps the codings made.
	Time time.Time
	// CellText gives a source's text as the sheet's writer put it in a
	// cell (export.SheetCellText); nil means unchanged. Text read from the
	// sheet is compared with it after normalisation (NFC, LF line ends).
	CellText func(string) string
}

// SheetImport is a coding sheet read back and checked: the codings it makes.
type SheetImport struct {
	About   *SheetAbout
	Coder   string
	Codings []Coding // in row order
	// Codes are the codes the sheet covers: its code columns (codes mode),
	// or the About sheet's codes (review mode; empty: every code).
	Codes []string
	Rows  int // data rows read
	// Missing counts the segments of the sheet's sources and unit (and
	// roles) that no row lists: rows deleted, or a sheet made for fewer
	// segments. They are taken as coded with nothing.
	Missing int
	// Review mode: the rows with each decision.
	Accepted, Rejected, Corrected int

	scopeSources, scopeCodes map[string]bool // InScope's, made when first asked
}

// ImportSheet checks a filled-in coding sheet against the project's sources
// and codebook and returns the codings it makes for the coder: in codes mode
// one coding of the whole segment per marked cell, in review mode one
// coding per accepted or corrected row, with the row's note as memo. The
// codings have origin OriginSheet, quotes and context from the source text,
// and in codes mode the segment's id.
//
// The rows are checked a source at a time, each source read when its rows
// are checked (SheetImportOptions.Source), whatever the order of the rows;
// the problems and codings come out in row order all the same. An error
// reading a source is returned before any problem of the sheet.
//
// A coder that cannot import the sheet (an invalid name, "auto", or the
// coder a review sheet reviews) is an *errs.InputError. The sheet is
// refused, with a *SheetError listing every problem found (by cell where
// there is one), when: the About sheet is missing or damaged; a
// source it lists is no longer in the project or its text changed (the
// sha256 differs); a row's key is not found or its text (or quote) is not
// the source's; a code column is headed by an unknown code or a code twice;
// a code cell holds something other than a mark (SheetMarks) or nothing; a
// review row lacks a decision, has an unknown one, or names an unknown or
// missing correct code; or a row is listed twice. Citation, Speaker and Line
// are for reading only and not checked.
func ImportSheet(d *SheetData, opts SheetImportOptions) (*SheetImport, error) {
	fail := func(probs []SheetProblem) error { return &SheetError{File: opts.File, Problems: probs} }
	about, probs := ParseSheetAbout(d.About)
	if len(probs) > 0 {
		return nil, fail(probs)
	}
	imp := &SheetImport{About: about, Coder: about.Coder}
	if opts.Coder != "" {
		imp.Coder = opts.Coder
	}
	read := opts.Source
	if read == nil {
		read = func(string) (*corpus.Source, error) { return nil, nil }
	}
	if err := sheetCoderError(imp, opts.File); err != nil {
		// A source that cannot be read comes first here too.
		for _, s := range about.Sources {
			if _, rerr := read(s.ID); rerr != nil {
				return nil, rerr
			}
		}
		return nil, err
	}
	im := &sheetImporter{opts: opts, imp: imp, review: about.Mode == SheetModeReview, keyRow: map[string]int{}, codes: map[string]string{}}
	if opts.CellText == nil {
		im.opts.CellText = func(s string) string { return s }
	}
	rows := &d.Coding
	headerOK := im.header(rows)
	var order, bounds []int32
	if headerOK {
		imp.Rows = len(rows.rows)
		order, bounds = im.group(rows)
	}
	var srcProbs []SheetProblem
	missing := 0
	for g, s := range about.Sources {
		src, err := read(s.ID)
		if err != nil {
			return nil, err
		}
		ss := &sheetSource{}
		switch {
		case src == nil:
			ss.gone = true
		case src.SHA != s.SHA:
			ss.changed = true
		default:
			ss.src = src
		}
		im.cur = ss
		made := len(imp.Codings)
		if headerOK {
			im.checkRows(rows, order[bounds[g]:bounds[g+1]])
		}
		if ss.gone || ss.changed {
			srcProbs = append(srcProbs, sourceProblem(s, ss))
		} else if !im.review {
			missing += ss.missing(about.Unit, about.Roles)
		}
		im.detach(imp.Codings[made:], s.ID)
	}
	// Rows of sources not listed, and rows without a key to read.
	im.cur = nil
	if headerOK {
		n := len(about.Sources)
		im.checkRows(rows, order[bounds[n]:bounds[n+1]])
	}
	if len(srcProbs) > 0 || len(im.probs) > 0 {
		sortByRow(im.probs, im.probRows)
		return nil, fail(append(srcProbs, im.probs...))
	}
	sortByRow(imp.Codings, im.codingRows)
	if about.Mode == SheetModeCodes {
		imp.Missing = missing
	} else {
		imp.Codes = about.Codes
	}
	return imp, nil
}

// sheetCoderError refuses a coder that cannot import the sheet.
func sheetCoderError(imp *SheetImport, file string) error {
	if err := ValidCoderName(imp.Coder); err != nil {
		return errs.New(file, 0, 0, "%v", err)
	}
	switch {
	case imp.Coder == AutoCoder:
		return errs.New(file, 0, 0, "coder %q belongs to 'thematic autocode'; import as another coder (--coder)", AutoCoder)
	case imp.About.Mode == SheetModeReview && imp.Coder == imp.About.From:
		return errs.New(file, 0, 0, "the sheet reviews %s's codings; import it as another coder (--coder)", imp.About.From)
	}
	return nil
}

// sortByRow sorts xs, stably, by the row numbers rows gives them, in step.
func sortByRow[T any](xs []T, rows []int32) {
	if slices.IsSorted(rows) {
		return
	}
	perm := make([]int32, len(xs))
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortStableFunc(perm, func(a, b int32) int { return cmp.Compare(rows[a], rows[b]) })
	sorted := make([]T, len(xs))
	for i, p := range perm {
		sorted[i] = xs[p]
	}
	copy(xs, sorted)
	slices.Sort(rows)
}

// sheetSource is a source listed on the About sheet, as the import found it.
type sheetSource struct {
	src      *corpus.Source // nil when gone or changed
	gone     bool           // no longer in the project
	changed  bool           // its text's sha256 differs
	rows     []int          // the sheet rows that refer to it
	ti       *TextIndex
	segs     map[string]int   // segment id -> index in src.Segments
	unitSegs []corpus.Segment // review mode: the sheet unit's segments
	seen     map[string]bool  // codes mode: segment ids listed
}

// missing counts the segments of the unit (and roles) that no row lists.
func (ss *sheetSource) missing(unit string, roles []string) int {
	n := 0
	for _, s := range ss.src.Segments {
		if s.Unit == unit && (len(roles) == 0 || slices.Contains(roles, s.Role)) && !ss.seen[s.ID] {
			n++
		}
	}
	return n
}

// sourceProblem reports a source gone or changed, with the rows that refer
// to it.
func sourceProblem(s SheetSource, ss *sheetSource) SheetProblem {
	where := "no rows refer to it"
	if len(ss.rows) > 0 {
		where = plural(len(ss.rows), "row ", "rows ") + rowRanges(ss.rows)
	}
	msg := fmt.Sprintf("source %q is no longer in the project (%s); the sheet cannot be imported", s.ID, where)
	if ss.changed {
		msg = fmt.Sprintf("source %q has changed since the sheet was made (its sha256 differs; %s); export a new sheet", s.ID, where)
	}
	return SheetProblem{cellName(SheetNameAbout, 1, s.row), msg}
}

type sheetImporter struct {
	opts       SheetImportOptions
	imp        *SheetImport
	review     bool
	cur        *sheetSource // the source whose rows are checked; nil for rows of no listed source
	row        int          // the row checked; 0 for the header
	probs      []SheetProblem
	probRows   []int32           // the row of each problem; 0 for the header's
	codingRows []int32           // the row of each coding made
	head       []string          // the Coding sheet's first row
	codeCol    map[int]string    // codes mode: column -> code
	keyRow     map[string]int    // key -> first row, of the rows checked together
	codes      map[string]string // one copy of each code of the codings made
}

func (im *sheetImporter) problem(col, row int, format string, args ...any) {
	im.probs = append(im.probs, SheetProblem{cellName(SheetNameCoding, col, row), fmt.Sprintf(format, args...)})
	im.probRows = append(im.probRows, int32(im.row))
}

// header checks the Coding sheet's header rows and reads its code columns;
// false when the data rows cannot be read for it.
func (im *sheetImporter) header(rows *SheetRows) bool {
	want := SheetColumns
	if im.review {
		want = append(slices.Clip(SheetColumns), SheetReviewColumns...)
	}
	var head []string
	if len(rows.head) > 0 {
		head = rows.head[0]
	}
	im.head = head
	headerOK := true
	for i, title := range want {
		if got := strings.TrimSpace(rows.headCell(1, i)); got != title {
			im.problem(i, 1, "column %s should be %q, not %q; the columns must stay as exported", columnName(i), title, got)
			headerOK = false
		}
	}
	if strings.TrimSpace(rows.headCell(2, 0)) != SheetNamesMarker {
		im.problem(0, 2, "the second header row is missing (A2 should read %q); do not delete header rows", SheetNamesMarker)
		headerOK = false
	}
	if !headerOK {
		return false
	}
	if !im.review {
		im.codeColumns(head)
	} else {
		for i := len(want); i < len(head); i++ {
			if strings.TrimSpace(head[i]) != "" {
				im.problem(i, 1, "unexpected column %q; a review sheet has columns A to %s", strings.TrimSpace(head[i]), columnName(len(want)-1))
			}
		}
	}
	return true
}

// group orders the data rows by the source their key names: the rows of
// each source the About sheet lists, in its order, then all the others
// (keys of sources not listed, keys that do not read, rows without a key),
// each group in row order. Group g is order[bounds[g]:bounds[g+1]].
func (im *sheetImporter) group(rows *SheetRows) (order, bounds []int32) {
	srcs := im.imp.About.Sources
	listed := make(map[string]int32, len(srcs))
	for i, s := range srcs {
		listed[s.ID] = int32(i)
	}
	other := int32(len(srcs))
	groups := make([]int32, len(rows.rows))
	next := make([]int32, other+2)
	for i := range rows.rows {
		g := other
		l := rows.line(i)
		if k, err := ParseSheetKey(l.cell(sheetColKey)); err == nil && k.IsSpan() == im.review {
			if j, ok := listed[k.Source]; ok {
				g = j
			}
		}
		groups[i] = g
		next[g+1]++
	}
	for g := 1; g < len(next); g++ {
		next[g] += next[g-1]
	}
	bounds = slices.Clone(next)
	order = make([]int32, len(rows.rows))
	for i, g := range groups {
		order[next[g]] = int32(i)
		next[g]++
	}
	return order, bounds
}

// checkRows checks data rows, in the order given; a key listed twice is
// found among them.
func (im *sheetImporter) checkRows(rows *SheetRows, idx []int32) {
	clear(im.keyRow)
	for _, i := range idx {
		l := rows.line(int(i))
		im.row = l.num
		if im.review {
			im.reviewRow(&l)
		} else {
			im.codesRow(&l)
		}
	}
	im.row = 0
}

// addCoding keeps a coding made from the row checked.
func (im *sheetImporter) addCoding(c Coding) {
	im.imp.Codings = append(im.imp.Codings, c)
	im.codingRows = append(im.codingRows, int32(im.row))
}

// detach copies the text of codings made from one source into a buffer of
// their own, so that they keep neither the source's text nor the sheet's
// cells, and gives them one copy of the source id and of each code.
func (im *sheetImporter) detach(cs []Coding, source string) {
	n := 0
	for i := range cs {
		c := &cs[i]
		n += len(c.Quote) + len(c.Prefix) + len(c.Suffix) + len(c.Segment) + len(c.Memo)
	}
	var b strings.Builder
	b.Grow(n)
	put := func(s string) string {
		at := b.Len()
		b.WriteString(s)
		return b.String()[at:]
	}
	for i := range cs {
		c := &cs[i]
		c.Quote, c.Prefix, c.Suffix, c.Segment, c.Memo = put(c.Quote), put(c.Prefix), put(c.Suffix), put(c.Segment), put(c.Memo)
		c.Source = source
		code, ok := im.codes[c.Code]
		if !ok {
			code = strings.Clone(c.Code)
			im.codes[code] = code
		}
		c.Code = code
	}
}

// codeColumns reads the code ids heading columns F onwards.
func (im *sheetImporter) codeColumns(head []string) {
	im.codeCol = map[int]string{}
	first := map[string]int{}
	for i := len(SheetColumns); i < len(head); i++ {
		code := strings.TrimSpace(head[i])
		switch {
		case code == "":
			continue
		case first[code] > 0:
			im.problem(i, 1, "code %q heads a second column (also column %s)", code, columnName(first[code]-1))
			continue
		case !sheetName(code) || (im.opts.Known != nil && !im.opts.Known(code)):
			im.problem(i, 1, "unknown code %q (a code column is headed by a code id of the codebook; see the Codebook sheet)", clipQuote(code))
			first[code] = i + 1
			continue
		}
		first[code] = i + 1
		im.codeCol[i] = code
		im.imp.Codes = append(im.imp.Codes, code)
	}
	if len(im.codeCol) == 0 && len(im.probs) == 0 {
		im.problem(len(SheetColumns), 1, "no code columns; the sheet has nothing to import")
	}
}

// rowSource finds the source of a row's key; ok is false when the row
// cannot be checked further.
func (im *sheetImporter) rowSource(k SheetKey, row int) (*sheetSource, bool) {
	ss := im.cur
	if ss == nil {
		im.problem(sheetColKey, row, "key %q: source %q is not listed on the About sheet (key not found)", k.String(), k.Source)
		return nil, false
	}
	ss.rows = append(ss.rows, row)
	if ss.src == nil {
		return nil, false // reported once per source
	}
	if ss.ti == nil {
		ss.ti = NewTextIndex(ss.src.Text)
	}
	return ss, true
}

// rowKey parses a row's key and checks it is listed once.
func (im *sheetImporter) rowKey(r *sheetLine, span bool) (SheetKey, bool) {
	row := r.num
	raw := strings.TrimSpace(r.cell(sheetColKey))
	if raw == "" {
		im.problem(sheetColKey, row, "the row has no key: rows cannot be added to a coding sheet (mark an exported row instead)")
		return SheetKey{}, false
	}
	k, err := ParseSheetKey(raw)
	if err != nil {
		im.problem(sheetColKey, row, "%v (key not found)", err)
		return k, false
	}
	if k.IsSpan() != span {
		want := "SOURCE:SEGMENT"
		if span {
			want = "SOURCE@START-END#CODE"
		}
		im.problem(sheetColKey, row, "key %q is not a key of this sheet's kind (%s)", raw, want)
		return k, false
	}
	ks := k.String()
	if prev, dup := im.keyRow[ks]; dup {
		im.problem(sheetColKey, row, "key %q is listed twice (also row %d); delete one of the rows", ks, prev)
		return k, false
	}
	im.keyRow[ks] = row
	return k, true
}

// checkText compares a text cell with the source's text it should hold.
func (im *sheetImporter) checkText(col, row int, got, want, what string) bool {
	w := im.opts.CellText(want)
	g := corpus.NormalizeString(got)
	if g == w {
		return true
	}
	at := 0
	for at < len(g) && at < len(w) && g[at] == w[at] {
		at++
	}
	for at > 0 && at < len(w) && !utf8.RuneStart(w[at]) {
		at--
	}
	has := "the source's text ends there"
	if at < len(w) {
		has = fmt.Sprintf("the source has %q", clipQuote(w[at:]))
	}
	im.problem(col, row, "text differs from %s at character %d (%s); the text must stay as exported",
		what, utf8.RuneCountInString(w[:at])+1, has)
	return false
}

// codesRow checks one row of a codes sheet and codes its marked cells.
func (im *sheetImporter) codesRow(r *sheetLine) {
	row := r.num
	// Marks are checked even when the key is bad, so that every problem of
	// the row is reported at once. Only cells that are not empty are kept,
	// in column order.
	var codes []string
	off := 0
	for _, c := range r.cells {
		i, v := int(c.col), r.text[off:off+int(c.len)]
		off += int(c.len)
		if i < len(SheetColumns) {
			continue
		}
		marked, ok := ParseSheetMark(v)
		if !ok {
			im.problem(i, row, "unknown mark %q (mark a code with x, or leave the cell empty)", clipQuote(strings.TrimSpace(v)))
			continue
		}
		if !marked {
			continue
		}
		code, ok := im.codeCol[i]
		if !ok {
			if i >= len(im.head) || strings.TrimSpace(im.head[i]) == "" {
				im.problem(i, row, "a mark in a column without a code id in row 1")
			}
			continue // unknown codes are reported on their header
		}
		codes = append(codes, code)
	}
	k, ok := im.rowKey(r, false)
	if !ok {
		return
	}
	ss, ok := im.rowSource(k, row)
	if !ok {
		return
	}
	if ss.segs == nil {
		ss.segs = make(map[string]int, len(ss.src.Segments))
		for j, s := range ss.src.Segments {
			ss.segs[s.ID] = j
		}
		ss.seen = map[string]bool{}
	}
	j, found := ss.segs[k.Segment]
	if !found {
		im.problem(sheetColKey, row, "key %q: source %q has no segment %q (key not found)", k.String(), k.Source, k.Segment)
		return
	}
	seg := ss.src.Segments[j]
	if seg.Unit != im.imp.About.Unit {
		im.problem(sheetColKey, row, "key %q is a %s, but the sheet lists %ss", k.String(), seg.Unit, im.imp.About.Unit)
		return
	}
	ss.seen[seg.ID] = true
	if !im.checkText(sheetColText, row, r.cell(sheetColText), ss.ti.Slice(seg.Start, seg.End), "segment "+k.String()) {
		return
	}
	for _, code := range codes {
		c, err := ss.ti.NewCoding(k.Source, seg.Start, seg.End, code, im.imp.Coder, OriginSheet, im.opts.Time)
		if err != nil {
			im.problem(sheetColKey, row, "%v", err)
			return
		}
		c.Segment = seg.ID
		im.addCoding(c)
	}
}

// reviewRow checks one row of a review sheet and makes its coding.
func (im *sheetImporter) reviewRow(r *sheetLine) {
	row := r.num
	decision, ok := ParseSheetDecision(r.cell(sheetColDecision))
	correct := strings.TrimSpace(r.cell(sheetColCorrect))
	switch {
	case !ok:
		im.problem(sheetColDecision, row, "unknown decision %q (choose accept, reject or correct)", clipQuote(strings.TrimSpace(r.cell(sheetColDecision))))
	case decision == "":
		im.problem(sheetColDecision, row, "no decision (choose accept, reject or correct)")
	case decision == DecisionCorrect && correct == "":
		im.problem(sheetColCorrect, row, "the decision is correct but no correct code is given")
	case decision != DecisionCorrect && correct != "":
		im.problem(sheetColCorrect, row, "a correct code is given but the decision is %s; choose correct, or clear the cell", decision)
	case decision == DecisionCorrect && (!sheetName(correct) || im.opts.Known != nil && !im.opts.Known(correct)):
		im.problem(sheetColCorrect, row, "unknown code %q (see the Codebook sheet)", clipQuote(correct))
	}
	k, kok := im.rowKey(r, true)
	if !kok {
		return
	}
	if got := strings.TrimSpace(r.cell(sheetColCode)); got != k.Code {
		im.problem(sheetColCode, row, "the code was %q when the sheet was made, not %q; to change it choose correct and fill Correct code", k.Code, clipQuote(got))
		return
	}
	if decision == DecisionAccept && im.opts.Known != nil && !im.opts.Known(k.Code) {
		im.problem(sheetColCode, row, "unknown code %q: it is no longer in the codebook; choose correct or reject", k.Code)
	}
	ss, sok := im.rowSource(k, row)
	if !sok {
		return
	}
	if k.End > ss.ti.Len() {
		im.problem(sheetColKey, row, "key %q: the span is outside source %q (%d characters) (key not found)", k.String(), k.Source, ss.ti.Len())
		return
	}
	if ss.unitSegs == nil {
		ss.unitSegs = SheetSegments(ss.src, im.imp.About.Unit, nil)
	}
	from, to, _ := SheetContext(ss.unitSegs, k.Start, k.End)
	textOK := im.checkText(sheetColText, row, r.cell(sheetColText), ss.ti.Slice(from, to), "the source around "+k.String())
	quoteOK := im.checkText(sheetColQuote, row, r.cell(sheetColQuote), ss.ti.Slice(k.Start, k.End), "the coded quote "+k.String())
	if !ok || !textOK || !quoteOK {
		return
	}
	code := k.Code
	switch decision {
	case DecisionReject:
		im.imp.Rejected++
		return
	case DecisionCorrect:
		code = correct
		im.imp.Corrected++
	default:
		im.imp.Accepted++
	}
	c, err := ss.ti.NewCoding(k.Source, k.Start, k.End, code, im.imp.Coder, OriginSheet, im.opts.Time)
	if err != nil {
		im.problem(sheetColKey, row, "%v", err)
		return
	}
	c.Memo = strings.TrimSpace(corpus.NormalizeString(r.cell(sheetColNote)))
	im.addCoding(c)
}

// rowRanges writes sorted row numbers as "3-7, 9, 12-13".
func rowRanges(rows []int) string {
	rows = slices.Clone(rows)
	slices.Sort(rows)
	var b strings.Builder
	for i := 0; i < len(rows); {
		j := i
		for j+1 < len(rows) && rows[j+1] <= rows[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(rows[i]))
		if rows[j] != rows[i] {
			b.WriteString("-" + strconv.Itoa(rows[j]))
		}
		i = j + 1
	}
	return b.String()
}

func blankRow(r []string) bool {
	for _, c := range r {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// InScope reports whether c lies in what the sheet covers: one of its
// sources, and one of its codes (any code for a review sheet without codes).
//
// The sources and codes are those of imp when InScope is first called.
func (imp *SheetImport) InScope(c *Coding) bool {
	if imp.scopeSources == nil {
		imp.scopeSources = make(map[string]bool, len(imp.About.Sources))
		for _, s := range imp.About.Sources {
			imp.scopeSources[s.ID] = true
		}
		imp.scopeCodes = make(map[string]bool, len(imp.Codes))
		for _, code := range imp.Codes {
			imp.scopeCodes[code] = true
		}
	}
	return imp.scopeSources[c.Source] && (len(imp.Codes) == 0 || imp.scopeCodes[c.Code])
}

// Merge returns the coder's codings after the import: old followed by the
// imported codings or, with replace, old without those in the sheet's scope
// (InScope) followed by the imported; removed counts the codings dropped.
// Store.Save keeps one of codings of the same span and code.
func (imp *SheetImport) Merge(old []Coding, replace bool) (out []Coding, removed int) {
	out = make([]Coding, 0, len(old)+len(imp.Codings))
	for i := range old {
		if replace && imp.InScope(&old[i]) {
			removed++
			continue
		}
		out = append(out, old[i])
	}
	return append(out, imp.Codings...), removed
}
