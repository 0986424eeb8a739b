package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
)

var codebookUpdate = flag.Bool("update-codebook", false, "rewrite the golden files testdata/codebook_*.golden.yaml")

// The sources of the test project: p01 and p02 are interviews (cases P01
// and P02; Ana and Cy speak twice, so they are known speakers), d01 is P01's
// diary and n01 field notes of no case.
var codebookTestSources = []struct{ id, kind, kase, text string }{
	{"p01", corpus.KindInterview, "P01", "I: How did you start at the garden?\n\n" +
		"Ana: I walked past the gate in May. Someone handed me a bucket!\n\n" +
		"I: And later?\n\n" +
		"Ana: Later I kept my own plot by the shed.\n"},
	{"p02", corpus.KindInterview, "P02", "I: What do you grow?\n\n" +
		"Cy: Beans mostly. The harvest was good.\n\n" +
		"I: Anything else?\n\n" +
		"Cy: A shed full of tools.\n"},
	{"d01", corpus.KindDiary, "P01", "2025-05-03\nThe gate was open. I felt welcome.\n"},
	{"n01", corpus.KindNotes, "", "Field notes: the harvest fair was busy.\n"},
}

// codebookTestCoding is one coding of the test project: quote occurs once
// in the source.
type codebookTestCoding struct {
	coder, source, quote, code, origin, memo string
}

// codebookTestCodings are the codings of the test project. By hand, for
// alice and bob (the default): welcome 3 codings in p01, p02 (cases P01,
// P02); gate 1 (p01); belonging itself 1 (p02); sheds 1 (d01, P01); plots 1
// (p02); harvest 1 (n01, no case); bob's "ghost" is not in the codebook.
var codebookTestCodings = []codebookTestCoding{
	{"alice", "p01", "handed me a bucket", "welcome", analysis.OriginManual, "warm"},
	{"alice", "p01", "handed me a bucket", "gate", analysis.OriginManual, "at the gate"},
	{"alice", "p02", "Beans mostly", "welcome", analysis.OriginManual, ""},
	{"alice", "p02", "The harvest was good", "belonging", analysis.OriginManual, ""},
	{"alice", "d01", "The gate was open", "sheds", analysis.OriginManual, ""},
	{"alice", "n01", "the harvest fair", "harvest", analysis.OriginManual, ""},
	{"bob", "p01", "handed me a bucket", "welcome", analysis.OriginManual, ""},
	{"bob", "p02", "A shed full of tools", "plots", analysis.OriginManual, ""},
	{"bob", "p01", "Later I kept", "ghost", analysis.OriginManual, ""},
	{"auto", "p01", "handed me", "welcome", "rule:welcome/1", ""},
	{"auto", "p01", "the gate", "gate", "rule:gate/1", ""},
	{"auto", "d01", "gate", "gate", "rule:gate/1", ""},
	{"auto", "p02", "harvest", "harvest", "rule:harvest/1", ""},
}

var codebookTestTime = time.Date(2026, 5, 4, 10, 30, 0, 0, time.UTC)

// codebookTestProject makes the test project with the codebook of
// testdata/codebook_start.yaml and the codings above.
func codebookTestProject(t testing.TB) *corpus.Project {
	t.Helper()
	p, err := corpus.Init(filepath.Join(t.TempDir(), "study"), "garden")
	if err != nil {
		t.Fatal(err)
	}
	in := t.TempDir()
	texts := map[string]string{}
	for _, s := range codebookTestSources {
		path := filepath.Join(in, s.id+".txt")
		if err := os.WriteFile(path, []byte(s.text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Ingest([]string{path}, corpus.IngestOptions{Kind: s.kind, Case: s.kase}); err != nil {
			t.Fatal(err)
		}
		texts[s.id] = s.text
	}
	start, err := os.ReadFile(filepath.Join("testdata", "codebook_start.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Path(corpus.CodebookFile), start, 0o644); err != nil {
		t.Fatal(err)
	}
	byCoder := map[string][]analysis.Coding{}
	for _, c := range codebookTestCodings {
		text := texts[c.source]
		i := strings.Index(text, c.quote)
		if i < 0 || strings.Count(text, c.quote) != 1 {
			t.Fatalf("%q is not once in %s", c.quote, c.source)
		}
		start := utf8.RuneCountInString(text[:i])
		cd, err := analysis.NewTextIndex(text).NewCoding(c.source, start, start+utf8.RuneCountInString(c.quote), c.code, c.coder, c.origin, codebookTestTime)
		if err != nil {
			t.Fatal(err)
		}
		cd.Memo = c.memo
		byCoder[c.coder] = append(byCoder[c.coder], cd)
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	for coder, cs := range byCoder {
		if err := store.Save(coder, cs); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func codebookTestOpen(p *corpus.Project) func() (*corpus.Project, error) {
	return func() (*corpus.Project, error) { return corpus.Open(p.Root) }
}

func TestCodebookTree(t *testing.T) {
	p := codebookTestProject(t)
	tests := []struct {
		name    string
		coders  []string
		out     string
		errOut  string
		wantErr string
	}{
		{name: "default: every coder but auto", out: "" +
			"THEME / CODE        ID         CODINGS  SOURCES  CASES  TOTAL CODINGS  TOTAL SOURCES  TOTAL CASES\n" +
			"Finding a place     belonging        1        1      1              5              2            2\n" +
			"  Arriving          arriving         0        0      0              4              2            2\n" +
			"    Being welcomed  welcome          3        2      2              3              2            2\n" +
			"    The gate        gate             1        1      1              1              1            1\n" +
			"Growing things      growing          0        0      0              3              3            2\n" +
			"  Own plots         plots            1        1      1              2              2            2\n" +
			"    Sheds           sheds            1        1      1              1              1            1\n" +
			"  Harvest           harvest          1        1      0              1              1            0\n",
			errOut: "warning: 1 coding of codes not in codebook.yaml, not counted: ghost (1); see 'thematic doctor'\n" +
				"2 themes, 1 sub-theme, 5 codes; 8 codings by alice, bob\n"},
		{name: "auto", coders: []string{"auto"}, out: "" +
			"THEME / CODE        ID         CODINGS  SOURCES  CASES  TOTAL CODINGS  TOTAL SOURCES  TOTAL CASES\n" +
			"Finding a place     belonging        0        0      0              3              2            1\n" +
			"  Arriving          arriving         0        0      0              3              2            1\n" +
			"    Being welcomed  welcome          1        1      1              1              1            1\n" +
			"    The gate        gate             2        2      1              2              2            1\n" +
			"Growing things      growing          0        0      0              1              1            1\n" +
			"  Own plots         plots            0        0      0              0              0            0\n" +
			"    Sheds           sheds            0        0      0              0              0            0\n" +
			"  Harvest           harvest          1        1      1              1              1            1\n",
			errOut: "2 themes, 1 sub-theme, 5 codes; 4 codings by auto\n"},
		{name: "bob and auto, as a list and repeated", coders: []string{"bob,auto", "bob"}, out: "" +
			"THEME / CODE        ID         CODINGS  SOURCES  CASES  TOTAL CODINGS  TOTAL SOURCES  TOTAL CASES\n" +
			"Finding a place     belonging        0        0      0              4              2            1\n" +
			"  Arriving          arriving         0        0      0              4              2            1\n" +
			"    Being welcomed  welcome          2        1      1              2              1            1\n" +
			"    The gate        gate             2        2      1              2              2            1\n" +
			"Growing things      growing          0        0      0              2              1            1\n" +
			"  Own plots         plots            1        1      1              1              1            1\n" +
			"    Sheds           sheds            0        0      0              0              0            0\n" +
			"  Harvest           harvest          1        1      1              1              1            1\n",
			errOut: "warning: 1 coding of codes not in codebook.yaml, not counted: ghost (1); see 'thematic doctor'\n" +
				"2 themes, 1 sub-theme, 5 codes; 6 codings by auto, bob\n"},
		{name: "unknown coder", coders: []string{"carol"}, wantErr: `--coder carol: no codings by "carol" in codings/ (coders: alice, auto, bob)`},
		{name: "bad coder name", coders: []string{"Bob"}, wantErr: `coder name "Bob" has upper-case letters`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, out, errOut := mainTestIO()
			// Flags as cobra splits them: "bob,auto" is two coders.
			var coders []string
			for _, c := range tt.coders {
				coders = append(coders, strings.Split(c, ",")...)
			}
			err := runCodebook(&CodebookOptions{IO: ios, Project: codebookTestOpen(p), Coders: coders})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.out {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, tt.out)
			}
			if errOut.String() != tt.errOut {
				t.Errorf("stderr:\n%s\nwant:\n%s", errOut, tt.errOut)
			}
		})
	}
}

// With only the rules' codings in the project, the default counts them
// rather than printing a tree of zeros "by no coders".
func TestCodebookTreeOnlyAuto(t *testing.T) {
	p := codebookTestProject(t)
	for _, coder := range []string{"alice", "bob"} {
		if err := os.Remove(p.Path(corpus.CodingsDir, coder+".jsonl")); err != nil {
			t.Fatal(err)
		}
	}
	ios, out, errOut := mainTestIO()
	if err := runCodebook(&CodebookOptions{IO: ios, Project: codebookTestOpen(p)}); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"THEME / CODE        ID         CODINGS  SOURCES  CASES  TOTAL CODINGS  TOTAL SOURCES  TOTAL CASES\n" +
		"Finding a place     belonging        0        0      0              3              2            1\n" +
		"  Arriving          arriving         0        0      0              3              2            1\n" +
		"    Being welcomed  welcome          1        1      1              1              1            1\n" +
		"    The gate        gate             2        2      1              2              2            1\n" +
		"Growing things      growing          0        0      0              1              1            1\n" +
		"  Own plots         plots            0        0      0              0              0            0\n" +
		"    Sheds           sheds            0        0      0              0              0            0\n" +
		"  Harvest           harvest          1        1      1              1              1            1\n"
	if out.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	wantErr := "note: only auto (the rules of 'thematic autocode') has codings; counting them\n" +
		"2 themes, 1 sub-theme, 5 codes; 4 codings by auto\n"
	if errOut.String() != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, wantErr)
	}
	// JSON names the coder counted.
	ios, out, _ = mainTestIO()
	if err := runCodebook(&CodebookOptions{IO: ios, Project: codebookTestOpen(p), JSON: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"coders": [
    "auto"
  ]`) {
		t.Errorf("JSON does not name auto as the coder counted:\n%s", out)
	}
	// No codings at all: zeros, and no note.
	os.Remove(p.Path(corpus.CodingsDir, "auto.jsonl"))
	ios, _, errOut = mainTestIO()
	if err := runCodebook(&CodebookOptions{IO: ios, Project: codebookTestOpen(p)}); err != nil {
		t.Fatal(err)
	}
	if errOut.String() != "2 themes, 1 sub-theme, 5 codes; 0 codings by no coders\n" {
		t.Errorf("no codings: stderr %q", errOut)
	}
}

func TestCodebookTreeJSON(t *testing.T) {
	p := codebookTestProject(t)
	ios, out, _ := mainTestIO()
	if err := runCodebook(&CodebookOptions{IO: ios, Project: codebookTestOpen(p), JSON: true}); err != nil {
		t.Fatal(err)
	}
	var got codebookTreeJSON
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.File != "codebook.yaml" || got.Name != "Garden study" || !slices.Equal(got.Coders, []string{"alice", "bob"}) ||
		!reflect.DeepEqual(got.UnknownCodes, map[string]int{"ghost": 1}) {
		t.Errorf("head: %+v", got)
	}
	// The shape of the tree, with own and total codings, by hand.
	var shape func(ns []*codebookNodeJSON) string
	shape = func(ns []*codebookNodeJSON) string {
		var parts []string
		for _, n := range ns {
			s := fmt.Sprintf("%s:%s:%d/%d", n.ID, n.Level, n.Own.Codings, n.Total.Codings)
			if len(n.Children) > 0 {
				s += "[" + shape(n.Children) + "]"
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " ")
	}
	want := "belonging:theme:1/5[arriving:subtheme:0/4[welcome:code:3/3 gate:code:1/1]] " +
		"growing:theme:0/3[plots:code:1/2[sheds:code:1/1] harvest:code:1/1]"
	if s := shape(got.Themes); s != want {
		t.Errorf("tree %s\nwant %s", s, want)
	}
	growing := got.Themes[1]
	if growing.Total != (analysis.CodeCount{Codings: 3, Sources: 3, Cases: 2}) {
		t.Errorf("growing total %+v", growing.Total)
	}
	if h := growing.Children[1]; h.Own != (analysis.CodeCount{Codings: 1, Sources: 1, Cases: 0}) {
		t.Errorf("harvest own %+v", h.Own)
	}
}

func TestCodebookTreeEmptyAndBroken(t *testing.T) {
	p, open := mainTestProject(t)
	ios, out, errOut := mainTestIO()
	if err := runCodebook(&CodebookOptions{IO: ios, Project: open}); err != nil {
		t.Fatal(err)
	}
	if out.Len() != 0 || !strings.Contains(errOut.String(), "no themes yet") {
		t.Errorf("empty codebook: %q %q", out, errOut)
	}
	mainWriteFile(t, p.Root, corpus.CodebookFile, "themes:\n  - name: A\n    colour: blue\n  - nme: B\n")
	err := runCodebook(&CodebookOptions{IO: ios, Project: open})
	want := `codebook.yaml:3:13: colour "blue" is not a colour; write six hex digits in quotes, such as "#4E79A7" (fix this and 2 more problems to see the codebook with counts; 'thematic codebook validate' lists them all)`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}

// codebookTestBroken has problems at positions counted by hand.
const codebookTestBroken = `# A codebook with mistakes.
themes:
  - id: belonging
    name: Finding a place
    defintion: Feeling part of the garden.
    codes:
      - id: welcome
        name: Being welcomed
        speakers: [Anna, participant, Bob]
      - id: welcome
        name: Being greeted
        kinds: [diaries]
  - name: ""
`

func TestCodebookValidate(t *testing.T) {
	tests := []struct {
		name     string
		codebook string
		sources  bool
		out      string
		errOut   string
		err      string
	}{
		{name: "every problem, in file order", codebook: codebookTestBroken, sources: true,
			out: `codebook.yaml:5:5: unknown key "defintion" in a theme; did you mean "definition"?
codebook.yaml:9:20: unknown speaker "Anna" in the scope of "welcome"; use a role (interviewer, participant, other) or a speaker's name; did you mean "Ana"?
codebook.yaml:9:39: unknown speaker "Bob" in the scope of "welcome"; use a role (interviewer, participant, other) or a speaker's name
codebook.yaml:10:13: duplicate id "welcome" (first at line 7); ids must be unique in the codebook
codebook.yaml:12:17: unknown source kind "diaries"; kinds are interview, focus-group, diary, notes, survey; did you mean "diary"?
codebook.yaml:13:11: empty name; every theme needs one
`,
			err: "6 problems in codebook.yaml"},
		{name: "no sources: speakers not checked", codebook: codebookTestBroken,
			out: `codebook.yaml:5:5: unknown key "defintion" in a theme; did you mean "definition"?
codebook.yaml:10:13: duplicate id "welcome" (first at line 7); ids must be unique in the codebook
codebook.yaml:12:17: unknown source kind "diaries"; kinds are interview, focus-group, diary, notes, survey; did you mean "diary"?
codebook.yaml:13:11: empty name; every theme needs one
`,
			errOut: "note: no sources yet, so speaker names in scopes are not checked\n",
			err:    "4 problems in codebook.yaml"},
		{name: "query syntax", sources: true, codebook: "themes:\n  - name: A\n    rules:\n      - query: '\"unclosed phrase'\n",
			out: "codebook.yaml:4:16: query does not parse: parse error: unterminated quote (bleve query-string syntax: word, \"a phrase\", +must, -must-not, field:value, word*, /regexp/)\n", err: "1 problem in codebook.yaml"},
		{name: "speakers of the sources and of thematic.yaml", sources: true,
			codebook: "themes:\n  - name: A\n    speakers: [ana, CY, Dee, participant]\n",
			out:      "codebook.yaml: OK (1 theme, 0 codes)\n"},
		{name: "the test codebook", sources: true, codebook: "",
			out: "codebook.yaml: OK (2 themes, 5 codes)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p *corpus.Project
			if tt.sources {
				p = codebookTestProject(t)
				mainWriteFile(t, p.Root, corpus.ConfigFile, "name: garden\nroles:\n  Dee: other\n")
			} else {
				p, _ = mainTestProject(t)
			}
			if tt.codebook != "" {
				mainWriteFile(t, p.Root, corpus.CodebookFile, tt.codebook)
			}
			ios, out, errOut := mainTestIO()
			err := runCodebookValidate(&CodebookValidateOptions{IO: ios, Project: codebookTestOpen(p)})
			if fmt.Sprint(err) != fmt.Sprint(errors.New(tt.err)) && !(err == nil && tt.err == "") {
				t.Errorf("err = %v, want %q", err, tt.err)
			}
			if out.String() != tt.out {
				t.Errorf("stdout:\n%s\nwant:\n%s", out, tt.out)
			}
			if errOut.String() != tt.errOut {
				t.Errorf("stderr %q, want %q", errOut, tt.errOut)
			}
		})
	}
}

func TestCodebookValidateJSONAndExitStatus(t *testing.T) {
	p := codebookTestProject(t)
	mainWriteFile(t, p.Root, corpus.CodebookFile, codebookTestBroken)
	ios, out, errOut := mainTestIO()
	if code := Main([]string{"-C", p.Root, "codebook", "validate", "--json"}, ios); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	var got struct {
		OK       bool                  `json:"ok"`
		Problems []codebookProblemJSON `json:"problems"`
		Codes    int                   `json:"codes"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.OK || len(got.Problems) != 6 || got.Problems[1] != (codebookProblemJSON{"codebook.yaml", 9, 20, `unknown speaker "Anna" in the scope of "welcome"; use a role (interviewer, participant, other) or a speaker's name; did you mean "Ana"?`}) {
		t.Errorf("got %+v", got)
	}
	if errOut.String() != "thematic: 6 problems in codebook.yaml\n" {
		t.Errorf("stderr %q", errOut)
	}
	mainWriteFile(t, p.Root, corpus.CodebookFile, "themes: [{name: A, codes: [{name: B}]}]\n")
	ios, out, _ = mainTestIO()
	if code := Main([]string{"-C", p.Root, "codebook", "validate"}, ios); code != 0 || out.String() != "codebook.yaml: OK (1 theme, 1 code)\n" {
		t.Errorf("exit status %d, stdout %q", code, out)
	}
}

// codebookTestGolden compares the project's codebook with a golden file.
// Every comment of the start must be there too, except those in gone (of
// nodes that were removed).
func codebookTestGolden(t *testing.T, p *corpus.Project, name string, gone ...string) {
	t.Helper()
	got, err := os.ReadFile(p.Path(corpus.CodebookFile))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "codebook_"+name+".golden.yaml")
	if *codebookUpdate {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("codebook.yaml differs from %s:\n%s", golden, got)
	}
	// Independently of the golden file: every comment of the start survives.
	start, _ := os.ReadFile(filepath.Join("testdata", "codebook_start.yaml"))
	for _, c := range codeTestComments(string(start)) {
		if !strings.Contains(string(got), c) && !slices.Contains(gone, c) {
			t.Errorf("comment %q lost", c)
		}
	}
	if _, probs := codebook.Parse("codebook.yaml", got); len(probs) > 0 {
		t.Errorf("the result has problems: %v", probs[0])
	}
}

// codebookTestLoad loads the project's codebook.
func codebookTestLoad(t *testing.T, p *corpus.Project) *codebook.Codebook {
	t.Helper()
	cb, err := codebook.Load(p.Path(corpus.CodebookFile))
	if err != nil {
		t.Fatal(err)
	}
	return cb
}

// codebookTestPlace gives a node's parent id ("top" for a theme) and its
// level, or "missing".
func codebookTestPlace(cb *codebook.Codebook, id string) string {
	n := cb.Node(id)
	if n == nil {
		return "missing"
	}
	if n.Parent == nil {
		return "top " + n.Level
	}
	return n.Parent.ID + " " + n.Level
}

func TestCodebookAdd(t *testing.T) {
	p := codebookTestProject(t)
	codingsBefore := codebookTestFiles(t, p)
	steps := []struct {
		opts   CodebookAddOptions
		out    string
		errOut string
	}{
		{CodebookAddOptions{Name: "Being on call", Under: "arriving", Definition: "Availability outside hours."}, "being-on-call\n",
			"Added code \"being-on-call\" (Being on call) under Finding a place > Arriving to codebook.yaml\n"},
		{CodebookAddOptions{Name: "Tools", Theme: true, Under: "growing"}, "tools\n",
			"Added sub-theme \"tools\" (Tools) under Growing things to codebook.yaml\n"},
		{CodebookAddOptions{Name: "Seed swaps", ID: "swaps"}, "swaps\n",
			"Added theme \"uncategorised\" (Uncategorised) to codebook.yaml\n" +
				"Added code \"swaps\" (Seed swaps) under Uncategorised to codebook.yaml\n"},
		{CodebookAddOptions{Name: "Weather", Theme: true}, "weather\n",
			"Added theme \"weather\" (Weather) to codebook.yaml\n"},
	}
	for _, s := range steps {
		ios, out, errOut := mainTestIO()
		s.opts.IO, s.opts.Project = ios, codebookTestOpen(p)
		if err := runCodebookAdd(&s.opts); err != nil {
			t.Fatal(err)
		}
		if out.String() != s.out || errOut.String() != s.errOut {
			t.Errorf("%s: stdout %q stderr %q, want %q %q", s.opts.Name, out, errOut, s.out, s.errOut)
		}
	}
	codebookTestGolden(t, p, "add")
	cb := codebookTestLoad(t, p)
	for id, want := range map[string]string{"being-on-call": "arriving code", "tools": "growing subtheme", "swaps": "uncategorised code", "weather": "top theme"} {
		if got := codebookTestPlace(cb, id); got != want {
			t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
	if n := cb.Node("being-on-call"); n.Definition != "Availability outside hours." {
		t.Errorf("definition %q", n.Definition)
	}
	if !reflect.DeepEqual(codebookTestFiles(t, p), codingsBefore) {
		t.Error("adding changed the codings")
	}
}

func TestCodebookAddRefused(t *testing.T) {
	p := codebookTestProject(t)
	start, _ := os.ReadFile(p.Path(corpus.CodebookFile))
	tests := []struct {
		opts CodebookAddOptions
		err  string
	}{
		{CodebookAddOptions{Name: "The Gate", Under: "arriving"}, `codebook.yaml: there is already a code named "The gate" under "Arriving" (id "gate")`},
		{CodebookAddOptions{Name: "Gate two", Under: "arriving", ID: "gate"}, `codebook.yaml: the id "gate" is taken by code "The gate"`},
		{CodebookAddOptions{Name: "Gate two", ID: "a b"}, `id "a b" may hold only letters`},
		{CodebookAddOptions{Name: "Sub", Theme: true, Under: "welcome"}, `codebook.yaml:11:13: --theme --under welcome: "welcome" is a code; a sub-theme goes under a theme`},
		{CodebookAddOptions{Name: "Sub", Theme: true, Definition: "x"}, "--definition is for codes"},
		{CodebookAddOptions{Name: "Too deep", Under: "sheds"}, `"sheds" is a child code`},
		{CodebookAddOptions{Name: "X", Under: "welcom"}, `codebook.yaml: no theme or code has the id "welcom"; did you mean "welcome"?`},
		{CodebookAddOptions{Name: "  "}, "a name is needed"},
	}
	for _, tt := range tests {
		ios, _, _ := mainTestIO()
		tt.opts.IO, tt.opts.Project = ios, codebookTestOpen(p)
		err := runCodebookAdd(&tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%+v: err = %v, want %q", tt.opts, err, tt.err)
		}
	}
	if now, _ := os.ReadFile(p.Path(corpus.CodebookFile)); !bytes.Equal(now, start) {
		t.Errorf("the codebook changed:\n%s", now)
	}
}

func TestCodebookMove(t *testing.T) {
	p := codebookTestProject(t)
	codingsBefore := codebookTestFiles(t, p)
	steps := []struct {
		opts   CodebookMoveOptions
		errOut string
	}{
		{CodebookMoveOptions{ID: "gate", Under: "growing"}, "Moved \"gate\" (The gate) from Finding a place > Arriving to Growing things\n"},
		{CodebookMoveOptions{ID: "sheds", ToTop: true}, "Moved \"sheds\" (Sheds) from Growing things > Own plots to the top; it is now a theme\n"},
		{CodebookMoveOptions{ID: "arriving", Under: "growing"}, "Moved \"arriving\" (Arriving) from Finding a place to Growing things\n"},
		{CodebookMoveOptions{ID: "harvest", Under: "growing"}, "Nothing to do: \"harvest\" (Harvest) is already under Growing things\n"},
	}
	for _, s := range steps {
		ios, _, errOut := mainTestIO()
		s.opts.IO, s.opts.Project = ios, codebookTestOpen(p)
		if err := runCodebookMove(&s.opts); err != nil {
			t.Fatal(err)
		}
		if errOut.String() != s.errOut {
			t.Errorf("%s: stderr %q, want %q", s.opts.ID, errOut, s.errOut)
		}
	}
	codebookTestGolden(t, p, "move")
	cb := codebookTestLoad(t, p)
	for id, want := range map[string]string{"gate": "growing code", "sheds": "top theme", "arriving": "growing subtheme", "welcome": "arriving code"} {
		if got := codebookTestPlace(cb, id); got != want {
			t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
	if !reflect.DeepEqual(codebookTestFiles(t, p), codingsBefore) {
		t.Error("moving changed the codings")
	}
	for _, tt := range []struct {
		opts CodebookMoveOptions
		err  string
	}{
		{CodebookMoveOptions{ID: "growing", Under: "welcome"}, `cannot move "growing" under itself or under "welcome"`},
		{CodebookMoveOptions{ID: "gate"}, "say where to move gate"},
		{CodebookMoveOptions{ID: "gate", Under: "growing", ToTop: true}, "not both"},
	} {
		ios, _, _ := mainTestIO()
		tt.opts.IO, tt.opts.Project = ios, codebookTestOpen(p)
		if err := runCodebookMove(&tt.opts); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%+v: err = %v, want %q", tt.opts, err, tt.err)
		}
	}
}

// codebookTestFiles reads the codings folder and the codebook.
func codebookTestFiles(t *testing.T, p *corpus.Project) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(p.Path(corpus.CodingsDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(p.Path(corpus.CodingsDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(data)
	}
	return out
}

// codebookTestSummary lists each coder's codings as "source quote code
// origin memo", sorted, with ids checked separately.
func codebookTestSummary(t *testing.T, p *corpus.Project) map[string][]string {
	t.Helper()
	all, err := analysis.Store{Dir: p.Path(corpus.CodingsDir)}.LoadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for coder, cs := range all {
		for _, c := range cs {
			s := fmt.Sprintf("%s %q %s %s", c.Source, c.Quote, c.Code, c.Origin)
			if c.Memo != "" {
				s += fmt.Sprintf(" memo=%q", c.Memo)
			}
			out[coder] = append(out[coder], s)
			if want := analysis.CodingID(c.Source, c.Start, c.End, c.Code, c.Coder); c.ID != want {
				t.Errorf("%s: id %s, want %s (as if coded afresh)", s, c.ID, want)
			}
		}
		slices.Sort(out[coder])
	}
	return out
}

func TestCodebookRename(t *testing.T) {
	p := codebookTestProject(t)
	steps := []struct {
		opts   CodebookRenameOptions
		errOut string
	}{
		{CodebookRenameOptions{ID: "welcome", NewName: "Feeling welcome", NewID: "welcomed"},
			`Renamed code "welcome": name "Being welcomed" -> "Feeling welcome", id -> "welcomed"; 4 codings carried to "welcomed" (alice 2, auto 1, bob 1)` + "\n"},
		{CodebookRenameOptions{ID: "arriving", NewName: "First days"},
			`Renamed sub-theme "arriving": name "Arriving" -> "First days"` + "\n"},
		{CodebookRenameOptions{ID: "gate", NewID: "the-gate"},
			`Renamed code "gate": id -> "the-gate"; 3 codings carried to "the-gate" (alice 1, auto 2)` + "\n"},
		{CodebookRenameOptions{ID: "plots", NewName: "own plots"},
			`Renamed code "plots": name "Own plots" -> "own plots"` + "\n"},
		{CodebookRenameOptions{ID: "harvest", NewName: "Harvest"},
			`Nothing to change: "harvest" is named "Harvest" already` + "\n"},
	}
	for _, s := range steps {
		ios, _, errOut := mainTestIO()
		s.opts.IO, s.opts.Project = ios, codebookTestOpen(p)
		if err := runCodebookRename(&s.opts); err != nil {
			t.Fatal(err)
		}
		if errOut.String() != s.errOut {
			t.Errorf("%s: stderr %q\nwant %q", s.opts.ID, errOut, s.errOut)
		}
	}
	codebookTestGolden(t, p, "rename")
	// The codings followed, ids made afresh (by hand from the test codings).
	want := map[string][]string{
		"alice": {
			`d01 "The gate was open" sheds manual`,
			`n01 "the harvest fair" harvest manual`,
			`p01 "handed me a bucket" the-gate manual memo="at the gate"`,
			`p01 "handed me a bucket" welcomed manual memo="warm"`,
			`p02 "Beans mostly" welcomed manual`,
			`p02 "The harvest was good" belonging manual`,
		},
		"auto": {
			`d01 "gate" the-gate rule:the-gate/1`,
			`p01 "handed me" welcomed rule:welcomed/1`,
			`p01 "the gate" the-gate rule:the-gate/1`,
			`p02 "harvest" harvest rule:harvest/1`,
		},
		"bob": {
			`p01 "Later I kept" ghost manual`,
			`p01 "handed me a bucket" welcomed manual`,
			`p02 "A shed full of tools" plots manual`,
		},
	}
	if got := codebookTestSummary(t, p); !reflect.DeepEqual(got, want) {
		t.Errorf("codings:\n%q\nwant\n%q", got, want)
	}
	// The counts follow too.
	ios, out, _ := mainTestIO()
	if err := runCodebook(&CodebookOptions{IO: ios, Project: codebookTestOpen(p)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "    Feeling welcome  welcomed         3        2      2              3              2            2\n") {
		t.Errorf("tree after renames:\n%s", out)
	}
	for _, tt := range []struct {
		opts CodebookRenameOptions
		err  string
	}{
		{CodebookRenameOptions{ID: "welcomed", NewID: "the-gate"}, `the id "the-gate" is taken`},
		{CodebookRenameOptions{ID: "welcomed", NewName: "The gate"}, `already a code named "The gate"`},
		{CodebookRenameOptions{ID: "welcomed"}, "give a NEW_NAME, a new id with --id, or both"},
		{CodebookRenameOptions{ID: "nothing", NewName: "X"}, `codebook.yaml: no theme or code has the id "nothing"`},
	} {
		ios, _, _ := mainTestIO()
		tt.opts.IO, tt.opts.Project = ios, codebookTestOpen(p)
		if err := runCodebookRename(&tt.opts); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%+v: err = %v, want %q", tt.opts, err, tt.err)
		}
	}
}

func TestCodebookMerge(t *testing.T) {
	p := codebookTestProject(t)
	ios, _, errOut := mainTestIO()
	if err := runCodebookMerge(&CodebookMergeOptions{IO: ios, Project: codebookTestOpen(p), From: "welcome", Into: "gate"}); err != nil {
		t.Fatal(err)
	}
	wantMsg := `Merged "welcome" (Being welcomed) into "gate" (The gate); 1 rule added; 4 codings carried to "gate" (alice 2, auto 1, bob 1), 1 of them joined to the same text already coded "gate"` + "\n"
	if errOut.String() != wantMsg {
		t.Errorf("stderr %q\nwant %q", errOut, wantMsg)
	}
	codebookTestGolden(t, p, "merge", "# trailing comment") // welcome's name line goes
	// alice had welcome and gate on "handed me a bucket": one coding is
	// left, with both memos; welcome's rule 1 is gate's rule 2 now.
	want := map[string][]string{
		"alice": {
			`d01 "The gate was open" sheds manual`,
			`n01 "the harvest fair" harvest manual`,
			`p01 "handed me a bucket" gate manual memo="at the gate\nwarm"`,
			`p02 "Beans mostly" gate manual`,
			`p02 "The harvest was good" belonging manual`,
		},
		"auto": {
			`d01 "gate" gate rule:gate/1`,
			`p01 "handed me" gate rule:gate/2`,
			`p01 "the gate" gate rule:gate/1`,
			`p02 "harvest" harvest rule:harvest/1`,
		},
		"bob": {
			`p01 "Later I kept" ghost manual`,
			`p01 "handed me a bucket" gate manual`,
			`p02 "A shed full of tools" plots manual`,
		},
	}
	if got := codebookTestSummary(t, p); !reflect.DeepEqual(got, want) {
		t.Errorf("codings:\n%q\nwant\n%q", got, want)
	}
	cb := codebookTestLoad(t, p)
	if cb.Node("welcome") != nil || len(cb.Node("gate").Rules) != 2 || !strings.Contains(cb.Node("gate").Memo, "Being made to feel at home.") {
		t.Errorf("gate after the merge: %+v", cb.Node("gate"))
	}

	// A code with children: plots' child sheds moves under harvest.
	ios, _, errOut = mainTestIO()
	if err := runCodebookMerge(&CodebookMergeOptions{IO: ios, Project: codebookTestOpen(p), From: "plots", Into: "harvest"}); err != nil {
		t.Fatal(err)
	}
	if want := `Merged "plots" (Own plots) into "harvest" (Harvest); 1 node moved under it; 1 coding carried to "harvest" (bob 1)` + "\n"; errOut.String() != want {
		t.Errorf("stderr %q\nwant %q", errOut, want)
	}
	if got := codebookTestPlace(codebookTestLoad(t, p), "sheds"); got != "harvest code" {
		t.Errorf("sheds: %s", got)
	}

	for _, tt := range []struct{ from, into, err string }{
		{"gate", "gate", `cannot merge "gate" into itself`},
		{"belonging", "gate", `cannot merge "belonging" into "gate", which lies below it`},
		{"nothing", "gate", `no theme or code has the id "nothing"`},
	} {
		ios, _, _ := mainTestIO()
		err := runCodebookMerge(&CodebookMergeOptions{IO: ios, Project: codebookTestOpen(p), From: tt.from, Into: tt.into})
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s into %s: err = %v, want %q", tt.from, tt.into, err, tt.err)
		}
	}
}

// TestCodebookRefusesProblems: no write command touches a codebook that
// has problems.
func TestCodebookRefusesProblems(t *testing.T) {
	p := codebookTestProject(t)
	broken := strings.Replace(mustRead(t, filepath.Join("testdata", "codebook_start.yaml")), "name: Sheds", "name: Sheds\n            colour: blue", 1)
	mainWriteFile(t, p.Root, corpus.CodebookFile, broken)
	before := codebookTestFiles(t, p)
	want := `codebook.yaml:31:21: colour "blue" is not a colour; write six hex digits in quotes, such as "#4E79A7" (fix this before changing the codebook)`
	ios, _, _ := mainTestIO()
	open := codebookTestOpen(p)
	for name, run := range map[string]func() error{
		"add": func() error { return runCodebookAdd(&CodebookAddOptions{IO: ios, Project: open, Name: "X"}) },
		"move": func() error {
			return runCodebookMove(&CodebookMoveOptions{IO: ios, Project: open, ID: "gate", ToTop: true})
		},
		"rename": func() error {
			return runCodebookRename(&CodebookRenameOptions{IO: ios, Project: open, ID: "gate", NewID: "g"})
		},
		"merge": func() error {
			return runCodebookMerge(&CodebookMergeOptions{IO: ios, Project: open, From: "gate", Into: "welcome"})
		},
	} {
		if err := run(); err == nil || err.Error() != want {
			t.Errorf("%s: err = %v\nwant %s", name, err, want)
		}
	}
	if got := mustRead(t, p.Path(corpus.CodebookFile)); got != broken {
		t.Errorf("codebook changed:\n%s", got)
	}
	if !reflect.DeepEqual(codebookTestFiles(t, p), before) {
		t.Error("codings changed")
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestCodebookInterrupted stops a rename and a merge after each file they
// write, as if the process died there. At that moment every coding must
// still have a version whose code is in the codebook on disk; running the
// same command again must end with the files of an uninterrupted run.
func TestCodebookInterrupted(t *testing.T) {
	type cmd func(p *corpus.Project, after func(int, string) error) error
	rename := func(p *corpus.Project, after func(int, string) error) error {
		ios, _, _ := mainTestIO()
		return runCodebookRename(&CodebookRenameOptions{IO: ios, Project: codebookTestOpen(p), ID: "welcome", NewName: "Feeling welcome", NewID: "welcomed", afterWrite: after})
	}
	merge := func(p *corpus.Project, after func(int, string) error) error {
		ios, _, _ := mainTestIO()
		return runCodebookMerge(&CodebookMergeOptions{IO: ios, Project: codebookTestOpen(p), From: "welcome", Into: "gate", afterWrite: after})
	}
	for _, tc := range []struct {
		name   string
		run    cmd
		writes int // files written: 3 coders, the codebook, 3 coders
		from   map[string]string
	}{
		{"rename", rename, 7, map[string]string{"welcome": "welcomed"}},
		{"merge", merge, 7, map[string]string{"welcome": "gate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := codebookTestProject(t)
			n := 0
			if err := tc.run(ref, func(int, string) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
			if n != tc.writes {
				t.Fatalf("%d writes, want %d", n, tc.writes)
			}
			want := codebookTestFiles(t, ref)
			want["codebook.yaml"] = mustRead(t, ref.Path(corpus.CodebookFile))

			killed := errors.New("killed")
			for k := 0; k < tc.writes; k++ {
				p := codebookTestProject(t)
				before, err := analysis.Store{Dir: p.Path(corpus.CodingsDir)}.LoadAll()
				if err != nil {
					t.Fatal(err)
				}
				i := 0
				err = tc.run(p, func(int, string) error {
					if i == k {
						return killed
					}
					i++
					return nil
				})
				if !errors.Is(err, killed) {
					t.Fatalf("write %d: err = %v", k, err)
				}
				cb := codebookTestLoad(t, p)
				after, err := analysis.Store{Dir: p.Path(corpus.CodingsDir)}.LoadAll()
				if err != nil {
					t.Fatal(err)
				}
				for coder, cs := range before {
					for _, o := range cs {
						if cb.Node(o.Code) == nil && cb.Node(tc.from[o.Code]) == nil {
							continue // not in the codebook before either ("ghost")
						}
						linked := false
						for _, c := range after[coder] {
							if c.Source == o.Source && c.Start == o.Start && c.End == o.End &&
								(c.Code == o.Code || c.Code == tc.from[o.Code]) && cb.Node(c.Code) != nil {
								linked = true
							}
						}
						if !linked {
							t.Errorf("killed after write %d: %s's coding %s %q of %s lost its code", k, coder, o.Source, o.Quote, o.Code)
						}
					}
				}
				// Run again, to the end.
				err = tc.run(p, nil)
				if err != nil && !(tc.name == "merge" && k == tc.writes-1 && strings.Contains(err.Error(), `no theme or code has the id "welcome"`)) {
					t.Fatalf("killed after write %d, run again: %v", k, err)
				}
				got := codebookTestFiles(t, p)
				got["codebook.yaml"] = mustRead(t, p.Path(corpus.CodebookFile))
				if !reflect.DeepEqual(got, want) {
					t.Errorf("killed after write %d and run again: files differ from an uninterrupted run\n%v\nwant\n%v", k, got, want)
				}
			}
		})
	}
}

func TestCodebookCommandLine(t *testing.T) {
	p := codebookTestProject(t)
	ios, out, errOut := mainTestIO()
	if code := Main([]string{"-C", p.Root, "codebook", "rename", "gate", "Garden gate", "--id", "garden-gate"}, ios); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code := Main([]string{"-C", p.Root, "codebook", "add", "Keys", "--under", "garden-gate"}, ios); code != 0 || out.String() != "keys\n" {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	out.Reset()
	if code := Main([]string{"-C", p.Root, "codebook", "--coder", "alice,bob", "--json"}, ios); code != 0 || !strings.Contains(out.String(), `"id": "garden-gate"`) {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	ios, _, errOut = mainTestIO()
	if code := Main([]string{"-C", p.Root, "codebook", "valdate"}, ios); code != 1 || !strings.Contains(errOut.String(), `unknown command "valdate"`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func BenchmarkCodebookTree(b *testing.B) {
	p := codebookTestProject(b)
	// 3 coders x 8,400 distinct codings (140 starts x 10 lengths x 6 codes).
	text := codebookTestSources[0].text
	codes := []string{"welcome", "gate", "plots", "sheds", "harvest", "belonging"}
	ti := analysis.NewTextIndex(text)
	for _, coder := range []string{"alice", "bob", "carol"} {
		var cs []analysis.Coding
		for i := 0; i < 8400; i++ {
			start := i % 140
			c, err := ti.NewCoding("p01", start, start+1+(i/140)%10, codes[i/1400], coder, analysis.OriginManual, codebookTestTime)
			if err != nil {
				b.Fatal(err)
			}
			cs = append(cs, c)
		}
		if err := (analysis.Store{Dir: p.Path(corpus.CodingsDir)}).Save(coder, cs); err != nil {
			b.Fatal(err)
		}
	}
	ios, _, _ := mainTestIO()
	opts := &CodebookOptions{IO: ios, Project: codebookTestOpen(p)}
	b.ReportAllocs()
	for b.Loop() {
		if err := runCodebook(opts); err != nil {
			b.Fatal(err)
		}
	}
}
