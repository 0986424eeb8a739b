package analysis

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Anchoring constants. A coding keeps up to contextLen code points of text on
// each side of its quote, as the W3C Web Annotation TextQuoteSelector keeps a
// prefix and a suffix.
const (
	contextLen = 32
	// minSide is the shortest prefix or suffix that counts as evidence on its
	// own; a shorter one counts only where it reaches the edge of the text.
	minSide = 8
	// minLoneQuote is the shortest quote that may be re-anchored on the
	// strength of occurring exactly once, with neither side of its context
	// found again.
	minLoneQuote = 48
	// markStep is how many code points lie between two checkpoints of a
	// TextIndex.
	markStep = 64
)

// TextIndex maps code-point offsets in one text to byte offsets and back,
// after a single pass over the text. Build one per source text and use it for
// every coding of that text: converting an offset then costs at most
// markStep code points of scanning instead of a walk from the start.
type TextIndex struct {
	text  string
	n     int   // length in code points
	marks []int // marks[i] is the byte offset of code point i*markStep; nil for ASCII text
}

// NewTextIndex indexes text. Invalid UTF-8 bytes count as one code point each,
// as a range loop over a string counts them.
func NewTextIndex(text string) *TextIndex {
	x := &TextIndex{text: text}
	ascii := true
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		x.n = len(text)
		return x
	}
	x.marks = make([]int, 0, len(text)/markStep+1)
	n := 0
	for i := range text {
		if n%markStep == 0 {
			x.marks = append(x.marks, i)
		}
		n++
	}
	x.n = n
	return x
}

// Len is the length of the text in code points.
func (x *TextIndex) Len() int { return x.n }

// byteAt returns the byte offset of code point cp, 0 <= cp <= Len().
func (x *TextIndex) byteAt(cp int) int {
	if x.marks == nil {
		return cp
	}
	if cp >= x.n {
		return len(x.text)
	}
	b := x.marks[cp/markStep]
	for k := cp % markStep; k > 0; k-- {
		if x.text[b] < utf8.RuneSelf {
			b++
		} else {
			_, w := utf8.DecodeRuneInString(x.text[b:])
			b += w
		}
	}
	return b
}

// cpAt returns the code-point offset of byte offset b, which must be the start
// of a code point or len(text).
func (x *TextIndex) cpAt(b int) int {
	if x.marks == nil {
		return b
	}
	i := sort.SearchInts(x.marks, b+1) - 1
	cp, p := i*markStep, x.marks[i]
	for p < b {
		if x.text[p] < utf8.RuneSelf {
			p++
		} else {
			_, w := utf8.DecodeRuneInString(x.text[p:])
			p += w
		}
		cp++
	}
	return cp
}

// Slice returns the text between code points start and end. Offsets are
// clamped to the text, so a stale position (an orphaned coding's) never
// panics; an empty string comes back when nothing is left between them.
func (x *TextIndex) Slice(start, end int) string {
	start = min(max(start, 0), x.n)
	end = min(max(end, start), x.n)
	return x.text[x.byteAt(start):x.byteAt(end)]
}

// NewCoding makes a coding of text[start:end) (code points) by coder with
// code: its quote, up to 32 code points of prefix and suffix, an id that
// depends only on source, start, end, code and coder (so running the same
// rule again gives the same id), origin, and the time t in UTC to the second.
// The span must be non-empty and inside the text.
func (x *TextIndex) NewCoding(source string, start, end int, code, coder, origin string, t time.Time) (Coding, error) {
	if start < 0 || end <= start || end > x.n {
		return Coding{}, spanError(start, end, x.n)
	}
	ps, s, e, se := x.byteAt(max(start-contextLen, 0)), x.byteAt(start), x.byteAt(end), x.byteAt(min(end+contextLen, x.n))
	return makeCoding(source, start, end, x.text[s:e], x.text[ps:s], x.text[e:se], code, coder, origin, t), nil
}

// NewCoding makes one coding of text[start:end) (code points); see
// TextIndex.NewCoding, which is the one to use for many codings of a text.
func NewCoding(source, text string, start, end int, code, coder, origin string, t time.Time) (Coding, error) {
	if start < 0 || end <= start {
		return Coding{}, spanError(start, end, utf8.RuneCountInString(text))
	}
	// One walk up to the end of the suffix is enough: record the byte offsets
	// of the four code points needed.
	want := [4]int{max(start-contextLen, 0), start, end, end + contextLen}
	var got [4]int
	k, cp := 0, 0
	for b := range text {
		for k < 4 && want[k] == cp {
			got[k] = b
			k++
		}
		if k == 4 {
			break
		}
		cp++
	}
	for k < 4 && want[k] <= cp {
		got[k] = len(text)
		k++
	}
	if k < 3 {
		return Coding{}, spanError(start, end, utf8.RuneCountInString(text))
	}
	if k == 3 {
		got[3] = len(text)
	}
	return makeCoding(source, start, end, text[got[1]:got[2]], text[got[0]:got[1]], text[got[2]:got[3]], code, coder, origin, t), nil
}

func spanError(start, end, n int) error {
	if end <= start {
		return fmt.Errorf("span %d-%d is empty or reversed: a coding covers at least one character", start, end)
	}
	return fmt.Errorf("span %d-%d is outside the text (%d characters)", start, end, n)
}

func makeCoding(source string, start, end int, quote, prefix, suffix, code, coder, origin string, t time.Time) Coding {
	return Coding{
		ID:     CodingID(source, start, end, code, coder),
		Source: source,
		Start:  start,
		End:    end,
		Quote:  quote,
		Prefix: prefix,
		Suffix: suffix,
		Code:   code,
		Coder:  coder,
		Origin: origin,
		Time:   t.UTC().Truncate(time.Second),
	}
}

// idAlphabet is Crockford's base 32 in lower case: no i, l, o or u, so an id
// read aloud or retyped is hard to get wrong.
const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// CodingID is the id NewCoding gives a coding: 12 base-32 characters (60
// bits) of a SHA-256 of source, start, end, code and coder. The same span
// coded again with the same code by the same coder gets the same id.
func CodingID(source string, start, end int, code, coder string) string {
	h := sha256.New()
	var num [20]byte
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(num[:0], int64(start), 10))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(num[:0], int64(end), 10))
	h.Write([]byte{0})
	h.Write([]byte(code))
	h.Write([]byte{0})
	h.Write([]byte(coder))
	var sum [sha256.Size]byte
	return idFromHash(h.Sum(sum[:0]))
}

func idFromHash(sum []byte) string {
	v := binary.BigEndian.Uint64(sum)
	var out [12]byte
	for i := range out {
		out[i] = idAlphabet[(v>>(59-5*i))&31]
	}
	return string(out[:])
}

// Reanchor finds each coding of cs again in newText, the new normalised text
// of their (single) source, and updates the codings in place. It returns how
// many codings moved (their position or quote changed, or an orphan was found
// again) and how many are orphans after the call.
//
// A coding is searched for by its quote, and its prefix and suffix decide
// between the quote's occurrences. A side "matches" at an occurrence when the
// stored prefix ends right before it (or the suffix starts right after it)
// and the stored context is at least 8 code points long or reaches the edge
// of the text there. The first rule that applies wins:
//
//  1. The old position shifted as much as the previous coding (in text
//     order) moved, or else the old position, holds the quote with both sides
//     matching: the coding goes there.
//  2. Exactly one occurrence has both sides matching.
//  3. Exactly one occurrence has one side matching (an edit touched the
//     other side's context).
//  4. The quote is at least 48 code points long and occurs exactly once.
//  5. Rules 2-4 applied to the text with every run of white space (spaces,
//     tabs, line breaks, no-break spaces) read as one space. Whitespace-only
//     changes inside or around a quote are thus followed: the coding keeps
//     the same words, and its quote is updated to the new spacing.
//
// Anything else is an orphan: a quote edited beyond white space, deleted, or
// occurring several times where the context cannot tell the occurrences
// apart. An orphan keeps its last position and quote (its position may no
// longer fit the new text) and is never dropped; it is tried again on the
// next call. A re-anchored coding gets the prefix and suffix of its new
// place, so the next edit is judged against the newest context. Rule 1 is
// the one residual risk: a passage repeated with 32 identical characters on
// both sides cannot be told apart from its copies without the old text, and
// the copy at the expected place is taken.
func Reanchor(cs []Coding, newText string) (moved, orphaned int) {
	x := NewTextIndex(newText)
	exact := quoteSpace{text: newText, cp: x.cpAt}
	var ws *quoteSpace // the whitespace-folded text, built on first need

	order := make([]int, len(cs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := cs[a].Start - cs[b].Start; c != 0 {
			return c
		}
		return cs[a].End - cs[b].End
	})

	delta := 0
	for _, i := range order {
		c := &cs[i]
		start, end, ok := locateCoding(c, x, exact, &ws, delta)
		if !ok {
			c.Orphan = true
			orphaned++
			continue
		}
		if !c.Orphan {
			// An orphan's position is from an older text: no guide for
			// its neighbours.
			delta = start - c.Start
		}
		quote := x.Slice(start, end)
		if c.Orphan || start != c.Start || end != c.End || quote != c.Quote {
			moved++
		}
		c.Start, c.End, c.Quote, c.Orphan = start, end, quote, false
		c.Prefix = x.Slice(start-contextLen, start)
		c.Suffix = x.Slice(end, end+contextLen)
	}
	return moved, orphaned
}

// locateCoding applies Reanchor's rules to one coding and returns its new span in
// code points.
func locateCoding(c *Coding, x *TextIndex, exact quoteSpace, ws **quoteSpace, delta int) (start, end int, ok bool) {
	q := c.Quote
	if q == "" {
		return 0, 0, false
	}
	qn := utf8.RuneCountInString(q)
	ctx := newAnchorCtx(c.Prefix, c.Suffix)
	// Rule 1: the shift of the neighbour first, for where a passage repeats
	// the old position may now hold a copy.
	for k, s := range [2]int{c.Start + delta, c.Start} {
		if (k == 1 && delta == 0) || s < 0 || s+qn > x.n {
			continue
		}
		b := x.byteAt(s)
		if strings.HasPrefix(x.text[b:], q) && exact.left(b, ctx) && exact.right(b+len(q), ctx) {
			return s, s + qn, true
		}
	}
	// Rules 2-4 on the exact text.
	b, e, v := exact.find(q, ctx)
	switch v {
	case matchOne:
		return exact.cp(b), exact.cp(e), true
	case matchMany:
		// Two occurrences with both sides matching exactly also match with
		// white space folded: no point in looking further.
		return 0, 0, false
	}
	// Rule 5.
	if *ws == nil {
		*ws = foldSpacesIndexed(x.text)
	}
	fq, fp, fs := foldSpaces(q), foldSpaces(c.Prefix), foldSpaces(c.Suffix)
	// A white-space run shared by the context and the quote is one space in
	// the folded text; let the quote keep it.
	if strings.HasPrefix(fq, " ") {
		fp = strings.TrimSuffix(fp, " ")
	}
	if strings.HasSuffix(fq, " ") {
		fs = strings.TrimPrefix(fs, " ")
	}
	if b, e, v := (*ws).find(fq, newAnchorCtx(fp, fs)); v == matchOne {
		return (*ws).cp(b), (*ws).cp(e), true
	}
	return 0, 0, false
}

type matchVerdict int

const (
	matchNone matchVerdict = iota
	matchOne
	matchMany // several occurrences with both sides matching
)

// quoteSpace is a text searched for quotes: the new text itself, or the new text
// with white space folded. cp maps a byte offset in text (the start of a
// code point, or len(text)) to a code-point offset in the new text.
type quoteSpace struct {
	text string
	cp   func(b int) int
}

// anchorCtx is a coding's stored prefix and suffix, and whether each is long
// enough to count as evidence wherever it matches.
type anchorCtx struct {
	prefix, suffix      string
	longLeft, longRight bool
}

func newAnchorCtx(prefix, suffix string) anchorCtx {
	return anchorCtx{prefix, suffix,
		utf8.RuneCountInString(prefix) >= minSide, utf8.RuneCountInString(suffix) >= minSide}
}

// left reports whether the prefix ends right before byte b and is evidence:
// long enough, or reaching the start of the text.
func (sp quoteSpace) left(b int, c anchorCtx) bool {
	return strings.HasSuffix(sp.text[:b], c.prefix) && (c.longLeft || b == len(c.prefix))
}

// right reports whether the suffix starts at byte e and is evidence: long
// enough, or reaching the end of the text.
func (sp quoteSpace) right(e int, c anchorCtx) bool {
	return strings.HasPrefix(sp.text[e:], c.suffix) && (c.longRight || e+len(c.suffix) == len(sp.text))
}

// find applies rules 2-4 and returns the byte span of the chosen occurrence
// of q.
func (sp quoteSpace) find(q string, ctx anchorCtx) (b, e int, v matchVerdict) {
	var both, one, all int
	var bothAt, oneAt, anyAt int
	for from := 0; from <= len(sp.text); {
		i := strings.Index(sp.text[from:], q)
		if i < 0 {
			break
		}
		at := from + i
		all++
		anyAt = at
		l, r := sp.left(at, ctx), sp.right(at+len(q), ctx)
		switch {
		case l && r:
			both++
			bothAt = at
			if both > 1 {
				return 0, 0, matchMany
			}
		case l || r:
			one++
			oneAt = at
		}
		// Step one code point on, so overlapping occurrences are seen.
		_, w := utf8.DecodeRuneInString(sp.text[at:])
		from = at + max(w, 1)
	}
	switch {
	case both == 1:
		return bothAt, bothAt + len(q), matchOne
	case one == 1:
		return oneAt, oneAt + len(q), matchOne
	case all == 1 && utf8.RuneCountInString(q) >= minLoneQuote:
		return anyAt, anyAt + len(q), matchOne
	}
	return 0, 0, matchNone
}

// foldSpaces returns s with every run of white space replaced by one space.
func foldSpaces(s string) string {
	var sb strings.Builder
	sb.Grow(len(s))
	inSpace := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			if !inSpace {
				sb.WriteByte(' ')
			}
			inSpace = true
			continue
		}
		inSpace = false
		sb.WriteRune(r)
	}
	return sb.String()
}

// foldSpacesIndexed folds white space in text like foldSpaces and keeps, for every byte of
// the folded text, the code point of text where its character begins. A
// folded space stands for a whole run, so the next character's entry is
// where the run ends.
func foldSpacesIndexed(text string) *quoteSpace {
	var sb strings.Builder
	sb.Grow(len(text))
	at := make([]int32, 0, len(text)+1)
	inSpace := false
	cp := int32(0)
	for _, r := range text {
		if unicode.IsSpace(r) {
			if !inSpace {
				sb.WriteByte(' ')
				at = append(at, cp)
			}
			inSpace = true
			cp++
			continue
		}
		inSpace = false
		n := sb.Len()
		sb.WriteRune(r)
		for range sb.Len() - n {
			at = append(at, cp)
		}
		cp++
	}
	at = append(at, cp)
	return &quoteSpace{text: sb.String(), cp: func(b int) int { return int(at[b]) }}
}
