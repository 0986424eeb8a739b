package export

import (
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
)

// Study is what the exports of a project are made from: its codebook,
// sources and case attributes, and the codings to export (those of the
// coders chosen, already filtered by the caller). Orphaned codings, whose
// positions are stale, and codings of sources not in Sources are left out
// of every export.
//
// A small study can be given whole: Sources with their segments and text,
// Codings in a slice. A large one streams: Read reads a source when an
// export needs it, and Each passes the codings one at a time, so that an
// export holds only what its rows need (a few sources at a time, compact
// spans for the counts, the extracts' own text).
type Study struct {
	Codebook *codebook.Codebook // nil: no codebook, every code is "not in the codebook"
	// Sources are the sources, in the order exports list them. Without
	// Read they hold their segments and text; with Read, their metadata
	// (id, kind, case, number, title, attributes) is enough, as
	// corpus.Project.SourceInfos gives it.
	Sources []*corpus.Source
	Cases   corpus.Cases // attributes of cases (cases.csv)
	// Citation is the citation label template (thematic.yaml); empty means
	// "({Kind} {n})".
	Citation string
	// Codings are the codings to export, unless Each is set.
	Codings []analysis.Coding
	// Each, when set, gives the codings to export in place of Codings: it
	// calls fn once per coding and returns the first error fn returns. The
	// exports keep nothing of a coding's memory (see analysis.EachCoding),
	// and call Each once per Build.
	Each func(fn func(c *analysis.Coding) error) error
	// Read, when set, reads a source by id with its segments and, when
	// withText, its text, as corpus.Project.Source does. Exports then read
	// only the sources they need, a few at a time, and only what they need
	// of them (counts of segments need no text; counts of sources nothing).
	// Read is called on several goroutines at once, to read ahead.
	Read func(id string, withText bool) (*corpus.Source, error)
	// Text, when set with Read, reads a source's text alone: the exports
	// that need no segments (words, the framework matrix) use it instead
	// of Read, which also decodes the segments. It too is called on
	// several goroutines at once.
	Text func(id string) (string, error)
}

// srcInfo is a source prepared for the exports: its metadata and what is
// made of it.
type srcInfo struct {
	src   *corpus.Source // metadata; segments and text too when Study.Read is nil
	pos   int            // index in Study.Sources
	index int32          // index in prepared.srcs
	cite  string         // citation label
	attrs map[string]string
}

// srcBody is the segments and text of a source, read when an export needs
// them and dropped after.
type srcBody struct {
	src      *corpus.Source
	turns    []corpus.Segment // the turn segments, in text order; built when first needed
	tx       *analysis.TextIndex
	lineHead []int // code-point offsets of line starts; built when first needed
}

// text returns the index of the source's text, built on first use.
func (b *srcBody) text() *analysis.TextIndex {
	if b.tx == nil {
		b.tx = analysis.NewTextIndex(b.src.Text)
	}
	return b.tx
}

// slice returns a copy of the text from code point start to end: an
// extract kept beyond the body must not hold the whole text in memory.
func (b *srcBody) slice(start, end int) string {
	return strings.Clone(b.text().Slice(start, end))
}

// line returns the 1-based line of code point cp.
func (b *srcBody) line(cp int) int {
	if b.lineHead == nil {
		b.lineHead = []int{0}
		i := 0
		for _, r := range b.src.Text {
			i++
			if r == '\n' {
				b.lineHead = append(b.lineHead, i)
			}
		}
	}
	return sort.SearchInts(b.lineHead, cp+1)
}

// turnList returns the turns, in text order.
func (b *srcBody) turnList() []corpus.Segment {
	if b.turns == nil {
		b.turns = []corpus.Segment{}
		for _, seg := range b.src.Segments {
			if seg.Unit == corpus.UnitTurn {
				b.turns = append(b.turns, seg)
			}
		}
	}
	return b.turns
}

// turnAt returns the turn holding code point start, else the first turn
// that begins inside [start, end) (a span starting on a speaker's label),
// else nil.
func (b *srcBody) turnAt(start, end int) *corpus.Segment {
	turns := b.turnList()
	i := sort.Search(len(turns), func(i int) bool { return turns[i].End > start })
	if i < len(turns) && turns[i].Start < end {
		return &turns[i]
	}
	return nil
}

// prepared is a Study made ready for the exports.
type prepared struct {
	st       *Study
	srcs     []*srcInfo
	byID     map[string]*srcInfo
	nodes    []*codebook.Node // every codebook node, in file order (each before its children)
	order    map[string]int   // node id -> index in nodes; unknown codes after, by id (once scanned)
	unknown  []string         // code ids used by codings but not in the codebook, sorted (once scanned)
	ncodings int              // usable codings: not orphaned, of a known source (once scanned)
	attrKeys []string         // attribute names of the sources and their cases, sorted
	labels   map[*codebook.Node][3]string

	// Code ids of the codings scanned, each once: codings refer to their
	// code by its index here.
	codeIDs []string
	codeIdx map[string]int32
	// strs shares the repeated strings kept from streamed codings.
	strs map[string]string
}

// prepare indexes a study's sources and codebook; scan reads its codings.
func prepare(st *Study) *prepared {
	p := &prepared{st: st, byID: make(map[string]*srcInfo, len(st.Sources)), order: map[string]int{},
		labels: map[*codebook.Node][3]string{}, codeIdx: map[string]int32{}, strs: map[string]string{}}
	tmpl := st.Citation
	if tmpl == "" {
		tmpl = "({Kind} {n})"
	}
	keys := map[string]bool{}
	for i, src := range st.Sources {
		if _, dup := p.byID[src.ID]; dup {
			continue
		}
		attrs := corpus.CaseAttrs(src, st.Cases)
		si := &srcInfo{src: src, pos: i, index: int32(len(p.srcs)), cite: corpus.Citation(tmpl, src, attrs), attrs: attrs}
		for k := range attrs {
			keys[k] = true
		}
		p.srcs = append(p.srcs, si)
		p.byID[src.ID] = si
	}
	p.attrKeys = sortedKeys(keys)
	if st.Codebook != nil {
		st.Codebook.Walk(func(n *codebook.Node) bool {
			p.order[n.ID] = len(p.nodes)
			p.nodes = append(p.nodes, n)
			p.labels[n] = nodeLabels(n)
			return true
		})
	}
	return p
}

// intern returns s, or an equal string kept before, never one sharing
// memory with a streamed coding.
func (p *prepared) intern(s string) string {
	if t, ok := p.strs[s]; ok {
		return t
	}
	t := strings.Clone(s)
	p.strs[t] = t
	return t
}

// scan calls fn with every usable coding of the study (not orphaned, of a
// known source, not empty), with its source and the index of its code in
// p.codeIDs. After it, p.unknown, p.order and p.ncodings are complete.
func (p *prepared) scan(fn func(c *analysis.Coding, si *srcInfo, code int32) error) error {
	visit := func(c *analysis.Coding) error {
		si := p.byID[c.Source]
		if c.Orphan || si == nil || c.End <= c.Start {
			return nil
		}
		p.ncodings++
		k, ok := p.codeIdx[c.Code]
		if !ok {
			id := strings.Clone(c.Code)
			k = int32(len(p.codeIDs))
			p.codeIDs = append(p.codeIDs, id)
			p.codeIdx[id] = k
		}
		return fn(c, si, k)
	}
	var err error
	if p.st.Each != nil {
		err = p.st.Each(visit)
	} else {
		for i := range p.st.Codings {
			if err = visit(&p.st.Codings[i]); err != nil {
				break
			}
		}
	}
	unknown := map[string]bool{}
	for _, id := range p.codeIDs {
		if _, ok := p.order[id]; !ok {
			unknown[id] = true
		}
	}
	p.unknown = sortedKeys(unknown)
	for i, id := range p.unknown {
		p.order[id] = len(p.nodes) + i
	}
	return err
}

// codeOrders maps the index of each code scanned to its place in p.order.
func (p *prepared) codeOrders() []int {
	out := make([]int, len(p.codeIDs))
	for k, id := range p.codeIDs {
		out[k] = p.order[id]
	}
	return out
}

// node returns the codebook node of a code id, or nil.
func (p *prepared) node(id string) *codebook.Node {
	if i, ok := p.order[id]; ok && i < len(p.nodes) {
		return p.nodes[i]
	}
	return nil
}

// nodeLabels gives the Theme, Sub-theme and Code columns of a node: the
// names on its path, child codes as "Parent › Child".
func nodeLabels(n *codebook.Node) [3]string {
	var out [3]string
	var codes []string
	for _, m := range n.Path() {
		switch m.Level {
		case codebook.LevelTheme:
			out[0] = m.Name
		case codebook.LevelSubtheme:
			out[1] = m.Name
		default:
			codes = append(codes, m.Name)
		}
	}
	out[2] = strings.Join(codes, " › ")
	return out
}

// sortedKeys returns the keys of a set in order.
func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// bodyResult is one source read by a bodyReader.
type bodyResult struct {
	body *srcBody
	err  error
}

// bodyReader gives the bodies of a list of sources in order, reading them
// ahead of the caller on the other cores, a few at a time.
type bodyReader struct {
	sis  []*srcInfo
	next int
	// With Study.Read: one channel per source, filled by the readers.
	res  []chan bodyResult
	sem  chan struct{} // a token per source read and not yet taken
	stop chan struct{}
	wg   sync.WaitGroup
}

// Parts of a source a body is read with.
const (
	withSegments = 1 << iota
	withText
)

// readBodies starts reading the bodies of sis with the parts asked for
// (withSegments, withText or both). Call close when done, even after an
// error.
func (p *prepared) readBodies(sis []*srcInfo, parts int) *bodyReader {
	r := &bodyReader{sis: sis}
	if p.st.Read == nil || len(sis) == 0 {
		return r
	}
	read := func(si *srcInfo) (*corpus.Source, error) {
		return p.st.Read(si.src.ID, parts&withText != 0)
	}
	if parts == withText && p.st.Text != nil {
		read = func(si *srcInfo) (*corpus.Source, error) {
			text, err := p.st.Text(si.src.ID)
			if err != nil {
				return nil, err
			}
			src := *si.src
			src.Text = text
			return &src, nil
		}
	}
	r.res = make([]chan bodyResult, len(sis))
	for i := range r.res {
		r.res[i] = make(chan bodyResult, 1)
	}
	r.stop = make(chan struct{})
	// Up to ahead sources are read or held at once: enough to keep every
	// core busy while the caller works on the current one.
	ahead := runtime.GOMAXPROCS(0) + 1
	sem := make(chan struct{}, ahead)
	r.sem = sem
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for i, si := range sis {
			select {
			case sem <- struct{}{}:
			case <-r.stop:
				return
			}
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				src, err := read(si)
				r.res[i] <- bodyResult{body: &srcBody{src: src}, err: err}
			}()
		}
	}()
	return r
}

// get returns the body of the next source of the list.
func (r *bodyReader) get() (*srcInfo, *srcBody, error) {
	i := r.next
	r.next++
	si := r.sis[i]
	if r.res == nil {
		return si, &srcBody{src: si.src}, nil
	}
	res := <-r.res[i]
	<-r.sem
	return si, res.body, res.err
}

// close stops the reading and waits for the readers.
func (r *bodyReader) close() {
	if r.res == nil {
		return
	}
	close(r.stop)
	// The readers still running finish: each has room for its result.
	r.wg.Wait()
}

// eachBody calls fn with the body of each source of sis, in order.
func (p *prepared) eachBody(sis []*srcInfo, parts int, fn func(si *srcInfo, b *srcBody) error) error {
	r := p.readBodies(sis, parts)
	defer r.close()
	for range sis {
		si, b, err := r.get()
		if err != nil {
			return err
		}
		if err := fn(si, b); err != nil {
			return err
		}
	}
	return nil
}

// coded reports whether a scanned coding has the code id.
func (p *prepared) coded(id string) bool {
	_, ok := p.codeIdx[id]
	return ok
}
