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
	data, err := os.ReadFile(s.path(coder))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseCodings(data, s.display(coder), coder)
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
		c := &cs[i]
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
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	return fsx.WriteWith(s.path(coder), 0o644, func(w io.Writer) error {
		return writeCodings(w, cs)
	})
}

// writeCodings writes cs in canonical form: sorted, de-duplicated, with
// unique ids.
func writeCodings(w io.Writer, cs []Coding) error {
	keep := canonicalOrder(cs)
	ids := uniqueIDs(cs, keep)
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

// parseCodings parses a whole codings file. Large files are split at line
// boundaries and parsed on all cores.
func parseCodings(data []byte, file, coder string) ([]Coding, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM some editors add
	if len(data) == 0 {
		return nil, nil
	}
	// The codings' strings point into the file's bytes, which are never
	// written to again: one allocation for all of them.
	text := unsafe.String(unsafe.SliceData(data), len(data))

	// Split at line ends into one chunk per core (for files over 1 MB).
	const minChunk = 1 << 20
	chunks := max(1, min(runtime.GOMAXPROCS(0), len(text)/minChunk))
	type part struct {
		text      string
		firstLine int // 1-based line number of the chunk's first line
		n         int // codings parsed
		valid     bool
		err       *errs.InputError
	}
	parts := make([]part, 0, chunks)
	line := 1
	for from := 0; from < len(text); {
		to := len(text)
		if len(parts) < chunks-1 {
			to = from + (len(text)-from)/(chunks-len(parts))
			if nl := strings.IndexByte(text[to:], '\n'); nl >= 0 {
				to += nl + 1
			} else {
				to = len(text)
			}
		}
		p := part{text: text[from:to], firstLine: line}
		line += strings.Count(p.text, "\n")
		parts = append(parts, p)
		from = to
	}
	// Each line holds at most one coding: allocate for all lines at once and
	// let each chunk fill its own window.
	out := make([]Coding, line)
	lines := make([]int32, line)
	var wg sync.WaitGroup
	for k := range parts {
		p := &parts[k]
		wg.Go(func() {
			// A chunk ends at a line end, which no multi-byte UTF-8
			// sequence spans, so each chunk can be checked alone.
			if p.valid = utf8.ValidString(p.text); p.valid {
				first := p.firstLine - 1
				p.n, p.err = parseChunk(p.text, p.firstLine, file, coder, out[first:], lines[first:])
			}
		})
	}
	wg.Wait()
	n := 0
	for _, p := range parts {
		if !p.valid {
			return nil, invalidUTF8(data, file)
		}
		if p.err != nil {
			return nil, p.err
		}
		// Close the gaps blank lines left.
		first := p.firstLine - 1
		if first != n {
			copy(out[n:], out[first:first+p.n])
			copy(lines[n:], lines[first:first+p.n])
		}
		n += p.n
	}
	clear(out[n:])
	out, lines = out[:n:n], lines[:n]
	if err := checkUniqueIDs(out, lines, file); err != nil {
		return nil, err
	}
	return out, nil
}

// checkUniqueIDs reports the first id used twice, naming both lines. It
// keys a map by a 64-bit hash of each id, which is several times cheaper
// than keying it by the strings, and compares the strings on a hit.
func checkUniqueIDs(cs []Coding, lines []int32, file string) error {
	seed := maphash.MakeSeed()
	seen := make(map[uint64]int32, len(cs)) // hash -> index into cs
	for i := range cs {
		h := maphash.String(seed, cs[i].ID)
		j, hit := seen[h]
		if !hit {
			seen[h] = int32(i)
			continue
		}
		if cs[j].ID != cs[i].ID {
			return checkUniqueIDsSlow(cs, lines, file) // two ids share a hash
		}
		return errs.New(file, int(lines[i]), 0,
			"id %q is already used on line %d; if a merge kept two versions of one coding, delete one of the lines", cs[i].ID, lines[j])
	}
	return nil
}

func checkUniqueIDsSlow(cs []Coding, lines []int32, file string) error {
	seen := make(map[string]int32, len(cs))
	for i := range cs {
		if first, dup := seen[cs[i].ID]; dup {
			return errs.New(file, int(lines[i]), 0,
				"id %q is already used on line %d; if a merge kept two versions of one coding, delete one of the lines", cs[i].ID, first)
		}
		seen[cs[i].ID] = lines[i]
	}
	return nil
}

func invalidUTF8(data []byte, file string) error {
	i := 0
	for i < len(data) {
		r, w := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && w == 1 {
			break
		}
		i += w
	}
	ls := bytes.LastIndexByte(data[:i], '\n') + 1
	return errs.New(file, bytes.Count(data[:i], []byte("\n"))+1, utf8.RuneCount(data[ls:i])+1,
		"not valid UTF-8 text; save the file as UTF-8")
}

// parseChunk parses the lines of text, the first of which is line first of
// the file, into out and their line numbers into lines, and returns how many
// codings it found. out and lines have room for every line.
func parseChunk(text string, first int, file, coder string, out []Coding, lines []int32) (int, *errs.InputError) {
	p := lineParser{file: file, coder: coder, line: first}
	n := 0
	for len(text) > 0 {
		ln := text
		if nl := strings.IndexByte(text, '\n'); nl >= 0 {
			ln, text = text[:nl], text[nl+1:]
		} else {
			text = ""
		}
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
