package suggest

import (
	"cmp"
	"slices"

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
	for _, c := range codings {
		if c.Orphan || c.End <= c.Start {
			continue
		}
		by[c.Source] = append(by[c.Source], [2]int{c.Start, c.End})
	}
	for src, spans := range by {
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
		by[src] = merged
	}
	return by
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
// order of their first source.
func Uncoded(srcs []*corpus.Source, codings []analysis.Coding, unit string, roles []string) *UncodedReport {
	cov := newCoverage(codings)
	rep := &UncodedReport{Segments: []UncodedSegment{}, BySource: []Share{}, ByCase: []Share{}}
	caseAt := map[string]int{}
	for _, src := range srcs {
		rs := []rune(src.Text)
		sh := Share{Key: src.ID}
		for _, seg := range src.Segments {
			if seg.Unit != unit || !roleIn(seg.Role, roles) {
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
			rep.Segments = append(rep.Segments, UncodedSegment{
				Source: src.ID, Segment: seg.ID, Case: src.Case, Speaker: seg.Speaker,
				Line: seg.Line, Start: s, End: e, Words: words, Text: string(rs[s:e]),
			})
		}
		rep.BySource = append(rep.BySource, sh)
		key := caseKey(src)
		i, ok := caseAt[key]
		if !ok {
			i = len(rep.ByCase)
			caseAt[key] = i
			rep.ByCase = append(rep.ByCase, Share{Key: key})
		}
		addShare(&rep.ByCase[i], sh)
		addShare(&rep.Total, sh)
	}
	rep.Total.Key = "all"
	return rep
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
