package analysis

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/thematic-qda/thematic/internal/errs"
	"github.com/thematic-qda/thematic/internal/fsx"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/store")

// sample returns hand-made codings covering every field and the characters
// that need care in JSON: quotes, backslashes, line breaks, tabs, accents,
// emoji, U+2028, and HTML-like text that must stay unescaped.
func sample() []Coding {
	t := time.Date(2026, 3, 1, 14, 5, 0, 0, time.UTC)
	return []Coding{
		{ID: "b2", Source: "int02", Start: 5, End: 11, Quote: `"yes"!`, Prefix: "She said ", Suffix: " and left.",
			Code: "agree", Coder: "alice", Origin: "rule:agree/0", Time: t, Memo: "check <b>tone</b> & context"},
		{ID: "a1", Source: "int01", Start: 10, End: 27, Quote: "we were\ntired\tall", Prefix: "By Friday ",
			Code: "fatigue", Coder: "alice", Origin: OriginManual, Segment: "t3.p1", Time: t.Add(1500 * time.Millisecond)},
		{ID: "a3", Source: "int01", Start: 10, End: 27, Quote: "we were\ntired\tall", Prefix: "By Friday ",
			Code: "burnout", Coder: "alice", Origin: OriginSheet, Time: t},
		{ID: "a2", Source: "int01", Start: 2, End: 9, Quote: "café 🙂\u2028", Suffix: `\ "x"`,
			Code: "place", Coder: "alice", Origin: "import:nvivo", Time: t, Orphan: true},
		{ID: "c1", Source: "diary-1", Start: 0, End: 3, Quote: "Zoë", Code: "people", Coder: "alice",
			Origin: OriginManual, Time: time.Date(2026, 3, 1, 15, 5, 0, 0, time.FixedZone("CET", 3600))},
	}
}

func newStore(t *testing.T) Store {
	return Store{Dir: filepath.Join(t.TempDir(), "codings")}
}

func TestSaveGoldenAndRoundTrip(t *testing.T) {
	s := newStore(t)
	in := sample()
	if err := s.Save("alice", in); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(s.Dir, "alice.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "store", "alice.jsonl")
	if *update {
		os.MkdirAll(filepath.Dir(golden), 0o755)
		os.WriteFile(golden, got, 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("saved file differs from %s:\n%s", golden, got)
	}
	if !bytes.HasSuffix(got, []byte("}\n")) || bytes.Contains(got, []byte("\r")) {
		t.Error("file must end in a newline and use LF only")
	}

	loaded, err := s.Load("alice")
	if err != nil {
		t.Fatal(err)
	}
	// Canonical order: source, start, end, code, live before orphaned.
	wantIDs := []string{"c1", "a2", "a3", "a1", "b2"}
	var ids []string
	for _, c := range loaded {
		ids = append(ids, c.ID)
	}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Errorf("order %v, want %v", ids, wantIDs)
	}
	byID := map[string]Coding{}
	for _, c := range in {
		byID[c.ID] = c
	}
	for _, c := range loaded {
		w := byID[c.ID]
		if !c.Time.Equal(w.Time) || c.Time.Location() != time.UTC {
			t.Errorf("%s: time %v, want %v in UTC", c.ID, c.Time, w.Time)
		}
		c.Time, w.Time = time.Time{}, time.Time{}
		if c != w {
			t.Errorf("round trip changed a coding:\n got %+v\nwant %+v", c, w)
		}
	}
	// Saving what was loaded gives the same bytes.
	if err := s.Save("alice", loaded); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(s.Dir, "alice.jsonl"))
	if !bytes.Equal(again, got) {
		t.Error("load + save is not stable")
	}
}

// The golden file is also what encoding/json reads: every line decodes to
// the coding that was saved.
func TestGoldenIsPlainJSON(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "store", "alice.jsonl"))
	if err != nil {
		t.Skip("golden file missing")
	}
	byID := map[string]Coding{}
	for _, c := range sample() {
		byID[c.ID] = c
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var c Coding
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		w := byID[c.ID]
		if !c.Time.Equal(w.Time) {
			t.Errorf("line %d: time %v, want %v", i+1, c.Time, w.Time)
		}
		c.Time, w.Time = time.Time{}, time.Time{}
		if c != w {
			t.Errorf("line %d: %+v, want %+v", i+1, c, w)
		}
	}
}

func TestSaveDeduplicatesLastWins(t *testing.T) {
	s := newStore(t)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mk := func(id, src string, start int, code, memo string, orphan bool) Coding {
		return Coding{ID: id, Source: src, Start: start, End: start + 2, Quote: "ab", Code: code,
			Coder: "bob", Origin: OriginManual, Time: t0, Memo: memo, Orphan: orphan}
	}
	in := []Coding{
		mk("x1", "s2", 4, "k", "first", false),
		mk("x2", "s1", 9, "k", "", false),
		mk("x1", "s2", 4, "k", "second", false), // same coding again: replaces the first
		mk("x3", "s1", 9, "k", "", true),        // an orphan at the same place is another coding
		mk("x4", "s1", 9, "j", "", false),       // another code at the same place
		mk("x5", "s1", 1, "k", "", false),
	}
	before := append([]Coding(nil), in...)
	if err := s.Save("bob", in); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, before) {
		t.Error("Save modified its argument")
	}
	got, err := s.Load("bob")
	if err != nil {
		t.Fatal(err)
	}
	var summary []string
	for _, c := range got {
		summary = append(summary, fmt.Sprintf("%s %s:%d %s %s %v", c.ID, c.Source, c.Start, c.Code, c.Memo, c.Orphan))
	}
	want := []string{
		"x5 s1:1 k  false",
		"x4 s1:9 j  false",
		"x2 s1:9 k  false",
		"x3 s1:9 k  true",
		"x1 s2:4 k second false",
	}
	if !reflect.DeepEqual(summary, want) {
		t.Errorf("saved:\n%s\nwant:\n%s", strings.Join(summary, "\n"), strings.Join(want, "\n"))
	}
}

func TestSaveKeepsIDsUnique(t *testing.T) {
	// A coding made at 10-14 was re-anchored to 20-24 and kept its id; a new
	// coding of 10-14 with the same code gets that id again.
	text := strings.Repeat("x", 10) + "word" + strings.Repeat("y", 20)
	old, _ := NewCoding("s1", text, 10, 14, "k", "alice", OriginManual, time.Time{})
	moved := old
	moved.Start, moved.End = 20, 24
	moved.Quote = "yyyy"
	fresh, _ := NewCoding("s1", text, 10, 14, "k", "alice", OriginManual, time.Time{})
	if fresh.ID != moved.ID {
		t.Fatal("bad test: ids differ")
	}
	s := newStore(t)
	if err := s.Save("alice", []Coding{moved, fresh}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load("alice") // Load fails on duplicate ids
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d codings, want 2", len(got))
	}
	for _, c := range got {
		switch c.Start {
		case 20:
			if c.ID != moved.ID {
				t.Errorf("the coding given first lost its id: %q", c.ID)
			}
		case 10:
			if c.ID == moved.ID || len(c.ID) != 12 {
				t.Errorf("the coding given later kept or got a bad id: %q", c.ID)
			}
		}
	}
}

func TestSaveRejectsInvalidCodings(t *testing.T) {
	good := sample()[0]
	tests := []struct {
		name string
		edit func(*Coding)
		want string
	}{
		{"other coder", func(c *Coding) { c.Coder = "bob" }, `belongs to coder "bob"`},
		{"empty id", func(c *Coding) { c.ID = "" }, "empty id"},
		{"empty code", func(c *Coding) { c.Code = "" }, "empty code"},
		{"empty span", func(c *Coding) { c.End = c.Start }, "not before end"},
		{"quote too short", func(c *Coding) { c.Quote = "yes" }, "quote of 3 characters"},
		{"year 10000", func(c *Coding) { c.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "outside years"},
	}
	s := newStore(t)
	if err := s.Save("alice", []Coding{good}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(s.Dir, "alice.jsonl"))
	for _, tt := range tests {
		c := good
		tt.edit(&c)
		err := s.Save("alice", []Coding{good, c})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "codings/alice.jsonl") {
			t.Errorf("%s: err = %v, want one naming the file and saying %q", tt.name, err, tt.want)
		}
	}
	after, _ := os.ReadFile(filepath.Join(s.Dir, "alice.jsonl"))
	if !bytes.Equal(before, after) {
		t.Error("a failed Save changed the file")
	}
}

func TestValidCoderName(t *testing.T) {
	for _, name := range []string{"alice", "auto", "coder-2", "r.smith", "a_b", "7"} {
		if err := ValidCoderName(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	for _, name := range []string{"", "../x", "..", ".", ".hidden", "a/b", `a\b`, "Alice", "josé", "a b",
		"x.", "-x", "con", "nul.txt", "com1", "lpt9.a", strings.Repeat("a", 65), "a\x00"} {
		if err := ValidCoderName(name); err == nil {
			t.Errorf("%q accepted", name)
		}
	}
}

func TestNamesCannotEscapeTheFolder(t *testing.T) {
	root := t.TempDir()
	s := Store{Dir: filepath.Join(root, "codings")}
	c := sample()[4]
	c.Coder = "../x"
	if err := s.Save("../x", []Coding{c}); err == nil {
		t.Error("Save(\"../x\") accepted")
	}
	if _, err := os.Stat(filepath.Join(root, "x.jsonl")); err == nil {
		t.Error("Save wrote outside the folder")
	}
	if _, err := s.Load("../../etc/passwd"); err == nil {
		t.Error("Load accepted a path")
	}
}

func TestCoders(t *testing.T) {
	s := newStore(t)
	if cs, err := s.Coders(); err != nil || cs != nil {
		t.Fatalf("missing folder: %v, %v", cs, err)
	}
	os.MkdirAll(filepath.Join(s.Dir, "sub.jsonl"), 0o755)
	for _, f := range []string{"bob.jsonl", "alice.jsonl", ".alice.jsonl.tmp-123", ".x.jsonl", "README.md", "notes.json"} {
		os.WriteFile(filepath.Join(s.Dir, f), nil, 0o644)
	}
	got, err := s.Coders()
	if err != nil || !reflect.DeepEqual(got, []string{"alice", "bob"}) {
		t.Fatalf("Coders = %v, %v; want [alice bob]", got, err)
	}
	all, err := s.LoadAll()
	if err != nil || len(all) != 2 || len(all["alice"]) != 0 {
		t.Fatalf("LoadAll = %v, %v", all, err)
	}
	os.WriteFile(filepath.Join(s.Dir, "Carol S.jsonl"), nil, 0o644)
	_, err = s.Coders()
	var ie *errs.InputError
	if !errors.As(err, &ie) || ie.File != filepath.Join("codings", "Carol S.jsonl") {
		t.Fatalf("bad file name: err = %v, want an InputError naming it", err)
	}
	if _, err := s.LoadAll(); err == nil {
		t.Error("LoadAll ignored a bad file name")
	}
}

func TestLoadMissingFileIsEmpty(t *testing.T) {
	cs, err := newStore(t).Load("nobody")
	if err != nil || len(cs) != 0 {
		t.Fatalf("Load = %v, %v", cs, err)
	}
}

// A good line and variations of it, as a person might type them.
const goodLine = `{"id":"a1","source":"int01","start":0,"end":3,"quote":"abc","code":"trust","coder":"alice","origin":"manual","time":"2026-03-01T14:05:00Z"}`

func TestLoadAcceptsHandEdits(t *testing.T) {
	content := "\ufeff" + // a BOM from a Windows editor, spaces, fields in any order, CRLF
		` { "quote" : "Zo\u00eb" , "start" : 3, "end":6,	"id":"h1", "source":"int01", "code":"c", "coder":"alice", "origin":"manual", "time":"2026-03-01T16:05:00+02:00" }` + "\r\n" +
		"\n" + // a blank line
		`{"id":"h2","source":"int01","start":7,"end":9,"quote":"\ud83d\ude42\"","code":"c","coder":"alice","origin":"manual","time":"2026-03-01T14:05:00.25Z","orphan":false,"memo":"\u2028 \/"}`
	s := newStore(t)
	os.MkdirAll(s.Dir, 0o755)
	os.WriteFile(filepath.Join(s.Dir, "alice.jsonl"), []byte(content), 0o644)
	cs, err := s.Load("alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 {
		t.Fatalf("got %d codings, want 2", len(cs))
	}
	if cs[0].Quote != "Zoë" || cs[0].Start != 3 || !cs[0].Time.Equal(time.Date(2026, 3, 1, 14, 5, 0, 0, time.UTC)) || cs[0].Time.Location() != time.UTC {
		t.Errorf("first: %+v", cs[0])
	}
	if cs[1].Quote != "🙂\"" || cs[1].Memo != "\u2028 /" || cs[1].Time.Nanosecond() != 250_000_000 || cs[1].Orphan {
		t.Errorf("second: %+v", cs[1])
	}
}

func TestLoadErrors(t *testing.T) {
	g := goodLine
	with := func(old, new string) string { return strings.Replace(g, old, new, 1) }
	tests := []struct {
		name    string
		content string
		want    string // the whole message
	}{
		{"torn last line",
			g + "\n" + with(`"a1"`, `"a2"`) + "\n" + `{"id":"a3","source":"int01","start":5,"end":9,"quo`,
			`codings/alice.jsonl:3:47: string is not closed; the line may have been cut short by a crash or a bad merge`},
		{"torn after a comma",
			g + "\n" + `{"id":"a3","source":"int01",`,
			`codings/alice.jsonl:2:29: the line ends inside a coding; it may have been cut short by a crash or a bad merge`},
		{"missing fields",
			with(`,"time":"2026-03-01T14:05:00Z"`, "") + "\n" + strings.Replace(with(`"origin":"manual",`, ""), `"a1"`, `"a2"`, 1),
			`codings/alice.jsonl:1: coding is missing "time"`},
		{"start after end", with(`"start":0,"end":3`, `"start":9,"end":3`),
			`codings/alice.jsonl:1: coding has start 9 not before end 3: a coding covers at least one character`},
		{"quote does not fit the span", with(`"end":3`, `"end":4`),
			`codings/alice.jsonl:1: coding has a quote of 3 characters but start 0 and end 4 span 4`},
		{"unknown field", with(`"code"`, `"cod"`),
			`codings/alice.jsonl:1:61: unknown field "cod" (a coding has id, source, start, end, quote, prefix, suffix, code, coder, origin, segment, time, memo, orphan)`},
		{"field twice", with(`"start":0`, `"start":0,"start":1`),
			`codings/alice.jsonl:1:39: field "start" is given twice`},
		{"another coder's coding", with(`"coder":"alice"`, `"coder":"bob"`),
			`codings/alice.jsonl:1: coding belongs to coder "bob", not "alice"; move the line to bob.jsonl`},
		{"duplicate id", g + "\n\n" + with(`"start":0,"end":3`, `"start":1,"end":4`),
			`codings/alice.jsonl:3: id "a1" is already used on line 1; if a merge kept two versions of one coding, delete one of the lines`},
		{"merge conflict", "<<<<<<< HEAD\n" + g + "\n=======\n" + g + "\n>>>>>>> theirs\n",
			`codings/alice.jsonl:1:1: unresolved git merge conflict (<<<<<<<); keep the lines you want, remove the markers`},
		{"start as a string", with(`"start":0`, `"start":"0"`),
			`codings/alice.jsonl:1:37: "start" must be a whole number, found '"'`},
		{"negative start", with(`"start":0`, `"start":-1`),
			`codings/alice.jsonl:1:37: "start" must not be negative`},
		{"fractional end", with(`"end":3`, `"end":3.0`),
			`codings/alice.jsonl:1:45: "end" must be a whole number`},
		{"null memo", with(`}`, `,"memo":null}`),
			`codings/alice.jsonl:1:147: "memo" is null; give a value or leave the field out`},
		{"bad time", with(`2026-03-01T14:05:00Z`, `2026-02-30T14:05:00Z`),
			`codings/alice.jsonl:1:117: time "2026-02-30T14:05:00Z" is not an RFC 3339 time such as 2026-03-01T14:05:00Z`},
		{"two codings on a line", g + g,
			`codings/alice.jsonl:1:140: unexpected '{' after the closing '}': one coding per line`},
		{"missing comma", with(`,"end"`, ` "end"`),
			`codings/alice.jsonl:1:39: expected ',' or '}' after the value of "start", found '"'`},
		{"raw line break in a string is a torn line", with(`"abc"`, "\"a\nbc\""),
			`codings/alice.jsonl:1:55: string is not closed; the line may have been cut short by a crash or a bad merge`},
		{"tab inside a string", with(`"abc"`, "\"a\tc\""),
			`codings/alice.jsonl:1:57: control character '\t' inside a string; write it as an escape such as \n or \t`},
		{"not JSON at all", "id,source,start\n",
			`codings/alice.jsonl:1:1: expected '{' to start a coding, found 'i'`},
		{"invalid UTF-8", g + "\n" + with(`"abc"`, "\"a\xffc\""),
			`codings/alice.jsonl:2:57: not valid UTF-8 text; save the file as UTF-8`},
		{"column counts characters, not bytes", with(`"quote":"abc"`, `"quote":"é🙂c"`) + "x",
			`codings/alice.jsonl:1:140: unexpected 'x' after the closing '}': one coding per line`},
	}
	s := newStore(t)
	os.MkdirAll(s.Dir, 0o755)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.WriteFile(filepath.Join(s.Dir, "alice.jsonl"), []byte(tt.content), 0o644)
			cs, err := s.Load("alice")
			var ie *errs.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Load = %d codings, %v; want an InputError", len(cs), err)
			}
			if got := filepath.ToSlash(err.Error()); got != tt.want {
				t.Errorf("error\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestLoadLargeFile reads a file big enough to be split and parsed on
// several cores, with blank lines in every part, and checks that codings come
// back in order and that errors name the right lines.
func TestLoadLargeFile(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var sb strings.Builder
	line := 0
	var want []string
	for sb.Len() < 3_500_000 {
		line++
		if line%7 == 0 {
			sb.WriteString("  \n")
			continue
		}
		id := fmt.Sprintf("id%06d", line)
		want = append(want, id)
		sb.WriteString(strings.Replace(goodLine, `"a1"`, `"`+id+`"`, 1) + "\n")
	}
	s := newStore(t)
	os.MkdirAll(s.Dir, 0o755)
	path := filepath.Join(s.Dir, "alice.jsonl")
	os.WriteFile(path, []byte(sb.String()), 0o644)
	cs, err := s.Load("alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != len(want) {
		t.Fatalf("%d codings, want %d", len(cs), len(want))
	}
	for i, c := range cs {
		if c.ID != want[i] {
			t.Fatalf("coding %d has id %s, want %s", i, c.ID, want[i])
		}
	}
	// The second line's coding again, at the end of the file.
	dup := strings.Replace(goodLine, `"a1"`, `"id000002"`, 1)
	os.WriteFile(path, []byte(sb.String()+dup+"\n"), 0o644)
	_, err = s.Load("alice")
	wantMsg := fmt.Sprintf(`codings/alice.jsonl:%d: id "id000002" is already used on line 2;`, line+1)
	if err == nil || !strings.HasPrefix(filepath.ToSlash(err.Error()), wantMsg) {
		t.Errorf("err = %v, want %s...", err, wantMsg)
	}
	// A broken line far into the file.
	broken := sb.String()[:len(sb.String())/3*2]
	brokenLine := strings.Count(broken, "\n") + 1
	os.WriteFile(path, []byte(broken+"{oops\n"+sb.String()[len(broken):]), 0o644)
	_, err = s.Load("alice")
	var ie *errs.InputError
	if !errors.As(err, &ie) || ie.Line != brokenLine {
		t.Errorf("err = %v, want one on line %d", err, brokenLine)
	}
}

// Load reads a file a piece at a time; the room it makes from the first
// piece's proportions must grow when later lines are longer, and the
// codings must not keep the pieces' memory (the buffers are reused).
func TestLoadManyPiecesOfGrowingLines(t *testing.T) {
	defer func(n int) { scanChunk = n }(scanChunk)
	scanChunk = 2 << 10
	var sb strings.Builder
	var want []Coding
	for i := 0; i < 3000; i++ {
		n := 3 + i/10 // quotes, and so lines, get longer
		q := strings.Repeat("é", n)
		c := Coding{ID: fmt.Sprintf("id%05d", i), Source: fmt.Sprintf("s%d", i/700), Start: i, End: i + n, Quote: q,
			Code: fmt.Sprintf("c%d", i%7), Coder: "alice", Origin: OriginManual, Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
		if i%9 == 0 {
			c.Memo = "tab\there"
		}
		want = append(want, c)
		sb.Write(appendCoding(nil, &c, c.ID))
		sb.WriteByte('\n')
	}
	s := newStore(t)
	os.MkdirAll(s.Dir, 0o755)
	os.WriteFile(filepath.Join(s.Dir, "alice.jsonl"), []byte(sb.String()), 0o644)
	got, err := s.Load("alice")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%d codings differ from the %d written", len(got), len(want))
	}
	// Equal short strings are shared, not copied per coding.
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		if a.Source == b.Source && unsafe.StringData(a.Source) != unsafe.StringData(b.Source) {
			t.Fatalf("codings %d and %d hold two copies of source %q", i-1, i, a.Source)
		}
	}
	codes := map[string]*byte{}
	for _, c := range got {
		if p, ok := codes[c.Code]; ok && p != unsafe.StringData(c.Code) {
			t.Fatalf("two copies of code %q", c.Code)
		}
		codes[c.Code] = unsafe.StringData(c.Code)
	}
}

func TestScanGivesWhatLoadGives(t *testing.T) {
	defer func(n int) { scanChunk = n }(scanChunk)
	scanChunk = 4 << 10
	s := newStore(t)
	in := spreadCodings(t, 500, "alice")
	if err := s.Save("alice", in); err != nil {
		t.Fatal(err)
	}
	want, _ := s.Load("alice")
	var got []Coding
	pieces := 0
	err := s.Scan("alice", func(cs []Coding) error {
		pieces++
		for _, c := range cs {
			c.ID, c.Source, c.Quote = strings.Clone(c.ID), strings.Clone(c.Source), strings.Clone(c.Quote)
			c.Prefix, c.Suffix, c.Code = strings.Clone(c.Prefix), strings.Clone(c.Suffix), strings.Clone(c.Code)
			c.Origin, c.Segment, c.Memo = strings.Clone(c.Origin), strings.Clone(c.Segment), strings.Clone(c.Memo)
			got = append(got, c)
		}
		return nil
	})
	if err != nil || pieces < 2 || !reflect.DeepEqual(got, want) {
		t.Fatalf("Scan: %d codings in %d pieces (%v), want %d", len(got), pieces, err, len(want))
	}
	// The errors are Load's, an id used twice included.
	path := filepath.Join(s.Dir, "alice.jsonl")
	data, _ := os.ReadFile(path)
	first, _, _ := strings.Cut(string(data), "\n")
	os.WriteFile(path, append(data, first+"\n"...), 0o644)
	_, wantErr := s.Load("alice")
	gotErr := s.Scan("alice", func([]Coding) error { return nil })
	if wantErr == nil || gotErr == nil || gotErr.Error() != wantErr.Error() {
		t.Fatalf("Scan error %v, Load error %v", gotErr, wantErr)
	}
	stop := errors.New("stop")
	if err := s.Scan("alice", func([]Coding) error { return stop }); err != stop {
		t.Fatalf("fn's error: %v", err)
	}
	if err := s.Scan("nobody", func([]Coding) error { return stop }); err != nil {
		t.Fatalf("missing file: %v", err)
	}
}

// TestConcurrentUpdates runs updates from many goroutines, each under the
// project lock as the command line takes it; none may be lost.
func TestConcurrentUpdates(t *testing.T) {
	s := newStore(t)
	lockPath := filepath.Join(filepath.Dir(s.Dir), ".thematic", "lock")
	text := strings.Repeat("abcdefghij", 100)
	x := NewTextIndex(text)
	const workers, each = 4, 6
	var wg sync.WaitGroup
	errc := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for k := range each {
				unlock, err := fsx.Lock(lockPath)
				for errors.Is(err, fsx.ErrLocked) {
					time.Sleep(200 * time.Microsecond)
					unlock, err = fsx.Lock(lockPath)
				}
				if err != nil {
					errc <- err
					return
				}
				err = s.Update("alice", func(cs []Coding) ([]Coding, error) {
					c, err := x.NewCoding("s1", w*each+k, w*each+k+5, "c", "alice", OriginManual, time.Now())
					return append(cs, c), err
				})
				unlock()
				if err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	cs, err := s.Load("alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != workers*each {
		t.Fatalf("%d codings after %d updates", len(cs), workers*each)
	}
	for i, c := range cs {
		if c.Start != i {
			t.Fatalf("coding %d starts at %d: an update was lost", i, c.Start)
		}
	}
	entries, _ := os.ReadDir(s.Dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestUpdateFailureWritesNothing(t *testing.T) {
	s := newStore(t)
	if err := s.Save("alice", sample()); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(s.Dir, "alice.jsonl"))
	boom := errors.New("boom")
	err := s.Update("alice", func(cs []Coding) ([]Coding, error) { return nil, boom })
	after, _ := os.ReadFile(filepath.Join(s.Dir, "alice.jsonl"))
	if !errors.Is(err, boom) || !bytes.Equal(before, after) {
		t.Fatalf("err = %v, file changed = %v", err, !bytes.Equal(before, after))
	}
}

// encodeJSON is the reference encoder: encoding/json without HTML escaping.
func encodeJSON(c Coding) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	c.Time = c.Time.UTC()
	if err := enc.Encode(c); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func TestAppendCodingMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"a", " ", "é", "🙂", "\"", "\\", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f",
		"<", ">", "&", "\u2028", "\u2029", "\xff", "\xe2\x80", "/", "\u00a0"}
	str := func() string {
		var sb strings.Builder
		for range rng.IntN(6) {
			sb.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return sb.String()
	}
	for range 2000 {
		c := Coding{ID: str(), Source: str(), Start: rng.IntN(1000), End: rng.IntN(100000), Quote: str(),
			Prefix: str(), Suffix: str(), Code: str(), Coder: str(), Origin: str(), Segment: str(),
			Time: time.Unix(rng.Int64N(1<<34), rng.Int64N(3)*rng.Int64N(1e9)), Memo: str(), Orphan: rng.IntN(2) == 0}
		got := appendCoding(nil, &c, c.ID)
		if want := encodeJSON(c); !bytes.Equal(got, want) {
			t.Fatalf("appendCoding:\n%s\nencoding/json:\n%s", got, want)
		}
	}
}

func TestRuneCount(t *testing.T) {
	for _, s := range []string{"", "a", "abcdefgh", "abcdefghi", "café au lait, naïve", "🙂🙂🙂🙂🙂", "é\u0301中😀x\u2028",
		strings.Repeat("ab€", 11), strings.Repeat("😀", 9) + "z"} {
		if got, want := runeCount(s), utf8.RuneCountInString(s); got != want {
			t.Errorf("runeCount(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestPlainRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	bytesOf := []byte{'a', ' ', '"', '\\', 0x00, 0x1f, 0x20, 0x7f, 0x80, 0xa2, 0xdc, 0xff, '!', ']', '#'}
	for range 5000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			if rng.IntN(4) == 0 {
				b[i] = bytesOf[rng.IntN(len(bytesOf))]
			} else {
				b[i] = 'x'
			}
		}
		s := string(b)
		from := rng.IntN(len(s) + 1)
		want := from
		for want < len(s) && s[want] != '"' && s[want] != '\\' && s[want] >= 0x20 {
			want++
		}
		if got := plainRun(s, from); got != want {
			t.Fatalf("plainRun(%q, %d) = %d, want %d", s, from, got, want)
		}
	}
}

// FuzzLoad feeds the parser arbitrary files. It must never panic; an error
// must be an InputError naming the file and a line that exists; and whatever
// it accepts must be exactly what encoding/json reads from each line, and
// must survive a save and a load unchanged.
func FuzzLoad(f *testing.F) {
	golden, _ := os.ReadFile(filepath.Join("testdata", "store", "alice.jsonl"))
	f.Add(golden)
	f.Add([]byte(goodLine + "\n"))
	f.Add([]byte(goodLine[:60]))
	f.Add([]byte("\ufeff" + goodLine + "\r\n\n"))
	f.Add([]byte(strings.Replace(goodLine, `"abc"`, `"\ud83d\ude42\u00e9"`, 1)))
	f.Add([]byte(strings.Replace(goodLine, `Z"`, `.5+01:30"`, 1)))
	f.Add([]byte("<<<<<<< HEAD\n" + goodLine + "\n=======\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "codings/alice.jsonl"
		cs, err := parseCodings(data, file, "alice")
		if err != nil {
			var ie *errs.InputError
			if !errors.As(err, &ie) || ie.File != file || ie.Line < 1 || ie.Line > bytes.Count(data, []byte("\n"))+1 {
				t.Fatalf("error %#v: want an InputError on a line of the file", err)
			}
			return
		}
		var lines []string
		for l := range strings.SplitSeq(strings.TrimPrefix(string(data), "\ufeff"), "\n") {
			if strings.Trim(l, " \t\r") != "" {
				lines = append(lines, l)
			}
		}
		if len(lines) != len(cs) {
			t.Fatalf("%d codings from %d lines", len(cs), len(lines))
		}
		for i, l := range lines {
			var want Coding
			dec := json.NewDecoder(strings.NewReader(l))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&want); err != nil {
				t.Fatalf("accepted line %q that encoding/json rejects: %v", l, err)
			}
			got := cs[i]
			if !got.Time.Equal(want.Time) {
				t.Fatalf("line %q: time %v, encoding/json %v", l, got.Time, want.Time)
			}
			got.Time, want.Time = time.Time{}, time.Time{}
			if got != want {
				t.Fatalf("line %q:\n got %+v\njson %+v", l, got, want)
			}
		}
		var buf bytes.Buffer
		if err := writeCodings(&buf, cs); err != nil {
			t.Fatal(err)
		}
		again, err := parseCodings(buf.Bytes(), file, "alice")
		if err != nil {
			t.Fatalf("saved file does not load: %v\n%s", err, buf.Bytes())
		}
		if len(again) > len(cs) {
			t.Fatalf("save added codings")
		}
		for _, c := range again {
			if msg := checkCoding(&c, utf8.RuneCountInString(c.Quote)); msg != "" {
				t.Fatalf("saved an invalid coding: %s", msg)
			}
		}
	})
}

// ---- benchmarks ----

var (
	bigOnce   sync.Once
	bigSorted []Coding // 1M codings as Load returns them
	bigBytes  []byte   // their file
)

// bigCodings makes 1M codings like real ones: 200 sources, 40 codes, quotes
// of 20 to 300 characters of text with some accents, quotes and line
// breaks, and 32 characters of context on each side.
func bigCodings(b *testing.B) ([]Coding, []byte) {
	bigOnce.Do(func() {
		rng := rand.New(rand.NewPCG(7, 8))
		words := strings.Fields(`we were tired all the time and the managers never listened to what the night staff
			said about the ward café “really” naïve "quoted" it's fine, you know? I think so. yes no maybe`)
		var sb strings.Builder
		for sb.Len() < 200_000 {
			sb.WriteString(words[rng.IntN(len(words))])
			if rng.IntN(40) == 0 {
				sb.WriteString("\n\n")
			} else {
				sb.WriteByte(' ')
			}
		}
		x := NewTextIndex(sb.String())
		t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		cs := make([]Coding, 0, 1_000_000)
		for i := range 1_000_000 {
			start := rng.IntN(x.Len() - 400)
			c, err := x.NewCoding(fmt.Sprintf("interview-%03d", rng.IntN(200)), start, start+20+rng.IntN(280),
				fmt.Sprintf("code-%02d", rng.IntN(40)), "alice", OriginManual, t0.Add(time.Duration(i)*time.Second))
			if err != nil {
				panic(err)
			}
			cs = append(cs, c)
		}
		var buf bytes.Buffer
		buf.Grow(500 << 20)
		writeCodings(&buf, cs)
		bigBytes = buf.Bytes()
		var err error
		if bigSorted, err = parseCodings(bigBytes, "f", "alice"); err != nil {
			panic(err)
		}
	})
	return bigSorted, bigBytes
}

// BenchmarkSave1M is the common write: load 1M codings, add one, save.
func BenchmarkSave1M(b *testing.B) {
	cs, data := bigCodings(b)
	s := Store{Dir: b.TempDir()}
	c, _ := NewCoding("interview-007", "some new words", 5, 8, "code-01", "alice", OriginManual, time.Now())
	cs = append(cs[:len(cs):len(cs)], c)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if err := s.Save("alice", cs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSave1MWithCache is BenchmarkSave1M in a project, where Save also
// writes the codings cache.
func BenchmarkSave1MWithCache(b *testing.B) {
	cs, data := bigCodings(b)
	dir := b.TempDir()
	s := Store{Dir: filepath.Join(dir, "codings"), Cache: filepath.Join(dir, "cache")}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Save("alice", cs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoad1M(b *testing.B) {
	cs, data := bigCodings(b)
	s := Store{Dir: b.TempDir()}
	if err := s.Save("alice", cs); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		got, err := s.Load("alice")
		if err != nil || len(got) != len(cs) {
			b.Fatal(err, len(got))
		}
	}
}

// BenchmarkCodec1M times the parts of Save and Load on the same 1M codings
// in memory, against encoding/json doing the same work.
func BenchmarkCodec1M(b *testing.B) {
	cs, data := bigCodings(b)
	b.Run("encode/hand", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		buf := make([]byte, 0, 1024)
		for b.Loop() {
			for i := range cs {
				buf = appendCoding(buf[:0], &cs[i], cs[i].ID)
			}
		}
	})
	b.Run("encode/encoding_json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		for b.Loop() {
			for i := range cs {
				buf.Reset()
				enc.Encode(&cs[i])
			}
		}
	})
	b.Run("order+ids/sorted", func(b *testing.B) {
		for b.Loop() {
			uniqueIDs(cs, canonicalOrder(cs))
		}
	})
	b.Run("order+ids/shuffled", func(b *testing.B) {
		shuffled := append([]Coding(nil), cs...)
		rand.New(rand.NewPCG(9, 9)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		for b.Loop() {
			uniqueIDs(shuffled, canonicalOrder(shuffled))
		}
	})
	b.Run("decode/hand", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := parseCodings(data, "f", "alice"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/encoding_json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			out := make([]Coding, 0, len(cs))
			for line := range bytes.SplitSeq(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
				var c Coding
				if err := json.Unmarshal(line, &c); err != nil {
					b.Fatal(err)
				}
				out = append(out, c)
			}
		}
	})
}
