package suggest

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/thematic-qda/thematic/codebook"
)

// The recall of suggestions against a study's own codebook, used to measure
// how many of a study's codes the suggestions would have led a researcher
// to.
//
// A code's words are the content words of its name and of its rules: words,
// all and near terms (with their wildcards), the words of phrase rules and
// the positive terms of query rules; regex and not rules are left out. A
// suggestion's words are the content words of its label and of its proposed
// words (for a cluster, its top terms). Words are compared as the project
// analyses them (stemmed: "slugs" matches "slug"); a wildcard word of a code
// ("friend*") matches a suggestion word that it matches as written, folded.
// Stop words (the language's and suggest's own fillers) never match.
//
// A suggestion matches a code when they share a word. Two figures are
// reported:
//   - any: codes matched by at least one of the suggestions (a suggestion
//     may count for several codes);
//   - one-to-one: the largest number of codes that can each be given a
//     different matching suggestion (a maximum bipartite matching), so
//     that one broad suggestion ("garden") counts once.

// codeWords holds a code's terms and wildcard patterns.
type codeWords struct {
	id       string
	name     string
	terms    map[string]bool
	patterns []string
}

func wordsOfCode(n *codebook.Node, v *vocab) codeWords {
	cw := codeWords{id: n.ID, name: n.Name, terms: map[string]bool{}}
	add := func(text string) {
		for _, w := range strings.Fields(text) {
			w = strings.Trim(w, `"'+()[]{}.,;:!?`)
			if w == "" || strings.HasPrefix(w, "-") {
				continue
			}
			if strings.ContainsAny(w, "*?") {
				cw.patterns = append(cw.patterns, v.an.Fold(w))
				continue
			}
			for _, t := range contentTerms(w, v) {
				cw.terms[t] = true
			}
		}
	}
	add(n.Name)
	var rule func(r codebook.Rule)
	rule = func(r codebook.Rule) {
		switch r.Kind {
		case codebook.RuleWords, codebook.RuleAll, codebook.RuleNear:
			for _, w := range r.Words {
				add(w)
			}
		case codebook.RulePhrase:
			add(r.Phrase)
		case codebook.RuleQuery:
			add(r.Query)
		}
	}
	for _, r := range n.Rules {
		rule(r)
	}
	return cw
}

// contentTerms analyses text into its content terms.
func contentTerms(text string, v *vocab) []string {
	var out []string
	rs := []rune(text)
	for _, sp := range wordSpans(rs) {
		w := v.an.Fold(string(rs[sp[0]:sp[1]]))
		if key, stop := v.stemKey(w); !stop {
			out = append(out, key)
		}
	}
	return out
}

// suggestionWords returns a suggestion's content terms and folded words.
func suggestionWords(s Suggestion, v *vocab) (terms map[string]bool, words []string) {
	terms = map[string]bool{}
	for _, text := range append([]string{s.Label}, s.Words...) {
		rs := []rune(text)
		for _, sp := range wordSpans(rs) {
			w := v.an.Fold(string(rs[sp[0]:sp[1]]))
			if key, stop := v.stemKey(w); !stop {
				terms[key] = true
				words = append(words, w)
			}
		}
	}
	return terms, words
}

func (cw codeWords) matches(s Suggestion, v *vocab) bool {
	terms, words := suggestionWords(s, v)
	for t := range terms {
		if cw.terms[t] {
			return true
		}
	}
	for _, p := range cw.patterns {
		for _, w := range words {
			if ok, _ := path.Match(p, w); ok {
				return true
			}
		}
	}
	return false
}

// recall is the result of matching suggestions to codes.
type recall struct {
	codes     int
	any       int
	oneToOne  int
	matchedBy map[string][]int // code id -> indexes of matching suggestions
	assigned  map[string]int   // code id -> the suggestion it gets one-to-one
}

func (r recall) String() string {
	return fmt.Sprintf("any %d/%d (%.0f%%), one-to-one %d/%d (%.0f%%)",
		r.any, r.codes, 100*float64(r.any)/float64(r.codes), r.oneToOne, r.codes, 100*float64(r.oneToOne)/float64(r.codes))
}

// measureRecall matches the first k suggestions to the codes.
func measureRecall(codes []codeWords, sugg []Suggestion, k int, v *vocab) recall {
	sugg = sugg[:min(k, len(sugg))]
	r := recall{codes: len(codes), matchedBy: map[string][]int{}, assigned: map[string]int{}}
	adj := make([][]int, len(codes))
	for ci, c := range codes {
		for si, s := range sugg {
			if c.matches(s, v) {
				adj[ci] = append(adj[ci], si)
				r.matchedBy[c.id] = append(r.matchedBy[c.id], si)
			}
		}
		if len(adj[ci]) > 0 {
			r.any++
		}
	}
	// maximum bipartite matching by augmenting paths (Kuhn's algorithm)
	owner := make([]int, len(sugg))
	for i := range owner {
		owner[i] = -1
	}
	var try func(ci int, seen []bool) bool
	try = func(ci int, seen []bool) bool {
		for _, si := range adj[ci] {
			if seen[si] {
				continue
			}
			seen[si] = true
			if owner[si] < 0 || try(owner[si], seen) {
				owner[si] = ci
				return true
			}
		}
		return false
	}
	for ci := range codes {
		if try(ci, make([]bool, len(sugg))) {
			r.oneToOne++
		}
	}
	for si, ci := range owner {
		if ci >= 0 {
			r.assigned[codes[ci].id] = si
		}
	}
	return r
}

// leafCodes returns the codes of a codebook with no children below them.
func leafCodes(cb *codebook.Codebook, v *vocab) []codeWords {
	var out []codeWords
	for _, n := range cb.Codes() {
		if n.Level == codebook.LevelCode && len(n.Children) == 0 {
			out = append(out, wordsOfCode(n, v))
		}
	}
	return out
}

// recallReport describes which code each suggestion was matched to.
func recallReport(codes []codeWords, sugg []Suggestion, r recall) string {
	var b strings.Builder
	for _, c := range codes {
		var by []string
		for _, si := range r.matchedBy[c.id] {
			by = append(by, sugg[si].Kind+":"+sugg[si].Label)
		}
		mark := " "
		if si, ok := r.assigned[c.id]; ok {
			mark = "*"
			by = slices.DeleteFunc(by, func(s string) bool { return s == sugg[si].Kind+":"+sugg[si].Label })
			by = append([]string{"[" + sugg[si].Kind + ":" + sugg[si].Label + "]"}, by...)
		}
		fmt.Fprintf(&b, "%s %-22s %s\n", mark, c.id, strings.Join(by, "; "))
	}
	return b.String()
}
