package suggest

// Frequencies as it was before it read the sources one at a time and
// counted in compact tables (kept verbatim, renamed, as the oracle the new
// one must agree with: see TestFrequenciesEqualOld).

import (
	"cmp"
	"slices"

	"github.com/thematic-qda/thematic/corpus"
)

// oldFrequencies counts the words and phrases of each group in the speaker
// turns (diary entries) of the given roles. Stop words — the language's,
// and for English also the fillers of speech (see extraStopWords) — are
// left out of the counts; a phrase is two or three words that are not
// stop words, written one after the other with only spaces between them.
// Groups are sorted by name, words and phrases by count (then
// alphabetically).
func oldFrequencies(srcs []*corpus.Source, opts WordsOptions) []WordGroup {
	if opts.MinCount <= 0 {
		opts.MinCount = 2
	}
	v := newVocab(opts.Analyzer)
	type acc struct {
		key     string
		count   int
		forms   map[string]int
		srcs    map[string]bool
		cases   map[string]bool
		isWord  bool
		firstAt int
	}
	type grp struct {
		words int
		accs  map[string]*acc
	}
	groups := map[string]*grp{}
	order := 0
	for _, src := range srcs {
		name := "all"
		if opts.Group != nil {
			name = opts.Group(src)
		}
		g := groups[name]
		if g == nil {
			g = &grp{accs: map[string]*acc{}}
			groups[name] = g
		}
		add := func(key, form string, isWord bool) {
			a := g.accs[key]
			if a == nil {
				a = &acc{key: key, forms: map[string]int{}, srcs: map[string]bool{}, cases: map[string]bool{}, isWord: isWord, firstAt: order}
				order++
				g.accs[key] = a
			}
			a.count++
			a.forms[form]++
			a.srcs[src.ID] = true
			a.cases[caseKey(src)] = true
		}
		rs := []rune(src.Text)
		for _, seg := range src.Segments {
			if seg.Unit != corpus.UnitTurn || !roleIn(seg.Role, opts.Roles) {
				continue
			}
			s, e := clampSpan(seg.Start, seg.End, len(rs))
			text := rs[s:e]
			spans := wordSpans(text)
			ids := make([]uint32, len(spans))
			for i, sp := range spans {
				ids[i] = v.id(string(text[sp[0]:sp[1]]))
			}
			g.words += len(spans)
			for i, id := range ids {
				st := v.stemOf[id]
				if v.stop[st] {
					continue
				}
				add(v.stems[st], v.surf[id], true)
				// phrases of 2 and 3 content words joined by spaces
				key, form := v.stems[st], v.surf[id]
				for n := 2; n <= 3 && i+n <= len(ids); n++ {
					j := i + n - 1
					sj := v.stemOf[ids[j]]
					if v.stop[sj] || !onlySpaces(text[spans[j-1][1]:spans[j][0]]) {
						break
					}
					key += " " + v.stems[sj]
					form += " " + v.surf[ids[j]]
					add(key, form, false)
				}
			}
		}
	}
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]WordGroup, 0, len(names))
	for _, name := range names {
		g := groups[name]
		wg := WordGroup{Group: name, Words: g.words, Terms: []Freq{}, Phrases: []Freq{}}
		accs := make([]*acc, 0, len(g.accs))
		for _, a := range g.accs {
			if a.isWord || a.count >= opts.MinCount {
				accs = append(accs, a)
			}
		}
		for _, a := range accs {
			forms := make([]string, 0, len(a.forms))
			for f := range a.forms {
				forms = append(forms, f)
			}
			slices.SortFunc(forms, func(x, y string) int { return cmp.Or(cmp.Compare(a.forms[y], a.forms[x]), cmp.Compare(x, y)) })
			f := Freq{Term: forms[0], Count: a.count, Sources: len(a.srcs), Cases: len(a.cases)}
			if len(forms) > 1 {
				f.Forms = forms
			}
			if g.words > 0 {
				f.PerThousand = round(1000 * float64(a.count) / float64(g.words))
			}
			if a.isWord {
				wg.Terms = append(wg.Terms, f)
			} else {
				wg.Phrases = append(wg.Phrases, f)
			}
		}
		byCount := func(x, y Freq) int { return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Term, y.Term)) }
		slices.SortFunc(wg.Terms, byCount)
		slices.SortFunc(wg.Phrases, byCount)
		if opts.Top > 0 {
			wg.Terms = wg.Terms[:min(opts.Top, len(wg.Terms))]
			wg.Phrases = wg.Phrases[:min(opts.Top, len(wg.Phrases))]
		}
		out = append(out, wg)
	}
	return out
}
