package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

const (
	sheetTestInterview = "I: How do you manage your time?\nP: I set limits on my time. Evenings are mine.\nI: Do you say no?\nP: Yes. I say no.\n"
	sheetTestDiary     = "2025-03-03\nFelt naïve about the role 😀. Then I said no.\n"
	sheetTestCodebook  = `themes:
  - id: boundaries
    name: Boundaries
    codes:
      - id: limits
        name: Setting limits
        definition: Limits on time or availability.
      - id: saying-no
        name: Saying no
  - id: feelings
    name: Feelings
    codes:
      - id: naivety
        name: Feeling naive
`
)

var sheetTestTime = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// sheetTestProject makes a project with the interview p01 and the diary d01
// and returns it with the folder of the ingested files.
func sheetTestProject(t *testing.T) (*corpus.Project, string) {
	t.Helper()
	p, err := corpus.Init(filepath.Join(t.TempDir(), "study"), "sheet study")
	if err != nil {
		t.Fatal(err)
	}
	in := t.TempDir()
	for _, f := range []struct{ name, body, kind string }{
		{"p01.txt", sheetTestInterview, corpus.KindInterview},
		{"d01.txt", sheetTestDiary, corpus.KindDiary},
	} {
		path := mainWriteFile(t, in, f.name, f.body)
		if _, err := p.Ingest([]string{path}, corpus.IngestOptions{Kind: f.kind}); err != nil {
			t.Fatal(err)
		}
	}
	mainWriteFile(t, p.Root, corpus.CodebookFile, sheetTestCodebook)
	return p, in
}

func sheetTestOpen(p *corpus.Project) func() (*corpus.Project, error) {
	return func() (*corpus.Project, error) { return corpus.Open(p.Root) }
}

func sheetTestExport(t *testing.T, p *corpus.Project, mod func(o *SheetExportOptions)) (string, string) {
	t.Helper()
	ios, _, errOut := mainTestIO()
	opts := &SheetExportOptions{IO: ios, Project: sheetTestOpen(p), Coder: "bob", Unit: corpus.UnitSentence,
		Out: filepath.Join(t.TempDir(), "bob.xlsx"), Now: func() time.Time { return sheetTestTime }}
	if mod != nil {
		mod(opts)
	}
	if err := runSheetExport(opts); err != nil {
		t.Fatal(err)
	}
	return opts.Out, errOut.String()
}

func sheetTestImport(p *corpus.Project, file string, mod func(o *SheetImportOptions)) (string, string, error) {
	ios, out, errOut := mainTestIO()
	opts := &SheetImportOptions{IO: ios, Project: sheetTestOpen(p), File: file, Now: func() time.Time { return sheetTestTime }}
	if mod != nil {
		mod(opts)
	}
	err := runSheetImport(opts)
	return out.String(), errOut.String(), err
}

// sheetTestFill puts values in the cells of the rows with the given keys,
// as a co-author would, and saves the workbook. Each edit is key, column,
// value; key "" is the header row.
func sheetTestFill(t *testing.T, path string, edits ...[3]string) {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(analysis.SheetNameCoding)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]int{"": 1}
	for i, r := range rows {
		if len(r) > 0 && i > 0 {
			keys[r[0]] = i + 1
		}
	}
	for _, e := range edits {
		row, ok := keys[e[0]]
		if !ok {
			t.Fatalf("no row %q", e[0])
		}
		if err := f.SetCellValue(analysis.SheetNameCoding, fmt.Sprintf("%s%d", e[1], row), e[2]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
}

// sheetTestCodings lists a coder's codings as "source quote code".
func sheetTestCodings(t *testing.T, p *corpus.Project, coder string) []string {
	t.Helper()
	cs, err := analysis.Store{Dir: p.Path(corpus.CodingsDir)}.Load(coder)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string][]rune{}
	var out []string
	for _, c := range cs {
		if texts[c.Source] == nil {
			src, err := p.Source(c.Source, true)
			if err != nil {
				t.Fatal(err)
			}
			texts[c.Source] = []rune(src.Text)
		}
		if got := string(texts[c.Source][c.Start:c.End]); got != c.Quote || c.Origin != analysis.OriginSheet || c.Coder != coder {
			t.Errorf("coding %+v: span slices %q", c, got)
		}
		s := c.Source + " " + c.Quote + " " + c.Code
		if c.Memo != "" {
			s += " (" + c.Memo + ")"
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

func TestSheetExportImport(t *testing.T) {
	p, _ := sheetTestProject(t)
	path, msg := sheetTestExport(t, p, func(o *SheetExportOptions) { o.Roles = []string{"participant"} })
	if want := "Wrote " + path + ": 6 sentences of 2 sources, 3 codes to code, for bob."; !strings.Contains(msg, want) {
		t.Errorf("export said %q, want %q", msg, want)
	}
	// Columns: F limits, G saying-no, H naivety; rows: d01 (3-4), p01 (5-8).
	sheetTestFill(t, path,
		[3]string{"p01:t2.p1.s1", "F", "x"},
		[3]string{"p01:t4.p1.s2", "G", "X"},
		[3]string{"d01:e1.p1.s1", "H", "yes"},
		[3]string{"d01:e1.p1.s2", "G", "✓"})
	_, msg, err := sheetTestImport(p, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Imported 4 codings of bob from " + path + " (6 rows)."; !strings.Contains(msg, want) {
		t.Errorf("import said %q, want %q", msg, want)
	}
	want := []string{
		"d01 Felt naïve about the role 😀. naivety",
		"d01 Then I said no. saying-no",
		"p01 I say no. saying-no",
		"p01 I set limits on my time. limits",
	}
	if got := sheetTestCodings(t, p, "bob"); !slices.Equal(got, want) {
		t.Errorf("bob's codings\n%q\nwant\n%q", got, want)
	}

	// Importing again adds nothing; with one mark taken back and
	// --replace, that coding goes.
	if _, msg, err = sheetTestImport(p, path, nil); err != nil || !strings.Contains(msg, "bob already had 4 codings in the sheet's sources and codes; kept") {
		t.Errorf("second import: %v, %q", err, msg)
	}
	if got := sheetTestCodings(t, p, "bob"); !slices.Equal(got, want) {
		t.Errorf("after a second import\n%q\nwant\n%q", got, want)
	}
	sheetTestFill(t, path, [3]string{"p01:t4.p1.s2", "G", ""})
	if _, msg, err = sheetTestImport(p, path, func(o *SheetImportOptions) { o.Replace = true }); err != nil || !strings.Contains(msg, "Replaced 4 earlier codings of bob") {
		t.Errorf("--replace: %v, %q", err, msg)
	}
	if got := sheetTestCodings(t, p, "bob"); !slices.Equal(got, slices.Delete(slices.Clone(want), 2, 3)) {
		t.Errorf("after --replace: %q", got)
	}
}

func TestSheetImportOtherCoderAndJSON(t *testing.T) {
	p, _ := sheetTestProject(t)
	// The theme feelings stands for its one code, naivety: column F.
	path, _ := sheetTestExport(t, p, func(o *SheetExportOptions) { o.Codes = []string{"feelings"}; o.Sources = []string{"d01"} })
	sheetTestFill(t, path, [3]string{"d01:e1.p1.s1", "F", "1"})
	out, _, err := sheetTestImport(p, path, func(o *SheetImportOptions) { o.Coder = "carol"; o.JSON = true; o.DryRun = true })
	if err != nil {
		t.Fatal(err)
	}
	var res sheetImportResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if res.Coder != "carol" || res.Mode != "codes" || res.Rows != 2 || res.Codings != 1 || !res.DryRun {
		t.Errorf("result %+v", res)
	}
	if _, err := os.Stat(p.Path(corpus.CodingsDir, "carol.jsonl")); !os.IsNotExist(err) {
		t.Errorf("--dry-run wrote carol's codings (%v)", err)
	}
	if _, _, err := sheetTestImport(p, path, func(o *SheetImportOptions) { o.Coder = "carol" }); err != nil {
		t.Fatal(err)
	}
	if got := sheetTestCodings(t, p, "carol"); !slices.Equal(got, []string{"d01 Felt naïve about the role 😀. naivety"}) {
		t.Errorf("carol's codings %q", got)
	}
}

func TestSheetReview(t *testing.T) {
	p, _ := sheetTestProject(t)
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	var alice []analysis.Coding
	for _, c := range []struct{ src, quote, code string }{
		{"p01", "I set limits on my time.", "limits"},
		{"p01", "I say no.", "limits"},
		{"d01", "Felt naïve", "naivety"},
	} {
		src, err := p.Source(c.src, true)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(src.Text, c.quote)
		start := len([]rune(src.Text[:i]))
		cd, err := analysis.NewCoding(c.src, src.Text, start, start+len([]rune(c.quote)), c.code, "alice", analysis.OriginManual, sheetTestTime)
		if err != nil {
			t.Fatal(err)
		}
		alice = append(alice, cd)
	}
	if err := store.Save("alice", alice); err != nil {
		t.Fatal(err)
	}
	path, msg := sheetTestExport(t, p, func(o *SheetExportOptions) { o.From = "alice" })
	if !strings.Contains(msg, "3 codings of alice in 2 sources, for bob to review") {
		t.Errorf("export said %q", msg)
	}
	// "I: How do you manage your time?\nP: " is 35 code points; "I say
	// no." starts at 105; in the diary "2025-03-03\n" is 11.
	sheetTestFill(t, path,
		[3]string{"p01@35-59#limits", "H", "accept"},
		[3]string{"p01@35-59#limits", "J", "clear"},
		[3]string{"p01@105-114#limits", "H", "correct"},
		[3]string{"p01@105-114#limits", "I", "saying-no"},
		[3]string{"d01@11-21#naivety", "H", "reject"})
	_, msg, err := sheetTestImport(p, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "Imported 2 codings of bob from "+path+" (3 rows: 1 accepted, 1 rejected, 1 corrected).") {
		t.Errorf("import said %q", msg)
	}
	want := []string{"p01 I say no. saying-no", "p01 I set limits on my time. limits (clear)"}
	if got := sheetTestCodings(t, p, "bob"); !slices.Equal(got, want) {
		t.Errorf("bob's codings %q, want %q", got, want)
	}
	// alice cannot import a review of her own codings.
	if _, _, err := sheetTestImport(p, path, func(o *SheetImportOptions) { o.Coder = "alice" }); err == nil || !strings.Contains(err.Error(), "import it as another coder") {
		t.Errorf("alice importing her review: %v", err)
	}
}

// A refused sheet names each problem's cell and leaves the codings as
// they were, byte for byte.
func TestSheetImportRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edits  [][3]string
		change bool // re-ingest p01 with other text after the export
		want   []string
	}{
		{name: "text edited", edits: [][3]string{{"p01:t2.p1.s1", "E", "I set limits on my time!"}},
			want: []string{"Coding!E5: text differs from segment p01:t2.p1.s1 at character 24"}},
		{name: "unknown code and bad mark", edits: [][3]string{{"", "I", "x"}, {"p01:t4.p1.s2", "F", "?"}},
			want: []string{`Coding!I1: unknown code "x"`, `Coding!F8: unknown mark "?"`}},
		{name: "source changed", change: true,
			want: []string{`About!B13: source "p01" has changed since the sheet was made (its sha256 differs; rows 5-8); export a new sheet`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, in := sheetTestProject(t)
			path, _ := sheetTestExport(t, p, func(o *SheetExportOptions) { o.Roles = []string{"participant"} })
			if _, _, err := sheetTestImport(p, path, nil); err != nil { // bob's codings so far: none, but a file
				t.Fatal(err)
			}
			before, err := os.ReadFile(p.Path(corpus.CodingsDir, "bob.jsonl"))
			if err != nil {
				t.Fatal(err)
			}
			sheetTestFill(t, path, append([][3]string{{"p01:t2.p1.s1", "F", "x"}}, tc.edits...)...)
			if tc.change {
				changed := mainWriteFile(t, in, "p01.txt", strings.Replace(sheetTestInterview, "Evenings", "Nights", 1))
				if _, err := p.Ingest([]string{changed}, corpus.IngestOptions{Kind: corpus.KindInterview}); err != nil {
					t.Fatal(err)
				}
			}
			_, msg, err := sheetTestImport(p, path, nil)
			n := len(tc.want)
			if err == nil || err.Error() != fmt.Sprintf("%s: %d %s in the sheet; nothing was imported", path, n, sheetPlural(n, "problem", "problems")) {
				t.Errorf("error %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, path+": "+w) {
					t.Errorf("stderr %q lacks %q", msg, w)
				}
			}
			after, err := os.ReadFile(p.Path(corpus.CodingsDir, "bob.jsonl"))
			if err != nil || !bytes.Equal(before, after) {
				t.Errorf("bob's codings changed: %v\n%s", err, after)
			}
		})
	}
}

// At most 20 problems are printed; the exit status is 1.
func TestSheetImportManyProblems(t *testing.T) {
	p, _ := sheetTestProject(t)
	path, _ := sheetTestExport(t, p, nil)
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for row := 3; row <= 10; row++ {
		for _, col := range []string{"F", "G", "H"} {
			f.SetCellValue(analysis.SheetNameCoding, fmt.Sprintf("%s%d", col, row), "?")
		}
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ios, _, errOut := mainTestIO()
	if code := Main([]string{"-C", p.Root, "sheet", "import", path}, ios); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
	if len(lines) != 22 || lines[20] != path+": ... and 4 more problems" ||
		lines[21] != "thematic: "+path+": 24 problems in the sheet; nothing was imported" {
		t.Errorf("stderr:\n%s", errOut)
	}
}

func TestSheetExportFlags(t *testing.T) {
	p, _ := sheetTestProject(t)
	for _, tc := range []struct {
		name string
		mod  func(o *SheetExportOptions)
		want string
	}{
		{"no coder", func(o *SheetExportOptions) { o.Coder = "" }, "--coder is required"},
		{"auto", func(o *SheetExportOptions) { o.Coder = "auto" }, "belongs to 'thematic autocode'"},
		{"bad coder", func(o *SheetExportOptions) { o.Coder = "Bob" }, "upper-case"},
		{"no out", func(o *SheetExportOptions) { o.Out = "" }, "--out is required"},
		{"not xlsx", func(o *SheetExportOptions) { o.Out = "bob.csv" }, "must end in .xlsx"},
		{"bad unit", func(o *SheetExportOptions) { o.Unit = "word" }, `--unit "word"`},
		{"bad role", func(o *SheetExportOptions) { o.Roles = []string{"speaker"} }, `--roles "speaker"`},
		{"unknown code", func(o *SheetExportOptions) { o.Codes = []string{"limits", "limts"} }, `no code "limts"`},
		{"unknown source", func(o *SheetExportOptions) { o.Sources = []string{"p09"} }, `no source "p09"`},
		{"review self", func(o *SheetExportOptions) { o.From = "bob" }, "cannot review their own codings"},
		{"from nobody", func(o *SheetExportOptions) { o.From = "alice" }, "alice has no codings"},
		{"nothing listed", func(o *SheetExportOptions) { o.Roles = []string{"other"} }, "no segments to put on the sheet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ios, _, _ := mainTestIO()
			opts := &SheetExportOptions{IO: ios, Project: sheetTestOpen(p), Coder: "bob", Unit: corpus.UnitSentence,
				Out: filepath.Join(t.TempDir(), "bob.xlsx"), Now: time.Now}
			tc.mod(opts)
			err := runSheetExport(opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if _, serr := os.Stat(opts.Out); opts.Out != "" && !os.IsNotExist(serr) {
				t.Errorf("%s written despite the error", opts.Out)
			}
		})
	}
}

func TestSheetExportJSON(t *testing.T) {
	p, _ := sheetTestProject(t)
	ios, out, _ := mainTestIO()
	path := filepath.Join(t.TempDir(), "bob.xlsx")
	opts := &SheetExportOptions{IO: ios, Project: sheetTestOpen(p), Coder: "bob", Unit: corpus.UnitTurn,
		Codes: []string{"boundaries"}, Out: path, JSON: true, Now: time.Now}
	if err := runSheetExport(opts); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Mode    string   `json:"mode"`
		Rows    int      `json:"rows"`
		Sources int      `json:"sources"`
		Codes   []string `json:"codes"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	// Turns: two of the interviewer, two of the participant, one diary entry.
	if got.Mode != "codes" || got.Rows != 5 || got.Sources != 2 || !slices.Equal(got.Codes, []string{"limits", "saying-no"}) {
		t.Errorf("got %+v", got)
	}
}

func TestSheetHelp(t *testing.T) {
	for _, sub := range []string{"export", "import"} {
		ios, out, _ := mainTestIO()
		if code := Main([]string{"sheet", sub, "--help"}, ios); code != 0 {
			t.Errorf("sheet %s --help: exit %d", sub, code)
		}
		if !strings.Contains(out.String(), "Examples:\n  thematic sheet "+sub) {
			t.Errorf("sheet %s --help lacks examples:\n%s", sub, out)
		}
	}
}

// sheetTestBreakText changes a source's text behind its sidecar's back,
// so that reading the text fails its sha256 check.
func sheetTestBreakText(t *testing.T, p *corpus.Project, id string) {
	t.Helper()
	path := p.Path(corpus.SourcesDir, id+".txt")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A different size, so that no cached key can take it for the old text.
	if err := os.WriteFile(path, append(data, "edited\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A source whose text cannot be read stops the export, which writes
// nothing; named with --sources, the error says so.
func TestSheetExportUnreadableSource(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(o *SheetExportOptions)
		want string
	}{
		{"all sources", func(o *SheetExportOptions) {}, "d01.txt: text does not match"},
		{"named", func(o *SheetExportOptions) { o.Sources = []string{"p01", "d01"} }, "--sources: " + filepath.Join(corpus.SourcesDir, "d01.txt") + ": text does not match"},
		{"review", func(o *SheetExportOptions) { o.From = "alice" }, "d01.txt: text does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := sheetTestProject(t)
			var alice []analysis.Coding
			for _, id := range []string{"p01", "d01"} {
				src, err := p.Source(id, true)
				if err != nil {
					t.Fatal(err)
				}
				c, err := analysis.NewCoding(id, src.Text, 0, 4, "limits", "alice", analysis.OriginManual, sheetTestTime)
				if err != nil {
					t.Fatal(err)
				}
				alice = append(alice, c)
			}
			if err := (analysis.Store{Dir: p.Path(corpus.CodingsDir)}).Save("alice", alice); err != nil {
				t.Fatal(err)
			}
			sheetTestBreakText(t, p, "d01")
			ios, _, _ := mainTestIO()
			dir := t.TempDir()
			opts := &SheetExportOptions{IO: ios, Project: sheetTestOpen(p), Coder: "bob", Unit: corpus.UnitSentence,
				Out: filepath.Join(dir, "bob.xlsx"), Now: time.Now}
			tc.mod(opts)
			err := runSheetExport(opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) > 0 {
				t.Errorf("left in the output folder: %v", entries)
			}
		})
	}
}

// An import reads only the sources the sheet lists: one broken elsewhere
// in the project does not stop it, a listed one does, and a listed one
// removed since is reported as gone.
func TestSheetImportReadsListedSources(t *testing.T) {
	p, _ := sheetTestProject(t)
	path, _ := sheetTestExport(t, p, func(o *SheetExportOptions) { o.Sources = []string{"p01"} })
	sheetTestFill(t, path, [3]string{"p01:t2.p1.s1", "F", "x"})
	sheetTestBreakText(t, p, "d01")
	if _, msg, err := sheetTestImport(p, path, nil); err != nil {
		t.Fatalf("import with d01 broken: %v\n%s", err, msg)
	}
	if got := sheetTestCodings(t, p, "bob"); !slices.Equal(got, []string{"p01 I set limits on my time. limits"}) {
		t.Errorf("bob's codings %q", got)
	}
	sheetTestBreakText(t, p, "p01")
	if _, _, err := sheetTestImport(p, path, nil); err == nil || !strings.Contains(err.Error(), "p01.txt: text does not match") {
		t.Errorf("import with p01 broken: %v", err)
	}
	if err := p.RemoveSource("p01"); err != nil {
		t.Fatal(err)
	}
	_, msg, err := sheetTestImport(p, path, nil)
	if err == nil || !strings.Contains(msg, `source "p01" is no longer in the project`) {
		t.Errorf("import with p01 gone: %v\n%s", err, msg)
	}
}
