package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

// exportTestCodebook has two themes: belonging (a sub-theme welcome with
// the code first-visit, and the code outsider) and weather (the code cold).
const exportTestCodebook = `name: Garden study
themes:
  - id: belonging
    name: Belonging
    definition: Feeling part of the garden.
    subthemes:
      - id: welcome
        name: Welcome
        codes:
          - id: first-visit
            name: First visit
    codes:
      - id: outsider
        name: Outsider
  - id: weather
    name: Weather
    definition: Talk about the weather.
    codes:
      - id: cold
        name: Cold
`

// exportTestProject makes a project of two interviews (cases P01 at site
// North, P02 at South) with codings by alice, bob and auto, and returns
// its folder.
//
//	p01-int  I: "How did you start?"  P: "I joined in March." "=HYPERLINK(...) was on the sign."
//	         I: "And the weather?"    P: "It was -10 degrees." "We dug anyway."
//	p02-int  I: "Why did you join?"   P: "I was lonely." "The garden helped."
func exportTestProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "study")
	p, err := corpus.Init(root, "Garden")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"cases.csv":   "case,site\nP01,North\nP02,South\n",
		"P01-int.txt": "I: How did you start?\n\nP: I joined in March. =HYPERLINK(\"http://x.example\",\"click\") was on the sign.\n\nI: And the weather?\n\nP: It was -10 degrees. We dug anyway.\n",
		"P02-int.txt": "I: Why did you join?\n\nP: I was lonely. The garden helped.\n",
	}
	var paths []string
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	slices.Sort(paths)
	if _, err := p.Ingest(paths, corpus.IngestOptions{Kind: corpus.KindInterview}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Path(corpus.CodebookFile), []byte(exportTestCodebook), 0o644); err != nil {
		t.Fatal(err)
	}
	srcs, err := p.Sources(true)
	if err != nil {
		t.Fatal(err)
	}
	text := map[string]string{}
	for _, s := range srcs {
		text[s.ID] = s.Text
	}
	when := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	made := map[string][]analysis.Coding{}
	for _, c := range []struct{ coder, source, quote, code string }{
		{"alice", "p01-int", "I joined in March.", "first-visit"},
		{"alice", "p01-int", `=HYPERLINK("http://x.example","click") was on the sign.`, "first-visit"},
		{"alice", "p01-int", "It was -10 degrees.", "cold"},
		{"alice", "p02-int", "I was lonely.", "outsider"},
		{"bob", "p01-int", "March. =HYPERLINK", "first-visit"},
		{"bob", "p01-int", "And the weather?\n\nP: It was -10 degrees.", "cold"},
		{"bob", "p02-int", "The garden helped.", "welcome"},
		{"auto", "p02-int", "Why did you join?", "first-visit"},
	} {
		t0 := text[c.source]
		i := strings.Index(t0, c.quote)
		if i < 0 {
			t.Fatalf("%q not in %s", c.quote, c.source)
		}
		start := utf8.RuneCountInString(t0[:i])
		cd, err := analysis.NewCoding(c.source, t0, start, start+utf8.RuneCountInString(c.quote), c.code, c.coder, analysis.OriginManual, when)
		if err != nil {
			t.Fatal(err)
		}
		made[c.coder] = append(made[c.coder], cd)
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	for coder, cs := range made {
		if err := store.Save(coder, cs); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// exportRun runs thematic with args and returns stdout, stderr and the
// exit status.
func exportRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return out.String(), errOut.String(), code
}

// exportCSV parses CSV output, without its byte order mark.
func exportCSV(t *testing.T, data string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(data, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return recs
}

// exportColumn returns one column of CSV records (header excluded).
func exportColumn(t *testing.T, recs [][]string, title string) []string {
	t.Helper()
	i := slices.Index(recs[0], title)
	if i < 0 {
		t.Fatalf("no column %q in %q", title, recs[0])
	}
	var out []string
	for _, r := range recs[1:] {
		out = append(out, r[i])
	}
	return out
}

func TestExportExtractsWorkbook(t *testing.T) {
	root := exportTestProject(t)
	path := filepath.Join(t.TempDir(), "extracts.xlsx")
	_, stderr, code := exportRun(t, "-C", root, "export", "extracts", "--xlsx", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "Wrote "+path+" (7 extracts on 2 sheets after the index from the codings of alice, bob)") {
		t.Errorf("stderr %q does not name the file written", stderr)
	}
	wb, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	if got := wb.GetSheetList(); !slices.Equal(got, []string{"Index", "Belonging", "Weather"}) {
		t.Fatalf("sheets %q", got)
	}
	// alice's 4 codings and bob's 3; auto's is not a person's.
	if v, _ := wb.GetCellValue("Index", "E2"); v != "5" {
		t.Errorf("Belonging extracts %q, want 5", v)
	}
	rows, _ := wb.GetRows("Belonging")
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[3]+" "+r[4]+" "+r[8]) // Extract, Citation, Speaker
	}
	want := []string{
		"The garden helped. (Interview 2) P",
		"I joined in March. (Interview 1) P",
		"March. =HYPERLINK (Interview 1) P",
		`=HYPERLINK("http://x.example","click") was on the sign. (Interview 1) P`,
		"I was lonely. (Interview 2) P",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Belonging rows\n got %q\nwant %q", got, want)
	}
	if fm, _ := wb.GetCellFormula("Belonging", "D5"); fm != "" {
		t.Errorf("D5 is the formula %q", fm)
	}
	if ok, target, _ := wb.GetCellHyperLink("Index", "A6"); !ok || target != "'Weather'!A2" {
		t.Errorf("Index!A6 links to %q", target)
	}
}

func TestExportExtractsFilters(t *testing.T) {
	root := exportTestProject(t)
	tests := []struct {
		name string
		args []string
		col  string
		want []string
	}{
		{"auto only", []string{"--coder", "auto"}, "Extract", []string{"Why did you join?"}},
		{"two coders, comma list", []string{"--coder", "auto,bob"}, "Coder", []string{"bob", "bob", "auto", "bob"}},
		{"one case", []string{"--cases", "P02"}, "Extract", []string{"The garden helped.", "I was lonely."}},
		{"attribute", []string{"--attr", "site=South", "--attr", "site=west"}, "Citation", []string{"(Interview 2)", "(Interview 2)"}},
		{"a theme stands for its codes", []string{"--codes", "weather"}, "Extract", []string{"And the weather?\n\nP: It was -10 degrees.", "It was -10 degrees."}},
		{"participants only", []string{"--codes", "cold", "--roles", "participant"}, "Extract", []string{"It was -10 degrees.", "It was -10 degrees."}},
		{"merged", []string{"--codes", "first-visit", "--merge"}, "Coder", []string{"alice, bob"}},
		{"long extracts", []string{"--min-words", "4"}, "Extract", []string{"I joined in March.", `'=HYPERLINK("http://x.example","click") was on the sign.`, "And the weather?\n\nP: It was -10 degrees.", "It was -10 degrees."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-C", root, "export", "extracts", "--csv", "-"}, tc.args...)
			stdout, stderr, code := exportRun(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if got := exportColumn(t, exportCSV(t, stdout), tc.col); !slices.Equal(got, tc.want) {
				t.Errorf("%s\n got %q\nwant %q", tc.col, got, tc.want)
			}
		})
	}
}

func TestExportFormulaSafeCSV(t *testing.T) {
	root := exportTestProject(t)
	path := filepath.Join(t.TempDir(), "x.csv")
	if _, stderr, code := exportRun(t, "-C", root, "export", "extracts", "--coder", "alice", "--csv", path); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := exportColumn(t, exportCSV(t, string(data)), "Extract")
	want := []string{"I joined in March.", `'=HYPERLINK("http://x.example","click") was on the sign.`, "I was lonely.", "It was -10 degrees."}
	if !slices.Equal(got, want) {
		t.Errorf("extracts %q, want %q", got, want)
	}
}

func TestExportMatrixCommand(t *testing.T) {
	root := exportTestProject(t)
	// Sentences: P01 has 6, P02 3. alice and bob's codings cover, in P01,
	// Belonging: "I joined in March." and "=HYPERLINK(...)..." (2);
	// Weather: "And the weather?" and "It was -10 degrees." (2). In P02,
	// Belonging: "I was lonely." and "The garden helped." (2).
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"Case,Belonging,Weather,Total", "P01,2,2,4", "P02,2,0,2", "Total,4,2,6"}},
		{[]string{"--cell", "percent"}, []string{"Case,Belonging,Weather,Total", "P01,33.3,33.3,66.7", "P02,66.7,0,66.7", "Total,44.4,22.2,66.7"}},
		{[]string{"--rows", "attr:site", "--cols", "code", "--unit", "turn", "--coder", "alice"},
			[]string{"site,First visit,Outsider,Cold,Total", "North,1,0,1,2", "South,0,1,0,1", "Total,1,1,1,3"}},
	} {
		args := append([]string{"-C", root, "export", "matrix", "--csv", "-"}, tc.args...)
		stdout, stderr, code := exportRun(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, stderr)
		}
		var got []string
		for _, r := range exportCSV(t, stdout) {
			got = append(got, strings.Join(r, ","))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v:\n got %q\nwant %q", tc.args, got, tc.want)
		}
	}

	path := filepath.Join(t.TempDir(), "framework.xlsx")
	if _, stderr, code := exportRun(t, "-C", root, "export", "matrix", "--cell", "extracts", "--xlsx", path); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	wb, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Close()
	if v, _ := wb.GetCellValue("Matrix", "B3"); v != "I was lonely. (Interview 2)\n\nThe garden helped. (Interview 2)" {
		t.Errorf("framework cell P02 x Belonging = %q", v)
	}
	if v, _ := wb.GetCellValue("About", "B7"); v != "alice, bob" {
		t.Errorf("About!B7 = %q, want the coders", v)
	}
}

func TestExportCooccurrenceAndCodebook(t *testing.T) {
	root := exportTestProject(t)
	stdout, stderr, code := exportRun(t, "-C", root, "export", "cooccurrence", "--json", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var pairs []map[string]any
	if err := json.Unmarshal([]byte(stdout), &pairs); err != nil {
		t.Fatal(err)
	}
	// Codes first-visit, outsider, cold: 3 pairs, none together in a
	// sentence; first-visit in 2 sentences, outsider 1, cold 2.
	if len(pairs) != 3 || pairs[0]["with_a"] != 2.0 || pairs[0]["with_b"] != 1.0 || pairs[0]["jaccard"] != 0.0 {
		t.Errorf("pairs %v", pairs)
	}
	stdout, stderr, code = exportRun(t, "-C", root, "export", "cooccurrence", "--level", "theme", "--unit", "turn", "--coder", "alice,bob,auto", "--csv", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Belonging: p01-int's second turn, p02-int's two; Weather: p01-int's
	// third (bob's coding starts there) and fourth.
	if got := exportCSV(t, stdout)[1]; strings.Join(got, ",") != "Belonging,belonging,Weather,weather,0,3,2,0" {
		t.Errorf("pair %q", got)
	}

	path := filepath.Join(t.TempDir(), "codebook.md")
	if _, stderr, code := exportRun(t, "-C", root, "export", "codebook", "--md", path); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "| Belonging | Welcome | First visit | first-visit |  |  |  |  |  | 3 | 1 | 1 |") {
		t.Errorf("codebook.md:\n%s", data)
	}
}

func TestExportErrors(t *testing.T) {
	root := exportTestProject(t)
	out := filepath.Join(t.TempDir(), "x.xlsx")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"extracts"}, "give one of --xlsx, --csv, --json or --md"},
		{[]string{"extracts", "--csv", "a.csv", "--md", "a.md"}, "give one of --xlsx, --csv, --json or --md"},
		{[]string{"extracts", "--xlsx", out, "--coder", "carol"}, `--coder carol: no codings by "carol" (coders: alice, auto, bob)`},
		{[]string{"extracts", "--xlsx", out, "--cases", "P09"}, `--cases P09: no source belongs to case "P09"`},
		{[]string{"extracts", "--xlsx", out, "--attr", "site"}, `--attr "site": want key=value`},
		{[]string{"extracts", "--xlsx", out, "--codes", "boundaries"}, "--codes boundaries: no such code in codebook.yaml"},
		{[]string{"extracts", "--xlsx", out, "--by", "case"}, `--by "case": use theme, subtheme or code`},
		{[]string{"extracts", "--xlsx", out, "--roles", "boss"}, `--roles "boss": use interviewer, participant or other`},
		{[]string{"matrix", "--xlsx", out, "--rows", "speaker"}, `--rows "speaker": use case, source or attr:NAME`},
		{[]string{"matrix", "--xlsx", out, "--rows", "attr:wave"}, `no source or case has the attribute "wave" (attributes: site)`},
		{[]string{"matrix", "--xlsx", out, "--cols", "case"}, `--cols "case": use theme, subtheme or code`},
		{[]string{"matrix", "--xlsx", out, "--cell", "quotes"}, `--cell "quotes"`},
		{[]string{"cooccurrence", "--xlsx", out, "--unit", "word"}, `--unit "word": use sentence, paragraph or turn`},
		{[]string{"cooccurrence", "--xlsx", out, "--level", "case"}, `--level "case"`},
	} {
		_, stderr, code := exportRun(t, append([]string{"-C", root, "export"}, tc.args...)...)
		if code == 0 || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q, want one line with %q", tc.args, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed export left %s (%v)", out, err)
	}
}

func TestExportWarningsAndDefaults(t *testing.T) {
	root := exportTestProject(t)
	p, err := corpus.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	// An orphaned coding of alice's, one of a removed source, one of a
	// code missing from the codebook.
	err = store.Update("alice", func(cs []analysis.Coding) ([]analysis.Coding, error) {
		cs[0].Orphan = true
		gone, motive := cs[1], cs[2]
		gone.Source, gone.ID = "p03-int", "gone"
		motive.Code, motive.ID = "motive", "motive"
		return append(cs, gone, motive), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code := exportRun(t, "-C", root, "export", "matrix", "--coder", "alice", "--csv", filepath.Join(t.TempDir(), "m.csv"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"warning: 1 orphaned codings left out",
		"warning: codings of sources no longer in the project left out: p03-int",
		"warning: codings of codes not in the codebook left out: motive",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}

	// Only the rules have coded: the default coders are people.
	for _, c := range []string{"alice", "bob"} {
		if err := os.Remove(filepath.Join(p.Path(corpus.CodingsDir), c+".jsonl")); err != nil {
			t.Fatal(err)
		}
	}
	_, stderr, code = exportRun(t, "-C", root, "export", "extracts", "--csv", "-")
	if code == 0 || !strings.Contains(stderr, "no codings by a person yet (coders: auto); give --coder auto") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	// The codebook export needs no codings.
	stdout, stderr, code := exportRun(t, "-C", root, "export", "codebook", "--csv", "-")
	if code != 0 || len(exportCSV(t, stdout)) != 7 {
		t.Errorf("codebook without people's codings: exit %d, %s%s", code, stdout, stderr)
	}
}

func TestExportXLSXToTerminal(t *testing.T) {
	root := exportTestProject(t)
	var out, errOut bytes.Buffer
	opts := &ExportOptions{IO: &IOStreams{Out: &out, ErrOut: &errOut, OutTTY: true}, Project: func() (*corpus.Project, error) { return corpus.Open(root) },
		What: exportCodebook, XLSX: "-"}
	if err := runExport(opts); err == nil || !strings.Contains(err.Error(), "terminal") {
		t.Errorf("xlsx to a terminal: %v", err)
	}
	opts.IO.OutTTY = false
	if err := runExport(opts); err != nil || !bytes.HasPrefix(out.Bytes(), []byte("PK")) || opts.Written != "" {
		t.Errorf("xlsx to a pipe: %v, %d bytes, written %q", err, out.Len(), opts.Written)
	}
}

// A codings file that cannot be read stops every export with one line
// naming the file and line, and leaves no file behind; a source whose text
// was changed by hand is named too.
func TestExportBrokenInput(t *testing.T) {
	root := exportTestProject(t)
	p, err := corpus.Open(root)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(p.Path(corpus.CodingsDir), "alice.jsonl")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	broken := strings.Join(lines[:2], "") + `{"id":"x","source":` + "\n" + strings.Join(lines[2:], "")
	if err := os.WriteFile(path, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out.xlsx")
	for _, what := range []string{"extracts", "matrix", "cooccurrence", "codebook"} {
		_, stderr, code := exportRun(t, "-C", root, "export", what, "--coder", "alice", "--xlsx", out)
		want := filepath.Join("codings", "alice.jsonl") + ":3:"
		if code == 0 || !strings.Contains(stderr, want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q, want one line with %q", what, code, stderr, want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%s: a failed export left %s", what, out)
		}
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}

	// A text edited by hand no longer matches its sidecar.
	ids, err := p.SourceIDs()
	if err != nil {
		t.Fatal(err)
	}
	txt := p.Path(corpus.SourcesDir, ids[0]+".txt")
	if err := os.WriteFile(txt, []byte("Edited by hand.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"extracts", "--coder", "alice,bob,auto"},
		{"matrix", "--coder", "alice,bob,auto", "--cell", "words"},
		{"matrix", "--coder", "alice,bob,auto", "--cell", "extracts"},
	} {
		_, stderr, code := exportRun(t, append([]string{"-C", root, "export"}, append(args, "--csv", out)...)...)
		if code == 0 || !strings.Contains(stderr, ids[0]+".txt") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v with an edited text: exit %d, stderr %q", args, code, stderr)
		}
	}
}
