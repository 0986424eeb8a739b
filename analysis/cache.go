package analysis

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"io"
	"io/fs"
	"iter"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
)

// CodingsCache is a derived, binary copy of each coder's codings file, kept
// in the project's .thematic/codings folder, for the commands that list:
// with a million codings, parsing the JSONL takes seconds, while the cache
// gives the counts at once and the codings of a few codes or sources
// without reading the others.
//
// The cache holds the codings grouped by source and, within a source, by
// code, each group (a block) with a CRC, and a table of the blocks: the
// number of codings of each code in each source comes from the table alone.
//
// The jsonl files stay the truth. A coder's cache is used only while its
// key matches the file: size, modification time and a CRC-64 of samples of
// the content (the first and last 64 KiB and 4 KiB every 16 MiB; hashing
// the whole file would cost as much as the reading the cache avoids). A
// missing, stale or damaged cache is rebuilt from the file, and a file with
// an error gives exactly the error Store.Load gives. Store.Save writes the
// cache together with the file, so the listing after a change is quick.
// Writing the cache needs no lock: it is replaced atomically, and two
// processes writing it write the same content.
type CodingsCache struct {
	Store Store // the codings folder
	// Dir is where the cache files go; "" means the Store's (see
	// Store.CacheDir).
	Dir string
}

// CoderSummary is what the cache knows of a coder's codings at once.
type CoderSummary struct {
	Codings int
	Orphans int
	// Codes holds the number of codings of each code.
	Codes map[string]int
}

// CodeSourceCount is the number of codings of one code in one source.
type CodeSourceCount struct {
	Code, Source string
	Codings      int
}

const (
	cacheMagic   = "thematic-codings-cache\x00"
	cacheVersion = 3
	cacheExt     = ".cache"
	trailerMagic = "thcodes3"
	trailerSize  = 8 + 8 + 4 + 4 + 8
)

// cacheKey identifies a version of a codings file.
type cacheKey struct {
	Size  int64
	MTime int64 // nanoseconds
	CRC   uint64
}

var (
	crcTable  = crc64.MakeTable(crc64.ECMA)
	castagnol = crc32.MakeTable(crc32.Castagnoli)
)

// keyOf computes the key of the file at path, or reports that it is missing.
func keyOf(path string) (cacheKey, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cacheKey{}, false, nil
	}
	if err != nil {
		return cacheKey{}, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return cacheKey{}, false, err
	}
	k := cacheKey{Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
	const edge, step, sample = 64 << 10, 16 << 20, 4 << 10
	buf := make([]byte, edge)
	crc := uint64(0)
	read := func(off int64, n int) error {
		n = int(min(int64(n), k.Size-off))
		if n <= 0 {
			return nil
		}
		if _, err := f.ReadAt(buf[:n], off); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		crc = crc64.Update(crc, crcTable, buf[:n])
		return nil
	}
	if err := read(0, edge); err != nil {
		return k, true, err
	}
	for off := int64(step); off < k.Size-edge; off += step {
		if err := read(off, sample); err != nil {
			return k, true, err
		}
	}
	if k.Size > edge {
		if err := read(max(edge, k.Size-edge), edge); err != nil {
			return k, true, err
		}
	}
	k.CRC = crc
	return k, true, nil
}

func (c CodingsCache) dir() string {
	if c.Dir != "" {
		return c.Dir
	}
	return c.Store.CacheDir()
}

func (c CodingsCache) path(coder string) string {
	if d := c.dir(); d != "" {
		return filepath.Join(d, coder+cacheExt)
	}
	return ""
}

// CacheDir is where Store.Save keeps the codings cache (see CodingsCache):
// the Store's CacheDir field when set; otherwise, when Dir is the codings
// folder of a project (a thematic.yaml beside it), the project's
// .thematic/codings; otherwise "" (no cache is kept).
func (s Store) CacheDir() string {
	if s.Cache != "" {
		return s.Cache
	}
	if filepath.Base(s.Dir) != corpus.CodingsDir {
		return ""
	}
	root := filepath.Dir(s.Dir)
	if _, err := os.Stat(filepath.Join(root, corpus.ConfigFile)); err != nil {
		return ""
	}
	return filepath.Join(root, corpus.CacheDir, "codings")
}

// Summary returns the number of codings, orphans and codings per code of a
// coder; a coder without a file has none.
func (c CodingsCache) Summary(coder string) (CoderSummary, error) {
	cc, err := c.Open(coder)
	if err != nil {
		return CoderSummary{Codes: map[string]int{}}, err
	}
	defer cc.Close()
	return cc.Summary(), nil
}

// Load returns the coder's codings whose code keep accepts (every coding
// when keep is nil), in the order of the file, as Store.Load gives them.
func (c CodingsCache) Load(coder string, keep func(code string) bool) ([]Coding, error) {
	cc, err := c.Open(coder)
	if err != nil {
		return nil, err
	}
	defer cc.Close()
	return cc.Select(keep, nil)
}

// CachedCodings is a coder's open, valid cache. It is safe for concurrent
// use.
type CachedCodings struct {
	c       CodingsCache
	coder   string
	mu      sync.Mutex
	st      *cacheState
	old     []*os.File // of caches replaced after damage, closed by Close
	retried bool
}

// cacheState is what is read of a cache file; it does not change once the
// index is parsed (under CachedCodings.mu).
type cacheState struct {
	f     *os.File // nil for a coder without codings
	sum   CoderSummary
	codes []string // by index in the file
	// groups and blocks: the codings of one source, and of one code within
	// it; a source has several groups only in a file not sorted by source.
	// Each group's blocks are decoded from ix when needed: a table of a
	// few hundred thousand blocks costs more to hold than to decode.
	groups   []cacheGroup
	ix       []byte
	bySource map[string][]int // indices into groups
	strs     []string         // the table of sources, origins and segments
	// The index is read when first needed: the summary needs none of it.
	ixLen  int
	ixEnd  int64 // where the blocks end and the index starts
	ixCRC  uint32
	ixDone bool
	ixErr  error
}

type cacheGroup struct {
	source string
	ent    int   // where its blocks' entries start in ix
	count  int   // how many blocks it has
	off    int64 // where its first block starts in the file
	size   int64 // the length of its blocks
}

type cacheBlock struct {
	off    int64 // into the file
	code   int32 // index into codes
	n      int32
	size   int32
	crc    uint32
	source string
}

// blocks calls fn with each block of group g, until fn returns false. The
// entries were checked when the index was read.
func (st *cacheState) blocks(g int, fn func(b cacheBlock) bool) {
	grp := st.groups[g]
	d := cacheReader{data: st.ix, i: grp.ent}
	off := grp.off
	for range grp.count {
		b := cacheBlock{off: off, code: int32(d.uvarint()), n: int32(d.uvarint()), size: int32(d.uvarint()), source: grp.source}
		b.crc = binary.LittleEndian.Uint32(d.data[d.i:])
		d.i += 4
		off += int64(b.size)
		if !fn(b) {
			return
		}
	}
}

// Open returns the coder's cache, building it from the file when missing,
// stale or damaged. A coder without a file has an empty cache. Close it
// after use.
func (c CodingsCache) Open(coder string) (*CachedCodings, error) {
	if err := ValidCoderName(coder); err != nil {
		return nil, err
	}
	st, err := c.open(coder)
	if err != nil {
		return nil, err
	}
	return &CachedCodings{c: c, coder: coder, st: st}, nil
}

func (c CodingsCache) open(coder string) (*cacheState, error) {
	key, exists, err := keyOf(c.Store.path(coder))
	if err != nil {
		return nil, err
	}
	if !exists {
		return &cacheState{sum: CoderSummary{Codes: map[string]int{}}, ixDone: true}, nil
	}
	if path := c.path(coder); path != "" {
		if f, err := os.Open(path); err == nil {
			if st, err := readCache(f, key); err == nil {
				return st, nil
			}
			f.Close()
		}
	}
	f, err := c.build(coder, key)
	if err != nil {
		return nil, err
	}
	st, err := readCache(f, key)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("codings cache of %s: %w", coder, err)
	}
	return st, nil
}

// Close releases the cache file.
func (cc *CachedCodings) Close() error {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	var err error
	for _, f := range append(cc.old, cc.st.f) {
		if f != nil {
			if e := f.Close(); err == nil {
				err = e
			}
		}
	}
	cc.old, cc.st.f = nil, nil
	return err
}

// Summary returns the number of codings, orphans and codings per code.
func (cc *CachedCodings) Summary() CoderSummary {
	cc.mu.Lock()
	sum := cc.st.sum
	cc.mu.Unlock()
	s := sum
	s.Codes = make(map[string]int, len(sum.Codes))
	for k, v := range sum.Codes {
		s.Codes[k] = v
	}
	return s
}

// do runs fn on the cache with its index read. When fn finds the cache
// damaged, the cache is built again from the file (once) and fn run again.
func (cc *CachedCodings) do(fn func(st *cacheState) error) error {
	st, err := cc.indexed()
	if err == nil {
		err = fn(st)
	}
	if !errors.Is(err, errDamaged) {
		return err
	}
	cc.mu.Lock()
	if cc.st == st && !cc.retried {
		cc.retried = true
		if path := cc.c.path(cc.coder); path != "" {
			os.Remove(path)
		}
		fresh, ferr := cc.c.open(cc.coder)
		if ferr != nil {
			cc.mu.Unlock()
			return ferr
		}
		if st.f != nil {
			cc.old = append(cc.old, st.f)
		}
		cc.st = fresh
	}
	again := cc.st != st
	cc.mu.Unlock()
	if !again {
		return err
	}
	if st, err = cc.indexed(); err != nil {
		return err
	}
	return fn(st)
}

// indexed returns the cache's state with its index parsed.
func (cc *CachedCodings) indexed() (*cacheState, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	st := cc.st
	if !st.ixDone {
		st.index()
	}
	return st, st.ixErr
}

// Counts returns the number of codings of each code in each source, one
// count at a time, in no particular order; a code and source pair may come
// more than once (in a file not sorted by source), their counts to be
// added.
func (cc *CachedCodings) Counts() (iter.Seq[CodeSourceCount], error) {
	st, err := cc.indexed()
	if errors.Is(err, errDamaged) {
		// Build the cache again, once.
		err = cc.do(func(s *cacheState) error { st = s; return nil })
	}
	if err != nil {
		return nil, err
	}
	return func(yield func(CodeSourceCount) bool) {
		for g := range st.groups {
			ok := true
			st.blocks(g, func(b cacheBlock) bool {
				ok = yield(CodeSourceCount{Code: st.codes[b.code], Source: b.source, Codings: int(b.n)})
				return ok
			})
			if !ok {
				return
			}
		}
	}, nil
}

// Sources lists the sources the coder's codings fall in, sorted.
func (cc *CachedCodings) Sources() ([]string, error) {
	var out []string
	err := cc.do(func(st *cacheState) error {
		out = make([]string, 0, len(st.bySource))
		for id := range st.bySource {
			out = append(out, id)
		}
		slices.Sort(out)
		return nil
	})
	return out, err
}

// Select returns the codings whose code and source the filters accept (a
// nil filter accepts all), in the order of the file, as Store.Load gives
// them. Their strings share a few large buffers, one per read.
func (cc *CachedCodings) Select(code, source func(string) bool) ([]Coding, error) {
	var cs []Coding
	err := cc.do(func(st *cacheState) error {
		if st.f == nil {
			return nil
		}
		keepCode := make([]bool, len(st.codes))
		for i, c := range st.codes {
			keepCode[i] = code == nil || code(c)
		}
		var picked []cacheBlock
		for g := range st.groups {
			if source != nil && !source(st.groups[g].source) {
				continue
			}
			st.blocks(g, func(b cacheBlock) bool {
				if keepCode[b.code] {
					picked = append(picked, b)
				}
				return true
			})
		}
		var err error
		cs, err = st.read(cc.coder, picked)
		return err
	})
	return cs, err
}

var errDamaged = errors.New("damaged codings cache")

// Source returns the codings of one source, in the order of the file.
func (cc *CachedCodings) Source(id string) ([]Coding, error) {
	var cs []Coding
	err := cc.do(func(st *cacheState) error {
		var picked []cacheBlock
		for _, g := range st.bySource[id] {
			st.blocks(g, func(b cacheBlock) bool {
				picked = append(picked, b)
				return true
			})
		}
		var err error
		cs, err = st.read(cc.coder, picked)
		return err
	})
	return cs, err
}

// Scan calls fn with each coding of one source, in no particular order,
// reading them without allocating: c and its strings are valid only during
// the call (copy what is kept). An error from fn stops the scan and is
// returned.
func (cc *CachedCodings) Scan(source string, fn func(c *Coding) error) error {
	var fnErr error
	err := cc.do(func(st *cacheState) error {
		if fnErr != nil {
			return nil // fn saw codings of a cache found damaged after them
		}
		for _, g := range st.bySource[source] {
			bp := scanBufs.Get().(*[]byte)
			size := int(st.groups[g].size)
			if cap(*bp) < size {
				*bp = make([]byte, size)
			}
			data := (*bp)[:size]
			err := st.scanGroup(cc.coder, g, data, func(c *Coding) bool {
				fnErr = fn(c)
				return fnErr == nil
			})
			scanBufs.Put(bp)
			if err != nil || fnErr != nil {
				return err
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

var scanBufs = sync.Pool{New: func() any { return new([]byte) }}

// scanGroup reads a group's blocks into data and passes each coding to
// each, until it returns false.
func (st *cacheState) scanGroup(coder string, g int, data []byte, each func(c *Coding) bool) error {
	damaged := fmt.Errorf("%w %s", errDamaged, st.f.Name())
	start := st.groups[g].off
	if _, err := st.f.ReadAt(data, start); err != nil {
		return fmt.Errorf("%w: %v", damaged, err)
	}
	var c Coding
	var err error
	stopped := false
	st.blocks(g, func(b cacheBlock) bool {
		blk := data[b.off-start : b.off-start+int64(b.size)]
		if crc32.Checksum(blk, castagnol) != b.crc {
			err = damaged
			return false
		}
		d := recordReader{cacheReader: cacheReader{data: blk}, strs: st.strs, coder: coder, source: b.source, code: st.codes[b.code]}
		for j := int32(0); j < b.n; j++ {
			c = Coding{}
			if d.record(&c) < 0 {
				err = damaged
				return false
			}
			if !each(&c) {
				stopped = true
				return false
			}
		}
		if d.bad || d.i != len(d.data) {
			err = damaged
			return false
		}
		return true
	})
	if stopped {
		return nil
	}
	return err
}

// read decodes the blocks picked (in file order) and returns their codings
// in the order of the jsonl file.
func (st *cacheState) read(coder string, picked []cacheBlock) ([]Coding, error) {
	n := 0
	for _, b := range picked {
		n += int(b.n)
	}
	if n == 0 {
		return nil, nil
	}
	damaged := fmt.Errorf("%w %s", errDamaged, st.f.Name())
	// Read runs of adjacent blocks at once.
	var blocks [][]byte
	lo := int64(-1) // the smallest index in the file
	for r := 0; r < len(picked); {
		e := r + 1
		for e < len(picked) && picked[e].off == picked[e-1].off+int64(picked[e-1].size) {
			e++
		}
		first, last := picked[r], picked[e-1]
		data := make([]byte, last.off+int64(last.size)-first.off)
		if _, err := st.f.ReadAt(data, first.off); err != nil {
			return nil, fmt.Errorf("%w: %v", damaged, err)
		}
		for _, b := range picked[r:e] {
			blk := data[b.off-first.off : b.off-first.off+int64(b.size)]
			if crc32.Checksum(blk, castagnol) != b.crc {
				return nil, damaged
			}
			blocks = append(blocks, blk)
			// A block's first record gives its first index as is.
			if idx, k := binary.Varint(blk); k > 0 && (lo < 0 || idx < lo) {
				lo = idx
			}
		}
		r = e
	}
	var c Coding // one for all records: a variable per record would escape
	decode := func(each func(idx int64, c *Coding) bool) error {
		for k, b := range picked {
			d := recordReader{cacheReader: cacheReader{data: blocks[k]}, strs: st.strs, coder: coder,
				source: b.source, code: st.codes[b.code]}
			for j := int32(0); j < b.n; j++ {
				c = Coding{}
				idx := d.record(&c)
				if idx < 0 {
					return damaged
				}
				if !each(idx, &c) {
					return errNotInPlace
				}
			}
			if d.bad || d.i != len(d.data) {
				return damaged
			}
		}
		return nil
	}
	// The codings picked are most often a run of the file (one source's,
	// or all): put each in its place at once.
	cs := make([]Coding, n)
	err := decode(func(idx int64, c *Coding) bool {
		i := idx - lo
		if i < 0 || i >= int64(n) || cs[i].ID != "" {
			return false
		}
		cs[i] = *c
		return true
	})
	if err == nil || !errors.Is(err, errNotInPlace) {
		if err != nil {
			return nil, err
		}
		return cs, nil
	}
	// Otherwise, sort them by their index.
	at := make([]int64, 0, n)
	k := 0
	if err := decode(func(idx int64, c *Coding) bool {
		cs[k] = *c
		at = append(at, idx)
		k++
		return true
	}); err != nil {
		return nil, err
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(at[a], at[b]) })
	sorted := make([]Coding, n)
	for i, j := range order {
		sorted[i] = cs[j]
	}
	return sorted, nil
}

var errNotInPlace = errors.New("not a run of the file")

// ---- the file ----
//
// A cache file is the magic, the blocks, the index, the summary and a
// trailer. Integers are varints unless said; a string is its length and
// bytes.
//
//	summary: version, key (size, mtime, CRC), codings, orphans, the codes
//	         (string, number of codings)
//	index:   the string table (sources, origins, segments); the groups,
//	         each a source (string index) and its blocks, each a code
//	         (index), number of codings, length and CRC-32C (4 bytes)
//	trailer: length of the index and of the summary (8 bytes each), their
//	         CRC-32Cs (4 bytes each), "thcodes2"
//
// A record is its index in the jsonl file (as a zig-zag delta from the
// previous record's plus one), flags, the id, the start (a zig-zag delta from
// the previous record's), the length, the quote, the prefix and suffix when
// present, the origin (a string index), the segment when present (a string
// index), the time unless it is the previous record's (seconds, and
// nanoseconds when not 0) and the memo when present.

// Record flags.
const (
	rOrphan = 1 << iota
	rPrefix
	rSuffix
	rSegment
	rMemo
	rSameTime
	rNanos
)

// cacheWriter encodes codings, given in file order, into a cache file.
type cacheWriter struct {
	w       *bufio.Writer
	off     int64 // bytes written
	sum     CoderSummary
	codeIdx map[string]int
	codes   []string
	strIdx  map[string]int
	strs    []string
	index   []byte // the groups, encoded
	ngroups int
	nblocks int
	// The group being filled: its source and a buffer per code.
	source  string
	open    bool
	bufs    map[int]*blockBuf
	lossy   bool // a string was not valid UTF-8
	scratch []byte
}

type blockBuf struct {
	data      []byte
	n         int
	lastIdx   int64
	lastStart int
	lastTime  time.Time
}

func newCacheWriter(w io.Writer) (*cacheWriter, error) {
	cw := &cacheWriter{w: bufio.NewWriterSize(w, 1<<20), codeIdx: map[string]int{}, strIdx: map[string]int{},
		bufs: map[int]*blockBuf{}, sum: CoderSummary{Codes: map[string]int{}}}
	if _, err := cw.w.WriteString(cacheMagic); err != nil {
		return nil, err
	}
	cw.off = int64(len(cacheMagic))
	return cw, nil
}

func (cw *cacheWriter) str(s string) int {
	if i, ok := cw.strIdx[s]; ok {
		return i
	}
	s = strings.Clone(s) // s may point into a buffer that is reused
	cw.strIdx[s] = len(cw.strs)
	cw.strs = append(cw.strs, s)
	return len(cw.strs) - 1
}

// add encodes the coding at index idx of the file, whose id is id.
func (cw *cacheWriter) add(c *Coding, idx int64, id string) error {
	if !cw.open || c.Source != cw.source {
		if err := cw.flush(); err != nil {
			return err
		}
		cw.source, cw.open = strings.Clone(c.Source), true
	}
	ci, ok := cw.codeIdx[c.Code]
	if !ok {
		ci = len(cw.codes)
		code := strings.Clone(c.Code)
		cw.codeIdx[code] = ci
		cw.codes = append(cw.codes, code)
	}
	b := cw.bufs[ci]
	if b == nil {
		b = &blockBuf{lastIdx: -1}
		cw.bufs[ci] = b
	}
	cw.sum.Codings++
	cw.sum.Codes[cw.codes[ci]]++
	if c.Orphan {
		cw.sum.Orphans++
	}
	d := b.data
	d = binary.AppendVarint(d, idx-b.lastIdx-1)
	var fl byte
	if c.Orphan {
		fl |= rOrphan
	}
	if c.Prefix != "" {
		fl |= rPrefix
	}
	if c.Suffix != "" {
		fl |= rSuffix
	}
	if c.Segment != "" {
		fl |= rSegment
	}
	if c.Memo != "" {
		fl |= rMemo
	}
	t := c.Time.UTC()
	if b.n > 0 && t.Equal(b.lastTime) {
		fl |= rSameTime
	} else if t.Nanosecond() != 0 {
		fl |= rNanos
	}
	d = append(d, fl)
	d = appendCacheString(d, id)
	d = binary.AppendVarint(d, int64(c.Start-b.lastStart))
	d = binary.AppendUvarint(d, uint64(c.End-c.Start))
	d = appendCacheString(d, c.Quote)
	if fl&rPrefix != 0 {
		d = appendCacheString(d, c.Prefix)
	}
	if fl&rSuffix != 0 {
		d = appendCacheString(d, c.Suffix)
	}
	d = binary.AppendUvarint(d, uint64(cw.str(c.Origin)))
	if fl&rSegment != 0 {
		d = binary.AppendUvarint(d, uint64(cw.str(c.Segment)))
	}
	if fl&rSameTime == 0 {
		d = binary.AppendVarint(d, t.Unix())
		if fl&rNanos != 0 {
			d = binary.AppendUvarint(d, uint64(t.Nanosecond()))
		}
	}
	if fl&rMemo != 0 {
		d = appendCacheString(d, c.Memo)
	}
	b.data, b.n, b.lastIdx, b.lastStart, b.lastTime = d, b.n+1, idx, c.Start, t
	return nil
}

// flush writes the blocks of the group being filled.
func (cw *cacheWriter) flush() error {
	if !cw.open {
		return nil
	}
	cw.open = false
	used := make([]int, 0, len(cw.bufs))
	for ci, b := range cw.bufs {
		if b.n > 0 {
			used = append(used, ci)
		}
	}
	slices.Sort(used)
	cw.ngroups++
	cw.nblocks += len(used)
	cw.index = binary.AppendUvarint(cw.index, uint64(cw.str(cw.source)))
	cw.index = binary.AppendUvarint(cw.index, uint64(len(used)))
	for _, ci := range used {
		b := cw.bufs[ci]
		cw.index = binary.AppendUvarint(cw.index, uint64(ci))
		cw.index = binary.AppendUvarint(cw.index, uint64(b.n))
		cw.index = binary.AppendUvarint(cw.index, uint64(len(b.data)))
		cw.index = binary.LittleEndian.AppendUint32(cw.index, crc32.Checksum(b.data, castagnol))
		if _, err := cw.w.Write(b.data); err != nil {
			return err
		}
		cw.off += int64(len(b.data))
		b.data, b.n, b.lastIdx, b.lastStart = b.data[:0], 0, -1, 0
	}
	return nil
}

// finish writes the index, the summary and the trailer.
func (cw *cacheWriter) finish(key cacheKey) error {
	if err := cw.flush(); err != nil {
		return err
	}
	var ix []byte
	ix = binary.AppendUvarint(ix, uint64(len(cw.strs)))
	for _, s := range cw.strs {
		ix = appendCacheString(ix, s)
	}
	ix = binary.AppendUvarint(ix, uint64(cw.ngroups))
	ix = binary.AppendUvarint(ix, uint64(cw.nblocks))
	ix = append(ix, cw.index...)
	var sm []byte
	sm = binary.AppendUvarint(sm, cacheVersion)
	sm = binary.AppendVarint(sm, key.Size)
	sm = binary.AppendVarint(sm, key.MTime)
	sm = binary.AppendUvarint(sm, key.CRC)
	sm = binary.AppendUvarint(sm, uint64(cw.sum.Codings))
	sm = binary.AppendUvarint(sm, uint64(cw.sum.Orphans))
	sm = binary.AppendUvarint(sm, uint64(len(cw.codes)))
	for _, c := range cw.codes {
		sm = appendCacheString(sm, c)
		sm = binary.AppendUvarint(sm, uint64(cw.sum.Codes[c]))
	}
	tr := binary.LittleEndian.AppendUint64(nil, uint64(len(ix)))
	tr = binary.LittleEndian.AppendUint64(tr, uint64(len(sm)))
	tr = binary.LittleEndian.AppendUint32(tr, crc32.Checksum(ix, castagnol))
	tr = binary.LittleEndian.AppendUint32(tr, crc32.Checksum(sm, castagnol))
	tr = append(tr, trailerMagic...)
	for _, part := range [][]byte{ix, sm, tr} {
		if _, err := cw.w.Write(part); err != nil {
			return err
		}
	}
	return cw.w.Flush()
}

// readCache reads the summary and index of an open cache file and checks
// them against key; the file stays open in the result.
func readCache(f *os.File, key cacheKey) (*cacheState, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	if size < int64(len(cacheMagic))+trailerSize {
		return nil, errors.New("not a codings cache")
	}
	var tr [trailerSize]byte
	if _, err := f.ReadAt(tr[:], size-trailerSize); err != nil {
		return nil, err
	}
	if string(tr[24:]) != trailerMagic {
		return nil, errors.New("not a codings cache")
	}
	ilen, slen := binary.LittleEndian.Uint64(tr[0:]), binary.LittleEndian.Uint64(tr[8:])
	body := size - trailerSize - int64(len(cacheMagic))
	if ilen > uint64(body) || slen > uint64(body)-ilen {
		return nil, errors.New("damaged cache")
	}
	sm := make([]byte, slen)
	if _, err := f.ReadAt(sm, size-trailerSize-int64(slen)); err != nil {
		return nil, err
	}
	if crc32.Checksum(sm, castagnol) != binary.LittleEndian.Uint32(tr[20:]) {
		return nil, errors.New("damaged cache")
	}
	d := cacheReader{data: sm}
	if d.uvarint() != cacheVersion {
		return nil, errors.New("other version")
	}
	if got := (cacheKey{Size: d.varint(), MTime: d.varint(), CRC: d.uvarint()}); d.bad || got != key {
		return nil, errors.New("stale")
	}
	end := size - trailerSize - int64(slen) - int64(ilen)
	cc := &cacheState{f: f, sum: CoderSummary{Codes: map[string]int{}}, ixLen: int(ilen), ixEnd: end,
		ixCRC: binary.LittleEndian.Uint32(tr[16:])}
	cc.sum.Codings = int(d.uvarint())
	cc.sum.Orphans = int(d.uvarint())
	ncodes := d.uvarint()
	if ncodes > uint64(len(sm)) {
		return nil, errors.New("damaged cache")
	}
	for range ncodes {
		code := string(d.bytes())
		n := int(d.uvarint())
		cc.codes = append(cc.codes, code)
		cc.sum.Codes[code] = n
	}
	if d.bad || d.i != len(d.data) {
		return nil, errors.New("damaged cache")
	}
	return cc, nil
}

// index parses the index, once.
func (cc *cacheState) index() error {
	if cc.ixDone || cc.f == nil {
		return cc.ixErr
	}
	cc.ixDone = true
	damaged := func() error {
		cc.groups, cc.ix, cc.bySource = nil, nil, nil
		cc.ixErr = fmt.Errorf("%w %s", errDamaged, cc.f.Name())
		return cc.ixErr
	}
	ix := make([]byte, cc.ixLen)
	if _, err := cc.f.ReadAt(ix, cc.ixEnd); err != nil || crc32.Checksum(ix, castagnol) != cc.ixCRC {
		return damaged()
	}
	d := cacheReader{data: ix}
	nstr := d.uvarint()
	if nstr > uint64(len(ix)) {
		return damaged()
	}
	cc.strs = make([]string, nstr)
	for i := range cc.strs {
		cc.strs[i] = string(d.bytes())
	}
	ngroups, nblocks := d.uvarint(), d.uvarint()
	if ngroups > uint64(len(ix)) || nblocks > uint64(len(ix)) {
		return damaged()
	}
	cc.groups = make([]cacheGroup, 0, ngroups)
	cc.bySource = make(map[string][]int, ngroups)
	off := int64(len(cacheMagic))
	total, blocks := 0, uint64(0)
	for g := range int(ngroups) {
		si, nb := d.uvarint(), d.uvarint()
		if si >= nstr || nb > nblocks-blocks {
			return damaged()
		}
		grp := cacheGroup{source: cc.strs[si], ent: d.i, count: int(nb), off: off}
		for range nb {
			code, n, length := d.uvarint(), d.uvarint(), d.uvarint()
			if d.i+4 > len(d.data) || code >= uint64(len(cc.codes)) || length > uint64(cc.ixEnd-off) || n > length {
				return damaged()
			}
			d.i += 4
			off += int64(length)
			total += int(n)
		}
		blocks += nb
		grp.size = off - grp.off
		cc.groups = append(cc.groups, grp)
		cc.bySource[grp.source] = append(cc.bySource[grp.source], g)
	}
	if d.bad || d.i != len(d.data) || off != cc.ixEnd || total != cc.sum.Codings || blocks != nblocks {
		return damaged()
	}
	cc.ix = ix
	return nil
}

// build writes the coder's cache from the file and returns it open. A file
// with an error gives the error Store.Load gives.
func (c CodingsCache) build(coder string, key cacheKey) (*os.File, error) {
	in, err := os.Open(c.Store.path(coder))
	if err != nil {
		return nil, err
	}
	defer in.Close()
	out, final, err := c.createTemp(coder)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			out.Close()
			if final != "" {
				os.Remove(out.Name())
			}
		}
	}()
	cw, err := newCacheWriter(out)
	if err != nil {
		return nil, err
	}
	var ids idChecker
	idx := int64(0)
	err = scanCodings(in, c.Store.display(coder), coder, func(ch *codingsChunk) error {
		for i := range ch.cs {
			ids.add(ch.cs[i].ID, ch.lines[i])
			if err := cw.add(&ch.cs[i], idx, ch.cs[i].ID); err != nil {
				return err
			}
			idx++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if ids.sameHashes() {
		// Maybe an id used twice: Load says where (or that all is well).
		if _, err := c.Store.Load(coder); err != nil {
			return nil, err
		}
	}
	if err := cw.finish(key); err != nil {
		return nil, err
	}
	if final != "" {
		// The file may have changed while it was read; then the key written
		// is stale and the next run builds again.
		if err := os.Rename(out.Name(), final); err != nil {
			os.Remove(out.Name())
		}
	}
	ok = true
	return out, nil
}

// createTemp creates the file to build a coder's cache in: a temporary file
// in the cache folder, to be renamed to final, or, when the folder cannot
// be written, an unnamed temporary file elsewhere (final is "").
func (c CodingsCache) createTemp(coder string) (f *os.File, final string, err error) {
	if path := c.path(coder); path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
			if f, err := os.CreateTemp(filepath.Dir(path), "."+coder+"-*.tmp"); err == nil {
				f.Chmod(0o644)
				return f, path, nil
			}
		}
	}
	f, err = os.CreateTemp("", "thematic-cache-*")
	if err != nil {
		return nil, "", err
	}
	os.Remove(f.Name())
	return f, "", nil
}

// writeCache writes the coder's cache for codings just saved: cs[i] for i
// in keep, in that order, with the ids given. A cache that cannot be written
// is no error: it is built from the file when next needed.
func (s Store) writeCache(coder string, cs []Coding, keep []int, ids []string) {
	sc := newStreamCache(s, coder)
	for k, i := range keep {
		sc.add(&cs[i], int64(k), ids[k])
	}
	sc.commit()
}

// streamCache writes a coder's cache as Store.SaveSorted writes the file,
// a coding at a time; commit finishes it once the file is in place. Any
// failure only leaves the cache out (it would be rebuilt from the file).
type streamCache struct {
	s     Store
	coder string
	out   *os.File
	final string
	cw    *cacheWriter
}

func newStreamCache(s Store, coder string) *streamCache {
	sc := &streamCache{s: s, coder: coder}
	cc := CodingsCache{Store: s}
	if cc.path(coder) == "" {
		return sc
	}
	out, final, err := cc.createTemp(coder)
	if err != nil || final == "" {
		if out != nil {
			out.Close()
			os.Remove(out.Name())
		}
		return sc
	}
	cw, err := newCacheWriter(out)
	if err != nil {
		out.Close()
		os.Remove(out.Name())
		return sc
	}
	sc.out, sc.final, sc.cw = out, final, cw
	return sc
}

// add adds the coding at index idx of the file, written with id.
func (sc *streamCache) add(c *Coding, idx int64, id string) {
	if sc.cw == nil {
		return
	}
	cc := *c
	cc.Coder = sc.coder
	if !validStrings(&cc) || sc.cw.add(&cc, idx, id) != nil {
		sc.abort() // the file has U+FFFD where c has bad bytes, or a write failed
	}
}

// commit finishes the cache for the file now in place.
func (sc *streamCache) commit() {
	if sc.cw == nil {
		return
	}
	key, exists, err := keyOf(sc.s.path(sc.coder))
	if err != nil || !exists || sc.cw.finish(key) != nil {
		sc.abort()
		return
	}
	out := sc.out
	sc.cw, sc.out = nil, nil
	out.Close()
	if os.Rename(out.Name(), sc.final) != nil {
		os.Remove(out.Name())
		os.Remove(sc.final) // a stale cache would only be rebuilt
	}
}

// abort drops the cache being written (an old cache stays: its key tells
// whether it still describes the file). It does nothing once commit has
// run.
func (sc *streamCache) abort() {
	if sc.out == nil {
		return
	}
	sc.out.Close()
	os.Remove(sc.out.Name())
	sc.cw, sc.out = nil, nil
}

// validStrings reports whether the strings of c are valid UTF-8, and so
// read back from the file as they are.
func validStrings(c *Coding) bool {
	for _, s := range [...]string{c.ID, c.Source, c.Quote, c.Prefix, c.Suffix, c.Code, c.Origin, c.Segment, c.Memo} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

func appendCacheString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// cacheReader decodes varints and strings; bad is set on running out of
// data.
type cacheReader struct {
	data []byte
	i    int
	bad  bool
}

func (d *cacheReader) uvarint() uint64 {
	v, n := binary.Uvarint(d.data[min(d.i, len(d.data)):])
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.i += n
	return v
}

func (d *cacheReader) varint() int64 {
	v, n := binary.Varint(d.data[min(d.i, len(d.data)):])
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.i += n
	return v
}

func (d *cacheReader) bytes() []byte {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.data)-d.i) {
		d.bad = true
		return nil
	}
	b := d.data[d.i : d.i+int(n)]
	d.i += int(n)
	return b
}

// str returns a string sharing the block's memory, which is never written
// again (one allocation for all the codings of a read).
func (d *cacheReader) str() string {
	b := d.bytes()
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// recordReader decodes the records of one block.
type recordReader struct {
	cacheReader
	strs                []string
	coder, source, code string
	lastIdx             int64
	lastStart           int
	lastTime            time.Time
	started             bool
}

func (d *recordReader) tableStr(i uint64) string {
	if i >= uint64(len(d.strs)) {
		d.bad = true
		return ""
	}
	return d.strs[i]
}

// record decodes the next record into c and returns its index in the file
// (-1 when the data runs out).
func (d *recordReader) record(c *Coding) int64 {
	if !d.started {
		d.lastIdx, d.started = -1, true
	}
	idx := d.lastIdx + 1 + d.varint()
	fl := byte(0)
	if d.i < len(d.data) {
		fl = d.data[d.i]
		d.i++
	} else {
		d.bad = true
	}
	c.ID = d.str()
	c.Source, c.Code, c.Coder = d.source, d.code, d.coder
	c.Start = d.lastStart + int(d.varint())
	c.End = c.Start + int(d.uvarint())
	c.Quote = d.str()
	if fl&rPrefix != 0 {
		c.Prefix = d.str()
	}
	if fl&rSuffix != 0 {
		c.Suffix = d.str()
	}
	c.Origin = d.tableStr(d.uvarint())
	if fl&rSegment != 0 {
		c.Segment = d.tableStr(d.uvarint())
	}
	if fl&rSameTime != 0 {
		c.Time = d.lastTime
	} else {
		sec, nsec := d.varint(), uint64(0)
		if fl&rNanos != 0 {
			if nsec = d.uvarint(); nsec >= 1e9 {
				d.bad = true
			}
		}
		c.Time = time.Unix(sec, int64(nsec)).UTC()
	}
	if fl&rMemo != 0 {
		c.Memo = d.str()
	}
	c.Orphan = fl&rOrphan != 0
	d.lastIdx, d.lastStart, d.lastTime = idx, c.Start, c.Time
	if d.bad {
		return -1
	}
	return idx
}

// ---- counting codes from the cache ----

// CountCodeSources counts codings for every node of cb as CountCodes does,
// from the number of codings of each code in each source (as
// CachedCodings.Counts gives them, for one or several coders) rather than
// from the codings themselves.
func CountCodeSources(cb *codebook.Codebook, counts iter.Seq[CodeSourceCount], caseOf func(source string) string) CodebookCounts {
	// Sources and cases are numbered as they come, and each node's sets of
	// them are bit sets: a few hundred thousand counts go into them.
	type tally struct {
		codings        int
		sources, cases bitset
	}
	nodes := cb.Codes()
	own := make([]tally, len(nodes))
	total := make([]tally, len(nodes))
	index := make(map[*codebook.Node]int, len(nodes))
	for i, n := range nodes {
		index[n] = i
	}
	// For each code: its node and the nodes above it, as indices.
	type codeNodes struct {
		own   int
		chain []int // the node and its ancestors
	}
	known := map[string]*codeNodes{}
	places := map[string][2]int32{} // source -> number, case number (-1: none)
	caseNum := map[string]int32{}
	res := CodebookCounts{Unknown: map[string]int{}}
	lastSource, lastPlace := "", [2]int32{-1, -1}
	for k := range counts {
		if k.Codings == 0 {
			continue
		}
		cn, ok := known[k.Code]
		if !ok {
			if n := cb.Node(k.Code); n != nil {
				cn = &codeNodes{own: index[n]}
				for m := n; m != nil; m = m.Parent {
					cn.chain = append(cn.chain, index[m])
				}
			}
			known[strings.Clone(k.Code)] = cn
		}
		if cn == nil {
			res.Unknown[k.Code] += k.Codings
			continue
		}
		pl := lastPlace
		if k.Source != lastSource || pl[0] < 0 {
			var ok bool
			if pl, ok = places[k.Source]; !ok {
				pl = [2]int32{int32(len(places)), -1}
				if caseOf != nil {
					if c := caseOf(k.Source); c != "" {
						num, ok := caseNum[c]
						if !ok {
							num = int32(len(caseNum))
							caseNum[c] = num
						}
						pl[1] = num
					}
				}
				places[strings.Clone(k.Source)] = pl
			}
			lastSource, lastPlace = k.Source, pl
		}
		add := func(t *tally) {
			t.codings += k.Codings
			t.sources.set(pl[0])
			if pl[1] >= 0 {
				t.cases.set(pl[1])
			}
		}
		add(&own[cn.own])
		for _, i := range cn.chain {
			add(&total[i])
		}
	}
	res.Own = make(map[string]CodeCount, len(nodes))
	res.Total = make(map[string]CodeCount, len(nodes))
	for i, n := range nodes {
		res.Own[n.ID] = CodeCount{Codings: own[i].codings, Sources: own[i].sources.count(), Cases: own[i].cases.count()}
		res.Total[n.ID] = CodeCount{Codings: total[i].codings, Sources: total[i].sources.count(), Cases: total[i].cases.count()}
	}
	return res
}

// bitset is a set of small numbers.
type bitset []uint64

func (b *bitset) set(i int32) {
	w := int(i >> 6)
	for len(*b) <= w {
		*b = append(*b, 0)
	}
	(*b)[w] |= 1 << (uint(i) & 63)
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// sameHashes reports whether two of the ids added share a hash (an id used
// twice, or, rarely, two ids with one hash).
func (c *idChecker) sameHashes() bool {
	slices.SortFunc(c.keys, func(a, b idKey) int { return cmp.Compare(a.h, b.h) })
	for k := 1; k < len(c.keys); k++ {
		if c.keys[k].h == c.keys[k-1].h {
			return true
		}
	}
	return false
}
