package export

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
)

var updateRefi = flag.Bool("update-refi", false, "rewrite the golden files under testdata/refi")

// refiXSDPath returns the official schema's path and an empty reason, or
// why files cannot be validated here.
func refiXSDPath(schema string) (string, string) {
	xsd := filepath.Join("..", "..", "shared", "refi", "schemas", schema)
	if _, err := os.Stat(xsd); err != nil {
		return "", "schema " + xsd + " not found (../shared missing)"
	}
	if _, err := exec.LookPath("xmllint"); err != nil {
		return "", "xmllint not on PATH (Debian: apt-get install libxml2-utils)"
	}
	return xsd, ""
}

// refiXSD validates file against an official REFI-QDA schema with xmllint.
// Where that cannot be done it says so and lets the test go on: the rest
// of the test does not depend on it (TestRefiExportsValidate skips then).
func refiXSD(t *testing.T, schema, file string) {
	t.Helper()
	xsd, why := refiXSDPath(schema)
	if why != "" {
		t.Logf("%s: not validated against %s", why, schema)
		return
	}
	out, err := exec.Command("xmllint", "--noout", "--schema", xsd, file).CombinedOutput()
	if err != nil {
		t.Fatalf("%s does not validate against %s: %v\n%s", file, schema, err, out)
	}
}

const refiTestCodebook = `name: Golden study
themes:
  - id: belonging
    name: Finding a place
    definition: Feeling the garden is theirs.
    when_to_use: Being received, fitting in.
    when_not_to_use: Know-how passed on.
    examples: ["people say hi", "part of something"]
    colour: "#4E79A7"
    memo: The theme we began with.
    subthemes:
      - id: arriving
        name: Arriving
        codes:
          - id: welcome
            name: Being welcomed
            definition: A person making the newcomer feel received.
            codes:
              - id: named
                name: Known by name
    codes:
      - id: outsider
        name: "Feeling like an outsider <still>"
  - id: learning
    name: Learning & growing
`

// refiTestSource makes a source as ingest would, without a project.
func refiTestSource(t *testing.T, id, title, kind, caseID, text string, attrs map[string]string) *corpus.Source {
	t.Helper()
	segs, speakers := corpus.Segments(corpus.Document{Text: text, Format: "txt"}, kind, nil)
	return &corpus.Source{ID: id, Title: title, Kind: kind, Case: caseID, Attrs: attrs, Format: "txt", Text: text,
		Segments: segs, Speakers: speakers, SHA: corpus.HashText(text), Number: 1}
}

// refiTestCoding codes the first occurrence of quote in src.
func refiTestCoding(t *testing.T, src *corpus.Source, quote, code, coder, memo string, when time.Time) analysis.Coding {
	t.Helper()
	i := strings.Index(src.Text, quote)
	if i < 0 {
		t.Fatalf("%q not in %s", quote, src.ID)
	}
	start := len([]rune(src.Text[:i]))
	c, err := analysis.NewCoding(src.ID, src.Text, start, start+len([]rune(quote)), code, coder, analysis.OriginManual, when)
	if err != nil {
		t.Fatal(err)
	}
	c.Memo = memo
	return c
}

func refiTestProject(t *testing.T) *RefiProject {
	t.Helper()
	cb, probs := codebook.Parse("codebook.yaml", []byte(refiTestCodebook))
	if len(probs) > 0 {
		t.Fatal(probs[0])
	}
	p1 := refiTestSource(t, "p01", "P01 interview", corpus.KindInterview, "P01",
		"I: How did it start?\nP: They showed me round the café 😀 and everyone said hi.\n", map[string]string{"wave": "1"})
	d1 := refiTestSource(t, "d01", "P01 diary", corpus.KindDiary, "P01",
		"3 May\nStill feel like an outsider <at times> & that's fine.\n", map[string]string{"wave": "2"})
	when := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	orphan := refiTestCoding(t, p1, "hi", "welcome", "alice", "", when)
	orphan.Orphan = true
	return &RefiProject{
		Name:     "Golden study",
		Codebook: cb,
		Sources:  []*corpus.Source{p1, d1},
		Cases: corpus.Cases{
			"P01": {"age": "34", "site": "North, by the canal"},
			"P02": {"consent": "true", "joined": "2025-04-01"},
		},
		Codings: []analysis.Coding{
			refiTestCoding(t, p1, "They showed me round", "welcome", "alice", "The tour mattered.", when),
			refiTestCoding(t, p1, "They showed me round", "welcome", "bob", "", when.Add(time.Hour)),
			refiTestCoding(t, p1, "They showed me round", "belonging", "bob", "", when.Add(time.Hour)),
			refiTestCoding(t, p1, "café 😀 and everyone", "named", "alice", "", when),
			refiTestCoding(t, d1, "like an outsider <at times> &", "outsider", "alice", "", when),
			orphan,
			refiTestCoding(t, d1, "fine", "gone", "alice", "", when),
			{ID: "x", Source: "nowhere", Start: 0, End: 1, Quote: "x", Code: "welcome", Coder: "alice", Time: when},
		},
		Memos: []Memo{{File: "Research diary.md", Text: "Day one: we met at the gate.\n"}},
		GUIDs: analysis.NewRefiGUIDs("Golden study"),
	}
}

func TestBuildQDEGolden(t *testing.T) {
	x := refiTestProject(t)
	x.GUIDs.Adopt(analysis.RefiCode, "learning", "{ABCDEF01-2345-4678-89AB-CDEF01234567}")
	qde, files, rep, err := BuildQDE(x)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "refi", "small.qde")
	if *updateRefi {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, qde, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update-refi to create it)", err)
	}
	if !bytes.Equal(qde, want) {
		t.Errorf("project.qde differs from %s (run -update-refi and review the diff):\n%s", path, qde)
	}
	tmp := filepath.Join(t.TempDir(), "project.qde")
	os.WriteFile(tmp, qde, 0o644)
	refiXSD(t, "Project.xsd", tmp)

	wantRep := RefiExportReport{Sources: 2, Codes: 6, Users: 2, Codings: 5, Cases: 2, Variables: 6, Notes: 3,
		Skipped: []string{
			"1 codings of codes that are not in the codebook (see 'thematic doctor')",
			"1 codings of sources that are not in the project",
			"1 orphaned codings (their text changed; see 'thematic status')",
		}}
	if fmt.Sprint(*rep) != fmt.Sprint(wantRep) {
		t.Errorf("report %+v\nwant %+v", *rep, wantRep)
	}
	if len(files) != 2 {
		t.Fatalf("%d source files", len(files))
	}
	// Every selection's positions are code points of its source file.
	sel := regexp.MustCompile(`<TextSource guid="([^"]+)"|<PlainTextSelection guid="[^"]+" startPosition="(\d+)" endPosition="(\d+)"`)
	quotes := map[string]bool{}
	for _, c := range x.Codings {
		quotes[c.Quote] = true
	}
	var text []rune
	n := 0
	for _, m := range sel.FindAllStringSubmatch(string(qde), -1) {
		if m[1] != "" {
			text = []rune(files[m[1]+".txt"])
			continue
		}
		var s, e int
		fmt.Sscan(m[2], &s)
		fmt.Sscan(m[3], &e)
		if !quotes[string(text[s:e])] {
			t.Errorf("selection %d-%d is %q, which no coding quotes", s, e, string(text[s:e]))
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d selections, want 3", n)
	}
}

// TestRefiExportsValidate validates a project export and a codebook export
// against the official schemas, or skips when xmllint is missing.
func TestRefiExportsValidate(t *testing.T) {
	for _, schema := range []string{"Project.xsd", "Codebook.xsd"} {
		if _, why := refiXSDPath(schema); why != "" {
			t.Skip(why + ": not validating the exports")
		}
	}
	x := refiTestProject(t)
	qde, _, _, err := BuildQDE(x)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "project.qde"), qde, 0o644)
	refiXSD(t, "Project.xsd", filepath.Join(dir, "project.qde"))
	if _, err := WriteQDCFile(filepath.Join(dir, "codebook.qdc"), x.Codebook, x.GUIDs); err != nil {
		t.Fatal(err)
	}
	refiXSD(t, "Codebook.xsd", filepath.Join(dir, "codebook.qdc"))
}

func TestWriteQDPXDeterministic(t *testing.T) {
	x := refiTestProject(t)
	var a, b bytes.Buffer
	if _, err := WriteQDPX(&a, x); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteQDPX(&b, x); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two exports of the same project differ")
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Modified.Year() != 2025 {
			t.Errorf("%s dated %v, want the newest coding's time", f.Name, f.Modified)
		}
		if strings.HasPrefix(f.Name, "sources/") {
			rc, _ := f.Open()
			data, _ := io.ReadAll(rc)
			rc.Close()
			found := false
			for _, s := range x.Sources {
				found = found || string(data) == s.Text
			}
			if !found {
				t.Errorf("%s holds no source's text", f.Name)
			}
		}
	}
	if len(names) != 3 || names[0] != "project.qde" || !strings.HasPrefix(names[1], "sources/") || !strings.HasSuffix(names[2], ".txt") {
		t.Errorf("entries %v", names)
	}
}

func TestWriteQDCFile(t *testing.T) {
	x := refiTestProject(t)
	path := filepath.Join(t.TempDir(), "codebook.qdc")
	n, err := WriteQDCFile(path, x.Codebook, x.GUIDs)
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 {
		t.Errorf("%d codes written, want 6", n)
	}
	refiXSD(t, "Codebook.xsd", path)
	data, _ := os.ReadFile(path)
	q, err := codebook.ReadQDC(path, data)
	if err != nil {
		t.Fatal(err)
	}
	// The codes have the GUIDs a project export gives them.
	qde, _, _, err := BuildQDE(x)
	if err != nil {
		t.Fatal(err)
	}
	var walk func(cs []*codebook.QDCCode)
	walk = func(cs []*codebook.QDCCode) {
		for _, c := range cs {
			if !bytes.Contains(qde, []byte(`<Code guid="`+c.GUID+`" name="`)) {
				t.Errorf("code %q: GUID %s is not the project export's", c.Name, c.GUID)
			}
			walk(c.Children)
		}
	}
	walk(q.Codes)
	empty, _ := codebook.Parse("empty.yaml", []byte("themes: []\n"))
	if _, err := WriteQDCFile(filepath.Join(t.TempDir(), "e.qdc"), empty, x.GUIDs); err == nil {
		t.Error("an empty codebook was written")
	}
}

// refiRoundTripProject makes a real project: ingested files, a codebook,
// cases, two coders' codings with memos, and a memo file.
func refiRoundTripProject(t *testing.T, dir string) *corpus.Project {
	t.Helper()
	p, err := corpus.Init(dir, "Round trip")
	if err != nil {
		t.Fatal(err)
	}
	in := t.TempDir()
	files := map[string]string{
		"P01-interview.txt": "I: How did you come to the garden?\r\nP: A neighbour brought me. They showed me round and everyone said hi.\r\n\r\nI: And now?\r\nP: Now I know the names of half the street. Naïve, maybe 😀.\r\n",
		"P02-diary.md":      "---\nkind: diary\nwave: 2\n---\n# 3 May\nStill feel like an outsider at times.\n\n# 10 May\nBernadette gave me her spare spade.\n",
		"cases.csv":         "case,age,site,consent\nP01,34,North,true\nP02,61,\"South, by the canal\",false\n",
	}
	var paths []string
	for name, body := range files {
		path := filepath.Join(in, name)
		os.WriteFile(path, []byte(body), 0o644)
		paths = append(paths, path)
	}
	sort.Strings(paths)
	if _, err := p.Ingest(paths, corpus.IngestOptions{Now: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Path(corpus.CodebookFile), []byte(refiTestCodebook), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p.Path(corpus.MemosDir, "Research diary.md"), []byte("Day one.\n\nWe met at the gate.\n"), 0o644)
	os.WriteFile(p.Path(corpus.MemosDir, "analytic-notes.md"), []byte("Belonging first, then learning."), 0o644)
	srcs, err := p.Sources(true)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]*corpus.Source{}
	for _, s := range srcs {
		by[s.ID] = s
	}
	when := time.Date(2025, 6, 2, 9, 30, 0, 0, time.UTC)
	interview, diary := by["p01-interview"], by["p02-diary"]
	if interview == nil || diary == nil {
		t.Fatalf("sources %v", srcs)
	}
	alice := []analysis.Coding{
		refiTestCoding(t, interview, "They showed me round", "welcome", "alice", "The tour.", when),
		refiTestCoding(t, interview, "everyone said hi", "named", "alice", "", when),
		refiTestCoding(t, interview, "Naïve, maybe 😀", "belonging", "alice", "", when),
		refiTestCoding(t, diary, "like an outsider", "outsider", "alice", "", when),
	}
	bob := []analysis.Coding{
		refiTestCoding(t, interview, "They showed me round", "welcome", "bob", "", when.Add(time.Minute)),
		refiTestCoding(t, diary, "her spare spade", "learning", "bob", "Sharing tools.\nAnd seeds.", when.Add(time.Minute)),
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	if err := store.Save("alice", alice); err != nil {
		t.Fatal(err)
	}
	if err := store.Save("bob", bob); err != nil {
		t.Fatal(err)
	}
	return p
}

// refiExportProject exports a project as the command does.
func refiExportProject(t *testing.T, p *corpus.Project, path string) *RefiExportReport {
	t.Helper()
	cb, err := codebook.Load(p.Path(corpus.CodebookFile))
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := p.Sources(true)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		t.Fatal(err)
	}
	all, err := analysis.Store{Dir: p.Path(corpus.CodingsDir)}.LoadAll()
	if err != nil {
		t.Fatal(err)
	}
	var cs []analysis.Coding
	for _, coder := range refiKeys(all) {
		cs = append(cs, all[coder]...)
	}
	memos, err := ReadMemos(p.Path(corpus.MemosDir))
	if err != nil {
		t.Fatal(err)
	}
	guids, err := analysis.LoadRefiGUIDs(p)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := WriteQDPXFile(path, &RefiProject{Name: analysis.RefiProjectName(p), Codebook: cb, Sources: srcs,
		Cases: cases, Codings: cs, Memos: memos, GUIDs: guids})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func refiUnzip(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		data, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = data
	}
	return out
}

// TestRefiRoundTrip exports a project, imports the file into a new project
// and exports that: the two files must hold the same codes, codings,
// cases, sources and notes, GUIDs and all. Only the project's name differs.
func TestRefiRoundTrip(t *testing.T) {
	a := refiRoundTripProject(t, filepath.Join(t.TempDir(), "a"))
	fileA := filepath.Join(t.TempDir(), "a.qdpx")
	repA := refiExportProject(t, a, fileA)
	if repA.Codings != 6 || repA.Users != 2 || repA.Cases != 2 || repA.Notes != 5 || len(repA.Skipped) != 0 {
		t.Fatalf("export A: %+v", repA)
	}
	zipA := refiUnzip(t, fileA)
	qdeA := filepath.Join(t.TempDir(), "project.qde")
	os.WriteFile(qdeA, zipA["project.qde"], 0o644)
	refiXSD(t, "Project.xsd", qdeA)

	b, err := corpus.Init(filepath.Join(t.TempDir(), "b"), "Another name")
	if err != nil {
		t.Fatal(err)
	}
	im, err := analysis.PrepareRefiImport(b, fileA, analysis.RefiImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Report.Skipped) != 0 || im.Report.Positions != analysis.RefiCodePoints {
		t.Errorf("import: %+v", im.Report)
	}
	if err := im.Apply(); err != nil {
		t.Fatal(err)
	}
	fileB := filepath.Join(t.TempDir(), "b.qdpx")
	refiExportProject(t, b, fileB)
	zipB := refiUnzip(t, fileB)

	name := regexp.MustCompile(`(<Project [^>]*)name="[^"]*"`)
	qa := name.ReplaceAllString(string(zipA["project.qde"]), `$1name=""`)
	qb := name.ReplaceAllString(string(zipB["project.qde"]), `$1name=""`)
	if qa != qb {
		t.Errorf("project.qde differs after a round trip:\n--- first export\n%s\n--- after import and export\n%s", qa, qb)
	}
	if len(zipA) != len(zipB) {
		t.Errorf("%d entries, then %d", len(zipA), len(zipB))
	}
	for n, data := range zipA {
		if n != "project.qde" && !bytes.Equal(data, zipB[n]) {
			t.Errorf("%s differs after a round trip", n)
		}
	}

	// The imported project holds what the first had, in thematic's terms.
	cbA, _ := codebook.Load(a.Path(corpus.CodebookFile))
	cbB, err := codebook.Load(b.Path(corpus.CodebookFile))
	if err != nil {
		t.Fatal(err)
	}
	fields := func(cb *codebook.Codebook) []string {
		var out []string
		for _, n := range cb.Codes() {
			out = append(out, fmt.Sprintf("%d %q %q %q %q %q %q %q", len(n.Path()), n.Name, n.Definition, n.WhenToUse, n.WhenNotToUse, n.Examples, n.Colour, n.Memo))
		}
		return out
	}
	if fa, fb := fields(cbA), fields(cbB); fmt.Sprint(fa) != fmt.Sprint(fb) {
		t.Errorf("codebooks differ:\n%s\n%s", strings.Join(fa, "\n"), strings.Join(fb, "\n"))
	}
	casesA, _ := corpus.ReadCases(a.Path(corpus.CasesFile))
	casesB, _ := corpus.ReadCases(b.Path(corpus.CasesFile))
	if fmt.Sprint(casesA) != fmt.Sprint(casesB) {
		t.Errorf("cases differ: %v, %v", casesA, casesB)
	}
	codings := func(p *corpus.Project) []string {
		all, _ := analysis.Store{Dir: p.Path(corpus.CodingsDir)}.LoadAll()
		srcs, _ := p.Sources(false)
		title := map[string]string{}
		for _, s := range srcs {
			title[s.ID] = s.Title + "/" + s.Kind + "/" + s.Case + "/" + formatKV(s.Attrs)
		}
		cb, _ := codebook.Load(p.Path(corpus.CodebookFile))
		var out []string
		for _, cs := range all {
			for _, c := range cs {
				out = append(out, fmt.Sprintf("%s %d-%d %q %q %s %s %q", title[c.Source], c.Start, c.End, c.Quote, cb.Node(c.Code).Name, c.Coder, c.Time.Format(time.RFC3339), c.Memo))
			}
		}
		sort.Strings(out)
		return out
	}
	if ca, cb := codings(a), codings(b); fmt.Sprint(ca) != fmt.Sprint(cb) {
		t.Errorf("codings differ:\n%s\n%s", strings.Join(ca, "\n"), strings.Join(cb, "\n"))
	}
	for _, m := range []string{"Research diary.md", "analytic-notes.md"} {
		ma, _ := os.ReadFile(a.Path(corpus.MemosDir, m))
		mb, err := os.ReadFile(b.Path(corpus.MemosDir, m))
		if err != nil || !bytes.Equal(ma, mb) {
			t.Errorf("memo %s: %q, then %q (%v)", m, ma, mb, err)
		}
	}

	// Importing a project's own export into it changes nothing.
	im, err = analysis.PrepareRefiImport(a, fileA, analysis.RefiImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if im.Changed() {
		t.Errorf("importing its own export would change the project: %+v", im.Report)
	}
}

func formatKV(m map[string]string) string {
	var parts []string
	for _, k := range refiKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

func TestReadMemos(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "b.md"), []byte("B\r\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("\xEF\xBB\xBFA"), 0o644)
	os.WriteFile(filepath.Join(dir, ".hidden.md"), []byte("x"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	ms, err := ReadMemos(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ms) != "[{a.txt A} {b.md B\n}]" {
		t.Errorf("memos %v", ms)
	}
	if ms, err := ReadMemos(filepath.Join(dir, "none")); err != nil || ms != nil {
		t.Errorf("missing folder: %v %v", ms, err)
	}
}

func BenchmarkBuildQDE(b *testing.B) {
	cb, probs := codebook.Parse("codebook.yaml", []byte(refiTestCodebook))
	if len(probs) > 0 {
		b.Fatal(probs[0])
	}
	codes := []string{"belonging", "arriving", "welcome", "named", "outsider", "learning"}
	x := &RefiProject{Name: "bench", Codebook: cb, GUIDs: analysis.NewRefiGUIDs("bench"), Cases: corpus.Cases{}}
	text := strings.Repeat("They showed me round the garden and everyone said hi to me. ", 50)
	for i := 0; i < 50; i++ {
		id := fmt.Sprintf("s%02d", i)
		x.Sources = append(x.Sources, &corpus.Source{ID: id, Title: id, Kind: corpus.KindInterview, Case: fmt.Sprintf("P%02d", i%10), Text: text})
		for j := 0; j < 200; j++ {
			start := (j * 13) % 2900
			c, err := analysis.NewCoding(id, text, start, start+40, codes[j%len(codes)], []string{"alice", "bob"}[j%2], analysis.OriginManual, time.Unix(1750000000, 0))
			if err != nil {
				b.Fatal(err)
			}
			x.Codings = append(x.Codings, c)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		if _, _, _, err := BuildQDE(x); err != nil {
			b.Fatal(err)
		}
	}
}

// refiReference writes project.qde of q the plain way, every element
// through encoding/xml: what the hand-written sources must match.
func refiReference(t *testing.T, q *refiQDE) []byte {
	t.Helper()
	proj := *q.proj
	notes := slices.Clone(q.notes)
	if len(q.srcs) > 0 {
		proj.Sources = &qdeSources{}
		for _, s := range q.srcs {
			var ts qdeTextSource
			ts, notes = q.textSource(s, notes)
			proj.Sources.TextSource = append(proj.Sources.TextSource, ts)
		}
	}
	if len(notes) > 0 {
		proj.Notes = &qdeNotes{Note: notes}
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(&proj); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// refiOddProject has what tests the escaping: names, titles and
// attribute values with markup, quotes, white space and characters XML
// cannot hold, a source without codings and one without attributes.
func refiOddProject(t *testing.T) *RefiProject {
	t.Helper()
	x := refiTestProject(t)
	odd := refiTestSource(t, "odd", "Tab\there \"quoted\" <b> & 'single'\r\nline\x01", corpus.KindNotes, "P<2>", "Plain text. Another sentence.\n",
		map[string]string{"note": "a < b & \"c\"\n\ttabbed", "empty": ""})
	bare := refiTestSource(t, "bare", "", corpus.KindDiary, "", "Nothing coded here.\n", nil)
	x.Sources = append(x.Sources, odd, bare)
	when := time.Date(2025, 6, 1, 8, 30, 0, 0, time.UTC)
	x.Codings = append(x.Codings,
		refiTestCoding(t, odd, "Plain text.", "learning", "carol", "memo with <markup> & \"quotes\"", when),
		refiTestCoding(t, odd, "Plain text.", "named", "carol", "", when.Add(-time.Minute)),
		refiTestCoding(t, odd, "Another", "learning", "bob", "", when))
	return x
}

// The sources written by hand are what encoding/xml would write.
func TestRefiSourcesAsEncodingXML(t *testing.T) {
	for name, x := range map[string]*RefiProject{"golden": refiTestProject(t), "odd": refiOddProject(t)} {
		t.Run(name, func(t *testing.T) {
			q, err := newRefiQDE(x)
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := q.write(&got); err != nil {
				t.Fatal(err)
			}
			want := refiReference(t, q)
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("project.qde differs from encoding/xml's:\n got %s\nwant %s", got.Bytes(), want)
			}
		})
	}
}

// A streamed project (metadata, texts read on demand, codings one at a
// time) exports the same bytes as one held whole, and reads each text once.
func TestRefiStreamedSameBytes(t *testing.T) {
	for name, x := range map[string]*RefiProject{"golden": refiTestProject(t), "odd": refiOddProject(t)} {
		t.Run(name, func(t *testing.T) {
			var want bytes.Buffer
			wantRep, err := WriteQDPX(&want, x)
			if err != nil {
				t.Fatal(err)
			}
			full := map[string]*corpus.Source{}
			s := *x
			s.Sources = nil
			for _, src := range x.Sources {
				full[src.ID] = src
				meta := *src
				meta.Text, meta.Segments = "", nil
				s.Sources = append(s.Sources, &meta)
			}
			reads := map[string]int{}
			s.Read = func(id string, withText bool) (*corpus.Source, error) {
				reads[id]++
				if !withText {
					t.Errorf("text of %s not asked for", id)
				}
				return full[id], nil
			}
			s.Each, s.Codings = scrambledEach(x.Codings), nil
			texts := map[string]int{}
			for _, textAlone := range []bool{false, true} {
				clear(reads)
				s.Text = nil
				if textAlone {
					s.Text = func(id string) (string, error) {
						texts[id]++
						return full[id].Text, nil
					}
				}
				var got bytes.Buffer
				rep, err := WriteQDPX(&got, &s)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Errorf("the streamed export differs (text alone: %v)", textAlone)
				}
				if fmt.Sprint(rep) != fmt.Sprint(wantRep) {
					t.Errorf("report %+v, want %+v", rep, wantRep)
				}
				for id := range full {
					if n := max(reads[id], texts[id]); n != 1 || (textAlone && reads[id] > 0) {
						t.Errorf("%s read %d times whole, its text %d times alone", id, reads[id], texts[id])
					}
				}
			}
		})
	}
}

// A source that cannot be read fails the export.
func TestRefiStreamedReadError(t *testing.T) {
	x := refiTestProject(t)
	broken := errors.New("sources/d01.txt: text does not match its sidecar's sha256")
	x.Read = func(id string, withText bool) (*corpus.Source, error) { return nil, broken }
	if _, err := WriteQDPX(io.Discard, x); !errors.Is(err, broken) {
		t.Errorf("err = %v, want %v", err, broken)
	}
}
