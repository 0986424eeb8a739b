package corpus

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/thematic-qda/thematic/internal/fsx"
)

// Files of the index inside its directory. The manifest is written last: a
// build that stops half-way leaves a manifest marked incomplete (or none), and
// the next Sync rebuilds from scratch.
const (
	bleveDir     = "bleve"
	manifestFile = "manifest.json"
	// mappingVersion changes whenever the mapping or the analysis chain
	// changes in a way that makes an existing index stale.
	mappingVersion = 2
	// batchSize is the number of documents per bleve batch: measured as the
	// point past which larger batches cost memory without gaining speed.
	batchSize = 1000
)

// openTimeout bounds the wait for another process's lock on the index.
var openTimeout = "2s"

// indexConfig is bleve's runtime configuration. unsafe_batch lets a batch
// return once its documents are searchable rather than after they reach the
// disk (which took each batch's fsyncs one after the other); the batcher
// waits for the disk once, at the end of a build or update.
func indexConfig() map[string]any {
	return map[string]any{"bolt_timeout": openTimeout, "unsafe_batch": true}
}

// Index fields. Keyword fields hold exact values (case-sensitive) with
// DocValues for sorting and facets; attributes are keyword fields under
// attr.<name>.
const (
	fieldText    = "text"
	fieldSource  = "source"
	fieldSegment = "segment"
	fieldKind    = "kind"
	fieldCase    = "case"
	fieldSpeaker = "speaker"
	fieldRole    = "role"
	fieldStart   = "start"
	fieldOrder   = "order"
	fieldAttr    = "attr"
)

// Index is the derived search index in a project's .thematic/ folder: one
// bleve document per paragraph segment of every source. It can be deleted at
// any time; Sync rebuilds what is missing.
type Index struct {
	dir  string
	set  indexSettings
	idx  bleve.Index
	man  *manifest // nil until the index content is known to match a set of sources
	an   *Analyzer
	path string // of the bleve index
}

// indexSettings are what the index content depends on besides the sources.
type indexSettings struct {
	Language    string `json:"language"`
	FoldAccents bool   `json:"fold_accents"`
	Mapping     int    `json:"mapping_version"`
}

// manifest records what the index holds: a hash of the indexed fields of
// every source, and whether the last build finished.
type manifest struct {
	indexSettings
	Complete bool              `json:"complete"`
	Sources  map[string]string `json:"sources"`
}

// OpenIndex opens the index in dir, creating it if missing. An index built
// with other analysis settings, or one that cannot be read, is discarded and
// created empty; Sync then fills it.
func OpenIndex(dir string, cfg Config) (*Index, error) {
	an, err := NewAnalyzer(cfg.Language, cfg.FoldAccents)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	ix := &Index{
		dir:  dir,
		set:  indexSettings{Language: an.Language(), FoldAccents: cfg.FoldAccents, Mapping: mappingVersion},
		an:   an,
		path: filepath.Join(dir, bleveDir),
	}
	man := ix.readManifest()
	if man != nil && man.indexSettings == ix.set {
		idx, err := bleve.OpenUsing(ix.path, indexConfig())
		if err == nil {
			ix.idx, ix.man = idx, man
			return ix, nil
		}
		if isLockTimeout(err) {
			return nil, fmt.Errorf("search index %s is in use by another process", ix.path)
		}
		// Unreadable: fall through and start again.
	}
	if err := ix.create(); err != nil {
		return nil, err
	}
	return ix, nil
}

var errClosed = errors.New("search index is closed")

func isLockTimeout(err error) bool {
	return err != nil && strings.Contains(err.Error(), "timeout")
}

// create discards whatever is in the index directory and makes an empty
// index. The manifest goes first, so that a crash in between never leaves an
// old manifest describing a new index.
func (ix *Index) create() error {
	if ix.idx != nil {
		ix.idx.Close()
		ix.idx = nil
	}
	// Never delete an index another process has open.
	if _, err := os.Stat(ix.path); err == nil {
		old, err := bleve.OpenUsing(ix.path, indexConfig())
		if isLockTimeout(err) {
			return fmt.Errorf("search index %s is in use by another process", ix.path)
		}
		if err == nil {
			old.Close()
		}
	}
	ix.man = nil
	if err := os.Remove(filepath.Join(ix.dir, manifestFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("search index: %w", err)
	}
	if err := os.RemoveAll(ix.path); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	idx, err := bleve.NewUsing(ix.path, ix.mapping(), bleve.Config.DefaultIndexType, bleve.Config.DefaultKVStore,
		indexConfig())
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	ix.idx = idx
	return nil
}

// mapping is static: only the fields below are indexed. The text field is
// stored (to turn byte offsets of matches into code points) and keeps term
// vectors with positions (for phrase queries and match offsets); only the
// order keyword keeps DocValues, as it alone is sorted on (filters read
// postings; DocValues on the other keywords cost ~20% of indexing time);
// nothing goes into the composite _all field.
func (ix *Index) mapping() *mapping.IndexMappingImpl {
	im := bleve.NewIndexMapping()
	if err := im.AddCustomAnalyzer(textAnalyzerName, map[string]any{
		"type":         analyzerType,
		"language":     ix.set.Language,
		"fold_accents": ix.set.FoldAccents,
	}); err != nil {
		panic(err) // the configuration is ours, not the user's
	}
	im.DefaultAnalyzer = keyword.Name
	im.DefaultField = fieldText
	im.StoreDynamic = false
	im.IndexDynamic = true
	im.DocValuesDynamic = false

	doc := bleve.NewDocumentStaticMapping()
	text := bleve.NewTextFieldMapping()
	text.Analyzer = textAnalyzerName
	text.Store = true
	text.IncludeTermVectors = true
	text.IncludeInAll = false
	text.DocValues = false
	doc.AddFieldMappingsAt(fieldText, text)
	for _, f := range []string{fieldSource, fieldSegment, fieldKind, fieldCase, fieldSpeaker, fieldRole} {
		kw := bleve.NewKeywordFieldMapping()
		kw.Store = f == fieldSource || f == fieldSegment
		kw.IncludeTermVectors = false
		kw.IncludeInAll = false
		kw.DocValues = false // filters read postings; only order is sorted on
		doc.AddFieldMappingsAt(f, kw)
	}
	start := bleve.NewNumericFieldMapping()
	start.Store = true
	start.Index = false
	start.IncludeInAll = false
	start.DocValues = false
	doc.AddFieldMappingsAt(fieldStart, start)
	// order (source, then position) breaks ties between equal scores: one
	// keyword with DocValues, as every sort field is read for every
	// candidate hit and two fields (source, start) cost twice as much.
	order := bleve.NewKeywordFieldMapping()
	order.Store = false
	order.IncludeTermVectors = false
	order.IncludeInAll = false
	order.DocValues = true
	doc.AddFieldMappingsAt(fieldOrder, order)

	// Attribute names are the researcher's, so attr.* is mapped dynamically,
	// as keywords.
	attr := bleve.NewDocumentMapping()
	attr.Dynamic = true
	attr.DefaultAnalyzer = keyword.Name
	doc.AddSubDocumentMapping(fieldAttr, attr)
	doc.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	im.DefaultMapping = doc
	return im
}

// Close closes the index.
func (ix *Index) Close() error {
	if ix.idx == nil {
		return nil
	}
	err := ix.idx.Close()
	ix.idx = nil
	return err
}

// Analyzer is the analysis the index uses.
func (ix *Index) Analyzer() *Analyzer { return ix.an }

// Sync brings the index in line with sources: it indexes new and changed
// sources, deletes removed ones, and rebuilds everything when the analysis
// settings changed or the last build did not finish. changed tells whether
// the index was touched. progress, if not nil, is called with the number of
// documents indexed so far and the number to index.
func (ix *Index) Sync(sources []*Source, progress func(done, total int)) (changed bool, err error) {
	if ix.idx == nil {
		return false, errClosed
	}
	prep, err := prepareSources(sources)
	if err != nil {
		return false, err
	}
	if ix.man == nil || !ix.man.Complete || ix.man.indexSettings != ix.set {
		return true, ix.build(prep, progress)
	}
	seen := make(map[string]bool, len(prep))
	var stale []string
	var add []*preparedSource
	for _, p := range prep {
		seen[p.id] = true
		old, ok := ix.man.Sources[p.id]
		if ok && old == p.hash {
			continue
		}
		if ok {
			stale = append(stale, p.id)
		}
		add = append(add, p)
	}
	for id := range ix.man.Sources {
		if !seen[id] {
			stale = append(stale, id)
		}
	}
	if len(stale) == 0 && len(add) == 0 {
		return false, nil
	}
	sort.Strings(stale)

	// From here until the final manifest, an interruption must lead to a
	// rebuild.
	ix.man.Complete = false
	if err := ix.writeManifest(); err != nil {
		return true, err
	}
	b := ix.newBatcher(countDocs(add), progress)
	defer b.close()
	for _, id := range stale {
		ids, err := ix.docIDs(id)
		if err != nil {
			return true, err
		}
		for _, d := range ids {
			if err := b.delete(d); err != nil {
				return true, err
			}
		}
		delete(ix.man.Sources, id)
	}
	// Deletions first: a changed source's documents are deleted and added
	// again under the same ids, and batches in flight may apply in any order.
	if err := b.wait(); err != nil {
		return true, err
	}
	for _, p := range add {
		if err := p.prepare(); err != nil {
			return true, err
		}
		for _, d := range p.docs {
			if err := b.index(d); err != nil {
				return true, err
			}
		}
		p.docs = nil
		ix.man.Sources[p.id] = p.hash
	}
	if err := b.wait(); err != nil {
		return true, err
	}
	ix.man.Complete = true
	return true, ix.writeManifest()
}

// Rebuild discards the index and indexes sources again.
func (ix *Index) Rebuild(sources []*Source, progress func(done, total int)) error {
	if ix.idx == nil {
		return errClosed
	}
	prep, err := prepareSources(sources)
	if err != nil {
		return err
	}
	return ix.build(prep, progress)
}

func (ix *Index) build(prep []*preparedSource, progress func(done, total int)) error {
	if err := ix.create(); err != nil {
		return err
	}
	man := &manifest{indexSettings: ix.set, Sources: make(map[string]string, len(prep))}
	b := ix.newBatcher(countDocs(prep), progress)
	defer b.close()
	for _, p := range prep {
		if err := p.prepare(); err != nil {
			return err
		}
		for _, d := range p.docs {
			if err := b.index(d); err != nil {
				return err
			}
		}
		p.docs = nil
		man.Sources[p.id] = p.hash
	}
	if err := b.wait(); err != nil {
		return err
	}
	man.Complete = true
	ix.man = man
	return ix.writeManifest()
}

func (ix *Index) readManifest() *manifest {
	data, err := os.ReadFile(filepath.Join(ix.dir, manifestFile))
	if err != nil {
		return nil
	}
	var m manifest
	if json.Unmarshal(data, &m) != nil || m.Sources == nil {
		return nil
	}
	return &m
}

func (ix *Index) writeManifest() error {
	data, err := json.MarshalIndent(ix.man, "", "  ")
	if err != nil {
		return err
	}
	if err := fsx.WriteFile(filepath.Join(ix.dir, manifestFile), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	return nil
}

// docIDs lists the ids of the documents of one source.
func (ix *Index) docIDs(source string) ([]string, error) {
	tq := query.NewTermQuery(source)
	tq.SetField(fieldSource)
	var ids []string
	var after []string
	for {
		req := bleve.NewSearchRequestOptions(tq, batchSize, 0, false)
		req.SortBy([]string{"_id"})
		req.Score = "none"
		if after != nil {
			req.SearchAfter = after
		}
		res, err := ix.idx.Search(req)
		if err != nil {
			return nil, fmt.Errorf("search index: %w", err)
		}
		for _, h := range res.Hits {
			ids = append(ids, h.ID)
		}
		if len(res.Hits) < batchSize {
			return ids, nil
		}
		after = res.Hits[len(res.Hits)-1].Sort
	}
}

// batcher sends index operations to bleve in batches of batchSize, up to
// indexWorkers batches at a time: bleve analyses a batch's documents on
// every core but builds its segment on one, so two batches in flight keep
// both cores busy. The index is opened with unsafe_batch (a batch returns
// once searchable, before it is on disk), and wait ends with a batch whose
// persisted callback says that everything before it is on disk.
type batcher struct {
	ix       *Index
	b        *bleve.Batch
	pending  int // documents indexed in the current batch
	total    int
	progress func(done, total int)

	work chan batchJob
	wg   sync.WaitGroup
	mu   sync.Mutex // guards done and err, and serialises progress calls
	done int
	err  error
}

type batchJob struct {
	b    *bleve.Batch
	docs int
}

// indexWorkers is the number of batches given to bleve at once.
const indexWorkers = 2

func (ix *Index) newBatcher(total int, progress func(done, total int)) *batcher {
	if progress != nil {
		progress(0, total)
	}
	b := &batcher{ix: ix, b: ix.idx.NewBatch(), total: total, progress: progress, work: make(chan batchJob)}
	for w := 0; w < indexWorkers; w++ {
		b.wg.Go(b.worker)
	}
	return b
}

func (b *batcher) worker() {
	for job := range b.work {
		err := b.ix.idx.Batch(job.b)
		b.mu.Lock()
		if err != nil && b.err == nil {
			b.err = fmt.Errorf("search index: %w", err)
		}
		if err == nil {
			b.done += job.docs
			if b.progress != nil {
				b.progress(b.done, b.total)
			}
		}
		b.mu.Unlock()
	}
}

func (b *batcher) failed() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

func (b *batcher) index(d *segDoc) error {
	if err := b.b.Index(d.id, d.fields()); err != nil {
		return fmt.Errorf("search index: %s: %w", d.id, err)
	}
	b.pending++
	if b.b.Size() >= batchSize {
		return b.send()
	}
	return nil
}

func (b *batcher) delete(id string) error {
	b.b.Delete(id)
	if b.b.Size() >= batchSize {
		return b.send()
	}
	return nil
}

// send hands the current batch to a worker.
func (b *batcher) send() error {
	if err := b.failed(); err != nil {
		return err
	}
	if b.b.Size() == 0 {
		return nil
	}
	b.work <- batchJob{b.b, b.pending}
	b.b = b.ix.idx.NewBatch()
	b.pending = 0
	return nil
}

// wait sends what is pending, waits until every batch sent is on disk and
// returns the first error. The batcher can be used again afterwards, so a
// wait between deletions and additions orders them.
func (b *batcher) wait() error {
	if err := b.send(); err != nil {
		b.stop()
		return err
	}
	b.stop()
	if err := b.failed(); err != nil {
		return err
	}
	persisted := make(chan error, 1)
	last := b.ix.idx.NewBatch()
	last.SetInternal([]byte(syncedKey), []byte{1})
	last.SetPersistedCallback(func(err error) { persisted <- err })
	if err := b.ix.idx.Batch(last); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	if err := <-persisted; err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	b.work = make(chan batchJob)
	for w := 0; w < indexWorkers; w++ {
		b.wg.Go(b.worker)
	}
	return nil
}

// stop ends the workers once they have finished their batches.
func (b *batcher) stop() {
	close(b.work)
	b.wg.Wait()
}

// close ends the batcher after an error, without waiting for the disk.
func (b *batcher) close() {
	b.stop()
	b.work = nil
}

// syncedKey is an internal key written by the batch that marks the end of
// a build or an update.
const syncedKey = "thematic_synced"

// preparedSource is a source checked for indexing, with the hash of
// everything indexed about it, and its documents once prepared.
type preparedSource struct {
	id    string
	hash  string
	src   *Source
	text  string
	units []indexUnit
	docs  []*segDoc
}

// segDoc is one indexed paragraph.
type segDoc struct {
	id      string
	Text    string            `json:"text"`
	Source  string            `json:"source"`
	Segment string            `json:"segment"`
	Kind    string            `json:"kind,omitempty"`
	Case    string            `json:"case,omitempty"`
	Speaker string            `json:"speaker,omitempty"`
	Role    string            `json:"role,omitempty"`
	Start   int               `json:"start"`
	Attrs   map[string]string `json:"attr,omitempty"`
}

// fields is the document as bleve indexes it; empty keyword values are left
// out rather than indexed as empty terms.
func (d *segDoc) fields() map[string]any {
	m := map[string]any{
		fieldText:    d.Text,
		fieldSource:  d.Source,
		fieldSegment: d.Segment,
		fieldStart:   float64(d.Start),
		fieldOrder:   orderKey(d.Source, d.Start),
	}
	for _, f := range [...]struct{ name, v string }{{fieldKind, d.Kind}, {fieldCase, d.Case}, {fieldSpeaker, d.Speaker}, {fieldRole, d.Role}} {
		if f.v != "" {
			m[f.name] = f.v
		}
	}
	if len(d.Attrs) > 0 {
		attrs := make(map[string]any, len(d.Attrs))
		for k, v := range d.Attrs {
			if k != "" && v != "" && !strings.Contains(k, ".") {
				attrs[k] = v
			}
		}
		m[fieldAttr] = attrs
	}
	return m
}

// orderKey sorts as (source, start): the unit separator sorts before any
// character of a source id, so "s1" comes before "s10".
func orderKey(source string, start int) string {
	return fmt.Sprintf("%s\x1f%010d", source, start)
}

func countDocs(ps []*preparedSource) int {
	n := 0
	for _, p := range ps {
		n += len(p.units)
	}
	return n
}

// prepareSources checks sources and hashes what the index holds of each.
// Duplicate ids and segments outside the text are errors: they mean the
// project's sources are damaged.
func prepareSources(sources []*Source) ([]*preparedSource, error) {
	out := make([]*preparedSource, 0, len(sources))
	seen := make(map[string]bool, len(sources))
	for _, s := range sources {
		if s == nil {
			continue
		}
		if seen[s.ID] {
			return nil, fmt.Errorf("search index: two sources with id %q", s.ID)
		}
		seen[s.ID] = true
		p, err := prepareSource(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// indexUnits picks the segments to index: paragraphs, or turns for a source
// segmented without paragraphs.
func indexUnits(s *Source) []Segment {
	var paras, turns []Segment
	for _, g := range s.Segments {
		switch g.Unit {
		case UnitParagraph:
			paras = append(paras, g)
		case UnitTurn:
			turns = append(turns, g)
		}
	}
	if len(paras) > 0 {
		return paras
	}
	return turns
}

// indexUnit is a segment to index, with the speaker and role it has or
// inherits.
type indexUnit struct {
	seg           Segment
	speaker, role string
}

// prepareSource checks a source's units and hashes everything the index
// holds of it: the text, and each unit's id, span, speaker and role, and
// the source's kind, case and attributes. Its documents are made later, by
// prepare, and only for sources that are (re)indexed.
func prepareSource(s *Source) (*preparedSource, error) {
	if s.ID == "" || strings.Contains(s.ID, "#") {
		return nil, fmt.Errorf("search index: invalid source id %q", s.ID)
	}
	text := validUTF8(s.Text)
	n := utf8.RuneCountInString(text)
	byID := make(map[string]*Segment, len(s.Segments))
	for i := range s.Segments {
		byID[s.Segments[i].ID] = &s.Segments[i]
	}
	segs := indexUnits(s)
	p := &preparedSource{id: s.ID, src: s, text: text, units: make([]indexUnit, 0, len(segs))}
	h := sha256.New()
	var buf []byte
	field := func(v string) {
		buf = binary.AppendUvarint(buf[:0], uint64(len(v)))
		h.Write(buf)
		h.Write([]byte(v))
	}
	field(s.ID)
	field(s.Kind)
	field(s.Case)
	for _, k := range sidecarKeys(s.Attrs) {
		field(k)
		field(s.Attrs[k])
	}
	field(text)
	for _, g := range segs {
		if g.Start < 0 || g.End < g.Start || g.End > n {
			return nil, fmt.Errorf("search index: source %s: segment %s spans %d-%d outside its text of %d characters",
				s.ID, g.ID, g.Start, g.End, n)
		}
		speaker, role := g.Speaker, g.Role
		// A paragraph without a speaker takes its turn's (bounded, in case
		// a damaged sidecar has a cycle of parents).
		par := byID[g.Parent]
		for depth := 0; (speaker == "" || role == "") && par != nil && depth < 8; depth++ {
			if speaker == "" {
				speaker = par.Speaker
			}
			if role == "" {
				role = par.Role
			}
			par = byID[par.Parent]
		}
		p.units = append(p.units, indexUnit{g, speaker, role})
		field(g.ID)
		buf = binary.AppendUvarint(buf[:0], uint64(g.Start))
		buf = binary.AppendUvarint(buf, uint64(g.End))
		h.Write(buf)
		field(speaker)
		field(role)
	}
	p.hash = hex.EncodeToString(h.Sum(nil))
	return p, nil
}

// prepare makes the source's documents.
func (p *preparedSource) prepare() error {
	text := p.text
	// Byte offset of every code point, and one past the end.
	if len(text) > math.MaxInt32 {
		return fmt.Errorf("search index: source %s is too large to index", p.id)
	}
	offs := make([]int32, 0, len(text)+1)
	for i := range text {
		offs = append(offs, int32(i))
	}
	offs = append(offs, int32(len(text)))
	s := p.src
	p.docs = make([]*segDoc, 0, len(p.units))
	for _, u := range p.units {
		g := u.seg
		p.docs = append(p.docs, &segDoc{
			id:      s.ID + "#" + g.ID,
			Text:    text[offs[g.Start]:offs[g.End]],
			Source:  s.ID,
			Segment: g.ID,
			Kind:    s.Kind,
			Case:    s.Case,
			Speaker: u.speaker,
			Role:    u.role,
			Start:   g.Start,
			Attrs:   s.Attrs,
		})
	}
	return nil
}

// hitText returns the stored text and start of a hit, from its fields.
func hitText(h *search.DocumentMatch) (text string, start int, ok bool) {
	text, ok1 := h.Fields[fieldText].(string)
	st, ok2 := h.Fields[fieldStart].(float64)
	if !ok1 || !ok2 {
		return "", 0, false
	}
	return text, int(st), utf8.ValidString(text)
}
