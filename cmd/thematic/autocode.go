package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// AutocodeOptions are the flags of 'thematic autocode'.
type AutocodeOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	DryRun  bool
	Explain string
	JSON    bool
}

func init() { register(newAutocodeCmd) }

func newAutocodeCmd(g *globals) *cobra.Command {
	opts := &AutocodeOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "autocode",
		Short: "Code the sources deductively with the codebook's rules",
		Long: `Apply the rules of codebook.yaml to every source. The results are the
codings of coder "auto" in codings/auto.jsonl, made anew on each run (one
atomic write); each coding's origin is rule:<code id>/<rule number>.

A code's unit (sentence by default; match, paragraph or turn) is coded when
any of its rules matches inside it and none of its not-rules does. Prints the
codings per code and the codes whose rules matched nothing. Agreement of
"auto" with a person ('thematic agree --coders auto,alice') is the rules'
precision and recall in practice.`,
		Example: `  thematic autocode
  thematic autocode --dry-run
  thematic autocode --explain boundaries`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runAutocode(opts) },
	}
	f := cmd.Flags()
	f.BoolVar(&opts.DryRun, "dry-run", false, "show what would be coded; write nothing")
	f.StringVar(&opts.Explain, "explain", "", "show every unit `CODE` would code, the rule that fired and the matched words; write nothing")
	f.BoolVar(&opts.JSON, "json", false, "print counts (and with --explain the matches) as JSON")
	return cmd
}

func runAutocode(opts *AutocodeOptions) error {
	p, err := opts.Project()
	if err != nil {
		return err
	}
	cbPath := p.Path(corpus.CodebookFile)
	cb, err := codebook.Load(cbPath)
	if err != nil {
		return err
	}
	if opts.Explain != "" && cb.Node(opts.Explain) == nil {
		return errs.New(cbPath, 0, 0, "no code %q in the codebook", opts.Explain)
	}
	write := !opts.DryRun && opts.Explain == ""
	unlock, err := p.Lock(30 * time.Second)
	if err != nil {
		return err
	}
	defer unlock()
	// The sources' metadata (ids, times of ingest) from the project's cache.
	infos, err := p.SourceInfos()
	if err != nil {
		return err
	}
	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		return err
	}
	an, err := corpus.NewAnalyzer(p.Config.Language, p.Config.FoldAccents)
	if err != nil {
		return err
	}
	aopts := analysis.AutocodeOptions{
		Analyzer: an,
		Attrs:    func(s *corpus.Source) map[string]string { return corpus.CaseAttrs(s, cases) },
		Time:     autocodeCodebookTime(cbPath),
		Explain:  opts.Explain != "",
	}
	var ix *corpus.Index
	if autocodeHasQueries(cb) {
		report, done := progress(opts.IO, "indexing")
		ix, err = p.OpenIndex(report)
		done()
		if err != nil {
			return err
		}
		aopts.Query = func(q string) ([]corpus.Hit, error) {
			hits, _, err := ix.Search(corpus.SearchRequest{Query: q})
			return hits, err
		}
	} else {
		ix = autocodeOpenIndex(p)
	}
	if ix != nil {
		defer ix.Close()
		current, err := p.IndexCurrent(ix)
		if err != nil {
			return err
		}
		aopts.Index = autocodeIndex{ix, current}
	}
	// Codings are stamped with the newest of the codebook's time and the
	// sources' times of ingest (read from their metadata), so that coding
	// unchanged input again writes the same file.
	for i := range infos {
		if t := infos[i].Ingested.UTC().Truncate(time.Second); t.After(aopts.Time) {
			aopts.Time = t
		}
	}
	load := func(i int) (*corpus.Source, error) { return p.Source(infos[i].ID, true) }
	report, finish := progress(opts.IO, "coding")
	aopts.Progress = report
	tally := autocodeTally{sources: map[string]int{}}
	if write {
		// The codings are written as each source is coded, never all held.
		var res *analysis.AutocodeResult
		store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
		err = store.SaveSorted(analysis.AutoCoder, func(yield func([]analysis.Coding) error) error {
			var err error
			res, err = analysis.AutocodeEach(cb, len(infos), load, aopts, func(batch []analysis.Coding) error {
				tally.add(batch)
				return yield(batch)
			})
			return err
		})
		finish()
		if err != nil {
			return err
		}
		return autocodeSummary(opts, cb, res, tally, true)
	}
	// A dry run or --explain keeps the codings (and the matches behind
	// them) to print.
	res, err := analysis.AutocodeSources(cb, len(infos), load, aopts)
	finish()
	if err != nil {
		return err
	}
	if opts.Explain != "" {
		return autocodeExplain(opts, p, cb, cases, res)
	}
	tally.add(res.Codings)
	return autocodeSummary(opts, cb, res, tally, false)
}

// autocodeTally counts codings, and the sources of each code, from codings
// given in source order.
type autocodeTally struct {
	codings int
	sources map[string]int    // code -> sources
	last    map[string]string // code -> the last source counted
}

func (t *autocodeTally) add(cs []analysis.Coding) {
	if t.last == nil {
		t.last = map[string]string{}
	}
	t.codings += len(cs)
	for i := range cs {
		c := &cs[i]
		if last, ok := t.last[c.Code]; !ok || last != c.Source {
			t.last[c.Code] = c.Source
			t.sources[c.Code]++
		}
	}
}

// autocodeCodebookTime is the codebook's time of change. Rule codings are
// stamped with the newest of it and the sources' times of ingest, so that
// re-running on unchanged input writes the same file.
func autocodeCodebookTime(cbPath string) time.Time {
	var t time.Time
	if fi, err := os.Stat(cbPath); err == nil {
		t = fi.ModTime()
	}
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Truncate(time.Second)
}

// autocodeOpenIndex opens the project's search index, if there is one, for
// reading its postings; nil when there is none or it cannot be opened (the
// rules then analyse every source, with the same result).
func autocodeOpenIndex(p *corpus.Project) *corpus.Index {
	if _, err := os.Stat(p.IndexDir()); err != nil {
		return nil
	}
	ix, err := corpus.OpenIndex(p.IndexDir(), p.Config)
	if err != nil {
		return nil
	}
	return ix
}

// autocodeIndex gives autocoding the index's postings; a source is current
// when the index holds it with the attributes of its case, as
// Project.OpenIndex indexes it (see Project.IndexCurrent).
type autocodeIndex struct {
	*corpus.Index
	current func(src *corpus.Source) bool
}

func (x autocodeIndex) Current(src *corpus.Source) bool { return x.current(src) }

func autocodeHasQueries(cb *codebook.Codebook) bool {
	for _, n := range cb.Codes() {
		for _, r := range n.Rules {
			if r.Kind == codebook.RuleQuery || r.Kind == codebook.RuleNot && r.Not != nil && r.Not.Kind == codebook.RuleQuery {
				return true
			}
		}
	}
	return false
}

// autocodeCount is one code's line in the summary.
type autocodeCount struct {
	Code     string `json:"code"`
	Path     string `json:"path"`
	Codings  int    `json:"codings"`
	Vetoed   int    `json:"vetoed"`
	Sources  int    `json:"sources"`
	NoResult bool   `json:"matched_nothing"`
}

func autocodeSummary(opts *AutocodeOptions, cb *codebook.Codebook, res *analysis.AutocodeResult, tally autocodeTally, wrote bool) error {
	var rows []autocodeCount
	var empty []string
	for _, n := range cb.Codes() {
		count, ok := res.Counts[n.ID]
		if !ok {
			continue
		}
		rows = append(rows, autocodeCount{n.ID, nodePath(n), count, res.Vetoed[n.ID], tally.sources[n.ID], count == 0})
		if count == 0 {
			empty = append(empty, n.ID)
		}
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, struct {
			Codings int             `json:"codings"`
			Written bool            `json:"written"`
			Codes   []autocodeCount `json:"codes"`
		}{tally.codings, wrote, rows})
	}
	tw := newTable(opts.IO.Out)
	fmt.Fprintln(tw, "CODE\tCODINGS\tSOURCES\tVETOED\tPATH")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\n", r.Code, r.Codings, r.Sources, r.Vetoed, r.Path)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	verb := "Would write"
	if wrote {
		verb = "Wrote"
	}
	fmt.Fprintf(opts.IO.ErrOut, "%s %d codings of coder %q to %s\n", verb, tally.codings, analysis.AutoCoder, corpus.CodingsDir+"/"+analysis.AutoCoder+".jsonl")
	if len(empty) > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "Rules matched nothing for: %s\n", strings.Join(empty, ", "))
	}
	return nil
}

// nodePath prints Theme > Sub-theme > Code.
func nodePath(n *codebook.Node) string {
	var names []string
	for _, m := range n.Path() {
		names = append(names, m.Name)
	}
	return strings.Join(names, " > ")
}

func autocodeExplain(opts *AutocodeOptions, p *corpus.Project, cb *codebook.Codebook, cases corpus.Cases, res *analysis.AutocodeResult) error {
	node := cb.Node(opts.Explain)
	var ms []analysis.Match
	for _, m := range res.Matches {
		if m.Code == node.ID {
			ms = append(ms, m)
		}
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, ms)
	}
	color := opts.IO.Color()
	var src *corpus.Source
	var text []rune
	for _, m := range ms {
		if src == nil || src.ID != m.Source {
			var err error
			if src, err = p.Source(m.Source, true); err != nil {
				return err
			}
			text = []rune(src.Text)
		}
		seg := findSegment(src, m.Segment)
		where := fmt.Sprintf("%s:%s L%d %s", m.Source, orDash(m.Segment), lineOf(text, m.Start), corpus.Citation(p.Config.Citation, src, corpus.CaseAttrs(src, cases)))
		if seg.Speaker != "" {
			where += " " + seg.Speaker
		}
		rule := node.Rules[m.Rule-1]
		fmt.Fprintf(opts.IO.Out, "%s  rule %d: %s\n    %s\n", style(color, ansiDim, where), m.Rule, rule.String(), highlight(text, m.Start, m.End, m.Words, color))
	}
	fmt.Fprintf(opts.IO.ErrOut, "%s: %d units coded, %d vetoed by not-rules\n", node.ID, len(ms), res.Vetoed[node.ID])
	return nil
}

// highlight prints text[start:end) with the spans marked: bold colour on a
// terminal, «guillemets» otherwise.
func highlight(text []rune, start, end int, spans []corpus.Span, color bool) string {
	sort.Slice(spans, func(i, j int) bool { return spans[i].Start < spans[j].Start })
	var b strings.Builder
	at := start
	for _, s := range spans {
		if s.Start < at || s.End > end {
			continue
		}
		b.WriteString(string(text[at:s.Start]))
		if color {
			b.WriteString(ansiMatch + string(text[s.Start:s.End]) + ansiReset)
		} else {
			b.WriteString("«" + string(text[s.Start:s.End]) + "»")
		}
		at = s.End
	}
	b.WriteString(string(text[at:end]))
	return strings.Join(strings.Fields(b.String()), " ")
}

// lineOf is the 1-based line of code point i.
func lineOf(text []rune, i int) int {
	n := 1
	for _, r := range text[:min(i, len(text))] {
		if r == '\n' {
			n++
		}
	}
	return n
}
