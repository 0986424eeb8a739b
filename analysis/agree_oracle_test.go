package analysis

// The implementation of agreement before it streamed sources and counted
// patterns instead of rows (kept verbatim, renamed, as the oracle that the
// new one must agree with: see TestStreamEqualsOldImplementation).

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"unicode/utf8"

	"github.com/thematic-qda/thematic/analysis/agreement"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// oldUnitRef is UnitRef as it was, with int fields.
type oldUnitRef struct {
	Source, Segment int
}

// oldUnitData is presence data: which coders coded which units with which code.
// Orphaned codings (whose text was lost when a source changed) are left out.
type oldUnitData struct {
	Coders  []string
	Codes   []AgreeCode
	Unit    string
	Sources []*corpus.Source // the sources compared, with their text
	Units   []oldUnitRef     // every segment of the unit in Sources, in source and document order
	// Marks[k][u] has bit c set when coder c coded Units[u] with Codes[k].
	Marks [][]uint64
	// SourceCoders[s] has bit c set when coder c has a coding (of any code,
	// orphans included) on Sources[s].
	SourceCoders   []uint64
	UncodedMissing bool
	Orphans        int // orphaned codings of the coders on Sources, left out

	spans     [][][][]agreement.Span // spans[k][s][c]: coder c's merged spans of code k in source s
	unitNames []string
}

// oldBuildUnitData builds the units x coders presence data of every code in
// opts from the coders' codings (keyed by coder; codings of other sources
// are ignored) on the sources srcs, which must hold their segments and text.
func oldBuildUnitData(srcs []*corpus.Source, codings map[string][]Coding, opts AgreeOptions) (*oldUnitData, error) {
	k := len(opts.Coders)
	switch {
	case k < 2:
		return nil, errs.New("", 0, 0, "agreement needs at least 2 coders, got %d", k)
	case k > MaxAgreeCoders:
		return nil, errs.New("", 0, 0, "agreement compares at most %d coders, got %d", MaxAgreeCoders, k)
	case opts.Unit != corpus.UnitTurn && opts.Unit != corpus.UnitParagraph && opts.Unit != corpus.UnitSentence:
		return nil, errs.New("", 0, 0, "unit %q: use turn, paragraph or sentence", opts.Unit)
	case math.IsNaN(opts.MinCover) || opts.MinCover < 0 || opts.MinCover > 1:
		return nil, errs.New("", 0, 0, "minimum cover %v: give a share from 0 to 1", opts.MinCover)
	}
	for i, c := range opts.Coders {
		if slices.Contains(opts.Coders[:i], c) {
			return nil, errs.New("", 0, 0, "coder %q is named twice", c)
		}
	}
	ud := &oldUnitData{
		Coders:         slices.Clone(opts.Coders),
		Codes:          slices.Clone(opts.Codes),
		Unit:           opts.Unit,
		Sources:        srcs,
		SourceCoders:   make([]uint64, len(srcs)),
		UncodedMissing: opts.UncodedMissing,
	}
	srcIdx := make(map[string]int, len(srcs))
	for s, src := range srcs {
		if _, dup := srcIdx[src.ID]; dup {
			return nil, fmt.Errorf("agreement: source %q given twice", src.ID)
		}
		srcIdx[src.ID] = s
		for g := range src.Segments {
			if src.Segments[g].Unit == opts.Unit {
				ud.Units = append(ud.Units, oldUnitRef{Source: s, Segment: g})
			}
		}
	}
	codeIdx := map[string][]int{}
	for ki, ac := range opts.Codes {
		for _, id := range ac.IDs {
			if l := codeIdx[id]; len(l) == 0 || l[len(l)-1] != ki {
				codeIdx[id] = append(l, ki)
			}
		}
	}

	ud.spans = make([][][][]agreement.Span, len(opts.Codes))
	for ki := range ud.spans {
		ud.spans[ki] = make([][][]agreement.Span, len(srcs))
		for s := range ud.spans[ki] {
			ud.spans[ki][s] = make([][]agreement.Span, k)
		}
	}
	for c, coder := range opts.Coders {
		for i := range codings[coder] {
			cd := &codings[coder][i]
			s, ok := srcIdx[cd.Source]
			if !ok {
				continue
			}
			ud.SourceCoders[s] |= 1 << c
			if cd.Orphan {
				ud.Orphans++
				continue
			}
			for _, ki := range codeIdx[cd.Code] {
				ud.spans[ki][s][c] = append(ud.spans[ki][s][c], agreement.Span{Start: cd.Start, End: cd.End})
			}
		}
	}

	// Units of one source are consecutive in ud.Units: bounds[s] is the
	// range of source s's.
	bounds := make([][2]int, len(srcs))
	for u := 0; u < len(ud.Units); {
		s := ud.Units[u].Source
		v := u
		for v < len(ud.Units) && ud.Units[v].Source == s {
			v++
		}
		bounds[s] = [2]int{u, v}
		// The sweep below wants each source's units by position, which is
		// the order Segments gives them in; sort a source built otherwise.
		segs := srcs[s].Segments
		byStart := func(a, b oldUnitRef) int { return cmp.Compare(segs[a.Segment].Start, segs[b.Segment].Start) }
		if !slices.IsSortedFunc(ud.Units[u:v], byStart) {
			slices.SortStableFunc(ud.Units[u:v], byStart)
		}
		u = v
	}

	ud.Marks = make([][]uint64, len(opts.Codes))
	for ki := range ud.Marks {
		marks := make([]uint64, len(ud.Units))
		for s, src := range srcs {
			lo, hi := bounds[s][0], bounds[s][1]
			for c := range k {
				sp := oldMergeSpans(ud.spans[ki][s][c])
				ud.spans[ki][s][c] = sp
				if len(sp) == 0 {
					continue
				}
				bit := uint64(1) << c
				j := 0
				for u := lo; u < hi; u++ {
					seg := &src.Segments[ud.Units[u].Segment]
					for j < len(sp) && sp[j].End <= seg.Start {
						j++
					}
					covered := 0
					for i := j; i < len(sp) && sp[i].Start < seg.End; i++ {
						covered += min(seg.End, sp[i].End) - max(seg.Start, sp[i].Start)
					}
					if covered > 0 && covered >= oldNeedCover(opts.MinCover, seg.End-seg.Start) {
						marks[u] |= bit
					}
				}
			}
		}
		ud.Marks[ki] = marks
	}
	return ud, nil
}

// Segment returns the segment of unit u.
func (ud *oldUnitData) Segment(u int) *corpus.Segment {
	r := ud.Units[u]
	return &ud.Sources[r.Source].Segments[r.Segment]
}

// UnitName names unit u as "source:segment", e.g. "p01:t3.p1.s2".
func (ud *oldUnitData) UnitName(u int) string {
	r := ud.Units[u]
	return ud.Sources[r.Source].ID + ":" + ud.Sources[r.Source].Segments[r.Segment].ID
}

// avail is the mask of coders who give unit u a value.
func (ud *oldUnitData) avail(u int) uint64 {
	all := uint64(1)<<len(ud.Coders) - 1
	if len(ud.Coders) == 64 {
		all = ^uint64(0)
	}
	if !ud.UncodedMissing {
		return all
	}
	return ud.SourceCoders[ud.Units[u].Source] & all
}

// Data returns the reliability data of Codes[k]: one row per unit, 1 when
// the coder coded the unit with the code, 0 when not, missing when the coder
// gives no value (UncodedMissing and no coding on the unit's source). Rows
// with the same values share one slice: treat them as read-only.
func (ud *oldUnitData) Data(k int) agreement.Data {
	if ud.unitNames == nil {
		ud.unitNames = make([]string, len(ud.Units))
		for u := range ud.Units {
			ud.unitNames[u] = ud.UnitName(u)
		}
	}
	rc := rowCache{k: len(ud.Coders), rows: map[[2]uint64][]agreement.Value{}}
	d := agreement.Data{Coders: ud.Coders, Units: ud.unitNames, Values: make([][]agreement.Value, len(ud.Units))}
	for u, m := range ud.Marks[k] {
		d.Values[u] = rc.row(m, ud.avail(u))
	}
	return d
}

// Pooled returns the reliability data of every unit x code pair, each pair a
// unit of its own (units are not named). Rows share slices as in Data.
func (ud *oldUnitData) Pooled() agreement.Data {
	rc := rowCache{k: len(ud.Coders), rows: map[[2]uint64][]agreement.Value{}}
	d := agreement.Data{Coders: ud.Coders, Values: make([][]agreement.Value, 0, len(ud.Units)*len(ud.Codes))}
	for _, marks := range ud.Marks {
		for u, m := range marks {
			d.Values = append(d.Values, rc.row(m, ud.avail(u)))
		}
	}
	return d
}

// oldAgreeStats computes a CodeAgreement's statistics on d.
func oldAgreeStats(ca *CodeAgreement, d agreement.Data) {
	ca.Units = len(d.Values)
	ca.Percent = agreement.Percent(d)
	ca.Cohen = agreement.Cohen(d)
	ca.Fleiss = agreement.Fleiss(d)
	ca.Alpha = agreement.Krippendorff(d, agreement.Nominal)
	ca.BrennanPrediger = agreement.BrennanPrediger(d, 2)
}

// Agreement computes the statistics of Codes[k], or of all codes pooled when
// k < 0.
func (ud *oldUnitData) Agreement(k int) CodeAgreement {
	ca := CodeAgreement{Coded: make([]int, len(ud.Coders))}
	var d agreement.Data
	if k < 0 {
		ca.Code = AgreeCode{ID: "(all codes)"}
		d = ud.Pooled()
		for _, marks := range ud.Marks {
			oldCountCoded(ca.Coded, marks)
		}
	} else {
		ca.Code = ud.Codes[k]
		d = ud.Data(k)
		oldCountCoded(ca.Coded, ud.Marks[k])
	}
	oldAgreeStats(&ca, d)
	return ca
}

func oldCountCoded(coded []int, marks []uint64) {
	for _, m := range marks {
		for m != 0 {
			coded[bits.TrailingZeros64(m)]++
			m &= m - 1
		}
	}
}

// CharComparisons compares every pair of coders on every code, character by
// character over each source's whole text: one row per source where at least
// one of the pair coded the code, then one row over all the sources (their
// texts taken end to end), which counts the sources where neither coded it
// too. With UncodedMissing, sources that either of the pair has no coding on
// are left out of both.
func (ud *oldUnitData) CharComparisons() []CharComparison {
	var out []CharComparison
	lengths := make([]int, len(ud.Sources))
	for s, src := range ud.Sources {
		lengths[s] = utf8.RuneCountInString(src.Text)
	}
	for ki, code := range ud.Codes {
		for a := 0; a < len(ud.Coders); a++ {
			for b := a + 1; b < len(ud.Coders); b++ {
				var allA, allB []agreement.Span
				total := 0
				pair := uint64(1)<<a | uint64(1)<<b
				for s, src := range ud.Sources {
					if ud.UncodedMissing && ud.SourceCoders[s]&pair != pair {
						continue
					}
					sa, sb := ud.spans[ki][s][a], ud.spans[ki][s][b]
					if len(sa)+len(sb) > 0 {
						out = append(out, oldCharRow(code.ID, src.ID, ud.Coders[a], ud.Coders[b], lengths[s], sa, sb))
					}
					for _, x := range sa {
						allA = append(allA, agreement.Span{Start: x.Start + total, End: x.End + total})
					}
					for _, x := range sb {
						allB = append(allB, agreement.Span{Start: x.Start + total, End: x.End + total})
					}
					total += lengths[s]
				}
				out = append(out, oldCharRow(code.ID, "", ud.Coders[a], ud.Coders[b], total, allA, allB))
			}
		}
	}
	return out
}

// oldCharRow compares two lists of sorted, merged spans in a text of n characters.
func oldCharRow(code, source, first, second string, n int, a, b []agreement.Span) CharComparison {
	r := CharComparison{Code: code, Source: source, First: first, Second: second, Chars: n}
	r.Percent, r.Kappa = agreement.CharAgreement(n, a, b)
	la, lb := oldSpanLength(a), oldSpanLength(b)
	r.Both = oldSpanOverlap(a, b)
	r.FirstOnly, r.SecondOnly = la-r.Both, lb-r.Both
	return r
}

func oldSpanLength(sp []agreement.Span) int {
	n := 0
	for _, x := range sp {
		n += x.End - x.Start
	}
	return n
}

// oldSpanOverlap counts the code points in both sorted, merged span lists.
func oldSpanOverlap(a, b []agreement.Span) int {
	n := 0
	for _, x := range oldSpanIntersect(a, b) {
		n += x.End - x.Start
	}
	return n
}

// oldSpanIntersect returns the spans covered by both sorted, merged span lists.
func oldSpanIntersect(a, b []agreement.Span) []agreement.Span {
	var out []agreement.Span
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i].Start, b[j].Start), min(a[i].End, b[j].End)
		if lo < hi {
			out = append(out, agreement.Span{Start: lo, End: hi})
		}
		if a[i].End < b[j].End {
			i++
		} else {
			j++
		}
	}
	return out
}

// Disagreements lists the disagreements, code by code (in Codes order),
// each code's in source and document order. The coder lists of
// disagreements with the same pattern share one slice: treat them as
// read-only.
func (ud *oldUnitData) Disagreements() []Disagreement {
	differ := func(m, av uint64) bool { return m&av != 0 && m&av != av }
	n := 0
	for _, marks := range ud.Marks {
		for u, m := range marks {
			if differ(m, ud.avail(u)) {
				n++
			}
		}
	}
	out := make([]Disagreement, 0, n)
	texts := make([]*TextIndex, len(ud.Sources))
	type who struct{ coded, notCoded, missing []string }
	names := map[[2]uint64]who{}
	for ki, marks := range ud.Marks {
		for u, m := range marks {
			av := ud.avail(u)
			if !differ(m, av) {
				continue
			}
			w, ok := names[[2]uint64{m & av, av}]
			if !ok {
				for c, name := range ud.Coders {
					switch bit := uint64(1) << c; {
					case av&bit == 0:
						w.missing = append(w.missing, name)
					case m&bit != 0:
						w.coded = append(w.coded, name)
					default:
						w.notCoded = append(w.notCoded, name)
					}
				}
				names[[2]uint64{m & av, av}] = w
			}
			r := ud.Units[u]
			src := ud.Sources[r.Source]
			if texts[r.Source] == nil {
				texts[r.Source] = NewTextIndex(src.Text)
			}
			seg := &src.Segments[r.Segment]
			out = append(out, Disagreement{Code: ud.Codes[ki].ID, Unit: u, Source: src.ID, Segment: seg,
				Text: texts[r.Source].Slice(seg.Start, seg.End), CodedBy: w.coded, NotCodedBy: w.notCoded, Missing: w.missing})
		}
	}
	return out
}

// oldReport is AgreementReport as it was.
type oldReport struct {
	Data          *oldUnitData
	Codes         []CodeAgreement
	Pooled        CodeAgreement
	Chars         []CharComparison
	Disagreements []Disagreement
}

// Report computes the statistics of every code and pooled, the
// character-level comparisons and the disagreements.
func (ud *oldUnitData) Report() *oldReport {
	r := &oldReport{Data: ud}
	for k := range ud.Codes {
		r.Codes = append(r.Codes, ud.Agreement(k))
	}
	r.Pooled = ud.Agreement(-1)
	r.Chars = ud.CharComparisons()
	r.Disagreements = ud.Disagreements()
	return r
}

// oldNeedCover is how many code points of a unit of n code points must be
// coded for the unit to count as coded: at least 1, else the share minCover
// of n rounded up.
func oldNeedCover(minCover float64, n int) int {
	if minCover <= 0 {
		return 1
	}
	return max(1, int(math.Ceil(minCover*float64(n)-1e-9)))
}

// oldMergeSpans sorts spans and merges those that overlap or touch, in place.
// Empty and reversed spans are dropped.
func oldMergeSpans(sp []agreement.Span) []agreement.Span {
	if len(sp) == 0 {
		return nil
	}
	slices.SortFunc(sp, func(a, b agreement.Span) int { return cmp.Compare(a.Start, b.Start) })
	out := sp[:0]
	for _, x := range sp {
		if x.End <= x.Start {
			continue
		}
		if n := len(out); n > 0 && x.Start <= out[n-1].End {
			out[n-1].End = max(out[n-1].End, x.End)
			continue
		}
		out = append(out, x)
	}
	return out
}
