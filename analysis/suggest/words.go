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
// the next group. It holds the counts of one group and the vocabulary: a
// word or phrase seen once takes some 20 bytes, one seen more often some
// 50 (see wordTable). A case's sources must come one after another within
// a group, as Frequencies orders them; Add refuses a case that comes back.
type WordCounter struct {
	opts   WordsOptions
	v      *vocab
	bits   uint // bits of a surface id in a packed form (wordIDBits)
	words  int
	single []fullSlot              // words, by stem id
	seen   []uint32                // the stems of the words counted in the group
	tab    wordTable               // phrases
	wide   map[[3]uint32]*fullSlot // phrases whose ids do not pack
	accs   []wordAcc
	forms  []wordForm // forms after an acc's first
	srcN   int32      // sources added to the group
	caseN  int32      // cases begun in the group
	caseOf []int32    // source ordinal -> case ordinal
	cas    string     // the case of the last source added
	done   map[string]bool

	// buffers reused from source to source
	rs    []rune
	spans [][2]int32
	ids   []uint32
	tok   []byte
}

// fullSlot is a slot with its spelling as ids, not packed: that of a
// word, or of a phrase counted in the side map.
type fullSlot struct {
	form [3]uint32
	val  uint32
}

// wordAcc counts a word or phrase seen more than once; its key and first
// spelling are those of its slot.
type wordAcc struct {
	count, sources, lastSrc, cases int32
	formN                          int32 // count of the first spelling
	more                           int32 // index+1 into forms of the next spelling, 0 for none
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
	wc := &WordCounter{opts: opts, v: newVocab(opts.Analyzer), bits: wordIDBits}
	wc.reset()
	return wc
}

func (wc *WordCounter) reset() {
	wc.words, wc.srcN, wc.caseN, wc.cas = 0, 0, 0, ""
	wc.tab.reset()
	for _, st := range wc.seen {
		wc.single[st] = fullSlot{}
	}
	wc.seen = wc.seen[:0]
	wc.wide = nil
	wc.accs, wc.forms = wc.accs[:0], wc.forms[:0]
	if cap(wc.accs) > 1<<16 {
		wc.accs, wc.forms = nil, nil
	}
	wc.caseOf = append(wc.caseOf[:0], 0)
	wc.done = map[string]bool{}
}

// Add counts the words of a source into the current group. The source's
// text is not kept: it may be reused once Add returns.
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
	wc.caseOf = append(wc.caseOf, wc.caseN)
	rs := appendRunes(wc.rs[:0], src.Text)
	wc.rs = rs
	for _, seg := range src.Segments {
		if seg.Unit != corpus.UnitTurn || !roleIn(seg.Role, wc.opts.Roles) {
			continue
		}
		s, e := clampSpan(seg.Start, seg.End, len(rs))
		text := rs[s:e]
		spans := appendWordSpans(wc.spans[:0], text)
		wc.spans = spans
		ids := wc.ids[:0]
		for _, sp := range spans {
			wc.tok = appendUTF8(wc.tok[:0], text[sp[0]:sp[1]])
			id, ok := v.raw[string(wc.tok)]
			if !ok {
				id = v.id(string(wc.tok))
			}
			ids = append(ids, id)
		}
		wc.ids = ids
		wc.words += len(spans)
		for i, id := range ids {
			st := v.stemOf[id]
			if v.stop[st] {
				continue
			}
			wc.addWord(st, id)
			// phrases of 2 and 3 content words joined by spaces
			key, form := [3]uint32{st}, [3]uint32{id}
			for n := 2; n <= 3 && i+n <= len(ids); n++ {
				j := i + n - 1
				sj := v.stemOf[ids[j]]
				if v.stop[sj] || !onlySpaces(text[spans[j-1][1]:spans[j][0]]) {
					break
				}
				key[n-1], form[n-1] = sj, ids[j]
				wc.add(key, form)
			}
		}
	}
	return nil
}

// stemKey is the packed key of a packed form.
func (wc *WordCounter) stemKey(f uint64) uint64 {
	ids := unpack(f, wc.bits)
	st := wc.v.stemOf
	k, _ := pack([3]uint32{st[ids[0]], st[ids[1]], st[ids[2]]}, wc.bits)
	return k
}

// addWord counts one occurrence of the word of stem st, spelt id.
func (wc *WordCounter) addWord(st, id uint32) {
	if int(st) >= len(wc.single) {
		wc.single = append(wc.single, make([]fullSlot, len(wc.v.stems)-len(wc.single))...)
	}
	e := &wc.single[st]
	if e.form[0] == 0 {
		e.form[0], e.val = id, uint32(wc.srcN)
		wc.seen = append(wc.seen, st)
		return
	}
	wc.count(&e.val, e.form[0] == id, [3]uint32{id})
}

// add counts one occurrence of the phrase key, spelt form.
func (wc *WordCounter) add(key, form [3]uint32) {
	f, ok := pack(form, wc.bits)
	if !ok {
		wc.addWide(key, form)
		return
	}
	k, _ := pack(key, wc.bits) // stems are no more than surfaces
	sh, i := wc.tab.shard(wordHash(k))
	for {
		s := &sh.slots[i]
		sf := s.form()
		if sf == 0 {
			s.lo, s.hi, s.val = uint32(f), uint32(f>>32), uint32(wc.srcN)
			if sh.n++; sh.n > sh.limit {
				wc.tab.grow(sh, wc.stemKey)
			}
			return
		}
		if sf == f || wc.stemKey(sf) == k {
			wc.count(&s.val, sf == f, form)
			return
		}
		if i++; i == len(sh.slots) {
			i = 0
		}
	}
}

// addWide is add for a phrase whose ids do not pack.
func (wc *WordCounter) addWide(key, form [3]uint32) {
	if wc.wide == nil {
		wc.wide = map[[3]uint32]*fullSlot{}
	}
	e := wc.wide[key]
	if e == nil {
		wc.wide[key] = &fullSlot{form: form, val: uint32(wc.srcN)}
		return
	}
	wc.count(&e.val, e.form == form, form)
}

// count counts a further occurrence of the word or phrase whose slot value
// is *val, spelt form, which is its first spelling when first.
func (wc *WordCounter) count(val *uint32, first bool, form [3]uint32) {
	if *val&promoted == 0 {
		// the second occurrence: a counter for the first
		wc.accs = append(wc.accs, wordAcc{count: 1, sources: 1, lastSrc: int32(*val), cases: 1, formN: 1})
		*val = promoted | uint32(len(wc.accs)-1)
	}
	a := &wc.accs[*val&^promoted]
	a.count++
	if a.lastSrc != wc.srcN {
		if wc.caseOf[a.lastSrc] != wc.caseN {
			a.cases++
		}
		a.lastSrc = wc.srcN
		a.sources++
	}
	if first {
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

// wordEntry is a word or phrase of a group as Group lists it.
type wordEntry struct {
	term  [3]uint32 // its commonest spelling
	val   uint32    // its slot value
	count int32
}

// Words is the number of words, stop words included, of the sources added
// to the current group.
func (wc *WordCounter) Words() int { return wc.words }

// Group returns the counts of the group of the sources added since the
// last Group, named name, and starts a new group.
func (wc *WordCounter) Group(name string) WordGroup {
	wg := WordGroup{Group: name, Words: wc.words, Terms: []Freq{}, Phrases: []Freq{}}
	wc.GroupEach(func(phrase bool, f Freq) error {
		if phrase {
			wg.Phrases = append(wg.Phrases, f)
		} else {
			wg.Terms = append(wg.Terms, f)
		}
		return nil
	})
	return wg
}

// GroupEach is Group a word or phrase at a time: it calls fn with each
// word, then each phrase, of the current group, as Group lists them, and
// starts a new group. The group's list is never held: a group with
// millions of phrases listed (Top 0) costs a few bytes for each. An error
// from fn stops the listing and is returned; the group is dropped all the
// same.
func (wc *WordCounter) GroupEach(fn func(phrase bool, f Freq) error) error {
	defer wc.reset()
	var terms, phrases []wordEntry
	firsts := map[uint32][3]uint32{} // the first spellings of the words and phrases spelt several ways
	list := func(form [3]uint32, val uint32) {
		e := wordEntry{term: form, val: val, count: 1}
		if val&promoted != 0 {
			a := &wc.accs[val&^promoted]
			e.count = a.count
			if a.more != 0 {
				e.term = wc.spellings(form, a)[0].ids
				firsts[val] = form
			}
		}
		switch {
		case form[1] == 0:
			terms = append(terms, e)
		case int(e.count) >= wc.opts.MinCount:
			phrases = append(phrases, e)
		}
	}
	for _, st := range wc.seen {
		e := &wc.single[st]
		list(e.form, e.val)
	}
	for k := range wc.tab.shards {
		for i := range wc.tab.shards[k].slots {
			s := &wc.tab.shards[k].slots[i]
			if f := s.form(); f != 0 {
				list(unpack(f, wc.bits), s.val)
			}
		}
	}
	for _, e := range wc.wide {
		list(e.form, e.val)
	}
	for k, es := range [][]wordEntry{terms, phrases} {
		for _, e := range wc.ranked(es) {
			if err := fn(k == 1, wc.freq(e, firsts[e.val])); err != nil {
				return err
			}
		}
	}
	return nil
}

// spellings returns the spellings of a counted word or phrase, its first
// being first, commonest first (then alphabetically).
func (wc *WordCounter) spellings(first [3]uint32, a *wordAcc) []wordForm {
	fs := []wordForm{{ids: first, n: a.formN}}
	for next := a.more; next != 0; next = wc.forms[next-1].next {
		fs = append(fs, wc.forms[next-1])
	}
	slices.SortFunc(fs, func(x, y wordForm) int { return cmp.Or(cmp.Compare(y.n, x.n), wc.cmpSpelt(x.ids, y.ids)) })
	return fs
}

// ranked sorts entries by count, then term, and keeps the first Top.
func (wc *WordCounter) ranked(es []wordEntry) []wordEntry {
	top := wc.opts.Top
	if top > 0 && len(es) > top {
		// Only entries counted at least as often as the top-th can be
		// listed: those are sorted, ties and all, and cut.
		counts := make([]int32, len(es))
		for i, e := range es {
			counts[i] = e.count
		}
		slices.Sort(counts)
		cut := counts[len(counts)-top]
		es = slices.DeleteFunc(es, func(e wordEntry) bool { return e.count < cut })
	}
	slices.SortFunc(es, func(x, y wordEntry) int { return cmp.Or(cmp.Compare(y.count, x.count), wc.cmpSpelt(x.term, y.term)) })
	if top > 0 {
		es = es[:min(top, len(es))]
	}
	return es
}

// cmpSpelt compares two spellings as their words joined by spaces compare
// (wordsJoin), without joining them.
func (wc *WordCounter) cmpSpelt(x, y [3]uint32) int {
	surf := wc.v.surf
	for k := range 3 {
		if x[k] == y[k] {
			if x[k] == 0 {
				return 0
			}
			continue
		}
		if x[k] == 0 || y[k] == 0 {
			// one is the other and more words: the shorter comes first
			return cmp.Compare(x[k], y[k])
		}
		a, b := surf[x[k]], surf[y[k]]
		n := min(len(a), len(b))
		if a[:n] != b[:n] {
			return strings.Compare(a, b)
		}
		// One word begins the other: the shorter word is followed by a
		// space or nothing, which decides unless the longer word holds a
		// space there.
		if len(a) < len(b) && b[n] != ' ' || len(b) < len(a) && a[n] != ' ' {
			return strings.Compare(a, b)
		}
		return strings.Compare(wordsJoin(x, surf), wordsJoin(y, surf))
	}
	return 0
}

// freq spells out an entry, whose first spelling is first when it has
// several.
func (wc *WordCounter) freq(e wordEntry, first [3]uint32) Freq {
	v := wc.v
	f := Freq{Count: int(e.count), Sources: 1, Cases: 1, Term: wordsJoin(e.term, v.surf)}
	if e.val&promoted != 0 {
		a := &wc.accs[e.val&^promoted]
		f.Sources, f.Cases = int(a.sources), int(a.cases)
		if a.more != 0 {
			fs := wc.spellings(first, a)
			f.Forms = make([]string, 0, len(fs))
			for _, fm := range fs {
				f.Forms = append(f.Forms, wordsJoin(fm.ids, v.surf))
			}
		}
	}
	if wc.words > 0 {
		f.PerThousand = round(1000 * float64(e.count) / float64(wc.words))
	}
	return f
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
