package suggest

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// WordsOptions control Frequencies and KWIC.
type WordsOptions struct {
	// Analyzer is the project's text analysis: words are counted by their
	// analysed terms, so "slug" and "slugs" are one word with two forms.
	Analyzer *corpus.Analyzer
	// Roles keeps to the words of speakers of these roles; empty means all.
	Roles []string
	// Group names the group a source belongs to; nil puts every source in
	// one group, "all".
	Group func(*corpus.Source) string
	// Top is the most words and phrases listed per group; 0 lists all.
	Top int
	// MinCount is the fewest times a phrase must occur to be listed; 0
	// means 2. Words are listed from one occurrence.
	MinCount int
	// Width is the most characters of context either side in KWIC; 0
	// means 40.
	Width int
	// Cite gives a source's citation label (KWIC); nil means "(Kind n)".
	Cite func(*corpus.Source) string
}

// Freq is how often a word or phrase occurs in a group.
type Freq struct {
	// Term is the commonest spelling; Forms lists every spelling counted
	// under it, commonest first, when there are several.
	Term  string   `json:"term"`
	Forms []string `json:"forms,omitempty"`
	Count int      `json:"count"`
	// PerThousand is Count per 1,000 words of the group (stop words
	// included in the words).
	PerThousand float64 `json:"per_1000"`
	Sources     int     `json:"sources"`
	Cases       int     `json:"cases"`
}

// WordGroup holds the frequencies of one group.
type WordGroup struct {
	Group string `json:"group"`
	// Words is the number of words in the group, stop words included.
	Words   int    `json:"words"`
	Terms   []Freq `json:"words_list"`
	Phrases []Freq `json:"phrases"`
}

// Frequencies counts the words and phrases of each group in the speaker
// turns (diary entries) of the given roles. Stop words — the language's,
// and for English also the fillers of speech (see extraStopWords) — are
// left out of the counts; a phrase is two or three words that are not
// stop words, written one after the other with only spaces between them.
// Groups are sorted by name, words and phrases by count (then
// alphabetically). For a corpus too large to hold, WordCounter does the
// same a source at a time.
func Frequencies(srcs []*corpus.Source, opts WordsOptions) []WordGroup {
	group := func(s *corpus.Source) string {
		if opts.Group == nil {
			return "all"
		}
		return opts.Group(s)
	}
	// A group at a time, each group's sources by case (WordCounter wants
	// a case's sources together).
	order := make([]int, len(srcs))
	names := make([]string, len(srcs))
	for i, s := range srcs {
		order[i] = i
		names[i] = group(s)
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(names[a], names[b]), cmp.Compare(caseKey(srcs[a]), caseKey(srcs[b])))
	})
	wc := NewWordCounter(opts)
	var out []WordGroup
	for k, i := range order {
		wc.Add(srcs[i])
		if k == len(order)-1 || names[order[k+1]] != names[i] {
			out = append(out, wc.Group(names[i]))
		}
	}
	if out == nil {
		out = []WordGroup{}
	}
	return out
}

// WordCounter is Frequencies a group at a time and a source at a time: Add
// each source of a group, then Group gives the group's counts and starts
// the next group. It holds the counts of one group (in compact tables: a
// word or phrase seen takes some 70 bytes) and the vocabulary. A case's
// sources must come one after another within a group, as Frequencies
// orders them; Add refuses a case that comes back.
type WordCounter struct {
	opts  WordsOptions
	v     *vocab
	words int
	index map[[3]uint32]int32 // stems of a word or phrase -> its acc
	accs  []wordAcc
	forms []wordForm // forms after an acc's first
	srcN  int32      // sources added to the group
	caseN int32      // cases begun in the group
	cas   string     // the case of the last source added
	done  map[string]bool
}

// wordAcc counts a word or phrase: key holds its stems (0 after the last).
type wordAcc struct {
	key                                      [3]uint32
	count, sources, lastSrc, cases, lastCase int32
	form                                     [3]uint32 // the first spelling seen: surface ids
	formN                                    int32     // its count
	more                                     int32     // index+1 into forms of the next spelling, 0 for none
}

// wordForm is a further spelling of a word or phrase.
type wordForm struct {
	ids     [3]uint32
	n, next int32
}

// NewWordCounter starts counting with opts (Group is not used: the caller
// groups).
func NewWordCounter(opts WordsOptions) *WordCounter {
	if opts.MinCount <= 0 {
		opts.MinCount = 2
	}
	wc := &WordCounter{opts: opts, v: newVocab(opts.Analyzer)}
	wc.reset()
	return wc
}

func (wc *WordCounter) reset() {
	wc.words, wc.srcN, wc.caseN, wc.cas = 0, 0, 0, ""
	wc.index = map[[3]uint32]int32{}
	wc.accs, wc.forms = nil, nil
	wc.done = map[string]bool{}
}

// Add counts the words of a source into the current group.
func (wc *WordCounter) Add(src *corpus.Source) error {
	v := wc.v
	cas := caseKey(src)
	if wc.srcN == 0 || cas != wc.cas {
		if wc.done[cas] {
			return fmt.Errorf("words: the sources of case %q do not come one after another", cas)
		}
		if wc.srcN > 0 {
			wc.done[wc.cas] = true
		}
		wc.cas = cas
		wc.caseN++
	}
	wc.srcN++
	add := func(key, form [3]uint32) {
		i, ok := wc.index[key]
		if !ok {
			i = int32(len(wc.accs))
			wc.index[key] = i
			wc.accs = append(wc.accs, wordAcc{key: key, form: form})
		}
		a := &wc.accs[i]
		a.count++
		if a.lastSrc != wc.srcN {
			a.lastSrc = wc.srcN
			a.sources++
		}
		if a.lastCase != wc.caseN {
			a.lastCase = wc.caseN
			a.cases++
		}
		if a.form == form {
			a.formN++
			return
		}
		last := int32(0) // the spelling before: index+1 into forms, 0 for the acc's first
		for next := a.more; next != 0; next = wc.forms[next-1].next {
			f := &wc.forms[next-1]
			if f.ids == form {
				f.n++
				return
			}
			last = next
		}
		wc.forms = append(wc.forms, wordForm{ids: form, n: 1})
		if last == 0 {
			a.more = int32(len(wc.forms))
		} else {
			wc.forms[last-1].next = int32(len(wc.forms))
		}
	}
	rs := []rune(src.Text)
	var ids []uint32
	for _, seg := range src.Segments {
		if seg.Unit != corpus.UnitTurn || !roleIn(seg.Role, wc.opts.Roles) {
			continue
		}
		s, e := clampSpan(seg.Start, seg.End, len(rs))
		text := rs[s:e]
		spans := wordSpans(text)
		ids = ids[:0]
		for _, sp := range spans {
			ids = append(ids, v.id(string(text[sp[0]:sp[1]])))
		}
		wc.words += len(spans)
		for i, id := range ids {
			st := v.stemOf[id]
			if v.stop[st] {
				continue
			}
			add([3]uint32{st}, [3]uint32{id})
			// phrases of 2 and 3 content words joined by spaces
			key, form := [3]uint32{st}, [3]uint32{id}
			for n := 2; n <= 3 && i+n <= len(ids); n++ {
				j := i + n - 1
				sj := v.stemOf[ids[j]]
				if v.stop[sj] || !onlySpaces(text[spans[j-1][1]:spans[j][0]]) {
					break
				}
				key[n-1], form[n-1] = sj, ids[j]
				add(key, form)
			}
		}
	}
	return nil
}

// wordsJoin spells out stem or surface ids as words separated by spaces.
func wordsJoin(ids [3]uint32, words []string) string {
	s := words[ids[0]]
	for _, id := range ids[1:] {
		if id == 0 {
			break
		}
		s += " " + words[id]
	}
	return s
}

// Group returns the counts of the group of the sources added since the
// last Group, named name, and starts a new group.
func (wc *WordCounter) Group(name string) WordGroup {
	v := wc.v
	wg := WordGroup{Group: name, Words: wc.words, Terms: []Freq{}, Phrases: []Freq{}}
	type form struct {
		s string
		n int32
	}
	var forms []form
	for i := range wc.accs {
		a := &wc.accs[i]
		isWord := a.key[1] == 0
		if !isWord && int(a.count) < wc.opts.MinCount {
			continue
		}
		forms = append(forms[:0], form{wordsJoin(a.form, v.surf), a.formN})
		for next := a.more; next != 0; next = wc.forms[next-1].next {
			f := &wc.forms[next-1]
			forms = append(forms, form{wordsJoin(f.ids, v.surf), f.n})
		}
		slices.SortFunc(forms, func(x, y form) int { return cmp.Or(cmp.Compare(y.n, x.n), cmp.Compare(x.s, y.s)) })
		f := Freq{Term: forms[0].s, Count: int(a.count), Sources: int(a.sources), Cases: int(a.cases)}
		if len(forms) > 1 {
			f.Forms = make([]string, len(forms))
			for k, fm := range forms {
				f.Forms[k] = fm.s
			}
		}
		if wc.words > 0 {
			f.PerThousand = round(1000 * float64(a.count) / float64(wc.words))
		}
		if isWord {
			wg.Terms = append(wg.Terms, f)
		} else {
			wg.Phrases = append(wg.Phrases, f)
		}
	}
	byCount := func(x, y Freq) int { return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Term, y.Term)) }
	slices.SortFunc(wg.Terms, byCount)
	slices.SortFunc(wg.Phrases, byCount)
	if top := wc.opts.Top; top > 0 {
		wg.Terms = slices.Clip(wg.Terms[:min(top, len(wg.Terms))])
		wg.Phrases = slices.Clip(wg.Phrases[:min(top, len(wg.Phrases))])
	}
	wc.reset()
	return wg
}

func onlySpaces(rs []rune) bool {
	for _, r := range rs {
		if r != ' ' && r != '\t' && r != '\u00a0' {
			return false
		}
	}
	return true
}

// Concordance is one keyword-in-context line.
type Concordance struct {
	Source   string `json:"source"`
	Segment  string `json:"segment"`
	Citation string `json:"citation"`
	Case     string `json:"case,omitempty"`
	Speaker  string `json:"speaker,omitempty"`
	Line     int    `json:"line"`
	Start    int    `json:"start"` // of the match, code points into the source text
	End      int    `json:"end"`
	Left     string `json:"left"`
	Match    string `json:"match"`
	Right    string `json:"right"`
}

// queryWord is one word of a KWIC query.
type queryWord struct {
	stem    string // analysed term, for a content word
	surface string // folded word, for a stop word
	pattern string // folded glob, for a word with * or ?
}

// KWIC finds a word or phrase in the speaker turns (diary entries) of the
// given roles and returns each occurrence with its context inside its turn.
// Words are matched as analysed ("slug" finds "slugs"); a stop word must be
// written as it is ("on my own"); '*' and '?' are wildcards matched against
// the word as written, folded ("garden*"). The words of a phrase must be
// consecutive words of the text. A query without a word is an
// *errs.InputError. For a corpus too large to hold, KWICMatcher does the
// same a source at a time.
func KWIC(srcs []*corpus.Source, query string, opts WordsOptions) ([]Concordance, error) {
	m, err := NewKWICMatcher(query, opts)
	if err != nil {
		return nil, err
	}
	out := []Concordance{}
	for _, src := range srcs {
		m.Source(src, func(c *Concordance) error {
			out = append(out, *c)
			return nil
		})
	}
	return out, nil
}

// KWICMatcher finds a query in one source at a time, as KWIC does.
type KWICMatcher struct {
	opts WordsOptions
	v    *vocab
	q    []queryWord
}

// NewKWICMatcher parses query as KWIC does.
func NewKWICMatcher(query string, opts WordsOptions) (*KWICMatcher, error) {
	if opts.Width <= 0 {
		opts.Width = 40
	}
	if opts.Cite == nil {
		opts.Cite = func(s *corpus.Source) string { return corpus.Citation("({Kind} {n})", s, s.Attrs) }
	}
	v := newVocab(opts.Analyzer)
	var q []queryWord
	for _, w := range strings.Fields(query) {
		f := opts.Analyzer.Fold(w)
		if strings.ContainsAny(f, "*?") {
			if _, err := path.Match(f, ""); err != nil || strings.ContainsAny(f, "/[\\") {
				return nil, errs.New("", 0, 0, "--kwic %q: use letters with * or ? as wildcards", query)
			}
			q = append(q, queryWord{pattern: f})
			continue
		}
		rs := []rune(f)
		sp := wordSpans(rs)
		if len(sp) != 1 {
			if len(sp) == 0 {
				continue // punctuation
			}
			return nil, errs.New("", 0, 0, "--kwic %q: %q is several words; separate them with spaces", query, w)
		}
		key, stop := v.stemKey(string(rs[sp[0][0]:sp[0][1]]))
		if stop {
			q = append(q, queryWord{surface: string(rs[sp[0][0]:sp[0][1]])})
		} else {
			q = append(q, queryWord{stem: key})
		}
	}
	if len(q) == 0 {
		return nil, errs.New("", 0, 0, "--kwic %q: give a word or phrase to find", query)
	}
	return &KWICMatcher{opts: opts, v: v, q: q}, nil
}

// Source calls each with every occurrence in src, in order (the
// Concordance is reused: copy what you keep), stopping at the first error,
// which it returns.
func (m *KWICMatcher) Source(src *corpus.Source, each func(*Concordance) error) error {
	v, q, opts := m.v, m.q, m.opts
	rs := []rune(src.Text)
	var c Concordance
	var ids []uint32
	for _, seg := range src.Segments {
		if seg.Unit != corpus.UnitTurn || !roleIn(seg.Role, opts.Roles) {
			continue
		}
		s, e := clampSpan(seg.Start, seg.End, len(rs))
		text := rs[s:e]
		spans := wordSpans(text)
		ids = ids[:0]
		for _, sp := range spans {
			ids = append(ids, v.id(string(text[sp[0]:sp[1]])))
		}
	next:
		for i := 0; i+len(q) <= len(ids); i++ {
			for k, qw := range q {
				id := ids[i+k]
				switch {
				case qw.pattern != "":
					if ok, _ := path.Match(qw.pattern, v.surf[id]); !ok {
						continue next
					}
				case qw.surface != "":
					if v.surf[id] != qw.surface {
						continue next
					}
				default:
					if st := v.stemOf[id]; v.stop[st] || v.stems[st] != qw.stem {
						continue next
					}
				}
			}
			ms, me := spans[i][0], spans[i+len(q)-1][1]
			left, match, right := corpus.KWIC(string(text), corpus.Span{Start: ms, End: me}, opts.Width)
			line := seg.Line + strings.Count(string(text[:ms]), "\n")
			c = Concordance{
				Source: src.ID, Segment: seg.ID, Citation: opts.Cite(src), Case: src.Case, Speaker: seg.Speaker,
				Line: line, Start: s + ms, End: s + me, Left: left, Match: match, Right: right,
			}
			if err := each(&c); err != nil {
				return err
			}
		}
	}
	return nil
}
