package export

import (
	"strconv"
	"strings"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/analysis/agreement"
	"github.com/thematic-qda/thematic/corpus"
)

// UndefinedMark is what agreement reports show in place of a statistic that
// cannot be computed; a note says why.
const UndefinedMark = "—"

// AgreementOptions describe an agreement report for its About sheet.
type AgreementOptions struct {
	// Cite gives a source's citation label, such as "(Interview 3)"; nil
	// leaves the citation column empty.
	Cite func(src *corpus.Source) string
	// About lists settings of the run (label, value), such as the overlap
	// rule and which sources count, shown on the About sheet in this order.
	About [][2]string
}

// AgreementSheets returns the sheets of an agreement workbook:
//
//   - Summary: one row per code, then one for all codes pooled: the units
//     compared, the units each coder coded, percent agreement, Cohen's and
//     Fleiss' kappa, Krippendorff's alpha and Brennan-Prediger's kappa, and
//     the notes of undefined statistics (shown as UndefinedMark);
//   - Characters: the character-level comparison of each pair of coders per
//     code and source, and over all sources, as NVivo's coding comparison;
//   - Disagreements: one row per unit and code the coders differ on, with
//     the unit's text and who coded it and who did not, and an empty
//     Decision column for the team;
//   - About: the coders, unit, sources and the settings in opts.About.
func AgreementSheets(r *analysis.AgreementReport, opts AgreementOptions) []Sheet {
	ud := r.Data
	cite := func(src *corpus.Source) string {
		if opts.Cite == nil || src == nil {
			return ""
		}
		return opts.Cite(src)
	}
	byID := make(map[string]*corpus.Source, len(ud.Sources))
	for _, s := range ud.Sources {
		byID[s.ID] = s
	}

	pct := Column{Title: "Percent agreement", Key: "percent", Number: true, NumFmt: "0.0%", Width: 12}
	stat := func(title, key string) Column {
		return Column{Title: title, Key: key, Number: true, NumFmt: "0.000", Width: 12}
	}
	sumCols := []Column{{Title: "Code", Width: 24}, {Title: "Name", Width: 30}, {Title: "Units", Number: true}}
	for _, c := range ud.Coders {
		sumCols = append(sumCols, Column{Title: "Coded by " + c, Key: "coded_" + c, Number: true})
	}
	sumCols = append(sumCols, pct, stat("Cohen's kappa", "cohen_kappa"), stat("Fleiss' kappa", "fleiss_kappa"),
		stat("Krippendorff's alpha (nominal)", "alpha_nominal"), stat("Brennan-Prediger kappa", "brennan_prediger"),
		Column{Title: "Notes", Wrap: true})
	summary := Sheet{Name: "Summary", FreezeHeader: true, AutoFilter: true, Table: Table{Columns: sumCols,
		Rows: func(emit func([]any) error) error {
			all := append(append([]analysis.CodeAgreement(nil), r.Codes...), r.Pooled)
			row := make([]any, 0, len(sumCols))
			for _, ca := range all {
				row = append(row[:0], ca.Code.ID, ca.Code.Name, ca.Units)
				for _, n := range ca.Coded {
					row = append(row, n)
				}
				var notes []string
				for _, s := range ca.Stats() {
					row = append(row, agreementCell(s))
					if s.Note != "" {
						notes = append(notes, s.Statistic+": "+s.Note)
					}
				}
				row = append(row, strings.Join(notes, "\n"))
				if err := emit(row); err != nil {
					return err
				}
			}
			return nil
		}}}

	chars := Sheet{Name: "Characters", FreezeHeader: true, AutoFilter: true, Table: Table{
		Columns: []Column{
			{Title: "Code", Width: 24}, {Title: "Source", Width: 20}, {Title: "Citation", Width: 18},
			{Title: "Coder A"}, {Title: "Coder B"}, {Title: "Characters", Number: true},
			{Title: "Agreement", Key: "percent", Number: true, NumFmt: "0.0%"},
			{Title: "Kappa", Number: true, NumFmt: "0.000"},
			{Title: "A and B", Key: "both", Number: true, NumFmt: "0.0%"},
			{Title: "Neither", Number: true, NumFmt: "0.0%"},
			{Title: "A not B", Key: "a_only", Number: true, NumFmt: "0.0%"},
			{Title: "B not A", Key: "b_only", Number: true, NumFmt: "0.0%"},
			{Title: "Notes", Wrap: true},
		},
		Rows: func(emit func([]any) error) error {
			for _, c := range r.Chars {
				source, citation := c.Source, ""
				if c.Source == "" {
					source = "(all sources)"
				} else {
					citation = cite(byID[c.Source])
				}
				row := []any{c.Code, source, citation, c.First, c.Second, c.Chars, agreementCell(c.Percent), agreementCell(c.Kappa)}
				if c.Chars > 0 {
					n := float64(c.Chars)
					neither := c.Chars - c.Both - c.FirstOnly - c.SecondOnly
					row = append(row, float64(c.Both)/n, float64(neither)/n, float64(c.FirstOnly)/n, float64(c.SecondOnly)/n)
				} else {
					row = append(row, nil, nil, nil, nil)
				}
				row = append(row, agreementNotes(c.Percent, c.Kappa))
				if err := emit(row); err != nil {
					return err
				}
			}
			return nil
		}}}

	disCols := []Column{
		{Title: "Source", Width: 20}, {Title: "Segment", Width: 12}, {Title: "Citation", Width: 18},
		{Title: "Speaker", Width: 14}, {Title: "Text", Wrap: true}, {Title: "Code", Width: 20},
		{Title: "Coded by", Width: 16}, {Title: "Not coded by", Width: 16},
	}
	if ud.UncodedMissing {
		disCols = append(disCols, Column{Title: "No value from", Key: "missing", Width: 16})
	}
	disCols = append(disCols, Column{Title: "Decision", Width: 30, Wrap: true})
	disagreements := Sheet{Name: "Disagreements", FreezeHeader: true, AutoFilter: true, Table: Table{Columns: disCols,
		Rows: func(emit func([]any) error) error {
			row := make([]any, 0, len(disCols))
			for _, d := range r.Disagreements {
				src := ud.Sources[ud.Units[d.Unit].Source]
				row = append(row[:0], d.Source, d.Segment.ID, cite(src), d.Segment.Speaker, d.Text, d.Code,
					strings.Join(d.CodedBy, ", "), strings.Join(d.NotCodedBy, ", "))
				if ud.UncodedMissing {
					row = append(row, strings.Join(d.Missing, ", "))
				}
				if err := emit(row); err != nil {
					return err
				}
			}
			return nil
		}}}

	ids := make([]string, len(ud.Sources))
	for i, s := range ud.Sources {
		ids[i] = s.ID
	}
	about := [][2]string{
		{"Coders", strings.Join(ud.Coders, ", ")},
		{"Unit", ud.Unit},
		{"Units compared", strconv.Itoa(len(ud.Units))},
		{"Sources", strings.Join(ids, ", ")},
	}
	about = append(about, opts.About...)
	aboutSheet := Sheet{Name: "About", Table: Table{
		Columns: []Column{{Title: "Setting", Width: 24}, {Title: "Value", Wrap: true}},
		Rows: func(emit func([]any) error) error {
			for _, kv := range about {
				if err := emit([]any{kv[0], kv[1]}); err != nil {
					return err
				}
			}
			return nil
		}}}
	return []Sheet{summary, chars, disagreements, aboutSheet}
}

// WriteAgreementXLSX writes the agreement workbook of AgreementSheets to
// path, atomically.
func WriteAgreementXLSX(path string, r *analysis.AgreementReport, opts AgreementOptions) error {
	return WriteXLSX(path, AgreementSheets(r, opts)...)
}

// agreementCell is a statistic's cell: its value, or UndefinedMark.
func agreementCell(r agreement.Result) any {
	if !r.Defined {
		return UndefinedMark
	}
	return r.Value
}

// agreementNotes joins the notes of results, each labelled with its statistic,
// leaving out repeats.
func agreementNotes(rs ...agreement.Result) string {
	var notes []string
	for _, r := range rs {
		if r.Note == "" {
			continue
		}
		n := r.Statistic + ": " + r.Note
		dup := false
		for _, m := range notes {
			if strings.HasSuffix(m, ": "+r.Note) {
				dup = true
			}
		}
		if !dup {
			notes = append(notes, n)
		}
	}
	return strings.Join(notes, "\n")
}
