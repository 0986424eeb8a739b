package corpus

import (
	"encoding/json"
	"sort"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Sidecars (sources/ID.json) hold every segment of a source, so they are
// read by nearly every command and are several times larger than the text.
// encoding/json spent ~3 ms per 300 KB sidecar on reflection; the codec here
// reads and writes exactly the same JSON several times faster:
//
//   - encodeSidecar produces the bytes json.MarshalIndent(src, "", "  ")
//     does (HTML-escaped strings, omitempty fields, RFC 3339 times), and
//     falls back to it for anything it does not handle;
//   - decodeSidecar accepts the canonical form and anything close to it
//     (any white space, key order, escapes), and reports false for what it
//     does not handle (null, unknown or differently-cased keys, numbers with
//     fractions, invalid UTF-8...), for which the caller uses json.Unmarshal.
//
// Both are checked against encoding/json by tests and fuzzing.

// encodeSidecar returns the indented JSON of src, byte for byte what
// json.MarshalIndent(src, "", "  ") gives.
func encodeSidecar(src *Source) ([]byte, error) {
	return appendSidecar(make([]byte, 0, 512+len(src.Segments)*sidecarSegmentSize), src)
}

// sidecarSegmentSize is about what a segment takes in a sidecar: the size of
// the buffer to reserve for one.
const sidecarSegmentSize = 260

// appendSidecar appends the indented JSON of src to b, as encodeSidecar
// returns it; reusing b from one source to the next spares the allocation.
func appendSidecar(b []byte, src *Source) ([]byte, error) {
	if y := src.Ingested.Year(); y < 0 || y > 9999 {
		return json.MarshalIndent(src, "", "  ") // its error
	}
	e := sidecarEncoder{b: b}
	e.open('{')
	e.strField("id", src.ID)
	if src.Title != "" {
		e.strField("title", src.Title)
	}
	e.strField("kind", src.Kind)
	if src.Case != "" {
		e.strField("case", src.Case)
	}
	e.intField("number", src.Number)
	if len(src.Attrs) > 0 {
		e.key("attributes")
		e.open('{')
		for _, k := range sidecarKeys(src.Attrs) {
			e.strField(k, src.Attrs[k])
		}
		e.close('}')
	}
	e.strField("format", src.Format)
	e.strField("original_path", src.OrigPath)
	e.strField("raw_sha256", src.RawSHA)
	e.strField("sha256", src.SHA)
	if len(src.PrevSHA) > 0 {
		e.key("previous_sha256")
		e.open('[')
		for _, s := range src.PrevSHA {
			e.item()
			e.b = appendJSONString(e.b, s)
		}
		e.close(']')
	}
	if len(src.Speakers) > 0 {
		e.key("speakers")
		e.open('[')
		for _, sp := range src.Speakers {
			e.item()
			e.open('{')
			e.strField("name", sp.Name)
			e.strField("role", sp.Role)
			e.intField("turns", sp.Turns)
			e.close('}')
		}
		e.close(']')
	}
	e.key("ingested")
	e.b = append(e.b, '"')
	e.b = src.Ingested.AppendFormat(e.b, time.RFC3339Nano)
	e.b = append(e.b, '"')
	e.intField("words", src.Words)
	e.key("segments")
	switch {
	case src.Segments == nil:
		e.b = append(e.b, "null"...)
	case len(src.Segments) == 0:
		e.b = append(e.b, "[]"...)
	default:
		// The segments are most of a sidecar: they are written with their
		// keys and indentation spelled out (at depth 1 in the object, 2
		// in the array, 3 in a segment) rather than by the general
		// encoder, and the strings segments share are quoted once.
		var q segmentQuoter
		e.b = append(e.b, '[')
		for i := range src.Segments {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.b = q.appendSegment(e.b, &src.Segments[i])
		}
		e.b = append(e.b, "\n  ]"...)
		e.first = false
	}
	e.close('}')
	return e.b, nil
}

// segmentQuoter writes segments as the general encoder would at their
// depth, remembering the last quoted speaker, role, time and date, which
// neighbouring segments nearly always share.
type segmentQuoter struct {
	last   [4]string
	quoted [4][]byte
}

// str appends the quoted value of field k (0 speaker, 1 role, 2 time,
// 3 date).
func (q *segmentQuoter) str(b []byte, k int, v string) []byte {
	if q.quoted[k] == nil || q.last[k] != v {
		q.last[k] = v
		q.quoted[k] = appendJSONString(q.quoted[k][:0], v)
	}
	return append(b, q.quoted[k]...)
}

func (q *segmentQuoter) appendSegment(b []byte, g *Segment) []byte {
	b = append(b, "\n    {\n      \"id\": "...)
	b = appendJSONString(b, g.ID)
	b = append(b, ",\n      \"unit\": "...)
	switch g.Unit {
	case UnitTurn, UnitParagraph, UnitSentence: // plain ASCII
		b = append(b, '"')
		b = append(b, g.Unit...)
		b = append(b, '"')
	default:
		b = appendJSONString(b, g.Unit)
	}
	if g.Parent != "" {
		b = append(b, ",\n      \"parent\": "...)
		b = appendJSONString(b, g.Parent)
	}
	b = append(b, ",\n      \"start\": "...)
	b = strconv.AppendInt(b, int64(g.Start), 10)
	b = append(b, ",\n      \"end\": "...)
	b = strconv.AppendInt(b, int64(g.End), 10)
	b = append(b, ",\n      \"line\": "...)
	b = strconv.AppendInt(b, int64(g.Line), 10)
	b = append(b, ",\n      \"end_line\": "...)
	b = strconv.AppendInt(b, int64(g.EndLine), 10)
	if g.Speaker != "" {
		b = append(b, ",\n      \"speaker\": "...)
		b = q.str(b, 0, g.Speaker)
	}
	if g.Role != "" {
		b = append(b, ",\n      \"role\": "...)
		b = q.str(b, 1, g.Role)
	}
	if g.Time != "" {
		b = append(b, ",\n      \"time\": "...)
		b = q.str(b, 2, g.Time)
	}
	if g.Date != "" {
		b = append(b, ",\n      \"date\": "...)
		b = q.str(b, 3, g.Date)
	}
	return append(b, "\n    }"...)
}

// sidecarEncoder writes indented JSON: depth is the nesting level; first
// tells whether the current object or array has no member yet.
type sidecarEncoder struct {
	b     []byte
	depth int
	first bool
}

func (e *sidecarEncoder) newline() {
	e.b = append(e.b, '\n')
	for i := 0; i < e.depth; i++ {
		e.b = append(e.b, ' ', ' ')
	}
}

func (e *sidecarEncoder) open(c byte) {
	e.b = append(e.b, c)
	e.depth++
	e.first = true
}

// close ends an object or array; an empty one stays "{}" or "[]".
func (e *sidecarEncoder) close(c byte) {
	e.depth--
	if !e.first {
		e.newline()
	}
	e.b = append(e.b, c)
	e.first = false
}

// item starts a member of an array or object.
func (e *sidecarEncoder) item() {
	if !e.first {
		e.b = append(e.b, ',')
	}
	e.first = false
	e.newline()
}

func (e *sidecarEncoder) key(k string) {
	e.item()
	e.b = appendJSONString(e.b, k)
	e.b = append(e.b, ':', ' ')
}

func (e *sidecarEncoder) strField(k, v string) {
	e.key(k)
	e.b = appendJSONString(e.b, v)
}

func (e *sidecarEncoder) intField(k string, v int) {
	e.key(k)
	e.b = strconv.AppendInt(e.b, int64(v), 10)
}

// sidecarKeys returns a map's keys in byte order, as encoding/json writes them.
func sidecarKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

const lowerHex = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does with HTML escaping: <, >
// and & as \u003c..., control characters escaped, invalid UTF-8 as \ufffd,
// U+2028 and U+2029 escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', lowerHex[c>>4], lowerHex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', lowerHex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// decodeSidecar fills src from data and reports whether it could; on false,
// src is in an unspecified state and the caller decodes data with
// encoding/json instead. On true, src holds exactly what json.Unmarshal
// into a zero Source would have given.
func decodeSidecar(data []byte, src *Source) bool {
	d := sidecarDecoder{data: data, intern: map[string]string{}}
	ok := d.source(src)
	if !ok {
		return false
	}
	d.space()
	return d.i == len(d.data)
}

// sidecarDecoder reads the JSON of a Source. Every method returns false on
// anything outside the subset it handles.
type sidecarDecoder struct {
	data []byte
	i    int
	// intern shares the strings repeated across segments (units, roles,
	// speakers), which saves memory on large projects.
	intern map[string]string
	buf    []byte
	// recent holds the last segment ids read: a parent is nearly always
	// one of them.
	recent  [4]string
	nrecent int
}

// segID reads a segment id and remembers it as a likely parent.
func (d *sidecarDecoder) segID() (string, bool) {
	s, ok := d.str()
	d.recent[d.nrecent%len(d.recent)] = s
	d.nrecent++
	return s, ok
}

// parentID reads a parent id, shared with the segment of that id when it
// is one of the last read.
func (d *sidecarDecoder) parentID() (string, bool) {
	b, ok := d.strBytes()
	if !ok {
		return "", false
	}
	for _, r := range d.recent {
		if r == string(b) {
			return r, true
		}
	}
	return string(b), true
}

func (d *sidecarDecoder) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// next skips white space and reports whether the next byte is c, consuming it.
func (d *sidecarDecoder) next(c byte) bool {
	d.space()
	if d.i < len(d.data) && d.data[d.i] == c {
		d.i++
		return true
	}
	return false
}

// null consumes a JSON null, if that comes next.
func (d *sidecarDecoder) null() bool {
	d.space()
	if len(d.data)-d.i >= 4 && string(d.data[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

func (d *sidecarDecoder) peek() byte {
	d.space()
	if d.i < len(d.data) {
		return d.data[d.i]
	}
	return 0
}

// object calls member for each key of an object; member must read the
// value. The key's bytes are valid until the next string is read.
func (d *sidecarDecoder) object(member func(key []byte) bool) bool {
	if !d.next('{') {
		return false
	}
	if d.next('}') {
		return true
	}
	for {
		if d.peek() != '"' {
			return false
		}
		key, ok := d.strBytes()
		if !ok || !d.next(':') {
			return false
		}
		if !member(key) {
			return false
		}
		if d.next(',') {
			continue
		}
		return d.next('}')
	}
}

// array calls elem for each element, after reading "[", and reports
// whether the array was well formed; empty is true for "[]".
func (d *sidecarDecoder) array(elem func() bool) bool {
	if !d.next('[') {
		return false
	}
	if d.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.next(',') {
			continue
		}
		return d.next(']')
	}
}

// str reads a string value.
func (d *sidecarDecoder) str() (string, bool) {
	b, ok := d.strBytes()
	if !ok {
		return "", false
	}
	return string(b), true
}

// strInterned reads a string value, sharing equal strings.
func (d *sidecarDecoder) strInterned() (string, bool) {
	b, ok := d.strBytes()
	if !ok {
		return "", false
	}
	if s, ok := d.intern[string(b)]; ok {
		return s, true
	}
	s := string(b)
	d.intern[s] = s
	return s, true
}

// strBytes reads a string value and returns its unescaped bytes, valid
// only until the next call.
func (d *sidecarDecoder) strBytes() ([]byte, bool) {
	if !d.next('"') {
		return nil, false
	}
	start := d.i
	// Fast path: no escapes, ASCII or valid UTF-8.
	ascii := true
	for d.i < len(d.data) {
		c := d.data[d.i]
		if c == '"' {
			s := d.data[start:d.i]
			d.i++
			if !ascii && !utf8.Valid(s) {
				return nil, false
			}
			return s, true
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return nil, false
		}
		d.i++
	}
	d.buf = append(d.buf[:0], d.data[start:d.i]...)
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			d.i++
			if !utf8.Valid(d.buf) {
				return nil, false
			}
			return d.buf, true
		case c < 0x20:
			return nil, false
		case c != '\\':
			d.buf = append(d.buf, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.data) {
			return nil, false
		}
		e := d.data[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			d.buf = append(d.buf, e)
		case 'b':
			d.buf = append(d.buf, '\b')
		case 'f':
			d.buf = append(d.buf, '\f')
		case 'n':
			d.buf = append(d.buf, '\n')
		case 'r':
			d.buf = append(d.buf, '\r')
		case 't':
			d.buf = append(d.buf, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return nil, false
			}
			if utf16.IsSurrogate(r) {
				// A pair makes one code point; anything else is U+FFFD,
				// as encoding/json decodes it.
				r2 := rune(-1)
				if d.i+1 < len(d.data) && d.data[d.i] == '\\' && d.data[d.i+1] == 'u' {
					save := d.i
					d.i += 2
					if x, ok := d.hex4(); ok {
						r2 = x
					} else {
						return nil, false
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						d.buf = utf8.AppendRune(d.buf, dec)
						continue
					}
					d.i = save
				}
				r = utf8.RuneError
			}
			d.buf = utf8.AppendRune(d.buf, r)
		default:
			return nil, false
		}
	}
	return nil, false
}

func (d *sidecarDecoder) hex4() (rune, bool) {
	if d.i+4 > len(d.data) {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.i : d.i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	d.i += 4
	return r, true
}

// int reads an integer: an optional minus and digits, no fraction or
// exponent, no leading zeros, within int's range.
func (d *sidecarDecoder) int() (int, bool) {
	d.space()
	start := d.i
	if d.i < len(d.data) && d.data[d.i] == '-' {
		d.i++
	}
	digits := d.i
	for d.i < len(d.data) && '0' <= d.data[d.i] && d.data[d.i] <= '9' {
		d.i++
	}
	if d.i == digits || d.i-digits > 1 && d.data[digits] == '0' {
		return 0, false
	}
	if d.i < len(d.data) {
		switch d.data[d.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	n, err := strconv.ParseInt(string(d.data[start:d.i]), 10, strconv.IntSize)
	return int(n), err == nil
}

func (d *sidecarDecoder) source(src *Source) bool {
	// encoding/json decodes a repeated array into the elements already
	// there, merging fields; such files are left to it.
	var seen [3]bool
	once := func(i int) bool {
		if seen[i] {
			return false
		}
		seen[i] = true
		return true
	}
	return d.object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "id":
			src.ID, ok = d.str()
		case "title":
			src.Title, ok = d.str()
		case "kind":
			src.Kind, ok = d.str()
		case "case":
			src.Case, ok = d.str()
		case "number":
			src.Number, ok = d.int()
		case "attributes":
			if src.Attrs == nil {
				src.Attrs = map[string]string{}
			}
			ok = d.object(func(k []byte) bool {
				ks := string(k)
				v, ok := d.str()
				src.Attrs[ks] = v
				return ok
			})
		case "format":
			src.Format, ok = d.str()
		case "original_path":
			src.OrigPath, ok = d.str()
		case "raw_sha256":
			src.RawSHA, ok = d.str()
		case "sha256":
			src.SHA, ok = d.str()
		case "previous_sha256":
			if !once(0) {
				return false
			}
			if d.null() {
				src.PrevSHA = nil
				return true
			}
			src.PrevSHA = []string{}
			ok = d.array(func() bool {
				s, ok := d.str()
				src.PrevSHA = append(src.PrevSHA, s)
				return ok
			})
		case "speakers":
			if !once(1) {
				return false
			}
			if d.null() {
				src.Speakers = nil
				return true
			}
			src.Speakers = []Speaker{}
			ok = d.array(func() bool {
				var sp Speaker
				ok := d.speaker(&sp)
				src.Speakers = append(src.Speakers, sp)
				return ok
			})
		case "ingested":
			ok = d.time(&src.Ingested)
		case "words":
			src.Words, ok = d.int()
		case "segments":
			if !once(2) {
				return false
			}
			if d.null() {
				src.Segments = nil
				return true
			}
			src.Segments = make([]Segment, 0, len(d.data)/200)
			ok = d.array(func() bool {
				src.Segments = append(src.Segments, Segment{})
				return d.segment(&src.Segments[len(src.Segments)-1])
			})
		}
		return ok
	})
}

func (d *sidecarDecoder) speaker(sp *Speaker) bool {
	return d.object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "name":
			sp.Name, ok = d.strInterned()
		case "role":
			sp.Role, ok = d.strInterned()
		case "turns":
			sp.Turns, ok = d.int()
		}
		return ok
	})
}

func (d *sidecarDecoder) segment(g *Segment) bool {
	return d.object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "id":
			g.ID, ok = d.segID()
		case "unit":
			g.Unit, ok = d.strInterned()
		case "parent":
			g.Parent, ok = d.parentID()
		case "start":
			g.Start, ok = d.int()
		case "end":
			g.End, ok = d.int()
		case "line":
			g.Line, ok = d.int()
		case "end_line":
			g.EndLine, ok = d.int()
		case "speaker":
			g.Speaker, ok = d.strInterned()
		case "role":
			g.Role, ok = d.strInterned()
		case "time":
			g.Time, ok = d.str()
		case "date":
			g.Date, ok = d.str()
		}
		return ok
	})
}

// time reads a time as time.Time's UnmarshalJSON does.
func (d *sidecarDecoder) time(t *time.Time) bool {
	if d.peek() != '"' {
		return false
	}
	start := d.i
	if _, ok := d.strBytes(); !ok {
		return false
	}
	return t.UnmarshalJSON(d.data[start:d.i]) == nil
}
