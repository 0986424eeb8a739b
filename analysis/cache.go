package analysis

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc64"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
	"unsafe"

	"github.com/thematic-qda/thematic/internal/fsx"
)

// CodingsCache is a derived, binary copy of each coder's codings file, kept
// beside the search index (in the project's .thematic/ folder), for the
// commands that list: with a million codings, parsing the JSONL takes
// seconds, while the cache gives the counts at once and the codings of a few
// codes without reading the others.
//
// The jsonl files stay the truth. A coder's cache is used only while its
// key matches the file: size, modification time and a CRC-64 of samples of
// the content (the first and last 64 KiB and 4 KiB every 16 MiB; hashing
// the whole file would cost as much as the reading the cache avoids). A
// missing, stale or damaged cache is rebuilt from the file through
// Store.Load, so errors in the file are reported exactly as Load reports
// them. Writing the cache needs no lock: it is replaced atomically, and two
// processes writing it write the same content.
type CodingsCache struct {
	Store Store  // the codings folder
	Dir   string // where the cache files go, e.g. .thematic/codings
}

// CoderSummary is what the cache knows of a coder's codings at once.
type CoderSummary struct {
	Codings int
	Orphans int
	// Codes holds the number of codings of each code.
	Codes map[string]int
}

const (
	cacheMagic   = "thematic-codings-cache\x00"
	cacheVersion = 1
	cacheExt     = ".cache"
)

// cacheKey identifies a version of a codings file.
type cacheKey struct {
	Size  int64
	MTime int64 // nanoseconds
	CRC   uint64
}

var crcTable = crc64.MakeTable(crc64.ECMA)

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

func (c CodingsCache) path(coder string) string { return filepath.Join(c.Dir, coder+cacheExt) }

// cacheFile is an open, valid cache: its header, and the file to read the
// code blocks from.
type cacheFile struct {
	f      *os.File
	sum    CoderSummary
	blocks []cacheBlock // by code, in code order
	base   int64        // file offset of the first block
}

// cacheBlock is where one code's codings are in the cache file.
type cacheBlock struct {
	code        string
	n           int
	off, length int64
}

// Summary returns the number of codings, orphans and codings per code of a
// coder; a coder without a file has none.
func (c CodingsCache) Summary(coder string) (CoderSummary, error) {
	cf, err := c.open(coder)
	if err != nil || cf == nil {
		return CoderSummary{Codes: map[string]int{}}, err
	}
	cf.f.Close()
	return cf.sum, nil
}

// Load returns the coder's codings whose code keep accepts (every coding
// when keep is nil), in the order of the file, as Store.Load gives them.
func (c CodingsCache) Load(coder string, keep func(code string) bool) ([]Coding, error) {
	cs, err := c.load(coder, keep)
	if errors.Is(err, errDamaged) {
		// A cache whose header checks but whose records do not: start again.
		os.Remove(c.path(coder))
		cs, err = c.load(coder, keep)
	}
	return cs, err
}

var errDamaged = errors.New("damaged codings cache")

func (c CodingsCache) load(coder string, keep func(code string) bool) ([]Coding, error) {
	cf, err := c.open(coder)
	if err != nil || cf == nil {
		return nil, err
	}
	defer cf.f.Close()
	type part struct {
		data []byte
		n    int
	}

	var parts []part
	n := 0
	for _, b := range cf.blocks {
		if keep != nil && !keep(b.code) {
			continue
		}
		data := make([]byte, b.length)
		if _, err := cf.f.ReadAt(data, cf.base+b.off); err != nil {
			return nil, fmt.Errorf("codings cache %s: %w", c.path(coder), err)
		}
		parts = append(parts, part{data, b.n})
		n += b.n
	}
	if n == 0 {
		return nil, nil
	}
	// Records carry their index in the file: put them back in file order.
	// With every code kept the indices are 0..n-1; otherwise they are sorted.
	all := n == cf.sum.Codings
	cs := make([]Coding, n)
	var at []int
	if !all {
		at = make([]int, 0, n)
	}
	k := 0
	for _, p := range parts {
		d := cacheReader{data: p.data}
		for i := 0; i < p.n; i++ {
			idx := d.uvarint()
			if all {
				if idx >= uint64(n) || cs[idx].ID != "" {
					return nil, fmt.Errorf("%w %s", errDamaged, c.path(coder))
				}
				d.coding(&cs[idx])
				continue
			}
			d.coding(&cs[k])
			at = append(at, int(idx))
			k++
		}
		if d.bad || d.i != len(d.data) {
			return nil, fmt.Errorf("%w %s", errDamaged, c.path(coder))
		}
	}
	if !all {
		order := make([]int, n)
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return at[a] - at[b] })
		sorted := make([]Coding, n)
		for i, j := range order {
			sorted[i] = cs[j]
		}
		cs = sorted
	}
	return cs, nil
}

// open returns the coder's valid cache, building it when missing or stale,
// or nil when the coder has no file.
func (c CodingsCache) open(coder string) (*cacheFile, error) {
	if err := ValidCoderName(coder); err != nil {
		return nil, err
	}
	key, exists, err := keyOf(c.Store.path(coder))
	if err != nil || !exists {
		return nil, err
	}
	if cf := c.read(coder, key); cf != nil {
		return cf, nil
	}
	cs, err := c.Store.Load(coder)
	if err != nil {
		return nil, err
	}
	data := encodeCache(key, cs)
	// A cache that cannot be written is no error: the next run tries again.
	if err := os.MkdirAll(c.Dir, 0o755); err == nil {
		_ = fsx.WriteFile(c.path(coder), data, 0o644)
	}
	// The file may have changed while it was read; then the key written is
	// stale and the next run rebuilds.
	cf, err := parseCacheHeader(bytes.NewReader(data), int64(len(data)), key)
	if err != nil {
		return nil, fmt.Errorf("codings cache: %w", err)
	}
	cf.f, err = memFile(c.path(coder), data)
	if err != nil {
		return nil, err
	}
	return cf, nil
}

// memFile opens the cache just written, or, if it could not be written, a
// temporary copy of its bytes.
func memFile(path string, data []byte) (*os.File, error) {
	if f, err := os.Open(path); err == nil {
		if fi, err := f.Stat(); err == nil && fi.Size() == int64(len(data)) {
			return f, nil
		}
		f.Close()
	}
	f, err := os.CreateTemp("", "thematic-cache-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// read opens the cache file of coder if its key is key.
func (c CodingsCache) read(coder string, key cacheKey) *cacheFile {
	f, err := os.Open(c.path(coder))
	if err != nil {
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil
	}
	cf, err := parseCacheHeader(f, fi.Size(), key)
	if err != nil {
		f.Close()
		return nil
	}
	cf.f = f
	return cf
}

// The cache file: magic, version, key, counts, the table of code blocks,
// then the blocks. Integers are varints; a string is its length and bytes.
// A record is its index in the jsonl file, then the coding's fields.

func encodeCache(key cacheKey, cs []Coding) []byte {
	byCode := map[string][]int{}
	orphans := 0
	for i := range cs {
		byCode[cs[i].Code] = append(byCode[cs[i].Code], i)
		if cs[i].Orphan {
			orphans++
		}
	}
	codes := make([]string, 0, len(byCode))
	for code := range byCode {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	var body []byte
	type entry struct {
		code        string
		n           int
		off, length int
	}
	table := make([]entry, 0, len(codes))
	for _, code := range codes {
		off := len(body)
		for _, i := range byCode[code] {
			body = binary.AppendUvarint(body, uint64(i))
			body = appendCacheCoding(body, &cs[i])
		}
		table = append(table, entry{code, len(byCode[code]), off, len(body) - off})
	}
	var h []byte
	h = append(h, cacheMagic...)
	h = binary.AppendUvarint(h, cacheVersion)
	h = binary.AppendVarint(h, key.Size)
	h = binary.AppendVarint(h, key.MTime)
	h = binary.AppendUvarint(h, key.CRC)
	h = binary.AppendUvarint(h, uint64(len(cs)))
	h = binary.AppendUvarint(h, uint64(orphans))
	h = binary.AppendUvarint(h, uint64(len(table)))
	for _, e := range table {
		h = appendCacheString(h, e.code)
		h = binary.AppendUvarint(h, uint64(e.n))
		h = binary.AppendUvarint(h, uint64(e.off))
		h = binary.AppendUvarint(h, uint64(e.length))
	}
	// The header's length goes first, as a fixed 8 bytes after the magic.
	out := make([]byte, 0, len(h)+8+len(body))
	out = append(out, h[:len(cacheMagic)]...)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(h)-len(cacheMagic)))
	out = append(out, h[len(cacheMagic):]...)
	return append(out, body...)
}

// parseCacheHeader reads the header of a cache file of size bytes and
// checks it against key.
func parseCacheHeader(r io.ReaderAt, size int64, key cacheKey) (*cacheFile, error) {
	fixed := make([]byte, len(cacheMagic)+8)
	if _, err := r.ReadAt(fixed, 0); err != nil {
		return nil, err
	}
	if string(fixed[:len(cacheMagic)]) != cacheMagic {
		return nil, errors.New("not a codings cache")
	}
	hlen := binary.LittleEndian.Uint64(fixed[len(cacheMagic):])
	base := int64(len(fixed)) + int64(hlen)
	if hlen > 1<<30 || base > size {
		return nil, errors.New("damaged header")
	}
	hdr := make([]byte, hlen)
	if _, err := r.ReadAt(hdr, int64(len(fixed))); err != nil {
		return nil, err
	}
	d := cacheReader{data: hdr}
	if d.uvarint() != cacheVersion {
		return nil, errors.New("other version")
	}
	got := cacheKey{Size: d.varint(), MTime: d.varint(), CRC: d.uvarint()}
	if d.bad || got != key {
		return nil, errors.New("stale")
	}
	cf := &cacheFile{base: base, sum: CoderSummary{Codes: map[string]int{}}}
	cf.sum.Codings = int(d.uvarint())
	cf.sum.Orphans = int(d.uvarint())
	nb := d.uvarint()
	if nb > uint64(len(hdr)) {
		return nil, errors.New("damaged header")
	}
	total := 0
	for i := uint64(0); i < nb; i++ {
		b := cacheBlock{code: string(d.bytes()), n: int(d.uvarint()), off: int64(d.uvarint()), length: int64(d.uvarint())}
		if b.n < 0 || b.off < 0 || b.length < 0 || base+b.off+b.length > size {
			return nil, errors.New("damaged header")
		}
		cf.blocks = append(cf.blocks, b)
		cf.sum.Codes[b.code] = b.n
		total += b.n
	}
	if d.bad || total != cf.sum.Codings {
		return nil, errors.New("damaged header")
	}
	return cf, nil
}

func appendCacheString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendCacheCoding(b []byte, c *Coding) []byte {
	for _, s := range [...]string{c.ID, c.Source, c.Quote, c.Prefix, c.Suffix, c.Code, c.Coder, c.Origin, c.Segment, c.Memo} {
		b = appendCacheString(b, s)
	}
	b = binary.AppendVarint(b, int64(c.Start))
	b = binary.AppendVarint(b, int64(c.End))
	b = binary.AppendVarint(b, c.Time.Unix())
	b = binary.AppendUvarint(b, uint64(c.Time.Nanosecond()))
	o := byte(0)
	if c.Orphan {
		o = 1
	}
	return append(b, o)
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
// again (one allocation for all the codings of a block).
func (d *cacheReader) str() string {
	b := d.bytes()
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func (d *cacheReader) coding(c *Coding) {
	for _, p := range [...]*string{&c.ID, &c.Source, &c.Quote, &c.Prefix, &c.Suffix, &c.Code, &c.Coder, &c.Origin, &c.Segment, &c.Memo} {
		*p = d.str()
	}
	c.Start = int(d.varint())
	c.End = int(d.varint())
	sec := d.varint()
	nsec := d.uvarint()
	if nsec >= 1e9 {
		d.bad = true
	}
	c.Time = time.Unix(sec, int64(nsec)).UTC()
	c.Orphan = d.uvarint() == 1
}
