package analysis

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/thematic-qda/thematic/corpus"
)

// sourceIndex is what autocoding knows of one source: its analysed tokens
// with postings per term, its words as written (for phrases), and its
// segments per unit, so that rules look up where their words occur instead
// of scanning every unit.
//
// A sparse sourceIndex is made from the search index's postings: its tokens
// are only those of the rules' terms (every other token matches no rule),
// which is all that words and all rules look at.
type sourceIndex struct {
	src      *corpus.Source
	an       *corpus.Analyzer
	ti       *TextIndex
	sparse   bool
	toks     []corpus.Token
	postings map[string][]int32           // term -> token indices
	surfaces []string                     // folded surface of each token, when globs need it
	words    []word                       // words as written, when phrases need them
	wordPos  map[string][]int32           // folded word -> word indices
	byUnit   map[string][]*corpus.Segment // made on first use
	// unit is the unitText returned by unitText and analysedUnitText,
	// reused: rules read it only while they are evaluated.
	unit     unitText
	unitToks []corpus.Token // tokens of analysedUnitText
}

// newSourceIndex analyses src. Only the postings of terms are kept when
// terms is not nil (wildcards, which look at every term, need nil).
func newSourceIndex(src *corpus.Source, an *corpus.Analyzer, terms map[string]bool, needSurface, needWords bool) *sourceIndex {
	sx := &sourceIndex{src: src, an: an, ti: NewTextIndex(src.Text), byUnit: map[string][]*corpus.Segment{}}
	sx.toks = an.Tokens(src.Text)
	if terms == nil {
		sx.postings = make(map[string][]int32, len(sx.toks)/4)
	} else {
		sx.postings = make(map[string][]int32, len(terms))
	}
	for i, t := range sx.toks {
		if terms == nil || terms[t.Term] {
			sx.postings[t.Term] = append(sx.postings[t.Term], int32(i))
		}
	}
	var text []rune
	if needSurface || needWords {
		text = []rune(src.Text)
	}
	if needSurface {
		sx.surfaces = make([]string, len(sx.toks))
		for i, t := range sx.toks {
			sx.surfaces[i] = an.Fold(string(text[t.Start:t.End]))
		}
	}
	if needWords {
		sx.words = scanWords(an, text, 0, len(text))
		sx.wordPos = make(map[string][]int32, len(sx.words)/4)
		for i, w := range sx.words {
			sx.wordPos[w.fold] = append(sx.wordPos[w.fold], int32(i))
		}
	}
	return sx
}

// units returns the source's segments of one unit, in text order.
func (sx *sourceIndex) units(unit string) []*corpus.Segment {
	us, ok := sx.byUnit[unit]
	if !ok {
		segs := sx.src.Segments
		for i := range segs {
			if segs[i].Unit == unit {
				us = append(us, &segs[i])
			}
		}
		sx.byUnit[unit] = us
	}
	return us
}

// unitOf returns the index of the unit containing code point pos, or -1.
func unitOf(units []*corpus.Segment, pos int) int {
	i := sort.Search(len(units), func(i int) bool { return units[i].Start > pos }) - 1
	if i >= 0 && pos < units[i].End {
		return i
	}
	return -1
}

// unitText cuts the tokens and words of one segment.
func (sx *sourceIndex) unitText(seg *corpus.Segment) *unitText {
	u := &sx.unit
	*u = unitText{seg: *seg, ti: sx.ti}
	lo := sort.Search(len(sx.toks), func(i int) bool { return sx.toks[i].Start >= seg.Start })
	hi := sort.Search(len(sx.toks), func(i int) bool { return sx.toks[i].Start >= seg.End })
	u.toks = sx.toks[lo:hi]
	if sx.surfaces != nil {
		u.surfaces = sx.surfaces[lo:hi]
	}
	if sx.words != nil {
		wlo := sort.Search(len(sx.words), func(i int) bool { return sx.words[i].start >= seg.Start })
		whi := sort.Search(len(sx.words), func(i int) bool { return sx.words[i].start >= seg.End })
		u.words = sx.words[wlo:whi]
	}
	return u
}

// candidates returns, in order and without repeats, the indices of the
// units where one of the code's rules may match. It may over-approximate;
// the rules themselves decide.
func (sx *sourceIndex) candidates(c *compiledCode, units []*corpus.Segment, qs map[*rule][]corpus.Span) []int {
	set := map[int]bool{}
	addPos := func(pos int) {
		if i := unitOf(units, pos); i >= 0 {
			set[i] = true
		}
	}
	addTerm := func(m termMatcher) {
		if m.glob == nil {
			for _, ti := range sx.postings[m.term] {
				addPos(sx.toks[ti].Start)
			}
			return
		}
		for term, posts := range sx.postings {
			if m.termGlob.MatchString(term) {
				for _, ti := range posts {
					addPos(sx.toks[ti].Start)
				}
			}
		}
		for i, s := range sx.surfaces {
			if m.glob.MatchString(s) {
				addPos(sx.toks[i].Start)
			}
		}
	}
	for _, r := range c.rules {
		switch r.kind {
		case ruleWords, ruleNear:
			for _, m := range r.terms {
				addTerm(m)
			}
		case ruleAll:
			if len(r.terms) > 0 {
				addTerm(r.terms[0]) // every unit that has them all has the first
			}
		case rulePhrase:
			if len(r.phrase) == 0 {
				continue
			}
			first := r.phrase[0]
			if first.glob == nil {
				for _, wi := range sx.wordPos[first.term] {
					addPos(sx.words[wi].start)
				}
			} else {
				for _, w := range sx.words {
					if first.glob.MatchString(w.fold) {
						addPos(w.start)
					}
				}
			}
		case ruleRegex:
			if strings.ContainsAny(r.re.String(), "^$") || strings.Contains(r.re.String(), `\A`) || strings.Contains(r.re.String(), `\z`) {
				// Anchors mean "at the unit's edge": try every unit.
				for i := range units {
					set[i] = true
				}
				continue
			}
			for _, loc := range r.re.FindAllStringIndex(sx.src.Text, -1) {
				if loc[0] < loc[1] {
					addPos(sx.ti.cpAt(loc[0]))
				}
			}
		case ruleQuery:
			for _, sp := range qs[r] {
				addPos(sp.Start)
			}
		}
	}
	out := make([]int, 0, len(set))
	for i := range set {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// indexPostings holds the occurrences of every rule term in the search
// index, by source; a source's are taken (and dropped) when it is coded.
type indexPostings struct {
	mu       sync.Mutex
	bySource map[string][]indexHit
	terms    []string // indexHit.term indexes these
	segments []string // and indexHit.segment these
}

// indexHit is one occurrence of a term in an indexed segment: byte offsets
// into the segment's text and the word's position there.
type indexHit struct {
	term, segment   int32
	pos, start, end int32
}

// take returns the hits of a source and forgets them.
func (p *indexPostings) take(source string) []indexHit {
	p.mu.Lock()
	defer p.mu.Unlock()
	hits := p.bySource[source]
	delete(p.bySource, source)
	return hits
}

// ruleTerms lists, without repeats, the analysed terms of the words, all
// and near rules and not-rules of codes (stop words, which never match,
// left out).
func ruleTerms(codes []*compiledCode) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range codes {
		for _, r := range append(append([]*rule{}, c.rules...), c.vetoes...) {
			switch r.kind {
			case ruleWords, ruleAll, ruleNear:
				for _, m := range r.terms {
					if m.glob == nil && m.term != "" && !seen[m.term] {
						seen[m.term] = true
						out = append(out, m.term)
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// readIndexPostings reads the postings of the codes' terms, or returns nil
// when the index cannot be read (every source is then analysed: the index
// is a cache, and the codings are the same without it).
func readIndexPostings(ix PostingsIndex, codes []*compiledCode) *indexPostings {
	p := &indexPostings{bySource: map[string][]indexHit{}, terms: ruleTerms(codes)}
	termIdx := make(map[string]int32, len(p.terms))
	for i, t := range p.terms {
		termIdx[t] = int32(i)
	}
	segIdx := map[string]int32{}
	var last string
	var hits []indexHit
	err := ix.Postings(p.terms, func(po corpus.Posting) error {
		if po.Source != last {
			if last != "" {
				p.bySource[last] = hits
			}
			last = po.Source
			hits = p.bySource[last]
		}
		seg, ok := segIdx[po.Segment]
		if !ok {
			seg = int32(len(p.segments))
			p.segments = append(p.segments, po.Segment)
			segIdx[po.Segment] = seg
		}
		term, ok := termIdx[po.Term]
		if !ok {
			return fmt.Errorf("search index: a posting of %q, which was not asked for", po.Term)
		}
		hits = append(hits, indexHit{term: term, segment: seg, pos: int32(po.Pos), start: int32(po.Start), end: int32(po.End)})
		return nil
	})
	if last != "" {
		p.bySource[last] = hits
	}
	if err != nil {
		return nil
	}
	return p
}

// newPostingsSourceIndex makes a sparse sourceIndex of src from its hits,
// or returns nil when the postings cannot stand for the text of the codes'
// units: a unit holding text outside the indexed segments (other than white
// space), or a hit in a segment src does not have. The caller has checked
// that the index holds src as it is (PostingsIndex.Current).
func newPostingsSourceIndex(src *corpus.Source, posts *indexPostings, hits []indexHit, codes []*compiledCode, inScope []int, an *corpus.Analyzer) *sourceIndex {
	sx := &sourceIndex{src: src, an: an, ti: NewTextIndex(src.Text), sparse: true, byUnit: map[string][]*corpus.Segment{}}
	indexed := corpus.IndexedSegments(src)
	checked := map[string]bool{}
	for _, k := range inScope {
		unit := codes[k].unit
		if unit == UnitMatch {
			unit = corpus.UnitSentence
		}
		if !checked[unit] {
			if !sx.covered(sx.units(unit), indexed) {
				return nil
			}
			checked[unit] = true
		}
	}
	segStart := make(map[string]int, len(indexed)) // segment id -> byte offset
	for _, g := range indexed {
		segStart[g.ID] = sx.ti.byteAt(g.Start)
	}
	sx.toks = make([]corpus.Token, 0, len(hits))
	for _, h := range hits {
		b, ok := segStart[posts.segments[h.segment]]
		if !ok || h.start < 0 || h.end <= h.start || b+int(h.end) > len(src.Text) {
			return nil
		}
		sx.toks = append(sx.toks, corpus.Token{Term: posts.terms[h.term], Start: sx.ti.cpAt(b + int(h.start)), End: sx.ti.cpAt(b + int(h.end)), Pos: int(h.pos)})
	}
	slices.SortFunc(sx.toks, func(a, b corpus.Token) int { return cmp.Compare(a.Start, b.Start) })
	sx.postings = make(map[string][]int32)
	for i, t := range sx.toks {
		sx.postings[t.Term] = append(sx.postings[t.Term], int32(i))
	}
	return sx
}

// covered reports whether all the text of units (sorted, as segments of one
// unit are) other than white space lies in the indexed segments (sorted),
// so that every token in a unit is in the postings.
func (sx *sourceIndex) covered(units []*corpus.Segment, indexed []corpus.Segment) bool {
	blank := func(from, to int) bool {
		return from >= to || strings.IndexFunc(sx.ti.Slice(from, to), func(r rune) bool { return !unicode.IsSpace(r) }) < 0
	}
	k := 0
	for _, u := range units {
		for k > 0 && indexed[k-1].End > u.Start {
			k-- // units of one kind do not overlap, but be safe
		}
		for k < len(indexed) && indexed[k].End <= u.Start {
			k++
		}
		at := u.Start
		for j := k; j < len(indexed) && indexed[j].Start < u.End && at < u.End; j++ {
			if !blank(at, indexed[j].Start) {
				return false
			}
			at = max(at, indexed[j].End)
		}
		if !blank(at, u.End) {
			return false
		}
	}
	return true
}

// analysedUnitText is unitText with every token of seg, found by analysing
// the text around it from the white space before it to the white space
// after it (where words always break, so the tokens and the distances
// between their positions are those of the whole text).
func (sx *sourceIndex) analysedUnitText(seg *corpus.Segment) *unitText {
	text := sx.src.Text
	b, e := sx.ti.byteAt(seg.Start), sx.ti.byteAt(seg.End)
	for b > 0 {
		r, w := utf8.DecodeLastRuneInString(text[:b])
		if unicode.IsSpace(r) {
			if r2, _ := utf8.DecodeRuneInString(text[b:]); !unicode.In(r2, unicode.M, unicode.Cf) {
				break
			}
		}
		b -= w
	}
	for e < len(text) {
		r, w := utf8.DecodeRuneInString(text[e:])
		if unicode.IsSpace(r) {
			break
		}
		e += w
	}
	off := sx.ti.cpAt(b)
	u := &sx.unit
	*u = unitText{seg: *seg, ti: sx.ti}
	sx.unitToks = sx.unitToks[:0]
	for _, t := range sx.an.Tokens(text[b:e]) {
		t.Start += off
		t.End += off
		if t.Start >= seg.Start && t.Start < seg.End {
			sx.unitToks = append(sx.unitToks, t)
		}
	}
	u.toks = sx.unitToks
	return u
}
