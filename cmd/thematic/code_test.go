package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// codeTestInterview is the interview p01 of the test project. Offsets in
// the tests were counted by hand (code points; '–', 'é', 'ë' and '🌱' are
// one each):
//
//	line 1  [0,35)    I: How did you start at the garden?
//	line 2  36        (blank)
//	line 3  [37,100)  Ana: I walked past the gate in May. Someone handed me a bucket!
//	line 4  [101,136) I felt welcome – the café was warm.
//	line 5  137       (blank)
//	line 6  [138,194) My neighbour Zoë came too. Zoë said the bucket was hers.
//	line 7  195       (blank)
//	line 8  [196,209) I: And later?
//	line 9  210       (blank)
//	line 10 [211,255) Ana: Later I kept my own plot 🌱 by the shed.
//
// and 256 code points with the final line break.
const codeTestInterview = "I: How did you start at the garden?\n\n" +
	"Ana: I walked past the gate in May. Someone handed me a bucket!\n" +
	"I felt welcome – the café was warm.\n\n" +
	"My neighbour Zoë came too. Zoë said the bucket was hers.\n\n" +
	"I: And later?\n\n" +
	"Ana: Later I kept my own plot 🌱 by the shed.\n"

// codeTestDiary is the diary d01, case P02.
const codeTestDiary = "2025-05-03\nThe bucket leaked again. I felt welcome anyway.\n\n2025-05-10\nI dug my plot with Zoë.\n"

// codeTestCodebook has comments that edits must keep.
const codeTestCodebook = `# Codebook for the test study.
# Keep this comment.
name: Test study
themes:
  # the first theme
  - id: belonging
    name: Finding a place
    subthemes:
      - id: arriving
        name: Arriving
        codes:
          - id: welcome
            name: Being welcomed   # a trailing comment
          - id: gate
            name: The gate

  # second theme, after a blank line
  - id: growing
    name: Growing things
    codes:
      - id: plots
        name: Own plots
`

const codeTestCases = "participant,gender,site\nP01,female,North\nP02,male,South\n"

// codeTestTime is the time given to codings made in tests.
var codeTestTime = time.Date(2026, 5, 4, 10, 30, 0, 0, time.UTC)

// codeTestProject makes a project holding p01 (interview, case P01,
// wave=1) and d01 (diary, case P02, wave=2), cases.csv and the codebook.
func codeTestProject(t testing.TB) *corpus.Project {
	t.Helper()
	dir := t.TempDir()
	p, err := corpus.Init(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	in := t.TempDir()
	files := []struct {
		name, body, kind, kase, wave string
	}{
		{"p01.txt", codeTestInterview, corpus.KindInterview, "P01", "1"},
		{"d01.txt", codeTestDiary, corpus.KindDiary, "P02", "2"},
	}
	for _, f := range files {
		path := filepath.Join(in, f.name)
		if err := os.WriteFile(path, []byte(f.body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Ingest([]string{path}, corpus.IngestOptions{Kind: f.kind, Case: f.kase, Attrs: map[string]string{"wave": f.wave}}); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{corpus.CodebookFile: codeTestCodebook, corpus.CasesFile: codeTestCases} {
		if err := os.WriteFile(p.Path(name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// codeTestIO returns streams writing to buffers.
func codeTestIO() (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}, out, errOut
}

// codeTestOpts returns options for coding in p as coder, with the
// environment empty and the time fixed.
func codeTestOpts(p *corpus.Project, coder, target, code string) *CodeOptions {
	ios, _, _ := codeTestIO()
	return &CodeOptions{
		IO:            ios,
		Project:       func() (*corpus.Project, error) { return corpus.Open(p.Root) },
		CodeSelection: CodeSelection{Target: target},
		Code:          code,
		Coder:         coder,
		Getenv:        func(string) string { return "" },
		Now:           func() time.Time { return codeTestTime },
	}
}

func codeTestCodings(t testing.TB, p *corpus.Project, coder string) []analysis.Coding {
	t.Helper()
	cs, err := analysis.Store{Dir: p.Path(corpus.CodingsDir)}.Load(coder)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestCodeSelectors(t *testing.T) {
	p := codeTestProject(t)
	tests := []struct {
		name       string
		sel        CodeSelection
		start, end int
		quote      string
		segment    string
		err        []string // parts of the error message
	}{
		{name: "segment", sel: CodeSelection{Target: "p01:t2.p1.s2"},
			start: 73, end: 100, quote: "Someone handed me a bucket!", segment: "t2.p1.s2"},
		{name: "segment with space", sel: CodeSelection{Target: " p01:t4 "},
			start: 216, end: 255, quote: "Later I kept my own plot 🌱 by the shed.", segment: "t4"},
		{name: "paragraph over two lines", sel: CodeSelection{Target: "p01:t2.p1"},
			start: 42, end: 136, quote: "I walked past the gate in May. Someone handed me a bucket!\nI felt welcome – the café was warm.", segment: "t2.p1"},
		{name: "unknown segment", sel: CodeSelection{Target: "p01:t9"}, err: []string{`no segment "t9" in p01`, "thematic show p01"}},
		{name: "unknown source", sel: CodeSelection{Target: "p99:t1"}, err: []string{`no source "p99"`}},
		{name: "not a source id", sel: CodeSelection{Target: "../p01"}, err: []string{`"../p01" is not a source id`}},
		{name: "one line", sel: CodeSelection{Target: "p01", Lines: "4"},
			start: 101, end: 136, quote: "I felt welcome – the café was warm."},
		{name: "lines trimmed of a blank line", sel: CodeSelection{Target: "p01", Lines: "2-3"},
			start: 37, end: 100, quote: "Ana: I walked past the gate in May. Someone handed me a bucket!"},
		{name: "two lines", sel: CodeSelection{Target: "p01", Lines: " 3 - 4 "},
			start: 37, end: 136, quote: "Ana: I walked past the gate in May. Someone handed me a bucket!\nI felt welcome – the café was warm."},
		{name: "last line, astral character", sel: CodeSelection{Target: "p01", Lines: "10-10"},
			start: 211, end: 255, quote: "Ana: Later I kept my own plot 🌱 by the shed."},
		{name: "blank lines", sel: CodeSelection{Target: "p01", Lines: "5"}, err: []string{"--lines 5: the lines are blank"}},
		{name: "past the end", sel: CodeSelection{Target: "p01", Lines: "9-11"}, err: []string{"p01 has 10 lines"}},
		{name: "line 0", sel: CodeSelection{Target: "p01", Lines: "0-2"}, err: []string{"numbered from 1"}},
		{name: "lines reversed", sel: CodeSelection{Target: "p01", Lines: "4-3"}, err: []string{"end comes before the start"}},
		{name: "lines not numbers", sel: CodeSelection{Target: "p01", Lines: "three"}, err: []string{`--lines "three": want A-B`}},
		{name: "unique quote", sel: CodeSelection{Target: "p01", Match: "handed me a bucket"},
			start: 81, end: 99, quote: "handed me a bucket"},
		{name: "quote with accent", sel: CodeSelection{Target: "p01", Match: "café was"},
			start: 122, end: 130, quote: "café was"},
		{name: "quote typed decomposed (NFD)", sel: CodeSelection{Target: "p01", Match: "Zoe\u0308 said"},
			start: 165, end: 173, quote: "Zoë said"},
		{name: "quote after an astral character", sel: CodeSelection{Target: "p01", Match: "own plot 🌱 by"},
			start: 232, end: 245, quote: "own plot 🌱 by"},
		{name: "quote across a line break", sel: CodeSelection{Target: "p01", Match: "bucket!\r\nI felt"},
			start: 93, end: 107, quote: "bucket!\nI felt"},
		{name: "ambiguous quote", sel: CodeSelection{Target: "p01", Match: "bucket"},
			err: []string{`"bucket" occurs 2 times in p01`, "line 3 (t2.p1.s2) --span 93-99", "line 6 (t2.p2.s2) --span 178-184", "longer quote"}},
		{name: "ambiguous accented quote", sel: CodeSelection{Target: "p01", Match: "Zoë"},
			err: []string{"occurs 2 times", "--span 151-154", "--span 165-168"}},
		{name: "missing quote", sel: CodeSelection{Target: "p01", Match: "a rake"}, err: []string{`"a rake" does not occur in p01`}},
		{name: "quote in other capitals", sel: CodeSelection{Target: "p01", Match: "HANDED me"},
			err: []string{"does not occur", "other capitals or spacing on line 3"}},
		{name: "quote with other spacing", sel: CodeSelection{Target: "p01", Match: "Zoë  came\ntoo"},
			err: []string{"does not occur", "on line 6"}},
		{name: "quote of broken UTF-8", sel: CodeSelection{Target: "p01", Match: "caf\xc3"}, err: []string{"not valid UTF-8"}},
		{name: "blank quote", sel: CodeSelection{Target: "p01", Match: "  "}, err: []string{"--match needs some words"}},
		{name: "span", sel: CodeSelection{Target: "p01", Span: "81-99"}, start: 81, end: 99, quote: "handed me a bucket"},
		{name: "span over multi-byte text", sel: CodeSelection{Target: "p01", Span: "241-245"}, start: 241, end: 245, quote: "🌱 by"},
		{name: "span to the end", sel: CodeSelection{Target: "p01", Span: "254-256"}, start: 254, end: 256, quote: ".\n"},
		{name: "span out of range", sel: CodeSelection{Target: "p01", Span: "250-257"}, err: []string{"p01 has only 256 characters"}},
		{name: "empty span", sel: CodeSelection{Target: "p01", Span: "5-5"}, err: []string{"is empty"}},
		{name: "reversed span", sel: CodeSelection{Target: "p01", Span: "9-5"}, err: []string{"end comes before the start"}},
		{name: "span of one number", sel: CodeSelection{Target: "p01", Span: "5"}, err: []string{"want START-END"}},
		{name: "negative span", sel: CodeSelection{Target: "p01", Span: "-5-9"}, err: []string{"want START-END"}},
		{name: "nothing selected", sel: CodeSelection{Target: "p01"}, err: []string{"say what to code in p01"}},
		{name: "two selectors", sel: CodeSelection{Target: "p01:t2", Lines: "3"}, err: []string{"only one of"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, got, err := codeSelect(p, tt.sel)
			if tt.err != nil {
				if err == nil {
					t.Fatalf("want an error, got %d-%d", got.start, got.end)
				}
				if _, ok := err.(*errs.InputError); !ok {
					t.Errorf("error %T is not an *errs.InputError", err)
				}
				for _, part := range tt.err {
					if !strings.Contains(err.Error(), part) {
						t.Errorf("error %q lacks %q", err, part)
					}
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.start != tt.start || got.end != tt.end || got.segment != tt.segment {
				t.Errorf("got %d-%d %q, want %d-%d %q", got.start, got.end, got.segment, tt.start, tt.end, tt.segment)
			}
			if q := string([]rune(src.Text)[got.start:got.end]); q != tt.quote {
				t.Errorf("selected %q, want %q", q, tt.quote)
			}
		})
	}
}

func TestCodeResolveCoder(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "THEMATIC_CODER" {
				return v
			}
			return ""
		}
	}
	tests := []struct {
		flag, env, config string
		want              string
		err               string
	}{
		{"alice", "bob", "carol", "alice", ""},
		{"", "bob", "carol", "bob", ""},
		{"", "", "carol", "carol", ""},
		{" ", "  ", " carol ", "carol", ""},
		{"", "", "", "", "give --coder NAME, set THEMATIC_CODER=NAME, or set coder: NAME in thematic.yaml"},
		{"auto", "", "", "", `--coder: the coder "auto" is the rule engine's`},
		{"", "auto", "", "", `$THEMATIC_CODER: the coder "auto"`},
		{"", "", "auto", "", `thematic.yaml (coder:): the coder "auto"`},
		{"Alice", "", "", "", "--coder: coder name \"Alice\" has upper-case letters"},
		{"", "bo b", "", "", "$THEMATIC_CODER: coder name \"bo b\""},
	}
	for _, tt := range tests {
		got, err := codeResolveCoder(tt.flag, env(tt.env), tt.config)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("flag %q env %q config %q: error %v, want one saying %q", tt.flag, tt.env, tt.config, err, tt.err)
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("flag %q env %q config %q: got %q, %v; want %q", tt.flag, tt.env, tt.config, got, err, tt.want)
		}
	}
}

// TestCodeCoderFromProject checks the whole order end to end: the coding
// lands in the file of the coder that wins.
func TestCodeCoderFromProject(t *testing.T) {
	p := codeTestProject(t)
	cfg := p.Path(corpus.ConfigFile)
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, bytes.Replace(data, []byte(`coder: ""`), []byte(`coder: carol`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		flag, env, target, want string
	}{
		{"", "", "p01:t1", "carol"},
		{"", "bob", "p01:t2", "bob"},
		{"dave", "bob", "p01:t3", "dave"},
	}
	for _, s := range steps {
		opts := codeTestOpts(p, s.flag, s.target, "welcome")
		opts.Getenv = func(k string) string {
			if k == "THEMATIC_CODER" {
				return s.env
			}
			return ""
		}
		if err := runCode(opts); err != nil {
			t.Fatal(err)
		}
		cs := codeTestCodings(t, p, s.want)
		if !slices.ContainsFunc(cs, func(c analysis.Coding) bool { return c.Segment == strings.TrimPrefix(s.target, "p01:") }) {
			t.Errorf("%s not coded by %s: %v", s.target, s.want, cs)
		}
	}
}

func TestCodeRecordsCoding(t *testing.T) {
	p := codeTestProject(t)
	opts := codeTestOpts(p, "alice", "p01", "welcome")
	opts.Match = "café was"
	opts.Memo = "  warmth of the place "
	out := opts.IO.Out.(*bytes.Buffer)
	if err := runCode(opts); err != nil {
		t.Fatal(err)
	}
	cs := codeTestCodings(t, p, "alice")
	if len(cs) != 1 {
		t.Fatalf("want one coding, got %v", cs)
	}
	c := cs[0]
	want := analysis.Coding{
		ID: analysis.CodingID("p01", 122, 130, "welcome", "alice"), Source: "p01", Start: 122, End: 130,
		Quote: "café was", Prefix: " a bucket!\nI felt welcome – the ", Suffix: " warm.\n\nMy neighbour Zoë came to",
		Code: "welcome", Coder: "alice", Origin: analysis.OriginManual, Time: codeTestTime, Memo: "warmth of the place",
	}
	if utf8.RuneCountInString(want.Prefix) != 32 || utf8.RuneCountInString(want.Suffix) != 32 {
		t.Fatalf("test is wrong: prefix %d, suffix %d code points", utf8.RuneCountInString(want.Prefix), utf8.RuneCountInString(want.Suffix))
	}
	if c != want {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	for _, part := range []string{"coded", "welcome", "p01 L4", "(Interview 1)", "122-130", "alice", "    café was\n", "memo: warmth of the place"} {
		if !strings.Contains(out.String(), part) {
			t.Errorf("output lacks %q:\n%s", part, out)
		}
	}
}

func TestCodeTwiceIsNoop(t *testing.T) {
	p := codeTestProject(t)
	first := codeTestOpts(p, "alice", "p01:t2.p1.s2", "welcome")
	if err := runCode(first); err != nil {
		t.Fatal(err)
	}
	path := p.Path(corpus.CodingsDir, "alice.jsonl")
	before, _ := os.ReadFile(path)
	// The same text by --span, later, with a memo: still the same coding.
	again := codeTestOpts(p, "alice", "p01", "welcome")
	again.Span = "73-100"
	again.Now = func() time.Time { return codeTestTime.Add(time.Hour) }
	again.Memo = "second thoughts"
	if err := runCode(again); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Errorf("the file changed:\n%s\n%s", before, after)
	}
	if msg := again.IO.ErrOut.(*bytes.Buffer).String(); !strings.Contains(msg, "Already coded welcome by alice") {
		t.Errorf("no message: %q", msg)
	}
	// Another code, or another coder, on the same text is a new coding.
	other := codeTestOpts(p, "alice", "p01:t2.p1.s2", "gate")
	if err := runCode(other); err != nil {
		t.Fatal(err)
	}
	if n := len(codeTestCodings(t, p, "alice")); n != 2 {
		t.Errorf("want 2 codings, got %d", n)
	}
}

func TestCodeUnknownCode(t *testing.T) {
	p := codeTestProject(t)
	err := runCode(codeTestOpts(p, "alice", "p01:t2", "welcom"))
	if err == nil || !strings.Contains(err.Error(), `no code "welcom"`) || !strings.Contains(err.Error(), "did you mean welcome") ||
		!strings.Contains(err.Error(), "--new") {
		t.Fatalf("got %v", err)
	}
	if cs := codeTestCodings(t, p, "alice"); len(cs) != 0 {
		t.Errorf("coded anyway: %v", cs)
	}
}

// codeTestComments returns the comment lines of a YAML file.
func codeTestComments(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if _, c, ok := strings.Cut(l, "#"); ok {
			out = append(out, "#"+c)
		}
	}
	return out
}

func TestCodeNew(t *testing.T) {
	tests := []struct {
		name        string
		code        string
		under       string
		codeName    string
		definition  string
		wantName    string
		wantParents []string // names from the theme down to the parent
		err         string
	}{
		{name: "uncategorised", code: "seed-swaps", wantName: "Seed swaps", wantParents: []string{"Uncategorised"}},
		{name: "under a theme", code: "compost", under: "growing", codeName: "Compost heaps", definition: "Making and using compost.",
			wantName: "Compost heaps", wantParents: []string{"Growing things"}},
		{name: "under a sub-theme", code: "first_day", under: "arriving",
			wantName: "First day", wantParents: []string{"Finding a place", "Arriving"}},
		{name: "under a code", code: "key", under: "gate", codeName: "The key",
			wantName: "The key", wantParents: []string{"Finding a place", "Arriving", "The gate"}},
		{name: "existing id", code: "welcome", err: `code "welcome" is already in the codebook (Finding a place > Arriving > Being welcomed)`},
		{name: "unknown parent", code: "x", under: "nowhere", err: "nowhere"},
		{name: "name taken under the parent", code: "gate2", under: "arriving", codeName: "the gate", err: "already"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := codeTestProject(t)
			opts := codeTestOpts(p, "alice", "p01:t2.p1.s1", tt.code)
			opts.New, opts.Under, opts.Name, opts.Definition = true, tt.under, tt.codeName, tt.definition
			err := runCode(opts)
			after, rerr := os.ReadFile(p.Path(corpus.CodebookFile))
			if rerr != nil {
				t.Fatal(rerr)
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want an error saying %q", err, tt.err)
				}
				if string(after) != codeTestCodebook {
					t.Errorf("the codebook changed:\n%s", after)
				}
				if cs := codeTestCodings(t, p, "alice"); len(cs) != 0 {
					t.Errorf("coded anyway: %v", cs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := codeTestComments(string(after)), codeTestComments(codeTestCodebook); !slices.Equal(got, want) {
				t.Errorf("comments lost: got %q, want %q\n%s", got, want, after)
			}
			// Every line of the old file is still there, in order.
			rest := string(after)
			for _, l := range strings.Split(codeTestCodebook, "\n") {
				i := strings.Index(rest, l)
				if i < 0 {
					t.Fatalf("line %q lost or moved:\n%s", l, after)
				}
				rest = rest[i+len(l):]
			}
			cb, err := codebook.Load(p.Path(corpus.CodebookFile))
			if err != nil {
				t.Fatal(err)
			}
			n := cb.Node(tt.code)
			if n == nil {
				t.Fatalf("code %q not in\n%s", tt.code, after)
			}
			var parents []string
			for _, m := range n.Path()[:len(n.Path())-1] {
				parents = append(parents, m.Name)
			}
			if n.Name != tt.wantName || n.Definition != tt.definition || !slices.Equal(parents, tt.wantParents) {
				t.Errorf("got %q %q under %q; want %q %q under %q", n.Name, n.Definition, parents, tt.wantName, tt.definition, tt.wantParents)
			}
			cs := codeTestCodings(t, p, "alice")
			if len(cs) != 1 || cs[0].Code != tt.code || cs[0].Segment != "t2.p1.s1" {
				t.Errorf("codings: %v", cs)
			}
			if msg := opts.IO.ErrOut.(*bytes.Buffer).String(); !strings.Contains(msg, "Added code "+fmt.Sprintf("%q", tt.code)) {
				t.Errorf("no message about the new code: %q", msg)
			}
		})
	}
}

// TestCodeNewTwiceUncategorised adds two codes without --under: both go
// under one "Uncategorised" theme.
func TestCodeNewTwiceUncategorised(t *testing.T) {
	p := codeTestProject(t)
	for i, code := range []string{"seed-swaps", "rain"} {
		opts := codeTestOpts(p, "alice", fmt.Sprintf("p01:t%d", i+1), code)
		opts.New = true
		if err := runCode(opts); err != nil {
			t.Fatal(err)
		}
	}
	cb, err := codebook.Load(p.Path(corpus.CodebookFile))
	if err != nil {
		t.Fatal(err)
	}
	a, b := cb.Node("seed-swaps"), cb.Node("rain")
	if a.Parent == nil || a.Parent != b.Parent || a.Parent.Name != "Uncategorised" || len(cb.Themes) != 3 {
		t.Errorf("codes not under one Uncategorised theme: %v %v, %d themes", a.Parent, b.Parent, len(cb.Themes))
	}
}

func TestCodeFlagChecks(t *testing.T) {
	p := codeTestProject(t)
	tests := []struct {
		mod func(o *CodeOptions)
		err string
	}{
		{func(o *CodeOptions) { o.Under = "growing" }, "--under needs --new"},
		{func(o *CodeOptions) { o.Name = "X" }, "--name and --definition need --new"},
		{func(o *CodeOptions) { o.Coder = "" }, "who is coding?"},
		{func(o *CodeOptions) { o.Coder = "auto" }, `"auto" is the rule engine's`},
	}
	for _, tt := range tests {
		opts := codeTestOpts(p, "alice", "p01:t2", "welcome")
		tt.mod(opts)
		if err := runCode(opts); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("got %v, want %q", err, tt.err)
		}
	}
}

func TestCodeJSON(t *testing.T) {
	p := codeTestProject(t)
	opts := codeTestOpts(p, "alice", "p01", "plots")
	opts.Lines = "10"
	opts.JSON = true
	if err := runCode(opts); err != nil {
		t.Fatal(err)
	}
	var got codeJSON
	if err := json.Unmarshal(opts.IO.Out.(*bytes.Buffer).Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Citation != "(Interview 1)" || got.Line != 10 || got.Coding.Start != 211 || got.Coding.End != 255 || got.AlreadyCoded {
		t.Errorf("got %+v", got)
	}
}

// TestCodeConcurrent codes from 8 goroutines at once, each opening the
// project and taking the lock itself as a separate process would; half
// of them add a new code to the codebook too. Nothing may be lost.
func TestCodeConcurrent(t *testing.T) {
	p := codeTestProject(t)
	segs := []string{"t1", "t2", "t2.p1", "t2.p1.s1", "t2.p1.s2", "t2.p2", "t3", "t4"}
	var wg sync.WaitGroup
	errc := make(chan error, len(segs))
	for i, seg := range segs {
		wg.Go(func() {
			code := "welcome"
			opts := codeTestOpts(p, "alice", "p01:"+seg, code)
			if i%2 == 1 {
				opts.Code, opts.New = fmt.Sprintf("new-%d", i), true
			}
			errc <- runCode(opts)
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	cs := codeTestCodings(t, p, "alice")
	var got []string
	for _, c := range cs {
		got = append(got, c.Segment)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(segs))
	if !slices.Equal(got, want) {
		t.Errorf("coded %v, want %v", got, want)
	}
	cb, err := codebook.Load(p.Path(corpus.CodebookFile))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(segs); i += 2 {
		if cb.Node(fmt.Sprintf("new-%d", i)) == nil {
			t.Errorf("new-%d lost from the codebook", i)
		}
	}
}

// TestCodeConcurrentProcesses runs 'thematic code' in 4 processes at once
// (this test binary, re-run as the command).
func TestCodeConcurrentProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	p := codeTestProject(t)
	segs := []string{"t1", "t2", "t3", "t4"}
	cmds := make([]*exec.Cmd, len(segs))
	stderrs := make([]bytes.Buffer, len(segs))
	for i, seg := range segs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCodeHelperProcess$", "--", "-C", p.Root, "code", "p01:"+seg, "welcome")
		cmd.Env = append(os.Environ(), "THEMATIC_CODE_HELPER=1", "THEMATIC_CODER=bob")
		cmd.Stderr = &stderrs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s: %v: %s", segs[i], err, stderrs[i].String())
		}
	}
	var got []string
	for _, c := range codeTestCodings(t, p, "bob") {
		got = append(got, c.Segment)
	}
	if !slices.Equal(got, segs) {
		t.Errorf("coded %v, want %v", got, segs)
	}
}

// TestCodeHelperProcess is the command run by TestCodeConcurrentProcesses.
func TestCodeHelperProcess(t *testing.T) {
	if os.Getenv("THEMATIC_CODE_HELPER") != "1" {
		t.Skip("run by TestCodeConcurrentProcesses")
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	ios, _, errOut := codeTestIO()
	status := Main(args, ios)
	os.Stderr.Write(errOut.Bytes())
	os.Exit(status)
}

func TestUncode(t *testing.T) {
	type made struct {
		coder, code string
		sel         CodeSelection
	}
	setup := []made{
		{"alice", "welcome", CodeSelection{Target: "p01:t2.p1.s2"}},                 // 73-100
		{"alice", "welcome", CodeSelection{Target: "p01", Match: "handed me"}},      // 81-90
		{"alice", "welcome", CodeSelection{Target: "p01", Match: "I felt welcome"}}, // 101-115
		{"alice", "gate", CodeSelection{Target: "p01:t2.p1.s2"}},                    // 73-100
		{"bob", "welcome", CodeSelection{Target: "p01:t2.p1.s2"}},                   // 73-100
		{"alice", "welcome", CodeSelection{Target: "d01", Match: "I felt welcome"}},
	}
	tests := []struct {
		name    string
		coder   string
		code    string
		sel     CodeSelection
		exact   bool
		removed []string // start-end of alice's removed codings
		msg     string
	}{
		{name: "overlapping a quote", coder: "alice", code: "welcome", sel: CodeSelection{Target: "p01", Match: "a bucket"},
			removed: []string{"73-100"}, msg: "Removed 1 coding of welcome by alice"},
		{name: "overlapping lines", coder: "alice", code: "welcome", sel: CodeSelection{Target: "p01", Lines: "3-4"},
			removed: []string{"73-100", "81-90", "101-115"}, msg: "Removed 3 codings"},
		{name: "exact segment", coder: "alice", code: "welcome", sel: CodeSelection{Target: "p01:t2.p1.s2"}, exact: true,
			removed: []string{"73-100"}},
		{name: "exact miss", coder: "alice", code: "welcome", sel: CodeSelection{Target: "p01:t2.p1"}, exact: true,
			msg: "Removed nothing: alice has no codings of welcome in p01 of exactly 42-136"},
		{name: "touching is not overlapping", coder: "alice", code: "welcome", sel: CodeSelection{Target: "p01", Span: "100-101"},
			msg: "Removed nothing"},
		{name: "other code untouched", coder: "alice", code: "plots", sel: CodeSelection{Target: "p01:t2"}, msg: "Removed nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := codeTestProject(t)
			for _, m := range setup {
				opts := codeTestOpts(p, m.coder, m.sel.Target, m.code)
				opts.CodeSelection = m.sel
				if err := runCode(opts); err != nil {
					t.Fatal(err)
				}
			}
			beforeAlice, beforeBob := codeTestCodings(t, p, "alice"), codeTestCodings(t, p, "bob")
			ios, out, errOut := codeTestIO()
			err := runUncode(&UncodeOptions{
				IO: ios, Project: func() (*corpus.Project, error) { return corpus.Open(p.Root) },
				CodeSelection: tt.sel, Code: tt.code, Coder: tt.coder, Exact: tt.exact,
				Getenv: func(string) string { return "" },
			})
			if err != nil {
				t.Fatal(err)
			}
			afterAlice := codeTestCodings(t, p, "alice")
			var gone []string
			for _, c := range beforeAlice {
				if !slices.ContainsFunc(afterAlice, func(d analysis.Coding) bool { return d.ID == c.ID }) {
					if c.Source != "p01" || c.Code != tt.code {
						t.Errorf("removed %+v", c)
					}
					gone = append(gone, fmt.Sprintf("%d-%d", c.Start, c.End))
				}
			}
			if !slices.Equal(gone, tt.removed) {
				t.Errorf("removed %v, want %v", gone, tt.removed)
			}
			if len(afterAlice)+len(gone) != len(beforeAlice) {
				t.Errorf("%d codings before, %d after, %d removed", len(beforeAlice), len(afterAlice), len(gone))
			}
			if afterBob := codeTestCodings(t, p, "bob"); !slices.Equal(afterBob, beforeBob) {
				t.Errorf("bob's codings changed")
			}
			if !strings.Contains(errOut.String(), tt.msg) {
				t.Errorf("message %q lacks %q", errOut, tt.msg)
			}
			if got := strings.Count(out.String(), "removed "); got != len(tt.removed) {
				t.Errorf("printed %d removals:\n%s", got, out)
			}
		})
	}
}

func TestUncodeRefusesAuto(t *testing.T) {
	p := codeTestProject(t)
	ios, _, _ := codeTestIO()
	err := runUncode(&UncodeOptions{IO: ios, Project: func() (*corpus.Project, error) { return p, nil },
		CodeSelection: CodeSelection{Target: "p01:t1"}, Code: "welcome", Coder: "auto"})
	if err == nil || !strings.Contains(err.Error(), "rule engine") {
		t.Fatalf("got %v", err)
	}
}

// FuzzCodeParseRange checks that any flag value gives numbers in order or
// an input error, never a panic.
func FuzzCodeParseRange(f *testing.F) {
	for _, s := range []string{"12-14", "3", " 3 - 4 ", "-5-9", "9-5", "x", "", "1-2-3", "+1-2", "99999999999999999999-1"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, single bool) {
		a, b, err := codeParseRange("--lines", s, single)
		if err != nil {
			if _, ok := err.(*errs.InputError); !ok {
				t.Fatalf("%q: %T", s, err)
			}
			return
		}
		if a < 0 || b < a {
			t.Fatalf("%q: %d-%d", s, a, b)
		}
		if !single && !strings.Contains(s, "-") {
			t.Fatalf("%q accepted without '-'", s)
		}
	})
}

// FuzzCodeSelectMatch checks --match on arbitrary quotes: an error, or a
// span whose text is the quote as normalised.
func FuzzCodeSelectMatch(f *testing.F) {
	src := &corpus.Source{ID: "p01", Text: codeTestInterview}
	for _, s := range []string{"bucket", "own plot 🌱 by", "Zoe\u0308", "\r\n", "é", "\xff", "I", "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		got, err := codeSelectIn(src, "", false, CodeSelection{Match: q})
		if err != nil {
			return
		}
		text := []rune(src.Text)
		if got.start < 0 || got.end > len(text) || got.start >= got.end {
			t.Fatalf("%q: span %d-%d", q, got.start, got.end)
		}
		sel := string(text[got.start:got.end])
		if strings.Count(src.Text, sel) != 1 {
			t.Fatalf("%q: %q is not unique", q, sel)
		}
		// The quote as a terminal may give it: other line ends, decomposed accents.
		if want := norm.NFC.String(strings.ReplaceAll(strings.ReplaceAll(q, "\r\n", "\n"), "\r", "\n")); sel != want {
			t.Fatalf("%q: selected %q", q, sel)
		}
	})
}

// BenchmarkCodeFindQuote looks for a quote in a 1 MB transcript with
// accented text.
func BenchmarkCodeFindQuote(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < 1<<20; i++ {
		fmt.Fprintf(&sb, "Ana: turn %d – the café garden and the bucket of Zoë.\n\n", i)
	}
	sb.WriteString("Ana: the one unique sentence here.\n")
	src := &corpus.Source{ID: "big", Text: sb.String()}
	text := []rune(src.Text)
	b.ResetTimer()
	for b.Loop() {
		if _, err := codeFindQuote(src, text, "the one unique sentence"); err != nil {
			b.Fatal(err)
		}
	}
}
