package export

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// Matrix cell measures (MatrixOptions.Cell).
const (
	CellSegments = "segments" // segments of the unit that the codings overlap
	CellSources  = "sources"  // sources with a coding
	CellWords    = "words"    // words in the coded text, overlaps counted once
	CellPercent  = "percent"  // coded segments as a percentage of the row's segments
	CellExtracts = "extracts" // the coded text itself, each passage cited: a framework matrix
)

// Matrix row kinds (MatrixOptions.Rows); "attr:NAME" gives one row per value
// of the attribute NAME.
const (
	RowsCase   = "case"
	RowsSource = "source"
	attrPrefix = "attr:"
)

// Row labels for sources without a case or without the attribute.
const (
	noCase  = "(no case)"
	noValue = "(none)"
)

// MatrixOptions say what a matrix shows.
type MatrixOptions struct {
	// Rows: RowsCase (the default), RowsSource or "attr:NAME", one row per
	// value of the attribute NAME of the sources and their cases ("kind"
	// falls back to the source's kind). Every source of the study is in
	// exactly one row.
	Rows string
	// Cols: codebook.LevelTheme (the default), LevelSubtheme or LevelCode.
	// A column counts the codings of its node and of everything under it.
	// With sub-themes, what a theme holds outside its sub-themes (codes
	// directly under it, codings of the theme itself) has a column of its
	// own, "Theme (other)", when there is any. Code columns leave out
	// codings of themes and sub-themes themselves.
	Cols string
	// Cell: CellSegments (the default), CellSources, CellWords, CellPercent
	// or CellExtracts.
	Cell string
	// Unit is the segment counted by CellSegments and CellPercent:
	// corpus.UnitSentence (the default), UnitParagraph or UnitTurn. A
	// coding marks a segment when it overlaps it by at least one code point.
	Unit string
	// About lists settings of the run (label, value), such as the coders,
	// shown on the About sheet and under the Markdown table.
	About [][2]string
}

// span is a half-open range of code points.
type span struct{ start, end int }

// mergeRanges sorts spans and joins those that overlap or touch, in place.
func mergeRanges(sp []span) []span {
	if len(sp) < 2 {
		return sp
	}
	slices.SortFunc(sp, func(a, b span) int { return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.end, b.end)) })
	out := sp[:1]
	for _, s := range sp[1:] {
		if last := &out[len(out)-1]; s.start <= last.end {
			last.end = max(last.end, s.end)
			continue
		}
		out = append(out, s)
	}
	return out
}

// colSet is one column of a matrix: a codebook node and the codes it counts.
type colSet struct {
	label string
	key   string // JSON key
	node  *codebook.Node
}

// columnSets chooses the columns of a matrix at a level, and for each code
// id the columns it counts in.
func columnSets(p *prepared, level string) (cols []colSet, codeCols map[string][]int, err error) {
	codeCols = map[string][]int{}
	add := func(label, key string, n *codebook.Node, ids []*codebook.Node) {
		c := len(cols)
		cols = append(cols, colSet{label: label, key: key, node: n})
		for _, m := range ids {
			codeCols[m.ID] = append(codeCols[m.ID], c)
		}
	}
	subtree := func(n *codebook.Node) []*codebook.Node { return append([]*codebook.Node{n}, n.Descendants()...) }
	switch level {
	case codebook.LevelTheme:
		for _, n := range p.nodes {
			if n.Level == codebook.LevelTheme {
				add(n.Name, n.ID, n, subtree(n))
			}
		}
	case codebook.LevelSubtheme:
		for _, n := range p.nodes {
			if n.Level != codebook.LevelTheme {
				continue
			}
			rest := []*codebook.Node{n}
			hasSub := false
			for _, ch := range n.Children {
				if ch.Level == codebook.LevelSubtheme {
					hasSub = true
					add(ch.Name, ch.ID, ch, subtree(ch))
				} else {
					rest = append(rest, subtree(ch)...)
				}
			}
			switch {
			case !hasSub:
				add(n.Name, n.ID, n, rest)
			case len(rest) > 1 || p.coded(n.ID):
				add(n.Name+" (other)", n.ID+"/other", n, rest)
			}
		}
	case codebook.LevelCode:
		for _, n := range p.nodes {
			if n.Level == codebook.LevelCode {
				add(p.labels[n][2], n.ID, n, subtree(n))
			}
		}
	default:
		return nil, nil, errs.New("", 0, 0, "columns %q: use theme, subtheme or code", level)
	}
	return cols, codeCols, nil
}

// cspan is a coding reduced to what the counts need.
type cspan struct {
	si, code   int32 // indices in prepared.srcs and prepared.codeIDs
	start, end int
}

// scanSpans reads the study's codings as spans.
func scanSpans(p *prepared) ([]cspan, error) {
	out := make([]cspan, 0, len(p.st.Codings)) // room for them all when they are given whole
	err := p.scan(func(c *analysis.Coding, si *srcInfo, code int32) error {
		out = append(out, cspan{si: si.index, code: code, start: c.Start, end: c.End})
		return nil
	})
	return out, err
}

// codedSpans returns, for every source of p (by index in p.srcs) and
// column, the merged spans of the codings counted in that column, and in a
// last extra column the merged spans of all of them.
func codedSpans(p *prepared, recs []cspan, ncol int, codeCols map[string][]int) [][][]span {
	colsOf := make([][]int, len(p.codeIDs))
	for k, id := range p.codeIDs {
		colsOf[k] = codeCols[id]
	}
	out := make([][][]span, len(p.srcs))
	for _, c := range recs {
		cols := colsOf[c.code]
		if len(cols) == 0 {
			continue
		}
		row := out[c.si]
		if row == nil {
			row = make([][]span, ncol+1)
			out[c.si] = row
		}
		s := span{c.start, c.end}
		for _, k := range cols {
			row[k] = append(row[k], s)
		}
		row[ncol] = append(row[ncol], s)
	}
	for _, row := range out {
		for k := range row {
			row[k] = slices.Clip(mergeRanges(row[k]))
		}
	}
	return out
}

// hasSpans reports whether source si has spans in spans (of codedSpans).
func hasSpans(spans [][][]span, si *srcInfo) bool {
	return spans[si.index] != nil
}

// unitSegments returns the segments of a unit in a source, in text order.
func unitSegments(src *corpus.Source, unit string) []*corpus.Segment {
	var out []*corpus.Segment
	for i := range src.Segments {
		if src.Segments[i].Unit == unit {
			out = append(out, &src.Segments[i])
		}
	}
	slices.SortStableFunc(out, func(a, b *corpus.Segment) int { return cmp.Compare(a.Start, b.Start) })
	return out
}

// markUnits calls mark with the index of every segment of segs (sorted,
// not overlapping) that the merged spans sp overlap by a code point or more.
func markUnits(segs []*corpus.Segment, sp []span, mark func(u int)) {
	j := 0
	for u, seg := range segs {
		for j < len(sp) && sp[j].end <= seg.Start {
			j++
		}
		if j < len(sp) && sp[j].start < seg.End {
			mark(u)
		}
	}
}

// checkUnit validates a segment unit, "" meaning sentence.
func checkUnit(unit string) (string, error) {
	switch unit {
	case "":
		return corpus.UnitSentence, nil
	case corpus.UnitSentence, corpus.UnitParagraph, corpus.UnitTurn:
		return unit, nil
	}
	return "", errs.New("", 0, 0, "unit %q: use sentence, paragraph or turn", unit)
}

// Matrix is a matrix of rows (cases, sources or attribute values) by
// columns (themes, sub-themes or codes), ready to write in any format (it is
// a Document). Counts come with totals, which are not sums: the total of a
// row counts what any of the columns' codings cover, each segment, word or
// source once; the total of a column counts over all the sources. A
// framework matrix (CellExtracts) has no totals.
type Matrix struct {
	p        *prepared
	opts     MatrixOptions
	rowTitle string
	rowKey   string
	rows     []string
	rowSrcs  [][]*srcInfo
	cols     []colSet
	colKeys  []string
	spans    [][][]span // [source index in p.srcs][column, then all]; nil for a source without codings
	// vals[r][c] for r <= len(rows) (the last is the total row) and
	// c <= len(cols) (the last is the total column); nil for CellExtracts.
	vals [][]any
}

// BuildMatrix builds a matrix of a study. Options out of range are
// *errs.InputError.
func BuildMatrix(st *Study, opts MatrixOptions) (*Matrix, error) {
	if opts.Rows == "" {
		opts.Rows = RowsCase
	}
	if opts.Cols == "" {
		opts.Cols = codebook.LevelTheme
	}
	switch opts.Cell {
	case "":
		opts.Cell = CellSegments
	case CellSegments, CellSources, CellWords, CellPercent, CellExtracts:
	default:
		return nil, errs.New("", 0, 0, "cell %q: use segments, sources, words, percent or extracts", opts.Cell)
	}
	var err error
	if opts.Unit, err = checkUnit(opts.Unit); err != nil {
		return nil, err
	}
	p := prepare(st)
	mx := &Matrix{p: p, opts: opts}
	if err := mx.buildRows(); err != nil {
		return nil, err
	}
	if _, _, err := columnSets(p, opts.Cols); err != nil {
		return nil, err // the level, checked before the codings are read
	}
	recs, err := scanSpans(p)
	if err != nil {
		return nil, err
	}
	cols, codeCols, err := columnSets(p, opts.Cols)
	if err != nil {
		return nil, err
	}
	mx.cols = cols
	mx.spans = codedSpans(p, recs, len(cols), codeCols)
	mx.keys()
	if opts.Cell != CellExtracts {
		if err := mx.count(); err != nil {
			return nil, err
		}
	}
	return mx, nil
}

// buildRows sorts the sources into rows.
func (mx *Matrix) buildRows() error {
	p, kind := mx.p, mx.opts.Rows
	var label func(si *srcInfo) string
	switch {
	case kind == RowsSource:
		mx.rowTitle, mx.rowKey = "Source", "source"
		for _, si := range p.srcs {
			mx.rows = append(mx.rows, si.src.ID)
			mx.rowSrcs = append(mx.rowSrcs, []*srcInfo{si})
		}
		return nil
	case kind == RowsCase:
		mx.rowTitle, mx.rowKey = "Case", "case"
		label = func(si *srcInfo) string { return cmp.Or(si.src.Case, noCase) }
	case strings.HasPrefix(kind, attrPrefix) && strings.TrimSpace(kind[len(attrPrefix):]) != "":
		name := strings.TrimSpace(kind[len(attrPrefix):])
		mx.rowTitle, mx.rowKey = name, name
		label = func(si *srcInfo) string {
			v, ok := si.attrs[name]
			if !ok && name == "kind" {
				v = si.src.Kind
			}
			return cmp.Or(strings.TrimSpace(v), noValue)
		}
		found := len(p.srcs) == 0
		for _, si := range p.srcs {
			found = found || label(si) != noValue
		}
		if !found {
			return errs.New("", 0, 0, "rows %q: no source or case has the attribute %q (attributes: %s)", kind, name, orNone(p.attrKeys))
		}
	default:
		return errs.New("", 0, 0, "rows %q: use case, source or attr:NAME", kind)
	}
	byLabel := map[string]int{}
	var labels []string
	for _, si := range p.srcs {
		l := label(si)
		if _, ok := byLabel[l]; !ok {
			byLabel[l] = -1
			labels = append(labels, l)
		}
	}
	slices.SortFunc(labels, func(a, b string) int {
		// Rows without a case or value come last.
		la, lb := a == noCase || a == noValue, b == noCase || b == noValue
		if la != lb {
			if la {
				return 1
			}
			return -1
		}
		return naturalCompare(a, b)
	})
	for i, l := range labels {
		byLabel[l] = i
	}
	mx.rows = labels
	mx.rowSrcs = make([][]*srcInfo, len(labels))
	for _, si := range p.srcs {
		r := byLabel[label(si)]
		mx.rowSrcs[r] = append(mx.rowSrcs[r], si)
	}
	return nil
}

// orNone lists names, or says there are none.
func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// naturalCompare orders text with runs of digits compared as numbers, so
// that P2 comes before P10, then without regard to case.
func naturalCompare(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	i, j := 0, 0
	for i < len(ra) && j < len(rb) {
		if unicode.IsDigit(ra[i]) && unicode.IsDigit(rb[j]) {
			si, sj := i, j
			for i < len(ra) && unicode.IsDigit(ra[i]) {
				i++
			}
			for j < len(rb) && unicode.IsDigit(rb[j]) {
				j++
			}
			na := strings.TrimLeft(string(ra[si:i]), "0")
			nb := strings.TrimLeft(string(rb[sj:j]), "0")
			if c := cmp.Compare(len(na), len(nb)); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			continue
		}
		ca, cb := unicode.ToLower(ra[i]), unicode.ToLower(rb[j])
		if ca != cb {
			return cmp.Compare(ca, cb)
		}
		i++
		j++
	}
	if c := cmp.Compare(len(ra)-i, len(rb)-j); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

// keys chooses unique JSON keys for the row column, the columns and the
// total.
func (mx *Matrix) keys() {
	taken := map[string]bool{}
	for _, c := range mx.cols {
		taken[c.key] = true
	}
	for taken[mx.rowKey] {
		mx.rowKey += "_"
	}
	taken[mx.rowKey] = true
	total := "total"
	for taken[total] {
		total += "_"
	}
	mx.colKeys = make([]string, 0, len(mx.cols)+1)
	for _, c := range mx.cols {
		mx.colKeys = append(mx.colKeys, c.key)
	}
	mx.colKeys = append(mx.colKeys, total)
}

// count works out every count cell and the totals, reading the sources
// the cell measure needs: the segments of the coded ones (of all of them
// for percentages, whose base is every segment), or the text of the coded
// ones for words.
func (mx *Matrix) count() error {
	p, ncol := mx.p, len(mx.cols)
	type tally struct{ segs, words, srcs int }
	// Per source and column (with the all-columns one last); nil for a
	// source without codings.
	per := make([][]tally, len(p.srcs))
	units := make([]int, len(p.srcs))
	var coded []*srcInfo
	for _, si := range p.srcs {
		if !hasSpans(mx.spans, si) {
			continue
		}
		coded = append(coded, si)
		per[si.index] = make([]tally, ncol+1)
		for k, sp := range mx.spans[si.index] {
			if len(sp) > 0 {
				per[si.index][k].srcs = 1
			}
		}
	}
	var err error
	switch mx.opts.Cell {
	case CellSegments, CellPercent:
		need := coded
		if mx.opts.Cell == CellPercent {
			need = p.srcs
		}
		err = p.eachBody(need, withSegments, func(si *srcInfo, b *srcBody) error {
			segs := unitSegments(b.src, mx.opts.Unit)
			units[si.index] = len(segs)
			for k, sp := range mx.spans[si.index] {
				if len(sp) > 0 {
					t := &per[si.index][k]
					markUnits(segs, sp, func(int) { t.segs++ })
				}
			}
			return nil
		})
	case CellWords:
		err = p.eachBody(coded, withText, func(si *srcInfo, b *srcBody) error {
			for k, sp := range mx.spans[si.index] {
				t := &per[si.index][k]
				for _, s := range sp {
					t.words += corpus.CountWords(b.text().Slice(s.start, s.end))
				}
			}
			return nil
		})
	}
	if err != nil {
		return err
	}
	rowSrcs := append(slices.Clone(mx.rowSrcs), p.srcs)
	mx.vals = make([][]any, len(rowSrcs))
	for r, srcs := range rowSrcs {
		mx.vals[r] = make([]any, ncol+1)
		nunits := 0
		for _, si := range srcs {
			nunits += units[si.index]
		}
		for k := 0; k <= ncol; k++ {
			var sum tally
			for _, si := range srcs {
				if per[si.index] == nil {
					continue
				}
				t := per[si.index][k]
				sum.segs += t.segs
				sum.words += t.words
				sum.srcs += t.srcs
			}
			switch mx.opts.Cell {
			case CellSegments:
				mx.vals[r][k] = sum.segs
			case CellSources:
				mx.vals[r][k] = sum.srcs
			case CellWords:
				mx.vals[r][k] = sum.words
			case CellPercent:
				if nunits == 0 {
					mx.vals[r][k] = nil
				} else {
					mx.vals[r][k] = math.Round(1000*float64(sum.segs)/float64(nunits)) / 10
				}
			}
		}
	}
	return nil
}

// frameworkRows streams the rows of a framework matrix, each cell the
// passages of the row's sources coded under its column, each followed by
// its citation, in source and text order, separated by blank lines. The
// text of each coded source is read once, row by row.
func (mx *Matrix) frameworkRows(row []any, emit func([]any) error) error {
	ncol := len(mx.cols)
	var coded []*srcInfo
	for _, srcs := range mx.rowSrcs {
		for _, si := range srcs {
			if hasSpans(mx.spans, si) {
				coded = append(coded, si)
			}
		}
	}
	rd := mx.p.readBodies(coded, withText)
	defer rd.close()
	parts := make([][]string, ncol)
	for r, label := range mx.rows {
		for k := range parts {
			parts[k] = parts[k][:0]
		}
		for _, si := range mx.rowSrcs[r] {
			if !hasSpans(mx.spans, si) {
				continue
			}
			_, b, err := rd.get()
			if err != nil {
				return err
			}
			for k := range ncol {
				for _, s := range mx.spans[si.index][k] {
					if t := strings.TrimSpace(b.text().Slice(s.start, s.end)); t != "" {
						parts[k] = append(parts[k], t+" "+si.cite)
					}
				}
			}
		}
		row[0] = label
		for k := range ncol {
			row[k+1] = strings.Join(parts[k], "\n\n")
		}
		if err := emit(row); err != nil {
			return err
		}
	}
	return nil
}

// cellTitle describes the cell measure, for titles.
func (mx *Matrix) cellTitle() string {
	switch mx.opts.Cell {
	case CellSegments:
		return "coded " + mx.opts.Unit + "s"
	case CellSources:
		return "sources coded"
	case CellWords:
		return "words coded"
	case CellPercent:
		return "% of " + mx.opts.Unit + "s coded"
	}
	return "extracts"
}

// Table is the matrix: a column of row labels, one column per node, then
// Total, and a last Total row (without totals for a framework matrix).
// Percentages are numbers from 0 to 100 with one decimal.
func (mx *Matrix) Table() Table {
	framework := mx.opts.Cell == CellExtracts
	cols := []Column{{Title: mx.rowTitle, Key: mx.rowKey, Width: 18}}
	for k, c := range mx.cols {
		col := Column{Title: c.label, Key: mx.colKeys[k], Number: !framework}
		if framework {
			col.Wrap, col.Width = true, 50
		} else {
			col.Width = float64(min(max(utf16Len(c.label)+2, 10), 24))
		}
		if mx.opts.Cell == CellPercent {
			col.NumFmt = `0.0"%"`
		}
		cols = append(cols, col)
	}
	if !framework {
		tot := Column{Title: "Total", Key: mx.colKeys[len(mx.cols)], Number: true, Width: 10}
		if mx.opts.Cell == CellPercent {
			tot.NumFmt = `0.0"%"`
		}
		cols = append(cols, tot)
	}
	rows := func(emit func([]any) error) error {
		row := make([]any, len(cols))
		if framework {
			return mx.frameworkRows(row, emit)
		}
		for r, label := range mx.rows {
			row[0] = label
			for k := range mx.cols {
				row[k+1] = mx.vals[r][k]
			}
			row[len(cols)-1] = mx.vals[r][len(mx.cols)]
			if err := emit(row); err != nil {
				return err
			}
		}
		row[0] = "Total"
		last := mx.vals[len(mx.rows)]
		copy(row[1:], last)
		return emit(row)
	}
	return Table{Columns: cols, Rows: rows}
}

// about lists the settings of the matrix.
func (mx *Matrix) about() [][2]string {
	out := [][2]string{
		{"Rows", mx.opts.Rows},
		{"Columns", mx.opts.Cols},
		{"Cells", mx.opts.Cell},
	}
	if mx.opts.Cell == CellSegments || mx.opts.Cell == CellPercent {
		out = append(out, [2]string{"Unit", mx.opts.Unit})
	}
	out = append(out, [2]string{"Sources", strconv.Itoa(len(mx.p.srcs))}, [2]string{"Codings", strconv.Itoa(mx.p.ncodings)})
	return append(out, mx.opts.About...)
}

// aboutSheet lists settings as a two-column sheet.
func aboutSheet(rows [][2]string, used map[string]bool) Sheet {
	return Sheet{Name: SheetName("About", used), Table: Table{
		Columns: []Column{{Title: "Setting", Key: "setting", Width: 20}, {Title: "Value", Key: "value", Width: 60, Wrap: true}},
		Rows: func(emit func([]any) error) error {
			for _, r := range rows {
				if err := emit([]any{r[0], r[1]}); err != nil {
					return err
				}
			}
			return nil
		},
	}}
}

// Sheets are the matrix, with a heat map over the count cells (totals
// excluded), and an About sheet with the settings.
func (mx *Matrix) Sheets() []Sheet {
	used := map[string]bool{}
	sh := Sheet{Name: SheetName("Matrix", used), Table: mx.Table(), FreezeHeader: true}
	if mx.opts.Cell != CellExtracts && len(mx.cols) > 0 {
		sh.HeatMaps = []HeatMap{{FirstCol: 1, LastCol: len(mx.cols), SkipLastRows: 1}}
	}
	return []Sheet{sh, aboutSheet(mx.about(), used)}
}

// Markdown writes a title, the matrix as a table and the settings.
func (mx *Matrix) Markdown(m *Markdown) {
	cols := mx.opts.Cols
	if cols == codebook.LevelSubtheme {
		cols = "sub-theme"
	}
	m.Heading(1, "Matrix: "+mx.rowTitle+" by "+cols+" ("+mx.cellTitle()+")")
	m.Table(mx.Table())
	m.Heading(2, "Settings")
	m.Table(aboutSheet(mx.about(), nil).Table)
}
