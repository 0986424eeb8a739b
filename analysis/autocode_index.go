package analysis

import (
	"sort"
	"strings"

	"github.com/thematic-qda/thematic/corpus"
)

// sourceIndex is what autocoding knows of one source: its analysed tokens
// with postings per term, its words as written (for phrases), and its
// segments per unit, so that rules look up where their words occur instead
// of scanning every unit.
type sourceIndex struct {
	src      *corpus.Source
	text     []rune
	ti       *TextIndex
	toks     []corpus.Token
	postings map[string][]int32 // term -> token indices
	surfaces []string           // folded surface of each token, when globs need it
	words    []word             // words as written, when phrases need them
	wordPos  map[string][]int32 // folded word -> word indices
	byUnit   map[string][]corpus.Segment
}

func newSourceIndex(src *corpus.Source, an *corpus.Analyzer, needSurface, needWords bool) *sourceIndex {
	sx := &sourceIndex{src: src, text: []rune(src.Text), ti: NewTextIndex(src.Text), byUnit: map[string][]corpus.Segment{}}
	sx.toks = an.Tokens(src.Text)
	sx.postings = make(map[string][]int32, len(sx.toks)/4)
	for i, t := range sx.toks {
		sx.postings[t.Term] = append(sx.postings[t.Term], int32(i))
	}
	if needSurface {
		sx.surfaces = make([]string, len(sx.toks))
		for i, t := range sx.toks {
			sx.surfaces[i] = an.Fold(string(sx.text[t.Start:t.End]))
		}
	}
	if needWords {
		sx.words = scanWords(an, sx.text, 0, len(sx.text))
		sx.wordPos = make(map[string][]int32, len(sx.words)/4)
		for i, w := range sx.words {
			sx.wordPos[w.fold] = append(sx.wordPos[w.fold], int32(i))
		}
	}
	for _, seg := range src.Segments {
		sx.byUnit[seg.Unit] = append(sx.byUnit[seg.Unit], seg)
	}
	return sx
}

// units returns the source's segments of one unit, in text order.
func (sx *sourceIndex) units(unit string) []corpus.Segment { return sx.byUnit[unit] }

// unitOf returns the index of the unit containing code point pos, or -1.
func unitOf(units []corpus.Segment, pos int) int {
	i := sort.Search(len(units), func(i int) bool { return units[i].Start > pos }) - 1
	if i >= 0 && pos < units[i].End {
		return i
	}
	return -1
}

// unitText cuts the tokens and words of one segment.
func (sx *sourceIndex) unitText(seg corpus.Segment) *unitText {
	u := &unitText{seg: seg, text: sx.text}
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
func (sx *sourceIndex) candidates(c *compiledCode, units []corpus.Segment, qs map[*rule][]corpus.Span) []int {
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
