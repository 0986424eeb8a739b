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

// Study is what the exports of a project are made from: its codebook,
// sources and case attributes, and the codings to export (those of the
// coders chosen, already filtered by the caller). Orphaned codings, whose
// positions are stale, and codings of sources not in Sources are left out
// of every export.
type Study struct {
	Codebook *codebook.Codebook // nil: no codebook, every code is "not in the codebook"
	// Sources hold their segments and text, in the order exports list them.
	Sources []*corpus.Source
	Cases   corpus.Cases // attributes of cases (cases.csv)
	// Citation is the citation label template (thematic.yaml); empty means
	// "({Kind} {n})".
	Citation string
	Codings  []analysis.Coding
}

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

// srcInfo is a source prepared for the exports.
type srcInfo struct {
	src      *corpus.Source
	pos      int    // index in Study.Sources
	cite     string // citation label
	attrs    map[string]string
	turns    []corpus.Segment // the turn segments, in text order
	tx       *analysis.TextIndex
	lineHead []int // code-point offsets of line starts; built when first needed
}

// text returns the index of the source's text, built on first use.
func (si *srcInfo) text() *analysis.TextIndex {
	if si.tx == nil {
		si.tx = analysis.NewTextIndex(si.src.Text)
	}
	return si.tx
}

// line returns the 1-based line of code point cp.
func (si *srcInfo) line(cp int) int {
	if si.lineHead == nil {
		si.lineHead = []int{0}
		i := 0
		for _, r := range si.src.Text {
			i++
			if r == '\n' {
				si.lineHead = append(si.lineHead, i)
			}
		}
	}
	return sort.SearchInts(si.lineHead, cp+1)
}

// turnAt returns the turn holding code point start, else the first turn
// that begins inside [start, end) (a span starting on a speaker's label),
// else nil.
func (si *srcInfo) turnAt(start, end int) *corpus.Segment {
	i := sort.Search(len(si.turns), func(i int) bool { return si.turns[i].End > start })
	if i < len(si.turns) && si.turns[i].Start < end {
		return &si.turns[i]
	}
	return nil
}

// prepared is a Study made ready for the exports.
type prepared struct {
	st       *Study
	srcs     []*srcInfo
	byID     map[string]*srcInfo
	nodes    []*codebook.Node   // every codebook node, in file order (each before its children)
	order    map[string]int     // node id -> index in nodes; unknown codes after, by id
	unknown  []string           // code ids used by codings but not in the codebook, sorted
	codings  []*analysis.Coding // usable codings: not orphaned, of a known source
	attrKeys []string           // attribute names of the sources and their cases, sorted
	labels   map[*codebook.Node][3]string
}

// prepare indexes a study.
func prepare(st *Study) *prepared {
	p := &prepared{st: st, byID: make(map[string]*srcInfo, len(st.Sources)), order: map[string]int{},
		labels: map[*codebook.Node][3]string{}}
	tmpl := st.Citation
	if tmpl == "" {
		tmpl = "({Kind} {n})"
	}
	keys := map[string]bool{}
	for i, src := range st.Sources {
		if _, dup := p.byID[src.ID]; dup {
			continue
		}
		attrs := corpus.CaseAttrs(src, st.Cases)
		si := &srcInfo{src: src, pos: i, cite: corpus.Citation(tmpl, src, attrs), attrs: attrs}
		for _, seg := range src.Segments {
			if seg.Unit == corpus.UnitTurn {
				si.turns = append(si.turns, seg)
			}
		}
		for k := range attrs {
			keys[k] = true
		}
		p.srcs = append(p.srcs, si)
		p.byID[src.ID] = si
	}
	p.attrKeys = sortedKeys(keys)
	if st.Codebook != nil {
		st.Codebook.Walk(func(n *codebook.Node) bool {
			p.order[n.ID] = len(p.nodes)
			p.nodes = append(p.nodes, n)
			p.labels[n] = nodeLabels(n)
			return true
		})
	}
	unknown := map[string]bool{}
	for i := range st.Codings {
		c := &st.Codings[i]
		if c.Orphan || p.byID[c.Source] == nil || c.End <= c.Start {
			continue
		}
		p.codings = append(p.codings, c)
		if _, ok := p.order[c.Code]; !ok {
			unknown[c.Code] = true
		}
	}
	p.unknown = sortedKeys(unknown)
	for i, id := range p.unknown {
		p.order[id] = len(p.nodes) + i
	}
	return p
}

// node returns the codebook node of a code id, or nil.
func (p *prepared) node(id string) *codebook.Node {
	if i, ok := p.order[id]; ok && i < len(p.nodes) {
		return p.nodes[i]
	}
	return nil
}

// nodeLabels gives the Theme, Sub-theme and Code columns of a node: the
// names on its path, child codes as "Parent › Child".
func nodeLabels(n *codebook.Node) [3]string {
	var out [3]string
	var codes []string
	for _, m := range n.Path() {
		switch m.Level {
		case codebook.LevelTheme:
			out[0] = m.Name
		case codebook.LevelSubtheme:
			out[1] = m.Name
		default:
			codes = append(codes, m.Name)
		}
	}
	out[2] = strings.Join(codes, " › ")
	return out
}

// sortedKeys returns the keys of a set in order.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// extract is one row of an extracts export.
type extract struct {
	code          string
	node          *codebook.Node // nil: not in the codebook
	si            *srcInfo
	start, end    int
	text          string
	speaker, role string
	position      string
	coder, origin string
	memo          string
	group         int // index in ExtractSet.groups
	row           int // 1-based data row in the group's sheet
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

// BuildExtracts builds the extracts of a study. Options out of range are
// *errs.InputError.
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

	cs := slices.Clone(p.codings)
	slices.SortFunc(cs, func(a, b *analysis.Coding) int {
		return cmp.Or(
			cmp.Compare(p.order[a.Code], p.order[b.Code]),
			cmp.Compare(p.byID[a.Source].pos, p.byID[b.Source].pos),
			cmp.Compare(a.Start, b.Start),
			cmp.Compare(a.End, b.End),
			cmp.Compare(a.Coder, b.Coder),
			cmp.Compare(a.ID, b.ID),
		)
	})
	x.items = make([]extract, 0, len(cs))
	for i := 0; i < len(cs); {
		j, end := i+1, cs[i].End
		if opts.Merge {
			for j < len(cs) && cs[j].Code == cs[i].Code && cs[j].Source == cs[i].Source &&
				(cs[j].Start < end || strings.TrimSpace(x.p.byID[cs[i].Source].text().Slice(end, cs[j].Start)) == "") {
				end = max(end, cs[j].End)
				j++
			}
		}
		if e, ok := x.makeExtract(cs[i:j], end, opts); ok {
			x.items = append(x.items, e)
		}
		i = j
	}
	x.group(opts.By)
	x.count()
	return x, nil
}

// makeExtract makes the extract of a run of codings of one code in one
// source, cs[0].Start to end, or reports that the options leave it out.
func (x *ExtractSet) makeExtract(cs []*analysis.Coding, end int, opts ExtractOptions) (extract, bool) {
	c := cs[0]
	si := x.p.byID[c.Source]
	e := extract{code: c.Code, node: x.p.node(c.Code), si: si, start: c.Start, end: end, text: c.Quote}
	if len(cs) > 1 {
		e.text = si.text().Slice(e.start, e.end)
	}
	if len(opts.Roles) > 0 {
		var ok bool
		if e, ok = x.keepRoles(e, opts.Roles); !ok {
			return e, false
		}
	}
	if opts.MinWords > 0 && corpus.CountWords(e.text) < opts.MinWords {
		return e, false
	}
	if t := si.turnAt(e.start, e.end); t != nil {
		e.speaker, e.role = t.Speaker, t.Role
		if t.Time != "" {
			e.position = t.Time
		}
	}
	if e.position == "" {
		l1, l2 := si.line(e.start), si.line(e.end-1)
		if l1 == l2 {
			e.position = "line " + strconv.Itoa(l1)
		} else {
			e.position = "lines " + strconv.Itoa(l1) + "-" + strconv.Itoa(l2)
		}
	}
	var coders, origins, memos []string
	for _, c := range cs {
		coders = appendNew(coders, c.Coder)
		origins = appendNew(origins, c.Origin)
		if m := strings.TrimSpace(c.Memo); m != "" {
			memos = appendNew(memos, m)
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

// keepRoles cuts an extract to the parts of it inside turns of the roles.
func (x *ExtractSet) keepRoles(e extract, roles []string) (extract, bool) {
	si := e.si
	i := sort.Search(len(si.turns), func(i int) bool { return si.turns[i].End > e.start })
	var parts []string
	first, last := -1, -1
	whole := false
	for ; i < len(si.turns) && si.turns[i].Start < e.end; i++ {
		t := &si.turns[i]
		if !slices.Contains(roles, t.Role) {
			continue
		}
		s, en := max(t.Start, e.start), min(t.End, e.end)
		if s == e.start && en == e.end {
			whole = true // the extract lies inside this one turn
			break
		}
		if part := strings.TrimSpace(si.text().Slice(s, en)); part != "" {
			parts = append(parts, part)
			if first < 0 {
				first = s
			}
			last = en
		}
	}
	switch {
	case whole:
		return e, true
	case len(parts) == 0:
		return e, false
	}
	e.start, e.end, e.text = first, last, strings.Join(parts, partSep)
	return e, true
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
		e.group = g
		x.groups[g].items = append(x.groups[g].items, i)
		e.row = len(x.groups[g].items)
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
	return Link{Text: text, Sheet: x.groups[e.group].sheet, Cell: "A" + strconv.Itoa(e.row+1)}
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
