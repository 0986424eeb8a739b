package analysis

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

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
	return agreeCodes(cb, ids, coders, used)
}

// agreeCodes is AgreeCodes given the codes used on the sources compared
// (used is consumed).
func agreeCodes(cb *codebook.Codebook, ids, coders []string, used map[string]bool) ([]AgreeCode, error) {
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

// AgreeCodings is what agreement needs of the coders' codings, kept
// compactly: for each coding its source, code, span and orphan flag, about
// 20 bytes, where a full Coding with its quote takes several hundred. A
// large project's codings fit in memory this way when their records would
// not; add them a batch at a time and drop each batch.
type AgreeCodings struct {
	coders  []string
	srcs    []string // source ids, in the order first seen
	srcIdx  map[string]int32
	codes   []string // code ids, in the order first seen
	codeIdx map[string]int32
	recs    [][]agreeRec // per coder
}

// agreeRec is one coding in an AgreeCodings: source and code are indices
// into its srcs and codes.
type agreeRec struct {
	src, code  int32
	start, end int32
	orphan     bool
}

// NewAgreeCodings starts an empty set of codings of the coders named.
func NewAgreeCodings(coders []string) *AgreeCodings {
	return &AgreeCodings{
		coders: slices.Clone(coders), srcIdx: map[string]int32{}, codeIdx: map[string]int32{},
		recs: make([][]agreeRec, len(coders)),
	}
}

// Add adds codings of coder, which must be one of the coders named; the
// codings' own Coder fields are not looked at.
func (a *AgreeCodings) Add(coder string, cs []Coding) error {
	c := slices.Index(a.coders, coder)
	if c < 0 {
		return fmt.Errorf("agreement: %q is not one of the coders compared (%s)", coder, strings.Join(a.coders, ", "))
	}
	for i := range cs {
		cd := &cs[i]
		a.recs[c] = append(a.recs[c], agreeRec{
			src: agreeIntern(cd.Source, &a.srcs, a.srcIdx), code: agreeIntern(cd.Code, &a.codes, a.codeIdx),
			start: agreeClamp32(cd.Start), end: agreeClamp32(cd.End), orphan: cd.Orphan,
		})
	}
	return nil
}

// agreeIntern returns s's index in *list, adding it when new.
func agreeIntern(s string, list *[]string, idx map[string]int32) int32 {
	if i, ok := idx[s]; ok {
		return i
	}
	i := int32(len(*list))
	s = strings.Clone(s) // not the codings' strings, which may hold a whole file
	*list = append(*list, s)
	idx[s] = i
	return i
}

// agreeClamp32 brings a position into int32 range. No text of 2^31 code points
// is ever compared, so a position beyond stays beyond every text.
func agreeClamp32(x int) int32 {
	return int32(max(math.MinInt32, min(math.MaxInt32, x)))
}

// Coded reports whether any of the coders has a coding (of any code,
// orphaned or not) on the source.
func (a *AgreeCodings) Coded(source string) bool {
	_, ok := a.srcIdx[source]
	return ok
}

// Codes chooses the codes to compare on the sources srcs, as AgreeCodes
// does.
func (a *AgreeCodings) Codes(cb *codebook.Codebook, ids []string, srcs []*corpus.Source) ([]AgreeCode, error) {
	in := make([]bool, len(a.srcs))
	for _, s := range srcs {
		if i, ok := a.srcIdx[s.ID]; ok {
			in[i] = true
		}
	}
	seen := make([]bool, len(a.codes))
	for _, recs := range a.recs {
		for i := range recs {
			if in[recs[i].src] {
				seen[recs[i].code] = true
			}
		}
	}
	used := map[string]bool{}
	for i, ok := range seen {
		if ok {
			used[a.codes[i]] = true
		}
	}
	return agreeCodes(cb, ids, a.coders, used)
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
	// NoDisagreementText leaves the disagreements without their unit's
	// segment and text (Segment nil, Text ""), for a report that only
	// counts them: on a large project their text takes the most memory.
	NoDisagreementText bool
}

// check validates the options.
func (opts AgreeOptions) check() error {
	k := len(opts.Coders)
	switch {
	case k < 2:
		return errs.New("", 0, 0, "agreement needs at least 2 coders, got %d", k)
	case k > MaxAgreeCoders:
		return errs.New("", 0, 0, "agreement compares at most %d coders, got %d", MaxAgreeCoders, k)
	case opts.Unit != corpus.UnitTurn && opts.Unit != corpus.UnitParagraph && opts.Unit != corpus.UnitSentence:
		return errs.New("", 0, 0, "unit %q: use turn, paragraph or sentence", opts.Unit)
	case math.IsNaN(opts.MinCover) || opts.MinCover < 0 || opts.MinCover > 1:
		return errs.New("", 0, 0, "minimum cover %v: give a share from 0 to 1", opts.MinCover)
	}
	for i, c := range opts.Coders {
		if slices.Contains(opts.Coders[:i], c) {
			return errs.New("", 0, 0, "coder %q is named twice", c)
		}
	}
	return nil
}

// UnitRef names a unit: Sources[Source].Segments[Segment] of a UnitData.
type UnitRef struct {
	Source, Segment int32
}

// UnitData is presence data: which coders coded which units with which code.
// Orphaned codings (whose text was lost when a source changed) are left out.
//
// It holds, per code, only the units some coder coded, so its size grows
// with the codings rather than with units x codes; the statistics count
// patterns of marks (see agreement.Data's Weights) rather than rows. Built
// by StreamUnitData it keeps no source text or segments: the
// character-level comparisons and the disagreements (with their text) are
// worked out while each source is at hand.
type UnitData struct {
	Coders  []string
	Codes   []AgreeCode
	Unit    string
	Sources []*corpus.Source // the sources compared: with their text and segments only from BuildUnitData
	Units   []UnitRef        // every segment of the unit in Sources, in source and document order
	// Marks[k][u] has bit c set when coder c coded Units[u] with Codes[k].
	// Only BuildUnitData fills it (StreamUnitData leaves it nil: it takes
	// units x codes words); Mark works either way.
	Marks [][]uint64
	// SourceCoders[s] has bit c set when coder c has a coding (of any code,
	// orphans included) on Sources[s].
	SourceCoders   []uint64
	UncodedMissing bool
	Orphans        int // orphaned codings of the coders on Sources, left out

	kept      bool                             // Sources hold their text and segments
	marked    [][]agreeMark                    // per code: the units some coder coded with it, in unit order
	byAvail   map[uint64]int                   // units per mask of the coders who give them a value
	pairs     [][2]int                         // the pairs of coders, a < b, in report order
	chars     [][]agreeCharCount               // per code: per-source comparisons, by pair, then source
	badChars  map[[3]int32][2]agreement.Result // by code, source, pair: rows with a span outside the text
	pooled    []agreeCharTotal                 // per code x pair: the sums over the sources
	pairChars []int                            // per pair: characters of the sources it compares
	dis       [][]agreeDisEntry
	disKept   []agreeDisKept   // BuildUnitData: the disagreeing units' segments and text
	disUnits  []agreeDisUnit   // StreamUnitData: the same, packed
	arena     [][]byte         // the packed units' text, id and parent
	names     []string         // the packed units' speakers, roles, times and dates
	nameIdx   map[string]int32 // while building: index of a name in names
	unitNames []string
}

// agreeMark is a unit that some coder coded with a code, and who did.
type agreeMark struct {
	unit, src int32
	mark      uint64
}

// agreeCharCount is the character-level comparison of one pair of coders on one
// code in one source, as counts: the source's characters, the characters
// coded by the first coder, by the second, and by both.
type agreeCharCount struct {
	src             int32
	pair            int32
	n, la, lb, both int32
}

// agreeCharTotal sums agreeCharCounts over the sources; note, when not empty, makes
// the comparison undefined (a span lay outside its source's text).
type agreeCharTotal struct {
	la, lb, both int
	note         string
}

// agreeDisEntry is a disagreement: a unit, its text and segment (info
// indexes disKept or disUnits; -1 without them), the mask of coders who
// coded it and of those who give it a value.
type agreeDisEntry struct {
	unit, info  int32
	mark, avail uint64
}

// agreeDisKept is a disagreeing unit's segment and text, in the sources
// BuildUnitData keeps.
type agreeDisKept struct {
	seg  *corpus.Segment
	text string
}

// agreeDisUnit is a disagreeing unit's segment and text, packed: the id,
// the parent's id and the text one after another in an arena chunk, the
// other strings as indexes into names.
type agreeDisUnit struct {
	chunk, off                int32
	idLen, parentLen, textLen int32
	speaker, role, time, date int32
	line, endLine, start, end int32
}

// agreeChunk is the size of the arena's chunks.
const agreeChunk = 1 << 20

// BuildUnitData builds the units x coders presence data of every code in
// opts from the coders' codings (keyed by coder; codings of other sources
// are ignored) on the sources srcs, which must hold their segments and text
// and are kept in the result. For a large project, where holding every
// source and coding would take too much memory, use StreamUnitData.
func BuildUnitData(srcs []*corpus.Source, codings map[string][]Coding, opts AgreeOptions) (*UnitData, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	cs := NewAgreeCodings(opts.Coders)
	for _, c := range opts.Coders {
		if err := cs.Add(c, codings[c]); err != nil {
			return nil, err
		}
	}
	ud, err := streamUnitData(srcs, func(i int) (*corpus.Source, error) { return srcs[i], nil }, cs, opts, true)
	if err != nil {
		return nil, err
	}
	ud.Marks = make([][]uint64, len(ud.Codes))
	for k := range ud.Marks {
		ud.Marks[k] = make([]uint64, len(ud.Units))
		for _, m := range ud.marked[k] {
			ud.Marks[k][m.unit] = m.mark
		}
	}
	return ud, nil
}

// StreamUnitData builds the presence data as BuildUnitData does, reading
// the sources one at a time: srcs are the sources to compare, which need
// not hold their text or segments (the metadata of Project.SourceInfos
// will do) and are kept in the result; load(i) returns srcs[i] with its
// text and segments, and is dropped once used. load is called from several
// goroutines at once, a few sources ahead. Memory holds the codings cs
// (compact), the units (8 bytes each), the units each code marks, and the
// disagreements' text.
func StreamUnitData(srcs []*corpus.Source, load func(i int) (*corpus.Source, error), cs *AgreeCodings, opts AgreeOptions) (*UnitData, error) {
	return streamUnitData(srcs, load, cs, opts, false)
}

// streamUnitData is StreamUnitData; kept says that srcs hold their text
// and segments, which the data may then point into.
func streamUnitData(srcs []*corpus.Source, load func(i int) (*corpus.Source, error), cs *AgreeCodings, opts AgreeOptions, kept bool) (*UnitData, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if !slices.Equal(cs.coders, opts.Coders) {
		return nil, fmt.Errorf("agreement: codings of %s, options name %s", strings.Join(cs.coders, ", "), strings.Join(opts.Coders, ", "))
	}
	b, err := newAgreeBuilder(srcs, cs, opts)
	if err != nil {
		return nil, err
	}
	b.ud.kept = kept
	err = corpus.ReadAhead(len(srcs), load, func(s int, src *corpus.Source) error {
		if src == nil || src.ID != srcs[s].ID {
			return fmt.Errorf("agreement: loading source %q gave another", srcs[s].ID)
		}
		return b.source(s, src)
	})
	if err != nil {
		return nil, err
	}
	return b.finish(), nil
}

// agreeBuilder is StreamUnitData's state between sources.
type agreeBuilder struct {
	ud      *UnitData
	opts    AgreeOptions
	cs      *AgreeCodings
	k       int
	all     uint64    // mask of every coder
	order   [][]int32 // per coder: its records' indices, by source compared
	offs    [][]int32 // per coder: order[c][offs[c][s]:offs[c][s+1]] are on srcs[s]
	codeKs  [][]int32 // per code of cs: the codes compared that it counts for
	spans   [][]agreement.Span
	touched []int
	isTouch []bool
	marks   []uint64 // per unit of the source
	cover   []int    // per unit of the source
	hit     []int32  // units of the source with some cover
}

func newAgreeBuilder(srcs []*corpus.Source, cs *AgreeCodings, opts AgreeOptions) (*agreeBuilder, error) {
	k := len(opts.Coders)
	ud := &UnitData{
		Coders:         slices.Clone(opts.Coders),
		Codes:          slices.Clone(opts.Codes),
		Unit:           opts.Unit,
		Sources:        srcs,
		SourceCoders:   make([]uint64, len(srcs)),
		UncodedMissing: opts.UncodedMissing,
		marked:         make([][]agreeMark, len(opts.Codes)),
		byAvail:        map[uint64]int{},
		chars:          make([][]agreeCharCount, len(opts.Codes)),
		badChars:       map[[3]int32][2]agreement.Result{},
		dis:            make([][]agreeDisEntry, len(opts.Codes)),
	}
	for a := range k {
		for b := a + 1; b < k; b++ {
			ud.pairs = append(ud.pairs, [2]int{a, b})
		}
	}
	ud.pooled = make([]agreeCharTotal, len(opts.Codes)*len(ud.pairs))
	ud.pairChars = make([]int, len(ud.pairs))
	b := &agreeBuilder{ud: ud, opts: opts, cs: cs, k: k, all: agreeMask(k),
		spans: make([][]agreement.Span, len(opts.Codes)*k), isTouch: make([]bool, len(opts.Codes))}

	pos := make([]int32, len(cs.srcs)) // source of cs -> index in srcs, or -1
	for i := range pos {
		pos[i] = -1
	}
	seen := make(map[string]bool, len(srcs))
	for s, src := range srcs {
		if seen[src.ID] {
			return nil, fmt.Errorf("agreement: source %q given twice", src.ID)
		}
		seen[src.ID] = true
		if i, ok := cs.srcIdx[src.ID]; ok {
			pos[i] = int32(s)
		}
	}
	b.order = make([][]int32, k)
	b.offs = make([][]int32, k)
	for c, recs := range cs.recs {
		offs := make([]int32, len(srcs)+1)
		for i := range recs {
			if p := pos[recs[i].src]; p >= 0 {
				offs[p+1]++
				ud.SourceCoders[p] |= 1 << c
				if recs[i].orphan {
					ud.Orphans++
				}
			}
		}
		for s := range srcs {
			offs[s+1] += offs[s]
		}
		order := make([]int32, offs[len(srcs)])
		fill := slices.Clone(offs[:len(srcs)])
		for i := range recs {
			if p := pos[recs[i].src]; p >= 0 {
				order[fill[p]] = int32(i)
				fill[p]++
			}
		}
		b.order[c], b.offs[c] = order, offs
	}
	b.codeKs = make([][]int32, len(cs.codes))
	for ki, ac := range opts.Codes {
		for _, id := range ac.IDs {
			if i, ok := cs.codeIdx[id]; ok {
				if l := b.codeKs[i]; len(l) == 0 || l[len(l)-1] != int32(ki) {
					b.codeKs[i] = append(l, int32(ki))
				}
			}
		}
	}
	return b, nil
}

// agreeMask is the mask of k coders.
func agreeMask(k int) uint64 {
	if k >= 64 {
		return ^uint64(0)
	}
	return uint64(1)<<k - 1
}

// source adds srcs[s], src being it with its text and segments.
func (b *agreeBuilder) source(s int, src *corpus.Source) error {
	ud, k := b.ud, b.k
	n := utf8.RuneCountInString(src.Text)
	if n > math.MaxInt32 || len(src.Segments) > math.MaxInt32 {
		return fmt.Errorf("agreement: source %q is too long to compare", src.ID)
	}
	segs := src.Segments
	base := len(ud.Units)
	for g := range segs {
		if segs[g].Unit == b.opts.Unit {
			ud.Units = append(ud.Units, UnitRef{Source: int32(s), Segment: int32(g)})
		}
	}
	units := ud.Units[base:]
	// The sweeps below want the units by position, which is the order
	// Segments gives them in; sort a source built otherwise.
	byStart := func(a, b UnitRef) int { return cmp.Compare(segs[a.Segment].Start, segs[b.Segment].Start) }
	if !slices.IsSortedFunc(units, byStart) {
		slices.SortStableFunc(units, byStart)
	}
	endsSorted := slices.IsSortedFunc(units, func(a, b UnitRef) int { return cmp.Compare(segs[a.Segment].End, segs[b.Segment].End) })
	avail := b.all
	if ud.UncodedMissing {
		avail &= ud.SourceCoders[s]
	}
	ud.byAvail[avail] += len(units)
	if cap(b.marks) < len(units) {
		b.marks = make([]uint64, len(units))
		b.cover = make([]int, len(units))
	}
	marks, cover := b.marks[:len(units)], b.cover[:len(units)]

	// Each coder's spans of each code compared.
	for c := range k {
		recs := b.cs.recs[c]
		for _, i := range b.order[c][b.offs[c][s]:b.offs[c][s+1]] {
			r := &recs[i]
			if r.orphan {
				continue
			}
			for _, ki := range b.codeKs[r.code] {
				if !b.isTouch[ki] {
					b.isTouch[ki] = true
					b.touched = append(b.touched, int(ki))
				}
				sp := &b.spans[int(ki)*k+c]
				*sp = append(*sp, agreement.Span{Start: int(r.start), End: int(r.end)})
			}
		}
	}
	slices.Sort(b.touched)

	var text *TextIndex
	infoOf := map[int]int32{} // unit of this source -> its disagreement info
	for _, ki := range b.touched {
		spans := b.spans[ki*k : (ki+1)*k]
		for c := range spans {
			spans[c] = mergeSpans(spans[c])
			if len(spans[c]) > 0 {
				b.mark(spans[c], segs, units, endsSorted, marks, cover, uint64(1)<<c)
			}
		}
		slices.Sort(b.hit)
		b.hit = slices.Compact(b.hit)
		for _, u := range b.hit {
			m := marks[u]
			marks[u] = 0
			if m == 0 {
				continue
			}
			unit := int32(base + int(u))
			ud.marked[ki] = append(ud.marked[ki], agreeMark{unit: unit, src: int32(s), mark: m})
			if m&avail == 0 || m&avail == avail {
				continue
			}
			info, ok := infoOf[int(u)]
			if !ok && !b.opts.NoDisagreementText {
				if text == nil {
					text = NewTextIndex(src.Text)
				}
				info = b.disUnit(&segs[units[u].Segment], text)
				infoOf[int(u)] = info
			} else if !ok {
				info = -1
			}
			ud.dis[ki] = append(ud.dis[ki], agreeDisEntry{unit: unit, info: info, mark: m & avail, avail: avail})
		}
		b.hit = b.hit[:0]

		for p, pr := range ud.pairs {
			pm := uint64(1)<<pr[0] | uint64(1)<<pr[1]
			if ud.UncodedMissing && ud.SourceCoders[s]&pm != pm {
				continue
			}
			sa, sb := spans[pr[0]], spans[pr[1]]
			if len(sa)+len(sb) == 0 {
				continue
			}
			la, lb, both := spanLength(sa), spanLength(sb), spanOverlap(sa, sb)
			row := agreeCharCount{src: int32(s), pair: int32(p), n: int32(n), la: int32(la), lb: int32(lb), both: int32(both)}
			tot := &ud.pooled[ki*len(ud.pairs)+p]
			tot.la += la
			tot.lb += lb
			tot.both += both
			if spanOutside(sa, n) || spanOutside(sb, n) || la > n || lb > n {
				pc, kc := agreement.CharAgreement(n, sa, sb)
				ud.badChars[[3]int32{int32(ki), int32(s), int32(p)}] = [2]agreement.Result{pc, kc}
				if tot.note == "" {
					tot.note = "source " + src.ID + ": " + pc.Note
				}
				row.la, row.lb, row.both = int32(min(la, math.MaxInt32)), int32(min(lb, math.MaxInt32)), int32(min(both, math.MaxInt32))
			}
			ud.chars[ki] = append(ud.chars[ki], row)
		}
		for c := range spans {
			spans[c] = spans[c][:0]
		}
		b.isTouch[ki] = false
	}
	b.touched = b.touched[:0]
	for p, pr := range ud.pairs {
		pm := uint64(1)<<pr[0] | uint64(1)<<pr[1]
		if !ud.UncodedMissing || ud.SourceCoders[s]&pm == pm {
			ud.pairChars[p] += n
		}
	}
	return nil
}

// mark sets bit in marks[u] for each unit u that the sorted, merged spans
// cover enough, and lists the units it looked at in b.hit. When the units'
// ends are in order as their starts are (units of one kind do not nest),
// each span finds its units by binary search; otherwise every unit is
// swept.
func (b *agreeBuilder) mark(sp []agreement.Span, segs []corpus.Segment, units []UnitRef, endsSorted bool, marks []uint64, cover []int, bit uint64) {
	seg := func(u int) *corpus.Segment { return &segs[units[u].Segment] }
	add := func(u int, x agreement.Span) {
		sg := seg(u)
		if c := min(sg.End, x.End) - max(sg.Start, x.Start); c > 0 {
			if cover[u] == 0 {
				b.hit = append(b.hit, int32(u))
			}
			cover[u] += c
		}
	}
	if endsSorted {
		u := 0
		for _, x := range sp {
			// The first unit ending after x starts.
			u += sort.Search(len(units)-u, func(i int) bool { return seg(u+i).End > x.Start })
			for v := u; v < len(units) && seg(v).Start < x.End; v++ {
				add(v, x)
			}
		}
	} else {
		j := 0
		for u := range units {
			sg := seg(u)
			for j < len(sp) && sp[j].End <= sg.Start {
				j++
			}
			if j == len(sp) {
				break
			}
			for i := j; i < len(sp) && sp[i].Start < sg.End; i++ {
				add(u, sp[i])
			}
		}
	}
	// Judge the units this coder covered; b.hit may hold other coders'
	// units too, whose cover is 0 here.
	for _, u := range b.hit {
		if c := cover[u]; c > 0 {
			sg := seg(int(u))
			if c >= needCover(b.opts.MinCover, sg.End-sg.Start) {
				marks[u] |= bit
			}
			cover[u] = 0
		}
	}
}

// disUnit keeps what a disagreement shows of a unit, its segment and
// text, and returns its index: the source's own when the sources are kept,
// else a packed copy.
func (b *agreeBuilder) disUnit(seg *corpus.Segment, text *TextIndex) int32 {
	ud := b.ud
	t := text.Slice(seg.Start, seg.End)
	if ud.kept {
		ud.disKept = append(ud.disKept, agreeDisKept{seg: seg, text: t})
		return int32(len(ud.disKept) - 1)
	}
	n := len(seg.ID) + len(seg.Parent) + len(t)
	last := len(ud.arena) - 1
	if last < 0 || len(ud.arena[last])+n > cap(ud.arena[last]) {
		ud.arena = append(ud.arena, make([]byte, 0, max(agreeChunk, n)))
		last++
	}
	c := ud.arena[last]
	du := agreeDisUnit{chunk: int32(last), off: int32(len(c)),
		idLen: int32(len(seg.ID)), parentLen: int32(len(seg.Parent)), textLen: int32(len(t)),
		speaker: b.name(seg.Speaker), role: b.name(seg.Role), time: b.name(seg.Time), date: b.name(seg.Date),
		line: int32(seg.Line), endLine: int32(seg.EndLine), start: int32(seg.Start), end: int32(seg.End)}
	c = append(c, seg.ID...)
	c = append(c, seg.Parent...)
	ud.arena[last] = append(c, t...)
	ud.disUnits = append(ud.disUnits, du)
	return int32(len(ud.disUnits) - 1)
}

// name interns a short string of a packed unit.
func (b *agreeBuilder) name(s string) int32 {
	ud := b.ud
	if i, ok := ud.nameIdx[s]; ok {
		return i
	}
	if ud.nameIdx == nil {
		ud.nameIdx = map[string]int32{}
	}
	s = strings.Clone(s)
	ud.names = append(ud.names, s)
	ud.nameIdx[s] = int32(len(ud.names) - 1)
	return int32(len(ud.names) - 1)
}

// disSegment returns the segment and text of disagreement info i: a new
// Segment for a packed unit (its strings point into the arena).
func (ud *UnitData) disSegment(i int32) (*corpus.Segment, string) {
	switch {
	case i < 0:
		return nil, ""
	case ud.kept:
		return ud.disKept[i].seg, ud.disKept[i].text
	}
	du := &ud.disUnits[i]
	c := ud.arena[du.chunk]
	str := func(off, n int32) string {
		if n == 0 {
			return ""
		}
		return unsafe.String(&c[off], n) // arena bytes are never written again
	}
	id := str(du.off, du.idLen)
	parent := str(du.off+du.idLen, du.parentLen)
	text := str(du.off+du.idLen+du.parentLen, du.textLen)
	return &corpus.Segment{ID: id, Unit: ud.Unit, Parent: parent, Start: int(du.start), End: int(du.end),
		Line: int(du.line), EndLine: int(du.endLine), Speaker: ud.names[du.speaker], Role: ud.names[du.role],
		Time: ud.names[du.time], Date: ud.names[du.date]}, text
}

// spanOutside reports whether a span of sp reaches outside a text of n code
// points.
func spanOutside(sp []agreement.Span, n int) bool {
	for _, x := range sp {
		if x.Start < 0 || x.End > n {
			return true
		}
	}
	return false
}

// finish orders what the sources gave and returns the data.
func (b *agreeBuilder) finish() *UnitData {
	ud := b.ud
	if len(ud.pairs) > 1 {
		for _, rows := range ud.chars {
			slices.SortStableFunc(rows, func(x, y agreeCharCount) int { return cmp.Compare(x.pair, y.pair) })
		}
	}
	ud.nameIdx = nil
	return ud
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
		return sp
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

// Mark returns the mask of the coders who coded Units[u] with Codes[k].
func (ud *UnitData) Mark(k, u int) uint64 {
	if ud.Marks != nil {
		return ud.Marks[k][u]
	}
	ms := ud.marked[k]
	if i, ok := slices.BinarySearchFunc(ms, int32(u), func(m agreeMark, u int32) int { return cmp.Compare(m.unit, u) }); ok {
		return ms[i].mark
	}
	return 0
}

// Segment returns the segment of unit u, or nil when the sources were not
// kept (StreamUnitData).
func (ud *UnitData) Segment(u int) *corpus.Segment {
	if !ud.kept {
		return nil
	}
	r := ud.Units[u]
	return &ud.Sources[r.Source].Segments[r.Segment]
}

// UnitName names unit u as "source:segment", e.g. "p01:t3.p1.s2"; when the
// sources were not kept (StreamUnitData), as "source:#n", the unit's
// place among its source's segments from 1.
func (ud *UnitData) UnitName(u int) string {
	r := ud.Units[u]
	if !ud.kept {
		return ud.Sources[r.Source].ID + ":#" + strconv.Itoa(int(r.Segment)+1)
	}
	return ud.Sources[r.Source].ID + ":" + ud.Sources[r.Source].Segments[r.Segment].ID
}

// availOf is the mask of coders who give the units of source s a value.
func (ud *UnitData) availOf(s int32) uint64 {
	all := agreeMask(len(ud.Coders))
	if !ud.UncodedMissing {
		return all
	}
	return ud.SourceCoders[s] & all
}

// avail is the mask of coders who give unit u a value.
func (ud *UnitData) avail(u int) uint64 { return ud.availOf(ud.Units[u].Source) }

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
// with the same values share one slice: treat them as read-only. It takes
// a row per unit; Agreement needs only a row per pattern (see Weighted).
func (ud *UnitData) Data(k int) agreement.Data {
	if ud.unitNames == nil {
		ud.unitNames = make([]string, len(ud.Units))
		for u := range ud.Units {
			ud.unitNames[u] = ud.UnitName(u)
		}
	}
	rc := rowCache{k: len(ud.Coders), rows: map[[2]uint64][]agreement.Value{}}
	d := agreement.Data{Coders: ud.Coders, Units: ud.unitNames, Values: make([][]agreement.Value, len(ud.Units))}
	ms := ud.marked[k]
	for u := range ud.Units {
		var m uint64
		if len(ms) > 0 && int(ms[0].unit) == u {
			m, ms = ms[0].mark, ms[1:]
		}
		d.Values[u] = rc.row(m, ud.avail(u))
	}
	return d
}

// Pooled returns the reliability data of every unit x code pair, each pair a
// unit of its own (units are not named). Rows share slices as in Data. It
// takes a row per unit and code; Agreement(-1) needs only a row per pattern.
func (ud *UnitData) Pooled() agreement.Data {
	d := agreement.Data{Coders: ud.Coders, Values: make([][]agreement.Value, 0, len(ud.Units)*len(ud.Codes))}
	for k := range ud.Codes {
		d.Values = append(d.Values, ud.Data(k).Values...)
	}
	return d
}

// Weighted returns the reliability data of Codes[k], or of all codes
// pooled when k < 0, as one weighted row per pattern of values (see
// agreement.Data's Weights): the statistics on it are those on Data(k), or
// Pooled(), at a fraction of the memory.
func (ud *UnitData) Weighted(k int) agreement.Data {
	codes := []int{k}
	if k < 0 {
		codes = codes[:0]
		for k := range ud.Codes {
			codes = append(codes, k)
		}
	}
	count := map[[2]uint64]int{}
	marked := map[uint64]int{} // per avail: units x codes with some mark
	for _, k := range codes {
		for _, m := range ud.marked[k] {
			av := ud.availOf(m.src)
			count[[2]uint64{m.mark & av, av}]++
			marked[av]++
		}
	}
	for av, n := range ud.byAvail {
		count[[2]uint64{0, av}] += n*len(codes) - marked[av]
	}
	keys := make([][2]uint64, 0, len(count))
	for key, n := range count {
		if n > 0 {
			keys = append(keys, key)
		}
	}
	slices.SortFunc(keys, func(a, b [2]uint64) int {
		if c := cmp.Compare(a[1], b[1]); c != 0 {
			return c
		}
		return cmp.Compare(a[0], b[0])
	})
	rc := rowCache{k: len(ud.Coders), rows: map[[2]uint64][]agreement.Value{}}
	d := agreement.Data{Coders: ud.Coders, Values: make([][]agreement.Value, len(keys)), Weights: make([]int, len(keys))}
	for i, key := range keys {
		d.Values[i] = rc.row(key[0], key[1])
		d.Weights[i] = count[key]
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
	ca.Units = 0
	for u := range d.Values {
		if d.Weights == nil {
			ca.Units++
		} else {
			ca.Units += d.Weights[u]
		}
	}
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
	if k < 0 {
		ca.Code = AgreeCode{ID: "(all codes)"}
		for _, ms := range ud.marked {
			countCoded(ca.Coded, ms)
		}
	} else {
		ca.Code = ud.Codes[k]
		countCoded(ca.Coded, ud.marked[k])
	}
	agreeStats(&ca, ud.Weighted(k))
	return ca
}

func countCoded(coded []int, marks []agreeMark) {
	for _, um := range marks {
		for m := um.mark; m != 0; m &= m - 1 {
			coded[bits.TrailingZeros64(m)]++
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
// are left out of both. A span reaching outside its source's text makes
// that source's row undefined, and the row over all sources too.
//
// It returns every row at once; EachCharComparison hands them out one by one.
func (ud *UnitData) CharComparisons() []CharComparison {
	var out []CharComparison
	ud.EachCharComparison(func(c *CharComparison) error {
		out = append(out, *c)
		return nil
	})
	return out
}

// NumCharComparisons is the number of rows CharComparisons returns.
func (ud *UnitData) NumCharComparisons() int {
	n := len(ud.Codes) * len(ud.pairs)
	for _, rows := range ud.chars {
		n += len(rows)
	}
	return n
}

// EachCharComparison calls fn with each row of CharComparisons in turn (the
// row is reused: copy what you keep), stopping at the first error, which it
// returns.
func (ud *UnitData) EachCharComparison(fn func(*CharComparison) error) error {
	var c CharComparison
	for ki, code := range ud.Codes {
		rows := ud.chars[ki]
		for p, pr := range ud.pairs {
			first, second := ud.Coders[pr[0]], ud.Coders[pr[1]]
			for len(rows) > 0 && rows[0].pair == int32(p) {
				r := rows[0]
				rows = rows[1:]
				c = CharComparison{Code: code.ID, Source: ud.Sources[r.src].ID, First: first, Second: second,
					Chars: int(r.n), Both: int(r.both), FirstOnly: int(r.la - r.both), SecondOnly: int(r.lb - r.both)}
				if res, bad := ud.badChars[[3]int32{int32(ki), r.src, r.pair}]; bad {
					c.Percent, c.Kappa = res[0], res[1]
				} else {
					c.Percent, c.Kappa = agreement.CharCounts(int(r.n), int(r.la), int(r.lb), int(r.both))
				}
				if err := fn(&c); err != nil {
					return err
				}
			}
			t := ud.pooled[ki*len(ud.pairs)+p]
			n := ud.pairChars[p]
			c = CharComparison{Code: code.ID, First: first, Second: second, Chars: n,
				Both: t.both, FirstOnly: t.la - t.both, SecondOnly: t.lb - t.both}
			c.Percent, c.Kappa = agreement.CharCounts(n, t.la, t.lb, t.both)
			if t.note != "" {
				c.Percent = charUndefined(c.Percent, t.note)
				c.Kappa = charUndefined(c.Kappa, t.note)
			}
			if err := fn(&c); err != nil {
				return err
			}
		}
	}
	return nil
}

// charUndefined marks a character-level result undefined for the reason
// given.
func charUndefined(r agreement.Result, note string) agreement.Result {
	return agreement.Result{Statistic: r.Statistic, Units: r.Units, Note: note}
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
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i].Start, b[j].Start), min(a[i].End, b[j].End)
		if lo < hi {
			n += hi - lo
		}
		if a[i].End < b[j].End {
			i++
		} else {
			j++
		}
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
// read-only. EachDisagreement hands them out one by one.
func (ud *UnitData) Disagreements() []Disagreement {
	out := make([]Disagreement, 0, ud.NumDisagreements())
	ud.EachDisagreement(func(d *Disagreement) error {
		out = append(out, *d)
		return nil
	})
	return out
}

// NumDisagreements is the number of disagreements.
func (ud *UnitData) NumDisagreements() int {
	n := 0
	for _, d := range ud.dis {
		n += len(d)
	}
	return n
}

// EachDisagreement calls fn with each disagreement in the order of
// Disagreements (the Disagreement is reused: copy what you keep), stopping
// at the first error, which it returns.
func (ud *UnitData) EachDisagreement(fn func(*Disagreement) error) error {
	type who struct{ coded, notCoded, missing []string }
	names := map[[2]uint64]who{}
	var d Disagreement
	for ki, list := range ud.dis {
		for _, e := range list {
			key := [2]uint64{e.mark, e.avail}
			w, ok := names[key]
			if !ok {
				for c, name := range ud.Coders {
					switch bit := uint64(1) << c; {
					case e.avail&bit == 0:
						w.missing = append(w.missing, name)
					case e.mark&bit != 0:
						w.coded = append(w.coded, name)
					default:
						w.notCoded = append(w.notCoded, name)
					}
				}
				names[key] = w
			}
			seg, text := ud.disSegment(e.info)
			d = Disagreement{Code: ud.Codes[ki].ID, Unit: int(e.unit), Source: ud.Sources[ud.Units[e.unit].Source].ID,
				Segment: seg, Text: text, CodedBy: w.coded, NotCodedBy: w.notCoded, Missing: w.missing}
			if err := fn(&d); err != nil {
				return err
			}
		}
	}
	return nil
}

// AgreementReport is everything an agreement run reports.
type AgreementReport struct {
	Data   *UnitData
	Codes  []CodeAgreement // per code, in Data.Codes order
	Pooled CodeAgreement   // all unit x code pairs
	// Chars and Disagreements are every row at once (Report); Summary
	// leaves them nil for large data, to be read from Data with
	// EachCharComparison and EachDisagreement.
	Chars         []CharComparison
	Disagreements []Disagreement
}

// Report computes the statistics of every code and pooled, the
// character-level comparisons and the disagreements.
func (ud *UnitData) Report() *AgreementReport {
	r := ud.Summary()
	r.Chars = ud.CharComparisons()
	r.Disagreements = ud.Disagreements()
	return r
}

// Summary is Report without the lists of character-level comparisons and
// disagreements, which on a large project are long.
func (ud *UnitData) Summary() *AgreementReport {
	r := &AgreementReport{Data: ud}
	for k := range ud.Codes {
		r.Codes = append(r.Codes, ud.Agreement(k))
	}
	r.Pooled = ud.Agreement(-1)
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
	return ConsensusText(codings, coders, rule, into, func(source string) (string, error) {
		text, ok := texts[source]
		if !ok {
			return "", fmt.Errorf("consensus: no text for source %q, which the coders coded (re-ingest it or remove its codings)", source)
		}
		return text, nil
	}, t)
}

// ConsensusText is Consensus with the texts read as needed: an
// intersection asks text for each source it makes codings on, once each,
// in source order, and holds one text at a time. An error from text is
// returned as it is.
func ConsensusText(codings map[string][]Coding, coders []string, rule, into string, text func(source string) (string, error), t time.Time) (*ConsensusResult, error) {
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
	var x *TextIndex // of source xSource
	xSource := ""
	for _, kk := range keys {
		common := mergeSpans(spans[kk][0])
		for _, sp := range spans[kk][1:] {
			common = spanIntersect(common, mergeSpans(sp))
		}
		if len(common) == 0 {
			continue
		}
		if x == nil || xSource != kk.source {
			txt, err := text(kk.source)
			if err != nil {
				return nil, err
			}
			x, xSource = NewTextIndex(txt), kk.source
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
