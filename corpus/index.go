package corpus

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
	zap "github.com/blevesearch/zapx/v17"

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
	mappingVersion = 3
	// batchSize is the number of documents per bleve batch of an update,
	// and the page size when listing documents.
	batchSize = 1000
)

// openTimeout bounds the wait for another process's lock on the index.
var openTimeout = "2s"

// indexConfig is bleve's runtime configuration. unsafe_batch lets a batch
// return once its documents are searchable rather than after they reach the
// disk (which took each batch's fsyncs one after the other); the batcher
// waits for the disk once, at the end of an update.
func indexConfig() map[string]any {
	return map[string]any{"bolt_timeout": openTimeout, "unsafe_batch": true}
}

// Index fields. Keyword fields hold exact values (case-sensitive); attributes
// are keyword fields under attr.<name>. Only loc is stored.
const (
	fieldText    = "text"
	fieldSource  = "source"
	fieldSegment = "segment"
	fieldKind    = "kind"
	fieldCase    = "case"
	fieldSpeaker = "speaker"
	fieldRole    = "role"
	fieldLoc     = "loc"
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
// every source, and whether the last build finished. Stamps say, for the
// sources of a project, which sidecar and which cases.csv row the hash was
// taken from, so that an unchanged source is known without reading it.
// Ordered says that the index's own document order is source then position
// (a full build, and no document added since), which lets a search break
// ties of score without reading a sort field.
type manifest struct {
	indexSettings
	Complete bool                   `json:"complete"`
	Ordered  bool                   `json:"ordered,omitempty"`
	Sources  map[string]string      `json:"sources"`
	Stamps   map[string]sourceStamp `json:"stamps,omitempty"`
}

// sourceStamp identifies the files a source's index hash was computed from:
// its sidecar's size, modification time and file number (ingest writes a
// new file and renames it over the old one, so every write changes the
// file number too), and its case with the hash of that case's row in
// cases.csv.
type sourceStamp struct {
	Size  int64  `json:"size"`
	MTime int64  `json:"mtime"`
	Ino   uint64 `json:"ino,omitempty"`
	Case  string `json:"case,omitempty"`
	Row   string `json:"row,omitempty"`
}

// known reports whether the stamp was taken from a file.
func (s sourceStamp) known() bool { return s.MTime != 0 }

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

// parts returns the bleve indexes that together hold the documents (today a
// single one), for readers of the index's postings.
func (ix *Index) parts() []bleve.Index {
	if ix.idx == nil {
		return nil
	}
	return []bleve.Index{ix.idx}
}

func isLockTimeout(err error) bool {
	return err != nil && strings.Contains(err.Error(), "timeout")
}

// discard closes the index and deletes its files, refusing to delete an
// index another process has open. The manifest goes first, so that a crash
// in between never leaves an old manifest describing a new index.
func (ix *Index) discard() error {
	if ix.idx != nil {
		ix.idx.Close()
		ix.idx = nil
	}
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
	// Leftovers of a build that was stopped.
	for _, pattern := range []string{"build-*", "scorch-offline-build*"} {
		stale, _ := filepath.Glob(filepath.Join(ix.dir, pattern))
		for _, d := range stale {
			os.RemoveAll(d)
		}
	}
	return nil
}

// create discards whatever is in the index directory and makes an empty
// index.
func (ix *Index) create() error {
	if err := ix.discard(); err != nil {
		return err
	}
	idx, err := bleve.NewUsing(ix.path, ix.mapping(), bleve.Config.DefaultIndexType, bleve.Config.DefaultKVStore,
		indexConfig())
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	ix.idx = idx
	return nil
}

// mapping is static: only the fields below are indexed, and nothing goes
// into the composite _all field.
//
//   - text keeps term vectors with positions and byte offsets (for phrase
//     queries, match offsets and the postings autocoding reads) but is not
//     stored: the sources hold the text, and loc says how to turn a
//     paragraph's byte offsets into code points. Storing the text cost a
//     fifth of the indexing time.
//   - source and segment are indexed keywords, not stored: a document's id
//     (SOURCE#SEGMENT) names both.
//   - order (source, then position) has DocValues, to break ties between
//     equal scores when the index's own order is not that order.
//   - loc is stored only: the paragraph's span and its multi-byte runs.
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
	text.Store = false
	text.IncludeTermVectors = true
	text.IncludeInAll = false
	text.DocValues = false
	doc.AddFieldMappingsAt(fieldText, text)
	for _, f := range []string{fieldSource, fieldSegment, fieldKind, fieldCase, fieldSpeaker, fieldRole} {
		kw := bleve.NewKeywordFieldMapping()
		kw.Store = false
		kw.IncludeTermVectors = false
		kw.IncludeInAll = false
		kw.DocValues = false // filters read postings
		doc.AddFieldMappingsAt(f, kw)
	}
	loc := bleve.NewKeywordFieldMapping()
	loc.Index = false
	loc.Store = true
	loc.IncludeTermVectors = false
	loc.IncludeInAll = false
	loc.DocValues = false
	doc.AddFieldMappingsAt(fieldLoc, loc)
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

// syncSource is a source as Sync sees it: in memory, or read on demand
// (with or without its text, attributes merged with its case's) from a
// project, with its sidecar's size and modification time taken beforehand
// and the hashes of the rows of cases.csv.
type syncSource struct {
	id    string
	src   *Source
	size  int64
	mtime int64
	ino   uint64
	rows  map[string]string // case id -> hash of its row
	load  func(withText bool) (*Source, error)
}

// unchanged reports whether the source is the one a stamp was taken from.
func (s *syncSource) unchanged(st sourceStamp) bool {
	return s.mtime != 0 && st.known() && st.Size == s.size && st.MTime == s.mtime && st.Ino == s.ino &&
		s.rows[st.Case] == st.Row
}

// stamp is the stamp to record for the source once read, whose case is
// caseID; a sidecar written too recently to be told apart from a later
// write in the same tick of the file system's clock gets none, so that the
// source is hashed again next time.
func (s *syncSource) stamp(caseID string, now time.Time) sourceStamp {
	if s.mtime == 0 || now.Sub(time.Unix(0, s.mtime)) < racyWindow(s.mtime) {
		return sourceStamp{}
	}
	return sourceStamp{Size: s.size, MTime: s.mtime, Ino: s.ino, Case: caseID, Row: s.rows[caseID]}
}

func (s *syncSource) get(withText bool) (*Source, error) {
	if s.src != nil {
		return s.src, nil
	}
	return s.load(withText)
}

// Sync brings the index in line with sources: it indexes new and changed
// sources, deletes removed ones, and rebuilds everything when the analysis
// settings changed or the last build did not finish. A source's SHA must be
// the hash of its text (as ingest and IndexedSources make it). changed tells
// whether the index was touched. progress, if not nil, is called with the
// number of sources indexed so far and the number to index.
func (ix *Index) Sync(sources []*Source, progress func(done, total int)) (changed bool, err error) {
	items, err := memorySources(sources)
	if err != nil {
		return false, err
	}
	return ix.sync(items, progress)
}

// Rebuild discards the index and indexes sources again.
func (ix *Index) Rebuild(sources []*Source, progress func(done, total int)) error {
	if ix.idx == nil {
		return errClosed
	}
	items, err := memorySources(sources)
	if err != nil {
		return err
	}
	return ix.build(items, progress)
}

// memorySources wraps sources held in memory, in id order. Duplicate ids are
// an error: they mean the project's sources are damaged.
func memorySources(sources []*Source) ([]*syncSource, error) {
	out := make([]*syncSource, 0, len(sources))
	seen := make(map[string]bool, len(sources))
	for _, s := range sources {
		if s == nil {
			continue
		}
		if seen[s.ID] {
			return nil, fmt.Errorf("search index: two sources with id %q", s.ID)
		}
		seen[s.ID] = true
		out = append(out, &syncSource{id: s.ID, src: s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, nil
}

// sync is Sync over sources that may be read on demand. A source whose
// sidecar and case row carry the stamps recorded with its hash is taken as
// indexed without being read; one whose stamps changed is read without its
// text and hashed, and re-indexed only if its hash changed too.
func (ix *Index) sync(items []*syncSource, progress func(done, total int)) (changed bool, err error) {
	if ix.idx == nil {
		return false, errClosed
	}
	for _, it := range items {
		if err := checkSourceID(it.id); err != nil {
			return false, err
		}
	}
	if ix.man == nil || !ix.man.Complete || ix.man.indexSettings != ix.set {
		return true, ix.build(items, progress)
	}
	seen := make(map[string]bool, len(items))
	var stale []string
	var add, suspects []*syncSource
	for _, it := range items {
		seen[it.id] = true
		if _, ok := ix.man.Sources[it.id]; !ok {
			add = append(add, it)
		} else if !it.unchanged(ix.man.Stamps[it.id]) {
			suspects = append(suspects, it)
		}
	}
	// Sources whose sidecar or case row changed are hashed from their
	// sidecars, on every core, one source per core at a time.
	hashes := make([]string, len(suspects))
	cases := make([]string, len(suspects))
	err = parallel(len(suspects), runtime.GOMAXPROCS(0), func(i int) error {
		s, err := suspects[i].get(false)
		if err != nil {
			return err
		}
		hashes[i], _ = sourceHash(s)
		cases[i] = s.Case
		return nil
	})
	if err != nil {
		return false, err
	}
	restamped := false
	now := time.Now()
	for i, it := range suspects {
		if hashes[i] != ix.man.Sources[it.id] {
			stale = append(stale, it.id)
			add = append(add, it)
			continue
		}
		if st := it.stamp(cases[i], now); st != ix.man.Stamps[it.id] {
			ix.setStamp(it.id, st)
			restamped = true
		}
	}
	for id := range ix.man.Sources {
		if !seen[id] {
			stale = append(stale, id)
		}
	}
	if len(stale) == 0 && len(add) == 0 {
		if restamped {
			return false, ix.writeManifest()
		}
		return false, nil
	}
	// Updating most of the index costs more than building it anew, which
	// also puts it back in source order.
	if len(add) > 1 && 2*len(add) > len(items) {
		return true, ix.build(items, progress)
	}
	sort.Strings(stale)
	sort.Slice(add, func(i, j int) bool { return add[i].id < add[j].id })

	// From here until the final manifest, an interruption must lead to a
	// rebuild.
	ix.man.Complete = false
	if err := ix.writeManifest(); err != nil {
		return true, err
	}
	if progress != nil {
		progress(0, len(add))
	}
	b, err := ix.newBatcher()
	if err != nil {
		return true, err
	}
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
		delete(ix.man.Stamps, id)
	}
	// Deletions first: a changed source's documents are deleted and added
	// again under the same ids, and batches in flight may apply in any order.
	if err := b.wait(); err != nil {
		return true, err
	}
	loaded := loadAhead(add, 2)
	for i := range add {
		l := <-loaded
		if l.err != nil {
			drain(loaded)
			return true, l.err
		}
		for _, d := range l.p.docs() {
			if err := b.index(d); err != nil {
				drain(loaded)
				return true, err
			}
		}
		ix.man.Sources[l.p.id] = l.p.hash
		ix.setStamp(l.p.id, add[i].stamp(l.p.src.Case, now))
		if len(l.p.units) > 0 {
			ix.man.Ordered = false
		}
		if progress != nil {
			progress(i+1, len(add))
		}
	}
	if err := b.wait(); err != nil {
		return true, err
	}
	ix.man.Complete = true
	return true, ix.writeManifest()
}

// setStamp records a source's stamp, or forgets it when unknown.
func (ix *Index) setStamp(id string, st sourceStamp) {
	if !st.known() {
		delete(ix.man.Stamps, id)
		return
	}
	if ix.man.Stamps == nil {
		ix.man.Stamps = map[string]sourceStamp{}
	}
	ix.man.Stamps[id] = st
}

// racyWindow is how recent a sidecar's modification time may be for its
// stamp to be trusted later: a file changed twice within one tick of its
// file system's clock keeps its time (and, changed in place, its number).
// A time in whole seconds suggests a clock of seconds (FAT, HFS+); others
// tick in milliseconds at most.
func racyWindow(mtime int64) time.Duration {
	if mtime%int64(time.Second) == 0 {
		return 2 * time.Second
	}
	return 20 * time.Millisecond
}

// loaded is a source read and prepared for indexing, or the error that
// stopped it.
type loaded struct {
	p   *preparedSource
	err error
}

// loadAhead reads and prepares items in order on a goroutine of its own,
// at most ahead sources before the reader, so that reading the next source
// overlaps indexing this one while memory holds only a few. After an error
// nothing more is sent.
func loadAhead(items []*syncSource, ahead int) <-chan loaded {
	out := make(chan loaded, ahead)
	go func() {
		defer close(out)
		for _, it := range items {
			s, err := it.get(true)
			if err == nil && s.ID != it.id {
				err = fmt.Errorf("search index: source %s reads as %s", it.id, s.ID)
			}
			var p *preparedSource
			if err == nil {
				p, err = prepareSource(s)
			}
			out <- loaded{p, err}
			if err != nil {
				return
			}
		}
	}()
	return out
}

// drain lets a loadAhead goroutine finish after its reader gave up.
func drain(ch <-chan loaded) {
	go func() {
		for range ch {
		}
	}()
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
	data, err := json.Marshal(ix.man)
	if err != nil {
		return err
	}
	if err := fsx.WriteFile(filepath.Join(ix.dir, manifestFile), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	return nil
}

// preparedSource is a source checked for indexing, with the hash of
// everything indexed about it.
type preparedSource struct {
	id    string
	hash  string
	src   *Source
	text  string
	units []indexUnit
}

// indexUnits picks the segments to index: paragraphs, or turns for a source
// segmented without paragraphs.
func indexUnits(s *Source) []Segment {
	at := indexUnitsAt(s)
	out := make([]Segment, len(at))
	for k, i := range at {
		out[k] = s.Segments[i]
	}
	return out
}

// indexUnitsAt gives the positions in s.Segments of the units indexUnits
// returns: the paragraphs, or the turns of a source without paragraphs.
func indexUnitsAt(s *Source) []int32 {
	var at []int32
	for _, unit := range [...]string{UnitParagraph, UnitTurn} {
		for i := range s.Segments {
			if s.Segments[i].Unit == unit {
				at = append(at, int32(i))
			}
		}
		if len(at) > 0 {
			break
		}
	}
	return at
}

// indexUnit is a segment to index, with the speaker and role it has or
// inherits.
type indexUnit struct {
	seg           Segment
	speaker, role string
}

func checkSourceID(id string) error {
	if id == "" || strings.Contains(id, "#") {
		return fmt.Errorf("search index: invalid source id %q", id)
	}
	return nil
}

// sourceHash hashes everything the index holds of a source, reading only
// its sidecar fields: its id, kind, case and attributes, the hash of its
// text, and each indexed unit's id, span, speaker and role. It returns the
// units too.
func sourceHash(s *Source) (string, []indexUnit) {
	byID := make(map[string]*Segment, len(s.Segments))
	for i := range s.Segments {
		byID[s.Segments[i].ID] = &s.Segments[i]
	}
	segs := indexUnits(s)
	units := make([]indexUnit, 0, len(segs))
	h := sha256.New()
	var buf []byte
	field := func(v string) {
		buf = binary.AppendUvarint(buf[:0], uint64(len(v)))
		h.Write(buf)
		h.Write([]byte(v))
	}
	field(s.ID)
	field(s.SHA)
	field(s.Kind)
	field(s.Case)
	for _, k := range sidecarKeys(s.Attrs) {
		field(k)
		field(s.Attrs[k])
	}
	for _, g := range segs {
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
		units = append(units, indexUnit{g, speaker, role})
		field(g.ID)
		buf = binary.AppendUvarint(buf[:0], uint64(max(g.Start, 0)))
		buf = binary.AppendUvarint(buf, uint64(max(g.End, 0)))
		h.Write(buf)
		field(speaker)
		field(role)
	}
	return hex.EncodeToString(h.Sum(nil)), units
}

// prepareSource checks a source's units against its text and hashes
// everything the index holds of it (see sourceHash). Segments outside the
// text are errors: they mean the project's sources are damaged.
func prepareSource(s *Source) (*preparedSource, error) {
	if err := checkSourceID(s.ID); err != nil {
		return nil, err
	}
	text := validUTF8(s.Text)
	hash, units := sourceHash(s)
	n := utf8.RuneCountInString(text)
	for _, u := range units {
		if g := u.seg; g.Start < 0 || g.End < g.Start || g.End > n {
			return nil, fmt.Errorf("search index: source %s: segment %s spans %d-%d outside its text of %d characters",
				s.ID, g.ID, g.Start, g.End, n)
		}
	}
	return &preparedSource{id: s.ID, hash: hash, src: s, text: text, units: units}, nil
}

// segDoc is one indexed paragraph.
type segDoc struct {
	id      string
	text    string
	source  string
	segment string
	kind    string
	caseID  string
	speaker string
	role    string
	start   int
	end     int
	attrs   map[string]string
	keys    []string // of attrs, indexable ones only, sorted; shared by a source's documents
}

// docs makes the source's documents, in text order.
func (p *preparedSource) docs() []*segDoc {
	text := p.text
	units := append([]indexUnit(nil), p.units...)
	sort.SliceStable(units, func(i, j int) bool { return units[i].seg.Start < units[j].seg.Start })
	s := p.src
	var keys []string
	for _, k := range sidecarKeys(s.Attrs) {
		if k != "" && s.Attrs[k] != "" && !strings.Contains(k, ".") {
			keys = append(keys, k)
		}
	}
	out := make([]*segDoc, 0, len(units))
	// Walk the text once, in code points, as units come in order of start
	// (their ends may overlap a later start, hence the restarts).
	cp, b := 0, 0
	seek := func(to int) int {
		if to < cp {
			cp, b = 0, 0
		}
		for cp < to && b < len(text) {
			_, w := utf8.DecodeRuneInString(text[b:])
			b += w
			cp++
		}
		return b
	}
	for _, u := range units {
		g := u.seg
		bs := seek(g.Start)
		save, saveB := cp, b
		be := seek(g.End)
		cp, b = save, saveB
		out = append(out, &segDoc{
			id:      s.ID + "#" + g.ID,
			text:    text[bs:be],
			source:  s.ID,
			segment: g.ID,
			kind:    s.Kind,
			caseID:  s.Case,
			speaker: u.speaker,
			role:    u.role,
			start:   g.Start,
			end:     g.End,
			attrs:   s.Attrs,
			keys:    keys,
		})
	}
	return out
}

// docMaker makes bleve documents of segDocs directly, as the mapping
// would (bleve's MapDocument walks a map of fields by reflection, which
// cost a tenth of the indexing time). TestDocumentMatchesMapping checks
// that both give the same fields.
type docMaker struct {
	text, keyword analysis.Analyzer
}

// Indexing options of the fields: what the mapping's field mappings give.
const (
	textOptions    = index.IndexField | index.IncludeTermVectors
	keywordOptions = index.IndexField
	locOptions     = index.StoreField
	orderOptions   = index.IndexField | index.DocValues
)

func (ix *Index) docMaker() (*docMaker, error) {
	m := ix.mapping()
	text := m.AnalyzerNamed(textAnalyzerName)
	kw := m.AnalyzerNamed(keyword.Name)
	if text == nil || kw == nil {
		return nil, fmt.Errorf("search index: analysers of the mapping not found")
	}
	return &docMaker{text: text, keyword: kw}, nil
}

// document is the bleve document of d; empty keyword values are left out
// rather than indexed as empty terms, and so are attributes with an empty
// or dotted name or an empty value.
func (dm *docMaker) document(d *segDoc) *document.Document {
	doc := document.NewDocument(d.id)
	kw := func(name, v string, opts index.FieldIndexingOptions) {
		if v != "" {
			doc.AddField(document.NewTextFieldCustom(name, nil, []byte(v), opts, dm.keyword))
		}
	}
	doc.AddField(document.NewTextFieldCustom(fieldText, nil, []byte(d.text), textOptions, dm.text))
	kw(fieldSource, d.source, keywordOptions)
	kw(fieldSegment, d.segment, keywordOptions)
	kw(fieldKind, d.kind, keywordOptions)
	kw(fieldCase, d.caseID, keywordOptions)
	kw(fieldSpeaker, d.speaker, keywordOptions)
	kw(fieldRole, d.role, keywordOptions)
	kw(fieldLoc, encodeLoc(d.start, d.end, d.text), locOptions)
	kw(fieldOrder, orderKey(d.source, d.start), orderOptions)
	for _, k := range d.keys {
		kw(fieldAttr+"."+k, d.attrs[k], keywordOptions)
	}
	doc.SetIndexed()
	return doc
}

// orderKey sorts as (source, start): the unit separator sorts before any
// character of a source id, so "s1" comes before "s10".
func orderKey(source string, start int) string {
	b := make([]byte, 0, len(source)+11)
	b = append(b, source...)
	b = append(b, '\x1f')
	n := strconv.AppendInt(nil, int64(start), 10)
	for k := len(n); k < 10; k++ {
		b = append(b, '0')
	}
	return string(append(b, n...))
}

// docIDs lists the ids of the documents of one source.
func (ix *Index) docIDs(source string) ([]string, error) {
	tq := bleve.NewTermQuery(source)
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

// batcher sends the index operations of an update to bleve in batches of
// batchSize, up to indexWorkers batches at a time: bleve analyses a batch's
// documents on every core but builds its segment on one, so two batches in
// flight keep both cores busy. The index is opened with unsafe_batch (a
// batch returns once searchable, before it is on disk), and wait ends with
// a batch whose persisted callback says that everything before it is on
// disk.
type batcher struct {
	ix *Index
	dm *docMaker
	b  *bleve.Batch

	work chan *bleve.Batch
	wg   sync.WaitGroup
	mu   sync.Mutex // guards err
	err  error
}

// indexWorkers is the number of batches given to bleve at once.
const indexWorkers = 2

func (ix *Index) newBatcher() (*batcher, error) {
	dm, err := ix.docMaker()
	if err != nil {
		return nil, err
	}
	b := &batcher{ix: ix, dm: dm, b: ix.idx.NewBatch()}
	b.start()
	return b, nil
}

func (b *batcher) start() {
	work := make(chan *bleve.Batch)
	b.work = work
	for w := 0; w < indexWorkers; w++ {
		b.wg.Go(func() { b.worker(work) })
	}
}

func (b *batcher) worker(work <-chan *bleve.Batch) {
	for job := range work {
		if err := b.ix.idx.Batch(job); err != nil {
			b.mu.Lock()
			if b.err == nil {
				b.err = fmt.Errorf("search index: %w", err)
			}
			b.mu.Unlock()
		}
	}
}

func (b *batcher) failed() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

func (b *batcher) index(d *segDoc) error {
	if err := b.b.IndexAdvanced(b.dm.document(d)); err != nil {
		return fmt.Errorf("search index: %s: %w", d.id, err)
	}
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
	b.work <- b.b
	b.b = b.ix.idx.NewBatch()
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
	b.start()
	return nil
}

// stop ends the workers once they have finished their batches.
func (b *batcher) stop() {
	if b.work != nil {
		close(b.work)
		b.work = nil
	}
	b.wg.Wait()
}

// close ends the batcher after an error, without waiting for the disk.
func (b *batcher) close() { b.stop() }

// syncedKey is an internal key written by the batch that marks the end of
// an update.
const syncedKey = "thematic_synced"

// A full build does not go through bleve's batches, which build a segment
// per batch and then merge segments again and again in the background, nor
// through bleve's offline builder, which analyses and builds on one core.
// Batches of buildBatch documents are analysed and turned into zap segments
// on indexWorkers goroutines, written to a temporary folder, and merged once
// (in their order, so that the index's document order is source, then
// position); bleve's offline builder then lays out an index around the
// merged segment.
// Sizes of a full build, variables so that tests can make them small.
var (
	// buildBatch is the number of documents per segment: twice the
	// documents cost as much to analyse and lay out, but more memory (at
	// 2,000, about 100 MB with both workers busy).
	buildBatch = 2000
	// mergeFanIn is the number of segments merged at once: more are merged
	// in groups first, which bounds the files a merge maps at once (a
	// project of a million paragraphs has 500 segments).
	mergeFanIn = 256
)

// Garbage collection during a full build (see build).
const (
	buildGCPercent   = 300
	buildMemoryLimit = 1 << 30
)

// zapPlugin is the segment format of the index, the one bleve's builder is
// told to record, so that the segment built here is the one it opens.
var zapPlugin = &zap.ZapPlugin{}

// build discards the index and indexes items from scratch, in id order.
func (ix *Index) build(items []*syncSource, progress func(done, total int)) error {
	for _, it := range items {
		if err := checkSourceID(it.id); err != nil {
			return err
		}
	}
	if err := ix.discard(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(ix.dir, "build-")
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	defer os.RemoveAll(tmp)

	man := &manifest{indexSettings: ix.set, Ordered: true, Sources: make(map[string]string, len(items)),
		Stamps: make(map[string]sourceStamp, len(items))}
	if progress != nil {
		progress(0, len(items))
	}
	now := time.Now()
	dm, err := ix.docMaker()
	if err != nil {
		return err
	}
	// The build's live heap is small (a few batches) and churns fast: a
	// collection after every doubling of it cost an eighth of the build.
	// Collect after it quadruples, within a limit well under what a build
	// may use.
	defer debug.SetGCPercent(debug.SetGCPercent(buildGCPercent))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(min(debug.SetMemoryLimit(-1), buildMemoryLimit)))
	sb := newSegmentBuilder(dm, tmp)
	loaded := loadAhead(items, 2)
	for i, it := range items {
		l := <-loaded
		if l.err != nil {
			drain(loaded)
			sb.stop()
			return l.err
		}
		for _, d := range l.p.docs() {
			if err := sb.add(d); err != nil {
				drain(loaded)
				sb.stop()
				return err
			}
		}
		man.Sources[it.id] = l.p.hash
		if st := it.stamp(l.p.src.Case, now); st.known() {
			man.Stamps[it.id] = st
		}
		if progress != nil {
			progress(i+1, len(items))
		}
	}
	segs, docs, err := sb.finish()
	if err != nil {
		return err
	}
	if docs == 0 {
		if err := ix.create(); err != nil {
			return err
		}
	} else {
		merged, err := mergeSegments(segs, tmp)
		if err != nil {
			return err
		}
		if err := ix.assemble(merged, docs); err != nil {
			return err
		}
	}
	ix.man = man
	man.Complete = true
	return ix.writeManifest()
}

// assemble makes the bleve index around a segment holding docs documents:
// bleve's offline builder lays out the index (its metadata, the mapping
// and the root that lists one segment) for a placeholder document, whose
// segment file is then replaced by seg.
func (ix *Index) assemble(seg string, docs int) error {
	b, err := bleve.NewBuilder(ix.path, ix.mapping(), map[string]any{
		"forceSegmentType":    zapPlugin.Type(),
		"forceSegmentVersion": int(zapPlugin.Version()),
		"buildPathPrefix":     ix.dir,
	})
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	if err := b.Index("placeholder", map[string]any{}); err != nil {
		b.Close()
		return fmt.Errorf("search index: %w", err)
	}
	if err := b.Close(); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	// The builder names its single segment as an index of one batch would.
	target := filepath.Join(ix.path, "store", fmt.Sprintf("%012x.zap", 2))
	if _, err := os.Stat(target); err != nil {
		return fmt.Errorf("search index: unexpected layout of bleve's builder: %w", err)
	}
	if err := os.Rename(seg, target); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	idx, err := bleve.OpenUsing(ix.path, indexConfig())
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	n, err := idx.DocCount()
	if err != nil || n != uint64(docs) {
		idx.Close()
		return fmt.Errorf("search index: built %d documents but the index holds %d (%v)", docs, n, err)
	}
	ix.idx = idx
	return nil
}

// segmentBuilder turns batches of documents into segment files on
// indexWorkers goroutines.
type segmentBuilder struct {
	dm    *docMaker
	dir   string
	batch []*segDoc
	work  chan segmentJob
	wg    sync.WaitGroup

	mu    sync.Mutex // guards paths, docs and err
	paths []string   // by batch number
	docs  int
	err   error
}

type segmentJob struct {
	n    int
	docs []*segDoc
}

func newSegmentBuilder(dm *docMaker, dir string) *segmentBuilder {
	work := make(chan segmentJob)
	sb := &segmentBuilder{dm: dm, dir: dir, work: work}
	for w := 0; w < indexWorkers; w++ {
		sb.wg.Go(func() { sb.worker(work) })
	}
	return sb
}

func (sb *segmentBuilder) worker(work <-chan segmentJob) {
	for job := range work {
		path := filepath.Join(sb.dir, fmt.Sprintf("%08d.zap", job.n))
		err := buildSegment(sb.dm, job.docs, path)
		sb.mu.Lock()
		if err != nil && sb.err == nil {
			sb.err = err
		}
		sb.paths[job.n] = path
		sb.docs += len(job.docs)
		sb.mu.Unlock()
	}
}

func (sb *segmentBuilder) failed() error {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	return sb.err
}

func (sb *segmentBuilder) add(d *segDoc) error {
	sb.batch = append(sb.batch, d)
	if len(sb.batch) >= buildBatch {
		return sb.send()
	}
	return nil
}

func (sb *segmentBuilder) send() error {
	if err := sb.failed(); err != nil {
		return err
	}
	if len(sb.batch) == 0 {
		return nil
	}
	sb.mu.Lock()
	n := len(sb.paths)
	sb.paths = append(sb.paths, "")
	sb.mu.Unlock()
	sb.work <- segmentJob{n, sb.batch}
	sb.batch = nil
	return nil
}

// stop ends the workers once they have finished their batches.
func (sb *segmentBuilder) stop() {
	if sb.work != nil {
		close(sb.work)
		sb.work = nil
	}
	sb.wg.Wait()
}

// finish builds what is pending and returns the segment files in order
// with the number of documents they hold.
func (sb *segmentBuilder) finish() ([]string, int, error) {
	err := sb.send()
	sb.stop()
	if err == nil {
		err = sb.failed()
	}
	if err != nil {
		return nil, 0, err
	}
	return sb.paths, sb.docs, nil
}

// buildSegment analyses docs as bleve would and writes them as one segment.
func buildSegment(dm *docMaker, docs []*segDoc, path string) error {
	results := make([]index.Document, 0, len(docs))
	for i, d := range docs {
		docs[i] = nil // the document keeps what it needs
		doc := dm.document(d)
		doc.AddIDField()
		doc.VisitFields(func(f index.Field) {
			if !f.Options().IsIndexed() {
				return
			}
			f.Analyze()
			if doc.HasComposite() && f.Name() != "_id" {
				doc.VisitComposite(func(cf index.CompositeField) {
					cf.Compose(f.Name(), f.AnalyzedLength(), f.AnalyzedTokenFrequencies())
				})
			}
		})
		results = append(results, doc)
	}
	seg, _, err := zapPlugin.New(results)
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	defer seg.Close()
	base, ok := seg.(*zap.SegmentBase)
	if !ok {
		return fmt.Errorf("search index: unexpected segment type %T", seg)
	}
	if err := zap.PersistSegmentBase(base, path); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	return nil
}

// mergeSegments merges segment files, in their order, into one, and
// returns its path. More than mergeFanIn files are merged in groups first,
// two groups at a time.
func mergeSegments(paths []string, dir string) (string, error) {
	level := 0
	for len(paths) > 1 {
		groups := (len(paths) + mergeFanIn - 1) / mergeFanIn
		out := make([]string, groups)
		err := parallel(groups, indexWorkers, func(g int) error {
			in := paths[g*mergeFanIn : min((g+1)*mergeFanIn, len(paths))]
			out[g] = filepath.Join(dir, fmt.Sprintf("merged-%d-%d.zap", level, g))
			if len(in) == 1 {
				return os.Rename(in[0], out[g])
			}
			return mergeGroup(in, out[g])
		})
		if err != nil {
			return "", fmt.Errorf("search index: %w", err)
		}
		paths = out
		level++
	}
	return paths[0], nil
}

func mergeGroup(in []string, out string) error {
	segs := make([]segment.Segment, 0, len(in))
	defer func() {
		for _, s := range segs {
			s.Close()
		}
	}()
	for _, p := range in {
		s, err := zapPlugin.Open(p)
		if err != nil {
			return err
		}
		segs = append(segs, s)
	}
	if _, _, err := zapPlugin.Merge(segs, make([]*roaring.Bitmap, len(segs)), out, nil, nil); err != nil {
		return err
	}
	for _, s := range segs {
		s.Close()
	}
	segs = nil
	for _, p := range in {
		os.Remove(p)
	}
	return nil
}
