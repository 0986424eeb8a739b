package main

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// CodingsOptions are the flags of 'thematic codings'.
type CodingsOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	Codes   []string // --code: alternatives, each with its descendants
	And     []string // --and: one operand per flag; commas give alternatives
	Not     []string // --not
	Unit    string   // --unit: "" (overlapping text), turn, paragraph or sentence
	Coders  []string
	Sources []string
	Cases   []string
	Attrs   []string
	JSON    bool
}

func init() { register(newCodingsCmd) }

func newCodingsCmd(g *globals) *cobra.Command {
	opts := &CodingsOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "codings",
		Short: "List coded extracts, and query where codes meet",
		Long: `List codings as extracts: the code's place in the codebook (Theme >
Sub-theme > Code), the citation, source and segment, line, speaker, the
quote, coder, origin and memo. Orphaned codings (words lost when a source
changed) are listed and marked.

Filters (each repeatable; values of one filter are alternatives, different
filters must all hold):
  --code ID        a code; a theme or sub-theme id takes in everything under it
  --coder NAME     whose codings ("auto" for the rules')
  --source ID      --case ID
  --attr KEY=VAL   an attribute of the case (cases.csv) or source; "kind" too

Code queries, for reading across themes (they need --code, the codes "A"):
  --and B          text coded at A and at B: where their codings overlap,
                   or with --unit, the segments holding both. Repeat --and
                   for more codes that must all be present; "--and B,C"
                   means B or C.
  --not B          leave out what B's codings overlap: alone, the codings of
                   A that no coding of B overlaps (with --unit: that share no
                   segment with B); with --and, the places B touches.
  --unit U         turn, paragraph or sentence: compare codes by segment
                   instead of by overlapping text.
With --and the result is a list of places (hits), each with the codes and
coders found there; --not alone lists extracts. Queries use the codings
the filters keep, so --coder alice --code A --and B finds where alice coded
both. Orphaned codings take no part in queries.`,
		Example: `  thematic codings --code belonging
  thematic codings --code welcome --coder alice --case P01
  thematic codings --code belonging --attr site=Millbrook --json
  thematic codings --code welcome --and learning
  thematic codings --code welcome --and mutual_help,sharing --unit paragraph
  thematic codings --code shared_space --not conflict --attr wave=1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runCodings(opts) },
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Codes, "code", nil, "only this code `ID` and what is under it (repeatable)")
	f.StringArrayVar(&opts.And, "and", nil, "query: code `ID` that must also be present (repeatable; B,C = either)")
	f.StringSliceVar(&opts.Not, "not", nil, "query: code `ID` that must not be present (repeatable)")
	f.StringVar(&opts.Unit, "unit", "", "query: compare by segment: turn, paragraph or sentence (default: overlapping text)")
	f.StringSliceVar(&opts.Coders, "coder", nil, "only this coder's codings (repeatable)")
	f.StringSliceVar(&opts.Sources, "source", nil, "only this source (repeatable)")
	f.StringSliceVar(&opts.Cases, "case", nil, "only this case (repeatable)")
	f.StringArrayVar(&opts.Attrs, "attr", nil, "only cases or sources with attribute `key=value` (repeatable)")
	f.BoolVar(&opts.JSON, "json", false, "print the extracts (or hits) as JSON")
	return cmd
}

// codingsExtract is one coding as listed.
type codingsExtract struct {
	ID       string    `json:"id"`
	Code     string    `json:"code"`
	Path     []string  `json:"path"` // names from the theme down to the code
	Source   string    `json:"source"`
	Segment  string    `json:"segment,omitempty"`
	Citation string    `json:"citation"`
	Case     string    `json:"case,omitempty"`
	Speaker  string    `json:"speaker,omitempty"`
	Line     int       `json:"line"`
	Start    int       `json:"start"`
	End      int       `json:"end"`
	Quote    string    `json:"quote"`
	Coder    string    `json:"coder"`
	Origin   string    `json:"origin"`
	Time     time.Time `json:"time"`
	Memo     string    `json:"memo,omitempty"`
	Orphan   bool      `json:"orphan,omitempty"`
}

// codingsHit is one place a query found.
type codingsHit struct {
	Source   string             `json:"source"`
	Segment  string             `json:"segment,omitempty"`
	Citation string             `json:"citation"`
	Case     string             `json:"case,omitempty"`
	Speaker  string             `json:"speaker,omitempty"`
	Line     int                `json:"line"`
	Start    int                `json:"start"`
	End      int                `json:"end"`
	Quote    string             `json:"quote"`
	Codes    []string           `json:"codes"`
	Codings  []codingsHitCoding `json:"codings"`
}

// codingsHitCoding is a coding found at a hit.
type codingsHitCoding struct {
	ID    string `json:"id"`
	Code  string `json:"code"`
	Coder string `json:"coder"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// codingsSources loads sources on demand, with their text and line starts.
type codingsSources struct {
	p     *corpus.Project
	meta  map[string]*corpus.Source // every ingested source, without text
	full  map[string]*corpus.Source
	runes map[string][]rune
	lines map[string][]int
	segs  map[string]*codingsSegIndex
	cases corpus.Cases
}

// codingsSegIndex finds the segments holding a position without walking
// every segment of the source: segments come parents first, so their starts
// never decrease, and maxEnd[i] (the largest end among the first i+1) says
// when no earlier segment can reach the position.
type codingsSegIndex struct {
	segs   []corpus.Segment
	sorted bool
	maxEnd []int
}

func newCodingsSegIndex(segs []corpus.Segment) *codingsSegIndex {
	x := &codingsSegIndex{segs: segs, sorted: true, maxEnd: make([]int, len(segs))}
	m := 0
	for i, g := range segs {
		if i > 0 && g.Start < segs[i-1].Start {
			x.sorted = false
		}
		m = max(m, g.End)
		x.maxEnd[i] = m
	}
	return x
}

// around returns the segments that may hold [start, end): every segment that
// does is in the returned slice, in the source's order.
func (x *codingsSegIndex) around(start int) []corpus.Segment {
	if !x.sorted {
		return x.segs
	}
	k, _ := slices.BinarySearchFunc(x.segs, start+1, func(g corpus.Segment, v int) int { return cmp.Compare(g.Start, v) })
	lo := k
	for lo > 0 && x.maxEnd[lo-1] >= start {
		lo--
	}
	return x.segs[lo:k]
}

// source returns the source with text, or nil when it is not ingested.
func (s *codingsSources) source(id string) (*corpus.Source, error) {
	if src, ok := s.full[id]; ok {
		return src, nil
	}
	if s.meta[id] == nil {
		s.full[id] = nil
		return nil, nil
	}
	src, err := s.p.Source(id, true)
	if err != nil {
		return nil, err
	}
	s.full[id] = src
	s.runes[id] = []rune(src.Text)
	s.lines[id] = codeLineStarts(s.runes[id])
	s.segs[id] = newCodingsSegIndex(src.Segments)
	return src, nil
}

// place describes where [start, end) of source id is: citation, case,
// speaker, the smallest segment holding it, line and the text itself
// (when live is false, the text is not read: the position is stale).
func (s *codingsSources) place(id string, start, end int, live bool) (citation, kase, speaker, segment string, line int, text string, err error) {
	src, err := s.source(id)
	if err != nil || src == nil {
		return id, "", "", "", 0, "", err
	}
	citation = corpus.Citation(s.p.Config.Citation, src, corpus.CaseAttrs(src, s.cases))
	if !live {
		return citation, src.Case, "", "", 0, "", nil
	}
	rs := s.runes[id]
	start, end = min(max(start, 0), len(rs)), min(max(end, 0), len(rs))
	ls := s.lines[id]
	line, _ = slices.BinarySearch(ls, start+1)
	size := -1
	for _, g := range s.segs[id].around(start) {
		if g.Start <= start && start < g.End && speaker == "" {
			speaker = g.Speaker
		}
		// On a tie the later, deeper segment wins: parents come first.
		if g.Start <= start && end <= g.End && (size < 0 || g.End-g.Start <= size) {
			segment, size = g.ID, g.End-g.Start
		}
	}
	return citation, src.Case, speaker, segment, line, string(rs[start:end]), nil
}

func runCodings(opts *CodingsOptions) error {
	query := len(opts.And) > 0 || len(opts.Not) > 0
	switch {
	case query && len(opts.Codes) == 0:
		return errs.New("", 0, 0, "--and and --not need --code: the codes to start from (e.g. --code A --and B)")
	case opts.Unit != "" && !query:
		return errs.New("", 0, 0, "--unit applies to the queries --and and --not")
	case opts.Unit != "":
		if err := checkUnit(opts.Unit); err != nil {
			return err
		}
	}
	attrs, err := codingsParseAttrs(opts.Attrs)
	if err != nil {
		return err
	}
	p, err := opts.Project()
	if err != nil {
		return err
	}
	cb, err := codingsCodebook(p)
	if err != nil {
		return err
	}
	// Codings come from the binary cache in .thematic/ (rebuilt from the
	// jsonl files when they change): the codes each coder used at once, and
	// then only the codings of the codes asked for.
	cc := analysis.CodingsCache{Store: analysis.Store{Dir: p.Path(corpus.CodingsDir)}, Dir: p.Path(corpus.CacheDir, "codings")}
	coders, err := cc.Store.Coders()
	if err != nil {
		return err
	}
	used := map[string]bool{}
	for _, coder := range coders {
		sum, err := cc.Summary(coder)
		if err != nil {
			return err
		}
		for code := range sum.Codes {
			used[code] = true
		}
	}
	infos, err := p.SourceInfos()
	if err != nil {
		return err
	}
	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		return err
	}
	sc := &codingsSources{p: p, meta: map[string]*corpus.Source{}, full: map[string]*corpus.Source{},
		runes: map[string][]rune{}, lines: map[string][]int{}, segs: map[string]*codingsSegIndex{}, cases: cases}
	for i := range infos {
		sc.meta[infos[i].ID] = &infos[i].Source
	}

	// Names are checked first. A --source that no source has is looked for
	// among every coding.
	byCoder := make(map[string][]analysis.Coding, len(coders))
	for _, coder := range coders {
		byCoder[coder] = nil
	}
	var everything []analysis.Coding
	loadedAll := false
	for _, id := range opts.Sources {
		if sc.meta[id] == nil && !loadedAll {
			for _, coder := range coders {
				cs, err := cc.Load(coder, nil)
				if err != nil {
					return err
				}
				byCoder[coder] = cs
				everything = append(everything, cs...)
			}
			loadedAll = true
		}
	}
	if err := codingsCheckNames(opts, byCoder, everything, sc.meta, cases); err != nil {
		return err
	}

	expand := func(flag string, ids []string) (analysis.CodeSet, error) {
		set, unknown := analysis.ExpandCodes(cb, ids)
		for _, id := range unknown {
			if !used[id] {
				return nil, errs.New("", 0, 0, "%s %s: no such code in %s or in the codings", flag, id, corpus.CodebookFile)
			}
		}
		return set, nil
	}
	f := analysis.CodingFilter{Coders: opts.Coders, Sources: opts.Sources, Cases: opts.Cases, Attrs: attrs}
	var codes analysis.CodeSet
	if len(opts.Codes) > 0 {
		if codes, err = expand("--code", opts.Codes); err != nil {
			return err
		}
	}
	q := analysis.CodeQuery{Codes: codes, Unit: opts.Unit}
	for _, v := range opts.And {
		set, err := expand("--and", codingsSplit(v))
		if err != nil {
			return err
		}
		q.And = append(q.And, set)
	}
	if len(opts.Not) > 0 {
		if q.Not, err = expand("--not", opts.Not); err != nil {
			return err
		}
	}
	// Only the codes the listing or the query looks at are read.
	var keep func(code string) bool
	if codes != nil {
		keep = func(code string) bool {
			if codes[code] || q.Not[code] {
				return true
			}
			for _, set := range q.And {
				if set[code] {
					return true
				}
			}
			return false
		}
	}
	var all []analysis.Coding
	for _, coder := range coders {
		if len(opts.Coders) > 0 && !slices.Contains(opts.Coders, coder) {
			continue
		}
		cs := byCoder[coder]
		if !loadedAll {
			if cs, err = cc.Load(coder, keep); err != nil {
				return err
			}
		}
		all = append(all, cs...)
	}
	if !query {
		f.Codes = codes
		return codingsList(opts, cb, f.Select(all, sc.meta, cases), sc)
	}
	picked := f.Select(all, sc.meta, cases)
	segs := map[string][]corpus.Segment{}
	for i := range picked {
		if _, done := segs[picked[i].Source]; done || sc.meta[picked[i].Source] == nil {
			continue
		}
		src, err := sc.source(picked[i].Source)
		if err != nil {
			return err
		}
		segs[src.ID] = src.Segments
	}
	hits, err := q.Run(picked, segs)
	if err != nil {
		return err
	}
	if len(q.And) == 0 {
		// A NOT B: the hits are codings of A.
		cs := make([]analysis.Coding, len(hits))
		for i, h := range hits {
			cs[i] = h.Codings[0]
		}
		return codingsList(opts, cb, cs, sc)
	}
	return codingsHits(opts, hits, sc)
}

// codingsSplit splits a flag value at commas.
func codingsSplit(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// codingsParseAttrs reads --attr key=value flags; values given for one key
// are alternatives.
func codingsParseAttrs(kvs []string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, kv := range kvs {
		m, err := parseAttrs("--attr", []string{kv})
		if err != nil {
			return nil, err
		}
		for k, v := range m {
			out[k] = append(out[k], v)
		}
	}
	return out, nil
}

// codingsCodebook loads the codebook; a project without one has an empty
// codebook.
func codingsCodebook(p *corpus.Project) (*codebook.Codebook, error) {
	path := p.Path(corpus.CodebookFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return codebook.Load(path)
}

// codingsCheckNames refuses coders, sources and cases that exist nowhere,
// which would otherwise quietly list nothing.
func codingsCheckNames(opts *CodingsOptions, byCoder map[string][]analysis.Coding, all []analysis.Coding, srcs map[string]*corpus.Source, cases corpus.Cases) error {
	for _, c := range opts.Coders {
		if _, ok := byCoder[c]; !ok {
			known := make([]string, 0, len(byCoder))
			for k := range byCoder {
				known = append(known, k)
			}
			slices.Sort(known)
			return errs.New("", 0, 0, "--coder %s: no codings by %q (coders: %s)", c, c, orDash(strings.Join(known, ", ")))
		}
	}
	for _, s := range opts.Sources {
		if srcs[s] == nil && !slices.ContainsFunc(all, func(c analysis.Coding) bool { return c.Source == s }) {
			return errs.New("", 0, 0, "--source %s: no such source (see 'thematic sources')", s)
		}
	}
	for _, k := range opts.Cases {
		_, known := cases[k]
		for _, s := range srcs {
			known = known || s.Case == k
		}
		if !known {
			return errs.New("", 0, 0, "--case %s: no source or row of %s has this case", k, corpus.CasesFile)
		}
	}
	return nil
}

// codingsList prints codings as extracts, in codebook order, then by
// source, position and coder.
func codingsList(opts *CodingsOptions, cb *codebook.Codebook, cs []analysis.Coding, sc *codingsSources) error {
	order := map[string]int{}
	if cb != nil {
		for i, n := range cb.Codes() {
			order[n.ID] = i
		}
	}
	rank := func(code string) int {
		if i, ok := order[code]; ok {
			return i
		}
		return len(order)
	}
	slices.SortFunc(cs, func(a, b analysis.Coding) int {
		return cmp.Or(cmp.Compare(rank(a.Code), rank(b.Code)), strings.Compare(a.Code, b.Code),
			strings.Compare(a.Source, b.Source), cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End),
			strings.Compare(a.Coder, b.Coder))
	})
	out := make([]codingsExtract, 0, len(cs))
	for _, c := range cs {
		citation, kase, speaker, segment, line, _, err := sc.place(c.Source, c.Start, c.End, !c.Orphan)
		if err != nil {
			return err
		}
		if c.Segment != "" {
			segment = c.Segment
		}
		var path []string
		if cb != nil {
			if n := cb.Node(c.Code); n != nil {
				for _, m := range n.Path() {
					path = append(path, m.Name)
				}
			}
		}
		out = append(out, codingsExtract{
			ID: c.ID, Code: c.Code, Path: path, Source: c.Source, Segment: segment,
			Citation: citation, Case: kase, Speaker: speaker, Line: line, Start: c.Start, End: c.End,
			Quote: c.Quote, Coder: c.Coder, Origin: c.Origin, Time: c.Time, Memo: c.Memo, Orphan: c.Orphan,
		})
	}
	fmt.Fprintf(opts.IO.ErrOut, "%d %s\n", len(out), codingsPlural(len(out), "extract", "extracts"))
	if opts.JSON {
		return writeJSON(opts.IO.Out, out)
	}
	color := opts.IO.Color()
	w := opts.IO.Out
	for i, e := range out {
		if i == 0 || e.Code != out[i-1].Code {
			if i > 0 {
				fmt.Fprintln(w)
			}
			head := e.Code + "  (not in the codebook)"
			if len(e.Path) > 0 {
				head = strings.Join(e.Path, " > ") + "  [" + e.Code + "]"
			}
			fmt.Fprintln(w, style(color, ansiBold, head))
		}
		where := e.Source
		if e.Segment != "" {
			where += ":" + e.Segment
		}
		if e.Line > 0 {
			where += fmt.Sprintf(" L%d", e.Line)
		}
		meta := []string{e.Citation, where}
		if e.Speaker != "" {
			meta = append(meta, e.Speaker)
		}
		meta = append(meta, "by "+e.Coder+" ("+e.Origin+")")
		if e.Orphan {
			meta = append(meta, "ORPHANED (its words were not found after the source changed)")
		}
		fmt.Fprintf(w, "  %s\n", style(color, ansiDim, strings.Join(meta, "  ")))
		for _, l := range strings.Split(e.Quote, "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
		if e.Memo != "" {
			fmt.Fprintf(w, "    memo: %s\n", e.Memo)
		}
	}
	return nil
}

// codingsHits prints the places a query found.
func codingsHits(opts *CodingsOptions, hits []analysis.QueryHit, sc *codingsSources) error {
	out := make([]codingsHit, 0, len(hits))
	for _, h := range hits {
		citation, kase, speaker, segment, line, text, err := sc.place(h.Source, h.Start, h.End, true)
		if err != nil {
			return err
		}
		if h.Segment != "" {
			segment = h.Segment
		}
		hit := codingsHit{Source: h.Source, Segment: segment, Citation: citation, Case: kase, Speaker: speaker,
			Line: line, Start: h.Start, End: h.End, Quote: text, Codes: []string{}}
		for _, c := range h.Codings {
			if !slices.Contains(hit.Codes, c.Code) {
				hit.Codes = append(hit.Codes, c.Code)
			}
			hit.Codings = append(hit.Codings, codingsHitCoding{ID: c.ID, Code: c.Code, Coder: c.Coder, Start: c.Start, End: c.End})
		}
		slices.Sort(hit.Codes)
		out = append(out, hit)
	}
	fmt.Fprintf(opts.IO.ErrOut, "%d %s\n", len(out), codingsPlural(len(out), "hit", "hits"))
	if opts.JSON {
		return writeJSON(opts.IO.Out, out)
	}
	color := opts.IO.Color()
	w := opts.IO.Out
	for _, h := range out {
		where := h.Source
		if h.Segment != "" {
			where += ":" + h.Segment
		}
		if h.Line > 0 {
			where += fmt.Sprintf(" L%d", h.Line)
		}
		meta := []string{h.Citation, where}
		if h.Speaker != "" {
			meta = append(meta, h.Speaker)
		}
		var coders []string
		for _, c := range h.Codings {
			if !slices.Contains(coders, c.Coder) {
				coders = append(coders, c.Coder)
			}
		}
		slices.Sort(coders)
		meta = append(meta, "codes: "+strings.Join(h.Codes, ", "), "coders: "+strings.Join(coders, ", "))
		fmt.Fprintf(w, "%s\n", style(color, ansiDim, strings.Join(meta, "  ")))
		for _, l := range strings.Split(h.Quote, "\n") {
			fmt.Fprintf(w, "    %s\n", l)
		}
	}
	return nil
}

func codingsPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
