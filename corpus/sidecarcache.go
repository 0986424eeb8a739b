package corpus

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/thematic-qda/thematic/internal/errs"
)

// The source cache: for each source, a binary copy of its sidecar and where
// the lines of its text start, in .thematic/sources/ID.cache. A sidecar in
// JSON is five times the size of the text it describes and costs a few
// milliseconds per source to decode; the copy is a tenth of its size and
// decodes in well under half the time with a twentieth of the allocations
// (the strings segments share, such as units, speakers, roles and parents,
// are stored once). What a listing needs to place a
// span (Layout: segment starts, ends, ids and speakers, line starts) is kept
// in fixed-width columns read in place, without decoding.
//
// Sidecars and texts stay the truth: an entry is used only while its
// sidecar and its text have the keys recorded with it (see fileKey), the
// text's hash having been checked against the sidecar's when the entry was
// made. Anything else, or a damaged file (each carries a CRC-32C), and the
// entry is made again from the sidecar. Entries are written, atomically and
// without the project lock, by SaveSource and by any read that finds one
// missing or stale.

const (
	sourceCacheDir     = "sources"
	sourceCacheExt     = ".cache"
	sourceCacheMagic   = "thematic-source-cache\x00"
	sourceCacheVersion = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (p *Project) sourceCachePath(id string) string {
	return p.Path(CacheDir, sourceCacheDir, id+sourceCacheExt)
}

// readSourceCache returns the source from its cache entry when the entry
// is fresh, with its segments when segs; nil when there is none to trust.
func (p *Project) readSourceCache(id string, segs bool) *Source {
	data, err := readFile(p.sourceCachePath(id))
	if err != nil {
		return nil
	}
	sk, tk, err := p.sourceKeys(id)
	if err != nil {
		return nil
	}
	src, err := decodeSourceCache(data, sk, tk, segs)
	if err != nil || src.ID != id {
		return nil
	}
	return src
}

// sourceKeys returns the keys of a source's sidecar and text.
func (p *Project) sourceKeys(id string) (sk, tk fileKey, err error) {
	if sk, err = fileKeyOf(p.Path(SourcesDir, id+".json")); err != nil {
		return
	}
	tk, err = fileKeyOf(p.Path(SourcesDir, id+".txt"))
	return
}

// writeSourceCache writes the cache entry of src, whose text is text (with
// the sidecar's hash), its sidecar having key sk and its text tk.
func (p *Project) writeSourceCache(src *Source, text string, sk, tk fileKey) {
	data := encodeSourceCache(src, text, sk, tk)
	dir := p.Path(CacheDir, sourceCacheDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	// No fsync: a torn entry fails its CRC and is made again.
	f, err := os.CreateTemp(dir, ".src-*.tmp")
	if err != nil {
		return
	}
	f.Chmod(0o644)
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), p.sourceCachePath(src.ID))
	}
	if err != nil {
		os.Remove(f.Name())
	}
}

// loadSource reads a source through its cache entry, making the entry when
// it is missing or stale. With text, the text is read and checked against
// the sidecar's hash.
func (p *Project) loadSource(id string, withText, segs bool) (*Source, string, error) {
	if src := p.readSourceCache(id, segs); src != nil {
		if !withText {
			return src, "", nil
		}
		text, err := p.readText(id, src.SHA)
		return src, text, err
	}
	// Keys first: a file changed while it is read gives an entry with an
	// old key, which the next read replaces.
	sk, tk, keyErr := p.sourceKeys(id)
	src, err := p.readSidecar(id)
	if err != nil {
		return nil, "", err
	}
	text, err := p.readText(id, src.SHA)
	if err != nil {
		if withText {
			return nil, "", err
		}
		// A text that does not match is reported by the commands that read
		// it; the sidecar alone is still good. No entry is made.
		return src, "", nil
	}
	if keyErr == nil {
		p.writeSourceCache(src, text, sk, tk)
	}
	if !segs {
		src.Segments = nil
	}
	if !withText {
		text = ""
	}
	return src, text, nil
}

// readText reads a source's text and checks it against the sidecar's hash.
func (p *Project) readText(id, sha string) (string, error) {
	txt, err := readFile(p.Path(SourcesDir, id+".txt"))
	if err != nil {
		return "", err
	}
	// The bytes are not written again: the string can share them.
	text := unsafe.String(unsafe.SliceData(txt), len(txt))
	if HashText(text) != sha {
		return "", errTextChanged(id)
	}
	return text, nil
}

func errTextChanged(id string) error {
	return errs.New(filepath.Join(SourcesDir, id+".txt"), 0, 0, "text does not match its sidecar's sha256 (edited by hand or an interrupted write); re-ingest the source")
}

// lineStarts returns the code point offsets at which lines 2, 3... of text
// start, and its length in code points.
func lineStarts(text string) ([]int32, int) {
	var out []int32
	runes := 0
	for i := 0; i < len(text); {
		j := strings.IndexByte(text[i:], '\n')
		if j < 0 {
			runes += utf8.RuneCountInString(text[i:])
			break
		}
		runes += utf8.RuneCountInString(text[i:i+j]) + 1
		out = append(out, int32(runes))
		i += j + 1
	}
	return out, runes
}

// ---- the entry ----
//
// An entry is the magic, the version, a CRC-32C of the rest, and the rest:
// the keys; the source's fields; the segments' string table; their columns
// that only whole sources need (unit, parent, line, end line, role, time,
// date), each its length in bytes and a varint per segment; the ids, one
// after another; the text's length in code points; and then the fixed-width
// part a Layout reads in place: the number of segments and of line starts,
// a flag, and columns of 4-byte little-endian integers: where each id ends,
// start, end, the largest end so far, speaker (an index into the string
// table), and the starts of lines 2, 3... Other integers are varints;
// strings their length and bytes.

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendKey(b []byte, k fileKey) []byte {
	b = binary.AppendVarint(b, k.Size)
	b = binary.AppendVarint(b, k.MTime)
	b = binary.AppendVarint(b, k.CTime)
	b = binary.AppendUvarint(b, k.Ino)
	return binary.AppendUvarint(b, k.CRC)
}

// column is a column of the segment table being written.
type column struct{ b []byte }

func (c *column) uv(v uint64) { c.b = binary.AppendUvarint(c.b, v) }
func (c *column) sv(v int64)  { c.b = binary.AppendVarint(c.b, v) }
func (c *column) u32(v int)   { c.b = binary.LittleEndian.AppendUint32(c.b, uint32(v)) }

func encodeSourceCache(src *Source, text string, sk, tk fileKey) []byte {
	b := make([]byte, 0, 256+len(src.Segments)*32)
	b = append(b, sourceCacheMagic...)
	b = append(b, sourceCacheVersion, 0, 0, 0, 0) // CRC filled in last
	head := len(b)
	b = appendKey(b, sk)
	b = appendKey(b, tk)
	for _, s := range [...]string{src.ID, src.Title, src.Kind, src.Case, src.Format, src.OrigPath, src.RawSHA, src.SHA} {
		b = appendStr(b, s)
	}
	b = binary.AppendVarint(b, int64(src.Number))
	b = binary.AppendVarint(b, int64(src.Words))
	t, _ := src.Ingested.MarshalText()
	b = appendStr(b, string(t))
	// Lists and maps: 0 for nil, else 1 + their length, as JSON tells null
	// or absent from empty.
	size := func(isNil bool, n int) {
		if isNil {
			b = append(b, 0)
		} else {
			b = binary.AppendUvarint(b, uint64(n)+1)
		}
	}
	size(src.Attrs == nil, len(src.Attrs))
	keys := make([]string, 0, len(src.Attrs))
	for k := range src.Attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b = appendStr(b, k)
		b = appendStr(b, src.Attrs[k])
	}
	size(src.PrevSHA == nil, len(src.PrevSHA))
	for _, s := range src.PrevSHA {
		b = appendStr(b, s)
	}
	size(src.Speakers == nil, len(src.Speakers))
	for _, sp := range src.Speakers {
		b = appendStr(b, sp.Name)
		b = appendStr(b, sp.Role)
		b = binary.AppendVarint(b, int64(sp.Turns))
	}

	// The segments. Strings that repeat go to a table (entry 0 is ""); a
	// parent is, as nearly always, one of the segments before (2 x how
	// far back), or else from the table (2 x index + 1).
	table := map[string]int{"": 0}
	strs := []string{""}
	str := func(s string) int {
		i, ok := table[s]
		if !ok {
			i = len(strs)
			table[s] = i
			strs = append(strs, s)
		}
		return i
	}
	var ids, unit, parent, line, lines, role, tm, date column
	var idEnd, start, end, maxEnd, speaker column
	back := map[string]int{}
	prevLine, most, sorted := 0, 0, true
	for i, g := range src.Segments {
		ids.b = append(ids.b, g.ID...)
		idEnd.u32(len(ids.b))
		unit.uv(uint64(str(g.Unit)))
		if j, ok := back[g.Parent]; ok && g.Parent != "" {
			parent.uv(2 * uint64(i-j))
		} else if g.Parent == "" {
			parent.uv(0)
		} else {
			parent.uv(2*uint64(str(g.Parent)) + 1)
		}
		back[g.ID] = i
		start.u32(g.Start)
		end.u32(g.End)
		most = max(most, g.End)
		maxEnd.u32(most)
		if i > 0 && g.Start < src.Segments[i-1].Start {
			sorted = false
		}
		line.sv(int64(g.Line - prevLine))
		lines.sv(int64(g.EndLine - g.Line))
		speaker.u32(str(g.Speaker))
		role.uv(uint64(str(g.Role)))
		tm.uv(uint64(str(g.Time)))
		date.uv(uint64(str(g.Date)))
		prevLine = g.Line
	}
	size(src.Segments == nil, len(src.Segments))
	b = binary.AppendUvarint(b, uint64(len(strs)))
	for _, s := range strs {
		b = appendStr(b, s)
	}
	for _, c := range [...]*column{&unit, &parent, &line, &lines, &role, &tm, &date, &ids} {
		b = binary.AppendUvarint(b, uint64(len(c.b)))
		b = append(b, c.b...)
	}
	ls, runes := lineStarts(text)
	b = binary.AppendUvarint(b, uint64(runes))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(src.Segments)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(ls)))
	if sorted {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	for _, c := range [...]*column{&idEnd, &start, &end, &maxEnd, &speaker} {
		b = append(b, c.b...)
	}
	for _, l := range ls {
		b = binary.LittleEndian.AppendUint32(b, uint32(l))
	}
	binary.LittleEndian.PutUint32(b[head-4:], crc32.Checksum(b[head:], castagnoli))
	return b
}

var errBadCache = errors.New("damaged or stale source cache")

// reader decodes an entry; bad is set when it runs out or finds nonsense.
type reader struct {
	b   []byte
	i   int
	bad bool
}

func (r *reader) uv() uint64 {
	v, n := binary.Uvarint(r.b[min(r.i, len(r.b)):])
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.i += n
	return v
}

func (r *reader) sv() int64 {
	v, n := binary.Varint(r.b[min(r.i, len(r.b)):])
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.i += n
	return v
}

func (r *reader) bytes() []byte {
	n := r.uv()
	if r.bad || n > uint64(len(r.b)-r.i) {
		r.bad = true
		return nil
	}
	s := r.b[r.i : r.i+int(n)]
	r.i += int(n)
	return s
}

func (r *reader) str() string { return string(r.bytes()) }

func (r *reader) key() fileKey {
	return fileKey{Size: r.sv(), MTime: r.sv(), CTime: r.sv(), Ino: r.uv(), CRC: r.uv()}
}

// count reads a list's size: -1 for nil.
func (r *reader) count() int {
	n := r.uv()
	if n > uint64(len(r.b)) {
		r.bad = true
		return -1
	}
	return int(n) - 1
}

// col returns the next column as a reader of its own.
func (r *reader) col() reader {
	b := r.bytes()
	return reader{b: b, bad: r.bad}
}

// entry is an entry whose CRC and keys have been checked, split into its
// parts.
type entry struct {
	r      reader // at the source's fields
	strs   []string
	cols   [8]reader // unit, parent, line, end line, role, time, date, ids
	nseg   int       // -1: nil
	runes  int
	nlines int
	sorted bool
	fixed  []byte // the fixed-width columns
}

// openEntry checks an entry's CRC and keys and finds its parts, parsing
// the source's fields into src (when nil, into a Source then dropped).
func openEntry(data []byte, sk, tk fileKey, src *Source) (*entry, error) {
	head := len(sourceCacheMagic) + 5
	if len(data) < head || string(data[:len(sourceCacheMagic)]) != sourceCacheMagic || data[len(sourceCacheMagic)] != sourceCacheVersion {
		return nil, errBadCache
	}
	if crc32.Checksum(data[head:], castagnoli) != binary.LittleEndian.Uint32(data[head-4:]) {
		return nil, errBadCache
	}
	r := reader{b: data, i: head}
	if r.key() != sk || r.key() != tk || r.bad {
		return nil, errBadCache
	}
	e := &entry{}
	if src == nil {
		src = new(Source) // parsed and dropped
	}
	for _, p := range [...]*string{&src.ID, &src.Title, &src.Kind, &src.Case, &src.Format, &src.OrigPath, &src.RawSHA, &src.SHA} {
		*p = r.str()
	}
	src.Number = int(r.sv())
	src.Words = int(r.sv())
	if err := src.Ingested.UnmarshalText(r.bytes()); err != nil {
		return nil, errBadCache
	}
	if n := r.count(); n >= 0 {
		src.Attrs = make(map[string]string, n)
		for range n {
			k := r.str()
			src.Attrs[k] = r.str()
		}
	}
	if n := r.count(); n >= 0 {
		src.PrevSHA = make([]string, n)
		for i := range src.PrevSHA {
			src.PrevSHA[i] = r.str()
		}
	}
	if n := r.count(); n >= 0 {
		src.Speakers = make([]Speaker, n)
		for i := range src.Speakers {
			src.Speakers[i] = Speaker{Name: r.str(), Role: r.str(), Turns: int(r.sv())}
		}
	}
	e.nseg = r.count()
	nstr := r.uv()
	if r.bad || nstr > uint64(len(data)) {
		return nil, errBadCache
	}
	e.strs = make([]string, nstr)
	for i := range e.strs {
		e.strs[i] = r.str()
	}
	for i := range e.cols {
		e.cols[i] = r.col()
	}
	e.runes = int(r.uv())
	if r.bad || r.i+9 > len(data) {
		return nil, errBadCache
	}
	n, nl := binary.LittleEndian.Uint32(data[r.i:]), binary.LittleEndian.Uint32(data[r.i+4:])
	e.sorted = data[r.i+8] == 1
	r.i += 9
	if int64(n) != int64(max(e.nseg, 0)) || (int64(5)*int64(n)+int64(nl))*4 != int64(len(data)-r.i) {
		return nil, errBadCache
	}
	e.nlines = int(nl)
	e.fixed = data[r.i:]
	e.r = r
	return e, nil
}

// u32 returns entry k of fixed column c (0 id ends, 1 starts, 2 ends,
// 3 largest ends, 4 speakers, 5 line starts).
func (e *entry) u32(c, k int) int {
	return int(binary.LittleEndian.Uint32(e.fixed[4*(c*max(e.nseg, 0)+k):]))
}

func decodeSourceCache(data []byte, sk, tk fileKey, segs bool) (*Source, error) {
	src := new(Source)
	e, err := openEntry(data, sk, tk, src)
	if err != nil {
		return nil, err
	}
	if !segs || e.nseg < 0 {
		return src, nil
	}
	unit, parent, line, lines, role, tm, date := &e.cols[0], &e.cols[1], &e.cols[2], &e.cols[3], &e.cols[4], &e.cols[5], &e.cols[6]
	tab := func(i int) string {
		if i < 0 || i >= len(e.strs) {
			unit.bad = true
			return ""
		}
		return e.strs[i]
	}
	// The ids share one string.
	blob := string(e.cols[7].b)
	src.Segments = make([]Segment, e.nseg)
	at, prevLine := 0, 0
	for i := range src.Segments {
		g := &src.Segments[i]
		to := e.u32(0, i)
		if to < at || to > len(blob) {
			return nil, errBadCache
		}
		g.ID = blob[at:to]
		at = to
		g.Unit = tab(int(unit.uv()))
		switch v := parent.uv(); {
		case v == 0:
		case v%2 == 0:
			if v/2 > uint64(i) {
				return nil, errBadCache
			}
			g.Parent = src.Segments[i-int(v/2)].ID
		default:
			if v/2 >= uint64(len(e.strs)) {
				return nil, errBadCache
			}
			g.Parent = e.strs[v/2]
		}
		g.Start = e.u32(1, i)
		g.End = e.u32(2, i)
		g.Line = prevLine + int(line.sv())
		g.EndLine = g.Line + int(lines.sv())
		g.Speaker = tab(e.u32(4, i))
		g.Role = tab(int(role.uv()))
		g.Time = tab(int(tm.uv()))
		g.Date = tab(int(date.uv()))
		prevLine = g.Line
	}
	if at != len(blob) {
		return nil, errBadCache
	}
	for i := range 7 {
		if e.cols[i].bad || e.cols[i].i != len(e.cols[i].b) {
			return nil, errBadCache
		}
	}
	return src, nil
}

// ---- layouts ----

// Layout is where a source's lines and segments lie, without its text or
// its other fields: what a listing needs to place a span (line, speaker,
// segment). It is read in place from the source cache, so it costs a small
// fraction of reading the source. A Layout is safe for concurrent use.
type Layout struct {
	e   *entry
	buf *[]byte // the entry's bytes, from layoutBufs
}

// layoutBufs holds the buffers of released layouts: a listing that places
// spans in a thousand sources, one after another, reads them all into a
// few buffers.
var layoutBufs sync.Pool

// Layout returns where the lines and segments of a source lie. Release it
// when done with it, if no other goroutine uses it.
func (p *Project) Layout(id string) (*Layout, error) {
	bp, _ := layoutBufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	if data, err := readFileInto(p.sourceCachePath(id), *bp); err == nil {
		*bp = data
		if sk, tk, err := p.sourceKeys(id); err == nil {
			if l, err := decodeLayout(data, sk, tk); err == nil {
				l.buf = bp
				return l, nil
			}
		}
	}
	layoutBufs.Put(bp)
	src, text, err := p.loadSource(id, true, true)
	if err != nil {
		return nil, err
	}
	return layoutOf(src, text)
}

// layoutOf makes a layout from a source and its text.
func layoutOf(src *Source, text string) (*Layout, error) {
	return decodeLayout(encodeSourceCache(src, text, fileKey{}, fileKey{}), fileKey{}, fileKey{})
}

// decodeLayout checks an entry and keeps its fixed-width part.
func decodeLayout(data []byte, sk, tk fileKey) (*Layout, error) {
	e, err := openEntry(data, sk, tk, nil)
	if err != nil {
		return nil, err
	}
	// What Place and Line read must hold together.
	ids := e.cols[7].b
	prev := 0
	for i := range max(e.nseg, 0) {
		to := e.u32(0, i)
		if to < prev || to > len(ids) || e.u32(4, i) >= len(e.strs) {
			return nil, errBadCache
		}
		prev = to
	}
	return &Layout{e: e}, nil
}

// Release lets the layout's memory be used for the next one read. The
// layout must not be used after: the strings Place returned stay good.
func (l *Layout) Release() {
	if l.buf != nil {
		layoutBufs.Put(l.buf)
		l.buf, l.e = nil, nil
	}
}

// Len is the length of the source's text in code points.
func (l *Layout) Len() int { return l.e.runes }

// Line returns the 1-based line of code point pos (clamped to the text).
func (l *Layout) Line(pos int) int {
	pos = min(max(pos, 0), l.e.runes)
	// The number of line starts (after the first) at or before pos.
	return 1 + sort.Search(l.e.nlines, func(k int) bool { return l.e.u32(5, k) > pos })
}

// Place returns the speaker at start, that of the first segment (in the
// sidecar's order, parents first) holding start that has one, and the
// smallest segment holding [start, end), the later one on a tie; "" when
// there is none. Positions are clamped to the text.
func (l *Layout) Place(start, end int) (speaker, segment string) {
	e := l.e
	n := max(e.nseg, 0)
	start, end = min(max(start, 0), e.runes), min(max(end, 0), e.runes)
	lo, hi := 0, n
	if e.sorted {
		// Only segments starting at or before start can hold it, and the
		// largest end so far tells where the earlier ones all end before.
		hi = sort.Search(n, func(k int) bool { return e.u32(1, k) > start })
		lo = sort.Search(hi, func(k int) bool { return e.u32(3, k) >= start })
	}
	size, best := -1, -1
	for i := lo; i < hi; i++ {
		s, t := e.u32(1, i), e.u32(2, i)
		if s > start {
			continue
		}
		if start < t && speaker == "" {
			speaker = e.strs[e.u32(4, i)]
		}
		if end <= t && (size < 0 || t-s <= size) {
			best, size = i, t-s
		}
	}
	if best >= 0 {
		from := 0
		if best > 0 {
			from = e.u32(0, best-1)
		}
		segment = string(e.cols[7].b[from:e.u32(0, best)])
	}
	return speaker, segment
}

// ---- reading sources one at a time ----

// EachSource calls fn with every source, with or without its text, in id
// order, one at a time: the sources are read ahead on the other cores, a
// few at most, so memory stays bounded however large the project. fn must
// not keep the source past its call unless it means to hold it. An error
// reading a source, or from fn, stops the walk and is returned.
func (p *Project) EachSource(withText bool, fn func(*Source) error) error {
	ids, err := p.SourceIDs()
	if err != nil {
		return err
	}
	return ReadAhead(len(ids), func(i int) (*Source, error) { return p.Source(ids[i], withText) },
		func(_ int, src *Source) error { return fn(src) })
}

// ReadAhead calls fn(i, load(i)) for i from 0 to n-1, in that order, one
// at a time, while the next few are loaded on the other cores (at most
// GOMAXPROCS+1 ahead), so that memory holds a few sources however large n
// is. load is called from several goroutines at once. The first error, of
// load or of fn, in order of i, stops the walk and is returned; no load is
// running when ReadAhead returns.
func ReadAhead(n int, load func(i int) (*Source, error), fn func(i int, src *Source) error) error {
	type slot struct {
		src  *Source
		err  error
		done chan struct{}
	}
	ahead := max(2, runtime.GOMAXPROCS(0)+1)
	slots := make(chan *slot, ahead)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	work := make(chan func(), ahead)
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for f := range work {
				f()
			}
		})
	}
	go func() {
		defer close(slots)
		defer close(work)
		for i := range n {
			s := &slot{done: make(chan struct{})}
			select {
			case slots <- s:
			case <-quit:
				return
			}
			work <- func() {
				s.src, s.err = load(i)
				close(s.done)
			}
		}
	}()
	defer wg.Wait()
	var err error
	i := 0
	for s := range slots {
		<-s.done
		if err == nil {
			if err = s.err; err == nil {
				err = fn(i, s.src)
			}
			if err != nil {
				close(quit)
			}
		}
		s.src = nil
		i++
	}
	return err
}

// removeSourceCache deletes a source's cache entry; one left behind is
// never used, as its keys no longer match.
func (p *Project) removeSourceCache(id string) {
	_ = os.Remove(p.sourceCachePath(id))
}

// SourceText returns a source's text, checked against its sidecar's hash,
// without decoding the sidecar's segments. With the sources' infos at hand
// (see SourceInfos), a TextReader is quicker still.
func (p *Project) SourceText(id string) (string, error) {
	_, text, err := p.loadSource(id, true, false)
	return text, err
}

// TextReader reads sources' texts one after another into one buffer: a
// command that goes through every text (to hash it, or to find words in
// it) allocates no more than the longest. Not for concurrent use.
type TextReader struct {
	p   *Project
	buf []byte
}

// TextReader returns a reader of the project's texts.
func (p *Project) TextReader() *TextReader { return &TextReader{p: p} }

// Read returns the text of the source info describes, checked against the
// hash in info. The text is valid until the next call to Read: copy what is
// kept (strings.Clone).
func (r *TextReader) Read(info *SourceInfo) (string, error) {
	data, err := readFileInto(r.p.Path(SourcesDir, info.ID+".txt"), r.buf)
	if err != nil {
		return "", err
	}
	r.buf = data
	text := unsafe.String(unsafe.SliceData(data), len(data))
	if HashText(text) != info.SHA {
		return "", errTextChanged(info.ID)
	}
	return text, nil
}
