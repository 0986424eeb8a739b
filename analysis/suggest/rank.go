package suggest

import (
	"cmp"
	"slices"
	"strings"
	"unicode"

	"github.com/jdkato/prose/v3/ner"
)

// rank scores the candidates and picks the key phrases and in-vivo
// expressions, with their labels and extracts.
func (e *engine) rank() (phrases, inVivo []Suggestion) {
	if len(e.caseNames) == 0 || e.nWords == 0 {
		return []Suggestion{}, []Suggestion{}
	}
	nCases := float64(len(e.caseNames))
	n := float64(e.nWords)
	var ph, iv []*cand
	for _, c := range e.cands {
		spread := float64(c.cases) / nCases
		switch {
		case 2*c.np >= c.count:
			c.kind = KindPhrase
			if e.refTotal > 0 {
				c.keyness = Keyness(float64(c.count), c.ref, n, e.refTotal)
			} else {
				c.keyness = float64(c.count) // nothing to compare with
			}
			if c.keyness > 0 {
				ph = append(ph, c)
			}
		case c.n >= 2:
			c.kind = KindInVivo
			exp := n
			for _, s := range c.content() {
				exp *= float64(e.stemCount[s]) / n
			}
			c.keyness = PoissonG2(float64(c.count), exp)
			if c.keyness > 0 {
				iv = append(iv, c)
			}
		default:
			continue
		}
		c.score = c.keyness * spread
	}
	byScore := func(a, b *cand) int {
		return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(b.count, a.count), cmp.Compare(e.key(a), e.key(b)))
	}
	slices.SortFunc(ph, byScore)
	slices.SortFunc(iv, byScore)

	// Variants of a chosen phrase (sharing its head word, or holding it as
	// their own head) join it instead of taking a place of their own.
	related := func(a, b *cand) bool {
		return e.hasStem(a, b.st[b.n-1]) || e.hasStem(b, a.st[a.n-1])
	}
	pg := e.group(ph, related)
	// In-vivo expressions whose words are all in a chosen one (or that hold
	// all of its words) join it.
	contains := func(a, b *cand) bool { return e.subset(a, b) || e.subset(b, a) }
	ig := e.group(iv, contains)
	e.describe(append(slices.Clone(pg), ig...))
	return e.suggestions(pg), e.suggestions(ig)
}

// key is a candidate's stems, for stable ordering.
func (e *engine) key(c *cand) string {
	parts := make([]string, c.n)
	for i, s := range c.content() {
		parts[i] = e.v.stems[s]
	}
	return strings.Join(parts, " ")
}

func (e *engine) hasStem(c *cand, s uint32) bool {
	return !e.v.stop[s] && slices.Contains(c.content(), s)
}

// subset reports whether the content words of a are all in b.
func (e *engine) subset(a, b *cand) bool {
	for _, s := range a.content() {
		if !e.v.stop[s] && !slices.Contains(b.content(), s) {
			return false
		}
	}
	return true
}

// group is a chosen candidate with the variants that joined it.
type group struct {
	main    *cand
	members []*cand
	label   string
	labels  map[*cand]string
	units   []int32 // extracts
	srcs    []int32 // sources using the main candidate, in order
}

// group picks up to Top candidates in order, attaching each later one that
// is related to a chosen one (or to one already attached to it) to it. It looks a little past the last place
// filled so that variants of the last ones still join them.
func (e *engine) group(cs []*cand, related func(a, b *cand) bool) []*group {
	var gs []*group
	for i, c := range cs {
		if len(gs) == e.opts.Top && i > 4*e.opts.Top {
			break
		}
		joined := false
		for _, g := range gs {
			if related(g.main, c) || slices.ContainsFunc(g.members, func(m *cand) bool { return related(m, c) }) {
				if len(g.members) < maxWords-1 {
					g.members = append(g.members, c)
				}
				joined = true
				break
			}
		}
		if !joined && len(gs) < e.opts.Top {
			gs = append(gs, &group{main: c})
		}
	}
	return gs
}

// describe finds each group's labels (the commonest spelling of each
// candidate) and its extracts: the first sentence of each case using the
// main candidate, then further sentences, up to Extracts.
func (e *engine) describe(gs []*group) {
	type want struct {
		g     *group
		c     *cand
		forms map[string]int
		cases map[int32]bool
		extra []int32
	}
	wants := map[uint64]*want{}
	for _, g := range gs {
		g.labels = map[*cand]string{}
		for _, c := range append([]*cand{g.main}, g.members...) {
			wants[c.h] = &want{g: g, c: c, forms: map[string]int{}, cases: map[int32]bool{}}
		}
	}
	var words []string
	for ui, u := range e.units {
		e.unitTokens(ui)
		for i := range e.toks {
			for n := 1; n <= maxN && i+n <= len(e.toks); n++ {
				if !e.run(i, n) {
					break
				}
				w, ok := wants[e.hash(i, n)]
				if !ok || w.c.n != n {
					continue
				}
				words = words[:0]
				for k := i; k < i+n; k++ {
					words = append(words, e.v.surf[e.toks[k]])
				}
				w.forms[strings.Join(words, " ")]++
				if w.c != w.g.main {
					continue
				}
				if k := len(w.g.srcs); k == 0 || w.g.srcs[k-1] != u.src {
					w.g.srcs = append(w.g.srcs, u.src)
				}
				switch {
				case !w.cases[u.cas] && len(w.cases) < e.opts.Extracts:
					w.cases[u.cas] = true
					w.g.units = append(w.g.units, int32(ui))
				case len(w.extra) < e.opts.Extracts:
					w.extra = append(w.extra, int32(ui))
				}
			}
		}
	}
	// wants is a map; go through the groups in order
	for _, g := range gs {
		for _, c := range append([]*cand{g.main}, g.members...) {
			w := wants[c.h]
			g.labels[c] = commonest(w.forms)
			if c == g.main {
				for _, ui := range w.extra {
					if len(g.units) >= e.opts.Extracts {
						break
					}
					if !slices.Contains(g.units, ui) {
						g.units = append(g.units, ui)
					}
				}
			}
		}
		g.label = g.labels[g.main]
	}
}

// commonest returns the most frequent key, the smallest of equals.
func commonest(m map[string]int) string {
	best, bn := "", -1
	for k, n := range m {
		if n > bn || (n == bn && k < best) {
			best, bn = k, n
		}
	}
	return best
}

func (e *engine) suggestions(gs []*group) []Suggestion {
	out := make([]Suggestion, 0, len(gs))
	for _, g := range gs {
		c := g.main
		s := Suggestion{
			Kind: c.kind, Label: g.label, Score: round(c.score), Keyness: round(c.keyness), Count: int(c.count),
			Words: []string{g.label},
		}
		for _, m := range g.members {
			if l := g.labels[m]; l != "" && !slices.Contains(s.Words, l) {
				s.Words = append(s.Words, l)
			}
		}
		s.Cases, s.Sources = e.casesOf(func(yield func(int32)) {
			for _, si := range g.srcs {
				yield(si)
			}
		})
		s.Extracts = e.extracts(g.units)
		out = append(out, s)
	}
	return out
}

// casesOf lists the cases and sources of the source indexes that each
// yields (several times, in any order), each sorted.
func (e *engine) casesOf(each func(yield func(int32))) (cases, sources []string) {
	seenC, seenS := map[string]bool{}, map[string]bool{}
	each(func(si int32) {
		src := e.srcs[si]
		if !seenS[src.ID] {
			seenS[src.ID] = true
			sources = append(sources, src.ID)
		}
		if k := caseKey(src); !seenC[k] {
			seenC[k] = true
			cases = append(cases, k)
		}
	})
	slices.Sort(cases)
	slices.Sort(sources)
	if cases == nil {
		cases, sources = []string{}, []string{}
	}
	return cases, sources
}

// extracts makes the extracts of units (sentences), in order given.
func (e *engine) extracts(units []int32) []Extract {
	out := make([]Extract, 0, len(units))
	for _, ui := range units {
		u := e.units[ui]
		out = append(out, e.extract(u.src, u.seg))
	}
	return out
}

func (e *engine) extract(si, gi int32) Extract {
	src := e.srcs[si]
	full := e.source(si).src
	if int(gi) >= len(full.Segments) {
		return Extract{Source: src.ID, Citation: e.opts.Cite(src), Case: src.Case} // not read again
	}
	seg := full.Segments[gi]
	text := e.segText(si, gi)
	return Extract{
		Source: src.ID, Segment: seg.ID, Citation: e.opts.Cite(src), Case: src.Case, Speaker: seg.Speaker,
		Line: seg.Line, Start: seg.Start, End: seg.End, Text: text,
	}
}

// round keeps two decimals, so that reports and files stay readable.
func round(f float64) float64 {
	if f >= 0 {
		return float64(int64(f*100+0.5)) / 100
	}
	return -float64(int64(-f*100+0.5)) / 100
}

// entStat gathers a named entity's occurrences.
type entStat struct {
	count   int32
	labels  map[string]int
	forms   map[string]int
	cases   int32
	lastCas int32
	units   []int32 // the first of each case
	extra   []int32
	srcs    []int32
}

// addEntity records an entity prose found in unit uid.
func (e *engine) addEntity(ent ner.Entity, uid, cas, src int32) {
	text := strings.Join(strings.Fields(ent.Text), " ")
	if !hasUpper(text) || !hasLetter(text) {
		return
	}
	key := e.v.an.Fold(text)
	if !strings.Contains(key, " ") {
		if _, stop := e.v.stemKey(key); stop {
			return // a sentence-initial stop word taken for a name
		}
	}
	st := e.ents[key]
	if st == nil {
		st = &entStat{labels: map[string]int{}, forms: map[string]int{}, lastCas: -1}
		e.ents[key] = st
		e.entOrd = append(e.entOrd, key)
	}
	st.count++
	st.labels[ent.Label]++
	st.forms[text]++
	if st.lastCas != cas {
		st.lastCas = cas
		st.cases++
		if len(st.units) < e.opts.Extracts {
			st.units = append(st.units, uid)
		}
	} else if len(st.extra) < e.opts.Extracts && !slices.Contains(st.units, uid) && !slices.Contains(st.extra, uid) {
		st.extra = append(st.extra, uid)
	}
	if len(st.srcs) == 0 || st.srcs[len(st.srcs)-1] != src {
		st.srcs = append(st.srcs, src)
	}
}

func hasUpper(s string) bool {
	for _, r := range s {
		if unicode.IsUpper(r) {
			return true
		}
	}
	return false
}

// entityList ranks the named entities by count times their share of cases.
func (e *engine) entityList() []Suggestion {
	out := []Suggestion{}
	if len(e.caseNames) == 0 {
		return out
	}
	type scored struct {
		key   string
		score float64
	}
	var ss []scored
	for _, k := range e.entOrd {
		st := e.ents[k]
		ss = append(ss, scored{k, float64(st.count) * float64(st.cases) / float64(len(e.caseNames))})
	}
	slices.SortFunc(ss, func(a, b scored) int { return cmp.Or(cmp.Compare(b.score, a.score), cmp.Compare(a.key, b.key)) })
	for i, x := range ss {
		if i == e.opts.Top {
			break
		}
		st := e.ents[x.key]
		label := commonest(st.forms)
		units := slices.Clone(st.units)
		for _, u := range st.extra {
			if len(units) >= e.opts.Extracts {
				break
			}
			units = append(units, u)
		}
		s := Suggestion{Kind: KindEntity, Label: label, Words: []string{label}, Score: round(x.score),
			Keyness: 0, Count: int(st.count), Entity: commonest(st.labels), Extracts: e.extracts(units)}
		s.Cases, s.Sources = e.casesOf(func(yield func(int32)) {
			for _, si := range st.srcs {
				yield(si)
			}
		})
		out = append(out, s)
	}
	return out
}
