package suggest

import (
	"cmp"
	"slices"
	"strings"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

// coverage holds, per source, the spans some coding covers, merged and
// sorted, so that whether a segment is touched by a coding is a binary
// search.
type coverage map[string][][2]int

// newCoverage merges the spans of codings, leaving out orphans (their
// offsets are stale).
func newCoverage(codings []analysis.Coding) coverage {
	by := coverage{}
	by.add(codings)
	by.merge()
	return by
}

// add adds the spans of codings, leaving out orphans; merge must follow
// before touches is asked.
func (c coverage) add(codings []analysis.Coding) {
	for i := range codings {
		cd := &codings[i]
		if cd.Orphan || cd.End <= cd.Start {
			continue
		}
		spans, ok := c[cd.Source]
		if !ok {
			src := strings.Clone(cd.Source) // not the coding's, which may hold a whole file
			c[src] = append(spans, [2]int{cd.Start, cd.End})
			continue
		}
		c[cd.Source] = append(spans, [2]int{cd.Start, cd.End})
	}
}

// merge sorts and merges each source's spans.
func (c coverage) merge() {
	for src, spans := range c {
		slices.SortFunc(spans, func(a, b [2]int) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
		merged := spans[:1]
		for _, s := range spans[1:] {
			last := &merged[len(merged)-1]
			if s[0] <= last[1] {
				last[1] = max(last[1], s[1])
				continue
			}
			merged = append(merged, s)
		}
		c[src] = slices.Clip(merged)
	}
}

// Coverage is the text that codings cover, per source: where Uncoded and
// Suggest (with Uncoded, and for clusters) find uncoded text. It keeps only
// the spans (16 bytes a coding), so that it can be built from a large
// project's codings a batch at a time.
type Coverage struct {
	c      coverage
	merged bool
}

// NewCoverage returns an empty coverage: no text is coded.
func NewCoverage() *Coverage { return &Coverage{c: coverage{}} }

// Add adds the spans of codings (orphans are left out: their offsets are
// stale).
func (cv *Coverage) Add(codings []analysis.Coding) {
	cv.c.add(codings)
	cv.merged = false
}

// spans returns the merged coverage.
func (cv *Coverage) spans() coverage {
	if !cv.merged {
		cv.c.merge()
		cv.merged = true
	}
	return cv.c
}

// touches reports whether any coding overlaps [start, end) of source src.
func (c coverage) touches(src string, start, end int) bool {
	spans := c[src]
	// the first span ending after start
	i, _ := slices.BinarySearchFunc(spans, start, func(s [2]int, t int) int {
		if s[1] <= t {
			return -1
		}
		return 1
	})
	return i < len(spans) && spans[i][0] < end
}

// UncodedSegment is a segment that no coding touches.
type UncodedSegment struct {
	Source  string `json:"source"`
	Segment string `json:"segment"`
	Case    string `json:"case,omitempty"`
	Speaker string `json:"speaker,omitempty"`
	Line    int    `json:"line"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Words   int    `json:"words"`
	Text    string `json:"text"`
}

// Share counts the segments and words of a source, a case or the whole
// corpus, and how many of them no coding touches.
type Share struct {
	Key          string `json:"key"`
	Segments     int    `json:"segments"`
	Uncoded      int    `json:"uncoded"`
	Words        int    `json:"words"`
	UncodedWords int    `json:"uncoded_words"`
}

// Percent is the share of segments uncoded, 0-100 (0 when there are none).
func (s Share) Percent() float64 { return percent(s.Uncoded, s.Segments) }

// WordsPercent is the share of words in uncoded segments, 0-100.
func (s Share) WordsPercent() float64 { return percent(s.UncodedWords, s.Words) }

func percent(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

// UncodedReport is what Uncoded finds.
type UncodedReport struct {
	Segments []UncodedSegment `json:"segments"`
	BySource []Share          `json:"by_source"`
	ByCase   []Share          `json:"by_case"`
	Total    Share            `json:"total"`
}

// Uncoded lists the segments of one unit (turn, paragraph or sentence) that
// no coding in codings overlaps, keeping to speakers of the given roles
// (all when roles is empty), with the share uncoded per source, per case (a
// source without a case counts as a case of its own, keyed by its id) and
// overall. Words are counted as runs of letters and digits. Orphaned
// codings take no part. Sources are reported in the order given, cases in
// order of their first source. For a large project, UncodedScan does the
// same a source at a time.
func Uncoded(srcs []*corpus.Source, codings []analysis.Coding, unit string, roles []string) *UncodedReport {
	sc := NewUncodedScan(unit, roles)
	sc.Cover(codings)
	var segs []UncodedSegment
	for _, src := range srcs {
		sc.Source(src, func(u *UncodedSegment) error {
			segs = append(segs, *u)
			return nil
		})
	}
	rep := sc.Report()
	if segs != nil {
		rep.Segments = segs
	}
	return rep
}

// UncodedScan is Uncoded a source at a time, for a corpus too large to
// hold: give it the codings (Cover, in batches if need be), then each
// source in turn (Source), which hands out its uncoded segments at once;
// Report gives the shares. It holds only the coded spans and the shares.
type UncodedScan struct {
	unit   string
	roles  []string
	cov    *Coverage
	rep    UncodedReport
	caseAt map[string]int
}

// NewUncodedScan starts a scan of the segments of unit said by speakers of
// roles (all when empty).
func NewUncodedScan(unit string, roles []string) *UncodedScan {
	return &UncodedScan{unit: unit, roles: roles, cov: NewCoverage(), caseAt: map[string]int{},
		rep: UncodedReport{Segments: []UncodedSegment{}, BySource: []Share{}, ByCase: []Share{}}}
}

// Cover adds codings whose text counts as coded (orphans are left out).
func (sc *UncodedScan) Cover(codings []analysis.Coding) {
	sc.cov.Add(codings)
}

// Source counts the segments of src and calls each with every uncoded one,
// in order (the segment is reused: copy what you keep), stopping at the
// first error, which it returns.
func (sc *UncodedScan) Source(src *corpus.Source, each func(*UncodedSegment) error) error {
	cov := sc.cov.spans()
	rs := []rune(src.Text)
	sh := Share{Key: src.ID}
	var u UncodedSegment
	for _, seg := range src.Segments {
		if seg.Unit != sc.unit || !roleIn(seg.Role, sc.roles) {
			continue
		}
		s, e := clampSpan(seg.Start, seg.End, len(rs))
		words := len(wordSpans(rs[s:e]))
		sh.Segments++
		sh.Words += words
		if cov.touches(src.ID, s, e) {
			continue
		}
		sh.Uncoded++
		sh.UncodedWords += words
		u = UncodedSegment{
			Source: src.ID, Segment: seg.ID, Case: src.Case, Speaker: seg.Speaker,
			Line: seg.Line, Start: s, End: e, Words: words, Text: string(rs[s:e]),
		}
		if err := each(&u); err != nil {
			return err
		}
	}
	sc.rep.BySource = append(sc.rep.BySource, sh)
	key := caseKey(src)
	i, ok := sc.caseAt[key]
	if !ok {
		i = len(sc.rep.ByCase)
		sc.caseAt[key] = i
		sc.rep.ByCase = append(sc.rep.ByCase, Share{Key: key})
	}
	addShare(&sc.rep.ByCase[i], sh)
	addShare(&sc.rep.Total, sh)
	return nil
}

// Report returns the shares of the sources scanned so far, per source, per
// case and in all; its Segments are empty (Source handed them out).
func (sc *UncodedScan) Report() *UncodedReport {
	rep := sc.rep
	rep.BySource = slices.Clone(rep.BySource)
	rep.ByCase = slices.Clone(rep.ByCase)
	rep.Total.Key = "all"
	return &rep
}

func addShare(to *Share, s Share) {
	to.Segments += s.Segments
	to.Uncoded += s.Uncoded
	to.Words += s.Words
	to.UncodedWords += s.UncodedWords
}

// caseKey is a source's case, or its id when it has none.
func caseKey(src *corpus.Source) string {
	if src.Case != "" {
		return src.Case
	}
	return src.ID
}

func roleIn(role string, roles []string) bool {
	return len(roles) == 0 || slices.Contains(roles, role)
}

func clampSpan(s, e, n int) (int, int) {
	s = min(max(s, 0), n)
	e = min(max(e, s), n)
	return s, e
}
