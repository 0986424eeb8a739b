package suggest

import (
	"strings"
	"unicode"

	"github.com/thematic-qda/thematic/corpus"
)

// vocab interns words. A surface is a word as written, folded by the
// project's analyser (lower case, straight apostrophes, accents as set); a
// stem is its analysed term, the unit of counting, so that "slug" and
// "slugs" count as one. Stop words and numbers keep their surface as stem
// and are marked stop. Id 0 of both is the break: punctuation, or the end
// of a unit, which no n-gram crosses.
type vocab struct {
	an     *corpus.Analyzer
	extra  map[string]bool
	raw    map[string]uint32 // token text as written -> surface id
	bySurf map[string]uint32
	surf   []string
	stemOf []uint32 // surface id -> stem id
	byStem map[string]uint32
	stems  []string
	stop   []bool // by stem id
}

func newVocab(an *corpus.Analyzer) *vocab {
	return &vocab{
		an:     an,
		extra:  extraStopWords(an.Language()),
		raw:    map[string]uint32{},
		bySurf: map[string]uint32{"": 0},
		surf:   []string{""},
		stemOf: []uint32{0},
		byStem: map[string]uint32{"": 0},
		stems:  []string{""},
		stop:   []bool{true},
	}
}

// id returns the surface id of a token as written, 0 for punctuation.
func (v *vocab) id(tok string) uint32 {
	if id, ok := v.raw[tok]; ok {
		return id
	}
	id := v.intern(tok)
	v.raw[strings.Clone(tok)] = id
	return id
}

func (v *vocab) intern(tok string) uint32 {
	if !isWordToken(tok) {
		return 0
	}
	s := v.an.Fold(tok)
	if id, ok := v.bySurf[s]; ok {
		return id
	}
	key, stop := v.stemKey(s)
	st, ok := v.byStem[key]
	if !ok {
		st = uint32(len(v.stems))
		v.byStem[key] = st
		v.stems = append(v.stems, key)
		v.stop = append(v.stop, stop)
	}
	id := uint32(len(v.surf))
	v.bySurf[s] = id
	v.surf = append(v.surf, s)
	v.stemOf = append(v.stemOf, st)
	return id
}

// stemKey analyses a folded word: its term, or for a stop word, a number or
// a word the analyser drops, the word itself after a NUL, marked stop (so
// that the stop word "at" and the stem of "ate" differ). A word the
// analyser splits (no-dig) joins its terms with '-'.
func (v *vocab) stemKey(s string) (key string, stop bool) {
	if v.extra[s] || !hasLetter(s) {
		return "\x00" + s, true
	}
	toks := v.an.Tokens(s)
	switch len(toks) {
	case 0:
		return "\x00" + s, true
	case 1:
		return toks[0].Term, false
	}
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.Term
	}
	return strings.Join(parts, "-"), false
}

// isWordToken reports whether a token holds a letter or a digit.
func isWordToken(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// extraStopWords are words left out of counts besides the language's stop
// words: for English, the fillers and hedges of speech ("um", "yeah",
// "like", "kind of"), clitics a tokenizer splits off ("n't", "'s"),
// contractions (the analyser keeps them searchable, so it does not drop
// them) and a few verbs and nouns that carry no topic in an interview
// ("thing", "lot", "think", "know"). This is thematic's own list.
func extraStopWords(lang string) map[string]bool {
	m := map[string]bool{}
	if lang != "en" {
		return m
	}
	for _, w := range strings.Fields(`
		um umm uh uhh er erm ah oh hmm mm mhm yeah yes yep yup no nope ok okay
		right well like just really actually basically literally honestly
		sort kind bit lot lots thing things stuff something anything everything
		nothing nobody none someone anyone everyone somebody anybody everybody
		think thought know knew known mean meant guess suppose say says said
		get gets got getting go goes going went gone come comes came coming
		make makes made want wanted need needs see seen saw look looked
		also maybe probably quite pretty even still much many way yeah
		one two three first really sure kinda gonna wanna gotta dunno
		n't 's 'm 're 've 'll 'd
		i'm i've i'd i'll you're you've you'd you'll he's he'd he'll she's she'd
		she'll it's it'd it'll we're we've we'd we'll they're they've they'd
		they'll that's that'll there's there'd there'll here's what's where's
		who's how's let's isn't aren't wasn't weren't hasn't haven't hadn't
		doesn't don't didn't won't wouldn't shan't shouldn't can't cannot
		couldn't mustn't ain't y'know
	`) {
		m[w] = true
	}
	return m
}

// wordSpans returns the words of rs as code-point spans: runs of letters,
// digits and combining marks, with an apostrophe or hyphen kept inside a
// word when a letter or digit follows it.
func wordSpans(rs []rune) [][2]int {
	sp := appendWordSpans(nil, rs)
	out := make([][2]int, len(sp))
	for k, p := range sp {
		out[k] = [2]int{int(p[0]), int(p[1])}
	}
	return out
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// isJoiner reports whether r may join two parts of one word.
func isJoiner(r rune) bool {
	switch r {
	case '\'', '\u2019', '-', '\u2010', '\u2011':
		return true
	}
	return false
}
