package export

import (
	"strings"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
)

// CodebookTable is a codebook as a table, one row per theme, sub-theme and
// code in file order, with its definitions and how much it is used: the
// codings of the node and of everything under it, and the sources and
// cases they are in. Codes used by codings but missing from the codebook
// follow at the end. It is a Document.
type CodebookTable struct {
	p      *prepared
	counts []nodeCount // per node, then per unknown code
	err    error
}

// BuildCodebookTable makes the codebook table of a study. Reading the
// codings (Study.Each) may fail: see Err.
func BuildCodebookTable(st *Study) *CodebookTable {
	p := prepare(st)
	// Counted per code scanned, then added up the codebook's tree.
	type codeCount struct {
		n       int
		sources map[*srcInfo]bool
	}
	var per []codeCount // by index in p.codeIDs
	err := p.scan(func(c *analysis.Coding, si *srcInfo, code int32) error {
		for int(code) >= len(per) {
			per = append(per, codeCount{sources: map[*srcInfo]bool{}})
		}
		per[code].n++
		per[code].sources[si] = true
		return nil
	})
	ct := &CodebookTable{p: p, counts: make([]nodeCount, len(p.nodes)+len(p.unknown)), err: err}
	for i := range ct.counts {
		ct.counts[i] = nodeCount{first: -1, sources: map[*srcInfo]bool{}, cases: map[string]bool{}}
	}
	add := func(k int, cc *codeCount) {
		c := &ct.counts[k]
		c.n += cc.n
		for si := range cc.sources {
			c.sources[si] = true
			if si.src.Case != "" {
				c.cases[si.src.Case] = true
			}
		}
	}
	for k, id := range p.codeIDs {
		n := p.node(id)
		if n == nil {
			add(p.order[id], &per[k])
			continue
		}
		for _, m := range n.Path() {
			add(p.order[m.ID], &per[k])
		}
	}
	return ct
}

// Err is the error of reading the codings, if there was one; the table is
// then incomplete, and writing it fails with that error.
func (ct *CodebookTable) Err() error { return ct.err }

// Table is the codebook table.
func (ct *CodebookTable) Table() Table {
	p := ct.p
	cols := []Column{
		{Title: "Theme", Key: "theme", Width: 24},
		{Title: "Sub-theme", Key: "subtheme", Width: 24},
		{Title: "Code", Key: "code", Width: 24},
		{Title: "ID", Key: "id", Width: 16},
		{Title: "Definition", Key: "definition", Width: 50, Wrap: true},
		{Title: "When to use", Key: "when_to_use", Width: 40, Wrap: true},
		{Title: "When not to use", Key: "when_not_to_use", Width: 40, Wrap: true},
		{Title: "Examples", Key: "examples", Width: 40, Wrap: true},
		{Title: "Colour", Key: "colour", Width: 9},
		{Title: "Codings", Key: "codings", Number: true, Width: 9},
		{Title: "Sources", Key: "sources", Number: true, Width: 9},
		{Title: "Cases", Key: "cases", Number: true, Width: 9},
	}
	rows := func(emit func([]any) error) error {
		if ct.err != nil {
			return ct.err
		}
		row := make([]any, len(cols))
		counts := func(c *nodeCount) {
			row[9], row[10], row[11] = c.n, len(c.sources), len(c.cases)
		}
		for i, n := range p.nodes {
			clear(row)
			l := p.labels[n]
			switch n.Level {
			case codebook.LevelTheme:
				row[0] = l[0]
			case codebook.LevelSubtheme:
				row[0], row[1] = l[0], l[1]
			default:
				row[0], row[1], row[2] = l[0], l[1], l[2]
			}
			row[3], row[4], row[5], row[6] = n.ID, n.Definition, n.WhenToUse, n.WhenNotToUse
			row[7], row[8] = strings.Join(n.Examples, "\n"), n.Colour
			counts(&ct.counts[i])
			if err := emit(row); err != nil {
				return err
			}
		}
		for i, id := range p.unknown {
			clear(row)
			row[2], row[3], row[4] = id, id, "(not in the codebook)"
			counts(&ct.counts[len(p.nodes)+i])
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	}
	return Table{Columns: cols, Rows: rows}
}

// Sheets is one sheet, Codebook, with a frozen header and filters.
func (ct *CodebookTable) Sheets() []Sheet {
	return []Sheet{{Name: "Codebook", Table: ct.Table(), FreezeHeader: true, AutoFilter: true}}
}

// Markdown writes the codebook's name and description and the table.
func (ct *CodebookTable) Markdown(m *Markdown) {
	title := "Codebook"
	if cb := ct.p.st.Codebook; cb != nil {
		if strings.TrimSpace(cb.Name) != "" {
			title = cb.Name
		}
		m.Heading(1, title)
		m.Paragraph(cb.Description)
	} else {
		m.Heading(1, title)
	}
	m.Table(ct.Table())
}
