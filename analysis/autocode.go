package analysis

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
)

// AutoCoder is the coder name under which rule-made codings are stored.
const AutoCoder = "auto"

// UnitMatch codes the matched words themselves rather than a segment.
const UnitMatch = "match"

// AutocodeOptions configure Autocode.
type AutocodeOptions struct {
	// Analyzer analyses rule words exactly as the index analyses text.
	Analyzer *corpus.Analyzer
	// Query runs a bleve query string over the index and returns every hit;
	// needed only when the codebook has query rules.
	Query func(q string) ([]corpus.Hit, error)
	// Index, when set, is the project's search index. The words of words,
	// all and near rules are then looked up in its postings rather than
	// found by analysing every source, and only the units they fall in are
	// read again; sources the index does not hold as they are now (see
	// PostingsIndex.Current), and codebooks with wildcards or phrases (which
	// match words as written, not as indexed), are analysed as without an
	// index. The codings are the same either way.
	Index PostingsIndex
	// Attrs returns a source's attributes including its case's.
	Attrs func(src *corpus.Source) map[string]string
	// Time stamps the codings; zero means now.
	Time time.Time
	// Explain keeps the Match behind every coding (for --explain); off, only
	// the codings are kept.
	Explain bool
	// Progress, when not nil, is called after each source is coded, in
	// order, with the sources coded and their number.
	Progress func(done, total int)
}

// Match is one coded unit and why: the rule that fired first and the words
// that made every firing rule match, kept when AutocodeOptions.Explain is set.
type Match struct {
	Code    string        `json:"code"`
	Rule    int           `json:"rule"` // 1-based index in the code's rules
	Kind    string        `json:"rule_kind"`
	Source  string        `json:"source"`
	Segment string        `json:"segment,omitempty"`
	Start   int           `json:"start"`
	End     int           `json:"end"`
	Words   []corpus.Span `json:"words"`
}

// AutocodeResult holds the codings made and the matches behind them.
type AutocodeResult struct {
	Codings []Coding
	Matches []Match
	// Counts is the number of codings per code id, for every code with rules
	// (zero for those whose rules matched nothing).
	Counts map[string]int
	// Vetoed counts units a not-rule kept from being coded, per code.
	Vetoed map[string]int
	// FromIndex is the number of sources coded from the index's postings;
	// the others were analysed in full.
	FromIndex int
}

// PostingsIndex is what autocoding reads of a search index; *corpus.Index
// has both methods.
type PostingsIndex interface {
	// Postings calls fn with every occurrence of the analysed terms.
	Postings(terms []string, fn func(corpus.Posting) error) error
	// Current reports whether the postings of src are the tokens the
	// analyser finds in its text now.
	Current(src *corpus.Source) bool
}

// compiledCode is a codebook node with rules, ready to run.
type compiledCode struct {
	node   *codebook.Node
	unit   string
	rules  []*rule
	vetoes []*rule
	// near is set when a rule or not-rule is a near rule, which counts word
	// positions: from postings, its units are analysed again to count them.
	near bool
	// rank is the code's place in the order of code ids; origins[i] is the
	// origin of a coding made by rule i+1.
	rank    int
	origins []string
}

func compileCodebook(cb *codebook.Codebook, an *corpus.Analyzer) (codes []*compiledCode, needSurface, needWords bool) {
	for _, n := range cb.Codes() {
		if len(n.Rules) == 0 {
			continue
		}
		c := &compiledCode{node: n, unit: n.Unit}
		if c.unit == "" {
			c.unit = corpus.UnitSentence
		}
		for i := range n.Rules {
			c.origins = append(c.origins, fmt.Sprintf("rule:%s/%d", n.ID, i+1))
		}
		for i, r := range n.Rules {
			var cr *rule
			if r.Kind == codebook.RuleNot && r.Not != nil {
				cr = compileRule(*r.Not, i+1, an)
				c.vetoes = append(c.vetoes, cr)
			} else {
				cr = compileRule(r, i+1, an)
				c.rules = append(c.rules, cr)
			}
			needSurface = needSurface || cr.hasGlob()
			needWords = needWords || cr.kind == rulePhrase
			c.near = c.near || cr.kind == ruleNear
		}
		codes = append(codes, c)
	}
	byID := make([]*compiledCode, len(codes))
	copy(byID, codes)
	sort.SliceStable(byID, func(i, j int) bool { return byID[i].node.ID < byID[j].node.ID })
	for k, c := range byID {
		c.rank = k
	}
	return codes, needSurface, needWords
}

func compileRule(r codebook.Rule, index int, an *corpus.Analyzer) *rule {
	cr := &rule{kind: ruleKind(r.Kind), index: index, within: r.Within, ordered: r.Ordered, re: r.Regex, query: r.Query}
	for _, w := range r.Words {
		cr.terms = append(cr.terms, newTermMatcher(an, w))
	}
	if r.Kind == codebook.RulePhrase {
		cr.phrase = compilePhrase(an, r.Phrase)
	}
	return cr
}

func (r *rule) hasGlob() bool {
	for _, t := range r.terms {
		if t.glob != nil {
			return true
		}
	}
	return false
}

// Autocode applies the codebook's rules to the sources and returns the
// codings of coder "auto". A unit (the code's unit segment) is coded when any
// of its rules matches inside it and none of its not-rules does; with unit
// "match" the matched words themselves are coded. Scopes (kinds, speakers or
// roles, attributes) limit where a code's rules look.
func Autocode(cb *codebook.Codebook, srcs []*corpus.Source, opts AutocodeOptions) (*AutocodeResult, error) {
	return AutocodeSources(cb, len(srcs), func(i int) (*corpus.Source, error) { return srcs[i], nil }, opts)
}

// startAutocode compiles the codebook, runs its query rules and starts
// reading the postings of its words (ready is closed when run.posts is
// set).
func startAutocode(cb *codebook.Codebook, opts AutocodeOptions) (run *autocodeRun, res *AutocodeResult, ready chan struct{}, err error) {
	if opts.Time.IsZero() {
		opts.Time = time.Now().UTC().Truncate(time.Second)
	}
	codes, needSurface, needWords := compileCodebook(cb, opts.Analyzer)
	res = &AutocodeResult{Counts: map[string]int{}, Vetoed: map[string]int{}}
	for _, c := range codes {
		res.Counts[c.node.ID] = 0
	}
	// Query rules run once each over the index.
	querySpans := map[*rule]map[string][]corpus.Span{}
	for _, c := range codes {
		for _, r := range append(append([]*rule{}, c.rules...), c.vetoes...) {
			if r.kind != ruleQuery {
				continue
			}
			if opts.Query == nil {
				return nil, nil, nil, fmt.Errorf("code %s: query rules need the search index", c.node.ID)
			}
			hits, err := opts.Query(r.query)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("code %s, rule %d: %w", c.node.ID, r.index, err)
			}
			bySrc := map[string][]corpus.Span{}
			for _, h := range hits {
				spans := h.Matches
				if len(spans) == 0 {
					spans = []corpus.Span{{Start: h.SegStart, End: h.SegEnd}}
				}
				bySrc[h.Source] = append(bySrc[h.Source], spans...)
			}
			querySpans[r] = bySrc
		}
	}
	run = &autocodeRun{codes: codes, querySpans: querySpans, needSurface: needSurface, needWords: needWords, opts: opts}
	if !needSurface {
		run.terms = map[string]bool{}
		for _, t := range ruleTerms(codes) {
			run.terms[t] = true
		}
	}
	// The rules' words are looked up once in the index, while the first
	// sources are read. Wildcards and phrases match words as written
	// (folded, not stemmed), which the index does not hold: with them,
	// every source is analysed.
	ready = make(chan struct{})
	if opts.Index != nil && !needSurface && !needWords {
		go func() {
			run.posts = readIndexPostings(opts.Index, codes)
			close(ready)
		}()
	} else {
		close(ready)
	}
	return run, res, ready, nil
}

// AutocodeSources is Autocode over n sources read one at a time with
// source(i), 0 <= i < n, so that only the sources being coded are in memory
// (each with its text and segments) rather than the whole corpus. Sources
// are read and coded on every core; the result lists them in order of i.
// The first error of source, in order of i, is returned.
func AutocodeSources(cb *codebook.Codebook, n int, source func(i int) (*corpus.Source, error), opts AutocodeOptions) (*AutocodeResult, error) {
	var codings []Coding
	var matches []Match
	res, err := autocodeInOrder(cb, n, source, opts, func(batch []Coding, ms []Match) error {
		codings = append(codings, batch...)
		matches = append(matches, ms...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Codings, res.Matches = codings, matches
	sort.SliceStable(res.Matches, func(i, j int) bool {
		a, b := res.Matches[i], res.Matches[j]
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		return a.Code < b.Code
	})
	return res, nil
}

// AutocodeEach is AutocodeSources giving the codings to emit a source at a
// time, in order of i (each batch in canonical order), rather than in the
// result, whose Codings stay empty: with Store.SaveSorted, the codings of a
// large project are written as they are made and never all held. Sources
// are read and coded on every core, a few ahead of the one being emitted.
// Explain is not supported here (see AutocodeSources). The first error of
// source or emit stops the work and is returned.
func AutocodeEach(cb *codebook.Codebook, n int, source func(i int) (*corpus.Source, error), opts AutocodeOptions, emit func(batch []Coding) error) (*AutocodeResult, error) {
	if opts.Explain {
		return nil, fmt.Errorf("autocode: AutocodeEach cannot explain; use AutocodeSources")
	}
	return autocodeInOrder(cb, n, source, opts, func(batch []Coding, _ []Match) error { return emit(batch) })
}

// autocodeInOrder codes the sources on every core, a few ahead of the one
// handed to emit, and gives emit each source's codings (and, with Explain,
// the matches behind them) in order of i, so that nothing depends on
// scheduling. The first error of source or emit, in that order, stops the
// work and is returned.
func autocodeInOrder(cb *codebook.Codebook, n int, source func(i int) (*corpus.Source, error), opts AutocodeOptions, emit func(batch []Coding, matches []Match) error) (*AutocodeResult, error) {
	run, res, ready, err := startAutocode(cb, opts)
	if err != nil {
		return nil, err
	}
	codes := run.codes
	workers := max(1, min(runtime.GOMAXPROCS(0), n))
	type coded struct {
		part  *sourceResult
		batch []Coding
		err   error
	}
	out := make([]coded, n)
	done := make([]chan struct{}, n)
	for i := range done {
		done[i] = make(chan struct{})
	}
	// slots bounds the sources taken but not yet emitted; stop ends the
	// workers early when the emitter gives up.
	slots := make(chan struct{}, 4*workers)
	stop := make(chan struct{})
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			segIDs := map[string]string{} // interned segment ids
			for {
				select {
				case <-stop:
					return
				default:
				}
				select {
				case slots <- struct{}{}:
				case <-stop:
					return
				}
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				src, err := source(i)
				if err == nil {
					<-ready
					part := run.codeSource(src, segIDs)
					batch := make([]Coding, len(part.recs))
					part.codings(batch, codes, run.opts.Time)
					part.recs = nil
					out[i] = coded{part: part, batch: batch}
				} else {
					out[i] = coded{err: err}
				}
				close(done[i])
			}
		})
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	for i := 0; i < n; i++ {
		<-done[i]
		o := out[i]
		out[i] = coded{}
		if o.err != nil {
			return nil, o.err
		}
		for k, v := range o.part.counts {
			res.Counts[codes[k].node.ID] += v
		}
		for k, v := range o.part.vetoed {
			res.Vetoed[codes[k].node.ID] += v
		}
		res.FromIndex += o.part.fromIndex
		if len(o.batch) > 0 || len(o.part.matches) > 0 {
			if err := emit(o.batch, o.part.matches); err != nil {
				return nil, err
			}
		}
		if opts.Progress != nil {
			opts.Progress(i+1, n)
		}
		<-slots
	}
	return res, nil
}

// autocodeRun is what coding every source shares.
type autocodeRun struct {
	codes       []*compiledCode
	querySpans  map[*rule]map[string][]corpus.Span
	posts       *indexPostings  // nil: analyse every source
	terms       map[string]bool // the terms of the rules; nil with wildcards
	needSurface bool
	needWords   bool
	opts        AutocodeOptions
}

// sourceResult is what coding one source made: compact records of its
// codings, whose quotes and contexts are copied out of the source's text
// (so that the text can go), and counts per code (by index in codes).
type sourceResult struct {
	source    string
	text      string // the spans of the source's text the codings quote, with their context
	recs      []codingRec
	matches   []Match
	counts    map[int]int
	vetoed    map[int]int
	fromIndex int
}

// codingRec is a coding of one source: its span in code points, its quote
// and context as byte offsets in sourceResult.text (prefix [ps,s), quote
// [s,e), suffix [e,se)), its code (index in codes) and rule (1-based).
type codingRec struct {
	start, end   int32
	ps, s, e, se int32
	code, rule   int32
	segment      string
}

// finish sorts the records canonically (by start, end and code id) and
// copies the text they quote out of the source's text, and their segment ids
// into segIDs (where they may share one string with the source's others).
func (sr *sourceResult) finish(ti *TextIndex, codes []*compiledCode, segIDs map[string]string) {
	for i := range sr.recs {
		r := &sr.recs[i]
		if r.segment == "" {
			continue
		}
		id, ok := segIDs[r.segment]
		if !ok {
			id = strings.Clone(r.segment)
			segIDs[id] = id
		}
		r.segment = id
	}
	slices.SortStableFunc(sr.recs, func(a, b codingRec) int {
		if c := cmp.Compare(a.start, b.start); c != 0 {
			return c
		}
		if c := cmp.Compare(a.end, b.end); c != 0 {
			return c
		}
		return cmp.Compare(codes[a.code].rank, codes[b.code].rank)
	})
	// Byte offsets in the text first, and the length of the runs of text
	// they cover, so that the copy is made at its size.
	size, covered := 0, -1
	for i := range sr.recs {
		r := &sr.recs[i]
		ps, se := ti.byteAt(max(int(r.start)-contextLen, 0)), ti.byteAt(min(int(r.end)+contextLen, ti.Len()))
		r.ps, r.s, r.e, r.se = int32(ps), int32(ti.byteAt(int(r.start))), int32(ti.byteAt(int(r.end))), int32(se)
		if ps >= covered {
			size += se - ps
			covered = se
		} else if se > covered {
			size += se - covered
			covered = se
		}
	}
	var buf strings.Builder
	buf.Grow(size)
	delta := 0 // text offset - copy offset in the current run
	covered = -1
	for i := range sr.recs {
		r := &sr.recs[i]
		ps, se := int(r.ps), int(r.se)
		switch {
		case ps >= covered:
			delta = ps - buf.Len()
			buf.WriteString(ti.text[ps:se])
			covered = se
		case se > covered:
			buf.WriteString(ti.text[covered:se])
			covered = se
		}
		d := int32(delta)
		r.ps, r.s, r.e, r.se = r.ps-d, r.s-d, r.e-d, r.se-d
	}
	sr.text = buf.String()
}

// codings fills out with the source's codings, as NewCoding makes them.
func (sr *sourceResult) codings(out []Coding, codes []*compiledCode, t time.Time) {
	t = t.UTC().Truncate(time.Second)
	for i := range sr.recs {
		r := &sr.recs[i]
		code := codes[r.code]
		c := &out[i]
		c.ID = CodingID(sr.source, int(r.start), int(r.end), code.node.ID, AutoCoder)
		c.Source = sr.source
		c.Start, c.End = int(r.start), int(r.end)
		c.Quote, c.Prefix, c.Suffix = sr.text[r.s:r.e], sr.text[r.ps:r.s], sr.text[r.e:r.se]
		c.Code, c.Coder, c.Origin = code.node.ID, AutoCoder, code.origins[r.rule-1]
		c.Segment = r.segment
		c.Time = t
	}
}

// codeSource applies the codes to one source and returns what it coded.
func (run *autocodeRun) codeSource(src *corpus.Source, segIDs map[string]string) *sourceResult {
	codes, opts := run.codes, run.opts
	res := &sourceResult{source: src.ID, counts: map[int]int{}, vetoed: map[int]int{}}
	attrs := src.Attrs
	if opts.Attrs != nil {
		attrs = opts.Attrs(src)
	}
	var inScope []int
	for k, c := range codes {
		if inKindAttrScope(c.node, src, attrs) {
			inScope = append(inScope, k)
		}
	}
	if len(inScope) == 0 {
		return res
	}
	var sx *sourceIndex
	if run.posts != nil {
		hits := run.posts.take(src.ID)
		if opts.Index.Current(src) {
			sx = newPostingsSourceIndex(src, run.posts, hits, codes, inScope, opts.Analyzer)
		}
	}
	if sx != nil {
		res.fromIndex = 1
	} else {
		sx = newSourceIndex(src, opts.Analyzer, run.terms, run.needSurface, run.needWords)
	}
	qs := map[*rule][]corpus.Span{}
	for r, bySrc := range run.querySpans {
		qs[r] = bySrc[src.ID]
	}
	for _, k := range inScope {
		c := codes[k]
		unit := c.unit
		if unit == UnitMatch {
			unit = corpus.UnitSentence
		}
		units := sx.units(unit)
		// Only units where some rule can match are evaluated: the
		// candidates come from the source's postings, so the work grows
		// with the matches, not with codes x units.
		for _, ui := range sx.candidates(c, units, qs) {
			seg := units[ui]
			if !inSpeakerScope(c.node, seg) {
				continue
			}
			var u *unitText
			if sx.sparse && c.near {
				u = sx.analysedUnitText(seg)
			} else {
				u = sx.unitText(seg)
			}
			res.codeUnit(k, c, u, src, sx.ti, qs, opts)
		}
	}
	res.finish(sx.ti, codes, segIDs)
	return res
}

// codeUnit evaluates one code's rules on one unit and records what fires.
func (res *sourceResult) codeUnit(k int, c *compiledCode, u *unitText, src *corpus.Source, ti *TextIndex, qs map[*rule][]corpus.Span, opts AutocodeOptions) {
	type firing struct {
		r      *rule
		groups []group
	}
	var fired []firing
	for _, r := range c.rules {
		if g := r.eval(u, qs); len(g) > 0 {
			fired = append(fired, firing{r, g})
		}
	}
	if len(fired) == 0 {
		return
	}
	for _, v := range c.vetoes {
		if len(v.eval(u, qs)) > 0 {
			res.vetoed[k]++
			return
		}
	}
	add := func(r *rule, start, end int, segID string, words []corpus.Span) {
		if start < 0 || end <= start || end > ti.Len() {
			return // spans come from the text itself; cannot happen
		}
		res.recs = append(res.recs, codingRec{start: int32(start), end: int32(end), code: int32(k), rule: int32(r.index), segment: segID})
		res.counts[k]++
		if !opts.Explain {
			return
		}
		res.matches = append(res.matches, Match{Code: c.node.ID, Rule: r.index, Kind: string(r.kind),
			Source: src.ID, Segment: segID, Start: start, End: end, Words: words})
	}
	if c.unit != UnitMatch {
		// One coding of the unit, credited to the first rule that fired,
		// with the words of every rule that fired.
		var words []corpus.Span
		for _, f := range fired {
			for _, g := range f.groups {
				words = append(words, g...)
			}
		}
		sortSpans(words)
		add(fired[0].r, u.seg.Start, u.seg.End, u.seg.ID, words)
		return
	}
	// Unit "match": every match of every rule is a coding of its own words.
	seen := map[corpus.Span]bool{}
	for _, f := range fired {
		for _, g := range f.groups {
			span := corpus.Span{Start: g[0].Start, End: g[len(g)-1].End}
			if !seen[span] {
				seen[span] = true
				add(f.r, span.Start, span.End, "", g)
			}
		}
	}
}

func inKindAttrScope(n *codebook.Node, src *corpus.Source, attrs map[string]string) bool {
	if len(n.Kinds) > 0 && !containsFold(n.Kinds, src.Kind) {
		return false
	}
	for k, vals := range n.Attrs {
		if !containsFold(vals, attrs[k]) {
			return false
		}
	}
	return true
}

func inSpeakerScope(n *codebook.Node, seg *corpus.Segment) bool {
	if len(n.Speakers) == 0 {
		return true
	}
	return containsFold(n.Speakers, seg.Role) || (seg.Speaker != "" && containsFold(n.Speakers, seg.Speaker))
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
