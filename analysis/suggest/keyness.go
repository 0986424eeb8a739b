package suggest

import (
	"bufio"
	_ "embed"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/thematic-qda/thematic/corpus"
)

// Keyness is Dunning's log-likelihood G2 of a word or phrase seen a times in
// a target text of c words and b times in a reference text of d words, in
// the two-cell form corpus linguists use for keyness (Rayson and Garside
// 2000, "Comparing corpora using frequency profiling"):
//
//	E1 = c(a+b)/(c+d)     the count expected in the target
//	E2 = d(a+b)/(c+d)     the count expected in the reference
//	G2 = 2 (a ln(a/E1) + b ln(b/E2))
//
// where a term with a zero count contributes nothing. G2 is 0 when the
// relative frequencies are equal and grows with the evidence that they
// differ; 3.84 is significant at p < 0.05 and 6.63 at p < 0.01 (one degree
// of freedom). Keyness is signed: it is negative when the item is relatively
// rarer in the target than in the reference, so that sorting by it puts
// over-used items first.
func Keyness(a, b, c, d float64) float64 {
	if a < 0 || b < 0 || c <= 0 || d <= 0 || a+b == 0 {
		return 0
	}
	e1 := c * (a + b) / (c + d)
	e2 := d * (a + b) / (c + d)
	g := 0.0
	if a > 0 {
		g += a * math.Log(a/e1)
	}
	if b > 0 {
		g += b * math.Log(b/e2)
	}
	g *= 2
	if a/c < b/d {
		g = -g
	}
	return g
}

// PoissonG2 is the log-likelihood ratio G2 = 2 (o ln(o/e) - (o - e)) of
// observing o events where chance expects e, for a Poisson count. It
// measures how much more often a multi-word expression occurs than its words
// would meet by chance (e = N p(w1) p(w2) ... p(wn) over N positions). It is
// 0 when o <= e.
func PoissonG2(o, e float64) float64 {
	if o <= e || e <= 0 {
		return 0
	}
	return 2 * (o*math.Log(o/e) - (o - e))
}

// Reference is word counts that the participants' words are compared
// against: a general-English list shipped with thematic, or the rest of the
// corpus.
type Reference struct {
	// Name says what the reference is, for reports.
	Name string
	// Total is the number of words the counts come from.
	Total int64
	// Counts maps an analysed term (see corpus.Analyzer.Term) to its count.
	Counts map[string]int64
}

// reference_en.txt is a word list made by internal/refgen: "total N" then
// "word count" lines, with # comments.
//
//go:embed reference_en.txt
var referenceEN string

// General returns the general-English reference with its words analysed by
// an (stemmed and folded as the project analyses text), or nil when there is
// no shipped list for the analyser's language. Only English ships one: the
// counts of the words of 232 transcribed meetings (QMSum; see
// internal/refgen), spoken English like an interview.
func General(an *corpus.Analyzer) *Reference {
	if an.Language() != "en" {
		return nil
	}
	ref, err := parseReference("reference_en.txt", referenceEN, an)
	if err != nil {
		panic(err) // the embedded file is checked by the tests
	}
	return ref
}

var refCache sync.Map // *corpus.Analyzer -> *Reference

// general is General, computed once per analyser.
func general(an *corpus.Analyzer) *Reference {
	if r, ok := refCache.Load(an); ok {
		return r.(*Reference)
	}
	r := General(an)
	refCache.Store(an, r)
	return r
}

// parseReference reads a word list: "total N", then "word count" lines.
func parseReference(name, text string, an *corpus.Analyzer) (*Reference, error) {
	ref := &Reference{Name: "general English (" + name + ")", Counts: map[string]int64{}}
	sc := bufio.NewScanner(strings.NewReader(text))
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		w, n, ok := strings.Cut(s, " ")
		count, err := strconv.ParseInt(strings.TrimSpace(n), 10, 64)
		if !ok || err != nil || count < 0 {
			return nil, fmt.Errorf("%s:%d: want \"word count\"", name, line)
		}
		if ref.Total == 0 {
			if w != "total" || count == 0 {
				return nil, fmt.Errorf("%s:%d: want \"total N\" before the words", name, line)
			}
			ref.Total = count
			continue
		}
		if t := an.Term(w); t != "" {
			ref.Counts[t] += count
		}
	}
	if ref.Total == 0 {
		return nil, fmt.Errorf("%s: no total", name)
	}
	return ref, nil
}
