// Package gencorpus generates realistic-looking qualitative data for
// benchmarks: interview transcripts with speaker turns and diaries with dated
// entries, over a Zipf-distributed vocabulary, plus a codebook whose rules use
// the same vocabulary. Output is deterministic for a seed.
package gencorpus

import (
	"fmt"
	"math/rand"
	"strings"
)

// Options size the corpus.
type Options struct {
	Seed    int64
	Sources int // number of documents
	Words   int // approximate words per document
	Rules   int // number of codes (one words-rule each) in the codebook
}

// Doc is one generated document.
type Doc struct {
	Name string // file name, e.g. "P0001-interview.txt"
	Kind string // interview or diary
	Case string
	Text string
}

// vocabulary: common function words and content words; content words follow
// a Zipf distribution so a few are frequent and most are rare.
var function = strings.Fields("the a and to of I it that in was you but so we like just then my they it's was had with for on at there this what not be really")

// Generator makes documents and a codebook.
type Generator struct {
	opts    Options
	rng     *rand.Rand
	zipf    *rand.Zipf
	content []string
}

// New returns a generator.
func New(opts Options) *Generator {
	rng := rand.New(rand.NewSource(opts.Seed))
	g := &Generator{opts: opts, rng: rng}
	// 20k synthetic content words built from syllables, plus real garden words.
	syll := strings.Fields("ka lo mi ne ta ri so vu pe da fi gu ba ze ho ly wen dar mos tel")
	seen := map[string]bool{}
	for _, w := range strings.Fields("garden plot shed compost rota neighbour tomato water weed harvest seed committee gate tools bench rain slug bean family work shift tired calm friend help") {
		g.content = append(g.content, w)
		seen[w] = true
	}
	for len(g.content) < 20000 {
		n := 2 + rng.Intn(3)
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString(syll[rng.Intn(len(syll))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			g.content = append(g.content, w)
		}
	}
	g.zipf = rand.NewZipf(rng, 1.1, 2, uint64(len(g.content)-1))
	return g
}

func (g *Generator) word() string {
	if g.rng.Intn(10) < 5 {
		return function[g.rng.Intn(len(function))]
	}
	return g.content[g.zipf.Uint64()]
}

func (g *Generator) sentence() string {
	n := 6 + g.rng.Intn(14)
	words := make([]string, n)
	for i := range words {
		words[i] = g.word()
	}
	words[0] = strings.ToUpper(words[0][:1]) + words[0][1:]
	end := "."
	if g.rng.Intn(8) == 0 {
		end = "?"
	}
	return strings.Join(words, " ") + end
}

// Doc returns document i.
func (g *Generator) Doc(i int) Doc {
	c := fmt.Sprintf("P%04d", i/3+1)
	var b strings.Builder
	words := 0
	if i%4 == 3 {
		for day := 1; words < g.opts.Words; day++ {
			fmt.Fprintf(&b, "## 2025-%02d-%02d\n\n", 1+(day/28)%12, 1+day%28)
			for k := 0; k < 3; k++ {
				s := g.sentence()
				words += len(strings.Fields(s))
				b.WriteString(s + " ")
			}
			b.WriteString("\n\n")
		}
		return Doc{Name: fmt.Sprintf("%s-diary-%05d.md", c, i), Kind: "diary", Case: c, Text: b.String()}
	}
	for turn := 0; words < g.opts.Words; turn++ {
		who := "Interviewer"
		n := 1
		if turn%2 == 1 {
			who, n = "Participant", 2+g.rng.Intn(5)
		}
		fmt.Fprintf(&b, "%s: ", who)
		for k := 0; k < n; k++ {
			s := g.sentence()
			words += len(strings.Fields(s))
			b.WriteString(s + " ")
		}
		b.WriteString("\n\n")
	}
	return Doc{Name: fmt.Sprintf("%s-interview-%05d.txt", c, i), Kind: "interview", Case: c, Text: b.String()}
}

// Codebook returns a codebook.yaml with opts.Rules codes in 10 themes, each
// code with one words rule of three mid-frequency words, and the flat list of
// every rule word (for comparison with grep-like tools).
func (g *Generator) Codebook() (yaml string, words []string) {
	var b strings.Builder
	b.WriteString("name: generated\nthemes:\n")
	per := (g.opts.Rules + 9) / 10
	code := 0
	for t := 0; t < 10 && code < g.opts.Rules; t++ {
		fmt.Fprintf(&b, "  - id: theme%d\n    name: Theme %d\n    codes:\n", t, t)
		for k := 0; k < per && code < g.opts.Rules; k++ {
			ws := []string{g.content[ruleRank+(code*3)%2400], g.content[ruleRank+1+(code*3)%2400], g.content[ruleRank+2+(code*3)%2400]}
			words = append(words, ws...)
			fmt.Fprintf(&b, "      - id: code%d\n        name: Code %d\n        rules:\n          - words: [%s]\n", code, code, strings.Join(ws, ", "))
			code++
		}
	}
	return b.String(), words
}

// Cases returns a cases.csv for the participants of opts.Sources documents
// (three documents per participant, as Doc names them), with a site and a
// gender attribute each.
func (g *Generator) Cases() string {
	var b strings.Builder
	b.WriteString("case,site,gender\n")
	sites := []string{"Millbrook", "Eastfield", "Harbour Lane", "Northgate"}
	genders := []string{"woman", "man", "non-binary"}
	for c := 1; c <= (g.opts.Sources+2)/3; c++ {
		fmt.Fprintf(&b, "P%04d,%s,%s\n", c, sites[c%len(sites)], genders[(c*7)%len(genders)])
	}
	return b.String()
}

// ruleRank is the Zipf rank of the first content word the rules use. Rules
// built from ranks 600 to 1200 match about one word in 33, close to the
// density of the example study's hand-written codebook (436 codings over
// some 11,000 words of text); rules starting at the most frequent content
// words matched one word in six, far denser than any real codebook.
const ruleRank = 600
