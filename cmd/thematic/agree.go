package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/analysis/agreement"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/export"
	"github.com/thematic-qda/thematic/internal/errs"
)

// AgreeOptions are the flags of 'thematic agree'.
type AgreeOptions struct {
	IO         *IOStreams
	Project    func() (*corpus.Project, error)
	Coders     []string
	Unit       string
	Codes      []string
	Sources    []string
	AllSources bool
	MinOverlap float64
	Uncoded    string // "absent" or "missing"
	JSON       bool
	XLSX       string
	// --table mode
	Table      string
	Level      string
	Categories int
}

// AgreeResolveOptions are the flags of 'thematic agree resolve'.
type AgreeResolveOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	Coders  []string
	Into    string
	Rule    string
	Force   bool
	JSON    bool
	Now     func() time.Time
}

func init() { register(newAgreeCmd) }

func newAgreeCmd(g *globals) *cobra.Command {
	opts := &AgreeOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "agree",
		Short: "Measure agreement between coders, list their disagreements",
		Long: `Compare the codings of two or more coders, code by code.

Units. Each segment of the chosen unit (--unit: sentence, paragraph or turn)
is a unit. A unit is coded with a code by a coder when one of the coder's
codings of that code overlaps it by at least one character (with
--min-overlap 0.5: when the coder's codings cover at least half its
characters). Orphaned codings (lost when a source changed) are left out.

Sources. By default the units are those of every source on which at least one
of the coders has a coding of any code; a coder with no coding on such a
source counts as having coded none of its units (with --uncoded missing, the
coder gives no value there instead, and each statistic handles the missing
values its own way). --all-sources takes every source of the project;
--sources names them.

Codes. By default every code either coder used on those sources. --codes
names codes, themes or sub-themes: a theme is compared as a whole, a coding
of any code under it counting as coding the theme.

Per code, and pooled over all unit x code pairs, it reports the units each
coder coded, percent agreement, Cohen's kappa (2 coders), Fleiss' kappa,
Krippendorff's alpha (nominal) and Brennan-Prediger's kappa (q = 2). Then,
like NVivo's coding comparison, the character-level agreement and kappa of
each pair of coders per code and source (over the source's whole text) and
over all sources. A statistic that cannot be computed shows as "—", with a
note saying why.

--xlsx writes a workbook: Summary, Characters, and Disagreements (one row per
unit and code the coders differ on, with its text and citation, for the team
to discuss), plus About.

--table FILE.csv computes the statistics from any units x coders table
instead (header: a unit column, then one column per coder; empty, NA, "." or
"*" is missing), with Krippendorff's alpha at the --level given or at every
level. Brennan-Prediger takes q = the number of distinct values, unless
--categories says otherwise.

'thematic agree resolve' writes a consensus coder.`,
		Example: `  thematic agree --coders alice,bob
  thematic agree --coders alice,bob,carol --unit paragraph --codes belonging,welcome
  thematic agree --coders auto,alice --xlsx agreement.xlsx
  thematic agree --coders alice,bob --uncoded missing --json
  thematic agree --table ratings.csv --level ordinal
  thematic agree resolve --coders alice,bob --into consensus --rule intersection`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("level") && opts.Table == "" {
				return errs.New("", 0, 0, "--level goes with --table (project codings are present/absent: nominal)")
			}
			return runAgree(opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Coders, "coders", nil, "the coders to compare, e.g. `alice,bob` (at least 2)")
	f.StringVar(&opts.Unit, "unit", corpus.UnitSentence, "unit of comparison: sentence, paragraph or turn")
	f.StringSliceVar(&opts.Codes, "codes", nil, "compare only these codes, themes or sub-themes (`ID,...`)")
	f.StringSliceVar(&opts.Sources, "sources", nil, "compare these sources (`ID,...`) instead of those the coders coded")
	f.BoolVar(&opts.AllSources, "all-sources", false, "compare every source of the project, coded or not")
	f.Float64Var(&opts.MinOverlap, "min-overlap", 0, "share of a unit's characters a coder's codings must cover to code it (0: any overlap)")
	f.StringVar(&opts.Uncoded, "uncoded", "absent", "a coder with no coding on a compared source: absent (coded nothing there) or missing (no value)")
	f.BoolVar(&opts.JSON, "json", false, "print everything as JSON: statistics, character comparisons, disagreements")
	f.StringVar(&opts.XLSX, "xlsx", "", "also write the report, with a sheet of disagreements, to `FILE.xlsx`")
	f.StringVar(&opts.Table, "table", "", "compute the statistics from a units x coders `FILE.csv` instead of the project")
	f.StringVar(&opts.Level, "level", "", "with --table: alpha at this level only (nominal, ordinal, interval or ratio)")
	f.IntVar(&opts.Categories, "categories", 0, "with --table: number of possible categories for Brennan-Prediger (0: the distinct values)")
	cmd.AddCommand(newAgreeResolveCmd(g))
	return cmd
}

func newAgreeResolveCmd(g *globals) *cobra.Command {
	opts := &AgreeResolveOptions{IO: g.ios, Project: g.project, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "resolve",
		Short: "Write a consensus coder from two or more coders' codings",
		Long: `Write the codings of a new coder (--into, e.g. "consensus") made from the
coders' codings by a rule:

  union          every coding of any of the coders (one coding where they
                 coded the same span with the same code)
  intersection   per source and code, only the characters every coder coded
                 (new quotes are taken from the source text)
  CODER          that coder's codings win wherever the coders disagree: a
                 copy of that coder's codings

The codings get origin "consensus:<rule>". The file codings/<into>.jsonl is
written atomically under the project lock; an existing coder is not
overwritten unless --force. Orphaned codings are copied by union and CODER,
and left out of an intersection.`,
		Example: `  thematic agree resolve --coders alice,bob --into consensus
  thematic agree resolve --coders alice,bob --into agreed --rule intersection
  thematic agree resolve --coders alice,bob --into consensus --rule alice --force`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runAgreeResolve(opts) },
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Coders, "coders", nil, "the coders to combine, e.g. `alice,bob`")
	f.StringVar(&opts.Into, "into", "", "the consensus coder to write, e.g. `consensus`")
	f.StringVar(&opts.Rule, "rule", analysis.ConsensusUnion, "union, intersection or the name of the coder whose codings win")
	f.BoolVar(&opts.Force, "force", false, "overwrite the --into coder's codings if they exist")
	f.BoolVar(&opts.JSON, "json", false, "print what was written as JSON")
	return cmd
}

// agreeCheckCoders checks the --coders list: at least two distinct valid
// names.
func agreeCheckCoders(coders []string) ([]string, error) {
	var out []string
	for _, c := range coders {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if err := analysis.ValidCoderName(c); err != nil {
			return nil, errs.New("", 0, 0, "--coders: %v", err)
		}
		if slices.Contains(out, c) {
			return nil, errs.New("", 0, 0, "--coders: %q is named twice", c)
		}
		out = append(out, c)
	}
	if len(out) < 2 {
		return nil, errs.New("", 0, 0, "--coders: name at least 2 coders, e.g. --coders alice,bob")
	}
	return out, nil
}

// agreeCheckFiles refuses a coder without a file.
func agreeCheckFiles(store analysis.Store, coders []string) error {
	have, err := store.Coders()
	if err != nil {
		return err
	}
	for _, c := range coders {
		if !slices.Contains(have, c) {
			known := "none yet"
			if len(have) > 0 {
				known = strings.Join(have, ", ")
			}
			return errs.New("", 0, 0, "no coder %q: %s does not exist (coders: %s)", c, filepath.Join(corpus.CodingsDir, c+".jsonl"), known)
		}
	}
	return nil
}

// agreeLoadCodings loads the coders' codings, refusing a coder without a file.
func agreeLoadCodings(store analysis.Store, coders []string) (map[string][]analysis.Coding, error) {
	if err := agreeCheckFiles(store, coders); err != nil {
		return nil, err
	}
	out := make(map[string][]analysis.Coding, len(coders))
	for _, c := range coders {
		cs, err := store.Load(c)
		if err != nil {
			return nil, err
		}
		out[c] = cs
	}
	return out, nil
}

func runAgree(opts *AgreeOptions) error {
	if opts.Table != "" {
		if len(opts.Coders) > 0 || len(opts.Codes) > 0 || len(opts.Sources) > 0 || opts.AllSources || opts.XLSX != "" {
			return errs.New("", 0, 0, "--table reads its coders and units from the table: drop --coders, --codes, --sources, --all-sources and --xlsx")
		}
		return runAgreeTable(opts)
	}
	if opts.Level != "" {
		return errs.New("", 0, 0, "--level goes with --table (project codings are present/absent: nominal)")
	}
	coders, err := agreeCheckCoders(opts.Coders)
	if err != nil {
		return err
	}
	if opts.Unit == "" {
		opts.Unit = corpus.UnitSentence
	}
	if opts.Uncoded == "" {
		opts.Uncoded = "absent"
	}
	if err := checkUnit(opts.Unit); err != nil {
		return err
	}
	if opts.MinOverlap < 0 || opts.MinOverlap > 1 || opts.MinOverlap != opts.MinOverlap {
		return errs.New("", 0, 0, "--min-overlap %v: give a share from 0 (any overlap) to 1 (the whole unit)", opts.MinOverlap)
	}
	if opts.Uncoded != "absent" && opts.Uncoded != "missing" {
		return errs.New("", 0, 0, "--uncoded %q: use absent or missing", opts.Uncoded)
	}
	if opts.AllSources && len(opts.Sources) > 0 {
		return errs.New("", 0, 0, "--sources and --all-sources exclude each other")
	}
	if opts.XLSX != "" && !strings.EqualFold(filepath.Ext(opts.XLSX), ".xlsx") {
		return errs.New(opts.XLSX, 0, 0, "--xlsx: the file name must end in .xlsx")
	}
	p, err := opts.Project()
	if err != nil {
		return err
	}
	codings, err := agreeCompactCodings(p, coders)
	if err != nil {
		return err
	}
	// Sources: their metadata now (from the cache of sidecars), their text
	// and segments one at a time while the units are built.
	infos, err := p.SourceInfos()
	if err != nil {
		return err
	}
	var srcs []*corpus.Source
	switch {
	case len(opts.Sources) > 0:
		byID := make(map[string]*corpus.Source, len(infos))
		for i := range infos {
			byID[infos[i].ID] = &infos[i].Source
		}
		for _, id := range opts.Sources {
			id = strings.TrimSpace(id)
			s := byID[id]
			if s == nil {
				return errs.New("", 0, 0, "--sources: no source %q (see 'thematic sources')", id)
			}
			if !slices.Contains(srcs, s) {
				srcs = append(srcs, s)
			}
		}
	default:
		for i := range infos {
			if opts.AllSources || codings.Coded(infos[i].ID) {
				srcs = append(srcs, &infos[i].Source)
			}
		}
	}
	if len(srcs) == 0 {
		return errs.New("", 0, 0, "nothing to compare: %s have no codings on any source", strings.Join(coders, ", "))
	}
	cb, err := agreeCodebook(p)
	if err != nil {
		return err
	}
	codes, err := codings.Codes(cb, opts.Codes, srcs)
	if err != nil {
		return err
	}
	if len(codes) == 0 {
		return errs.New("", 0, 0, "nothing to compare: %s have no codings on the sources compared", strings.Join(coders, ", "))
	}
	ud, err := analysis.StreamUnitData(srcs, func(i int) (*corpus.Source, error) { return p.Source(srcs[i].ID, true) }, codings,
		analysis.AgreeOptions{
			Coders: coders, Codes: codes, Unit: opts.Unit, MinCover: opts.MinOverlap,
			UncodedMissing: opts.Uncoded == "missing",
			// The text report only counts the disagreements.
			NoDisagreementText: !opts.JSON && opts.XLSX == "",
		})
	if err != nil {
		return err
	}
	agreeWarnings(opts, ud)
	rep := ud.Summary()
	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		return err
	}
	cite := func(src *corpus.Source) string {
		return corpus.Citation(p.Config.Citation, src, corpus.CaseAttrs(src, cases))
	}
	if opts.XLSX != "" {
		if err := agreeWriteXLSX(opts, rep, cite); err != nil {
			return err
		}
	}
	if opts.JSON {
		return agreeWriteJSON(opts.IO.Out, opts, rep, cite)
	}
	return agreePrint(opts, rep)
}

// agreeBatch is about how many codings agreeCompactCodings reads at once.
const agreeBatch = 200_000

// agreeCompactCodings reads the coders' codings into their compact form,
// refusing a coder without a file. It reads them from the codings cache a
// few codes at a time, so that only a batch of full codings is in memory
// at once.
func agreeCompactCodings(p *corpus.Project, coders []string) (*analysis.AgreeCodings, error) {
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	if err := agreeCheckFiles(store, coders); err != nil {
		return nil, err
	}
	out := analysis.NewAgreeCodings(coders)
	for _, c := range coders {
		err := agreeEachBatch(p, c, nil, func(cs []analysis.Coding) error { return out.Add(c, cs) })
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// agreeEachBatch calls fn with the codings of coder whose code keep accepts
// (all when keep is nil), a batch of about agreeBatch codings at a time,
// read from the codings cache a few codes at a time, so that a command that
// keeps only part of each coding holds only one batch of full codings. The
// codings of one code come in one batch, in file order.
func agreeEachBatch(p *corpus.Project, coder string, keep func(code string) bool, fn func([]analysis.Coding) error) error {
	cc := analysis.CodingsCache{Store: analysis.Store{Dir: p.Path(corpus.CodingsDir)}, Dir: p.Path(corpus.CacheDir, "codings")}
	sum, err := cc.Summary(coder)
	if err != nil {
		return err
	}
	codes := make([]string, 0, len(sum.Codes))
	for code := range sum.Codes {
		if keep == nil || keep(code) {
			codes = append(codes, code)
		}
	}
	slices.Sort(codes)
	for len(codes) > 0 {
		batch := map[string]bool{}
		for n := 0; len(codes) > 0 && (n == 0 || n+sum.Codes[codes[0]] <= agreeBatch); codes = codes[1:] {
			batch[codes[0]] = true
			n += sum.Codes[codes[0]]
		}
		cs, err := cc.Load(coder, func(code string) bool { return batch[code] })
		if err != nil {
			return err
		}
		if err := fn(cs); err != nil {
			return err
		}
	}
	return nil
}

// agreeCodebook loads the codebook, or returns nil when the project has none.
func agreeCodebook(p *corpus.Project) (*codebook.Codebook, error) {
	path := p.Path(corpus.CodebookFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return codebook.Load(path)
}

// agreeWarnings tells on stderr what may surprise: orphans left out, and
// sources some coders did not code at all.
func agreeWarnings(opts *AgreeOptions, ud *analysis.UnitData) {
	if ud.Orphans > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "Left out %d orphaned codings (see 'thematic status')\n", ud.Orphans)
	}
	for s, src := range ud.Sources {
		var without []string
		for c, name := range ud.Coders {
			if ud.SourceCoders[s]&(1<<c) == 0 {
				without = append(without, name)
			}
		}
		if len(without) == 0 {
			continue
		}
		how := "count as coding none of its units"
		if ud.UncodedMissing {
			how = "give no value for its units"
		}
		fmt.Fprintf(opts.IO.ErrOut, "Note: %s has no codings by %s, who %s\n", src.ID, strings.Join(without, ", "), how)
	}
}

// agreeRule describes the overlap rule in words.
func agreeRule(minOverlap float64) string {
	if minOverlap <= 0 {
		return "a unit is coded when a coding overlaps it by at least one character"
	}
	return fmt.Sprintf("a unit is coded when codings cover at least %s of its characters", agreePercent(minOverlap))
}

// agreeAbout lists the run's settings for the workbook.
func agreeAbout(opts *AgreeOptions) [][2]string {
	srcs := "every source at least one of the coders coded"
	switch {
	case len(opts.Sources) > 0:
		srcs = "named with --sources"
	case opts.AllSources:
		srcs = "every source of the project (--all-sources)"
	}
	uncoded := "a coder with no coding on a source coded none of its units"
	if opts.Uncoded == "missing" {
		uncoded = "a coder with no coding on a source gives no value for its units (missing)"
	}
	return [][2]string{
		{"Overlap rule", agreeRule(opts.MinOverlap)},
		{"Which sources", srcs},
		{"Uncoded sources", uncoded},
		{"Made", time.Now().UTC().Format(time.RFC3339)},
	}
}

// agreePercent formats a proportion as a percentage with one decimal.
func agreePercent(x float64) string {
	return strconv.FormatFloat(100*x, 'f', 1, 64) + "%"
}

// agreeValue formats a statistic for the text report.
func agreeValue(r agreement.Result) string {
	switch {
	case !r.Defined:
		return export.UndefinedMark
	case r.Statistic == "percent" || r.Statistic == "char-percent":
		return agreePercent(r.Value)
	}
	return strconv.FormatFloat(r.Value, 'f', 3, 64)
}

// agreeNotes collects the notes of results once each, labelled by what they
// belong to.
type agreeNotes struct {
	lines []string
	seen  map[string]bool
}

func (n *agreeNotes) add(label string, rs ...agreement.Result) {
	if n.seen == nil {
		n.seen = map[string]bool{}
	}
	for _, r := range rs {
		if r.Note == "" {
			continue
		}
		line := label + ": " + r.Statistic + ": " + r.Note
		key := label + "\x00" + r.Note
		if n.seen[key] {
			continue
		}
		n.seen[key] = true
		n.lines = append(n.lines, line)
	}
}

func agreePrint(opts *AgreeOptions, rep *analysis.AgreementReport) error {
	ud := rep.Data
	w := opts.IO.Out
	color := opts.IO.Color()
	units := ud.Unit + "s"
	if len(ud.Units) == 1 {
		units = ud.Unit
	}
	srcWord := "sources"
	if len(ud.Sources) == 1 {
		srcWord = "source"
	}
	uncoded := "a coder with no coding on a source coded none of its units"
	if ud.UncodedMissing {
		uncoded = "a coder with no coding on a source gives no value for its units"
	}
	fmt.Fprintf(w, "%s\n%s;\n%s\n\n",
		style(color, ansiBold, fmt.Sprintf("Agreement of %s on %d %s in %d %s", strings.Join(ud.Coders, ", "), len(ud.Units), units, len(ud.Sources), srcWord)),
		agreeRule(opts.MinOverlap), uncoded)
	var notes agreeNotes
	tw := newTable(w)
	head := []string{"CODE", "UNITS"}
	for _, c := range ud.Coders {
		head = append(head, "BY "+strings.ToUpper(c))
	}
	head = append(head, "AGREE", "COHEN", "FLEISS", "ALPHA", "B-P")
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, ca := range append(append([]analysis.CodeAgreement(nil), rep.Codes...), rep.Pooled) {
		cells := []string{ca.Code.ID, strconv.Itoa(ca.Units)}
		for _, n := range ca.Coded {
			cells = append(cells, strconv.Itoa(n))
		}
		for _, r := range ca.Stats() {
			cells = append(cells, agreeValue(r))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
		notes.add(ca.Code.ID, ca.Stats()...)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\n%s\n", style(color, ansiBold, "Character level, over each source's whole text (as NVivo's coding comparison)"))
	if err := agreeCharTable(w, ud, &notes); err != nil {
		return err
	}
	if len(notes.lines) > 0 {
		fmt.Fprintf(w, "\n%s\n", style(color, ansiBold, "Notes"))
		for _, l := range notes.lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	fmt.Fprintf(w, "\n%d disagreements", ud.NumDisagreements())
	if ud.NumDisagreements() > 0 && opts.XLSX == "" {
		fmt.Fprint(w, ": list them with --json, or write them for the team with --xlsx FILE.xlsx")
	}
	fmt.Fprintln(w)
	return nil
}

// agreeCharTable prints the character-level comparisons as a table
// aligned as a tabwriter would align it (columns two spaces wider than their
// widest cell), without holding the rows: one pass over them finds the
// widths, a second prints.
func agreeCharTable(w io.Writer, ud *analysis.UnitData, notes *agreeNotes) error {
	head := []string{"CODE", "SOURCE", "CODERS", "CHARS", "AGREE", "KAPPA", "BOTH", "A ONLY", "B ONLY"}
	cells := make([]string, len(head))
	fill := func(c *analysis.CharComparison) {
		src := c.Source
		if src == "" {
			src = "(all sources)"
		}
		cells[0], cells[1], cells[2], cells[3] = c.Code, src, c.First+"/"+c.Second, strconv.Itoa(c.Chars)
		cells[4], cells[5], cells[6] = agreeValue(c.Percent), agreeValue(c.Kappa), strconv.Itoa(c.Both)
		cells[7], cells[8] = strconv.Itoa(c.FirstOnly), strconv.Itoa(c.SecondOnly)
	}
	widths := make([]int, len(head)-1) // the last column is not padded
	measure := func() {
		for i := range widths {
			widths[i] = max(widths[i], utf8.RuneCountInString(cells[i]))
		}
	}
	copy(cells, head)
	measure()
	ud.EachCharComparison(func(c *analysis.CharComparison) error {
		fill(c)
		measure()
		return nil
	})
	bw := bufio.NewWriter(w)
	line := func() {
		for i, width := range widths {
			bw.WriteString(cells[i])
			bw.WriteString(strings.Repeat(" ", width+2-utf8.RuneCountInString(cells[i])))
		}
		bw.WriteString(cells[len(cells)-1])
		bw.WriteByte('\n')
	}
	copy(cells, head)
	line()
	ud.EachCharComparison(func(c *analysis.CharComparison) error {
		fill(c)
		line()
		notes.add(c.Code+" "+cells[1]+" "+cells[2], c.Percent, c.Kappa)
		return nil
	})
	return bw.Flush()
}

// agreeStat is a statistic as --json prints it: value null when undefined.
type agreeStat struct {
	Statistic string   `json:"statistic"`
	Value     *float64 `json:"value"`
	Defined   bool     `json:"defined"`
	Note      string   `json:"note,omitempty"`
	Units     int      `json:"units"`
	Excluded  int      `json:"excluded"`
	Pairable  int      `json:"pairable,omitempty"`
	Po        *float64 `json:"po,omitempty"`
	Pe        *float64 `json:"pe,omitempty"`
	Do        *float64 `json:"do,omitempty"`
	De        *float64 `json:"de,omitempty"`
}

func agreeJSONStat(r agreement.Result) agreeStat {
	s := agreeStat{Statistic: r.Statistic, Defined: r.Defined, Note: r.Note, Units: r.Units, Excluded: r.Excluded, Pairable: r.Pairable}
	f := func(x float64) *float64 { return &x }
	if r.Defined {
		s.Value = f(r.Value)
	}
	if strings.HasPrefix(r.Statistic, "alpha-") {
		if r.Defined || r.De != 0 {
			s.Do, s.De = f(r.Do), f(r.De)
		}
	} else if r.Units > 0 {
		s.Po = f(r.Po)
		if r.Statistic != "percent" && r.Statistic != "char-percent" {
			s.Pe = f(r.Pe)
		}
	}
	return s
}

type agreeJSONCode struct {
	Code            string         `json:"code"`
	Name            string         `json:"name,omitempty"`
	Includes        []string       `json:"includes"`
	Units           int            `json:"units"`
	Coded           map[string]int `json:"coded"`
	Percent         agreeStat      `json:"percent"`
	Cohen           agreeStat      `json:"cohen_kappa"`
	Fleiss          agreeStat      `json:"fleiss_kappa"`
	Alpha           agreeStat      `json:"alpha_nominal"`
	BrennanPrediger agreeStat      `json:"brennan_prediger"`
}

type agreeJSONChars struct {
	Code       string    `json:"code"`
	Source     string    `json:"source"` // "" for all sources
	Citation   string    `json:"citation,omitempty"`
	First      string    `json:"first"`
	Second     string    `json:"second"`
	Chars      int       `json:"chars"`
	Both       int       `json:"both"`
	FirstOnly  int       `json:"first_only"`
	SecondOnly int       `json:"second_only"`
	Percent    agreeStat `json:"percent"`
	Kappa      agreeStat `json:"kappa"`
}

type agreeJSONDisagreement struct {
	Code       string   `json:"code"`
	Source     string   `json:"source"`
	Segment    string   `json:"segment"`
	Citation   string   `json:"citation"`
	Speaker    string   `json:"speaker,omitempty"`
	Line       int      `json:"line"`
	Start      int      `json:"start"`
	End        int      `json:"end"`
	Text       string   `json:"text"`
	CodedBy    []string `json:"coded_by"`
	NotCodedBy []string `json:"not_coded_by"`
	Missing    []string `json:"missing,omitempty"`
}

// agreeJSONHead is the part of agreeJSON before the long lists, which
// agreeWriteJSON streams.
type agreeJSONHead struct {
	Coders     []string        `json:"coders"`
	Unit       string          `json:"unit"`
	MinOverlap float64         `json:"min_overlap"`
	Uncoded    string          `json:"uncoded"`
	Sources    []string        `json:"sources"`
	Units      int             `json:"units"`
	Orphans    int             `json:"orphans_left_out"`
	Codes      []agreeJSONCode `json:"codes"`
	Pooled     agreeJSONCode   `json:"pooled"`
}

// agreeJSONHeadOf is the part of the JSON report before its long lists,
// and the report's sources by id.
func agreeJSONHeadOf(opts *AgreeOptions, rep *analysis.AgreementReport) (agreeJSONHead, map[string]*corpus.Source) {
	ud := rep.Data
	head := agreeJSONHead{
		Coders: ud.Coders, Unit: ud.Unit, MinOverlap: opts.MinOverlap, Uncoded: opts.Uncoded,
		Units: len(ud.Units), Orphans: ud.Orphans, Codes: []agreeJSONCode{},
	}
	byID := map[string]*corpus.Source{}
	for _, s := range ud.Sources {
		head.Sources = append(head.Sources, s.ID)
		byID[s.ID] = s
	}
	code := func(ca analysis.CodeAgreement) agreeJSONCode {
		j := agreeJSONCode{Code: ca.Code.ID, Name: ca.Code.Name, Includes: ca.Code.IDs, Units: ca.Units, Coded: map[string]int{},
			Percent: agreeJSONStat(ca.Percent), Cohen: agreeJSONStat(ca.Cohen), Fleiss: agreeJSONStat(ca.Fleiss),
			Alpha: agreeJSONStat(ca.Alpha), BrennanPrediger: agreeJSONStat(ca.BrennanPrediger)}
		if j.Includes == nil {
			j.Includes = []string{}
		}
		for c, n := range ca.Coded {
			j.Coded[ud.Coders[c]] = n
		}
		return j
	}
	for _, ca := range rep.Codes {
		head.Codes = append(head.Codes, code(ca))
	}
	head.Pooled = code(rep.Pooled)
	return head, byID
}

// agreeJSONCharsOf is a character comparison as the JSON report lists it.
func agreeJSONCharsOf(c *analysis.CharComparison, byID map[string]*corpus.Source, cite func(*corpus.Source) string) agreeJSONChars {
	j := agreeJSONChars{Code: c.Code, Source: c.Source, First: c.First, Second: c.Second, Chars: c.Chars,
		Both: c.Both, FirstOnly: c.FirstOnly, SecondOnly: c.SecondOnly,
		Percent: agreeJSONStat(c.Percent), Kappa: agreeJSONStat(c.Kappa)}
	if s := byID[c.Source]; s != nil {
		j.Citation = cite(s)
	}
	return j
}

// agreeJSONDisagreementOf is a disagreement as the JSON report lists it.
func agreeJSONDisagreementOf(d *analysis.Disagreement, byID map[string]*corpus.Source, cite func(*corpus.Source) string) agreeJSONDisagreement {
	return agreeJSONDisagreement{
		Code: d.Code, Source: d.Source, Segment: d.Segment.ID, Citation: cite(byID[d.Source]),
		Speaker: d.Segment.Speaker, Line: d.Segment.Line, Start: d.Segment.Start, End: d.Segment.End,
		Text: d.Text, CodedBy: agreeOrEmpty(d.CodedBy), NotCodedBy: agreeOrEmpty(d.NotCodedBy), Missing: d.Missing,
	}
}

// agreeWriteJSON writes the report as writeJSON would write an agreeJSON,
// byte for byte, but streams the character comparisons and disagreements,
// which on a large project are far too many to hold as JSON in memory.
func agreeWriteJSON(w io.Writer, opts *AgreeOptions, rep *analysis.AgreementReport, cite func(*corpus.Source) string) error {
	ud := rep.Data
	head, byID := agreeJSONHeadOf(opts, rep)
	js := newJSONStream(w)
	if err := js.openObject(head); err != nil {
		return err
	}
	list := func(name string, each func(func(v any) error) error) error {
		js.field(name)
		a := js.openArray(1)
		err := each(a.add)
		a.close()
		return err
	}
	err := list("chars", func(emit func(any) error) error {
		return ud.EachCharComparison(func(c *analysis.CharComparison) error {
			return emit(agreeJSONCharsOf(c, byID, cite))
		})
	})
	if err != nil {
		return err
	}
	err = list("disagreements", func(emit func(any) error) error {
		return ud.EachDisagreement(func(d *analysis.Disagreement) error {
			return emit(agreeJSONDisagreementOf(d, byID, cite))
		})
	})
	if err != nil {
		return err
	}
	js.w.WriteString("\n}\n")
	return js.flush()
}

// agreeSheetRows is the most data rows agreeWriteXLSX puts on a sheet:
// Excel's 1,048,576 rows less the header and a closing note.
var agreeSheetRows = 1<<20 - 2

// agreeWriteXLSX writes the agreement workbook. The Characters and
// Disagreements sheets can have millions of rows on a large project: they
// are fed to the export's row writer a page at a time, and stop at Excel's
// limit with a last row that says how many more there were.
func agreeWriteXLSX(opts *AgreeOptions, rep *analysis.AgreementReport, cite func(*corpus.Source) string) error {
	ud := rep.Data
	sheets := export.AgreementSheets(rep, export.AgreementOptions{Cite: cite, About: agreeAbout(opts)})
	var cut []string
	for i := range sheets {
		sh := &sheets[i]
		switch sh.Name {
		case "Characters":
			sh.Rows = agreePaged(sh.Rows, func(page []analysis.CharComparison) { rep.Chars = page }, ud.EachCharComparison,
				ud.NumCharComparisons(), "character comparisons", &cut)
		case "Disagreements":
			sh.Rows = agreePaged(sh.Rows, func(page []analysis.Disagreement) { rep.Disagreements = page }, ud.EachDisagreement,
				ud.NumDisagreements(), "disagreements", &cut)
		}
	}
	if err := export.WriteXLSX(opts.XLSX, sheets...); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Wrote %s (%d disagreements)\n", opts.XLSX, ud.NumDisagreements())
	for _, c := range cut {
		fmt.Fprintf(opts.IO.ErrOut, "Note: %s\n", c)
	}
	return nil
}

// errAgreeSheetFull stops a sheet's rows at agreeSheetRows.
var errAgreeSheetFull = errors.New("sheet full")

// agreePaged returns rows that run the export's rows over a page of the
// report's list at a time: set puts a page in the report (where rows reads
// it), each hands out the whole list (total items). Past agreeSheetRows it
// writes a note row instead, and adds the note to cut.
func agreePaged[T any](rows export.Rows, set func([]T), each func(func(*T) error) error, total int, what string, cut *[]string) export.Rows {
	return func(emit func([]any) error) error {
		const page = 4096
		buf := make([]T, 0, page)
		flush := func() error {
			set(buf)
			err := rows(emit)
			set(nil)
			buf = buf[:0]
			return err
		}
		shown := 0
		err := each(func(x *T) error {
			if shown == agreeSheetRows {
				return errAgreeSheetFull
			}
			buf = append(buf, *x)
			shown++
			if len(buf) == page {
				return flush()
			}
			return nil
		})
		if err != nil && !errors.Is(err, errAgreeSheetFull) {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		if shown < total {
			note := fmt.Sprintf("The first %d of %d %s are shown: an Excel sheet holds no more. --json lists them all.", shown, total, what)
			*cut = append(*cut, note)
			return emit([]any{note})
		}
		return nil
	}
}

// agreeOrEmpty turns a nil list into an empty one, so JSON shows [].
func agreeOrEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// runAgreeTable is 'thematic agree --table'.
func runAgreeTable(opts *AgreeOptions) error {
	levels := []agreement.Level{agreement.Nominal, agreement.Ordinal, agreement.Interval, agreement.Ratio}
	if opts.Level != "" {
		lvl, err := agreement.ParseLevel(opts.Level)
		if err != nil {
			return errs.New("", 0, 0, "--level: %v", err)
		}
		levels = []agreement.Level{lvl}
	}
	if opts.Categories < 0 || opts.Categories == 1 {
		return errs.New("", 0, 0, "--categories %d: give 2 or more (0: the number of distinct values)", opts.Categories)
	}
	fh, err := os.Open(opts.Table)
	if err != nil {
		return errs.New(opts.Table, 0, 0, "cannot read the table: %v", agreePathErr(err))
	}
	defer fh.Close()
	d, err := agreement.ReadTable(opts.Table, fh)
	if err != nil {
		return err
	}
	q := opts.Categories
	distinct := agreeDistinct(d)
	if q == 0 {
		q = distinct
	}
	stats := []agreement.Result{agreement.Percent(d), agreement.Cohen(d), agreement.Fleiss(d), agreement.BrennanPrediger(d, q)}
	for _, lvl := range levels {
		stats = append(stats, agreement.Krippendorff(d, lvl))
	}
	if opts.JSON {
		js := make([]agreeStat, len(stats))
		for i, r := range stats {
			js[i] = agreeJSONStat(r)
		}
		return writeJSON(opts.IO.Out, struct {
			File       string      `json:"file"`
			Coders     []string    `json:"coders"`
			Units      int         `json:"units"`
			Values     int         `json:"distinct_values"`
			Categories int         `json:"categories"`
			Statistics []agreeStat `json:"statistics"`
		}{opts.Table, d.Coders, len(d.Values), distinct, q, js})
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "%s\n%d units, %d coders (%s), %d distinct values; Brennan-Prediger with q = %d\n\n",
		style(opts.IO.Color(), ansiBold, opts.Table), len(d.Values), len(d.Coders), strings.Join(d.Coders, ", "), distinct, q)
	tw := newTable(w)
	fmt.Fprintln(tw, "STATISTIC\tVALUE\tUNITS\tEXCLUDED\tNOTE")
	for _, r := range stats {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", r.Statistic, agreeValue(r), r.Units, r.Excluded, r.Note)
	}
	return tw.Flush()
}

// agreeDistinct counts the distinct nominal values of d, as the agreement
// package compares them: numbers by value, other labels as written.
func agreeDistinct(d agreement.Data) int {
	seen := map[string]bool{}
	for _, row := range d.Values {
		for _, v := range row {
			switch {
			case !v.Present:
			case v.Numeric:
				seen["n"+strconv.FormatFloat(v.Num, 'g', -1, 64)] = true
			default:
				seen["s"+v.Label] = true
			}
		}
	}
	return len(seen)
}

// agreePathErr drops the path from an *fs.PathError, as the message names
// the file already.
func agreePathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// runAgreeResolve is 'thematic agree resolve'.
func runAgreeResolve(opts *AgreeResolveOptions) error {
	coders, err := agreeCheckCoders(opts.Coders)
	if err != nil {
		return err
	}
	if opts.Into == "" {
		return errs.New("", 0, 0, "--into: name the consensus coder to write, e.g. --into consensus")
	}
	if err := analysis.ValidCoderName(opts.Into); err != nil {
		return errs.New("", 0, 0, "--into: %v", err)
	}
	if slices.Contains(coders, opts.Into) {
		return errs.New("", 0, 0, "--into %q is one of the coders combined: choose another name", opts.Into)
	}
	rule := strings.TrimSpace(opts.Rule)
	if rule == "" {
		rule = analysis.ConsensusUnion
	}
	if rule != analysis.ConsensusUnion && rule != analysis.ConsensusIntersection && !slices.Contains(coders, rule) {
		return errs.New("", 0, 0, "--rule %q: use union, intersection or one of the coders (%s)", rule, strings.Join(coders, ", "))
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
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	have, err := store.Coders()
	if err != nil {
		return err
	}
	file := filepath.Join(corpus.CodingsDir, opts.Into+".jsonl")
	if slices.Contains(have, opts.Into) && !opts.Force {
		return errs.New(file, 0, 0, "coder %q exists already: choose another --into, or pass --force to overwrite it", opts.Into)
	}
	codings, err := agreeLoadCodings(store, coders)
	if err != nil {
		return err
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	text := func(source string) (string, error) {
		src, err := p.Source(source, true)
		if err != nil {
			return "", fmt.Errorf("the codings of source %q: %w", source, err)
		}
		return src.Text, nil
	}
	res, err := analysis.ConsensusText(codings, coders, rule, opts.Into, text, now())
	if err != nil {
		return err
	}
	if err := store.Save(opts.Into, res.Codings); err != nil {
		return err
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, struct {
			Coder   string   `json:"coder"`
			File    string   `json:"file"`
			Rule    string   `json:"rule"`
			From    []string `json:"from"`
			Codings int      `json:"codings"`
			Orphans int      `json:"orphans_left_out"`
		}{opts.Into, filepath.ToSlash(file), rule, coders, len(res.Codings), res.Orphans})
	}
	fmt.Fprintf(opts.IO.ErrOut, "Wrote %d codings of coder %q to %s (rule %s, from %s)\n",
		len(res.Codings), opts.Into, filepath.ToSlash(file), rule, strings.Join(coders, ", "))
	if res.Orphans > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "Left out %d orphaned codings (see 'thematic status')\n", res.Orphans)
	}
	return nil
}
