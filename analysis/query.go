package analysis

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// CodeSet is a set of code ids.
type CodeSet map[string]bool

// ExpandCodes returns the set of the codes with the given ids and of every
// node below them in the codebook, so that a theme or sub-theme stands for
// everything filed under it. Ids the codebook does not know (cb may be nil)
// are put in the set as they are and also returned in unknown, in the order
// given, so that a caller can decide whether codings of a code no longer in
// the codebook are wanted or an id was mistyped.
func ExpandCodes(cb *codebook.Codebook, ids []string) (set CodeSet, unknown []string) {
	set = CodeSet{}
	for _, id := range ids {
		var n *codebook.Node
		if cb != nil {
			n = cb.Node(id)
		}
		if n == nil {
			if !set[id] && !slices.Contains(unknown, id) {
				unknown = append(unknown, id)
			}
			set[id] = true
			continue
		}
		set[id] = true
		for _, d := range n.Descendants() {
			set[d.ID] = true
		}
	}
	return set, unknown
}

// CodingFilter picks codings by code, coder and where they are. An empty
// field matches everything; the values of one field are alternatives, and
// every non-empty field must match.
type CodingFilter struct {
	Codes   CodeSet  // nil: any code
	Coders  []string // coder names
	Sources []string // source ids
	Cases   []string // case ids
	// Attrs maps an attribute name to its accepted values. The attributes of
	// a coding are those of its source's case (cases.csv) overridden by the
	// source's own (as corpus.CaseAttrs gives them); "kind" falls back to
	// the source's kind. Values compare without regard to case or to
	// surrounding white space.
	Attrs map[string][]string
}

// Select returns the codings of cs that f keeps, in the order of cs. srcs
// holds the metadata (case, kind, attributes) of the sources by id and cases
// the attributes of cases; when f has Cases or Attrs, a coding whose source
// is not in srcs is left out, since where it belongs is unknown.
func (f *CodingFilter) Select(cs []Coding, srcs map[string]*corpus.Source, cases corpus.Cases) []Coding {
	keep := f.Matcher(srcs, cases)
	var out []Coding
	for i := range cs {
		if keep(&cs[i]) {
			out = append(out, cs[i])
		}
	}
	return out
}

// Matcher returns the test Select applies to each coding, for callers that
// stream codings rather than hold them (see EachCoding). The test remembers
// each source's verdict, so it is meant for one pass over the codings.
func (f *CodingFilter) Matcher(srcs map[string]*corpus.Source, cases corpus.Cases) func(c *Coding) bool {
	placeOK := map[string]bool{} // source id -> passes the source, case and attribute tests
	return func(c *Coding) bool {
		if f.Codes != nil && !f.Codes[c.Code] {
			return false
		}
		if len(f.Coders) > 0 && !slices.Contains(f.Coders, c.Coder) {
			return false
		}
		ok, seen := placeOK[c.Source]
		if !seen {
			ok = f.keepSource(c.Source, srcs[c.Source], cases)
			// A copy of the id: a streamed coding's strings may share
			// memory with a whole piece of its file.
			placeOK[strings.Clone(c.Source)] = ok
		}
		return ok
	}
}

// keepSource applies the source, case and attribute tests to one source.
func (f *CodingFilter) keepSource(id string, src *corpus.Source, cases corpus.Cases) bool {
	if len(f.Sources) > 0 && !slices.Contains(f.Sources, id) {
		return false
	}
	if len(f.Cases) == 0 && len(f.Attrs) == 0 {
		return true
	}
	if src == nil {
		return false
	}
	if len(f.Cases) > 0 && !slices.Contains(f.Cases, src.Case) {
		return false
	}
	if len(f.Attrs) == 0 {
		return true
	}
	attrs := corpus.CaseAttrs(src, cases)
	for name, want := range f.Attrs {
		have, ok := attrs[name]
		if !ok && name == "kind" {
			have, ok = src.Kind, true
		}
		if !ok || !slices.ContainsFunc(want, func(w string) bool {
			return strings.EqualFold(strings.TrimSpace(w), strings.TrimSpace(have))
		}) {
			return false
		}
	}
	return true
}

// CodeQuery is a code query of the kind NVivo users run to read across
// themes: where codes meet, where one appears without another.
//
// The codings of Codes (A) are the query's subject. Each set in And is a
// further operand B that must be present together with A, and Not is a set
// of codes that must be absent. "Together" depends on Unit:
//
//   - Unit "" (overlap): text coded at A and at B. A hit is a stretch of
//     text covered both by a coding of A and by a coding of every And set:
//     the intersection of the spans, with stretches that overlap or touch
//     joined into one. A hit is dropped when any coding of Not overlaps it.
//   - Unit turn, paragraph or sentence: segments. A hit is a segment of the
//     unit that some coding of A and some coding of every And set overlap,
//     and that no coding of Not overlaps.
//
// Without And sets the hits are the codings of A themselves, one hit each,
// less those that a coding of Not overlaps (Unit "") or shares a segment of
// the unit with (Unit turn, paragraph or sentence): "A NOT B".
//
// One coding may serve as more than one operand when the sets share codes
// (a theme AND one of its codes finds that code's codings). Orphaned
// codings take no part in a query, since their positions are stale.
type CodeQuery struct {
	Codes CodeSet   // A; nil means any code
	And   []CodeSet // codes that must be present with A, one set per operand
	Not   CodeSet   // codes that must be absent
	Unit  string    // "", corpus.UnitTurn, corpus.UnitParagraph or corpus.UnitSentence
}

// QueryHit is one result of a CodeQuery: a span of a source's text, and the
// codings of the query's operands (A and the And sets) that overlap it, in
// canonical order.
type QueryHit struct {
	Source  string
	Segment string // the segment of the unit; for a hit that is one coding, that coding's Segment
	Start   int    // code points, inclusive
	End     int    // code points, exclusive
	Codings []Coding
}

// Run applies q to cs, the codings to query (already narrowed by coder,
// source, case or attributes as wanted). segments gives each source's
// segments, of any units; it is needed only when q.Unit is set. Hits come
// in order of source, start and end.
func (q *CodeQuery) Run(cs []Coding, segments map[string][]corpus.Segment) ([]QueryHit, error) {
	switch q.Unit {
	case "", corpus.UnitTurn, corpus.UnitParagraph, corpus.UnitSentence:
	default:
		return nil, fmt.Errorf("unit %q: use turn, paragraph or sentence, or none for overlapping text", q.Unit)
	}
	inA := func(c *Coding) bool { return q.Codes == nil || q.Codes[c.Code] }
	// Group the live codings by source, each in canonical order.
	bySource := map[string][]*Coding{}
	for i := range cs {
		if c := &cs[i]; !c.Orphan {
			bySource[c.Source] = append(bySource[c.Source], c)
		}
	}
	sources := make([]string, 0, len(bySource))
	for id, list := range bySource {
		slices.SortFunc(list, compareCodings)
		sources = append(sources, id)
	}
	slices.Sort(sources)

	var hits []QueryHit
	for _, id := range sources {
		list := bySource[id]
		var units []queryUnit
		if q.Unit != "" {
			units = queryUnits(segments[id], q.Unit)
		}
		pick := func(in func(*Coding) bool) []*Coding {
			var out []*Coding
			for _, c := range list {
				if in(c) {
					out = append(out, c)
				}
			}
			return out
		}
		a := pick(inA)
		if len(a) == 0 {
			continue
		}
		var not []*Coding
		if len(q.Not) > 0 {
			not = pick(func(c *Coding) bool { return q.Not[c.Code] })
		}
		if len(q.And) == 0 {
			hits = append(hits, queryNot(id, a, not, units, q.Unit != "")...)
			continue
		}
		ops := [][]*Coding{a}
		for _, set := range q.And {
			ops = append(ops, pick(func(c *Coding) bool { return set[c.Code] }))
		}
		if q.Unit == "" {
			hits = append(hits, queryOverlap(id, ops, not)...)
		} else {
			hits = append(hits, querySegments(id, ops, not, units)...)
		}
	}
	return hits, nil
}

// queryUnit is a segment of the query's unit.
type queryUnit struct {
	id         string
	start, end int
}

// queryUnits returns the segments of one unit, sorted by start.
func queryUnits(segs []corpus.Segment, unit string) []queryUnit {
	n := 0
	for i := range segs {
		if segs[i].Unit == unit {
			n++
		}
	}
	out := make([]queryUnit, 0, n)
	for i := range segs {
		if s := &segs[i]; s.Unit == unit && s.End > s.Start {
			out = append(out, queryUnit{s.ID, s.Start, s.End})
		}
	}
	slices.SortFunc(out, func(a, b queryUnit) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.end, b.end))
	})
	return out
}

// querySegsOf calls fn with the index in units (sorted, not overlapping)
// of each segment that the span [start, end) overlaps, until fn returns
// true; it reports whether fn did.
func querySegsOf(units []queryUnit, start, end int, fn func(k int) bool) bool {
	i, _ := slices.BinarySearchFunc(units, start, func(s queryUnit, pos int) int {
		if s.end <= pos {
			return -1
		}
		return 1
	})
	for ; i < len(units) && units[i].start < end; i++ {
		if units[i].end > start && fn(i) {
			return true
		}
	}
	return false
}

// queryNot gives each coding of a as a hit unless a coding of not overlaps
// it, or, byUnit, shares a segment of units with it.
func queryNot(source string, a, not []*Coding, units []queryUnit, byUnit bool) []QueryHit {
	var vetoSeg map[int]bool
	var vetoSpans []querySpan
	if len(not) > 0 {
		if byUnit {
			vetoSeg = map[int]bool{}
			for _, c := range not {
				querySegsOf(units, c.Start, c.End, func(k int) bool {
					vetoSeg[k] = true
					return false
				})
			}
		} else {
			vetoSpans = queryMerge(querySpansOf(not), false)
		}
	}
	var hits []QueryHit
	for _, c := range a {
		if byUnit && querySegsOf(units, c.Start, c.End, func(k int) bool { return vetoSeg[k] }) ||
			!byUnit && queryHitsAny(vetoSpans, c.Start, c.End) {
			continue
		}
		hits = append(hits, QueryHit{Source: source, Segment: c.Segment, Start: c.Start, End: c.End, Codings: []Coding{*c}})
	}
	return hits
}

// querySpan is a stretch [start, end) of text.
type querySpan struct{ start, end int }

func querySpansOf(cs []*Coding) []querySpan {
	out := make([]querySpan, len(cs))
	for i, c := range cs {
		out[i] = querySpan{c.Start, c.End}
	}
	return out
}

// queryMerge sorts spans and joins those that overlap, and with touching
// set those that touch, in place.
func queryMerge(spans []querySpan, touching bool) []querySpan {
	slices.SortFunc(spans, func(a, b querySpan) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(a.end, b.end))
	})
	out := spans[:0]
	for _, s := range spans {
		if n := len(out); n > 0 && (s.start < out[n-1].end || touching && s.start == out[n-1].end) {
			out[n-1].end = max(out[n-1].end, s.end)
			continue
		}
		out = append(out, s)
	}
	return out
}

// queryIntersect intersects two sorted lists of disjoint spans.
func queryIntersect(a, b []querySpan) []querySpan {
	var out []querySpan
	for i, j := 0, 0; i < len(a) && j < len(b); {
		s, e := max(a[i].start, b[j].start), min(a[i].end, b[j].end)
		if s < e {
			out = append(out, querySpan{s, e})
		}
		if a[i].end < b[j].end {
			i++
		} else {
			j++
		}
	}
	return out
}

// queryHitsAny reports whether any of the sorted, disjoint spans overlaps
// [start, end).
func queryHitsAny(spans []querySpan, start, end int) bool {
	i, _ := slices.BinarySearchFunc(spans, start, func(s querySpan, pos int) int {
		if s.end <= pos {
			return -1
		}
		return 1
	})
	return i < len(spans) && spans[i].start < end
}

// queryOverlap finds the text every operand in ops codes, less what a
// coding of not overlaps.
func queryOverlap(source string, ops [][]*Coding, not []*Coding) []QueryHit {
	cover := queryMerge(querySpansOf(ops[0]), true)
	for _, op := range ops[1:] {
		cover = queryMerge(queryIntersect(cover, queryMerge(querySpansOf(op), true)), true)
		if len(cover) == 0 {
			return nil
		}
	}
	veto := queryMerge(querySpansOf(not), false)
	var hits []QueryHit
	for _, sp := range cover {
		if queryHitsAny(veto, sp.start, sp.end) {
			continue
		}
		hits = append(hits, QueryHit{Source: source, Start: sp.start, End: sp.end})
	}
	queryAttach(hits, ops)
	return hits
}

// queryAttach gives each hit the codings of ops that overlap it, each once,
// in canonical order. Hits are of one source, sorted and disjoint, so one
// sweep over the codings in order of start does it.
func queryAttach(hits []QueryHit, ops [][]*Coding) {
	seen := map[*Coding]bool{}
	var all []*Coding
	for _, op := range ops {
		for _, c := range op {
			if !seen[c] {
				seen[c] = true
				all = append(all, c)
			}
		}
	}
	slices.SortFunc(all, func(a, b *Coding) int {
		return cmp.Or(compareCodings(a, b), strings.Compare(a.Coder, b.Coder))
	})
	var active []*Coding // codings starting before the hit's end, in canonical order
	j := 0
	for h := range hits {
		start, end := hits[h].Start, hits[h].End
		active = slices.DeleteFunc(active, func(c *Coding) bool { return c.End <= start })
		for ; j < len(all) && all[j].Start < end; j++ {
			active = append(active, all[j])
		}
		for _, c := range active {
			if c.End > start {
				hits[h].Codings = append(hits[h].Codings, *c)
			}
		}
	}
}

// querySegments finds the segments of units that every operand in ops
// overlaps and no coding of not does.
func querySegments(source string, ops [][]*Coding, not []*Coding, units []queryUnit) []QueryHit {
	if len(units) == 0 {
		return nil
	}
	// present[k] counts the operands present in segment k; last[k] is the
	// last operand counted there, so each operand counts once.
	present := make([]int, len(units))
	last := make([]int, len(units))
	for o, op := range ops {
		for _, c := range op {
			querySegsOf(units, c.Start, c.End, func(k int) bool {
				if last[k] != o+1 {
					last[k] = o + 1
					present[k]++
				}
				return false
			})
		}
	}
	for _, c := range not {
		querySegsOf(units, c.Start, c.End, func(k int) bool {
			present[k] = -1
			return false
		})
	}
	var hits []QueryHit
	for k, n := range present {
		if n != len(ops) {
			continue
		}
		u := units[k]
		hits = append(hits, QueryHit{Source: source, Segment: u.id, Start: u.start, End: u.end})
	}
	queryAttach(hits, ops)
	return hits
}

// eachCodingPiece is how much of a codings file EachCoding reads at a time
// (a variable so that tests can make files of many pieces).
var eachCodingPiece = 8 << 20

// EachCoding calls fn with each of the coder's codings in s, in file order,
// reading the file a piece of a few megabytes at a time: a command that goes
// once through the codings of a large project (an export) need not hold
// them all. A missing file has no codings.
//
// fn must not keep c, and the strings of c share memory with the whole
// piece of the file they were read from: copy (strings.Clone) what is kept,
// or the pieces stay in memory. An error from fn stops the scan and is
// returned. A file that Store.Load rejects is rejected with the error Load
// gives, though fn may by then have seen the codings before the faulty line.
func EachCoding(s Store, coder string, fn func(c *Coding) error) error {
	if err := ValidCoderName(coder); err != nil {
		return err
	}
	f, err := os.Open(s.path(coder))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	// loadError is the error Load gives; a piece parsed alone would
	// misnumber lines and miss ids repeated in other pieces.
	loadError := func(fallback error) error {
		if _, err := s.Load(coder); err != nil {
			return err
		}
		return fallback
	}
	seed := maphash.MakeSeed()
	ids := map[uint64]struct{}{} // hashes of the ids seen in earlier pieces
	var rest []byte
	for parsed := 0; ; {
		buf := make([]byte, len(rest), max(eachCodingPiece, 2*len(rest)))
		copy(buf, rest)
		n, err := io.ReadFull(f, buf[len(rest):cap(buf)])
		buf = buf[:len(rest)+n]
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return err
		}
		end := len(buf)
		if !eof {
			if end = bytes.LastIndexByte(buf, '\n') + 1; end == 0 {
				rest = buf // a line longer than the piece: read more of it
				continue
			}
		}
		piece := buf[:end]
		rest = buf[end:]
		if parsed > 0 && bytes.HasPrefix(piece, []byte("\xef\xbb\xbf")) {
			// Only the file's start may hold a byte order mark.
			return loadError(errs.New(s.display(coder), 0, 0, "byte order mark inside the file"))
		}
		cs, err := parseCodings(piece, s.display(coder), coder)
		if err != nil {
			return loadError(err)
		}
		parsed += len(piece)
		// Ids must be unique across the file; parseCodings checked them
		// within the piece.
		for i := range cs {
			h := maphash.String(seed, cs[i].ID)
			if _, dup := ids[h]; dup {
				// Two ids sharing a hash are no error: Load tells.
				if err := loadError(nil); err != nil {
					return err
				}
			}
			ids[h] = struct{}{}
		}
		for i := range cs {
			if err := fn(&cs[i]); err != nil {
				return err
			}
		}
		if eof {
			return nil
		}
	}
}
