package corpus

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"github.com/jdkato/prose/v3/segment"
)

// Segments splits a document into turn, paragraph and sentence segments and
// lists its speakers with their roles.
//
// Turns come from doc.Turns, or from DetectTurns(doc.Text, kind) when
// doc.Turns is nil. Turns are numbered "t1", "t2", ... ("e1", "e2", ... for
// the entries of a diary); a turn's paragraphs (blocks separated by blank
// lines) are "t3.p1", "t3.p2", ...; a paragraph's sentences are "t3.p1.s1",
// .... A turn or paragraph of one block or sentence still has its child
// segment, so every unit covers all of the text of the turns.
//
// Segments are returned in document order, each parent before its
// children: t1, t1.p1, t1.p1.s1, t1.p1.s2, t1.p2, t1.p2.s1, t2, ...
// Every segment's [Start,End) is trimmed of surrounding white space,
// non-empty, and lies inside its parent; Line and EndLine are the 1-based
// lines of its first and last character. Segments inherit Speaker, Role,
// Time and Date from their turn. The same text and turns always give the
// same segments and IDs.
//
// Roles come from RoleOf(speaker, roles). Text without a speaker (a header,
// unlabelled text) has role "other", except in diaries and survey answers,
// where it is the participant's own writing and has role "participant".
// Speakers are listed in order of their first turn, with their turn counts;
// names that differ only in case are one speaker, spelled as first seen.
//
// Turns given in doc.Turns are sorted by Start; offsets outside the text are
// clamped, overlaps are cut off, and turns left empty are skipped.
func Segments(doc Document, kind string, roles map[string]string) (segs []Segment, speakers []Speaker) {
	text := doc.Text
	turns := doc.Turns
	if turns == nil {
		turns = DetectTurns(text, kind)
	} else {
		turns = append([]Turn(nil), turns...)
		sort.SliceStable(turns, func(i, j int) bool { return turns[i].Start < turns[j].Start })
	}
	idx := newCPIndex(text)
	lines := newLineStartIndex(text)
	prefix := "t"
	if kind == KindDiary {
		prefix = "e"
	}
	unnamedRole := RoleOther
	if kind == KindDiary || kind == KindSurvey {
		unnamedRole = RoleParticipant
	}

	// About one segment per 50 bytes of a typical transcript; growing the
	// slice costs more than a generous first guess.
	segs = make([]Segment, 0, 3*len(turns)+len(text)/50)
	// Segment ids are written one after the other into ids and become
	// substrings of one string at the end: one allocation for them all.
	// idEnd[i] is where segment i's id ends; parent[i] is the index of its
	// parent, -1 for a turn.
	ids := make([]byte, 0, cap(segs)*8)
	idEnd := make([]int, 0, cap(segs))
	parent := make([]int, 0, cap(segs))
	idOf := func(i int) []byte {
		s := 0
		if i > 0 {
			s = idEnd[i-1]
		}
		return ids[s:idEnd[i]]
	}
	spk := map[string]int{}      // lower-case name -> index in speakers
	keyOf := map[string]string{} // name as labelled -> lower-case name
	add := func(unit string, par, s, e int, t *Turn, role string) {
		segs = append(segs, Segment{Unit: unit, Start: idx.cp(s), End: idx.cp(e),
			Line: lines.line(s), EndLine: lines.line(e - 1),
			Speaker: t.Speaker, Role: role, Time: t.Time, Date: t.Date})
		idEnd = append(idEnd, len(ids))
		parent = append(parent, par)
	}
	var split sentenceSplitter
	prevEnd, n := 0, 0
	for i := range turns {
		t := turns[i]
		s, e := idx.byteAt(max(t.Start, 0)), idx.byteAt(max(t.End, 0))
		s = max(s, prevEnd)
		s, e = trimByteSpan(text, s, e)
		if s >= e {
			continue
		}
		prevEnd = e
		n++
		role := unnamedRole
		if t.Speaker != "" {
			key, ok := keyOf[t.Speaker]
			if !ok {
				key = strings.ToLower(strings.Join(strings.Fields(t.Speaker), " "))
				keyOf[t.Speaker] = key
			}
			if j, ok := spk[key]; ok {
				t.Speaker = speakers[j].Name
				speakers[j].Turns++
			} else {
				spk[key] = len(speakers)
				speakers = append(speakers, Speaker{Name: t.Speaker, Role: RoleOf(t.Speaker, roles), Turns: 1})
			}
			role = speakers[spk[key]].Role
		}
		ti := len(segs)
		ids = append(ids, prefix...)
		ids = strconv.AppendInt(ids, int64(n), 10)
		add(UnitTurn, -1, s, e, &t, role)
		for pi, p := range paragraphSpans(text, s, e) {
			pidx := len(segs)
			ids = append(ids, idOf(ti)...)
			ids = append(ids, ".p"...)
			ids = strconv.AppendInt(ids, int64(pi+1), 10)
			add(UnitParagraph, ti, p[0], p[1], &t, role)
			for si, sn := range split.spans(text[p[0]:p[1]]) {
				ids = append(ids, idOf(pidx)...)
				ids = append(ids, ".s"...)
				ids = strconv.AppendInt(ids, int64(si+1), 10)
				add(UnitSentence, pidx, p[0]+sn[0], p[0]+sn[1], &t, role)
			}
		}
	}
	all := string(ids)
	from := 0
	for i := range segs {
		segs[i].ID = all[from:idEnd[i]]
		from = idEnd[i]
		if parent[i] >= 0 {
			segs[i].Parent = segs[parent[i]].ID
		}
	}
	return segs, speakers
}

// RoleOf is the role of a speaker name: overrides[name] when given (names
// are matched case-insensitively, surrounding spaces ignored), else the
// default. By default I, Int, Interviewer, Moderator, Facilitator,
// Researcher and Q, optionally numbered ("I2", "Moderator 1"), are
// interviewers; "" is other; every other name (P, R, Participant 3,
// Interviewee, Respondent, Dan, ...) is a participant.
func RoleOf(name string, overrides map[string]string) string {
	key := strings.ToLower(strings.Join(strings.Fields(name), " "))
	for k, v := range overrides {
		if v != "" && strings.ToLower(strings.Join(strings.Fields(k), " ")) == key {
			return strings.ToLower(v)
		}
	}
	if key == "" {
		return RoleOther
	}
	if roleWords[stripNumber(key)] == RoleInterviewer {
		return RoleInterviewer
	}
	return RoleParticipant
}

// paragraphSpans splits text[s:e] into blocks separated by blank lines (lines
// of white space only), each trimmed, as byte offsets into text.
func paragraphSpans(text string, s, e int) [][2]int {
	var out [][2]int
	ps := -1 // start of the current paragraph, -1 between paragraphs
	pe := s  // end of its last non-blank line
	for pos := s; pos < e; {
		le := strings.IndexByte(text[pos:e], '\n')
		if le < 0 {
			le = e
		} else {
			le += pos
		}
		ls, lend := trimByteSpan(text, pos, le)
		if ls < lend {
			if ps < 0 {
				ps = ls
			}
			pe = lend
		} else if ps >= 0 {
			out = append(out, [2]int{ps, pe})
			ps = -1
		}
		pos = le + 1
	}
	if ps >= 0 {
		out = append(out, [2]int{ps, pe})
	}
	return out
}

// sentenceSegmenter is prose's punkt sentence splitter, built once per
// process; its model is shared and it is safe for concurrent use.
var sentenceSegmenter = sync.OnceValues(segment.New)

// sentenceBreakAfter are abbreviations that prose sometimes takes for a
// sentence end ("Mr." before a name): a sentence ending in one is joined to
// the next.
var sentenceBreakAfter = map[string]bool{"mr.": true, "mrs.": true, "ms.": true, "dr.": true, "prof.": true,
	"st.": true, "mt.": true, "rev.": true, "fr.": true, "capt.": true, "col.": true, "gen.": true,
	"lt.": true, "sgt.": true, "hon.": true, "e.g.": true, "i.e.": true, "cf.": true, "vs.": true,
	"approx.": true, "no.": true, "fig.": true}

// sentenceSpans splits a trimmed paragraph into trimmed sentences, as byte
// offsets into p. Sentences are cut where prose starts one, so together they
// cover the whole paragraph; if prose fails (it never should), the
// paragraph is one sentence.
func sentenceSpans(p string) [][2]int {
	var sp sentenceSplitter
	return append([][2]int(nil), sp.spans(p)...)
}

// sentenceSplitter splits paragraphs into sentences, reusing its buffers
// from one paragraph to the next.
type sentenceSplitter struct {
	cuts []int
	out  [][2]int
}

// spans is sentenceSpans; the result is valid until the next call.
func (sp *sentenceSplitter) spans(p string) (out [][2]int) {
	sp.out = append(sp.out[:0], [2]int{0, len(p)}) // the whole paragraph
	// prose breaks sentences only after a word holding '.', '?' or '!'
	// that another word follows: when no word before the last holds one
	// ("Yes.", "And then what happened?"), the paragraph is one sentence.
	if f := strings.IndexAny(p, ".?!"); f < 0 || !strings.ContainsFunc(p[f:], unicode.IsSpace) {
		return sp.out
	}
	seg, err := sentenceSegmenter()
	if err != nil {
		return sp.out
	}
	defer func() {
		if recover() != nil {
			out = append(sp.out[:0], [2]int{0, len(p)})
		}
	}()
	cuts := append(sp.cuts[:0], 0)
	var prevText string
	for _, s := range seg.Segment(p) {
		if s.Start > cuts[len(cuts)-1] && s.Start < len(p) && !joinsNext(prevText) {
			cuts = append(cuts, s.Start)
		}
		prevText = s.Text
	}
	cuts = append(cuts, len(p))
	sp.cuts = cuts
	out = sp.out[:0]
	for i := 0; i+1 < len(cuts); i++ {
		s, e := trimByteSpan(p, cuts[i], cuts[i+1])
		if s < e {
			out = append(out, [2]int{s, e})
		}
	}
	sp.out = out
	return out
}

// joinsNext reports whether a sentence ends with an abbreviation that does
// not end sentences.
func joinsNext(sentence string) bool {
	i := strings.LastIndexAny(sentence, " \t\n(")
	return sentenceBreakAfter[strings.ToLower(sentence[i+1:])]
}

// cpIndex converts between byte offsets and code point offsets in a text,
// with a checkpoint every cpStride bytes. A code point is counted at every
// byte that does not continue a UTF-8 sequence, which for valid UTF-8 is
// exactly one per rune.
type cpIndex struct {
	text  string
	ascii bool
	marks []int // marks[k] = code points in text[:k*cpStride]
}

const cpStride = 256

func newCPIndex(text string) *cpIndex {
	x := &cpIndex{text: text, ascii: true}
	for i := 0; i < len(text); i++ {
		if text[i] >= 0x80 {
			x.ascii = false
			break
		}
	}
	if x.ascii {
		return x
	}
	x.marks = make([]int, 0, len(text)/cpStride+1)
	n := 0
	for i := 0; i < len(text); i++ {
		if i%cpStride == 0 {
			x.marks = append(x.marks, n)
		}
		if text[i]&0xC0 != 0x80 {
			n++
		}
	}
	if len(text)%cpStride == 0 {
		x.marks = append(x.marks, n)
	}
	return x
}

// cp is the code point offset of byte offset b (clamped to the text).
func (x *cpIndex) cp(b int) int {
	b = min(max(b, 0), len(x.text))
	if x.ascii {
		return b
	}
	k := b / cpStride
	n := x.marks[k]
	for i := k * cpStride; i < b; i++ {
		if x.text[i]&0xC0 != 0x80 {
			n++
		}
	}
	return n
}

// byteAt is the byte offset of code point offset c (clamped to the text).
func (x *cpIndex) byteAt(c int) int {
	if c <= 0 {
		return 0
	}
	if x.ascii {
		return min(c, len(x.text))
	}
	// The last checkpoint strictly before c.
	k := sort.Search(len(x.marks), func(k int) bool { return x.marks[k] >= c }) - 1
	n := x.marks[k]
	for i := k * cpStride; i < len(x.text); i++ {
		if x.text[i]&0xC0 != 0x80 {
			if n == c {
				return i
			}
			n++
		}
	}
	return len(x.text)
}

// lineStartIndex finds the line of a byte offset.
type lineStartIndex []int // byte offset of each line start

func newLineStartIndex(text string) lineStartIndex {
	li := lineStartIndex{0}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			li = append(li, i+1)
		}
	}
	return li
}

// line is the 1-based line holding byte offset b.
func (li lineStartIndex) line(b int) int {
	return sort.Search(len(li), func(i int) bool { return li[i] > b })
}
