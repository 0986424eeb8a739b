package agreement

import (
	"cmp"
	"fmt"
	"slices"
)

// Span is a coded span of a text: the code points [Start, End), 0-based,
// half-open, into the normalised text.
type Span struct{ Start, End int }

// CharAgreement compares two coders' coding of one code in one text of n code
// points, character by character, as NVivo's coding comparison query does
// (QSR International, NVivo help, "Coding comparison query": percentage
// agreement and Cohen's kappa over characters). Each character is a unit that
// each coder either coded (it lies in one of the coder's spans) or did not;
// overlapping and repeated spans of one coder count a character once.
//
// With A and B the characters coded by the first and the second coder, Both the
// characters coded by both and Neither = n - |A ∪ B|:
//
//	percent: Po = (Both + Neither) / n
//	kappa:   Pe = (|A|/n)(|B|/n) + (1 - |A|/n)(1 - |B|/n), kappa = (Po - Pe)/(1 - Pe)
//
// Kappa is undefined when neither coder coded anything or both coded
// everything (Pe = 1). Both results are undefined for an empty text or a
// span outside [0, n) or ending before it starts. To pool several texts,
// offset each text's spans by the total length of the texts before it and
// pass the total length as n.
func CharAgreement(n int, a, b []Span) (percent, kappa Result) {
	percent = Result{Statistic: "char-percent", Units: max(n, 0)}
	kappa = Result{Statistic: "char-kappa", Units: max(n, 0)}
	bad := func(format string, args ...any) (Result, Result) {
		return undefined(percent, format, args...), undefined(kappa, format, args...)
	}
	if n <= 0 {
		return bad("empty text: nothing to compare")
	}
	ua, note := union(a, n, "first")
	if note != "" {
		return bad("%s", note)
	}
	ub, note := union(b, n, "second")
	if note != "" {
		return bad("%s", note)
	}
	return CharCounts(n, length(ua), length(ub), overlap(ua, ub))
}

// CharCounts is CharAgreement from the counts alone: a text of n code
// points, of which the first coder coded la, the second lb and both of them
// both. Comparing many texts needs no more than these four numbers per
// text, and the counts of several texts add up to the counts of the texts
// taken end to end. The counts must satisfy 0 <= both <= la, lb <= n and
// la + lb - both <= n; otherwise both results are undefined.
func CharCounts(n, la, lb, both int) (percent, kappa Result) {
	percent = Result{Statistic: "char-percent", Units: max(n, 0)}
	kappa = Result{Statistic: "char-kappa", Units: max(n, 0)}
	switch {
	case n <= 0:
		note := "empty text: nothing to compare"
		return undefined(percent, "%s", note), undefined(kappa, "%s", note)
	case both < 0 || both > min(la, lb) || la > n || lb > n || la+lb-both > n:
		note := fmt.Sprintf("impossible counts: %d and %d characters coded, %d by both, in a text of %d", la, lb, both, n)
		return undefined(percent, "%s", note), undefined(kappa, "%s", note)
	}
	neither := n - la - lb + both
	nf := float64(n)
	po := float64(both+neither) / nf
	pa, pb := float64(la)/nf, float64(lb)/nf
	pe := pa*pb + (1-pa)*(1-pb)

	percent.Po = po
	percent = finish(percent, po)

	kappa.Po = po
	switch {
	case la == 0 && lb == 0:
		kappa.Pe = 1
		return percent, undefined(kappa, "no variation: neither coder coded any character, kappa undefined")
	case la == n && lb == n:
		kappa.Pe = 1
		return percent, undefined(kappa, "no variation: both coders coded every character, kappa undefined")
	}
	kappa.Pe = pe
	return percent, finish(kappa, (po-pe)/(1-pe))
}

// union checks a coder's intervals against the text length n and returns them
// sorted and merged.
func union(iv []Span, n int, who string) ([]Span, string) {
	out := make([]Span, 0, len(iv))
	for _, x := range iv {
		switch {
		case x.Start > x.End:
			return nil, fmt.Sprintf("the %s coder's span [%d,%d) ends before it starts", who, x.Start, x.End)
		case x.Start < 0 || x.End > n:
			return nil, fmt.Sprintf("the %s coder's span [%d,%d) lies outside the text of %d characters", who, x.Start, x.End, n)
		case x.Start < x.End:
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(p, q Span) int { return cmp.Compare(p.Start, q.Start) })
	merged := out[:0]
	for _, x := range out {
		if k := len(merged); k > 0 && x.Start <= merged[k-1].End {
			merged[k-1].End = max(merged[k-1].End, x.End)
			continue
		}
		merged = append(merged, x)
	}
	return merged, ""
}

// length is the number of characters in sorted, disjoint intervals.
func length(iv []Span) int {
	s := 0
	for _, x := range iv {
		s += x.End - x.Start
	}
	return s
}

// overlap is the number of characters in both sorted, disjoint interval lists.
func overlap(a, b []Span) int {
	s := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		lo, hi := max(a[i].Start, b[j].Start), min(a[i].End, b[j].End)
		if lo < hi {
			s += hi - lo
		}
		if a[i].End < b[j].End {
			i++
		} else {
			j++
		}
	}
	return s
}
