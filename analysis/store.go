package analysis

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/thematic-qda/thematic/internal/errs"
	"github.com/thematic-qda/thematic/internal/fsx"
)

// Store is the codings/ folder of a project: one file per coder,
// codings/<coder>.jsonl, holding one JSON object per line.
//
// Files are written in a canonical form so that diffs stay small and git
// merges work line by line: codings sorted by source, start, end, code and
// orphan flag; fields always in the same order (that of Coding), empty
// optional fields left out; times in RFC 3339, UTC; no HTML escaping; LF
// line ends and a final newline. Every write is atomic. Callers hold the
// project lock (internal/fsx.Lock) around Save and Update.
//
// Errors in a file are *errs.InputError naming the file as the user knows it
// within the project ("codings/alice.jsonl"), with the line and, for
// syntax errors, the column.
type Store struct {
	Dir string // the codings folder
	// Cache is the folder where Save keeps the codings cache; "" means the
	// project's .thematic/codings when Dir is a project's codings folder
	// (see CacheDir).
	Cache string
}

// ValidCoderName reports whether name can be a coder, that is a file name
// that is safe on every system: 1 to 64 lower-case ASCII letters, digits,
// '.', '_' and '-', starting with a letter or digit, not ending in '.', and
// not a name Windows reserves (con, nul, com1...). Lower case only, so that
// "Alice" and "alice" cannot become one file on a case-insensitive disk.
func ValidCoderName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("coder name %q %s; use lower-case letters, digits, '.', '_' and '-' (e.g. \"alice\" or \"coder-2\")", name, why)
	}
	if name == "" {
		return bad("is empty")
	}
	if len(name) > 64 {
		return bad("is longer than 64 characters")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case c == '.' || c == '_' || c == '-':
			if i == 0 {
				return bad("must start with a letter or digit")
			}
		case 'A' <= c && c <= 'Z':
			return bad("has upper-case letters")
		default:
			return bad(fmt.Sprintf("has the character %q", rune(c)))
		}
	}
	if strings.HasSuffix(name, ".") {
		return bad("ends with '.'")
	}
	stem, _, _ := strings.Cut(name, ".")
	switch stem {
	case "con", "prn", "aux", "nul",
		"com0", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9",
		"lpt0", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9":
		return bad("is reserved on Windows")
	}
	return nil
}

const codingsExt = ".jsonl"

func (s Store) path(coder string) string { return filepath.Join(s.Dir, coder+codingsExt) }

// display is the file's name in messages: relative to the project folder.
func (s Store) display(coder string) string {
	return filepath.Join(filepath.Base(s.Dir), coder+codingsExt)
}

// Coders lists the coders that have a file in the folder, sorted. A missing
// folder has none. Hidden files (such as the temporary files of an
// interrupted write) and files not ending in .jsonl are ignored; a .jsonl
// file whose name is not a valid coder name is an error.
func (s Store) Coders() ([]string, error) {
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var coders []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), codingsExt)
		if !ok || e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if err := ValidCoderName(name); err != nil {
			return nil, &errs.InputError{File: s.display(name), Msg: "not a coder's file: " + err.Error()}
		}
		coders = append(coders, name)
	}
	slices.Sort(coders)
	return coders, nil
}

// Load reads a coder's codings in file order (canonical order for a file
// that Save wrote). A missing file means no codings. Any line that is not a
// complete, valid coding makes Load fail with an *errs.InputError naming the
// file and line: a coding is never dropped silently. Blank lines are
// allowed; git conflict markers are reported as such.
func (s Store) Load(coder string) ([]Coding, error) {
	if err := ValidCoderName(coder); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(coder))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return readCodings(f, fi.Size(), s.display(coder), coder)
}

// Scan calls fn with the coder's codings a piece of the file at a time, in
// file order, parsing the pieces on every core: a command that goes once
// through a large file need not hold it. The codings and their strings are
// valid only during fn (copy what is kept). A file with an error gives the
// error Load gives, though fn may have seen the codings before it; an error
// from fn stops the scan and is returned. A missing file has no codings.
func (s Store) Scan(coder string, fn func(cs []Coding) error) error {
	if err := ValidCoderName(coder); err != nil {
		return err
	}
	f, err := os.Open(s.path(coder))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	var ids idChecker
	err = scanCodings(f, s.display(coder), coder, func(ch *codingsChunk) error {
		for i := range ch.cs {
			ids.add(ch.cs[i].ID, ch.lines[i])
		}
		return fn(ch.cs)
	})
	if err == nil && ids.sameHashes() {
		// Maybe an id used twice: Load says where (or that all is well).
		_, err = s.Load(coder)
	}
	return err
}

// LoadAll loads every coder's codings, keyed by coder.
func (s Store) LoadAll() (map[string][]Coding, error) {
	coders, err := s.Coders()
	if err != nil {
		return nil, err
	}
	all := make(map[string][]Coding, len(coders))
	for _, c := range coders {
		cs, err := s.Load(c)
		if err != nil {
			return nil, err
		}
		all[c] = cs
	}
	return all, nil
}

// Save replaces the coder's file with cs in canonical form. It neither
// reorders nor changes cs itself.
//
// Codings with the same source, start, end, code and orphan flag are one
// coding: the one given last in cs is kept, so a caller may replace a coding
// by appending its new version. Ids must stay unique, and a deterministic id
// (CodingID) can repeat when a re-anchored coding lands where a new coding
// of the same span was made: then the coding given later gets a new id
// derived from its old one. Every coding must belong to coder and be valid
// (non-empty id, source and code, 0 <= start < end, a quote of end-start
// code points); otherwise nothing is written.
func (s Store) Save(coder string, cs []Coding) error {
	if err := ValidCoderName(coder); err != nil {
		return err
	}
	file := s.display(coder)
	for i := range cs {
		if err := checkSaved(file, coder, &cs[i]); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	keep := canonicalOrder(cs)
	ids := uniqueIDs(cs, keep)
	err := fsx.WriteWith(s.path(coder), 0o644, func(w io.Writer) error {
		return writeOrdered(w, cs, keep, ids)
	})
	if err != nil {
		return err
	}
	// The codings are at hand: write the cache that listings read now
	// rather than rebuild it from the file later.
	s.writeCache(coder, cs, keep, ids)
	return nil
}

// SaveSorted is Save for codings too many to hold at once: each calls
// yield with the codings a batch at a time (one source's, say), and the
// file is written as the batches come, so that only one batch need be in
// memory. Every coding of a batch must sort after every coding of the
// batches before it (canonical order sorts by source first, so batches of
// whole sources in order of source id do); within a batch, any order.
// The file is what Save would write of all the batches together, with one
// difference that the ids CodingID gives never meet: where two codings have
// the same id, Save gives a new id to the one given later, SaveSorted to
// the one written later (and, once in some 10^12 files of a million
// codings, to a coding whose id merely shares a 64-bit hash with an earlier
// one). If each, yield or a coding fails, nothing is written. yield must
// not be called after each returns.
func (s Store) SaveSorted(coder string, each func(yield func(batch []Coding) error) error) error {
	if err := ValidCoderName(coder); err != nil {
		return err
	}
	file := s.display(coder)
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	// The cache that listings read is written beside the file, from the
	// same batches; it is kept only if the file is.
	cache := newStreamCache(s, coder)
	defer cache.abort()
	err := fsx.WriteWith(s.path(coder), 0o644, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		var last Coding
		written := int64(0)
		seed := maphash.MakeSeed()
		taken := map[uint64]struct{}{} // hashes of the ids written
		var ids []string
		err := each(func(batch []Coding) error {
			for i := range batch {
				if err := checkSaved(file, coder, &batch[i]); err != nil {
					return err
				}
			}
			keep := canonicalOrder(batch)
			if len(keep) == 0 {
				return nil
			}
			if written > 0 && compareCodings(&last, &batch[keep[0]]) >= 0 {
				return fmt.Errorf("saving %s: coding %q (%s %d-%d) comes after codings it sorts before (a bug: batches out of order)",
					file, batch[keep[0]].ID, batch[keep[0]].Source, batch[keep[0]].Start, batch[keep[0]].End)
			}
			ids = ids[:0]
			for _, i := range keep {
				id := batch[i].ID
				for n := 2; ; n++ {
					h := maphash.String(seed, id)
					if _, dup := taken[h]; !dup {
						taken[h] = struct{}{}
						break
					}
					sum := sha256.Sum256([]byte(batch[i].ID + "/" + strconv.Itoa(n)))
					id = idFromHash(sum[:])
				}
				ids = append(ids, id)
			}
			for k, i := range keep {
				buf := appendCoding(bw.AvailableBuffer(), &batch[i], ids[k])
				buf = append(buf, '\n')
				if _, err := bw.Write(buf); err != nil {
					return err
				}
				cache.add(&batch[i], written, ids[k])
				written++
			}
			last = batch[keep[len(keep)-1]]
			last.Quote, last.Prefix, last.Suffix, last.Memo = "", "", "", ""
			last.Source, last.Code = strings.Clone(last.Source), strings.Clone(last.Code)
			return nil
		})
		if err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return err
	}
	cache.commit()
	return nil
}

// writeCodings writes cs in canonical form: sorted, de-duplicated, with
// unique ids.
func writeCodings(w io.Writer, cs []Coding) error {
	keep := canonicalOrder(cs)
	return writeOrdered(w, cs, keep, uniqueIDs(cs, keep))
}

// writeOrdered writes cs[i] for i in keep, in that order, with the ids
// given.
func writeOrdered(w io.Writer, cs []Coding, keep []int, ids []string) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	for k, i := range keep {
		buf := appendCoding(bw.AvailableBuffer(), &cs[i], ids[k])
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Update loads the coder's codings, passes them to fn and saves what fn
// returns; if fn fails nothing is written. The caller holds the project lock
// so that no other process updates the file in between.
func (s Store) Update(coder string, fn func([]Coding) ([]Coding, error)) error {
	cs, err := s.Load(coder)
	if err != nil {
		return err
	}
	out, err := fn(cs)
	if err != nil {
		return err
	}
	return s.Save(coder, out)
}

// compareCodings orders codings canonically: by source, start, end, code,
// and live before orphaned.
func compareCodings(a, b *Coding) int {
	if c := strings.Compare(a.Source, b.Source); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Start, b.Start); c != 0 {
		return c
	}
	if c := cmp.Compare(a.End, b.End); c != 0 {
		return c
	}
	if c := strings.Compare(a.Code, b.Code); c != 0 {
		return c
	}
	switch {
	case a.Orphan == b.Orphan:
		return 0
	case b.Orphan:
		return -1
	}
	return 1
}

// canonicalOrder returns the indices of the codings to write, in canonical
// order, keeping the last given of each set of equal codings.
func canonicalOrder(cs []Coding) []int {
	idx := make([]int, len(cs))
	for i := range idx {
		idx[i] = i
	}
	byKey := func(a, b int) int {
		if c := compareCodings(&cs[a], &cs[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	}
	// Codings loaded from a canonical file and edited a little are nearly in
	// order; skip the sort when they are in order already.
	if !slices.IsSortedFunc(idx, byKey) {
		slices.SortFunc(idx, byKey)
	}
	keep := idx[:0]
	for k, i := range idx {
		if k+1 < len(idx) && compareCodings(&cs[i], &cs[idx[k+1]]) == 0 {
			continue // a later equal coding follows
		}
		keep = append(keep, i)
	}
	return keep
}

// uniqueIDs returns the id to write for each kept coding: its own, unless a
// coding given earlier in cs has it, in which case a new id is derived.
func uniqueIDs(cs []Coding, keep []int) []string {
	ids := make([]string, len(keep))
	seed := maphash.MakeSeed()
	taken := make(map[uint64]struct{}, len(keep)) // hashes of ids
	clash := false
	for k, i := range keep {
		ids[k] = cs[i].ID
		h := maphash.String(seed, ids[k])
		if _, dup := taken[h]; dup {
			clash = true // or two ids share a hash: the slow path sorts it out
		}
		taken[h] = struct{}{}
	}
	if !clash {
		return ids
	}
	// Rare: hand out ids again in the order the codings were given.
	byInput := make([]int, len(keep)) // positions in keep
	for k := range byInput {
		byInput[k] = k
	}
	slices.SortFunc(byInput, func(a, b int) int { return cmp.Compare(keep[a], keep[b]) })
	owner := make(map[string]bool, len(keep))
	var later []int
	for _, k := range byInput {
		if owner[ids[k]] {
			later = append(later, k)
		}
		owner[ids[k]] = true
	}
	for _, k := range later {
		base := ids[k]
		for n := 2; ; n++ {
			sum := sha256.Sum256([]byte(base + "/" + strconv.Itoa(n)))
			if id := idFromHash(sum[:]); !owner[id] {
				owner[id] = true
				ids[k] = id
				break
			}
		}
	}
	return ids
}

// checkSaved returns the error that keeps Save (or SaveSorted) from
// writing c to file, the coder's file, or nil.
func checkSaved(file, coder string, c *Coding) error {
	msg := checkCoding(c, utf8.RuneCountInString(c.Quote))
	if msg == "" && c.Coder != coder {
		msg = fmt.Sprintf("belongs to coder %q", c.Coder)
	}
	if y := c.Time.UTC().Year(); msg == "" && (y < 0 || y > 9999) {
		msg = "has a time outside years 0-9999"
	}
	if msg != "" {
		return fmt.Errorf("saving %s: coding %q (%s %d-%d) %s", file, c.ID, c.Source, c.Start, c.End, msg)
	}
	return nil
}

// checkCoding returns what is wrong with a coding, or "". quoteLen is the
// length of its quote in code points.
func checkCoding(c *Coding, quoteLen int) string {
	switch {
	case c.ID == "":
		return "has an empty id"
	case c.Source == "":
		return "has an empty source"
	case c.Code == "":
		return "has an empty code"
	case c.Start < 0:
		return fmt.Sprintf("has a negative start %d", c.Start)
	case c.End <= c.Start:
		return fmt.Sprintf("has start %d not before end %d: a coding covers at least one character", c.Start, c.End)
	}
	if quoteLen != c.End-c.Start {
		return fmt.Sprintf("has a quote of %d characters but start %d and end %d span %d", quoteLen, c.Start, c.End, c.End-c.Start)
	}
	return ""
}

// runeCount is utf8.RuneCountInString for valid UTF-8 (only), eight bytes
// at a time: every byte but a continuation byte (10xxxxxx) starts a code
// point.
func runeCount(s string) int {
	const highs = 0x8080808080808080
	n, j := len(s), 0
	for ; j+8 <= len(s); j += 8 {
		w := s[j : j+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		n -= bits.OnesCount64(x & ^(x << 1) & highs)
	}
	for ; j < len(s); j++ {
		if s[j]&0xc0 == 0x80 {
			n--
		}
	}
	return n
}

// ---- writing ----

// appendCoding appends c as one JSON object, with id in place of c.ID. The
// output is what encoding/json gives for Coding with HTML escaping off and
// the time in UTC (a test holds it to that); written by hand it is about 1.5
// times as fast and allocates nothing.
func appendCoding(b []byte, c *Coding, id string) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, id)
	b = append(b, `,"source":`...)
	b = appendJSONString(b, c.Source)
	b = append(b, `,"start":`...)
	b = strconv.AppendInt(b, int64(c.Start), 10)
	b = append(b, `,"end":`...)
	b = strconv.AppendInt(b, int64(c.End), 10)
	b = append(b, `,"quote":`...)
	b = appendJSONString(b, c.Quote)
	if c.Prefix != "" {
		b = append(b, `,"prefix":`...)
		b = appendJSONString(b, c.Prefix)
	}
	if c.Suffix != "" {
		b = append(b, `,"suffix":`...)
		b = appendJSONString(b, c.Suffix)
	}
	b = append(b, `,"code":`...)
	b = appendJSONString(b, c.Code)
	b = append(b, `,"coder":`...)
	b = appendJSONString(b, c.Coder)
	b = append(b, `,"origin":`...)
	b = appendJSONString(b, c.Origin)
	if c.Segment != "" {
		b = append(b, `,"segment":`...)
		b = appendJSONString(b, c.Segment)
	}
	b = append(b, `,"time":"`...)
	b = appendTime(b, c.Time.UTC())
	b = append(b, '"')
	if c.Memo != "" {
		b = append(b, `,"memo":`...)
		b = appendJSONString(b, c.Memo)
	}
	if c.Orphan {
		b = append(b, `,"orphan":true`...)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string the way encoding/json does
// without HTML escaping: control characters escaped, invalid UTF-8 as
// U+FFFD, and U+2028 and U+2029 escaped, since some line-based tools take
// them for line breaks.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && w == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += w
			continue
		}
		i += w
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendTime appends t (in UTC) in RFC 3339 with as many fractional digits
// as needed; whole seconds, the common case, are written by hand.
func appendTime(b []byte, t time.Time) []byte {
	if t.Nanosecond() != 0 {
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	b = append(b,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+mo/10), byte('0'+mo%10), '-', byte('0'+d/10), byte('0'+d%10), 'T',
		byte('0'+h/10), byte('0'+h%10), ':', byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+s/10), byte('0'+s%10), 'Z')
	return b
}

// ---- reading ----

// Field bits, in the order of Coding's fields.
const (
	fID uint16 = 1 << iota
	fSource
	fStart
	fEnd
	fQuote
	fPrefix
	fSuffix
	fCode
	fCoder
	fOrigin
	fSegment
	fTime
	fMemo
	fOrphan
)

const requiredFields = fID | fSource | fStart | fEnd | fQuote | fCode | fCoder | fOrigin | fTime

var fieldNames = []string{"id", "source", "start", "end", "quote", "prefix", "suffix",
	"code", "coder", "origin", "segment", "time", "memo", "orphan"}

func fieldBit(name string) uint16 {
	switch name {
	case "id":
		return fID
	case "source":
		return fSource
	case "start":
		return fStart
	case "end":
		return fEnd
	case "quote":
		return fQuote
	case "prefix":
		return fPrefix
	case "suffix":
		return fSuffix
	case "code":
		return fCode
	case "coder":
		return fCoder
	case "origin":
		return fOrigin
	case "segment":
		return fSegment
	case "time":
		return fTime
	case "memo":
		return fMemo
	case "orphan":
		return fOrphan
	}
	return 0
}

// knownKey recognises `"name":` for a field name written plainly, as Save
// writes it, at the start of s: a shortcut past general string parsing.
func knownKey(s string) (string, uint16) {
	if len(s) < 5 {
		return "", 0
	}
	is := func(k string) bool {
		return len(s) >= len(k)+3 && s[len(k)+1] == '"' && s[len(k)+2] == ':' && s[1:len(k)+1] == k
	}
	var k string
	switch s[1] {
	case 'i':
		k = "id"
	case 's':
		switch s[2] {
		case 'o':
			k = "source"
		case 't':
			k = "start"
		case 'u':
			k = "suffix"
		case 'e':
			k = "segment"
		}
	case 'e':
		k = "end"
	case 'q':
		k = "quote"
	case 'p':
		k = "prefix"
	case 'c':
		k = "code"
		if len(s) > 5 && s[5] == 'r' {
			k = "coder"
		}
	case 'o':
		k = "origin"
		if s[2] == 'r' {
			k = "orphan"
		}
	case 't':
		k = "time"
	case 'm':
		k = "memo"
	}
	if k == "" || !is(k) {
		return "", 0
	}
	return k, fieldBit(k)
}

// maxOffset bounds start and end when reading, far above any real text.
const maxOffset = 1 << 40

// parseCodings parses a whole codings file held in memory.
func parseCodings(data []byte, file, coder string) ([]Coding, error) {
	return readCodings(bytes.NewReader(data), int64(len(data)), file, coder)
}

// readCodings reads a codings file of about size bytes from r. The codings
// come out compact: their strings are copied out of the file into large
// shared buffers, the short strings that repeat (source, code, origin,
// segment) are stored once, and the file itself is never held whole, so
// a loaded file takes about half the memory of its text.
//
// The room for the codings and their strings is allocated at once, from the
// first piece's proportions, so that the garbage collector has nothing to do
// while the file is read; a file whose later lines are longer than its first
// ones only costs a few more allocations.
func readCodings(r io.Reader, size int64, file, coder string) ([]Coding, error) {
	var out []Coding
	var ids idChecker
	var a stringArena
	var in interner
	paused := false
	defer func() {
		if paused {
			resumeGC()
		}
	}()
	err := scanCodings(r, file, coder, func(ch *codingsChunk) error {
		if out == nil {
			est, strs := len(ch.cs), 0
			for i := range ch.cs {
				strs += ownedLen(&ch.cs[i])
			}
			if !ch.last && len(ch.data) > 0 {
				scale := float64(size) / float64(len(ch.data)) * 1.08
				est = int(float64(est)*scale) + 64
				strs = int(float64(strs)*scale) + 4096
			}
			if est > 1<<16 {
				pauseGCFor(int64(est)*int64(unsafe.Sizeof(Coding{})) + int64(strs))
				paused = true
			}
			out = make([]Coding, 0, est)
			a.buf = make([]byte, 0, strs)
			ids.grow(est)
		}
		for i := range ch.cs {
			out = append(out, ch.cs[i])
			c := &out[len(out)-1]
			var prev *Coding
			if len(out) > 1 {
				prev = &out[len(out)-2]
			}
			// Sorted files repeat the previous coding's source, code and
			// origin; other repeats are found by the interner.
			for k, f := range [...]*string{&c.Source, &c.Code, &c.Origin, &c.Segment} {
				if prev != nil {
					if p := [...]*string{&prev.Source, &prev.Code, &prev.Origin, &prev.Segment}[k]; *f == *p {
						*f = *p
						continue
					}
				}
				if v, ok := in.get(*f); ok {
					*f = v
				} else {
					*f = a.put(*f)
				}
			}
			c.ID = a.put(c.ID)
			c.Quote = a.put(c.Quote)
			c.Prefix = a.put(c.Prefix)
			c.Suffix = a.put(c.Suffix)
			c.Memo = a.put(c.Memo)
			ids.add(c.ID, ch.lines[i])
		}
		return nil
	})
	if err == nil {
		err = ids.err(file, func(j int) string { return out[j].ID })
	}
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, nil
	}
	return out[:len(out):len(out)], nil
}

// gcPause counts the loads that hold the collector off.
var gcPause struct {
	sync.Mutex
	n        int
	percent  int   // GOGC before the first pause
	limit    int64 // the memory limit before it
	setLimit int64 // the limit while paused
}

// pauseGCFor holds the garbage collector off until resumeGC, for a load
// about to fill room bytes. A large load allocates its room at once and then only
// fills it: a collection started by that allocation would run while the
// codings are written, reading every page of the still untouched room (on
// some systems a page fault costs several microseconds) and marking each
// coding as it is written, which more than doubled the time of a large
// load. Meanwhile a memory limit of what the heap holds plus twice the room
// (or the limit already set, if lower) still makes the collector run should
// anything else allocate much.
func pauseGCFor(room int64) {
	gcPause.Lock()
	defer gcPause.Unlock()
	if gcPause.n == 0 {
		gcPause.limit = debug.SetMemoryLimit(-1)
		gcPause.setLimit = gcPause.limit
		if room >= 0 {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			gcPause.setLimit = min(gcPause.limit, int64(ms.HeapAlloc)+2*room+64<<20)
			debug.SetMemoryLimit(gcPause.setLimit)
		}
		gcPause.percent = debug.SetGCPercent(-1)
	} else if gcPause.setLimit < gcPause.limit {
		// Another pause: room for it too, or no limit of ours.
		gcPause.setLimit = gcPause.limit
		if room >= 0 {
			gcPause.setLimit = min(gcPause.limit, gcPause.setLimit+2*room)
		}
		debug.SetMemoryLimit(gcPause.setLimit)
	}
	gcPause.n++
}

func resumeGC() {
	gcPause.Lock()
	defer gcPause.Unlock()
	if gcPause.n--; gcPause.n == 0 {
		debug.SetGCPercent(gcPause.percent)
		debug.SetMemoryLimit(gcPause.limit)
	}
}

// ownedLen is the length of the strings of c that readCodings copies.
func ownedLen(c *Coding) int {
	return len(c.ID) + len(c.Quote) + len(c.Prefix) + len(c.Suffix) + len(c.Memo)
}

// stringArena copies strings into large buffers that are never written
// again below their length.
type stringArena struct{ buf []byte }

func (a *stringArena) put(s string) string {
	if s == "" {
		return ""
	}
	if cap(a.buf)-len(a.buf) < len(s) {
		a.buf = make([]byte, 0, max(len(s), 4<<20))
	}
	at := len(a.buf)
	a.buf = append(a.buf, s...)
	return unsafe.String(unsafe.SliceData(a.buf[at:]), len(s))
}

// idChecker finds the first id used twice in a file read in order. It
// notes a 64-bit hash of each id and sorts the hashes at the end, which is
// several times cheaper than a map keyed by the ids (or their hashes); ids
// whose hashes are equal are compared as strings.
type idChecker struct {
	seed  maphash.Seed
	keys  []idKey
	lines []int32 // line of each coding
}

type idKey struct {
	h uint64
	i int32 // index of the coding
}

// grow makes room for about n ids.
func (c *idChecker) grow(n int) {
	if c.keys == nil {
		c.seed = maphash.MakeSeed()
		c.keys = make([]idKey, 0, n)
		c.lines = make([]int32, 0, n)
	}
}

// add records the next coding's id and line.
func (c *idChecker) add(id string, line int32) {
	c.grow(1024)
	c.keys = append(c.keys, idKey{maphash.String(c.seed, id), int32(len(c.lines))})
	c.lines = append(c.lines, line)
}

// err returns the error for the first coding (in file order) whose id an
// earlier coding has, or nil. idAt returns the id of a coding by its index.
func (c *idChecker) err(file string, idAt func(int) string) error {
	slices.SortFunc(c.keys, func(a, b idKey) int {
		return cmp.Or(cmp.Compare(a.h, b.h), cmp.Compare(a.i, b.i))
	})
	later, earlier := int32(-1), int32(-1)
	for k := 0; k+1 < len(c.keys); {
		if c.keys[k+1].h != c.keys[k].h {
			k++
			continue
		}
		end := k + 1
		for end < len(c.keys) && c.keys[end].h == c.keys[k].h {
			end++
		}
		// A run of equal hashes, in file order: the first of its codings
		// whose id one before it has.
		first := map[string]int32{}
		for _, key := range c.keys[k:end] {
			id := idAt(int(key.i))
			if j, dup := first[id]; dup {
				if later < 0 || key.i < later {
					later, earlier = key.i, j
				}
				break
			}
			first[id] = key.i
		}
		k = end
	}
	if later < 0 {
		return nil
	}
	return errs.New(file, int(c.lines[later]), 0,
		"id %q is already used on line %d; if a merge kept two versions of one coding, delete one of the lines", idAt(int(later)), c.lines[earlier])
}

// codingsChunk is a piece of a codings file, whole lines, and what was
// parsed from it.
type codingsChunk struct {
	data      []byte // the lines
	firstLine int    // 1-based line number of the first
	last      bool   // the file's last piece
	cs        []Coding
	lines     []int32 // line of each coding
	err       error
	done      chan struct{}
}

// scanChunk is the size of the pieces scanCodings reads and parses at a
// time (a variable so that tests can make files of many pieces).
var scanChunk = 1 << 20

// scanCodings reads a codings file from r a piece at a time, parses the
// pieces on every core and calls fn with each, in file order. The first
// problem in the file (in file order) is returned, as an *errs.InputError;
// ids are not checked here. fn must not keep the chunk: its slices are
// reused, and the codings' strings point into it.
func scanCodings(r io.Reader, file, coder string, fn func(*codingsChunk) error) error {
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan *codingsChunk, workers)
	order := make(chan *codingsChunk, workers+1)
	free := make(chan *codingsChunk, workers+3)
	quit := make(chan struct{})
	var readErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(order)
		defer close(jobs)
		readErr = readChunks(r, free, quit, func(ch *codingsChunk) bool {
			select {
			case order <- ch:
			case <-quit:
				return false
			}
			select {
			case jobs <- ch:
				return true
			case <-quit:
				return false
			}
		})
	})
	for range workers {
		wg.Go(func() {
			p := lineParser{file: file, coder: coder}
			for ch := range jobs {
				ch.err = parsePiece(&p, ch)
				close(ch.done)
			}
		})
	}
	var err error
	for ch := range order {
		if err != nil {
			// After a stop, drain without waiting: the reader may have
			// queued a chunk here that it never handed to a parser.
			continue
		}
		<-ch.done
		if err == nil {
			if err = ch.err; err == nil {
				err = fn(ch)
			}
			if err != nil {
				close(quit)
			}
		}
		select {
		case free <- ch:
		default:
		}
	}
	wg.Wait()
	if err == nil {
		err = readErr
	}
	return err
}

// readChunks cuts what r gives into chunks of whole lines and hands each to
// send, until the end, an error, or send returns false.
func readChunks(r io.Reader, free chan *codingsChunk, quit chan struct{}, send func(*codingsChunk) bool) error {
	var carry []byte // the start of a line, read with the previous chunk
	line, first := 1, true
	for {
		var ch *codingsChunk
		select {
		case ch = <-free:
		case <-quit:
			return nil
		default:
			ch = &codingsChunk{}
		}
		buf := ch.data[:0]
		if cap(buf) < max(scanChunk, 2*len(carry)) {
			buf = make([]byte, 0, max(scanChunk, 2*len(carry)))
		}
		buf = append(buf, carry...)
		eof := false
		for {
			n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				eof = true
			} else if err != nil {
				return err
			}
			if eof || bytes.LastIndexByte(buf, '\n') >= 0 {
				break
			}
			buf = slices.Grow(buf, cap(buf)) // a line longer than a chunk
		}
		if first {
			buf = bytes.TrimPrefix(buf, []byte("\xef\xbb\xbf")) // a BOM some editors add
			first = false
		}
		end := len(buf)
		if !eof {
			end = bytes.LastIndexByte(buf, '\n') + 1
		}
		carry = append(carry[:0], buf[end:]...)
		if end == 0 && eof {
			return nil
		}
		ch.data, ch.firstLine, ch.last = buf[:end], line, eof
		ch.err, ch.done = nil, make(chan struct{})
		line += bytes.Count(ch.data, []byte("\n"))
		if !send(ch) || eof {
			return nil
		}
	}
}

// parsePiece parses a chunk's lines into ch.cs and ch.lines.
func parsePiece(p *lineParser, ch *codingsChunk) error {
	// A chunk ends at a line end, which no multi-byte UTF-8 sequence spans,
	// so each chunk can be checked alone.
	if !utf8.Valid(ch.data) {
		return invalidUTF8(ch.data, ch.firstLine, p.file)
	}
	n := bytes.Count(ch.data, []byte("\n")) + 1
	if cap(ch.cs) < n {
		ch.cs = make([]Coding, n)
		ch.lines = make([]int32, n)
	}
	ch.cs, ch.lines = ch.cs[:n], ch.lines[:n]
	// The codings' strings point into the chunk's bytes, which are not
	// written again while they are used.
	text := unsafe.String(unsafe.SliceData(ch.data), len(ch.data))
	k, err := parseChunk(text, ch.firstLine, p, ch.cs, ch.lines)
	if err != nil {
		return err
	}
	ch.cs, ch.lines = ch.cs[:k], ch.lines[:k]
	return nil
}

// interner shares equal short strings among codings.
type interner map[string]string

// maxInterned bounds an interner: past it, strings are copied instead.
const maxInterned = 1 << 16

func (in *interner) get(s string) (string, bool) {
	if s == "" {
		return "", true
	}
	if *in == nil {
		*in = make(interner, 256)
	}
	if v, ok := (*in)[s]; ok {
		return v, true
	}
	if len(*in) >= maxInterned {
		return "", false
	}
	v := strings.Clone(s)
	(*in)[v] = v
	return v, true
}

func invalidUTF8(data []byte, firstLine int, file string) error {
	i := 0
	for i < len(data) {
		r, w := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && w == 1 {
			break
		}
		i += w
	}
	ls := bytes.LastIndexByte(data[:i], '\n') + 1
	return errs.New(file, firstLine+bytes.Count(data[:i], []byte("\n")), utf8.RuneCount(data[ls:i])+1,
		"not valid UTF-8 text; save the file as UTF-8")
}

// parseChunk parses the lines of text, the first of which is line first of
// the file, into out and their line numbers into lines, and returns how many
// codings it found. out and lines have room for every line.
func parseChunk(text string, first int, p *lineParser, out []Coding, lines []int32) (int, *errs.InputError) {
	p.line = first
	n := 0
	for len(text) > 0 {
		ln := text
		if nl := strings.IndexByte(text, '\n'); nl >= 0 {
			ln, text = text[:nl], text[nl+1:]
		} else {
			text = ""
		}
		out[n] = Coding{}
		blank, err := p.parseLine(ln, &out[n])
		if err != nil {
			return 0, err
		}
		if !blank {
			lines[n] = int32(p.line)
			n++
		}
		p.line++
	}
	return n, nil
}

type lineParser struct {
	file, coder string
	line        int
	ln          string
	arena       []byte // unescaped strings; bytes below len(arena) are never written again
}

// errAt is an error at byte i of the current line.
func (p *lineParser) errAt(i int, format string, args ...any) *errs.InputError {
	i = min(i, len(p.ln))
	return errs.New(p.file, p.line, utf8.RuneCountInString(p.ln[:i])+1, format, args...)
}

// what describes the text at byte i for a message.
func (p *lineParser) what(i int) string {
	if i >= len(p.ln) {
		return "the end of the line"
	}
	r, _ := utf8.DecodeRuneInString(p.ln[i:])
	return strconv.QuoteRune(r)
}

// plainRun returns the index of the first byte at or after j in s that ends
// a plain run inside a JSON string: a quote, a backslash or a control
// character; len(s) if there is none. It tests eight bytes at a time.
func plainRun(s string, j int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; j+8 <= len(s); j += 8 {
		w := s[j : j+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		q, b := x^(ones*'"'), x^(ones*'\\')
		// A byte of q or b is zero where x has a quote or a backslash; a byte
		// of x below 0x20 is a control character.
		if ((q-ones)&^q|(b-ones)&^b|(x-ones*0x20)&^x)&highs != 0 {
			break
		}
	}
	for j < len(s) && s[j] != '"' && s[j] != '\\' && s[j] >= 0x20 {
		j++
	}
	return j
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r') {
		i++
	}
	return i
}

// parseLine parses one line into *c. A line of only white space is blank.
func (p *lineParser) parseLine(ln string, c *Coding) (blank bool, err *errs.InputError) {
	p.ln = ln
	i := skipSpace(ln, 0)
	if i == len(ln) {
		return true, nil
	}
	if ln[i] != '{' {
		for _, m := range []string{"<<<<<<<", "=======", ">>>>>>>", "|||||||"} {
			if strings.HasPrefix(ln, m) {
				return false, p.errAt(0, "unresolved git merge conflict (%s); keep the lines you want, remove the markers", m)
			}
		}
		return false, p.errAt(i, "expected '{' to start a coding, found %s", p.what(i))
	}
	i++
	var seen uint16
	i = skipSpace(ln, i)
	if i < len(ln) && ln[i] == '}' {
		i++
	} else {
		for {
			i = skipSpace(ln, i)
			if i >= len(ln) {
				return false, p.errAt(i, "the line ends inside a coding; it may have been cut short by a crash or a bad merge")
			}
			if ln[i] != '"' {
				return false, p.errAt(i, "expected a field name in double quotes, found %s", p.what(i))
			}
			keyAt := i
			key, f := knownKey(ln[i:])
			if f != 0 {
				i += len(key) + 3 // "key":
			} else {
				k, j, err := p.str(ln, i)
				if err != nil {
					return false, err
				}
				i = skipSpace(ln, j)
				if i >= len(ln) || ln[i] != ':' {
					return false, p.errAt(i, "expected ':' after %q, found %s", k, p.what(i))
				}
				key, f = k, fieldBit(k)
				i++
			}
			i = skipSpace(ln, i)
			if f == 0 {
				return false, p.errAt(keyAt, "unknown field %q (a coding has %s)", key, strings.Join(fieldNames, ", "))
			}
			if seen&f != 0 {
				return false, p.errAt(keyAt, "field %q is given twice", key)
			}
			seen |= f
			j, err := p.value(ln, i, key, f, c)
			if err != nil {
				return false, err
			}
			i = skipSpace(ln, j)
			if i < len(ln) && ln[i] == ',' {
				i++
				continue
			}
			if i < len(ln) && ln[i] == '}' {
				i++
				break
			}
			if i >= len(ln) {
				return false, p.errAt(i, "the line ends inside a coding; it may have been cut short by a crash or a bad merge")
			}
			return false, p.errAt(i, "expected ',' or '}' after the value of %q, found %s", key, p.what(i))
		}
	}
	if i = skipSpace(ln, i); i < len(ln) {
		return false, p.errAt(i, "unexpected %s after the closing '}': one coding per line", p.what(i))
	}
	if missing := requiredFields &^ seen; missing != 0 {
		var names []string
		for k, n := range fieldNames {
			if missing&(1<<k) != 0 {
				names = append(names, strconv.Quote(n))
			}
		}
		return false, errs.New(p.file, p.line, 0, "coding is missing %s", strings.Join(names, ", "))
	}
	if c.Coder != p.coder {
		return false, errs.New(p.file, p.line, 0, "coding belongs to coder %q, not %q; move the line to %s%s",
			c.Coder, p.coder, c.Coder, codingsExt)
	}
	c.Coder = p.coder
	// The file is valid UTF-8, so the quicker count is exact.
	if msg := checkCoding(c, runeCount(c.Quote)); msg != "" {
		return false, errs.New(p.file, p.line, 0, "coding %s", msg)
	}
	return false, nil
}

// value parses the value of field f at byte i into c and returns the byte
// after it.
func (p *lineParser) value(ln string, i int, key string, f uint16, c *Coding) (int, *errs.InputError) {
	if strings.HasPrefix(ln[i:], "null") {
		return 0, p.errAt(i, "%q is null; give a value or leave the field out", key)
	}
	switch f {
	case fStart, fEnd:
		n, j, err := p.offset(ln, i, key)
		if f == fStart {
			c.Start = n
		} else {
			c.End = n
		}
		return j, err
	case fOrphan:
		switch {
		case strings.HasPrefix(ln[i:], "true"):
			c.Orphan = true
			return i + 4, nil
		case strings.HasPrefix(ln[i:], "false"):
			return i + 5, nil
		}
		return 0, p.errAt(i, "%q must be true or false", key)
	}
	if i >= len(ln) || ln[i] != '"' {
		return 0, p.errAt(i, "%q must be a string in double quotes, found %s", key, p.what(i))
	}
	s, j, err := p.str(ln, i)
	if err != nil {
		return 0, err
	}
	switch f {
	case fID:
		c.ID = s
	case fSource:
		c.Source = s
	case fQuote:
		c.Quote = s
	case fPrefix:
		c.Prefix = s
	case fSuffix:
		c.Suffix = s
	case fCode:
		c.Code = s
	case fCoder:
		c.Coder = s
	case fOrigin:
		c.Origin = s
	case fSegment:
		c.Segment = s
	case fMemo:
		c.Memo = s
	case fTime:
		t, ok := parseTime(s)
		if !ok {
			return 0, p.errAt(i, "time %q is not an RFC 3339 time such as 2026-03-01T14:05:00Z", s)
		}
		c.Time = t
	}
	return j, nil
}

// offset parses a start or end: a whole number, not negative.
func (p *lineParser) offset(ln string, i int, key string) (int, int, *errs.InputError) {
	j := i
	if j < len(ln) && ln[j] == '-' {
		return 0, 0, p.errAt(i, "%q must not be negative", key)
	}
	if j >= len(ln) || ln[j] < '0' || ln[j] > '9' {
		return 0, 0, p.errAt(i, "%q must be a whole number, found %s", key, p.what(i))
	}
	if ln[j] == '0' && j+1 < len(ln) && '0' <= ln[j+1] && ln[j+1] <= '9' {
		return 0, 0, p.errAt(i, "%q has a leading zero", key)
	}
	n := 0
	for ; j < len(ln) && '0' <= ln[j] && ln[j] <= '9'; j++ {
		n = n*10 + int(ln[j]-'0')
		if n > maxOffset {
			return 0, 0, p.errAt(i, "%q is too large", key)
		}
	}
	if j < len(ln) && (ln[j] == '.' || ln[j] == 'e' || ln[j] == 'E') {
		return 0, 0, p.errAt(i, "%q must be a whole number", key)
	}
	return n, j, nil
}

// str parses the JSON string starting at the quote at byte i and returns it
// and the byte after its closing quote. A string without escapes is a slice
// of the line, not a copy; one with escapes is unescaped into the arena.
func (p *lineParser) str(ln string, i int) (string, int, *errs.InputError) {
	j := plainRun(ln, i+1)
	if j < len(ln) && ln[j] == '"' {
		return ln[i+1 : j], j + 1, nil
	}
	// Unescaping never lengthens a string, so the rest of the line is room
	// enough and buf is never moved by append.
	if cap(p.arena)-len(p.arena) < len(ln)-i {
		p.arena = make([]byte, 0, max(64<<10, len(ln)-i))
	}
	base := len(p.arena)
	buf := append(p.arena, ln[i+1:j]...)
	for {
		if j >= len(ln) {
			return "", 0, p.errAt(i, "string is not closed; the line may have been cut short by a crash or a bad merge")
		}
		c := ln[j]
		switch {
		case c == '"':
			p.arena = buf
			return unsafe.String(unsafe.SliceData(buf[base:]), len(buf)-base), j + 1, nil
		case c < 0x20:
			return "", 0, p.errAt(j, "control character %q inside a string; write it as an escape such as \\n or \\t", rune(c))
		case c != '\\':
			k := plainRun(ln, j+1)
			buf = append(buf, ln[j:k]...)
			j = k
			continue
		}
		if j+1 >= len(ln) {
			return "", 0, p.errAt(j, "string is not closed; the line may have been cut short by a crash or a bad merge")
		}
		switch e := ln[j+1]; e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(ln, j+2)
			if !ok {
				return "", 0, p.errAt(j, "\\u must be followed by four hex digits")
			}
			j += 6
			if utf16IsHigh(r) {
				if r2, ok := hex4(ln, j+2); ok && j+1 < len(ln) && ln[j] == '\\' && ln[j+1] == 'u' && utf16IsLow(r2) {
					r = 0x10000 + (r-0xd800)<<10 + (r2 - 0xdc00)
					j += 6
				} else {
					r = utf8.RuneError
				}
			} else if utf16IsLow(r) {
				r = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, r)
			continue
		default:
			return "", 0, p.errAt(j, "unknown escape \\%c in a string", rune(e))
		}
		j += 2
	}
}

func utf16IsHigh(r rune) bool { return 0xd800 <= r && r < 0xdc00 }
func utf16IsLow(r rune) bool  { return 0xdc00 <= r && r < 0xe000 }

// hex4 reads four hex digits at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// parseTime reads a time in the RFC 3339 form
// YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM) and returns it in UTC. It
// is written out rather than left to time.Parse because it is on the path of
// every coding loaded, and so that it accepts no more than encoding/json does.
func parseTime(s string) (time.Time, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(a, b int) int {
		n := 0
		for _, c := range []byte(s[a:b]) {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, mo, d, h, mi, sec := num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > daysIn(mo, y) || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	i, ns := 19, 0
	if s[i] == '.' {
		j := i + 1
		for j < len(s) && j-i <= 9 && '0' <= s[j] && s[j] <= '9' {
			ns = ns*10 + int(s[j]-'0')
			j++
		}
		if j == i+1 || (j < len(s) && '0' <= s[j] && s[j] <= '9') {
			return time.Time{}, false
		}
		for k := j - i - 1; k < 9; k++ {
			ns *= 10
		}
		i = j
	}
	off := 0
	switch rest := s[i:]; {
	case rest == "Z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, om := num(i+1, i+3), num(i+4, i+6)
		if oh < 0 || oh > 23 || om < 0 || om > 59 {
			return time.Time{}, false
		}
		off = (oh*60 + om) * 60
		if rest[0] == '-' {
			off = -off
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ns, time.UTC).Add(-time.Duration(off) * time.Second)
	if y := t.Year(); y < 0 || y > 9999 {
		return time.Time{}, false // an offset took it out of what RFC 3339 can write in UTC
	}
	return t, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
