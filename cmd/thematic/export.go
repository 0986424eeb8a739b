package main

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/export"
	"github.com/thematic-qda/thematic/internal/errs"
)

// What 'thematic export' can write.
const (
	exportExtracts     = "extracts"
	exportMatrix       = "matrix"
	exportCooccurrence = "cooccurrence"
	exportCodebook     = "codebook"
)

// ExportOptions are the flags of 'thematic export extracts|matrix|
// cooccurrence|codebook'.
type ExportOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	What    string // exportExtracts, exportMatrix, exportCooccurrence or exportCodebook

	// The file to write, in exactly one format; "-" writes to stdout.
	XLSX, CSV, JSON, MD string

	Coders []string // default: every coder but "auto"
	Cases  []string
	Attrs  []string // key=value; values of one key are alternatives

	// extracts
	Codes    []string
	By       string
	Roles    []string
	MinWords int
	Merge    bool

	// matrix
	Rows, Cols, Cell string
	// matrix and cooccurrence
	Unit string
	// cooccurrence
	Level string

	// Written is the path written, set by runExport ("" for stdout).
	Written string
}

func init() { register(newExportCmd) }

func newExportCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write extracts, matrices, co-occurrence and the codebook to xlsx, csv, json or md",
		Long: `Export what the analysis has found, for co-authors and papers:

  extracts      the coded quotes, one sheet per theme, each with its citation
  matrix        cases (or sources, or attribute values) by themes or codes
  cooccurrence  codes found together in the same sentences, with Jaccard
  codebook      the codebook as a table, with how much each code is used

Each takes the file to write with --xlsx, --csv, --json or --md ("-" for
standard output) and the codings of the coders given with --coder (default:
every person, that is every coder but "auto"; several coders' codings are
taken together). Files are replaced atomically: an interrupted export
leaves no half-written file.`,
		Example: `  thematic export extracts --xlsx extracts.xlsx
  thematic export matrix --rows case --cols theme --cell segments --xlsx matrix.xlsx
  thematic export cooccurrence --unit paragraph --csv cooccurrence.csv
  thematic export codebook --md codebook.md`,
		Args: cobra.NoArgs,
	}
	for _, what := range []string{exportExtracts, exportMatrix, exportCooccurrence, exportCodebook} {
		cmd.AddCommand(newExportSubcmd(g, what))
	}
	return cmd
}

// newExportSubcmd makes one 'thematic export' subcommand.
func newExportSubcmd(g *globals, what string) *cobra.Command {
	opts := &ExportOptions{IO: g.ios, Project: g.project, What: what}
	cmd := &cobra.Command{
		Use:  what,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runExport(opts) },
	}
	f := cmd.Flags()
	switch what {
	case exportExtracts:
		cmd.Short = "Write the coded extracts: an index and one sheet per theme"
		cmd.Long = `Write every coded extract with its theme, sub-theme and code, the quote, its
citation label (thematic.yaml's citation template, such as "(Interview 3)"),
source, case, the attributes of the case and source, speaker, position (line,
or the timestamp of the turn), coder, origin and memo.

In xlsx, an Index sheet shows the codebook tree with the number of extracts,
sources and cases under each node, each linking to its extracts, followed by
one sheet per theme (or sub-theme, or code, with --by). In md, a findings
document: each theme, sub-theme and code with its definition and its
extracts as block quotes. In csv and json, one row per extract.`
		cmd.Example = `  thematic export extracts --xlsx extracts.xlsx
  thematic export extracts --coder alice --coder bob --merge --xlsx both.xlsx
  thematic export extracts --coder auto --codes boundaries --csv rules.csv
  thematic export extracts --roles participant --min-words 8 --md findings.md
  thematic export extracts --cases P01,P02 --attr wave=2 --json - | jq length`
		f.StringSliceVar(&opts.Codes, "codes", nil, "only these codes (a theme or sub-theme stands for all under it)")
		f.StringVar(&opts.By, "by", export.ByTheme, "one sheet per theme, subtheme or code")
		f.StringSliceVar(&opts.Roles, "roles", nil, "keep only the words of these speaker roles (interviewer, participant, other)")
		f.IntVar(&opts.MinWords, "min-words", 0, "leave out extracts of fewer words")
		f.BoolVar(&opts.Merge, "merge", false, "merge overlapping codings of a code in a source into one extract")
	case exportMatrix:
		cmd.Short = "Write a matrix of cases by themes: counts with totals, or the extracts"
		cmd.Long = `Write a matrix with one row per case (or source, or value of an attribute)
and one column per theme (or sub-theme, or code). A column counts the codings
of its node and of everything under it. Cells hold:

  segments  the segments (--unit) the codings overlap
  sources   the sources with a coding
  words     the words in the coded text, overlaps counted once
  percent   the coded segments as a share of the row's segments
  extracts  the coded passages themselves, each cited: a framework matrix

Totals are not sums: a row's total counts what any column covers, once. In
xlsx the counts get a colour-scale heat map.`
		cmd.Example = `  thematic export matrix --xlsx matrix.xlsx
  thematic export matrix --rows attr:site --cols subtheme --cell percent --xlsx sites.xlsx
  thematic export matrix --rows case --cols theme --cell extracts --xlsx framework.xlsx
  thematic export matrix --rows source --cols code --cell words --csv words.csv`
		f.StringVar(&opts.Rows, "rows", export.RowsCase, "rows: case, source or attr:NAME")
		f.StringVar(&opts.Cols, "cols", codebook.LevelTheme, "columns: theme, subtheme or code")
		f.StringVar(&opts.Cell, "cell", export.CellSegments, "cells: segments, sources, words, percent or extracts")
		f.StringVar(&opts.Unit, "unit", corpus.UnitSentence, "segments counted: sentence, paragraph or turn")
	case exportCooccurrence:
		cmd.Short = "Write how often codes are found in the same segments, with Jaccard"
		cmd.Long = `Count, for every pair of codes, the segments (--unit) where both are
present: a code is present when any of its codings, by any coder chosen,
overlaps the segment by a character or more. The Jaccard index is the
segments with both over the segments with either. In xlsx, a sheet of counts
(the diagonal: the segments with the code at all) and one of Jaccard indices;
in csv and json, one row per pair of codes.`
		cmd.Example = `  thematic export cooccurrence --xlsx cooccurrence.xlsx
  thematic export cooccurrence --unit paragraph --level subtheme --csv pairs.csv`
		f.StringVar(&opts.Unit, "unit", corpus.UnitSentence, "segments: sentence, paragraph or turn")
		f.StringVar(&opts.Level, "level", codebook.LevelCode, "cross codes, subthemes or themes (code, subtheme, theme)")
	case exportCodebook:
		cmd.Short = "Write the codebook as a table, with the codings, sources and cases of each code"
		cmd.Long = `Write the codebook as a table: theme, sub-theme, code, id, definition,
when to use, when not to use, examples and colour of every node, with the
number of codings of it and of everything under it, and the sources and cases
they are in. Codes that codings use but the codebook lacks come last.`
		cmd.Example = `  thematic export codebook --xlsx codebook.xlsx
  thematic export codebook --coder auto --md codebook.md`
	}
	f.StringVar(&opts.XLSX, "xlsx", "", "write an Excel workbook to `FILE`")
	f.StringVar(&opts.CSV, "csv", "", "write CSV to `FILE` (- for stdout)")
	f.StringVar(&opts.JSON, "json", "", "write JSON to `FILE` (- for stdout)")
	f.StringVar(&opts.MD, "md", "", "write Markdown to `FILE` (- for stdout)")
	f.StringSliceVar(&opts.Coders, "coder", nil, "codings of these coders (repeatable; default: every coder but auto)")
	if what != exportCodebook {
		f.StringSliceVar(&opts.Cases, "cases", nil, "only sources of these cases")
		f.StringArrayVar(&opts.Attrs, "attr", nil, "only sources with attribute `key=value` (repeatable; one key's values are alternatives)")
	}
	return cmd
}

// exportTarget returns the format and path chosen.
func exportTarget(opts *ExportOptions) (format, path string, err error) {
	n := 0
	for _, t := range []struct{ format, path string }{
		{export.FormatXLSX, opts.XLSX}, {export.FormatCSV, opts.CSV},
		{export.FormatJSON, opts.JSON}, {export.FormatMarkdown, opts.MD},
	} {
		if t.path != "" {
			n++
			format, path = t.format, t.path
		}
	}
	if n != 1 {
		return "", "", errs.New("", 0, 0, "give one of --xlsx, --csv, --json or --md with the file to write")
	}
	if path == "-" && format == export.FormatXLSX && opts.IO.OutTTY {
		return "", "", errs.New("", 0, 0, "--xlsx -: will not write a workbook to a terminal; give a file name or redirect the output")
	}
	return format, path, nil
}

// exportCoders chooses the coders: those asked for, checked against the
// coders with a file, or every coder but "auto".
func exportCoders(known []string, asked []string, what string) ([]string, error) {
	known = slices.Sorted(slices.Values(known))
	if len(asked) > 0 {
		var out []string
		for _, c := range asked {
			c = strings.TrimSpace(c)
			if !slices.Contains(known, c) {
				return nil, errs.New("", 0, 0, "--coder %s: no codings by %q (coders: %s)", c, c, orNoneList(known))
			}
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
		return out, nil
	}
	people := slices.DeleteFunc(slices.Clone(known), func(c string) bool { return c == analysis.AutoCoder })
	if len(people) == 0 && what != exportCodebook {
		if len(known) > 0 {
			return nil, errs.New("", 0, 0, "no codings by a person yet (coders: %s); give --coder auto to export the rules' codings", strings.Join(known, ", "))
		}
		return nil, errs.New("", 0, 0, "no codings yet: code some sources first ('thematic autocode', or import a coder's codings)")
	}
	return people, nil
}

// orNoneList lists names or says there are none.
func orNoneList(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// exportFilter reads --cases and --attr into a filter of places.
func exportFilter(opts *ExportOptions, srcs []*corpus.Source) (*analysis.CodingFilter, error) {
	f := &analysis.CodingFilter{}
	have := map[string]bool{}
	for _, s := range srcs {
		have[s.Case] = true
	}
	for _, c := range opts.Cases {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if !have[c] {
			return nil, errs.New("", 0, 0, "--cases %s: no source belongs to case %q", c, c)
		}
		f.Cases = append(f.Cases, c)
	}
	for _, kv := range opts.Attrs {
		m, err := parseAttrs("--attr", []string{kv})
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			if f.Attrs == nil {
				f.Attrs = map[string][]string{}
			}
			f.Attrs[k] = append(f.Attrs[k], v)
		}
	}
	return f, nil
}

// exportSources keeps the sources that pass the filter's case and
// attribute tests, as analysis.CodingFilter applies them to codings.
func exportSources(f *analysis.CodingFilter, srcs []*corpus.Source, cases corpus.Cases) []*corpus.Source {
	if len(f.Cases) == 0 && len(f.Attrs) == 0 {
		return srcs
	}
	byID := make(map[string]*corpus.Source, len(srcs))
	probes := make([]analysis.Coding, len(srcs))
	for i, s := range srcs {
		byID[s.ID] = s
		probes[i] = analysis.Coding{Source: s.ID}
	}
	place := analysis.CodingFilter{Cases: f.Cases, Attrs: f.Attrs}
	var out []*corpus.Source
	for _, c := range place.Select(probes, byID, cases) {
		out = append(out, byID[c.Source])
	}
	return out
}

// exportScan streams the chosen coders' codings to an export, one coder's
// file after the other, leaving out (and counting, for the warnings)
// orphaned codings and codings of sources no longer in the project, and
// keeping those the filter accepts. Nothing of the codings is held.
type exportScan struct {
	store     analysis.Store
	coders    []string
	inProject map[string]*corpus.Source
	keep      func(c *analysis.Coding) bool

	orphans int
	gone    map[string]bool // ids of sources not in the project
	present map[string]bool // codes of the live codings, before the filter
	kept    map[string]bool // codes of the codings kept
}

// each is export.Study.Each.
func (sc *exportScan) each(fn func(c *analysis.Coding) error) error {
	sc.orphans, sc.gone, sc.present, sc.kept = 0, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, coder := range sc.coders {
		err := analysis.EachCoding(sc.store, coder, func(c *analysis.Coding) error {
			switch {
			case sc.inProject[c.Source] == nil:
				if !sc.gone[c.Source] {
					sc.gone[strings.Clone(c.Source)] = true
				}
				return nil
			case c.Orphan:
				sc.orphans++
				return nil
			}
			if !sc.present[c.Code] {
				sc.present[strings.Clone(c.Code)] = true
			}
			if !sc.keep(c) {
				return nil
			}
			if !sc.kept[c.Code] {
				sc.kept[strings.Clone(c.Code)] = true
			}
			return fn(c)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func runExport(opts *ExportOptions) error {
	opts.Written = ""
	format, path, err := exportTarget(opts)
	if err != nil {
		return err
	}
	p, err := opts.Project()
	if err != nil {
		return err
	}
	unlock, err := p.Lock(10 * time.Second)
	if err != nil {
		return err
	}
	defer unlock()

	cb, err := codebook.Load(p.Path(corpus.CodebookFile))
	if err != nil {
		return err
	}
	// The sources' metadata only: the exports read the segments and text
	// of each source they need when they need it (Study.Read).
	infos, err := p.SourceInfos()
	if err != nil {
		return err
	}
	srcs := make([]*corpus.Source, len(infos))
	for i := range infos {
		srcs[i] = &infos[i].Source
	}
	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		return err
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	known, err := store.Coders()
	if err != nil {
		return err
	}
	coders, err := exportCoders(known, opts.Coders, opts.What)
	if err != nil {
		return err
	}
	filter, err := exportFilter(opts, srcs)
	if err != nil {
		return err
	}
	inProject := make(map[string]*corpus.Source, len(srcs))
	for _, s := range srcs {
		inProject[s.ID] = s
	}
	var unknownCodes []string
	if opts.What == exportExtracts && len(opts.Codes) > 0 {
		filter.Codes, unknownCodes = analysis.ExpandCodes(cb, opts.Codes)
	}
	srcs = exportSources(filter, srcs, cases)
	sc := &exportScan{store: store, coders: coders, inProject: inProject, keep: filter.Matcher(inProject, cases)}

	st := &export.Study{Codebook: cb, Sources: srcs, Cases: cases, Citation: p.Config.Citation, Each: sc.each,
		Read: p.Source, Text: p.SourceText}
	about := [][2]string{{"Coders", orNoneList(coders)}}
	if len(filter.Cases) > 0 {
		about = append(about, [2]string{"Cases", strings.Join(filter.Cases, ", ")})
	}
	if len(opts.Attrs) > 0 {
		about = append(about, [2]string{"Attributes", strings.Join(opts.Attrs, ", ")})
	}
	var doc export.Document
	var summary string
	switch opts.What {
	case exportExtracts:
		x, err := export.BuildExtracts(st, export.ExtractOptions{By: opts.By, Roles: opts.Roles, MinWords: opts.MinWords, Merge: opts.Merge})
		if err != nil {
			return exportFlagError(err, opts.What)
		}
		doc, summary = x, fmt.Sprintf("%d extracts", x.Len())
		if format == export.FormatXLSX {
			summary += fmt.Sprintf(" on %d sheets after the index", x.Groups())
		}
	case exportMatrix:
		mx, err := export.BuildMatrix(st, export.MatrixOptions{Rows: opts.Rows, Cols: opts.Cols, Cell: opts.Cell, Unit: opts.Unit, About: about})
		if err != nil {
			return exportFlagError(err, opts.What)
		}
		doc, summary = mx, "matrix of "+opts.Cell
	case exportCooccurrence:
		co, err := export.BuildCooccurrence(st, export.CooccurrenceOptions{Unit: opts.Unit, Level: opts.Level, About: about})
		if err != nil {
			return exportFlagError(err, opts.What)
		}
		doc, summary = co, "co-occurrence in "+opts.Unit+"s"
	case exportCodebook:
		ct := export.BuildCodebookTable(st)
		if err := ct.Err(); err != nil {
			return err
		}
		doc, summary = ct, "codebook"
	default:
		return fmt.Errorf("export: unknown export %q", opts.What)
	}
	summary += " from the codings of " + orNoneList(coders)
	for _, id := range unknownCodes {
		if !sc.present[id] {
			return errs.New("", 0, 0, "--codes %s: no such code in %s, and no coding uses it", id, corpus.CodebookFile)
		}
	}

	if sc.orphans > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "warning: %d orphaned codings left out (their text changed; see 'thematic doctor')\n", sc.orphans)
	}
	if len(sc.gone) > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "warning: codings of sources no longer in the project left out: %s\n", strings.Join(slices.Sorted(maps.Keys(sc.gone)), ", "))
	}
	if opts.What == exportMatrix || opts.What == exportCooccurrence {
		var missing []string
		for code := range sc.kept {
			if cb.Node(code) == nil {
				missing = append(missing, code)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			fmt.Fprintf(opts.IO.ErrOut, "warning: codings of codes not in the codebook left out: %s\n", strings.Join(missing, ", "))
		}
	}

	if path == "-" {
		return export.EncodeDocument(opts.IO.Out, format, doc)
	}
	if err := export.WriteDocument(path, format, doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	opts.Written = path
	fmt.Fprintf(opts.IO.ErrOut, "Wrote %s (%s)\n", path, summary)
	return nil
}

// exportFlagError names the flag an export option error is about: the
// export package words its errors after the option, the user knows the flag.
func exportFlagError(err error, what string) error {
	ie, ok := err.(*errs.InputError)
	if !ok {
		return err
	}
	cols := "--cols "
	if what == exportCooccurrence {
		cols = "--level "
	}
	for _, r := range []struct{ from, to string }{
		{"group extracts by ", "--by "}, {"minimum words ", "--min-words "}, {"role ", "--roles "},
		{"rows ", "--rows "}, {"columns ", cols}, {"cell ", "--cell "}, {"unit ", "--unit "},
	} {
		if strings.HasPrefix(ie.Msg, r.from) {
			return errs.New(ie.File, ie.Line, ie.Col, "%s", r.to+strings.TrimPrefix(ie.Msg, r.from))
		}
	}
	return err
}
