package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/export"
	"github.com/thematic-qda/thematic/internal/errs"
)

// SheetExportOptions are the flags of 'thematic sheet export'.
type SheetExportOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	Coder   string
	Codes   []string
	Sources []string
	Unit    string
	Roles   []string
	From    string
	Out     string
	JSON    bool
	Now     func() time.Time
}

// SheetImportOptions are the flags of 'thematic sheet import'.
type SheetImportOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	File    string
	Coder   string
	Replace bool
	DryRun  bool
	JSON    bool
	Now     func() time.Time
}

// sheetMaxProblems is how many problems of a refused sheet are printed.
const sheetMaxProblems = 20

func init() { register(newSheetCmd) }

func newSheetCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sheet",
		Short: "Coding sheets: code in Excel or LibreOffice, import the result",
		Long: `A coding sheet is an Excel workbook that a co-author fills in without
thematic, in Excel or LibreOffice: 'thematic sheet export' writes it,
'thematic sheet import' reads it back as the co-author's codings, so that
agreement can be measured ('thematic agree').`,
		Example: `  thematic sheet export --coder bob --out bob.xlsx
  thematic sheet import bob.xlsx`,
	}
	cmd.AddCommand(newSheetExportCmd(g), newSheetImportCmd(g))
	return cmd
}

func newSheetExportCmd(g *globals) *cobra.Command {
	opts := &SheetExportOptions{IO: g.ios, Project: g.project, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "export --coder NAME --out FILE.xlsx",
		Short: "Write a coding sheet for a co-author to fill in",
		Long: `Write a workbook for the co-author --coder to fill in with Excel or
LibreOffice.

The sheet "Coding" has one row per segment (--unit: sentence, paragraph or
turn) of the sources, with its citation, speaker, line and text, and one
column per code: the co-author marks with x each code that applies. The
codes are --codes (a theme or sub-theme stands for the codes under it), or
every code of the codebook. --roles participant leaves out what
interviewers said.

With --from CODER the sheet lists instead each coding of CODER, with the
coded quote and its context, for the co-author to review: accept it, reject
it, or correct it with another code.

The sheet "Codebook" gives each code's definition, when to use it and
examples. A hidden sheet "About" records the sources' versions, so that an
import can tell whether they changed since.`,
		Example: `  thematic sheet export --coder bob --out bob.xlsx
  thematic sheet export --coder bob --codes boundaries,welcome --sources p01,p02 --roles participant --out bob.xlsx
  thematic sheet export --coder bob --unit paragraph --out bob-paragraphs.xlsx
  thematic sheet export --coder bob --from alice --out bob-reviews-alice.xlsx`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runSheetExport(opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.Coder, "coder", "", "the co-author who fills in the sheet (required)")
	f.StringSliceVar(&opts.Codes, "codes", nil, "the codes to code with, or whose codings to review, as `ID,...` (a theme brings its codes)")
	f.StringSliceVar(&opts.Sources, "sources", nil, "the sources to list, as `ID,...` (default: all)")
	f.StringVar(&opts.Unit, "unit", corpus.UnitSentence, "one row per sentence, paragraph or turn")
	f.StringSliceVar(&opts.Roles, "roles", nil, "list only what speakers in these `ROLE`s said: participant, interviewer, other")
	f.StringVar(&opts.From, "from", "", "review the codings of `CODER` instead of coding afresh")
	f.StringVar(&opts.Out, "out", "", "the workbook `FILE.xlsx` to write (required)")
	f.BoolVar(&opts.JSON, "json", false, "print what was written as JSON")
	return cmd
}

func newSheetImportCmd(g *globals) *cobra.Command {
	opts := &SheetImportOptions{IO: g.ios, Project: g.project, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "import FILE.xlsx",
		Short: "Read a filled-in coding sheet back as a coder's codings",
		Long: `Read a coding sheet written by 'thematic sheet export' and filled in by a
co-author, and save its codings as those of the coder it was made for (or
--coder), with origin "sheet".

On a sheet of codes, a cell marked x (or X, 1, yes, ✓) codes the whole
segment of its row with the code of its column. On a review sheet, accept
keeps the other coder's coding for this coder, reject drops it, and correct
codes the same text with the code in "Correct code"; a note becomes the
coding's memo.

The sheet is checked first and imported only if all of it is valid: the
sources must be as they were when the sheet was made, each row's text as
exported, codes known to the codebook, marks and decisions readable. Every
problem is reported by cell (up to 20 are printed) and nothing is written.

The codings are added to the coder's; with --replace the coder's codings in
the sheet's sources and of its codes are replaced (those of a review sheet:
of every code, unless it was made with --codes).`,
		Example: `  thematic sheet import bob.xlsx
  thematic sheet import --dry-run bob.xlsx
  thematic sheet import --replace bob.xlsx
  thematic sheet import --coder carol carol-filled-in-bobs-sheet.xlsx`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return runSheetImport(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Coder, "coder", "", "import as this coder (default: the coder the sheet was made for)")
	f.BoolVar(&opts.Replace, "replace", false, "replace the coder's codings in the sheet's sources and codes")
	f.BoolVar(&opts.DryRun, "dry-run", false, "check the sheet and say what would be imported; write nothing")
	f.BoolVar(&opts.JSON, "json", false, "print what was imported as JSON")
	return cmd
}

// sheetCheckCoder refuses names that cannot be a co-author's.
func sheetCheckCoder(flag, name string) error {
	if err := analysis.ValidCoderName(name); err != nil {
		return errs.New("", 0, 0, "%s: %v", flag, err)
	}
	if name == analysis.AutoCoder {
		return errs.New("", 0, 0, "%s: coder %q belongs to 'thematic autocode'; choose a person's name", flag, name)
	}
	return nil
}

// sheetTrim drops empty items and surrounding spaces from a list flag.
func sheetTrim(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func runSheetExport(opts *SheetExportOptions) error {
	if opts.Coder == "" {
		return errs.New("", 0, 0, "--coder is required: the co-author who fills in the sheet, e.g. --coder bob")
	}
	if err := sheetCheckCoder("--coder", opts.Coder); err != nil {
		return err
	}
	if opts.From != "" {
		if err := analysis.ValidCoderName(opts.From); err != nil {
			return errs.New("", 0, 0, "--from: %v", err)
		}
		if opts.From == opts.Coder {
			return errs.New("", 0, 0, "--from %s: a coder cannot review their own codings; give the reviewer as --coder", opts.From)
		}
	}
	if opts.Out == "" {
		return errs.New("", 0, 0, "--out is required, e.g. --out %s.xlsx", opts.Coder)
	}
	if !strings.EqualFold(filepath.Ext(opts.Out), ".xlsx") {
		return errs.New("", 0, 0, "--out %q: the file name must end in .xlsx", opts.Out)
	}
	if err := checkUnit(opts.Unit); err != nil {
		return err
	}
	roles := sheetTrim(opts.Roles)
	for _, r := range roles {
		if r != corpus.RoleParticipant && r != corpus.RoleInterviewer && r != corpus.RoleOther {
			return errs.New("", 0, 0, "--roles %q: use participant, interviewer or other", r)
		}
	}
	p, err := opts.Project()
	if err != nil {
		return err
	}
	cb, err := codebook.Load(p.Path(corpus.CodebookFile))
	if err != nil {
		return err
	}
	codes, err := sheetCodes(cb, sheetTrim(opts.Codes), opts.From != "")
	if err != nil {
		return err
	}
	// The sources named must exist before the codings are read.
	named := sheetTrim(opts.Sources)
	var srcs []*corpus.Source
	if len(named) > 0 {
		if srcs, err = sheetNamedSources(p, named); err != nil {
			return err
		}
	}
	var review []export.SheetCoding
	if opts.From != "" {
		if review, err = sheetReviewCodings(p, opts.From, codes, named); err != nil {
			return err
		}
	}
	if len(named) == 0 {
		if srcs, err = sheetAllSources(p, opts.Unit, roles, review, opts.From != ""); err != nil {
			return err
		}
	}
	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		return err
	}
	cs := &export.CodingSheet{
		About: analysis.SheetAbout{
			Project: p.Config.Name, Coder: opts.Coder, From: opts.From, Unit: opts.Unit, Roles: roles,
			Created: opts.Now().UTC().Truncate(time.Second),
		},
		Codebook: cb,
		Codes:    codes,
		Sources:  srcs,
		Read: func(id string) (*corpus.Source, error) {
			src, err := p.Source(id, true)
			if err != nil && len(named) > 0 {
				err = fmt.Errorf("--sources: %w", err)
			}
			return src, err
		},
		Review:  review,
		MaxRows: sheetMaxRows,
		Cite: func(src *corpus.Source) string {
			return corpus.Citation(p.Config.Citation, src, corpus.CaseAttrs(src, cases))
		},
	}
	st, err := export.WriteCodingSheet(opts.Out, cs)
	if err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, struct {
			File    string   `json:"file"`
			Mode    string   `json:"mode"`
			Coder   string   `json:"coder"`
			From    string   `json:"from,omitempty"`
			Unit    string   `json:"unit"`
			Rows    int      `json:"rows"`
			Sources int      `json:"sources"`
			Codes   []string `json:"codes"`
			Skipped int      `json:"skipped,omitempty"`
		}{opts.Out, sheetMode(opts.From), opts.Coder, opts.From, opts.Unit, st.Rows, st.Sources, sheetIDs(codes), st.Skipped})
	}
	w := opts.IO.ErrOut
	if opts.From == "" {
		fmt.Fprintf(w, "Wrote %s: %d %ss of %d %s, %d %s to code, for %s.\n", opts.Out, st.Rows, opts.Unit,
			st.Sources, sheetPlural(st.Sources, "source", "sources"), len(codes), sheetPlural(len(codes), "code", "codes"), opts.Coder)
		fmt.Fprintf(w, "%s marks each code that applies with x; then: thematic sheet import %s\n", opts.Coder, opts.Out)
		return nil
	}
	fmt.Fprintf(w, "Wrote %s: %d %s of %s in %d %s, for %s to review.\n", opts.Out, st.Rows,
		sheetPlural(st.Rows, "coding", "codings"), opts.From, st.Sources, sheetPlural(st.Sources, "source", "sources"), opts.Coder)
	if st.Skipped > 0 {
		fmt.Fprintf(w, "Left out %d orphaned %s of %s (see 'thematic reanchor').\n", st.Skipped, sheetPlural(st.Skipped, "coding", "codings"), opts.From)
	}
	fmt.Fprintf(w, "%s accepts, rejects or corrects each; then: thematic sheet import %s\n", opts.Coder, opts.Out)
	return nil
}

func sheetMode(from string) string {
	if from != "" {
		return analysis.SheetModeReview
	}
	return analysis.SheetModeCodes
}

func sheetPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func sheetList(names []string) string {
	if len(names) == 0 {
		return "none yet"
	}
	return strings.Join(names, ", ")
}

func sheetIDs(ns []*codebook.Node) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.ID)
	}
	return out
}

// sheetCodes picks the codes of a sheet in codebook order. A codes sheet
// has a column per code (not per theme or sub-theme): those named, a theme or
// sub-theme standing for the codes under it (or for itself when it has
// none), or by default every code. A review sheet takes the codings of the
// nodes named and of everything under them, or of every code (nil).
func sheetCodes(cb *codebook.Codebook, ids []string, review bool) ([]*codebook.Node, error) {
	if len(ids) == 0 && review {
		return nil, nil
	}
	var out []*codebook.Node
	if len(ids) > 0 {
		set, unknown := analysis.ExpandCodes(cb, ids)
		if len(unknown) > 0 {
			return nil, errs.New(cb.File, 0, 0, "--codes: no code %q in the codebook (see 'thematic codebook')", unknown[0])
		}
		if !review {
			// A named node with codes under it gives way to them.
			for _, id := range ids {
				n := cb.Node(id)
				if n.Level != codebook.LevelCode && slices.ContainsFunc(n.Descendants(), func(d *codebook.Node) bool { return d.Level == codebook.LevelCode }) {
					delete(set, id)
				}
			}
		}
		for _, n := range cb.Codes() {
			if set[n.ID] && (review || n.Level == codebook.LevelCode || slices.Contains(ids, n.ID)) {
				out = append(out, n)
			}
		}
		return out, nil
	}
	all := cb.Codes()
	for _, n := range all {
		if n.Level == codebook.LevelCode {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		out = all // a codebook of themes only
	}
	if len(out) == 0 {
		return nil, errs.New(cb.File, 0, 0, "the codebook has no codes to put on a sheet; add some first")
	}
	return out, nil
}

// sheetMaxRows is how many rows of data a Coding sheet can hold: Excel's
// 1,048,576 rows less the header rows (export.CodingSheet.MaxRows; a
// variable, for the tests).
var sheetMaxRows = 1<<20 - analysis.SheetHeaderRows

// sheetTooMany is the error for a sheet of more rows than a worksheet
// holds, found before the sources are read (the sheet's own, found as it
// writes the rows, says the same).
func sheetTooMany(rows string) error {
	return errs.New("", 0, 0, "%s rows, more than a worksheet holds; make several sheets with --sources", rows)
}

// sheetNamedSources reads the metadata of the sources named by --sources,
// in the order given: the sheet reads each with its text when it writes its
// rows (export.CodingSheet.Read), and reports one it cannot read then.
func sheetNamedSources(p *corpus.Project, ids []string) ([]*corpus.Source, error) {
	out := make([]*corpus.Source, 0, len(ids))
	for _, id := range ids {
		src, err := p.Source(id, false)
		if err != nil {
			return nil, fmt.Errorf("--sources: %w", err)
		}
		src.Segments = nil
		out = append(out, src)
	}
	return out, nil
}

// sheetAllSources lists every source of the project with its metadata
// alone, in id order (a review sheet, review true: only those with codings
// under review, as no row can come from the others). A codes sheet without
// --roles of more rows than a worksheet holds is refused here, from the
// segment counts; with --roles the sheet refuses it as soon as the rows it
// writes pass the limit, having written nothing.
func sheetAllSources(p *corpus.Project, unit string, roles []string, codings []export.SheetCoding, review bool) ([]*corpus.Source, error) {
	infos, err := p.SourceInfos()
	if err != nil {
		return nil, err
	}
	if len(infos) == 0 {
		return nil, errs.New("", 0, 0, "the project has no sources yet; see 'thematic ingest'")
	}
	if !review && len(roles) == 0 {
		rows := 0
		for i := range infos {
			rows += infos[i].Units[unit]
		}
		if rows > sheetMaxRows {
			return nil, sheetTooMany(strconv.Itoa(rows))
		}
	}
	var coded map[string]bool
	if review {
		coded = map[string]bool{}
		for i := range codings {
			coded[codings[i].Source] = true
		}
	}
	out := make([]*corpus.Source, 0, len(infos))
	for i := range infos {
		if review && !coded[infos[i].ID] {
			continue
		}
		out = append(out, &infos[i].Source)
	}
	return out, nil
}

// sheetReviewCodings reads the codings of from under review: of the codes
// (every code when nil) on the sources named (all when none). They are
// read from the codings cache a few codes at a time and kept compact (what
// the sheet needs of each, the ids shared), so that only those under
// review are held. More than a worksheet holds is refused.
func sheetReviewCodings(p *corpus.Project, from string, codes []*codebook.Node, srcIDs []string) ([]export.SheetCoding, error) {
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	have, err := store.Coders()
	if err != nil {
		return nil, err
	}
	if !slices.Contains(have, from) {
		return nil, errs.New("", 0, 0, "--from %s: %s has no codings (coders: %s)", from, from, sheetList(have))
	}
	var inCodes, inSrcs map[string]bool
	if codes != nil {
		inCodes = map[string]bool{}
		for _, n := range codes {
			inCodes[n.ID] = true
		}
	}
	if len(srcIDs) > 0 {
		inSrcs = map[string]bool{}
		for _, id := range srcIDs {
			inSrcs[id] = true
		}
	}
	ids := map[string]string{} // one copy of each source and code id
	intern := func(s string) string {
		if t, ok := ids[s]; ok {
			return t
		}
		s = strings.Clone(s)
		ids[s] = s
		return s
	}
	var out []export.SheetCoding
	placed := 0
	err = agreeEachBatch(p, from, func(code string) bool { return inCodes == nil || inCodes[code] }, func(cs []analysis.Coding) error {
		for i := range cs {
			c := &cs[i]
			if inSrcs != nil && !inSrcs[c.Source] {
				continue
			}
			if !c.Orphan {
				if placed++; placed > sheetMaxRows {
					return sheetTooMany("more than " + strconv.Itoa(sheetMaxRows))
				}
			}
			out = append(out, export.SheetCoding{Source: intern(c.Source), Start: c.Start, End: c.End, Code: intern(c.Code), Orphan: c.Orphan})
		}
		return nil
	})
	return slices.Clip(out), err
}

// sheetImportResult is what 'thematic sheet import --json' prints.
type sheetImportResult struct {
	File      string `json:"file"`
	Mode      string `json:"mode"`
	Coder     string `json:"coder"`
	Rows      int    `json:"rows"`
	Codings   int    `json:"codings"`
	Replaced  int    `json:"replaced"`
	Kept      int    `json:"kept"` // the coder's codings in the sheet's scope left in place
	Missing   int    `json:"missing_segments,omitempty"`
	Accepted  int    `json:"accepted,omitempty"`
	Rejected  int    `json:"rejected,omitempty"`
	Corrected int    `json:"corrected,omitempty"`
	DryRun    bool   `json:"dry_run,omitempty"`
}

func runSheetImport(opts *SheetImportOptions) error {
	if opts.Coder != "" {
		if err := sheetCheckCoder("--coder", opts.Coder); err != nil {
			return err
		}
	}
	p, err := opts.Project()
	if err != nil {
		return err
	}
	data, err := export.ReadCodingSheet(opts.File)
	if err != nil {
		return err
	}
	cb, err := codebook.Load(p.Path(corpus.CodebookFile))
	if err != nil {
		return err
	}
	unlock, err := p.Lock(10 * time.Second)
	if err != nil {
		return err
	}
	defer unlock()
	imp, err := analysis.ImportSheet(data, analysis.SheetImportOptions{
		File:     opts.File,
		Source:   sheetImportSource(p),
		Known:    func(code string) bool { return cb.Node(code) != nil },
		Coder:    opts.Coder,
		Time:     opts.Now().UTC(),
		CellText: export.SheetCellText,
	})
	var se *analysis.SheetError
	if errors.As(err, &se) {
		return sheetRefuse(opts, se)
	}
	if err != nil {
		return err
	}
	res := sheetImportResult{File: opts.File, Mode: imp.About.Mode, Coder: imp.Coder, Rows: imp.Rows,
		Codings: len(imp.Codings), Missing: imp.Missing, DryRun: opts.DryRun,
		Accepted: imp.Accepted, Rejected: imp.Rejected, Corrected: imp.Corrected}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	if res.Kept, res.Replaced, err = sheetMerge(store, imp, opts.Replace, opts.DryRun); err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, res)
	}
	sheetImportReport(opts, imp, res)
	return nil
}

// sheetMerge adds the codings imp made to those the coder has, or with
// replace puts them in place of the coder's codings in the sheet's scope,
// and saves the coder's codings, unless dry: the file Store.Save writes of
// imp.Merge. It returns how many of the coder's codings in the sheet's
// scope were kept (without replace) or removed (with).
//
// The coder's codings are read and written a source at a time
// (sheetSaveEach), never all held; a file not in canonical order, or an id
// that Save would have to change, is merged in memory as Save needs.
func sheetMerge(store analysis.Store, imp *analysis.SheetImport, replace, dry bool) (kept, removed int, err error) {
	if dry {
		err := store.Scan(imp.Coder, func(cs []analysis.Coding) error {
			for i := range cs {
				if imp.InScope(&cs[i]) {
					if replace {
						removed++
					} else {
						kept++
					}
				}
			}
			return nil
		})
		return kept, removed, err
	}
	kept, removed, err = sheetSaveEach(store, imp, replace)
	if !errors.Is(err, errSheetInMemory) {
		return kept, removed, err
	}
	old, err := store.Load(imp.Coder)
	if err != nil {
		return 0, 0, err
	}
	merged, removed := imp.Merge(old, replace)
	kept = 0
	if !replace {
		for i := range old {
			if imp.InScope(&old[i]) {
				kept++
			}
		}
	}
	return kept, removed, store.Save(imp.Coder, merged)
}

// errSheetInMemory stops sheetSaveEach, having written nothing, where the
// codings must be merged in memory.
var errSheetInMemory = errors.New("merge in memory")

// sheetSaveEach is sheetMerge's save a source at a time: the coder's
// codings are read from the file in its order (canonical: by source) and
// written with Store.SaveSorted, each source's followed by the imported
// codings of that source, as imp.Merge gives them to Store.Save. The file
// is Save's but where Save would give a coding a new id: where an imported
// coding has the id of a coding kept, of another span or code. Then, or
// when the file is not in order of source, nothing is written and the
// error is errSheetInMemory.
func sheetSaveEach(store analysis.Store, imp *analysis.SheetImport, replace bool) (kept, removed int, err error) {
	cs := imp.Codings
	sameKey := func(a, b *analysis.Coding) bool {
		return a.Source == b.Source && a.Start == b.Start && a.End == b.End && a.Code == b.Code && a.Orphan == b.Orphan
	}
	// The imported codings by id, to find an id a kept coding shares.
	byID := make([]int32, len(cs))
	for i := range byID {
		byID[i] = int32(i)
	}
	slices.SortFunc(byID, func(a, b int32) int { return strings.Compare(cs[a].ID, cs[b].ID) })
	for k := 1; k < len(byID); k++ {
		if a, b := &cs[byID[k-1]], &cs[byID[k]]; a.ID == b.ID && !sameKey(a, b) {
			return 0, 0, errSheetInMemory
		}
	}
	clash := func(c *analysis.Coding) bool {
		k, found := slices.BinarySearchFunc(byID, c.ID, func(i int32, id string) int { return strings.Compare(cs[i].ID, id) })
		return found && !sameKey(c, &cs[byID[k]])
	}
	// The imported codings by source, in row order within each.
	bySrc := make([]int32, len(cs))
	for i := range bySrc {
		bySrc[i] = int32(i)
	}
	slices.SortStableFunc(bySrc, func(a, b int32) int { return strings.Compare(cs[a].Source, cs[b].Source) })
	err = store.SaveSorted(imp.Coder, func(yield func([]analysis.Coding) error) error {
		var batch []analysis.Coding
		next := 0 // the imported codings bySrc[:next] are written
		// flush writes the batch of the coder's codings of src followed by
		// the imported codings of the sources up to src (all, when last).
		var src string
		flush := func(last bool) error {
			for ; next < len(bySrc); next++ {
				c := &cs[bySrc[next]]
				if !last && c.Source > src {
					break
				}
				batch = append(batch, *c)
			}
			err := yield(batch)
			batch = batch[:0]
			return err
		}
		started := false
		err := store.Scan(imp.Coder, func(old []analysis.Coding) error {
			owned := len(batch) // batch[:owned] hold strings of their own
			for i := range old {
				c := &old[i]
				if started && c.Source != src {
					if c.Source < src {
						return errSheetInMemory
					}
					if err := flush(false); err != nil {
						return err
					}
					owned = 0
				}
				src, started = c.Source, true
				if imp.InScope(c) {
					if replace {
						removed++
						continue
					}
					kept++
				}
				if clash(c) {
					return errSheetInMemory
				}
				batch = append(batch, *c)
			}
			// The codings of the source read last outlive old.
			for i := owned; i < len(batch); i++ {
				sheetOwnStrings(&batch[i])
			}
			src = strings.Clone(src)
			return nil
		})
		if err != nil {
			return err
		}
		return flush(true)
	})
	return kept, removed, err
}

// sheetOwnStrings copies the strings of c, which Store.Scan lends.
func sheetOwnStrings(c *analysis.Coding) {
	for _, s := range []*string{&c.ID, &c.Source, &c.Quote, &c.Prefix, &c.Suffix, &c.Code, &c.Coder, &c.Origin, &c.Segment, &c.Memo} {
		*s = strings.Clone(*s)
	}
}

// sheetImportSource reads, with its text, a source of the project that
// the sheet's About sheet lists, for the import to check its rows against:
// nil for one no longer in the project, which the import reports from its
// absence. The import reads them one at a time and looks at no others.
func sheetImportSource(p *corpus.Project) func(id string) (*corpus.Source, error) {
	var have map[string]bool
	return func(id string) (*corpus.Source, error) {
		if have == nil {
			ids, err := p.SourceIDs()
			if err != nil {
				return nil, err
			}
			have = make(map[string]bool, len(ids))
			for _, id := range ids {
				have[id] = true
			}
		}
		if !have[id] {
			return nil, nil
		}
		return p.Source(id, true)
	}
}

// sheetRefuse prints a refused sheet's problems and returns the error.
func sheetRefuse(opts *SheetImportOptions, se *analysis.SheetError) error {
	for i, pr := range se.Problems {
		if i == sheetMaxProblems {
			fmt.Fprintf(opts.IO.ErrOut, "%s: ... and %d more %s\n", opts.File, len(se.Problems)-i, sheetPlural(len(se.Problems)-i, "problem", "problems"))
			break
		}
		fmt.Fprintf(opts.IO.ErrOut, "%s: %s\n", opts.File, pr)
	}
	n := len(se.Problems)
	return errs.New(opts.File, 0, 0, "%d %s in the sheet; nothing was imported", n, sheetPlural(n, "problem", "problems"))
}

// sheetImportReport says on stderr what an import did.
func sheetImportReport(opts *SheetImportOptions, imp *analysis.SheetImport, res sheetImportResult) {
	w := opts.IO.ErrOut
	verb := "Imported"
	if opts.DryRun {
		verb = "Would import"
	}
	fmt.Fprintf(w, "%s %d %s of %s from %s (%d %s", verb, res.Codings, sheetPlural(res.Codings, "coding", "codings"),
		imp.Coder, opts.File, res.Rows, sheetPlural(res.Rows, "row", "rows"))
	if imp.About.Mode == analysis.SheetModeReview {
		fmt.Fprintf(w, ": %d accepted, %d rejected, %d corrected", res.Accepted, res.Rejected, res.Corrected)
	}
	fmt.Fprintln(w, ").")
	if imp.Coder != imp.About.Coder {
		fmt.Fprintf(w, "The sheet was made for %s.\n", imp.About.Coder)
	}
	if res.Replaced > 0 {
		fmt.Fprintf(w, "Replaced %d earlier %s of %s in the sheet's sources and codes.\n", res.Replaced, sheetPlural(res.Replaced, "coding", "codings"), imp.Coder)
	}
	if res.Kept > 0 {
		fmt.Fprintf(w, "%s already had %d %s in the sheet's sources and codes; kept (--replace replaces them).\n", imp.Coder, res.Kept, sheetPlural(res.Kept, "coding", "codings"))
	}
	if res.Missing > 0 {
		fmt.Fprintf(w, "Note: %d %s of the sheet's sources %s not on the sheet (rows deleted?); they count as not coded.\n",
			res.Missing, sheetPlural(res.Missing, "segment", "segments"), sheetPlural(res.Missing, "is", "are"))
	}
}
