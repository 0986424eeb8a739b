package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

func TestAttachRefiCommands(t *testing.T) {
	ios, _, _ := mainTestIO()
	root := newRootCmd(ios)
	// Ours sit beside the other commands' own subcommands.
	for _, path := range [][]string{{"export", "qdpx"}, {"export", "qdc"}, {"codebook", "import"}, {"import", "qdpx"}, {"import", "quotes"}, {"export", "extracts"}} {
		cmd, rest, err := root.Find(path)
		if err != nil || len(rest) != 0 || cmd.Name() != path[1] || cmd.Parent().Name() != path[0] {
			t.Fatalf("%v: found %v (rest %v, err %v)", path, cmd.CommandPath(), rest, err)
		}
		if cmd.Example == "" {
			t.Errorf("%v has no example", path)
		}
	}
	// Parents that do not exist are made.
	bare := &cobra.Command{Use: "thematic"}
	attachRefiCommands(bare, &globals{ios: ios})
	for _, path := range [][]string{{"export", "qdpx"}, {"codebook", "import"}, {"import", "qdpx"}} {
		if cmd, _, err := bare.Find(path); err != nil || cmd.Name() != path[1] {
			t.Errorf("%v not attached to a bare root: %v", path, err)
		}
	}
}

// refiCmdProject makes a project with two sources, a codebook, cases,
// two coders' codings and a memo.
func refiCmdProject(t *testing.T) (*corpus.Project, func() (*corpus.Project, error)) {
	t.Helper()
	p, open := mainTestProject(t)
	dir := t.TempDir()
	a := mainWriteFile(t, dir, "P01-interview.txt", "I: How did you start?\nP: They showed me round and everyone said hi.\n")
	b := mainWriteFile(t, dir, "P02-interview.txt", "I: And you?\nP: Nobody spoke to me for weeks.\n")
	c := mainWriteFile(t, dir, "cases.csv", "case,age\nP01,34\nP02,61\n")
	if _, err := p.Ingest([]string{a, b, c}, corpus.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	mainWriteFile(t, p.Root, corpus.CodebookFile, `themes:
  - id: belonging
    name: Belonging
    colour: "#4E79A7"
    codes:
      - id: welcome
        name: Being welcomed
        definition: Someone makes the newcomer feel received.
      - id: outsider
        name: Feeling an outsider
`)
	mainWriteFile(t, p.Root, "memos/plan.md", "Code welcome first.\n")
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	when := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, x := range []struct{ src, quote, code, coder string }{
		{"p01-interview", "They showed me round", "welcome", "alice"},
		{"p01-interview", "They showed me round", "welcome", "bob"},
		{"p02-interview", "Nobody spoke to me", "outsider", "alice"},
	} {
		src, err := p.Source(x.src, true)
		if err != nil {
			t.Fatal(err)
		}
		i := strings.Index(src.Text, x.quote)
		cd, err := analysis.NewCoding(src.ID, src.Text, i, i+len(x.quote), x.code, x.coder, analysis.OriginManual, when)
		if err != nil {
			t.Fatal(err)
		}
		err = store.Update(x.coder, func(cs []analysis.Coding) ([]analysis.Coding, error) { return append(cs, cd), nil })
		if err != nil {
			t.Fatal(err)
		}
	}
	return p, open
}

func TestExportAndImportQDPXCommands(t *testing.T) {
	_, open := refiCmdProject(t)
	ios, _, errOut := mainTestIO()
	file := filepath.Join(t.TempDir(), "study.qdpx")
	if err := runExportQDPX(&ExportQDPXOptions{IO: ios, Project: open, File: file}); err != nil {
		t.Fatal(err)
	}
	if want := "Wrote " + file + ": 2 sources, 3 codes, 3 codings by 2 coders, 2 cases, 1 note\n"; errOut.String() != want {
		t.Errorf("export said %q, want %q", errOut.String(), want)
	}
	// Only bob, as JSON.
	ios, out, _ := mainTestIO()
	if err := runExportQDPX(&ExportQDPXOptions{IO: ios, Project: open, File: file, Coders: []string{"bob"}, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var rep struct{ Codings, Users int }
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.Codings != 1 || rep.Users != 1 {
		t.Errorf("--coder bob --json: %s (%v)", out, err)
	}
	if err := runExportQDPX(&ExportQDPXOptions{IO: ios, Project: open, File: file, Coders: []string{"carol"}}); err == nil ||
		!strings.Contains(err.Error(), "--coder carol: no such coder (coders: alice, bob)") {
		t.Errorf("unknown coder: %v", err)
	}
	if err := runExportQDPX(&ExportQDPXOptions{IO: ios, Project: open, File: file}); err != nil {
		t.Fatal(err)
	}

	// Into a new project: a dry run writes nothing.
	q, openQ := mainTestProject(t)
	ios, _, errOut = mainTestIO()
	if err := runImportQDPX(&ImportQDPXOptions{IO: ios, Project: openQ, File: file, DryRun: true, CoderMap: []string{"alice=ann"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "Would import") || !strings.Contains(errOut.String(), "Nothing was written (--dry-run).") {
		t.Errorf("dry run said:\n%s", errOut)
	}
	if ids, _ := q.SourceIDs(); len(ids) != 0 {
		t.Fatalf("the dry run wrote sources %v", ids)
	}
	ios, _, errOut = mainTestIO()
	if err := runImportQDPX(&ImportQDPXOptions{IO: ios, Project: openQ, File: file, CoderMap: []string{"alice=ann"}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Imported " + file + " (written by thematic)",
		"positions: code points (of 2 selections, on word boundaries: 2 as code points, 2 as UTF-16 code units)",
		"sources:   2 added, 0 updated, 0 unchanged",
		"codes:     3 added, 0 already in the codebook",
		`codings:   ann (user "alice"): 2 added, 0 unchanged`,
		`codings:   bob (user "bob"): 1 added, 0 unchanged`,
		"cases:     2 added, 0 updated, 0 unchanged",
		"memos:     1 added, 0 updated, 0 unchanged files; 0 code memos, 0 coding memos",
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, errOut)
		}
	}
	cs, err := analysis.Store{Dir: q.Path(corpus.CodingsDir)}.Load("ann")
	if err != nil || len(cs) != 2 || cs[0].Origin != "import:thematic" {
		t.Errorf("ann's codings: %+v %v", cs, err)
	}
	// Again, as JSON: nothing changes.
	ios, out, _ = mainTestIO()
	if err := runImportQDPX(&ImportQDPXOptions{IO: ios, Project: openQ, File: file, CoderMap: []string{"alice=ann"}, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var again struct {
		Changed bool
		Sources struct{ Unchanged []string }
		Skipped []any
	}
	if err := json.Unmarshal(out.Bytes(), &again); err != nil || again.Changed || len(again.Sources.Unchanged) != 2 || again.Skipped == nil {
		t.Errorf("second import: %s (%v)", out, err)
	}
}

func TestImportQDPXErrors(t *testing.T) {
	_, open := mainTestProject(t)
	ios, _, _ := mainTestIO()
	for _, tt := range []struct {
		opts ImportQDPXOptions
		want string
	}{
		{ImportQDPXOptions{CoderMap: []string{"alice"}}, `--coder-map "alice": write OLD=NEW`},
		{ImportQDPXOptions{CoderMap: []string{"alice="}}, `--coder-map "alice=": write OLD=NEW`},
		{ImportQDPXOptions{CoderMap: []string{"a=b", "a=c"}}, `--coder-map names "a" twice`},
		{ImportQDPXOptions{File: "none.qdpx"}, "none.qdpx: no such file"},
		{ImportQDPXOptions{File: "none.qdpx", Kind: "novel"}, `unknown kind "novel"`},
	} {
		tt.opts.IO, tt.opts.Project = ios, open
		if err := runImportQDPX(&tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want %q", tt.opts, err, tt.want)
		}
	}
	m, err := importQDPXCoderMap([]string{"Ann = Lee=ann", " bob=robert "})
	if err != nil || m["Ann = Lee"] != "ann" || m["bob"] != "robert" {
		t.Errorf("parsed %v %v", m, err)
	}
}

func TestCodebookImportAndExportQDC(t *testing.T) {
	p, open := mainTestProject(t)
	ios, out, errOut := mainTestIO()
	file := filepath.Join("..", "..", "codebook", "testdata", "qdc", "tree.qdc")
	if err := runCodebookImport(&CodebookImportOptions{IO: ios, Project: open, File: file, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "Would add 15 codes to codebook.yaml from "+file+"; 0 codes already there") ||
		!strings.Contains(errOut.String(), "skipped: 1 code set") || !strings.Contains(errOut.String(), "Nothing was written") {
		t.Errorf("dry run said:\n%s", errOut)
	}
	before, _ := os.ReadFile(p.Path(corpus.CodebookFile))
	if strings.Contains(string(before), "money") {
		t.Fatal("the dry run wrote the codebook")
	}
	errOut.Reset()
	if err := runCodebookImport(&CodebookImportOptions{IO: ios, Project: open, File: file}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(errOut.String(), "Added 15 codes to codebook.yaml") || !strings.Contains(errOut.String(), "2 codes nested too deep") {
		t.Errorf("import said:\n%s", errOut)
	}
	if err := runCodebookImport(&CodebookImportOptions{IO: ios, Project: open, File: file, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Added   []string
		Matched int
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || len(res.Added) != 0 || res.Matched != 15 {
		t.Errorf("second import: %s %v", out, err)
	}
	// Out again as a .qdc, into another project: the same codes.
	qdc := filepath.Join(t.TempDir(), "out.qdc")
	errOut.Reset()
	if err := runExportQDC(&ExportQDCOptions{IO: ios, Project: open, File: qdc}); err != nil {
		t.Fatal(err)
	}
	if errOut.String() != "Wrote "+qdc+": 15 codes\n" {
		t.Errorf("export qdc said %q", errOut)
	}
	_, open2 := mainTestProject(t)
	errOut.Reset()
	if err := runCodebookImport(&CodebookImportOptions{IO: ios, Project: open2, File: qdc}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(errOut.String(), "Added 15 codes") {
		t.Errorf("re-import said %q", errOut)
	}
	// An empty codebook cannot be a .qdc.
	_, open3 := mainTestProject(t)
	if err := runExportQDC(&ExportQDCOptions{IO: ios, Project: open3, File: qdc}); err == nil || !strings.HasPrefix(err.Error(), "codebook.yaml: the codebook has no themes") {
		t.Errorf("empty codebook: %v", err)
	}
}

func TestImportQDPXThroughMain(t *testing.T) {
	_, open := refiCmdProject(t)
	p, _ := open()
	file := filepath.Join(t.TempDir(), "study.qdpx")
	ios, _, errOut := mainTestIO()
	if code := Main([]string{"-C", p.Root, "export", "qdpx", file}, ios); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	q, _ := mainTestProject(t)
	ios, _, errOut = mainTestIO()
	if code := Main([]string{"-C", q.Root, "import", "qdpx", "--coder-map", "bob=robert", file}, ios); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errOut)
	}
	coders, err := analysis.Store{Dir: q.Path(corpus.CodingsDir)}.Coders()
	if err != nil || strings.Join(coders, ",") != "alice,robert" {
		t.Errorf("coders %v %v", coders, err)
	}
	ios, _, errOut = mainTestIO()
	if code := Main([]string{"-C", q.Root, "import", "qdpx", filepath.Join(t.TempDir(), "x.qdpx")}, ios); code != 1 ||
		!strings.HasPrefix(errOut.String(), "thematic: ") || strings.Count(errOut.String(), "\n") != 1 {
		t.Errorf("a missing file: exit %d, %q", code, errOut)
	}
}
