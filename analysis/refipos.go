package analysis

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/unicode/norm"

	"github.com/thematic-qda/thematic/corpus"
)

// RefiPositions is how a REFI-QDA file counts the positions of text
// selections.
type RefiPositions string

// Position conventions met in REFI-QDA files. All count from 0 in the
// source's plain text with its byte order mark left out, the end exclusive.
const (
	// RefiCodePoints counts Unicode code points of the text as stored, CR
	// LF as two: what the standard says (section 10.2).
	RefiCodePoints RefiPositions = "code points"
	// RefiUTF16 counts UTF-16 code units, so a character outside the Basic
	// Multilingual Plane (most emoji) counts twice: what NVivo for Windows
	// writes.
	RefiUTF16 RefiPositions = "UTF-16 code units"
	// RefiCodePointsLF counts code points after CR LF became one line end.
	RefiCodePointsLF RefiPositions = "code points with CR LF as one"
)

// refiPosEdit is a stretch of text that a conversion changes: inLen units from
// in become outLen units from out. Between edits the units match one to one.
type refiPosEdit struct{ in, inLen, out, outLen int }

// refiPosMap converts positions through a list of edits sorted by in.
type refiPosMap []refiPosEdit

// apply converts x. A position inside an edited stretch has no exact
// counterpart: it goes to the stretch's start, or its end when ceil is set.
func (m refiPosMap) apply(x int, ceil bool) (y int, exact bool) {
	i := sort.Search(len(m), func(i int) bool { return m[i].in > x }) - 1
	if i < 0 {
		return x, true
	}
	e := m[i]
	switch {
	case x == e.in:
		return e.out, true
	case x < e.in+e.inLen:
		if ceil {
			return e.out + e.outLen, false
		}
		return e.out, false
	}
	return x - e.in - e.inLen + e.out + e.outLen, true
}

// refiText is the plain text of a REFI source as the file holds it, with
// the maps from the file's positions to code points of the normalised text
// (corpus.NormalizeString) that a source of the project holds.
type refiText struct {
	raw     string     // decoded, byte order mark left out: what the file's positions count
	rawIdx  *TextIndex // code points of raw
	lf      string     // raw with line ends made LF and leading U+FEFF dropped
	lfIdx   *TextIndex
	text    string     // normalised: lf in NFC
	u16     refiPosMap // UTF-16 units of raw -> code points of raw
	toLF    refiPosMap // code points of raw -> code points of lf
	toNFC   refiPosMap // code points of lf -> code points of text
	u16Len  int
	hasCR   bool
	decoded string // how the bytes were decoded, for the report: "" for UTF-8
}

// newRefiText decodes a source's bytes: UTF-8 (the standard's encoding), a
// byte order mark of UTF-8 or UTF-16 dropped, and bytes that are not UTF-8
// read as Windows-1252, as ingest reads them.
func newRefiText(data []byte) *refiText {
	t := &refiText{}
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		t.raw = strings.ToValidUTF8(string(data[3:]), "\uFFFD")
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		e := xunicode.LittleEndian
		if data[0] == 0xFE {
			e = xunicode.BigEndian
		}
		b, _ := xunicode.UTF16(e, xunicode.IgnoreBOM).NewDecoder().Bytes(data[2:])
		t.raw = strings.ToValidUTF8(string(b), "\uFFFD")
		t.decoded = "UTF-16"
	case utf8.Valid(data):
		t.raw = string(data)
	default:
		b, _ := charmap.Windows1252.NewDecoder().Bytes(data)
		t.raw = string(b)
		t.decoded = "Windows-1252"
	}
	t.build()
	return t
}

// build makes the normalised text and the position maps.
func (t *refiText) build() {
	raw := t.raw
	t.rawIdx = NewTextIndex(raw)
	// UTF-16 units -> code points.
	cp, u := 0, 0
	for _, r := range raw {
		if r > 0xFFFF {
			t.u16 = append(t.u16, refiPosEdit{u, 2, cp, 1})
			u += 2
		} else {
			u++
		}
		cp++
	}
	t.u16Len = u
	// Leading U+FEFF dropped, CR LF and CR -> LF.
	var lf strings.Builder
	lf.Grow(len(raw))
	i, o := 0, 0
	s := raw
	if trimmed := strings.TrimLeft(s, "\uFEFF"); len(trimmed) != len(s) {
		k := (len(s) - len(trimmed)) / len("\uFEFF")
		t.toLF = append(t.toLF, refiPosEdit{0, k, 0, 0})
		i += k
		s = trimmed
	}
	for len(s) > 0 {
		j := strings.IndexByte(s, '\r')
		if j < 0 {
			lf.WriteString(s)
			break
		}
		t.hasCR = true
		lf.WriteString(s[:j])
		n := utf8.RuneCountInString(s[:j])
		i, o = i+n, o+n
		lf.WriteByte('\n')
		if strings.HasPrefix(s[j:], "\r\n") {
			t.toLF = append(t.toLF, refiPosEdit{i, 2, o, 1})
			i, o, s = i+2, o+1, s[j+2:]
		} else {
			i, o, s = i+1, o+1, s[j+1:]
		}
	}
	t.lf = lf.String()
	t.lfIdx = t.rawIdx
	if t.hasCR || len(t.toLF) > 0 {
		t.lfIdx = NewTextIndex(t.lf)
	}
	// NFC, segment by segment.
	if norm.NFC.IsNormalString(t.lf) {
		t.text = t.lf
		return
	}
	var out strings.Builder
	out.Grow(len(t.lf))
	var it norm.Iter
	it.InitString(norm.NFC, t.lf)
	in, o2 := 0, 0
	for !it.Done() {
		from := it.Pos()
		seg := it.Next()
		src := t.lf[from:it.Pos()]
		out.Write(seg)
		nIn, nOut := utf8.RuneCountInString(src), utf8.RuneCount(seg)
		if string(seg) != src {
			t.toNFC = append(t.toNFC, refiPosEdit{in, nIn, o2, nOut})
		}
		in, o2 = in+nIn, o2+nOut
	}
	t.text = out.String()
}

// length is the length of the text in the units of conv.
func (t *refiText) length(conv RefiPositions) int {
	switch conv {
	case RefiUTF16:
		return t.u16Len
	case RefiCodePointsLF:
		return t.lfIdx.Len()
	}
	return t.rawIdx.Len()
}

// toText converts a position of the file in convention conv to a code point
// of the normalised text. exact is false when the position falls inside a
// character (half a surrogate pair, between CR and LF, inside a sequence NFC
// composes): it then goes to that character's start, or its end with ceil.
func (t *refiText) toText(x int, conv RefiPositions, ceil bool) (int, bool) {
	exact := true
	var ok bool
	switch conv {
	case RefiUTF16:
		x, ok = t.u16.apply(x, ceil)
		exact = exact && ok
		fallthrough
	case RefiCodePoints:
		x, ok = t.toLF.apply(x, ceil)
		exact = exact && ok
	}
	x, ok = t.toNFC.apply(x, ceil)
	return x, exact && ok
}

// onBoundary reports whether position x of convention conv lies between
// two characters that are not both parts of a word (letters, digits and
// marks), or at either end of the text.
func (t *refiText) onBoundary(x int, conv RefiPositions) bool {
	idx := t.rawIdx
	switch conv {
	case RefiUTF16:
		var exact bool
		if x, exact = t.u16.apply(x, false); !exact {
			return false
		}
	case RefiCodePointsLF:
		idx = t.lfIdx
	}
	if x <= 0 || x >= idx.Len() {
		return x == 0 || x == idx.Len()
	}
	b := idx.byteAt(x)
	before, _ := utf8.DecodeLastRuneInString(idx.text[:b])
	after, _ := utf8.DecodeRuneInString(idx.text[b:])
	return !(refiWordChar(before) && refiWordChar(after))
}

func refiWordChar(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// refiSpan is a selection's positions as the file gives them.
type refiSpan struct{ start, end int }

// RefiPositionEvidence is how many selections each convention puts on word
// boundaries (both ends), the ground on which ReadRefiPositions decides.
type RefiPositionEvidence struct {
	Selections int                   // selections weighed
	OnBoundary map[RefiPositions]int // convention -> selections on word boundaries
}

// detectRefiPositions decides how a file counts positions from its text
// selections: the convention that puts the most of them on word boundaries,
// preferring the standard's code points, then UTF-16 units, on a tie. A
// convention that puts a selection outside its text counts it as off.
func detectRefiPositions(texts []*refiText, spans [][]refiSpan) (RefiPositions, RefiPositionEvidence) {
	ev := RefiPositionEvidence{OnBoundary: map[RefiPositions]int{}}
	convs := []RefiPositions{RefiCodePoints, RefiUTF16}
	for _, t := range texts {
		if t != nil && t.hasCR {
			convs = append(convs, RefiCodePointsLF)
			break
		}
	}
	for i, t := range texts {
		if t == nil {
			continue
		}
		for _, s := range spans[i] {
			ev.Selections++
			for _, c := range convs {
				if s.start >= 0 && s.start < s.end && s.end <= t.length(c) && t.onBoundary(s.start, c) && t.onBoundary(s.end, c) {
					ev.OnBoundary[c]++
				}
			}
		}
	}
	best := RefiCodePoints
	for _, c := range convs {
		if ev.OnBoundary[c] > ev.OnBoundary[best] {
			best = c
		}
	}
	return best, ev
}

// String describes the evidence: "300 of 303 selections on word boundaries
// as UTF-16 code units, 49 as code points".
func (ev RefiPositionEvidence) String() string {
	if ev.Selections == 0 {
		return "no text selections"
	}
	var parts []string
	for _, c := range []RefiPositions{RefiCodePoints, RefiUTF16, RefiCodePointsLF} {
		if n, ok := ev.OnBoundary[c]; ok {
			parts = append(parts, fmt.Sprintf("%d as %s", n, c))
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("none of %d selections on word boundaries", ev.Selections)
	}
	return fmt.Sprintf("of %d selections, on word boundaries: %s", ev.Selections, strings.Join(parts, ", "))
}

// checkNormalised makes sure the text built here is the text ingest would
// store, which the rest of thematic relies on.
func (t *refiText) checkNormalised() error {
	if corpus.NormalizeString(t.raw) != t.text {
		return fmt.Errorf("internal error: the normalised text of a REFI source differs from ingest's")
	}
	return nil
}
