package analysis

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thematic-qda/thematic/analysis/agreement"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// This file turns codings into reliability data for the agreement package:
// for each code, a units x coders table of present (1) and absent (0), where
// a unit is a segment (turn, paragraph or sentence) of the compared sources.
// It also lists the units the coders disagree on, compares the coders'
// spans character by character, and builds consensus codings.

// MaxAgreeCoders is the most coders one agreement run compares.
const MaxAgreeCoders = 64

// Consensus rules besides a coder's name (that coder's codings win).
const (
	ConsensusUnion        = "union"        // every coding of any coder
	ConsensusIntersection = "intersection" // only what every coder coded
)

// AgreeCode is one code compared for agreement. A coding whose code is any of
// IDs counts as coding it: a theme or sub-theme can be compared as a whole,
// its descendants' codings folded in.
type AgreeCode struct {
	ID   string   `json:"id"`
	Name string   `json:"name,omitempty"` // from the codebook; "" when the code is not in it
	IDs  []string `json:"ids"`            // ID first, then its descendants
}

// AgreeCodes chooses the codes to compare.
//
// With ids empty it is every code that any of the coders used on the sources
// srcs (orphaned codings included), each on its own: in codebook order, then
// codes missing from the codebook in name order. With ids it is those codes in
// the order given, each with the codings of its descendants in the codebook
// folded in. An id that is neither in the codebook nor used by any coder on
// srcs is an *errs.InputError. cb may be nil (no codebook).
func AgreeCodes(cb *codebook.Codebook, ids, coders []string, codings map[string][]Coding, srcs []*corpus.Source) ([]AgreeCode, error) {
	inSrcs := make(map[string]bool, len(srcs))
	for _, s := range srcs {
		inSrcs[s.ID] = true
	}
	used := map[string]bool{}
	for _, c := range coders {
		for i := range codings[c] {
			if inSrcs[codings[c][i].Source] {
				used[codings[c][i].Code] = true
			}
		}
	}
	node := func(id string) *codebook.Node {
		if cb == nil {
			return nil
		}
		return cb.Node(id)
	}
	var out []AgreeCode
	if len(ids) == 0 {
		if cb != nil {
			for _, n := range cb.Codes() {
				if used[n.ID] {
					out = append(out, AgreeCode{ID: n.ID, Name: n.Name, IDs: []string{n.ID}})
					delete(used, n.ID)
				}
			}
		}
		rest := make([]string, 0, len(used))
		for id := range used {
			rest = append(rest, id)
		}
		slices.Sort(rest)
		for _, id := range rest {
			out = append(out, AgreeCode{ID: id, IDs: []string{id}})
		}
		return out, nil
	}
	seen := map[string]bool{}
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		n := node(id)
		if n == nil {
			if !used[id] {
				return nil, errs.New("", 0, 0, "--codes: no code %q in the codebook or in the codings of %s", id, strings.Join(coders, ", "))
			}
			out = append(out, AgreeCode{ID: id, IDs: []string{id}})
			continue
		}
		ac := AgreeCode{ID: n.ID, Name: n.Name, IDs: []string{n.ID}}
		for _, d := range n.Descendants() {
			ac.IDs = append(ac.IDs, d.ID)
		}
		out = append(out, ac)
	}
	return out, nil
}

// AgreeSources returns the sources of srcs, in their order, on which at
// least one of the coders has a coding (of any code, orphaned or not).
func AgreeSources(srcs []*corpus.Source, coders []string, codings map[string][]Coding) []*corpus.Source {
	coded := map[string]bool{}
	for _, c := range coders {
		for i := range codings[c] {
			coded[codings[c][i].Source] = true
		}
	}
	var out []*corpus.Source
	for _, s := range srcs {
		if coded[s.ID] {
			out = append(out, s)
		}
	}
	return out
}

// AgreeOptions say how BuildUnitData turns codings into units x coders data.
type AgreeOptions struct {
	Coders []string    // the coders compared: 2 to MaxAgreeCoders distinct names
	Codes  []AgreeCode // the codes compared
	Unit   string      // corpus.UnitTurn, UnitParagraph or UnitSentence
	// MinCover decides when a coder's codings of a code mark a unit present.
	// 0: a coding overlaps the unit by at least one code point. Otherwise,
	// from 0 to 1: the codings (together) cover at least this share of the
	// unit's code points.
	MinCover float64
	// UncodedMissing: a coder who has no coding at all on a source gives no
	// value (missing) for its units, instead of "absent". Percent, Cohen and
	// Fleiss then use only the units every coder has a value for; alpha uses
	// every unit with two values or more.
	UncodedMissing bool
}

// UnitRef names a unit: Sources[Source].Segments[Segment] of a UnitData.
type UnitRef struct {
	Source, Segment int
}

// UnitData is presence data: which coders coded which units with which code.
// Orphaned codings (whose text was lost when a source changed) are left out.
type UnitData struct {
	Coders  []string
	Codes   []AgreeCode
	Unit    string
	Sources []*corpus.Source // the sources compared, with their text
	Units   []UnitRef        // every segment of the unit in Sources, in source and document order
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

// BuildUnitData builds the units x coders presence data of every code in
// opts from the coders' codings (keyed by coder; codings of other sources
// are ignored) on the sources srcs, which must hold their segments and text.
func BuildUnitData(srcs []*corpus.Source, codings map[string][]Coding, opts AgreeOptions) (*UnitData, error) {
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
	ud := &UnitData{
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
				ud.Units = append(ud.Units, UnitRef{Source: s, Segment: g})
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
		byStart := func(a, b UnitRef) int { return cmp.Compare(segs[a.Segment].Start, segs[b.Segment].Start) }
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
				sp := mergeSpans(ud.spans[ki][s][c])
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
					if covered > 0 && covered >= needCover(opts.MinCover, seg.End-seg.Start) {
						marks[u] |= bit
					}
				}
			}
		}
		ud.Marks[ki] = marks
	}
	return ud, nil
}

// needCover is how many code points of a unit of n code points must be
// coded for the unit to count as coded: at least 1, else the share minCover
// of n rounded up.
func needCover(minCover float64, n int) int {
	if minCover <= 0 {
		return 1
	}
	return max(1, int(math.Ceil(minCover*float64(n)-1e-9)))
}

// mergeSpans sorts spans and merges those that overlap or touch, in place.
// Empty and reversed spans are dropped.
func mergeSpans(sp []agreement.Span) []agreement.Span {
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

// Segment returns the segment of unit u.
func (ud *UnitData) Segment(u int) *corpus.Segment {
	r := ud.Units[u]
	return &ud.Sources[r.Source].Segments[r.Segment]
}

// UnitName names unit u as "source:segment", e.g. "p01:t3.p1.s2".
func (ud *UnitData) UnitName(u int) string {
	r := ud.Units[u]
	return ud.Sources[r.Source].ID + ":" + ud.Sources[r.Source].Segments[r.Segment].ID
}

// avail is the mask of coders who give unit u a value.
func (ud *UnitData) avail(u int) uint64 {
	all := uint64(1)<<len(ud.Coders) - 1
	if len(ud.Coders) == 64 {
		all = ^uint64(0)
	}
	if !ud.UncodedMissing {
		return all
	}
	return ud.SourceCoders[ud.Units[u].Source] & all
}

// Values of present/absent data.
var (
	agreePresent = agreement.Num(1)
	agreeAbsent  = agreement.Num(0)
)

// rowCache hands out one shared row of values per pattern of marks, so that
// data over many units holds one small slice per distinct pattern.
type rowCache struct {
	k    int
	rows map[[2]uint64][]agreement.Value
}

func (rc *rowCache) row(mark, avail uint64) []agreement.Value {
	key := [2]uint64{mark & avail, avail}
	if r, ok := rc.rows[key]; ok {
		return r
	}
	r := make([]agreement.Value, rc.k)
	for c := range r {
		switch bit := uint64(1) << c; {
		case avail&bit == 0:
		case mark&bit != 0:
			r[c] = agreePresent
		default:
			r[c] = agreeAbsent
		}
	}
	rc.rows[key] = r
	return r
}

// Data returns the reliability data of Codes[k]: one row per unit, 1 when
// the coder coded the unit with the code, 0 when not, missing when the coder
// gives no value (UncodedMissing and no coding on the unit's source). Rows
// with the same values share one slice: treat them as read-only.
func (ud *UnitData) Data(k int) agreement.Data {
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
func (ud *UnitData) Pooled() agreement.Data {
	rc := rowCache{k: len(ud.Coders), rows: map[[2]uint64][]agreement.Value{}}
	d := agreement.Data{Coders: ud.Coders, Values: make([][]agreement.Value, 0, len(ud.Units)*len(ud.Codes))}
	for _, marks := range ud.Marks {
		for u, m := range marks {
			d.Values = append(d.Values, rc.row(m, ud.avail(u)))
		}
	}
	return d
}

// CodeAgreement is the agreement on one code, or on all codes pooled.
type CodeAgreement struct {
	Code  AgreeCode
	Units int   // units compared (unit x code pairs when pooled)
	Coded []int // per coder, in UnitData.Coders order: units coded with the code
	// The statistics over the units. All are for present/absent data;
	// Brennan-Prediger takes q = 2 categories.
	Percent, Cohen, Fleiss, Alpha, BrennanPrediger agreement.Result
}

// Stats returns the five statistics in report order: percent, Cohen's
// kappa, Fleiss' kappa, Krippendorff's alpha (nominal), Brennan-Prediger.
func (ca CodeAgreement) Stats() []agreement.Result {
	return []agreement.Result{ca.Percent, ca.Cohen, ca.Fleiss, ca.Alpha, ca.BrennanPrediger}
}

// agreeStats computes a CodeAgreement's statistics on d.
func agreeStats(ca *CodeAgreement, d agreement.Data) {
	ca.Units = len(d.Values)
	ca.Percent = agreement.Percent(d)
	ca.Cohen = agreement.Cohen(d)
	ca.Fleiss = agreement.Fleiss(d)
	ca.Alpha = agreement.Krippendorff(d, agreement.Nominal)
	ca.BrennanPrediger = agreement.BrennanPrediger(d, 2)
}

// Agreement computes the statistics of Codes[k], or of all codes pooled when
// k < 0.
func (ud *UnitData) Agreement(k int) CodeAgreement {
	ca := CodeAgreement{Coded: make([]int, len(ud.Coders))}
	var d agreement.Data
	if k < 0 {
		ca.Code = AgreeCode{ID: "(all codes)"}
		d = ud.Pooled()
		for _, marks := range ud.Marks {
			countCoded(ca.Coded, marks)
		}
	} else {
		ca.Code = ud.Codes[k]
		d = ud.Data(k)
		countCoded(ca.Coded, ud.Marks[k])
	}
	agreeStats(&ca, d)
	return ca
}

func countCoded(coded []int, marks []uint64) {
	for _, m := range marks {
		for m != 0 {
			coded[bits.TrailingZeros64(m)]++
			m &= m - 1
		}
	}
}

// CharComparison compares two coders' coding of one code in one source, or
// in all the compared sources together (Source ""), character by character,
// as agreement.CharAgreement does. The counts are characters (code points).
type CharComparison struct {
	Code          string
	Source        string // "" for all sources, taken as one text
	First, Second string // the coders
	Chars         int    // characters of text
	FirstOnly     int    // coded by First, not by Second
	SecondOnly    int    // coded by Second, not by First
	Both          int    // coded by both
	Percent       agreement.Result
	Kappa         agreement.Result
}

// CharComparisons compares every pair of coders on every code, character by
// character over each source's whole text: one row per source where at least
// one of the pair coded the code, then one row over all the sources (their
// texts taken end to end), which counts the sources where neither coded it
// too. With UncodedMissing, sources that either of the pair has no coding on
// are left out of both.
func (ud *UnitData) CharComparisons() []CharComparison {
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
						out = append(out, charRow(code.ID, src.ID, ud.Coders[a], ud.Coders[b], lengths[s], sa, sb))
					}
					for _, x := range sa {
						allA = append(allA, agreement.Span{Start: x.Start + total, End: x.End + total})
					}
					for _, x := range sb {
						allB = append(allB, agreement.Span{Start: x.Start + total, End: x.End + total})
					}
					total += lengths[s]
				}
				out = append(out, charRow(code.ID, "", ud.Coders[a], ud.Coders[b], total, allA, allB))
			}
		}
	}
	return out
}

// charRow compares two lists of sorted, merged spans in a text of n characters.
func charRow(code, source, first, second string, n int, a, b []agreement.Span) CharComparison {
	r := CharComparison{Code: code, Source: source, First: first, Second: second, Chars: n}
	r.Percent, r.Kappa = agreement.CharAgreement(n, a, b)
	la, lb := spanLength(a), spanLength(b)
	r.Both = spanOverlap(a, b)
	r.FirstOnly, r.SecondOnly = la-r.Both, lb-r.Both
	return r
}

func spanLength(sp []agreement.Span) int {
	n := 0
	for _, x := range sp {
		n += x.End - x.Start
	}
	return n
}

// spanOverlap counts the code points in both sorted, merged span lists.
func spanOverlap(a, b []agreement.Span) int {
	n := 0
	for _, x := range spanIntersect(a, b) {
		n += x.End - x.Start
	}
	return n
}

// spanIntersect returns the spans covered by both sorted, merged span lists.
func spanIntersect(a, b []agreement.Span) []agreement.Span {
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

// Disagreement is a unit that the coders who give it a value do not agree
// on for one code: some coded it with the code and some did not.
type Disagreement struct {
	Code       string
	Unit       int // index into UnitData.Units
	Source     string
	Segment    *corpus.Segment
	Text       string   // the unit's text
	CodedBy    []string // coders who coded the unit with the code
	NotCodedBy []string // coders who did not
	Missing    []string // coders without a value (UncodedMissing only)
}

// Disagreements lists the disagreements, code by code (in Codes order),
// each code's in source and document order. The coder lists of
// disagreements with the same pattern share one slice: treat them as
// read-only.
func (ud *UnitData) Disagreements() []Disagreement {
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

// AgreementReport is everything an agreement run reports.
type AgreementReport struct {
	Data          *UnitData
	Codes         []CodeAgreement // per code, in Data.Codes order
	Pooled        CodeAgreement   // all unit x code pairs
	Chars         []CharComparison
	Disagreements []Disagreement
}

// Report computes the statistics of every code and pooled, the
// character-level comparisons and the disagreements.
func (ud *UnitData) Report() *AgreementReport {
	r := &AgreementReport{Data: ud}
	for k := range ud.Codes {
		r.Codes = append(r.Codes, ud.Agreement(k))
	}
	r.Pooled = ud.Agreement(-1)
	r.Chars = ud.CharComparisons()
	r.Disagreements = ud.Disagreements()
	return r
}

// ConsensusResult is what Consensus made.
type ConsensusResult struct {
	Codings []Coding
	// Orphans counts orphaned codings left out: an orphan's position is
	// stale, so it takes no part in an intersection. (Union and a coder's
	// rule copy orphans, still orphaned.)
	Orphans int
}

// Consensus builds the codings of a new coder, into, from the codings of
// coders (keyed by coder) by rule:
//
//   - ConsensusUnion: every coding of any of the coders; a span coded with
//     the same code by several coders is one coding.
//   - ConsensusIntersection: for each source and code, the characters that
//     every coder coded with that code (each coder's codings of the code are
//     merged first); each stretch becomes a coding with a new quote, prefix
//     and suffix from texts (source id -> normalised text). Sources missing
//     from texts are an error.
//   - the name of one of coders: that coder's codings, as they are.
//
// Every coding made belongs to into, has origin "consensus:<rule>", an id
// from CodingID and time t; the memo and segment of a copied coding are
// kept. The result is in canonical order (see Store).
func Consensus(codings map[string][]Coding, coders []string, rule, into string, texts map[string]string, t time.Time) (*ConsensusResult, error) {
	if len(coders) < 2 {
		return nil, errs.New("", 0, 0, "a consensus needs at least 2 coders, got %d", len(coders))
	}
	if err := ValidCoderName(into); err != nil {
		return nil, err
	}
	for i, c := range coders {
		if c == into {
			return nil, errs.New("", 0, 0, "the consensus coder %q is one of the coders compared: choose another name", into)
		}
		if slices.Contains(coders[:i], c) {
			return nil, errs.New("", 0, 0, "coder %q is named twice", c)
		}
	}
	origin := "consensus:" + rule
	copyAll := func(from []string) *ConsensusResult {
		res := &ConsensusResult{}
		for _, c := range from {
			for _, cd := range codings[c] {
				cd.Coder = into
				cd.Origin = origin
				cd.Time = t.UTC().Truncate(time.Second)
				cd.ID = CodingID(cd.Source, cd.Start, cd.End, cd.Code, into)
				res.Codings = append(res.Codings, cd)
			}
		}
		res.Codings = dedupeCodings(res.Codings)
		return res
	}
	switch {
	case rule == ConsensusUnion:
		return copyAll(coders), nil
	case slices.Contains(coders, rule):
		return copyAll([]string{rule}), nil
	case rule != ConsensusIntersection:
		return nil, errs.New("", 0, 0, "--rule %q: use union, intersection or one of the coders (%s)", rule, strings.Join(coders, ", "))
	}

	type key struct{ source, code string }
	res := &ConsensusResult{}
	spans := map[key][][]agreement.Span{}
	type spanKey struct {
		source     string
		start, end int
	}
	segOf := map[spanKey]string{} // a whole segment's id, from the input codings
	for c, coder := range coders {
		for _, cd := range codings[coder] {
			if cd.Orphan {
				res.Orphans++
				continue
			}
			kk := key{cd.Source, cd.Code}
			if spans[kk] == nil {
				spans[kk] = make([][]agreement.Span, len(coders))
			}
			spans[kk][c] = append(spans[kk][c], agreement.Span{Start: cd.Start, End: cd.End})
			if cd.Segment != "" {
				segOf[spanKey{cd.Source, cd.Start, cd.End}] = cd.Segment
			}
		}
	}
	keys := make([]key, 0, len(spans))
	for kk := range spans {
		keys = append(keys, kk)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].source != keys[j].source {
			return keys[i].source < keys[j].source
		}
		return keys[i].code < keys[j].code
	})
	indexes := map[string]*TextIndex{}
	for _, kk := range keys {
		common := mergeSpans(spans[kk][0])
		for _, sp := range spans[kk][1:] {
			common = spanIntersect(common, mergeSpans(sp))
		}
		if len(common) == 0 {
			continue
		}
		x := indexes[kk.source]
		if x == nil {
			text, ok := texts[kk.source]
			if !ok {
				return nil, fmt.Errorf("consensus: no text for source %q, which the coders coded (re-ingest it or remove its codings)", kk.source)
			}
			x = NewTextIndex(text)
			indexes[kk.source] = x
		}
		for _, sp := range common {
			cd, err := x.NewCoding(kk.source, sp.Start, sp.End, kk.code, into, origin, t)
			if err != nil {
				return nil, fmt.Errorf("consensus: source %q, code %q: %w", kk.source, kk.code, err)
			}
			cd.Segment = segOf[spanKey{kk.source, sp.Start, sp.End}]
			res.Codings = append(res.Codings, cd)
		}
	}
	res.Codings = dedupeCodings(res.Codings)
	return res, nil
}

// dedupeCodings sorts codings canonically and keeps the last of each set of
// equal ones (same source, start, end, code and orphan flag), as Save does.
func dedupeCodings(cs []Coding) []Coding {
	keep := canonicalOrder(cs)
	out := make([]Coding, len(keep))
	for k, i := range keep {
		out[k] = cs[i]
	}
	return out
}
