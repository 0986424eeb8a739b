package export

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// Document is an export that can be written in every format: as workbook
// sheets, as one table (CSV and JSON) and as a Markdown document.
type Document interface {
	// Sheets are the worksheets of the xlsx form.
	Sheets() []Sheet
	// Table is the CSV and JSON form: one row or record per item.
	Table() Table
	// Markdown writes the Markdown form; errors stay in m (see Markdown.Err).
	Markdown(m *Markdown)
}

// Formats of WriteDocument and EncodeDocument.
const (
	FormatXLSX     = "xlsx"
	FormatCSV      = "csv"
	FormatJSON     = "json"
	FormatMarkdown = "md"
)

// WriteDocument writes d in format (FormatXLSX, FormatCSV, FormatJSON or
// FormatMarkdown) at path, atomically. CSV is written as Excel reads it
// best (UTF-8 with a byte order mark); JSON as an array of one record per
// line.
func WriteDocument(path, format string, d Document) error {
	switch format {
	case FormatXLSX:
		return WriteXLSX(path, d.Sheets()...)
	case FormatCSV:
		return WriteCSV(path, d.Table(), CSVOptions{})
	case FormatJSON:
		return WriteJSON(path, d.Table().Records(), JSONOptions{})
	case FormatMarkdown:
		return WriteMarkdown(path, func(m *Markdown) error {
			d.Markdown(m)
			return m.Err()
		})
	}
	return fmt.Errorf("export: unknown format %q", format)
}

// EncodeDocument writes d in format to w, as WriteDocument does to a file.
func EncodeDocument(w io.Writer, format string, d Document) error {
	switch format {
	case FormatXLSX:
		return EncodeXLSX(w, d.Sheets()...)
	case FormatCSV:
		return EncodeCSV(w, d.Table(), CSVOptions{})
	case FormatJSON:
		return EncodeJSON(w, d.Table().Records(), JSONOptions{})
	case FormatMarkdown:
		m := NewMarkdown(w)
		d.Markdown(m)
		return m.Flush()
	}
	return fmt.Errorf("export: unknown format %q", format)
}

// Groupings of extracts into workbook sheets (ExtractOptions.By).
const (
	ByTheme    = codebook.LevelTheme
	BySubtheme = codebook.LevelSubtheme
	ByCode     = codebook.LevelCode
)

// ExtractOptions say which extracts to export and how to group them.
type ExtractOptions struct {
	// By groups extracts into sheets: one per theme (ByTheme, the default),
	// per sub-theme (BySubtheme; what lies under no sub-theme goes to its
	// theme's sheet) or per code (ByCode). Codes not in the codebook share
	// one sheet.
	By string
	// Roles, when set, keeps only the words of speaker turns of these roles
	// (such as corpus.RoleParticipant): an extract is cut to the parts of
	// its text inside such turns, the parts joined by " […] ", and left out
	// when no part is left.
	Roles []string
	// MinWords leaves out extracts of fewer words (corpus.CountWords).
	MinWords int
	// Merge makes one extract of each run of overlapping or adjacent
	// codings of the same code in a source (adjacent: nothing but white
	// space between them, as between the sentences of a coded passage),
	// whoever coded them: its text runs from the first start to the last
	// end, and its coders, origins and memos are those of the codings merged.
	Merge bool
}

// partSep joins the parts of an extract cut to some speakers' turns.
const partSep = " […] "

// extract is one row of an extracts export.
type extract struct {
	code          string
	node          *codebook.Node // nil: not in the codebook
	si            *srcInfo
	text          string
	speaker       string
	position      string
	coder, origin string
	memo          string
	group         int32 // index in ExtractSet.groups
	row           int32 // 1-based data row in the group's sheet
}

// extractGroup is the extracts of one sheet.
type extractGroup struct {
	title string
	node  *codebook.Node // nil for codes not in the codebook
	items []int          // indices into ExtractSet.items
	sheet string
}

// ExtractSet is the extracts of a study, ready to write in any format (it
// is a Document): the quotes coded, with their theme, sub-theme and code,
// citation label, source, case, attributes, speaker, position, coder,
// origin and memo.
type ExtractSet struct {
	p      *prepared
	items  []extract
	groups []extractGroup
	// per codebook node (and unknown code, after them): extracts of the
	// node and everything under it, its sources and cases.
	counts   []nodeCount
	ownItems map[string][]int // code id -> its own extracts
	index    string           // name of the index sheet
}

// nodeCount counts the extracts under a node.
type nodeCount struct {
	n       int
	first   int // index of the first extract under the node, -1 if none
	sources map[*srcInfo]bool
	cases   map[string]bool
}

// xcoding is what an extract needs of a coding: kept from a streamed
// coding, its strings are copies (or shared among codings).
type xcoding struct {
	code          int32 // index in prepared.codeIDs
	start, end    int
	id, quote     string
	coder, origin string // shared
	memo          string // trimmed
}

// BuildExtracts builds the extracts of a study. Options out of range are
// *errs.InputError; so are the errors of reading the codings and sources.
func BuildExtracts(st *Study, opts ExtractOptions) (*ExtractSet, error) {
	switch opts.By {
	case "":
		opts.By = ByTheme
	case ByTheme, BySubtheme, ByCode:
	default:
		return nil, errs.New("", 0, 0, "group extracts by %q: use theme, subtheme or code", opts.By)
	}
	if opts.MinWords < 0 {
		return nil, errs.New("", 0, 0, "minimum words %d: give 0 or more", opts.MinWords)
	}
	for _, r := range opts.Roles {
		if r != corpus.RoleInterviewer && r != corpus.RoleParticipant && r != corpus.RoleOther {
			return nil, errs.New("", 0, 0, "role %q: use interviewer, participant or other", r)
		}
	}
	p := prepare(st)
	x := &ExtractSet{p: p, ownItems: map[string][]int{}}

	// The codings by source, so that each source is read once and its
	// codings let go once its extracts are made.
	bySrc := make([][]xcoding, len(p.srcs))
	n := 0
	err := p.scan(func(c *analysis.Coding, si *srcInfo, code int32) error {
		bySrc[si.index] = append(bySrc[si.index], xcoding{code: code, start: c.Start, end: c.End,
			id: strings.Clone(c.ID), quote: strings.Clone(c.Quote),
			coder: p.intern(c.Coder), origin: p.intern(c.Origin), memo: strings.Clone(strings.TrimSpace(c.Memo))})
		n++
		return nil
	})
	if err != nil {
		return nil, err
	}
	var coded []*srcInfo
	for _, si := range p.srcs {
		if len(bySrc[si.index]) > 0 {
			coded = append(coded, si)
		}
	}
	order := p.codeOrders()
	x.items = make([]extract, 0, n)
	err = p.eachBody(coded, withSegments|withText, func(si *srcInfo, b *srcBody) error {
		cs := bySrc[si.index]
		bySrc[si.index] = nil
		// In the order of the export within the source.
		slices.SortFunc(cs, func(a, b xcoding) int {
			return cmp.Or(
				cmp.Compare(order[a.code], order[b.code]),
				cmp.Compare(a.start, b.start),
				cmp.Compare(a.end, b.end),
				cmp.Compare(a.coder, b.coder),
				cmp.Compare(a.id, b.id),
			)
		})
		for i := 0; i < len(cs); {
			j, end := i+1, cs[i].end
			if opts.Merge {
				for j < len(cs) && cs[j].code == cs[i].code &&
					(cs[j].start < end || strings.TrimSpace(b.text().Slice(end, cs[j].start)) == "") {
					end = max(end, cs[j].end)
					j++
				}
			}
			if e, ok := x.makeExtract(si, b, cs[i:j], end, opts); ok {
				x.items = append(x.items, e)
			}
			i = j
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	byCodeOrder(x.items, p.order)
	x.group(opts.By)
	x.count()
	return x, nil
}

// byCodeOrder puts extracts made source by source in the order of the
// export, in place: by code (in codebook order), keeping for each code the
// order they were made in, that is by source, then position. A counting
// sort gives each extract its place, then each cycle of the permutation
// is followed, moving every extract once.
func byCodeOrder(items []extract, order map[string]int) {
	var at []int
	key := make([]int32, len(items))
	for i := range items {
		k := order[items[i].code]
		key[i] = int32(k)
		for len(at) <= k+1 {
			at = append(at, 0)
		}
		at[k+1]++
	}
	for k := 1; k < len(at); k++ {
		at[k] += at[k-1]
	}
	dest := make([]int32, len(items)) // where each extract goes
	for i, k := range key {
		dest[i] = int32(at[k])
		at[k]++
	}
	for i := range items {
		for int(dest[i]) != i {
			d := dest[i]
			items[i], items[d] = items[d], items[i]
			dest[i], dest[d] = dest[d], d
		}
	}
}

// makeExtract makes the extract of a run of codings of one code in one
// source, cs[0].start to end, or reports that the options leave it out.
func (x *ExtractSet) makeExtract(si *srcInfo, b *srcBody, cs []xcoding, end int, opts ExtractOptions) (extract, bool) {
	c := &cs[0]
	code := x.p.codeIDs[c.code]
	e := extract{code: code, node: x.p.node(code), si: si, text: c.quote}
	start := c.start
	if len(cs) > 1 {
		e.text = b.slice(start, end)
	}
	if len(opts.Roles) > 0 {
		var ok bool
		if start, end, e.text, ok = keepRoles(b, start, end, e.text, opts.Roles); !ok {
			return e, false
		}
	}
	if opts.MinWords > 0 && corpus.CountWords(e.text) < opts.MinWords {
		return e, false
	}
	if t := b.turnAt(start, end); t != nil {
		e.speaker = x.p.intern(t.Speaker)
		if t.Time != "" {
			e.position = x.p.intern(t.Time)
		}
	}
	if e.position == "" {
		l1, l2 := b.line(start), b.line(end-1)
		if l1 == l2 {
			e.position = "line " + strconv.Itoa(l1)
		} else {
			e.position = "lines " + strconv.Itoa(l1) + "-" + strconv.Itoa(l2)
		}
	}
	if len(cs) == 1 {
		e.coder, e.origin, e.memo = c.coder, c.origin, c.memo
		return e, true
	}
	var coders, origins, memos []string
	for _, c := range cs {
		coders = appendNew(coders, c.coder)
		origins = appendNew(origins, c.origin)
		if c.memo != "" {
			memos = appendNew(memos, c.memo)
		}
	}
	e.coder, e.origin, e.memo = strings.Join(coders, ", "), strings.Join(origins, ", "), strings.Join(memos, "\n")
	return e, true
}

// appendNew appends s to list unless it is there already.
func appendNew(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// keepRoles cuts the extract text from start to end to the parts of it
// inside turns of the roles, and returns where what is kept starts and
// ends, and its text; ok is false when nothing is kept.
func keepRoles(b *srcBody, start, end int, text string, roles []string) (int, int, string, bool) {
	turns := b.turnList()
	i := sort.Search(len(turns), func(i int) bool { return turns[i].End > start })
	var parts []string
	first, last := -1, -1
	for ; i < len(turns) && turns[i].Start < end; i++ {
		t := &turns[i]
		if !slices.Contains(roles, t.Role) {
			continue
		}
		s, en := max(t.Start, start), min(t.End, end)
		if s == start && en == end {
			return start, end, text, true // the extract lies inside this one turn
		}
		if part := strings.TrimSpace(b.text().Slice(s, en)); part != "" {
			parts = append(parts, part)
			if first < 0 {
				first = s
			}
			last = en
		}
	}
	if len(parts) == 0 {
		return start, end, text, false
	}
	return first, last, strings.Join(parts, partSep), true
}

// group sorts the extracts into sheets.
func (x *ExtractSet) group(by string) {
	byKey := map[string]int{}
	const unknownKey = "\x00unknown"
	for i := range x.items {
		e := &x.items[i]
		key, title := unknownKey, "Not in the codebook"
		var gn *codebook.Node
		if e.node != nil {
			gn = groupNode(e.node, by)
			key, title = gn.ID, gn.Name
		}
		g, ok := byKey[key]
		if !ok {
			g = len(x.groups)
			byKey[key] = g
			x.groups = append(x.groups, extractGroup{title: title, node: gn})
		}
		e.group = int32(g)
		x.groups[g].items = append(x.groups[g].items, i)
		e.row = int32(len(x.groups[g].items))
		x.ownItems[e.code] = append(x.ownItems[e.code], i)
	}
	used := map[string]bool{}
	x.index = SheetName("Index", used)
	for g := range x.groups {
		x.groups[g].sheet = SheetName(x.groups[g].title, used)
	}
}

// groupNode is the node whose sheet holds the extracts of n.
func groupNode(n *codebook.Node, by string) *codebook.Node {
	path := n.Path()
	switch by {
	case ByCode:
		return n
	case BySubtheme:
		for _, m := range path {
			if m.Level == codebook.LevelSubtheme {
				return m
			}
		}
	}
	return path[0]
}

// count tallies the extracts under every node.
func (x *ExtractSet) count() {
	p := x.p
	x.counts = make([]nodeCount, len(p.nodes)+len(p.unknown))
	for i := range x.counts {
		x.counts[i] = nodeCount{first: -1, sources: map[*srcInfo]bool{}, cases: map[string]bool{}}
	}
	add := func(k, i int, e *extract) {
		c := &x.counts[k]
		c.n++
		if c.first < 0 {
			c.first = i
		}
		c.sources[e.si] = true
		if e.si.src.Case != "" {
			c.cases[e.si.src.Case] = true
		}
	}
	for i := range x.items {
		e := &x.items[i]
		if e.node == nil {
			add(p.order[e.code], i, e)
			continue
		}
		for _, m := range e.node.Path() {
			add(p.order[m.ID], i, e)
		}
	}
}

// Len is the number of extracts.
func (x *ExtractSet) Len() int { return len(x.items) }

// Groups is the number of sheets of extracts (the index aside).
func (x *ExtractSet) Groups() int { return len(x.groups) }

// attrColumns are the columns of the attributes, keyed so as not to clash
// with the fixed keys.
func attrColumns(keys []string, fixed []Column) []Column {
	taken := map[string]bool{}
	for _, c := range fixed {
		taken[c.key()] = true
	}
	out := make([]Column, len(keys))
	for i, k := range keys {
		key := k
		for taken[key] {
			key = "attr_" + key
		}
		taken[key] = true
		out[i] = Column{Title: k, Key: key, Width: float64(min(max(utf16Len(k)+3, 10), 24))}
	}
	return out
}

// columns are the columns of an extracts table.
func (x *ExtractSet) columns() []Column {
	head := []Column{
		{Title: "Theme", Key: "theme", Width: 24},
		{Title: "Sub-theme", Key: "subtheme", Width: 24},
		{Title: "Code", Key: "code", Width: 24},
		{Title: "Extract", Key: "extract", Width: 70, Wrap: true},
		{Title: "Citation", Key: "citation", Width: 16},
		{Title: "Source", Key: "source", Width: 18},
		{Title: "Case", Key: "case", Width: 10},
	}
	tail := []Column{
		{Title: "Speaker", Key: "speaker", Width: 14},
		{Title: "Position", Key: "position", Width: 12},
		{Title: "Coder", Key: "coder", Width: 12},
		{Title: "Origin", Key: "origin", Width: 16},
		{Title: "Memo", Key: "memo", Width: 40, Wrap: true},
	}
	cols := append(slices.Clone(head), attrColumns(x.p.attrKeys, append(slices.Clone(head), tail...))...)
	return append(cols, tail...)
}

// rows streams the extracts with the given indices (all when idx is nil).
func (x *ExtractSet) rows(idx []int, all bool) Rows {
	return func(emit func([]any) error) error {
		keys := x.p.attrKeys
		row := make([]any, 7+len(keys)+5)
		n := len(x.items)
		if !all {
			n = len(idx)
		}
		for k := 0; k < n; k++ {
			i := k
			if !all {
				i = idx[k]
			}
			e := &x.items[i]
			clear(row)
			if e.node != nil {
				l := x.p.labels[e.node]
				row[0], row[1], row[2] = l[0], l[1], l[2]
			} else {
				row[2] = e.code
			}
			row[3], row[4], row[5], row[6] = e.text, e.si.cite, e.si.src.ID, e.si.src.Case
			for j, key := range keys {
				if v, ok := e.si.attrs[key]; ok {
					row[7+j] = v
				}
			}
			t := row[7+len(keys):]
			t[0], t[1], t[2], t[3], t[4] = e.speaker, e.position, e.coder, e.origin, e.memo
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	}
}

// Table is every extract, one row each, in codebook order (then by source
// and position): the CSV and JSON form.
func (x *ExtractSet) Table() Table {
	return Table{Columns: x.columns(), Rows: x.rows(nil, true)}
}

// Sheets are the workbook: an index of the codebook with the number of
// extracts, sources and cases under each node, each linking to the first
// of its extracts, then one sheet of extracts per group.
func (x *ExtractSet) Sheets() []Sheet {
	cols := x.columns()
	sheets := []Sheet{x.indexSheet()}
	for g := range x.groups {
		sheets = append(sheets, Sheet{
			Name:         x.groups[g].sheet,
			Table:        Table{Columns: cols, Rows: x.rows(x.groups[g].items, false)},
			FreezeHeader: true,
			AutoFilter:   true,
		})
	}
	return sheets
}

// link is the index cell of a node: a link to its first extract.
func (x *ExtractSet) link(text string, c *nodeCount) any {
	if c.first < 0 {
		return text
	}
	e := &x.items[c.first]
	return Link{Text: text, Sheet: x.groups[e.group].sheet, Cell: "A" + strconv.Itoa(int(e.row)+1)}
}

// indexSheet is the codebook tree with counts.
func (x *ExtractSet) indexSheet() Sheet {
	p := x.p
	cols := []Column{
		{Title: "Theme", Key: "theme", Width: 30},
		{Title: "Sub-theme", Key: "subtheme", Width: 30},
		{Title: "Code", Key: "code", Width: 30},
		{Title: "ID", Key: "id", Width: 18},
		{Title: "Extracts", Key: "extracts", Number: true, Width: 10},
		{Title: "Sources", Key: "sources", Number: true, Width: 10},
		{Title: "Cases", Key: "cases", Number: true, Width: 10},
	}
	rows := func(emit func([]any) error) error {
		row := make([]any, len(cols))
		emitCount := func(c *nodeCount) error {
			row[4], row[5], row[6] = c.n, len(c.sources), len(c.cases)
			return emit(row)
		}
		for i, n := range p.nodes {
			clear(row)
			col := 2
			switch n.Level {
			case codebook.LevelTheme:
				col = 0
			case codebook.LevelSubtheme:
				col = 1
			}
			name := n.Name
			if col == 2 {
				name = p.labels[n][2]
			}
			row[col] = x.link(name, &x.counts[i])
			row[3] = n.ID
			if err := emitCount(&x.counts[i]); err != nil {
				return err
			}
		}
		for i, id := range p.unknown {
			clear(row)
			c := &x.counts[len(p.nodes)+i]
			row[0] = "(not in the codebook)"
			row[2] = x.link(id, c)
			row[3] = id
			if err := emitCount(c); err != nil {
				return err
			}
		}
		clear(row)
		row[0] = "All extracts"
		srcs, cases := map[*srcInfo]bool{}, map[string]bool{}
		for i := range x.items {
			srcs[x.items[i].si] = true
			if cs := x.items[i].si.src.Case; cs != "" {
				cases[cs] = true
			}
		}
		row[4], row[5], row[6] = len(x.items), len(srcs), len(cases)
		return emit(row)
	}
	return Sheet{Name: x.index, Table: Table{Columns: cols, Rows: rows}, FreezeHeader: true}
}

// Markdown writes the extracts as a findings document: each theme,
// sub-theme and code that has extracts as a heading with its definition,
// and each extract as a block quote ending with its citation label. Codes
// not in the codebook follow under a heading of their own.
func (x *ExtractSet) Markdown(m *Markdown) {
	p := x.p
	title := "Extracts"
	if p.st.Codebook != nil && strings.TrimSpace(p.st.Codebook.Name) != "" {
		title = p.st.Codebook.Name
	}
	m.Heading(1, title)
	quotes := func(code string) {
		for _, i := range x.ownItems[code] {
			e := &x.items[i]
			m.Quote(e.text, e.si.cite)
		}
	}
	var walk func(n *codebook.Node, level int)
	walk = func(n *codebook.Node, level int) {
		if x.counts[p.order[n.ID]].n == 0 {
			return
		}
		m.Heading(level, n.Name)
		m.Paragraph(n.Definition)
		quotes(n.ID)
		for _, c := range n.Children {
			walk(c, level+1)
		}
	}
	if p.st.Codebook != nil {
		for _, th := range p.st.Codebook.Themes {
			walk(th, 2)
		}
	}
	if len(p.unknown) > 0 {
		m.Heading(2, "Codes not in the codebook")
		for _, id := range p.unknown {
			m.Heading(3, id)
			quotes(id)
		}
	}
}
