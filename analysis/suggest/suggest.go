// Package suggest supports inductive analysis: it reads the participants'
// words for candidate codes that a researcher may accept, edit or ignore.
// Nothing here codes anything; every suggestion is for a person to judge.
//
// Suggest proposes four kinds of candidate, each with a label, a score, the
// cases and sources it comes from and a few supporting extracts:
//
//   - key phrases: nouns, and noun phrases with adjective or noun modifiers
//     ("watering rota", "slug pellets"), found with prose's part-of-speech
//     tags and ranked by keyness (Dunning's log-likelihood G2, see Keyness)
//     of the phrase in the participants' words against a reference — a
//     general spoken-English word list shipped for English, or the rest of
//     the corpus — weighted by its spread across cases, so that a phrase
//     many participants use outranks one person's repetition;
//   - in-vivo expressions: other recurring multi-word expressions in the
//     participants' own words ("showed me round", "trial and error"), ranked
//     by how much more often the words occur together than chance would
//     have them (PoissonG2), weighted by spread;
//   - named entities (people, places, organisations) found by prose, listed
//     apart from the codes: they are material for de-identification as much
//     as for coding, and the model makes mistakes;
//   - clusters of uncoded segments that share vocabulary (TF-IDF vectors,
//     spherical k-means with a seeded k-means++ start), each summarised by
//     the terms most key to it, so that the researcher reads what no code
//     covers yet.
//
// The same sources, codings and options always give the same suggestions.
//
// The package also lists uncoded segments with their share per source and
// case (Uncoded), counts words and phrases per group (Frequencies), finds
// keywords in context (KWIC), and reads and writes the suggestions file a
// researcher edits (WriteFile, ReadFile).
package suggest

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jdkato/prose/v3/ner"
	"github.com/jdkato/prose/v3/tag"
	"github.com/jdkato/prose/v3/tokenize"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

// Kinds of suggestion.
const (
	KindPhrase  = "phrase"
	KindInVivo  = "in-vivo"
	KindEntity  = "entity"
	KindCluster = "cluster"
)

// Defaults of Options.
const (
	DefaultTop      = 20
	DefaultMinCount = 3
	DefaultExtracts = 5
	MaxClusters     = 20
	maxN            = 4 // longest phrase, in words
	maxWords        = 6 // most words a suggestion proposes for its rule
)

// Options control Suggest. Analyzer is required.
type Options struct {
	// Analyzer is the project's text analysis; words are counted by its
	// terms, so that "slugs" and "slug" are one word, as in search and rules.
	Analyzer *corpus.Analyzer
	// Roles are the speakers' roles whose words are read; empty means
	// participant.
	Roles []string
	// Codings are the codings that count as coded text: clusters are made of
	// segments none of them touches.
	Codings []analysis.Coding
	// Coverage, when not nil, is the coded text instead of Codings' (for a
	// project whose codings are too many to hold: build it a batch at a
	// time).
	Coverage *Coverage
	// Load, when not nil, reads a source with its text and segments by id:
	// the sources given to Suggest then need hold only their metadata (as
	// corpus.Project.SourceInfos gives it), and Suggest reads each one when
	// it needs it, holding only a few at a time. It is called from several
	// goroutines at once.
	Load func(id string) (*corpus.Source, error)
	// Uncoded reads only sentences that no coding touches, for every kind of
	// suggestion.
	Uncoded bool
	// Top is the most suggestions of each kind; 0 means DefaultTop.
	Top int
	// MinCount is the fewest times a phrase must occur; 0 means
	// DefaultMinCount.
	MinCount int
	// Reference is compared against for keyness; nil means the general
	// list for the analyser's language (see General), or the rest of the
	// corpus when there is none.
	Reference *Reference
	// CorpusReference compares against the rest of the corpus (the
	// sentences not read: other speakers, and with Uncoded the coded
	// sentences) instead of a word list.
	CorpusReference bool
	// Clusters is the number of clusters of uncoded segments: 0 picks one
	// from their number (at most MaxClusters), a negative number makes none.
	Clusters int
	// ClusterUnit is the segment clustered: paragraph (default), turn or
	// sentence.
	ClusterUnit string
	// NoEntities skips named-entity recognition, the slowest step.
	NoEntities bool
	// Seed seeds the clustering; the same seed gives the same clusters.
	Seed uint64
	// Extracts is the most extracts per suggestion; 0 means DefaultExtracts.
	Extracts int
	// Cite gives a source's citation label; nil means "(Kind n)".
	Cite func(*corpus.Source) string
	// Progress, when not nil, is called after each source is read (the
	// slow part: tagging every sentence) with the sources read and their
	// number.
	Progress func(done, total int)
}

// Extract is a passage that supports a suggestion.
type Extract struct {
	Source   string `json:"source"`
	Segment  string `json:"segment"`
	Citation string `json:"citation"`
	Case     string `json:"case,omitempty"`
	Speaker  string `json:"speaker,omitempty"`
	Line     int    `json:"line"`
	Start    int    `json:"start"`
	End      int    `json:"end"`
	Text     string `json:"text"`
}

// Suggestion is a candidate code.
type Suggestion struct {
	Kind  string `json:"kind"`
	Label string `json:"label"`
	// Words are the words and phrases proposed as the code's first rule.
	Words []string `json:"words"`
	// Score orders suggestions of one kind: keyness (phrases), cohesion
	// (in-vivo) or frequency (entities) times the share of cases using it;
	// for clusters, the sum of the members' similarity to the centre.
	Score float64 `json:"score"`
	// Keyness is the G2 behind the score (see Keyness and PoissonG2); for a
	// cluster, the mean similarity of its members to its centre.
	Keyness float64 `json:"keyness"`
	// Count is how often the phrase occurs, or a cluster's segments.
	Count   int      `json:"count"`
	Cases   []string `json:"cases"`
	Sources []string `json:"sources"`
	// Entity is the entity type of a named entity (PERSON, GPE, ...).
	Entity   string    `json:"entity,omitempty"`
	Extracts []Extract `json:"extracts"`
}

// Result holds the suggestions of each kind, best first.
type Result struct {
	Phrases  []Suggestion `json:"phrases"`
	InVivo   []Suggestion `json:"in_vivo"`
	Entities []Suggestion `json:"entities"`
	Clusters []Suggestion `json:"clusters"`
	// Reference names what keyness compared against.
	Reference string `json:"reference"`
	// Sentences, Words, Cases and Sources measure the text read.
	Sentences int `json:"sentences"`
	Words     int `json:"words"`
	Cases     int `json:"cases"`
	Sources   int `json:"sources"`
	// Segments is how many uncoded segments were clustered; Unclustered how
	// many had no word to cluster by.
	Segments    int `json:"segments_clustered"`
	Unclustered int `json:"unclustered"`
}

// Suggest reads the sources (with their text, or with opts.Load) and
// proposes candidate codes.
func Suggest(srcs []*corpus.Source, opts Options) (*Result, error) {
	if opts.Analyzer == nil {
		return nil, fmt.Errorf("suggest: no analyser")
	}
	if opts.Top <= 0 {
		opts.Top = DefaultTop
	}
	if opts.MinCount <= 0 {
		opts.MinCount = DefaultMinCount
	}
	if opts.Extracts <= 0 {
		opts.Extracts = DefaultExtracts
	}
	if len(opts.Roles) == 0 {
		opts.Roles = []string{corpus.RoleParticipant}
	}
	switch opts.ClusterUnit {
	case "":
		opts.ClusterUnit = corpus.UnitParagraph
	case corpus.UnitTurn, corpus.UnitParagraph, corpus.UnitSentence:
	default:
		return nil, fmt.Errorf("suggest: unknown cluster unit %q", opts.ClusterUnit)
	}
	if opts.Cite == nil {
		opts.Cite = func(s *corpus.Source) string { return corpus.Citation("({Kind} {n})", s, s.Attrs) }
	}
	if opts.Coverage == nil {
		opts.Coverage = NewCoverage()
		opts.Coverage.Add(opts.Codings)
	}
	e := newEngine(srcs, opts)
	if err := e.read(); err != nil {
		return nil, err
	}
	res := &Result{Sentences: len(e.units), Words: e.nWords, Cases: len(e.caseNames), Sources: e.nSources}
	e.countNgrams()
	e.collect()
	res.Reference = e.reference()
	res.Phrases, res.InVivo = e.rank()
	res.Entities = e.entityList()
	if opts.Clusters >= 0 {
		res.Clusters, res.Segments, res.Unclustered = e.clusters()
	}
	if e.loadErr != nil {
		return nil, e.loadErr
	}
	return res, nil
}

// unit is a sentence read: its tokens are packed from packed[off] to the
// next unit's off (see unitTokens).
type unit struct {
	src, seg, cas int32
	doc           int32 // cluster document, -1 for none
	off           uint32
}

// Tag classes of tokens.
const (
	tagOther  uint8 = iota
	tagNoun         // NN NNS
	tagProper       // NNP NNPS
	tagAdj          // JJ JJR JJS
	tagGerund       // VBG
	tagVerb         // other VB*
)

func tagClass(t string) uint8 {
	switch t {
	case "NN", "NNS":
		return tagNoun
	case "NNP", "NNPS":
		return tagProper
	case "JJ", "JJR", "JJS":
		return tagAdj
	case "VBG":
		return tagGerund
	}
	if strings.HasPrefix(t, "VB") {
		return tagVerb
	}
	return tagOther
}

type engine struct {
	opts Options
	srcs []*corpus.Source // sorted by case, then id
	v    *vocab

	units []unit
	// packed holds every unit's tokens, each a varint of its surface id
	// (0 is a break) shifted left by 3 and its tag class: about 2 bytes a
	// token, where the ids and tags themselves take 5.
	packed []byte
	// toks and tags are the tokens of the unit at hand (unitTokens), a
	// break last.
	toks      []uint32
	tags      []uint8
	nWords    int
	stemCount []int32
	surfCount []int32

	caseNames []string
	nSources  int
	docs      []docRef // cluster documents

	// reference: the sentences not read, for CorpusReference
	refUnits []refUnit
	refWords int
	refTotal float64
	refStems []float64 // counts by stem in the reference sentences
	refList  *Reference

	freq  []map[uint64]int32 // frequent n-grams by length
	cands []*cand
	byKey map[uint64]int32

	ents   map[string]*entStat
	entOrd []string

	// The sources read last, with their text as code points, for extracts
	// and the corpus reference (with opts.Load, only these are held).
	recent  []loaded
	loadErr error // the first error of opts.Load after read
}

// loaded is a source read again after read, with its text as code points.
type loaded struct {
	si  int32
	src *corpus.Source
	rs  []rune
}

// recentSources is how many sources the engine keeps at hand after read.
const recentSources = 8

// source returns source si with its text and segments, and its text as
// code points: from the last few read, or read again with opts.Load. A
// failure to read is kept in loadErr (Suggest returns it) and gives an
// empty source.
func (e *engine) source(si int32) loaded {
	for k, l := range e.recent {
		if l.si == si {
			copy(e.recent[1:k+1], e.recent[:k])
			e.recent[0] = l
			return l
		}
	}
	src := e.srcs[si]
	if e.opts.Load != nil {
		full, err := e.opts.Load(src.ID)
		if err == nil && full.ID != src.ID {
			err = fmt.Errorf("suggest: loading source %q gave another", src.ID)
		}
		if err != nil {
			if e.loadErr == nil {
				e.loadErr = err
			}
			full = &corpus.Source{ID: src.ID, Case: src.Case}
		}
		src = full
	}
	l := loaded{si: si, src: src, rs: []rune(src.Text)}
	if len(e.recent) < recentSources {
		e.recent = append(e.recent, loaded{})
	}
	copy(e.recent[1:], e.recent[:len(e.recent)-1])
	e.recent[0] = l
	return l
}

// docRef is a segment clustered: its sentences are the units whose doc is
// its index.
type docRef struct{ src, seg int32 }

type refUnit struct{ src, seg int32 }

func newEngine(srcs []*corpus.Source, opts Options) *engine {
	sorted := slices.Clone(srcs)
	slices.SortStableFunc(sorted, func(a, b *corpus.Source) int {
		return cmp.Or(cmp.Compare(caseKey(a), caseKey(b)), cmp.Compare(a.ID, b.ID))
	})
	return &engine{opts: opts, srcs: sorted, v: newVocab(opts.Analyzer), ents: map[string]*entStat{}}
}

// sentOut is a sentence read by a worker: its tokens, their tag classes and
// the entities found in it.
type sentOut struct {
	gi   int32
	toks []string
	tags []uint8
	ents []ner.Entity
}

// srcOut is what a worker made of one source.
type srcOut struct {
	src   *corpus.Source // with its text and segments
	err   error
	sents []sentOut
	ref   []int32 // sentences not read, for the corpus reference
}

// read tokenizes and tags the sentences to read, notes the rest as
// reference and the uncoded segments to cluster. The work on each source
// (tokens, tags, entities: nearly all the time) is spread over the CPUs;
// the results are taken in source order, so that ids and orders never
// depend on which worker finished first.
func (e *engine) read() error {
	tk := tokenize.New()
	tagger, err := tag.New()
	if err != nil {
		return fmt.Errorf("suggest: loading the part-of-speech model: %w", err)
	}
	var ex *ner.Extracter
	if !e.opts.NoEntities {
		if ex, err = ner.New(); err != nil {
			return fmt.Errorf("suggest: loading the entity model: %w", err)
		}
	}
	cov := e.opts.Coverage.spans()
	corpusRef := e.corpusRef()
	common := commonWords(e.opts.Analyzer)
	work := func(src *corpus.Source) *srcOut {
		if e.opts.Load != nil {
			full, err := e.opts.Load(src.ID)
			if err == nil && full.ID != src.ID {
				err = fmt.Errorf("suggest: loading source %q gave another", src.ID)
			}
			if err != nil {
				return &srcOut{err: err}
			}
			src = full
		}
		out := &srcOut{src: src}
		rs := []rune(src.Text)
		for gi, seg := range src.Segments {
			if seg.Unit != corpus.UnitSentence {
				continue
			}
			s, en := clampSpan(seg.Start, seg.End, len(rs))
			if !roleIn(seg.Role, e.opts.Roles) || (e.opts.Uncoded && cov.touches(src.ID, s, en)) {
				if corpusRef {
					out.ref = append(out.ref, int32(gi))
				}
				continue
			}
			text := string(rs[s:en])
			ptoks := tk.Tokenize(text)
			tagger.TagTokens(ptoks)
			so := sentOut{gi: int32(gi), toks: make([]string, len(ptoks)), tags: make([]uint8, len(ptoks))}
			for k, t := range ptoks {
				so.toks[k], so.tags[k] = t.Text, tagClass(t.Tag)
			}
			if ex != nil && mayNameSomething(ptoks, common) {
				ex.Label(ptoks)
				so.ents = ex.Chunk(text, ptoks)
			}
			out.sents = append(out.sents, so)
		}
		return out
	}

	workers := max(1, runtime.GOMAXPROCS(0))
	results := make([]chan *srcOut, len(e.srcs))
	for i := range results {
		results[i] = make(chan *srcOut, 1)
	}
	inFlight := make(chan struct{}, 2*workers) // bounds the results held
	next := make(chan int)
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(next)
		for i := range e.srcs {
			select {
			case inFlight <- struct{}{}:
			case <-done:
				return
			}
			select {
			case next <- i:
			case <-done:
				return
			}
		}
	}()
	for w := 0; w < workers; w++ {
		go func() {
			for i := range next {
				results[i] <- work(e.srcs[i])
			}
		}()
	}
	caseIdx := map[string]int32{}
	for si := range e.srcs {
		out := <-results[si]
		<-inFlight
		if out.err != nil {
			return out.err // the workers stop: done is closed
		}
		if err := e.merge(int32(si), out.src, out, cov, caseIdx); err != nil {
			return err
		}
		if e.opts.Progress != nil {
			e.opts.Progress(si+1, len(e.srcs))
		}
	}

	// counts by surface (merge counted them) and by stem
	e.surfCount = append(e.surfCount, make([]int32, max(0, len(e.v.surf)-len(e.surfCount)))...)
	e.stemCount = make([]int32, len(e.v.stems))
	for id, n := range e.surfCount {
		e.stemCount[e.v.stemOf[id]] += n
	}
	e.stemCount[0] = 0
	return nil
}

// unitTokens unpacks the tokens of unit ui into e.toks and e.tags.
func (e *engine) unitTokens(ui int) {
	end := uint32(len(e.packed))
	if ui+1 < len(e.units) {
		end = e.units[ui+1].off
	}
	e.toks, e.tags = e.toks[:0], e.tags[:0]
	for b := e.packed[e.units[ui].off:end]; len(b) > 0; {
		x, n := binary.Uvarint(b)
		b = b[n:]
		e.toks = append(e.toks, uint32(x>>3))
		e.tags = append(e.tags, uint8(x&7))
	}
}

// run reports whether tokens i..i+n-1 are all words: no break among them.
func (e *engine) run(i, n int) bool {
	if i+n > len(e.toks) {
		return false
	}
	for _, id := range e.toks[i : i+n] {
		if id == 0 {
			return false
		}
	}
	return true
}

// merge adds what a worker read of source si: its units, their tokens,
// cluster documents and entities.
func (e *engine) merge(si int32, src *corpus.Source, out *srcOut, cov coverage, caseIdx map[string]int32) error {
	for _, gi := range out.ref {
		e.refUnits = append(e.refUnits, refUnit{si, gi})
	}
	if len(out.sents) == 0 {
		return nil
	}
	e.nSources++
	key := caseKey(src)
	ci, ok := caseIdx[key]
	if !ok {
		ci = int32(len(e.caseNames))
		caseIdx[key] = ci
		e.caseNames = append(e.caseNames, key)
	}
	segIdx := make(map[string]int, len(src.Segments))
	for i, seg := range src.Segments {
		segIdx[seg.ID] = i
	}
	docOf := map[string]int32{} // the cluster document of each segment of the cluster unit
	n := runeCount(src.Text)
	for _, so := range out.sents {
		u := unit{src: si, seg: so.gi, cas: ci, doc: -1}
		// the cluster document: the enclosing segment of the cluster unit,
		// if no coding touches it
		if e.opts.Clusters >= 0 {
			if anc := ancestor(src, segIdx, int(so.gi), e.opts.ClusterUnit); anc >= 0 {
				a := src.Segments[anc]
				if d, ok := docOf[a.ID]; ok {
					u.doc = d
				} else if as, ae := clampSpan(a.Start, a.End, n); !cov.touches(src.ID, as, ae) {
					u.doc = int32(len(e.docs))
					docOf[a.ID] = u.doc
					e.docs = append(e.docs, docRef{si, int32(anc)})
				} else {
					docOf[a.ID] = -1
				}
			}
		}
		u.off = uint32(len(e.packed))
		if len(e.packed) > math.MaxUint32-16*len(so.toks) {
			return fmt.Errorf("suggest: more text than the suggestions can hold (4 GB of tokens)")
		}
		for k, t := range so.toks {
			id := e.v.id(t)
			e.packed = binary.AppendUvarint(e.packed, uint64(id)<<3|uint64(so.tags[k]))
			if id != 0 {
				e.nWords++
				for int(id) >= len(e.surfCount) {
					e.surfCount = append(e.surfCount, 0)
				}
				e.surfCount[id]++
			}
		}
		e.packed = append(e.packed, 0) // a break between units (id 0, tagOther)
		uid := int32(len(e.units))
		e.units = append(e.units, u)
		for _, ent := range so.ents {
			e.addEntity(ent, uid, ci, si)
		}
	}
	return nil
}

// mayNameSomething reports whether a tagged sentence may hold a named
// entity: a capitalised word, or a word tagged as a proper noun, after the
// first word ("I" and its contractions aside), or a first word tagged as a
// proper noun that is not a common word (common reports that). Entity
// recognition is by far the slowest step, and most sentences of an
// interview name nothing.
func mayNameSomething(toks []tag.Token, common func(string) bool) bool {
	for i, t := range toks {
		if i == 0 {
			if (t.Tag == "NNP" || t.Tag == "NNPS") && !common(t.Text) {
				return true
			}
			continue
		}
		if t.Tag == "NNP" || t.Tag == "NNPS" {
			return true
		}
		if t.Text == "I" || strings.HasPrefix(t.Text, "I'") || strings.HasPrefix(t.Text, "I\u2019") {
			continue
		}
		if r, _ := utf8.DecodeRuneInString(t.Text); unicode.IsUpper(r) {
			return true
		}
	}
	return false
}

// commonWords reports whether a word is frequent in the general-English
// list (50 times or more in its 1.8 million words); with no list, no word
// is.
func commonWords(an *corpus.Analyzer) func(string) bool {
	ref := general(an)
	if ref == nil {
		return func(string) bool { return false }
	}
	return func(w string) bool {
		t := an.Term(w)
		return t == "" || ref.Counts[t] >= 50
	}
}

// ancestor returns the index of the segment of unit holding segment gi (gi
// itself when it is of that unit), or -1.
func ancestor(src *corpus.Source, segIdx map[string]int, gi int, unit string) int {
	for i := gi; i >= 0; {
		seg := src.Segments[i]
		if seg.Unit == unit {
			return i
		}
		if seg.Parent == "" {
			return -1
		}
		p, ok := segIdx[seg.Parent]
		if !ok {
			return -1
		}
		i = p
	}
	return -1
}

func (e *engine) stem(i int) uint32 { return e.v.stemOf[e.toks[i]] }

// hash hashes the stems of tokens i..i+n-1 (see hashStems).
func (e *engine) hash(i, n int) uint64 {
	h := hashStart(n)
	for k := i; k < i+n; k++ {
		h = hashStep(h, e.stem(k))
	}
	return h
}

// hashStems hashes a sequence of stem ids; n-grams are keyed by it. With 64
// bits, two different n-grams of a corpus share a key with a chance of
// about n²/2^65 for n distinct n-grams: negligible.
func hashStems(st []uint32) uint64 {
	h := hashStart(len(st))
	for _, s := range st {
		h = hashStep(h, s)
	}
	return h
}

func hashStart(n int) uint64 { return uint64(n) * 0x9E3779B97F4A7C15 }

func hashStep(h uint64, s uint32) uint64 {
	h = (h ^ uint64(s)) * 0xBF58476D1CE4E5B9
	return h ^ h>>31
}

// countNgrams finds the n-grams of 2 to maxN words occurring MinCount times
// or more, level by level: an n-gram is counted only where its first and
// last n-1 words are themselves frequent, which keeps the counts small.
//
// Most n-grams occur once, and a table of all of them takes far more memory
// than the tokens. So each level is first counted roughly, in a sketch of
// two rows of small saturating counters indexed by two hashes of the
// n-gram's key (counts only ever come out too high there), and then exactly,
// in a table, for only the n-grams whose count in both rows reaches
// MinCount: the exact counts are those of counting every n-gram, in a
// fraction of the memory. Should even those be too many, they are counted
// in parts, the n-grams whose key falls in one part at a time (one pass over
// the tokens each), so that about ngramPart distinct n-grams are held at
// once. The passes cost time linear in the tokens.
func (e *engine) countNgrams() {
	min := int32(e.opts.MinCount)
	e.freq = make([]map[uint64]int32, maxN+1)
	// each calls fn with the key of every n-gram to count.
	each := func(n int, fn func(h uint64)) {
		for ui := range e.units {
			e.unitTokens(ui)
			for i := 0; i+n <= len(e.toks); i++ {
				if !e.run(i, n) {
					continue
				}
				if n == 2 {
					if e.stemCount[e.stem(i)] < min || e.stemCount[e.stem(i+1)] < min {
						continue
					}
				} else {
					prev := e.freq[n-1]
					if _, ok := prev[e.hash(i, n-1)]; !ok {
						continue
					}
					if _, ok := prev[e.hash(i+1, n-1)]; !ok {
						continue
					}
				}
				fn(e.hash(i, n))
			}
		}
	}
	// A row per hash, a counter per token or so (about 2 bytes a token
	// packed), within bounds.
	bits := ngramSketchBits
	if bits == 0 {
		bits = 16
		for bits < 27 && 1<<bits < len(e.packed)/2 {
			bits++
		}
	}
	size := 1 << bits
	sketch := make([]uint8, 2*size)
	cells := func(h uint64) (int, int) {
		return int(h & uint64(size-1)), size + int((h*0x9e3779b97f4a7c15)>>(64-bits))
	}
	floor := uint8(255) // a saturated counter may stand for more
	if min < 255 {
		floor = uint8(min)
	}
	for n := 2; n <= maxN; n++ {
		clear(sketch)
		each(n, func(h uint64) {
			a, b := cells(h)
			if sketch[a] < 255 {
				sketch[a]++
			}
			if sketch[b] < 255 {
				sketch[b]++
			}
		})
		likely := 0 // cells of the first row that may hold a frequent n-gram
		for _, c := range sketch[:size] {
			if c >= floor {
				likely++
			}
		}
		parts := uint64(max(1, likely/ngramPart+1))
		freq := map[uint64]int32{}
		for part := range parts {
			counts := map[uint64]int32{}
			each(n, func(h uint64) {
				if h%parts != part {
					return
				}
				if a, b := cells(h); sketch[a] >= floor && sketch[b] >= floor {
					counts[h]++
				}
			})
			for h, c := range counts {
				if c >= min {
					freq[h] = c
				}
			}
		}
		e.freq[n] = freq
	}
}

// ngramPart is about how many distinct n-grams countNgrams counts exactly
// at once.
var ngramPart = 4 << 20

// ngramSketchBits, when not 0, sets the size of countNgrams' sketch (for
// tests: a tiny sketch lets nearly every n-gram through to the exact count).
var ngramSketchBits = 0

// cand is a candidate phrase: n words beginning and ending with a content
// word, frequent enough.
type cand struct {
	st      [maxN]uint32
	n       int
	h       uint64
	count   int32
	np      int32 // occurrences whose tags make a noun phrase
	cases   int32
	srcs    int32
	lastCas int32
	lastSrc int32
	ref     float64 // count in the reference
	kind    string
	keyness float64
	score   float64
}

func (c *cand) content() []uint32 { return c.st[:c.n] }

// isCandidate reports whether tokens i..i+n-1 make a candidate n-gram.
func (e *engine) isCandidate(i, n int) (uint64, bool) {
	if !e.run(i, n) || e.v.stop[e.stem(i)] || e.v.stop[e.stem(i+n-1)] {
		return 0, false
	}
	if n == 1 {
		return e.hash(i, 1), e.stemCount[e.stem(i)] >= int32(e.opts.MinCount)
	}
	h := e.hash(i, n)
	_, ok := e.freq[n][h]
	return h, ok
}

// collect makes the candidates and counts their occurrences, cases and
// sources, and their counts in the reference.
func (e *engine) collect() {
	e.byKey = map[uint64]int32{}
	for ui, u := range e.units {
		e.unitTokens(ui)
		for i := range e.toks {
			for n := 1; n <= maxN && i+n <= len(e.toks); n++ {
				h, ok := e.isCandidate(i, n)
				if !ok {
					continue
				}
				ci, ok := e.byKey[h]
				if !ok {
					c := &cand{n: n, h: h, lastCas: -1, lastSrc: -1}
					for k := 0; k < n; k++ {
						c.st[k] = e.stem(i + k)
					}
					ci = int32(len(e.cands))
					e.cands = append(e.cands, c)
					e.byKey[h] = ci
				}
				c := e.cands[ci]
				c.count++
				if isNP(e.tags[i : i+n]) {
					c.np++
				}
				if c.lastCas != u.cas {
					c.lastCas = u.cas
					c.cases++
				}
				if c.lastSrc != u.src {
					c.lastSrc = u.src
					c.srcs++
				}
			}
		}
	}
	if !e.corpusRef() {
		return
	}
	// count the candidates in the sentences not read
	tk := tokenize.New()
	var ids []uint32
	for _, r := range e.refUnits {
		l := e.source(r.src)
		if int(r.seg) >= len(l.src.Segments) {
			continue // not read again
		}
		seg := l.src.Segments[r.seg]
		s, en := clampSpan(seg.Start, seg.End, len(l.rs))
		rs := l.rs
		text := string(rs[s:en])
		ids = ids[:0]
		for _, t := range tk.Tokenize(text) {
			ids = append(ids, e.v.stemOf[e.v.id(t.Text)])
		}
		for _, st := range ids {
			if st != 0 {
				e.refWords++
				for int(st) >= len(e.refStems) {
					e.refStems = append(e.refStems, 0)
				}
				e.refStems[st]++
			}
		}
		for i := range ids {
			for n := 1; n <= maxN && i+n <= len(ids); n++ {
				if ids[i+n-1] == 0 {
					break
				}
				if ci, ok := e.byKey[hashStems(ids[i:i+n])]; ok {
					e.cands[ci].ref++
				}
			}
		}
	}
}

// runeCount is the number of code points of s.
func runeCount(s string) int { return utf8.RuneCountInString(s) }

// segText returns the text of segment gi of source si.
func (e *engine) segText(si, gi int32) string {
	l := e.source(si)
	if int(gi) >= len(l.src.Segments) {
		return ""
	}
	seg := l.src.Segments[gi]
	s, en := clampSpan(seg.Start, seg.End, len(l.rs))
	return string(l.rs[s:en])
}

// isNP reports whether tags make a key phrase: a noun or an adjective
// alone, or words ending in a common noun whose modifiers are nouns,
// adjectives, gerunds or proper nouns.
func isNP(tags []uint8) bool {
	last := tags[len(tags)-1]
	if len(tags) == 1 {
		return last == tagNoun || last == tagAdj
	}
	if last != tagNoun {
		return false
	}
	for _, t := range tags[:len(tags)-1] {
		if t != tagNoun && t != tagAdj && t != tagGerund && t != tagProper {
			return false
		}
	}
	return true
}

// refCount is a stem's count in the reference.
func (e *engine) refCount(st uint32) float64 {
	if e.refList != nil {
		return float64(e.refList.Counts[e.v.stems[st]])
	}
	if int(st) < len(e.refStems) {
		return e.refStems[st]
	}
	return 0
}

// keyWord reports whether the participants use a word more than the
// reference does (always, when there is no reference).
func (e *engine) keyWord(st uint32) bool {
	if e.refTotal == 0 {
		return true
	}
	return Keyness(float64(e.stemCount[st]), e.refCount(st), float64(e.nWords), e.refTotal) > 0
}

// corpusRef reports whether keyness compares against the rest of the
// corpus.
func (e *engine) corpusRef() bool {
	return e.opts.CorpusReference || (e.opts.Reference == nil && general(e.opts.Analyzer) == nil)
}

// reference picks the reference and sets every candidate's reference count
// for keyness; it returns the reference's name.
func (e *engine) reference() string {
	if e.corpusRef() {
		e.refTotal = float64(e.refWords)
		if e.refWords == 0 {
			return "nothing: the corpus has no other text, so phrases are ranked by frequency"
		}
		return fmt.Sprintf("the rest of the corpus (%d words)", e.refWords)
	}
	ref := e.opts.Reference
	if ref == nil {
		ref = general(e.opts.Analyzer)
	}
	e.refList = ref
	e.refTotal = float64(ref.Total)
	// A phrase's count in a word list is unknown; its rarest word's count
	// bounds it from above, so a phrase's keyness is never overstated.
	for _, c := range e.cands {
		b := math.Inf(1)
		for _, s := range c.content() {
			if e.v.stop[s] {
				continue
			}
			b = math.Min(b, float64(ref.Counts[e.v.stems[s]]))
		}
		if math.IsInf(b, 1) {
			b = 0
		}
		c.ref = b
	}
	return fmt.Sprintf("%s (%d words)", ref.Name, ref.Total)
}
