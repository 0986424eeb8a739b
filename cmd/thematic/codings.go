package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
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

// codingsSpan is a span of a source to place.
type codingsSpan struct {
	source     string
	start, end int
	live       bool // false: the position is stale (an orphan); only the citation and case are given
}

// codingsPlace is where a span lies.
type codingsPlace struct {
	citation, kase, speaker, segment string
	line                             int
	text                             string // with withText only
}

// codingsPlaces places spans a source at a time: the citation and case from
// the sources' metadata, the line, speaker and segment from the source's
// layout (read from the source cache, without the text), and, withText,
// the spanned text itself. Only one source's layout or text is held at a
// time. A span of a source not ingested gets its id as citation.
func codingsPlaces(p *corpus.Project, meta map[string]*corpus.Source, cases corpus.Cases, spans []codingsSpan, withText bool) ([]codingsPlace, error) {
	out := make([]codingsPlace, len(spans))
	order := make([]int, len(spans))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(spans[a].source, spans[b].source) })
	for from := 0; from < len(order); {
		id := spans[order[from]].source
		to := from + 1
		for to < len(order) && spans[order[to]].source == id {
			to++
		}
		group := order[from:to]
		from = to
		src := meta[id]
		if src == nil {
			for _, i := range group {
				out[i].citation = id
			}
			continue
		}
		citation := corpus.Citation(p.Config.Citation, src, corpus.CaseAttrs(src, cases))
		var layout *corpus.Layout
		var text *analysis.TextIndex
		release := func() {
			if layout != nil {
				layout.Release()
			}
		}
		for _, i := range group {
			sp := &spans[i]
			pl := &out[i]
			pl.citation, pl.kase = citation, src.Case
			if !sp.live {
				continue
			}
			if layout == nil {
				l, err := p.Layout(id)
				if err != nil {
					return nil, err
				}
				layout = l
				if withText {
					t, err := p.SourceText(id)
					if err != nil {
						release()
						return nil, err
					}
					text = analysis.NewTextIndex(t)
				}
			}
			pl.line = layout.Line(sp.start)
			pl.speaker, pl.segment = layout.Place(sp.start, sp.end)
			if text != nil {
				pl.text = text.Slice(sp.start, sp.end)
			}
		}
		release()
	}
	return out, nil
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
	// jsonl files when they change): the codes and sources each coder used
	// at once, and then only the codings of the codes and sources asked for.
	cc := analysis.CodingsCache{Store: analysis.Store{Dir: p.Path(corpus.CodingsDir)}}
	coders, err := cc.Store.Coders()
	if err != nil {
		return err
	}
	caches := make(map[string]*analysis.CachedCodings, len(coders))
	defer func() {
		for _, c := range caches {
			c.Close()
		}
	}()
	used := map[string]bool{}
	for _, coder := range coders {
		c, err := cc.Open(coder)
		if err != nil {
			return err
		}
		caches[coder] = c
		for code := range c.Summary().Codes {
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
	meta := make(map[string]*corpus.Source, len(infos))
	for i := range infos {
		meta[infos[i].ID] = &infos[i].Source
	}

	// Names are checked first. A --source that no source has is looked for
	// among the sources coded.
	coded := func(id string) (bool, error) {
		for _, c := range caches {
			srcs, err := c.Sources()
			if err != nil || slices.Contains(srcs, id) {
				return err == nil, err
			}
		}
		return false, nil
	}
	if err := codingsCheckNames(opts, coders, coded, meta, cases); err != nil {
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
	// Only the codes and sources the listing or the query looks at are
	// read.
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
	var keepSource func(id string) bool
	if len(opts.Sources) > 0 || len(opts.Cases) > 0 || len(attrs) > 0 {
		where := analysis.CodingFilter{Sources: opts.Sources, Cases: opts.Cases, Attrs: attrs}
		m := where.Matcher(meta, cases)
		keepSource = func(id string) bool { return m(&analysis.Coding{Source: id}) }
	}
	if !query {
		// The caches apply every filter: codes, coders, sources, cases and
		// attributes.
		return codingsStream(opts, p, cb, caches, coders, keep, keepSource, meta, cases)
	}
	var all []analysis.Coding
	for _, coder := range coders {
		if len(opts.Coders) > 0 && !slices.Contains(opts.Coders, coder) {
			continue
		}
		cs, err := caches[coder].Select(keep, keepSource)
		if err != nil {
			return err
		}
		all = append(all, cs...)
	}
	picked := f.Select(all, meta, cases)
	segs := map[string][]corpus.Segment{}
	for i := range picked {
		if _, done := segs[picked[i].Source]; done || meta[picked[i].Source] == nil {
			continue
		}
		src, err := p.Source(picked[i].Source, false)
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
		return codingsList(opts, p, cb, cs, meta, cases)
	}
	return codingsHits(opts, p, hits, meta, cases)
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
// which would otherwise quietly list nothing. coded reports whether a source
// that is not ingested has codings.
func codingsCheckNames(opts *CodingsOptions, coders []string, coded func(id string) (bool, error), srcs map[string]*corpus.Source, cases corpus.Cases) error {
	for _, c := range opts.Coders {
		if !slices.Contains(coders, c) {
			return errs.New("", 0, 0, "--coder %s: no codings by %q (coders: %s)", c, c, orDash(strings.Join(coders, ", ")))
		}
	}
	for _, s := range opts.Sources {
		if srcs[s] != nil {
			continue
		}
		if ok, err := coded(s); err != nil {
			return err
		} else if !ok {
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
func codingsList(opts *CodingsOptions, p *corpus.Project, cb *codebook.Codebook, cs []analysis.Coding, meta map[string]*corpus.Source, cases corpus.Cases) error {
	pr := newCodingsPrinter(opts, p, cb, meta, cases)
	if err := pr.batch(cs); err != nil {
		return err
	}
	return pr.finish()
}

// codingsBatch bounds the codings listed at a time (about 100 MB of them
// and their extracts): a listing of millions is read, placed and printed a
// few codes at a time.
var codingsBatch = 250_000

// codingsStream lists the codings of the codes keep accepts (all when nil)
// and of the sources keepSource accepts, by the coders asked for, reading
// them from the caches a few codes at a time in the listing's order.
func codingsStream(opts *CodingsOptions, p *corpus.Project, cb *codebook.Codebook, caches map[string]*analysis.CachedCodings, coders []string,
	keep, keepSource func(string) bool, meta map[string]*corpus.Source, cases corpus.Cases) error {
	pr := newCodingsPrinter(opts, p, cb, meta, cases)
	var picked []string
	sums := map[string]int{}
	for _, coder := range coders {
		if len(opts.Coders) > 0 && !slices.Contains(opts.Coders, coder) {
			continue
		}
		picked = append(picked, coder)
		for code, n := range caches[coder].Summary().Codes {
			if keep == nil || keep(code) {
				sums[code] += n
			}
		}
	}
	codes := make([]string, 0, len(sums))
	for code := range sums {
		codes = append(codes, code)
	}
	slices.SortFunc(codes, func(a, b string) int { return cmp.Or(cmp.Compare(pr.rank(a), pr.rank(b)), strings.Compare(a, b)) })
	for from := 0; from < len(codes); {
		to, size := from, 0
		for to < len(codes) && (to == from || size+sums[codes[to]] <= codingsBatch) {
			size += sums[codes[to]]
			to++
		}
		batch := map[string]bool{}
		for _, code := range codes[from:to] {
			batch[code] = true
		}
		from = to
		var cs []analysis.Coding
		for _, coder := range picked {
			more, err := caches[coder].Select(func(code string) bool { return batch[code] }, keepSource)
			if err != nil {
				return err
			}
			cs = append(cs, more...)
		}
		if err := pr.batch(cs); err != nil {
			return err
		}
	}
	return pr.finish()
}

// codingsPrinter prints extracts in batches, each sorted, as one listing.
type codingsPrinter struct {
	opts       *CodingsOptions
	p          *corpus.Project
	cb         *codebook.Codebook
	meta       map[string]*corpus.Source
	cases      corpus.Cases
	order      map[string]int
	w          *bufio.Writer
	enc        *json.Encoder
	buf        bytes.Buffer
	n          int    // extracts printed
	lastCode   string // of the last extract printed
	color      bool
	paths      map[string][]string
	wroteFirst bool
}

func newCodingsPrinter(opts *CodingsOptions, p *corpus.Project, cb *codebook.Codebook, meta map[string]*corpus.Source, cases corpus.Cases) *codingsPrinter {
	pr := &codingsPrinter{opts: opts, p: p, cb: cb, meta: meta, cases: cases, order: map[string]int{},
		w: bufio.NewWriterSize(opts.IO.Out, 64<<10), color: opts.IO.Color(), paths: map[string][]string{}}
	if cb != nil {
		for i, n := range cb.Codes() {
			pr.order[n.ID] = i
		}
	}
	pr.enc = json.NewEncoder(&pr.buf)
	pr.enc.SetIndent("  ", "  ")
	pr.enc.SetEscapeHTML(false)
	return pr
}

// rank is a code's place in the codebook; codes not in it come last.
func (pr *codingsPrinter) rank(code string) int {
	if i, ok := pr.order[code]; ok {
		return i
	}
	return len(pr.order)
}

// path is the names from the theme down to the code.
func (pr *codingsPrinter) path(code string) []string {
	if p, ok := pr.paths[code]; ok || pr.cb == nil {
		return p
	}
	var path []string
	if n := pr.cb.Node(code); n != nil {
		for _, m := range n.Path() {
			path = append(path, m.Name)
		}
	}
	pr.paths[code] = path
	return path
}

// batch sorts cs and prints them as extracts.
func (pr *codingsPrinter) batch(cs []analysis.Coding) error {
	slices.SortFunc(cs, func(a, b analysis.Coding) int {
		return cmp.Or(cmp.Compare(pr.rank(a.Code), pr.rank(b.Code)), strings.Compare(a.Code, b.Code),
			strings.Compare(a.Source, b.Source), cmp.Compare(a.Start, b.Start), cmp.Compare(a.End, b.End),
			strings.Compare(a.Coder, b.Coder))
	})
	spans := make([]codingsSpan, len(cs))
	for i := range cs {
		spans[i] = codingsSpan{cs[i].Source, cs[i].Start, cs[i].End, !cs[i].Orphan}
	}
	places, err := codingsPlaces(pr.p, pr.meta, pr.cases, spans, false)
	if err != nil {
		return err
	}
	for i, c := range cs {
		pl := places[i]
		segment := pl.segment
		if c.Segment != "" {
			segment = c.Segment
		}
		e := codingsExtract{
			ID: c.ID, Code: c.Code, Path: pr.path(c.Code), Source: c.Source, Segment: segment,
			Citation: pl.citation, Case: pl.kase, Speaker: pl.speaker, Line: pl.line, Start: c.Start, End: c.End,
			Quote: c.Quote, Coder: c.Coder, Origin: c.Origin, Time: c.Time, Memo: c.Memo, Orphan: c.Orphan,
		}
		if err := pr.print(&e); err != nil {
			return err
		}
	}
	return nil
}

// print writes one extract: an element of the JSON array, or its lines.
func (pr *codingsPrinter) print(e *codingsExtract) error {
	w := pr.w
	first := pr.n == 0
	pr.n++
	if pr.opts.JSON {
		// As writeJSON prints the whole array, an element at a time.
		pr.buf.Reset()
		if err := pr.enc.Encode(e); err != nil {
			return err
		}
		if first {
			w.WriteString("[\n  ")
		} else {
			w.WriteString(",\n  ")
		}
		_, err := w.Write(bytes.TrimSuffix(pr.buf.Bytes(), []byte("\n")))
		return err
	}
	if first || e.Code != pr.lastCode {
		if !first {
			fmt.Fprintln(w)
		}
		head := e.Code + "  (not in the codebook)"
		if len(e.Path) > 0 {
			head = strings.Join(e.Path, " > ") + "  [" + e.Code + "]"
		}
		fmt.Fprintln(w, style(pr.color, ansiBold, head))
	}
	pr.lastCode = e.Code
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
	fmt.Fprintf(w, "  %s\n", style(pr.color, ansiDim, strings.Join(meta, "  ")))
	for _, l := range strings.Split(e.Quote, "\n") {
		fmt.Fprintf(w, "    %s\n", l)
	}
	if e.Memo != "" {
		fmt.Fprintf(w, "    memo: %s\n", e.Memo)
	}
	return nil
}

// finish ends the listing and says how many extracts it has.
func (pr *codingsPrinter) finish() error {
	if pr.opts.JSON {
		if pr.n == 0 {
			pr.w.WriteString("[]\n")
		} else {
			pr.w.WriteString("\n]\n")
		}
	}
	if err := pr.w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(pr.opts.IO.ErrOut, "%d %s\n", pr.n, codingsPlural(pr.n, "extract", "extracts"))
	return nil
}

// codingsHits prints the places a query found.
func codingsHits(opts *CodingsOptions, p *corpus.Project, hits []analysis.QueryHit, meta map[string]*corpus.Source, cases corpus.Cases) error {
	spans := make([]codingsSpan, len(hits))
	for i, h := range hits {
		spans[i] = codingsSpan{h.Source, h.Start, h.End, true}
	}
	places, err := codingsPlaces(p, meta, cases, spans, true)
	if err != nil {
		return err
	}
	out := make([]codingsHit, 0, len(hits))
	for i, h := range hits {
		pl := places[i]
		citation, kase, speaker, segment, line, text := pl.citation, pl.kase, pl.speaker, pl.segment, pl.line, pl.text
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
	w := bufio.NewWriterSize(opts.IO.Out, 64<<10)
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
	return w.Flush()
}

func codingsPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
