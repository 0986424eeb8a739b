package analysis

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/thematic-qda/thematic/corpus"
)

// ruleKind names what a rule looks for; see the codebook's rule syntax.
type ruleKind string

const (
	ruleWords  ruleKind = "words"
	rulePhrase ruleKind = "phrase"
	ruleAll    ruleKind = "all"
	ruleNear   ruleKind = "near"
	ruleQuery  ruleKind = "query"
	ruleRegex  ruleKind = "regex"
)

// termMatcher matches one word of a rule against analysed tokens: a plain
// word by its analysed term (so stemming and case work as in search); a
// pattern with * or ? by the token's term, as search matches wildcards
// (boundary* also as its stem boundari*), or by the folded word as written.
type termMatcher struct {
	term     string         // analysed term; "" for a stop word, which never matches
	glob     *regexp.Regexp // wildcard on the folded surface form
	termGlob *regexp.Regexp // the same wildcard on analysed terms
}

// globRegexp compiles a folded wildcard pattern (* any letters, ? one).
func globRegexp(patterns ...string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^(?:")
	for i, p := range patterns {
		if i > 0 {
			b.WriteString("|")
		}
		for _, r := range p {
			switch r {
			case '*':
				b.WriteString(`\w*`)
			case '?':
				b.WriteString(`\w`)
			default:
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
	}
	b.WriteString(")$")
	return regexp.MustCompile(b.String())
}

func newTermMatcher(an *corpus.Analyzer, word string) termMatcher {
	if strings.ContainsAny(word, "*?") {
		return termMatcher{glob: globRegexp(an.Fold(word)), termGlob: globRegexp(an.Wildcards(word)...)}
	}
	return termMatcher{term: an.Term(word)}
}

// match reports whether token t (with its folded surface text, "" when not
// computed) matches.
func (m termMatcher) match(t corpus.Token, surface string) bool {
	if m.glob != nil {
		return m.termGlob.MatchString(t.Term) || surface != "" && m.glob.MatchString(surface)
	}
	return m.term != "" && t.Term == m.term
}

// rule is a compiled codebook rule.
type rule struct {
	kind    ruleKind
	index   int // 1-based position in the code's rule list, for origins
	terms   []termMatcher
	phrase  []termMatcher // folded words, matched against words as written
	within  int
	ordered bool
	re      *regexp.Regexp
	query   string
}

// word is one word of a text as written, folded (lower case, straight
// apostrophes, accents folded if the project says so) but neither stemmed nor
// dropped as a stop word: phrases such as "on my own" are made of stop words.
type word struct {
	fold       string
	start, end int // code points
}

// scanWords splits text into words: runs of letters, digits and marks, with
// apostrophes and hyphens inside a word kept in it.
func scanWords(an *corpus.Analyzer, text []rune, from, to int) []word {
	var out []word
	isWord := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }
	for i := from; i < to; {
		if !isWord(text[i]) {
			i++
			continue
		}
		j := i + 1
		for j < to && (isWord(text[j]) || ((text[j] == '\'' || text[j] == '’' || text[j] == '-') && j+1 < to && isWord(text[j+1]))) {
			j++
		}
		out = append(out, word{an.Fold(string(text[i:j])), i, j})
		i = j
	}
	return out
}

// compilePhrase folds a phrase's words; a word followed by * matches any ending.
func compilePhrase(an *corpus.Analyzer, s string) []termMatcher {
	rs := []rune(s)
	var out []termMatcher
	for _, w := range scanWords(an, rs, 0, len(rs)) {
		if w.end < len(rs) && strings.ContainsRune("*?", rs[w.end]) {
			// Phrases match words as written, so only the surface glob applies.
			out = append(out, termMatcher{glob: globRegexp(w.fold + "*")})
			continue
		}
		out = append(out, termMatcher{term: w.fold})
	}
	return out
}

// unitText is what rules are evaluated on: one segment's tokens and text.
type unitText struct {
	seg      corpus.Segment
	toks     []corpus.Token // tokens inside seg, positions as in the whole source
	surfaces []string       // folded surface form of each token
	ti       *TextIndex     // of the whole source text
	words    []word         // words inside seg as written, when phrase rules need them
}

// surface is token i's folded surface form, or "" when no rule needs it.
func (u *unitText) surface(i int) string {
	if u.surfaces == nil {
		return ""
	}
	return u.surfaces[i]
}

// group is one match of a rule: the spans of the words that made it.
type group []corpus.Span

// eval returns the matches of r in u, or none.
func (r *rule) eval(u *unitText, querySpans map[*rule][]corpus.Span) []group {
	switch r.kind {
	case ruleWords:
		var out []group
		for i, t := range u.toks {
			for _, m := range r.terms {
				if m.match(t, u.surface(i)) {
					out = append(out, group{{Start: t.Start, End: t.End}})
					break
				}
			}
		}
		return out
	case ruleAll:
		var spans group
		for _, m := range r.terms {
			found := false
			for i, t := range u.toks {
				if m.match(t, u.surface(i)) {
					spans = append(spans, corpus.Span{Start: t.Start, End: t.End})
					found = true
				}
			}
			if !found {
				return nil
			}
		}
		sortSpans(spans)
		return []group{spans}
	case rulePhrase:
		return r.evalPhrase(u)
	case ruleNear:
		return r.evalNear(u)
	case ruleRegex:
		s := u.ti.Slice(u.seg.Start, u.seg.End)
		var out []group
		for _, loc := range r.re.FindAllStringIndex(s, -1) {
			if loc[0] == loc[1] {
				continue
			}
			start := u.seg.Start + utf8.RuneCountInString(s[:loc[0]])
			end := start + utf8.RuneCountInString(s[loc[0]:loc[1]])
			out = append(out, group{{Start: start, End: end}})
		}
		return out
	case ruleQuery:
		var out []group
		for _, sp := range querySpans[r] {
			if sp.Start >= u.seg.Start && sp.End <= u.seg.End {
				out = append(out, group{sp})
			}
		}
		return out
	}
	return nil
}

func (r *rule) evalPhrase(u *unitText) []group {
	if len(r.phrase) == 0 {
		return nil
	}
	var out []group
	for i := 0; i+len(r.phrase) <= len(u.words); i++ {
		ok := true
		for k, m := range r.phrase {
			w := u.words[i+k].fold
			if m.glob != nil && !m.glob.MatchString(w) || m.glob == nil && w != m.term {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, group{{Start: u.words[i].start, End: u.words[i+len(r.phrase)-1].end}})
		}
	}
	return out
}

// evalNear finds windows in which every term occurs within r.within word
// positions of each other (in the given order when r.ordered).
func (r *rule) evalNear(u *unitText) []group {
	type occ struct{ pos, term, tok int }
	var occs []occ
	for i, t := range u.toks {
		for k, m := range r.terms {
			if m.match(t, u.surface(i)) {
				occs = append(occs, occ{t.Pos, k, i})
			}
		}
	}
	var out []group
	lastEnd := -1
	for a := range occs {
		if occs[a].term != 0 && r.ordered {
			continue
		}
		// Grow a window from occs[a] within the distance, taking the first
		// occurrence of each missing term (in order when ordered).
		seen := make([]int, len(r.terms))
		for k := range seen {
			seen[k] = -1
		}
		seen[occs[a].term] = a
		need, next := len(r.terms)-1, 1
		for b := a + 1; b < len(occs) && need > 0 && occs[b].pos-occs[a].pos <= r.within; b++ {
			k := occs[b].term
			if seen[k] >= 0 || (r.ordered && k != next) {
				continue
			}
			seen[k] = b
			need--
			next++
		}
		if need > 0 || occs[a].tok <= lastEnd {
			continue
		}
		var g group
		maxTok := 0
		for _, b := range seen {
			t := u.toks[occs[b].tok]
			g = append(g, corpus.Span{Start: t.Start, End: t.End})
			if occs[b].tok > maxTok {
				maxTok = occs[b].tok
			}
		}
		sortSpans(g)
		lastEnd = maxTok
		out = append(out, g)
	}
	return out
}

func sortSpans(s []corpus.Span) {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Start != s[j].Start {
			return s[i].Start < s[j].Start
		}
		return s[i].End < s[j].End
	})
}
