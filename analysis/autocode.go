package analysis

import (
	"fmt"
	"runtime"
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
	// Attrs returns a source's attributes including its case's.
	Attrs func(src *corpus.Source) map[string]string
	// Time stamps the codings; zero means now.
	Time time.Time
	// Explain keeps the Match behind every coding (for --explain); off, only
	// the codings are kept.
	Explain bool
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
}

// compiledCode is a codebook node with rules, ready to run.
type compiledCode struct {
	node   *codebook.Node
	unit   string
	rules  []*rule
	vetoes []*rule
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
		for i, r := range n.Rules {
			if r.Kind == codebook.RuleNot && r.Not != nil {
				cr := compileRule(*r.Not, i+1, an)
				c.vetoes = append(c.vetoes, cr)
				needSurface = needSurface || cr.hasGlob()
				needWords = needWords || cr.kind == rulePhrase
				continue
			}
			cr := compileRule(r, i+1, an)
			c.rules = append(c.rules, cr)
			needSurface = needSurface || cr.hasGlob()
			needWords = needWords || cr.kind == rulePhrase
		}
		codes = append(codes, c)
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
	if opts.Time.IsZero() {
		opts.Time = time.Now().UTC().Truncate(time.Second)
	}
	codes, needSurface, needWords := compileCodebook(cb, opts.Analyzer)
	res := &AutocodeResult{Counts: map[string]int{}, Vetoed: map[string]int{}}
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
				return nil, fmt.Errorf("code %s: query rules need the search index", c.node.ID)
			}
			hits, err := opts.Query(r.query)
			if err != nil {
				return nil, fmt.Errorf("code %s, rule %d: %w", c.node.ID, r.index, err)
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
	// Sources are coded independently, on every core; their results are
	// joined in source order, so the output does not depend on scheduling.
	parts := make([]*AutocodeResult, len(srcs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < max(1, min(runtime.GOMAXPROCS(0), len(srcs))); w++ {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(srcs) {
					return
				}
				parts[i] = codeSource(srcs[i], codes, querySpans, needSurface, needWords, opts)
			}
		})
	}
	wg.Wait()
	n, nm := 0, 0
	for _, part := range parts {
		n += len(part.Codings)
		nm += len(part.Matches)
	}
	res.Codings = make([]Coding, 0, n)
	if opts.Explain {
		res.Matches = make([]Match, 0, nm)
	}
	for i, part := range parts {
		res.Codings = append(res.Codings, part.Codings...)
		res.Matches = append(res.Matches, part.Matches...)
		for k, v := range part.Counts {
			res.Counts[k] += v
		}
		for k, v := range part.Vetoed {
			res.Vetoed[k] += v
		}
		parts[i] = nil
	}
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

// codeSource applies the codes to one source and returns what it coded.
func codeSource(src *corpus.Source, codes []*compiledCode, querySpans map[*rule]map[string][]corpus.Span, needSurface, needWords bool, opts AutocodeOptions) *AutocodeResult {
	res := &AutocodeResult{Counts: map[string]int{}, Vetoed: map[string]int{}}
	attrs := src.Attrs
	if opts.Attrs != nil {
		attrs = opts.Attrs(src)
	}
	sx := newSourceIndex(src, opts.Analyzer, needSurface, needWords)
	qs := map[*rule][]corpus.Span{}
	for r, bySrc := range querySpans {
		qs[r] = bySrc[src.ID]
	}
	for _, c := range codes {
		if !inKindAttrScope(c.node, src, attrs) {
			continue
		}
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
			res.codeUnit(c, sx.unitText(seg), src, sx.ti, qs, opts)
		}
	}
	return res
}

// codeUnit evaluates one code's rules on one unit and records what fires.
func (res *AutocodeResult) codeUnit(c *compiledCode, u *unitText, src *corpus.Source, ti *TextIndex, qs map[*rule][]corpus.Span, opts AutocodeOptions) {
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
			res.Vetoed[c.node.ID]++
			return
		}
	}
	add := func(r *rule, start, end int, segID string, words []corpus.Span) {
		origin := fmt.Sprintf("rule:%s/%d", c.node.ID, r.index)
		cd, err := ti.NewCoding(src.ID, start, end, c.node.ID, AutoCoder, origin, opts.Time)
		if err != nil {
			return // spans come from the text itself; cannot fail
		}
		cd.Segment = segID
		res.Codings = append(res.Codings, cd)
		res.Counts[c.node.ID]++
		if !opts.Explain {
			return
		}
		res.Matches = append(res.Matches, Match{Code: c.node.ID, Rule: r.index, Kind: string(r.kind),
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

func inSpeakerScope(n *codebook.Node, seg corpus.Segment) bool {
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
