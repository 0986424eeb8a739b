package export

import (
	"strconv"
	"strings"

	"github.com/thematic-qda/thematic/codebook"
)

// CooccurrenceOptions say how codes are found together.
type CooccurrenceOptions struct {
	// Unit is the segment in which codes are counted together:
	// corpus.UnitSentence (the default), UnitParagraph or UnitTurn. A code is
	// present in a segment when any of its codings (by any of the coders)
	// overlaps the segment by at least one code point.
	Unit string
	// Level is what is crossed: codebook.LevelCode (the default), each code
	// with its child codes; LevelSubtheme or LevelTheme, each with all that
	// lies under it (the columns of a matrix at that level).
	Level string
	// About lists settings of the run (label, value), such as the coders.
	About [][2]string
}

// Cooccurrence counts, for every pair of codes, the segments where both
// are present, and their Jaccard index: segments with both over segments
// with either. It is a Document: in a workbook, a sheet of counts (the
// diagonal is the segments with the code at all) and one of Jaccard
// indices; in CSV and JSON, one row per pair of codes.
type Cooccurrence struct {
	p     *prepared
	opts  CooccurrenceOptions
	cols  []colSet
	both  [][]int // both[i][j]: segments where codes i and j are present; both[i][i]: where i is
	units int     // segments of the unit in the study
}

// BuildCooccurrence counts co-occurring codes in a study. Options out of
// range are *errs.InputError.
func BuildCooccurrence(st *Study, opts CooccurrenceOptions) (*Cooccurrence, error) {
	var err error
	if opts.Unit, err = checkUnit(opts.Unit); err != nil {
		return nil, err
	}
	if opts.Level == "" {
		opts.Level = codebook.LevelCode
	}
	p := prepare(st)
	if _, _, err := columnSets(p, opts.Level); err != nil {
		return nil, err // the level, checked before the codings are read
	}
	recs, err := scanSpans(p)
	if err != nil {
		return nil, err
	}
	cols, codeCols, err := columnSets(p, opts.Level)
	if err != nil {
		return nil, err
	}
	co := &Cooccurrence{p: p, opts: opts, cols: cols, both: make([][]int, len(cols))}
	for i := range co.both {
		co.both[i] = make([]int, len(cols))
	}
	spans := codedSpans(p, recs, len(cols), codeCols)
	recs = nil
	var present [][]int32 // per segment, the columns present
	// Every source's segments are counted, coded or not.
	err = p.eachBody(p.srcs, withSegments, func(si *srcInfo, b *srcBody) error {
		segs := unitSegments(b.src, opts.Unit)
		co.units += len(segs)
		if !hasSpans(spans, si) {
			return nil
		}
		present = present[:0]
		for range segs {
			present = append(present, nil)
		}
		for k, sp := range spans[si.index][:len(cols)] {
			markUnits(segs, sp, func(u int) { present[u] = append(present[u], int32(k)) })
		}
		for _, ks := range present {
			for a, i := range ks {
				for _, j := range ks[a:] {
					co.both[i][j]++
					if i != j {
						co.both[j][i]++
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return co, nil
}

// jaccard is the Jaccard index of columns i and j, or nil when neither is
// present anywhere.
func (co *Cooccurrence) jaccard(i, j int) any {
	either := co.both[i][i] + co.both[j][j] - co.both[i][j]
	if either == 0 {
		return nil
	}
	return float64(co.both[i][j]) / float64(either)
}

// square is a codes x codes table of counts or of Jaccard indices, these
// rounded to three decimals.
func (co *Cooccurrence) square(jaccard bool) Table {
	cols := []Column{{Title: "Code", Key: "code", Width: 28}}
	for _, c := range co.cols {
		col := Column{Title: c.label, Key: c.key, Number: true, Width: float64(min(max(utf16Len(c.label)+2, 8), 20))}
		if jaccard {
			col.NumFmt = "0.00"
		}
		cols = append(cols, col)
	}
	taken := map[string]bool{}
	for _, c := range cols[1:] {
		taken[c.Key] = true
	}
	for taken[cols[0].Key] {
		cols[0].Key += "_"
	}
	return Table{Columns: cols, Rows: func(emit func([]any) error) error {
		row := make([]any, len(cols))
		for i, c := range co.cols {
			row[0] = c.label
			for j := range co.cols {
				if jaccard {
					v := co.jaccard(i, j)
					if f, ok := v.(float64); ok {
						v = roundTo(f, 3)
					}
					row[j+1] = v
				} else {
					row[j+1] = co.both[i][j]
				}
			}
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	}}
}

// roundTo rounds f to d decimals.
func roundTo(f float64, d int) float64 {
	s := strconv.FormatFloat(f, 'f', d, 64)
	v, _ := strconv.ParseFloat(s, 64)
	return v
}

// Table lists every pair of different codes, in codebook order: their
// labels and ids, the segments with both, with each, and the Jaccard
// index rounded to four decimals (empty when neither is present).
func (co *Cooccurrence) Table() Table {
	cols := []Column{
		{Title: "Code A", Key: "code_a", Width: 28},
		{Title: "ID A", Key: "id_a", Width: 16},
		{Title: "Code B", Key: "code_b", Width: 28},
		{Title: "ID B", Key: "id_b", Width: 16},
		{Title: "Both", Key: "both", Number: true},
		{Title: "With A", Key: "with_a", Number: true},
		{Title: "With B", Key: "with_b", Number: true},
		{Title: "Jaccard", Key: "jaccard", Number: true, NumFmt: "0.000"},
	}
	return Table{Columns: cols, Rows: func(emit func([]any) error) error {
		row := make([]any, len(cols))
		for i, a := range co.cols {
			for j := i + 1; j < len(co.cols); j++ {
				b := co.cols[j]
				row[0], row[1], row[2], row[3] = a.label, a.key, b.label, b.key
				row[4], row[5], row[6] = co.both[i][j], co.both[i][i], co.both[j][j]
				row[7] = co.jaccard(i, j)
				if f, ok := row[7].(float64); ok {
					row[7] = roundTo(f, 4)
				}
				if err := emit(row); err != nil {
					return err
				}
			}
		}
		return nil
	}}
}

// about lists the settings.
func (co *Cooccurrence) about() [][2]string {
	out := [][2]string{
		{"Codes", co.opts.Level},
		{"Unit", co.opts.Unit},
		{"Segments", strconv.Itoa(co.units)},
		{"Sources", strconv.Itoa(len(co.p.srcs))},
		{"Codings", strconv.Itoa(co.p.ncodings)},
		{"Rule", "a code is present in a " + co.opts.Unit + " when one of its codings overlaps it by a character or more"},
	}
	return append(out, co.opts.About...)
}

// Sheets are the counts (heat-mapped), the Jaccard indices and the
// settings.
func (co *Cooccurrence) Sheets() []Sheet {
	used := map[string]bool{}
	counts := Sheet{Name: SheetName("Co-occurrence", used), Table: co.square(false), FreezeHeader: true}
	jac := Sheet{Name: SheetName("Jaccard", used), Table: co.square(true), FreezeHeader: true}
	if n := len(co.cols); n > 0 {
		counts.HeatMaps = []HeatMap{{FirstCol: 1, LastCol: n}}
		jac.HeatMaps = []HeatMap{{FirstCol: 1, LastCol: n}}
	}
	return []Sheet{counts, jac, aboutSheet(co.about(), used)}
}

// Markdown writes the counts and the Jaccard indices as two tables, and
// the settings.
func (co *Cooccurrence) Markdown(m *Markdown) {
	m.Heading(1, "Code co-occurrence")
	unit := co.opts.Unit + "s"
	m.Heading(2, strings.ToUpper(unit[:1])+unit[1:]+" with both codes")
	m.Paragraph("The diagonal counts the " + unit + " with the code at all.")
	m.Table(co.square(false))
	m.Heading(2, "Jaccard index")
	m.Paragraph("The " + unit + " with both codes over the " + unit + " with either.")
	m.Table(co.square(true))
	m.Heading(2, "Settings")
	m.Table(aboutSheet(co.about(), nil).Table)
}
