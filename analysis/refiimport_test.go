package analysis

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

const refiSamples = "../../shared/refi/samples"

// refiSample returns the path of a sample REFI file, or skips.
func refiSample(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(refiSamples, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("sample %s not found (../shared missing): %v", p, err)
	}
	return p
}

func refiTestProject(t testing.TB) *corpus.Project {
	t.Helper()
	p, err := corpus.Init(filepath.Join(t.TempDir(), "study"), "study")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// refiImport prepares and applies an import, failing the test on error.
func refiImport(t *testing.T, p *corpus.Project, file string, opts RefiImportOptions) *RefiReport {
	t.Helper()
	im, err := PrepareRefiImport(p, file, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := im.Apply(); err != nil {
		t.Fatal(err)
	}
	return im.Report
}

// refiSnapshot hashes every file of a project but the cache.
func refiSnapshot(t *testing.T, p *corpus.Project) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(p.Root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == corpus.CacheDir {
				return filepath.SkipDir
			}
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		rel, _ := filepath.Rel(p.Root, path)
		out[rel] = hex.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// refiZipEntries reads every entry of a zip.
func refiZipEntries(t *testing.T, file string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[zf.Name] = data
	}
	return out
}

// sampleQDE is the part of a project.qde these tests read on their own,
// with encoding/xml, to check the import against.
type sampleQDE struct {
	Codes   []sampleCode `xml:"CodeBook>Codes>Code"`
	Sources []struct {
		GUID string `xml:"guid,attr"`
		Name string `xml:"name,attr"`
		Path string `xml:"plainTextPath,attr"`
		Sels []struct {
			Start   int `xml:"startPosition,attr"`
			End     int `xml:"endPosition,attr"`
			Codings []struct {
				Ref struct {
					Target string `xml:"targetGUID,attr"`
				} `xml:"CodeRef"`
			} `xml:"Coding"`
		} `xml:"PlainTextSelection"`
	} `xml:"Sources>TextSource"`
}

type sampleCode struct {
	GUID  string       `xml:"guid,attr"`
	Name  string       `xml:"name,attr"`
	Codes []sampleCode `xml:"Code"`
}

func (q *sampleQDE) codeNames() map[string]string {
	out := map[string]string{}
	var walk func(cs []sampleCode)
	walk = func(cs []sampleCode) {
		for _, c := range cs {
			out[strings.ToLower(c.GUID)] = c.Name
			walk(c.Codes)
		}
	}
	walk(q.Codes)
	return out
}

func readSampleQDE(t *testing.T, data []byte) *sampleQDE {
	t.Helper()
	var q sampleQDE
	if err := xml.Unmarshal(data, &q); err != nil {
		t.Fatal(err)
	}
	return &q
}

// refiCodingsOf loads every coder's codings of a project.
func refiCodingsOf(t *testing.T, p *corpus.Project) []Coding {
	t.Helper()
	all, err := Store{Dir: p.Path(corpus.CodingsDir)}.LoadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []Coding
	for _, c := range refiSortedKeys(all) {
		out = append(out, all[c]...)
	}
	return out
}

// TestRefiImportQCSample checks that every selection of the qc sample
// lands on exactly the text the file's positions give, read from the
// file's own source texts, with the file's code.
func TestRefiImportQCSample(t *testing.T) {
	file := refiSample(t, "qc-1.3.2-demo.qdpx")
	p := refiTestProject(t)
	rep := refiImport(t, p, file, RefiImportOptions{})
	if rep.Positions != RefiCodePoints {
		t.Errorf("positions read as %s (%s)", rep.Positions, rep.Evidence)
	}
	if len(rep.Skipped) != 0 {
		t.Errorf("skipped: %+v", rep.Skipped)
	}
	entries := refiZipEntries(t, file)
	q := readSampleQDE(t, entries["project.qde"])
	names := q.codeNames()
	cb, err := codebook.Load(p.Path(corpus.CodebookFile))
	if err != nil {
		t.Fatal(err)
	}
	cs := refiCodingsOf(t, p)
	type key struct {
		source     string
		start, end int
		code       string
	}
	byKey := map[key]Coding{}
	for _, c := range cs {
		if c.Coder != "cp" || c.Origin != "import:qc" {
			t.Fatalf("coding %+v: coder or origin", c)
		}
		byKey[key{c.Source, c.Start, c.End, c.Code}] = c
	}
	sels, codings := 0, 0
	for _, s := range q.Sources {
		text := []rune(string(entries["sources/"+s.Path]))
		id := corpus.Slug(strings.TrimSuffix(s.Path, ".txt"))
		for _, sel := range s.Sels {
			sels++
			want := string(text[sel.Start:sel.End])
			for _, c := range sel.Codings {
				codings++
				name := names[strings.ToLower(c.Ref.Target)]
				found := false
				for k, got := range byKey {
					if k.source != id || k.start != sel.Start || k.end != sel.End {
						continue
					}
					n := cb.Node(k.code)
					if n == nil || (n.Name != name && !strings.HasSuffix(n.Name, " › "+name)) {
						continue
					}
					found = true
					if got.Quote != want {
						t.Errorf("%s %d-%d: quote %q, the file's text %q", id, sel.Start, sel.End, got.Quote, want)
					}
				}
				if !found {
					t.Errorf("no coding of %s %d-%d with code %q", id, sel.Start, sel.End, name)
				}
			}
		}
	}
	if sels != 158 || codings != 205 || len(cs) != 205 {
		t.Errorf("%d selections, %d codings in the file, %d imported; want 158, 205, 205", sels, codings, len(cs))
	}
	if rep.Codes.Added != 262 || rep.Codes.Flattened != 38 {
		t.Errorf("codes: %+v", rep.Codes)
	}
	if got := rep.Sources.Added; !slices.Equal(got, []string{"board-2017", "admin-1"}) {
		t.Errorf("sources added %v", got)
	}
}

// TestRefiImportNVivoSample checks that NVivo's UTF-16 positions are
// recognised and converted: every quote equals the file's text read by
// UTF-16 units, and the selections start and end on word boundaries.
func TestRefiImportNVivoSample(t *testing.T) {
	file := refiSample(t, "nvivo-win-12.6.qdpx")
	p := refiTestProject(t)
	rep := refiImport(t, p, file, RefiImportOptions{})
	if rep.Positions != RefiUTF16 {
		t.Fatalf("positions read as %s (%s)", rep.Positions, rep.Evidence)
	}
	entries := refiZipEntries(t, file)
	q := readSampleQDE(t, entries["project.qde"])
	cs := refiCodingsOf(t, p)
	if len(cs) != 303 {
		t.Fatalf("%d codings imported, want 303", len(cs))
	}
	quotes := map[string]int{}
	for _, c := range cs {
		quotes[c.Source+"\x00"+c.Quote]++
	}
	for _, s := range q.Sources {
		raw := strings.TrimPrefix(string(entries["Sources/"+strings.TrimPrefix(s.Path, "internal://")]), "\uFEFF")
		units := utf16.Encode([]rune(raw))
		id := corpus.Slug(s.Name)
		for _, sel := range s.Sels {
			want := corpus.NormalizeString(string(utf16.Decode(units[sel.Start:sel.End])))
			if quotes[id+"\x00"+want] == 0 {
				t.Errorf("%s %d-%d: no coding quotes %.60q", id, sel.Start, sel.End, want)
			}
		}
	}
	onWords := 0
	texts := map[string]string{}
	for _, c := range cs {
		if texts[c.Source] == "" {
			src, err := p.Source(c.Source, true)
			if err != nil {
				t.Fatal(err)
			}
			texts[c.Source] = src.Text
		}
		x := NewTextIndex(texts[c.Source])
		if refiWordEdge(x, c.Start) && refiWordEdge(x, c.End) {
			onWords++
		}
	}
	if onWords < 300 {
		t.Errorf("%d of 303 codings start and end on word boundaries, want at least 300", onWords)
	}
	if len(rep.Coders) != 1 || rep.Coders[0].Coder != "gergo" || rep.Coders[0].Added != 303 {
		t.Errorf("coders %+v", rep.Coders)
	}
}

// refiWordEdge reports whether code point i of the indexed text is not
// inside a word.
func refiWordEdge(x *TextIndex, i int) bool {
	if i <= 0 || i >= x.Len() {
		return true
	}
	b := x.byteAt(i)
	r1, _ := utf8.DecodeLastRuneInString(x.text[:b])
	r2, _ := utf8.DecodeRuneInString(x.text[b:])
	return !(refiWordChar(r1) && refiWordChar(r2))
}

func TestRefiImportATLASSample(t *testing.T) {
	file := refiSample(t, "atlasti-mac-8.4.qdpx")
	p := refiTestProject(t)
	rep := refiImport(t, p, file, RefiImportOptions{})
	counts := map[string]int{}
	for _, s := range rep.Skipped {
		switch {
		case strings.HasPrefix(s.What, "text source "), strings.HasPrefix(s.What, "text of PDF "), strings.HasPrefix(s.What, "transcript "):
			if !strings.Contains(s.Why, "is not in the archive") {
				t.Errorf("%s: %s", s.What, s.Why)
			}
			counts["missing text"] += s.Count
		case strings.HasPrefix(s.What, "PictureSource"):
			counts["picture"] += s.Count
		case strings.HasPrefix(s.What, "PDFSource"):
			counts["pdf"] += s.Count
		case strings.HasPrefix(s.What, "AudioSource"), strings.HasPrefix(s.What, "VideoSource"):
			counts["media"] += s.Count
		default:
			counts[s.What] += s.Count
		}
	}
	want := map[string]int{"missing text": 11, "picture": 1, "pdf": 2, "media": 3, "set": 16, "link": 1, "graph": 1}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%d skipped %s, want %d (%+v)", counts[k], k, v, rep.Skipped)
		}
	}
	if rep.Codes.Added != 14 {
		t.Errorf("codes %+v", rep.Codes)
	}
	cb, err := codebook.Load(p.Path(corpus.CodebookFile))
	if err != nil {
		t.Fatal(err)
	}
	coke := cb.Node("coke")
	if coke == nil || len(coke.Children) != 2 || coke.Children[0].Name != "full-fat Coke" || coke.Definition != "the breakfast of champions" {
		t.Errorf("Coke: %+v", coke)
	}
	if n := cb.Node("rushed"); n == nil || n.Name != `"rushed"` {
		t.Errorf("rushed: %+v", n)
	}
	memo, err := os.ReadFile(p.Path(corpus.MemosDir, "Research Plan.md"))
	if err != nil || string(memo) != "day to day log about this amazing project\n\nThis is a great project by a dynamic team of researcher-developers. " {
		t.Errorf("memo: %q, %v", memo, err)
	}
	if len(refiCodingsOf(t, p)) != 0 {
		t.Error("codings were imported of sources whose text is missing")
	}
}

func TestRefiImportTwiceChangesNothing(t *testing.T) {
	for _, name := range []string{"qc-1.3.2-demo.qdpx", "nvivo-win-12.6.qdpx", "atlasti-mac-8.4.qdpx", "nvivo-mac-15.0.qdpx"} {
		t.Run(name, func(t *testing.T) {
			file := refiSample(t, name)
			p := refiTestProject(t)
			first := refiImport(t, p, file, RefiImportOptions{Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)})
			before := refiSnapshot(t, p)
			im, err := PrepareRefiImport(p, file, RefiImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if im.Changed() {
				t.Errorf("a second import would change the project: %+v", im.Report)
			}
			if fmt.Sprint(im.Report.Skipped) != fmt.Sprint(first.Skipped) {
				t.Errorf("the second import skips other things:\n%v\n%v", first.Skipped, im.Report.Skipped)
			}
			if err := im.Apply(); err != nil {
				t.Fatal(err)
			}
			after := refiSnapshot(t, p)
			for f, h := range after {
				if before[f] != h {
					t.Errorf("%s changed", f)
				}
			}
			if len(after) != len(before) {
				t.Errorf("%d files before, %d after", len(before), len(after))
			}
		})
	}
}

// refiEntry is a file to put into a test archive.
type refiEntry struct{ name, body string }

// refiWriteQDPX makes a .qdpx in a temporary folder.
func refiWriteQDPX(t testing.TB, entries ...refiEntry) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.qdpx")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// GUIDs for hand-made test files.
const (
	gUser  = "aaaaaaaa-0000-4000-8000-000000000001"
	gUser2 = "aaaaaaaa-0000-4000-8000-000000000002"
	gCodeA = "bbbbbbbb-0000-4000-8000-000000000001"
	gCodeB = "bbbbbbbb-0000-4000-8000-000000000002"
	gSrc   = "cccccccc-0000-4000-8000-000000000001"
	gSrc2  = "cccccccc-0000-4000-8000-000000000002"
	gVarA  = "dddddddd-0000-4000-8000-000000000001"
	gVarB  = "dddddddd-0000-4000-8000-000000000002"
	gVarK  = "dddddddd-0000-4000-8000-000000000003"
	gCase  = "eeeeeeee-0000-4000-8000-000000000001"
	gCase2 = "eeeeeeee-0000-4000-8000-000000000002"
	gNote1 = "ffffffff-0000-4000-8000-000000000001"
	gNote2 = "ffffffff-0000-4000-8000-000000000002"
	gNote3 = "ffffffff-0000-4000-8000-000000000003"
	gNote4 = "ffffffff-0000-4000-8000-000000000004"
)

var refiGUIDCounter int

// refiSel makes a PlainTextSelection with codings of the given code GUIDs by
// gUser.
func refiSel(start, end int, codes ...string) string {
	var b strings.Builder
	refiGUIDCounter++
	b.WriteString(`<PlainTextSelection guid="99999999-0000-4000-8000-` + pad12(refiGUIDCounter) + `" startPosition="` + strconv.Itoa(start) + `" endPosition="` + strconv.Itoa(end) + `">`)
	for _, c := range codes {
		refiGUIDCounter++
		b.WriteString(`<Coding guid="88888888-0000-4000-8000-` + pad12(refiGUIDCounter) + `" creatingUser="` + gUser + `" creationDateTime="2025-03-04T05:06:07Z"><CodeRef targetGUID="` + c + `"/></Coding>`)
	}
	b.WriteString(`</PlainTextSelection>`)
	return b.String()
}

func pad12(n int) string {
	s := strconv.Itoa(n)
	return strings.Repeat("0", 12-len(s)) + s
}

// refiQDE wraps sections into a project.qde.
func refiQDE(sections ...string) string {
	return `<?xml version="1.0" encoding="utf-8"?>` + "\n" +
		`<Project xmlns="urn:QDA-XML:project:1.0" name="test" origin="Hand 1.0">` + "\n" +
		strings.Join(sections, "\n") + "\n</Project>\n"
}

const testUsers = `<Users><User guid="` + gUser + `" name="Ann Lee"/><User guid="` + gUser2 + `" name="auto"/></Users>`

const testCodes = `<CodeBook><Codes><Code guid="` + gCodeA + `" name="Welcome" isCodable="true" color="#00ff00"><Description>Being received.</Description><NoteRef targetGUID="` + gNote1 + `"/>` +
	`<Code guid="` + gCodeB + `" name="Tours" isCodable="true"/></Code></Codes></CodeBook>`

const testText = "I: How was the first day?\nP: They showed me round and everyone said hi.\n"

// at is where word starts and ends in testText, in code points.
func at(word string) (int, int) {
	i := strings.Index(testText, word)
	if i < 0 {
		panic(word)
	}
	n := utf8.RuneCountInString(testText[:i])
	return n, n + utf8.RuneCountInString(word)
}

// selOf selects word in testText with codings of codes.
func selOf(word string, codes ...string) string {
	s, e := at(word)
	return refiSel(s, e, codes...)
}

// refiTestSource is a TextSource over testText.
func refiTestSource(inner string) string {
	return `<Sources><TextSource guid="` + gSrc + `" name="Interview 1" plainTextPath="internal://` + gSrc + `.txt">` + inner + `</TextSource></Sources>`
}

func TestRefiImportBadFiles(t *testing.T) {
	good := refiQDE(testUsers, testCodes, refiTestSource(selOf("They showed", gCodeA)))
	text := refiEntry{"sources/" + gSrc + ".txt", testText}
	zeros := strings.Repeat("\x00", 3<<20)
	tests := []struct {
		name    string
		file    func(t *testing.T) string
		limits  RefiLimits
		want    string
		line    int
		inQDE   bool // the error names the .qde inside the archive
		notZip  bool
		hasFile bool
	}{
		{name: "zip slip", file: func(t *testing.T) string {
			return refiWriteQDPX(t, refiEntry{"project.qde", good}, refiEntry{"../../evil.txt", "x"})
		}, want: "zip slip"},
		{name: "absolute entry", file: func(t *testing.T) string {
			return refiWriteQDPX(t, refiEntry{"project.qde", good}, refiEntry{"/etc/evil", "x"})
		}, want: "zip slip"},
		{name: "windows climb", file: func(t *testing.T) string {
			return refiWriteQDPX(t, refiEntry{"project.qde", good}, refiEntry{`sources\..\..\evil.txt`, "x"})
		}, want: "zip slip"},
		{name: "no project.qde", file: func(t *testing.T) string {
			return refiWriteQDPX(t, text)
		}, want: "no project.qde"},
		{name: "neither zip nor xml", file: func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "x.qdpx")
			os.WriteFile(p, []byte("hello"), 0o644)
			return p
		}, want: "neither a .qdpx"},
		{name: "missing file", file: func(t *testing.T) string { return filepath.Join(t.TempDir(), "none.qdpx") }, want: "no such file"},
		{name: "broken zip", file: func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "x.qdpx")
			os.WriteFile(p, []byte("PK\x03\x04 broken"), 0o644)
			return p
		}, want: "not a readable zip"},
		{name: "not REFI", file: func(t *testing.T) string {
			return refiWriteQDPX(t, refiEntry{"project.qde", "<html><body/></html>"})
		}, want: "not a REFI-QDA project: the root element is <html>", line: 1, inQDE: true},
		{name: "a codebook", file: func(t *testing.T) string {
			return refiWriteQDPX(t, refiEntry{"project.qde", `<CodeBook xmlns="urn:QDA-XML:codebook:1.0"/>`})
		}, want: "this is a REFI-QDA codebook", line: 1, inQDE: true},
		{name: "broken XML", file: func(t *testing.T) string {
			return refiWriteQDPX(t, refiEntry{"project.qde", "<Project xmlns=\"urn:QDA-XML:project:1.0\">\n<Users>\n<User guid=\"x\">\n</Project>"})
		}, want: "XML syntax error", line: 4, inQDE: true},
		{name: "duplicate code GUID", file: func(t *testing.T) string {
			return refiWriteQDPX(t, refiEntry{"project.qde", refiQDE(testUsers,
				"<CodeBook><Codes>\n<Code guid=\""+gCodeA+"\" name=\"A\" isCodable=\"true\"/>\n<Code guid=\"{"+strings.ToUpper(gCodeA)+"}\" name=\"B\" isCodable=\"true\"/>\n</Codes></CodeBook>")}, text)
		}, want: "duplicate GUID " + gCodeA + ": another code has it (line 5)", line: 6, inQDE: true},
		{name: "duplicate source GUID", file: func(t *testing.T) string {
			src := `<TextSource guid="` + gSrc + `" plainTextPath="internal://` + gSrc + `.txt"/>`
			return refiWriteQDPX(t, refiEntry{"project.qde", refiQDE("<Sources>\n" + src + "\n" + src + "\n</Sources>")}, text)
		}, want: "duplicate GUID", line: 5, inQDE: true},
		{name: "duplicate user GUID", file: func(t *testing.T) string {
			return refiWriteQDPX(t, refiEntry{"project.qde", refiQDE(`<Users><User guid="` + gUser + `"/><User guid="` + gUser + `"/></Users>`)})
		}, want: "duplicate GUID", inQDE: true},
		{name: "bad GUID", file: func(t *testing.T) string {
			return refiWriteQDPX(t, refiEntry{"project.qde", refiQDE(`<Users><User guid="1234" name="x"/></Users>`)})
		}, want: `guid "1234" is not a GUID`, line: 3, inQDE: true},
		{name: "bad position", file: func(t *testing.T) string {
			return refiWriteQDPX(t, refiEntry{"project.qde", refiQDE(testCodes, refiTestSource(`<PlainTextSelection guid="99999999-0000-4000-8000-000000000001" startPosition="ten" endPosition="12"/>`))}, text)
		}, want: `startPosition "ten" is not a whole number`, line: 4, inQDE: true},
		{name: "coding without code", file: func(t *testing.T) string {
			return refiWriteQDPX(t, refiEntry{"project.qde", refiQDE(testCodes, refiTestSource(`<PlainTextSelection guid="99999999-0000-4000-8000-000000000001" startPosition="1" endPosition="2"><Coding guid="88888888-0000-4000-8000-000000000001"/></PlainTextSelection>`))}, text)
		}, want: "<Coding> has no <CodeRef>", inQDE: true},
		{name: "too deep", file: func(t *testing.T) string {
			return refiWriteQDPX(t, refiEntry{"project.qde", `<Project xmlns="urn:QDA-XML:project:1.0">` + strings.Repeat("<a>", 300) + strings.Repeat("</a>", 300) + `</Project>`})
		}, want: "nested more than", inQDE: true},
		{name: "declared size over the limit", file: func(t *testing.T) string {
			return refiWriteQDPX(t, refiEntry{"project.qde", good}, refiEntry{"sources/" + gSrc + ".txt", zeros})
		}, limits: RefiLimits{Entries: 10, Entry: 1 << 20, Total: 1 << 30, Ratio: 100000}, want: "over the limit of 1048576 per entry (a zip bomb?)"},
		{name: "packed too well", file: func(t *testing.T) string {
			return refiWriteQDPX(t, refiEntry{"project.qde", good}, refiEntry{"sources/" + gSrc + ".txt", zeros})
		}, limits: RefiLimits{Entries: 10, Entry: 1 << 30, Total: 1 << 30, Ratio: 200}, want: "more than the 200:1 of any real text (a zip bomb?)"},
		{name: "total over the limit", file: func(t *testing.T) string {
			return refiWriteQDPX(t, refiEntry{"project.qde", good}, refiEntry{"sources/" + gSrc + ".txt", zeros})
		}, limits: RefiLimits{Entries: 10, Entry: 1 << 30, Total: 2 << 20, Ratio: 100000}, want: "inflate to over 2097152 bytes in all"},
		{name: "too many entries", file: func(t *testing.T) string {
			return refiWriteQDPX(t, refiEntry{"project.qde", good}, text, refiEntry{"a", ""}, refiEntry{"b", ""})
		}, limits: RefiLimits{Entries: 3, Entry: 1 << 20, Total: 1 << 20, Ratio: 200}, want: "4 entries in the archive, over the limit of 3"},
		{name: "header lies about the size", file: func(t *testing.T) string {
			return lyingQDPX(t, good)
		}, want: "other than the 10 bytes its header says"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := refiTestProject(t)
			before := refiSnapshot(t, p)
			file := tt.file(t)
			_, err := PrepareRefiImport(p, file, RefiImportOptions{Limits: tt.limits})
			var ie *errs.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v (%T), want an InputError", err, err)
			}
			if !strings.Contains(ie.Msg, tt.want) {
				t.Fatalf("err = %v; want %q", err, tt.want)
			}
			if !strings.HasPrefix(ie.File, file) {
				t.Errorf("the error names %q, not the file %q", ie.File, file)
			}
			if tt.inQDE && !strings.HasSuffix(ie.File, "/project.qde") {
				t.Errorf("the error names %q, not the .qde in the archive", ie.File)
			}
			if tt.line != 0 && ie.Line != tt.line {
				t.Errorf("the error is on line %d, want %d (%v)", ie.Line, tt.line, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error is more than one line: %q", err)
			}
			if after := refiSnapshot(t, p); len(after) != len(before) {
				t.Errorf("files were written: %d before, %d after", len(before), len(after))
			}
		})
	}
}

// lyingQDPX makes an archive whose source entry says it inflates to 10
// bytes but inflates to a megabyte.
func lyingQDPX(t *testing.T, qdeText string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("project.qde")
	io.WriteString(w, qdeText)
	var packed bytes.Buffer
	fw, _ := flate.NewWriter(&packed, flate.BestCompression)
	fw.Write(bytes.Repeat([]byte("a"), 1<<20))
	fw.Close()
	hw, err := zw.CreateRaw(&zip.FileHeader{Name: "sources/" + gSrc + ".txt", Method: zip.Deflate,
		CompressedSize64: uint64(packed.Len()), UncompressedSize64: 10})
	if err != nil {
		t.Fatal(err)
	}
	hw.Write(packed.Bytes())
	zw.Close()
	path := filepath.Join(t.TempDir(), "lying.qdpx")
	os.WriteFile(path, buf.Bytes(), 0o644)
	return path
}

func TestRefiImportReportsSkips(t *testing.T) {
	inner := selOf("They showed", gCodeA) + // imported
		refiSel(30, 500, gCodeA) + // past the end
		refiSel(12, 12, gCodeA) + // empty
		selOf("How", "bbbbbbbb-0000-4000-8000-0000000000ff") + // unknown code
		`<PlainTextSelection guid="99999999-0000-4000-8000-100000000001" startPosition="54" endPosition="62"><Description>Said by everyone?</Description></PlainTextSelection>` +
		`<PlainTextSelection guid="99999999-0000-4000-8000-100000000002" startPosition="0" endPosition="2"/>` +
		`<PlainTextSelection guid="99999999-0000-4000-8000-100000000003" startPosition="63" endPosition="67"><Coding guid="88888888-0000-4000-8000-100000000001" creatingUser="` + gUser + `"><CodeRef targetGUID="` + gCodeB + `"/><NoteRef targetGUID="` + gNote2 + `"/></Coding></PlainTextSelection>` +
		`<PlainTextSelection guid="99999999-0000-4000-8000-100000000004" startPosition="3" endPosition="6"><Coding guid="88888888-0000-4000-8000-100000000002" creatingUser="eeeeeeee-ffff-4000-8000-000000000009"><CodeRef targetGUID="` + gCodeB + `"/></Coding></PlainTextSelection>`
	sources := `<Sources>` +
		`<TextSource guid="` + gSrc + `" name="Interview 1" plainTextPath="internal://` + gSrc + `.txt">` + inner + `</TextSource>` +
		`<TextSource guid="` + gSrc2 + `" name="Lost" plainTextPath="internal://` + gSrc2 + `.txt">` + refiSel(0, 3, gCodeA) + `</TextSource>` +
		`<TextSource guid="cccccccc-0000-4000-8000-000000000003" name="Far away" plainTextPath="relative:///far.txt"/>` +
		`<PictureSource guid="cccccccc-0000-4000-8000-000000000004" name="garden.jpg" path="internal://x.jpg"><PictureSelection guid="99999999-0000-4000-8000-200000000001" firstX="1" firstY="1" secondX="5" secondY="5"><Coding guid="88888888-0000-4000-8000-200000000001"><CodeRef targetGUID="` + gCodeA + `"/></Coding></PictureSelection></PictureSource>` +
		`</Sources>`
	notes := `<Notes>` +
		`<Note guid="` + gNote1 + `" name="About welcome"><PlainTextContent>Welcome was the first code.</PlainTextContent></Note>` +
		`<Note guid="` + gNote2 + `" name="On tours"><PlainTextContent>Only one tour.</PlainTextContent></Note>` +
		`<Note guid="` + gNote3 + `" name="Research diary"><PlainTextContent>Day one: coded.</PlainTextContent></Note>` +
		`<Note guid="` + gNote4 + `" name="Empty"><PlainTextContent>  </PlainTextContent></Note>` +
		`</Notes>`
	file := refiWriteQDPX(t, refiEntry{"project.qde", refiQDE(testUsers, testCodes, sources, notes, `<Sets><Set guid="12121212-0000-4000-8000-000000000001" name="s"/></Sets>`)},
		refiEntry{"Sources/" + strings.ToUpper(gSrc) + ".TXT", testText})
	p := refiTestProject(t)
	rep := refiImport(t, p, file, RefiImportOptions{})
	want := []struct {
		what, why string
		count     int
	}{
		{"coding", "its selection lies outside the text of its source", 1},
		{"coding", "its selection is empty (start not before end)", 1},
		{"coding", "its code's GUID is not in the file's codebook", 1},
		{"text selection without codings or notes", "nothing to import", 1},
		{`text source "Lost" (1 selection, 1 coding)`, "its file internal://" + gSrc2 + ".txt is not in the archive", 1},
		{`text source "Far away" (0 selections, 0 codings)`, "an external file (relative:///far.txt), not inside the .qdpx", 1},
		{`PictureSource "garden.jpg" (1 selection, 1 coding)`, "thematic holds text only: areas of pictures cannot be coded", 1},
		{`note "Empty"`, "it is empty", 1},
		{"set", "thematic has no sets of codes or sources (use attributes or themes)", 1},
	}
	if len(rep.Skipped) != len(want) {
		t.Errorf("%d skips, want %d: %+v", len(rep.Skipped), len(want), rep.Skipped)
	}
	for _, w := range want {
		found := false
		for _, s := range rep.Skipped {
			if s.What == w.what && s.Why == w.why {
				found = true
				if s.Count != w.count || s.Where == "" {
					t.Errorf("%s: count %d where %q", s.What, s.Count, s.Where)
				}
			}
		}
		if !found {
			t.Errorf("no skip %q: %q", w.what, w.why)
		}
	}
	cs := refiCodingsOf(t, p)
	got := map[string]Coding{}
	for _, c := range cs {
		got[c.Coder+" "+c.Code+" "+c.Quote] = c
	}
	welcome := got["ann-lee welcome They showed"]
	if welcome.ID == "" || welcome.Time != time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC) || welcome.Origin != "import:hand" {
		t.Errorf("the coding of 30-39: %+v (all: %v)", welcome, refiSortedKeys(got))
	}
	if c := got["ann-lee tours said"]; c.Memo != "Only one tour." {
		t.Errorf("the coding memo: %+v", c)
	}
	if _, ok := got["user-eeeeeeee tours How"]; !ok {
		t.Errorf("the coding by an unknown user: %v", refiSortedKeys(got))
	}
	if len(cs) != 3 {
		t.Errorf("%d codings, want 3", len(cs))
	}
	cb, err := codebook.Load(p.Path(corpus.CodebookFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := cb.Node("welcome"); n == nil || n.Memo != "Welcome was the first code." || n.Definition != "Being received." || n.Colour != "#00FF00" {
		t.Errorf("welcome: %+v", n)
	}
	diary, err := os.ReadFile(p.Path(corpus.MemosDir, "Research diary.md"))
	if err != nil || string(diary) != "Day one: coded." {
		t.Errorf("memo file: %q %v", diary, err)
	}
	ann, err := os.ReadFile(p.Path(corpus.MemosDir, "note-interview-1-54-62.md"))
	if err != nil || !strings.Contains(string(ann), "> everyone") || !strings.Contains(string(ann), "Said by everyone?") {
		t.Errorf("annotation memo: %q %v", ann, err)
	}
	if rep.CodeMemos != 1 || rep.CodingMemos != 1 {
		t.Errorf("%d code memos, %d coding memos", rep.CodeMemos, rep.CodingMemos)
	}
}

func TestRefiImportCasesAndVariables(t *testing.T) {
	vars := `<Variables><Variable guid="` + gVarA + `" name="age" typeOfVariable="Integer"/><Variable guid="` + gVarB + `" name="site" typeOfVariable="Text"/><Variable guid="` + gVarK + `" name="kind" typeOfVariable="Text"/></Variables>`
	cases := `<Cases>` +
		`<Case guid="` + gCase + `" name="P01"><VariableValue><VariableRef targetGUID="` + gVarA + `"/><IntegerValue>34</IntegerValue></VariableValue>` +
		`<VariableValue><VariableRef targetGUID="` + gVarB + `"/><TextValue>North, by the canal</TextValue></VariableValue><SourceRef targetGUID="` + gSrc + `"/></Case>` +
		`<Case guid="` + gCase2 + `" name="P02"><VariableValue><VariableRef targetGUID="` + gVarB + `"/><TextValue>South</TextValue></VariableValue><SelectionRef targetGUID="99999999-0000-4000-8000-000000000001"/></Case>` +
		`</Cases>`
	src := refiTestSource(selOf("They showed", gCodeA) +
		`<VariableValue><VariableRef targetGUID="` + gVarK + `"/><TextValue>Diary</TextValue></VariableValue>` +
		`<VariableValue><VariableRef targetGUID="` + gVarA + `"/><IntegerValue>2</IntegerValue></VariableValue>`)
	file := refiWriteQDPX(t, refiEntry{"project.qde", refiQDE(testUsers, testCodes, vars, cases, src)}, refiEntry{"sources/" + gSrc + ".txt", testText})
	p := refiTestProject(t)
	if err := os.WriteFile(p.Path(corpus.CasesFile), []byte("participant,gender,age\nP01,f,34\nP09,m,70\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := refiImport(t, p, file, RefiImportOptions{})
	data, err := os.ReadFile(p.Path(corpus.CasesFile))
	if err != nil {
		t.Fatal(err)
	}
	want := "participant,gender,age,site\nP01,f,34,\"North, by the canal\"\nP09,m,70,\nP02,,,South\n"
	if string(data) != want {
		t.Errorf("cases.csv:\n%s\nwant:\n%s", data, want)
	}
	if !slices.Equal(rep.Cases.Added, []string{"P02"}) || !slices.Equal(rep.Cases.Updated, []string{"P01"}) {
		t.Errorf("cases %+v", rep.Cases)
	}
	src1, err := p.Source("interview-1", true)
	if err != nil {
		t.Fatal(err)
	}
	if src1.Case != "P01" || src1.Kind != corpus.KindDiary || src1.Attrs["age"] != "2" || src1.Number != 1 {
		t.Errorf("source: case %q kind %q attrs %v number %d", src1.Case, src1.Kind, src1.Attrs, src1.Number)
	}
	found := false
	for _, s := range rep.Skipped {
		if s.What == "selection of a case" && s.Count == 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("the case's selection was not reported: %+v", rep.Skipped)
	}
	// Again: nothing changes.
	before := refiSnapshot(t, p)
	refiImport(t, p, file, RefiImportOptions{})
	if after := refiSnapshot(t, p); !refiMapsEqual(before, after) {
		t.Error("a second import changed the project")
	}
}

func TestRefiImportCoderMap(t *testing.T) {
	inner := selOf("They showed", gCodeA) +
		`<PlainTextSelection guid="99999999-0000-4000-8000-300000000001" startPosition="3" endPosition="6"><Coding guid="88888888-0000-4000-8000-300000000001" creatingUser="` + gUser2 + `"><CodeRef targetGUID="` + gCodeB + `"/></Coding></PlainTextSelection>`
	file := refiWriteQDPX(t, refiEntry{"project.qde", refiQDE(testUsers, testCodes, refiTestSource(inner))}, refiEntry{"sources/" + gSrc + ".txt", testText})
	t.Run("default names", func(t *testing.T) {
		p := refiTestProject(t)
		rep := refiImport(t, p, file, RefiImportOptions{})
		var coders []string
		for _, c := range rep.Coders {
			coders = append(coders, c.Coder+"="+c.User)
		}
		if !slices.Equal(coders, []string{"ann-lee=Ann Lee", "auto-import=auto"}) {
			t.Errorf("coders %v", coders)
		}
	})
	t.Run("mapped", func(t *testing.T) {
		p := refiTestProject(t)
		rep := refiImport(t, p, file, RefiImportOptions{CoderMap: map[string]string{"Ann Lee": "ann", "auto": "machine"}})
		if len(rep.Coders) != 2 || rep.Coders[0].Coder != "ann" || rep.Coders[1].Coder != "machine" {
			t.Errorf("coders %+v", rep.Coders)
		}
		p2 := refiTestProject(t)
		rep = refiImport(t, p2, file, RefiImportOptions{CoderMap: map[string]string{"ann-lee": "ann"}})
		if rep.Coders[0].Coder != "ann" {
			t.Errorf("mapping by coder name: %+v", rep.Coders)
		}
	})
	for _, tt := range []struct {
		m    map[string]string
		want string
	}{
		{map[string]string{"Bob": "bob"}, `no user "Bob" in the file; its users are "Ann Lee" (coder ann-lee), "auto" (coder auto)`},
		{map[string]string{"Ann Lee": "Ann"}, "has upper-case letters"},
		{map[string]string{"Ann Lee": "auto"}, "belongs to 'thematic autocode'"},
	} {
		p := refiTestProject(t)
		_, err := PrepareRefiImport(p, file, RefiImportOptions{CoderMap: tt.m})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: err = %v, want %q", tt.m, err, tt.want)
		}
	}
}

func TestRefiImportChangedTextAndReplace(t *testing.T) {
	v1 := refiWriteQDPX(t, refiEntry{"project.qde", refiQDE(testUsers, testCodes, refiTestSource(selOf("They showed", gCodeA)+selOf("How", gCodeB)))},
		refiEntry{"sources/" + gSrc + ".txt", testText})
	p := refiTestProject(t)
	refiImport(t, p, v1, RefiImportOptions{})
	// A second coder codes "everyone" in thematic.
	src, err := p.Source("interview-1", true)
	if err != nil {
		t.Fatal(err)
	}
	start := len([]rune(testText[:strings.Index(testText, "everyone")]))
	c, err := NewCoding(src.ID, src.Text, start, start+8, "welcome", "bob", OriginManual, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	store := Store{Dir: p.Path(corpus.CodingsDir)}
	if err := store.Save("bob", []Coding{c}); err != nil {
		t.Fatal(err)
	}
	// The other tool's text gained a line; its selection moved with it.
	text2 := "Recorded in May.\n" + testText
	s2, e2 := at("They showed")
	v2 := refiWriteQDPX(t, refiEntry{"project.qde", refiQDE(testUsers, testCodes, refiTestSource(refiSel(s2+17, e2+17, gCodeA)))},
		refiEntry{"sources/" + gSrc + ".txt", text2})
	rep := refiImport(t, p, v2, RefiImportOptions{Replace: true})
	if !slices.Equal(rep.Sources.Updated, []string{"interview-1"}) {
		t.Fatalf("sources %+v", rep.Sources)
	}
	src, err = p.Source("interview-1", true)
	if err != nil {
		t.Fatal(err)
	}
	if src.Text != text2 || len(src.PrevSHA) != 1 {
		t.Errorf("source text %q, %d earlier versions", src.Text, len(src.PrevSHA))
	}
	bob, err := store.Load("bob")
	if err != nil {
		t.Fatal(err)
	}
	if len(bob) != 1 || bob[0].Orphan || bob[0].Start != start+17 || bob[0].Quote != "everyone" {
		t.Errorf("bob's coding was not re-anchored: %+v", bob)
	}
	ann, err := store.Load("ann-lee")
	if err != nil {
		t.Fatal(err)
	}
	if len(ann) != 1 || ann[0].Quote != "They showed" || ann[0].Start != s2+17 {
		t.Errorf("ann's codings after --replace: %+v", ann)
	}
	// ann's coding of "They showed" was re-anchored onto the new text, where
	// the file has it too; "How" is gone from the file and from ann's codings.
	if len(rep.Coders) != 1 || rep.Coders[0].Removed != 1 || rep.Coders[0].Unchanged != 1 || rep.Coders[0].Added != 0 {
		t.Errorf("coders %+v", rep.Coders)
	}
}

func TestRefiImportBareQDE(t *testing.T) {
	file := refiSample(t, "atlasti-mac-8.4-project.qde")
	p := refiTestProject(t)
	rep := refiImport(t, p, file, RefiImportOptions{})
	if rep.Codes.Added != 14 || len(rep.Memos.Added) != 2 {
		t.Errorf("codes %+v memos %+v", rep.Codes, rep.Memos)
	}
	for _, s := range rep.Skipped {
		if strings.HasPrefix(s.What, "text source") && !strings.Contains(s.Why, "a bare .qde carries no files") {
			t.Errorf("%s: %s", s.What, s.Why)
		}
	}
}

func TestRefiCodebookImport(t *testing.T) {
	p := refiTestProject(t)
	file := filepath.Join("..", "codebook", "testdata", "qdc", "tree.qdc")
	ci, err := PrepareRefiCodebookImport(p, file)
	if err != nil {
		t.Fatal(err)
	}
	if len(ci.Result.Added) != 15 || ci.Sets != 1 || ci.Origin != "hand-written test file" {
		t.Errorf("added %d, sets %d, origin %q", len(ci.Result.Added), ci.Sets, ci.Origin)
	}
	if err := ci.Apply(); err != nil {
		t.Fatal(err)
	}
	g, err := LoadRefiGUIDs(p)
	if err != nil {
		t.Fatal(err)
	}
	if g.GUID(RefiCode, "money") != "6f1b2c3d-0000-4000-8000-000000000010" {
		t.Errorf("money's GUID %s", g.GUID(RefiCode, "money"))
	}
	ci, err = PrepareRefiCodebookImport(p, file)
	if err != nil {
		t.Fatal(err)
	}
	if len(ci.Result.Added) != 0 || ci.Result.Matched != 15 || ci.guidsChanged {
		t.Errorf("second import: %+v", ci.Result)
	}
	if _, err := PrepareRefiCodebookImport(p, filepath.Join(t.TempDir(), "none.qdc")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
}

func TestRefiGUIDs(t *testing.T) {
	a, b := NewRefiGUIDs("study"), NewRefiGUIDs("another study")
	g := a.GUID(RefiCode, "welcome")
	if _, ok := codebook.ParseGUID(g); !ok || g[14] != '5' || !strings.ContainsRune("89ab", rune(g[19])) {
		t.Errorf("%s is not a version 5 UUID", g)
	}
	if g != NewRefiGUIDs("study").GUID(RefiCode, "welcome") {
		t.Error("the same project gives another GUID")
	}
	if g == b.GUID(RefiCode, "welcome") || g == a.GUID(RefiSource, "welcome") || g == a.GUID(RefiCode, "welcome2") {
		t.Error("different objects share a GUID")
	}
	a.Adopt(RefiCode, "welcome", "{6F1B2C3D-0000-4000-8000-000000000001}")
	if a.GUID(RefiCode, "welcome") != "6f1b2c3d-0000-4000-8000-000000000001" || a.Derived(RefiCode, "welcome") != g {
		t.Error("a kept GUID is not used")
	}
	p := refiTestProject(t)
	a2 := NewRefiGUIDs(RefiProjectName(p))
	a2.Adopt(RefiUser, "ann", gUser)
	if err := a2.Save(p); err != nil {
		t.Fatal(err)
	}
	back, err := LoadRefiGUIDs(p)
	if err != nil || back.GUID(RefiUser, "ann") != gUser {
		t.Errorf("read back: %v", err)
	}
	os.WriteFile(p.Path(RefiGUIDFile), []byte(`{"codes": {"a": "nope"}}`), 0o644)
	if _, err := LoadRefiGUIDs(p); err == nil || !strings.Contains(err.Error(), `"nope" is not a GUID`) {
		t.Errorf("bad file: %v", err)
	}
	// Selections and codings follow their parts' GUIDs.
	s1 := RefiSelectionGUID(gSrc, 1, 5)
	if s1 != RefiSelectionGUID(gSrc, 1, 5) || s1 == RefiSelectionGUID(gSrc, 1, 6) || s1 == RefiSelectionGUID(gSrc2, 1, 5) {
		t.Error("selection GUIDs")
	}
	if RefiCodingGUID(s1, gCodeA, gUser) == RefiCodingGUID(s1, gCodeA, gUser2) {
		t.Error("coding GUIDs")
	}
}

func FuzzReadRefiProject(f *testing.F) {
	f.Add([]byte(refiQDE(testUsers, testCodes, refiTestSource(selOf("They showed", gCodeA)))))
	f.Add([]byte(refiQDE(`<Cases><Case guid="` + gCase + `" name="P01"><VariableValue><VariableRef targetGUID="` + gVarA + `"/><IntegerValue>3</IntegerValue></VariableValue><SourceRef targetGUID="` + gSrc + `"/></Case></Cases>`)))
	f.Add([]byte(`<Project xmlns="urn:QDA-XML:project:0:4"><Sources><PDFSource guid="` + gSrc + `"><Representation guid="` + gSrc2 + `" plainTextPath="x.txt"/></PDFSource></Sources></Project>`))
	if data, err := os.ReadFile(filepath.Join(refiSamples, "atlasti-mac-8.4-project.qde")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		proj, err := readRefiProject("fuzz.qde", data)
		if err != nil {
			var ie *errs.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is %T, not an InputError", err, err)
			}
			if strings.Contains(err.Error(), "\n") && !strings.Contains(ie.Msg, "\n") {
				t.Fatalf("error of several lines: %q", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, s := range proj.Sources {
			if _, ok := codebook.ParseGUID(s.GUID); !ok || seen[s.GUID] {
				t.Fatalf("source GUID %q bad or repeated", s.GUID)
			}
			seen[s.GUID] = true
			for _, sel := range s.Selections {
				for _, c := range sel.Codings {
					if _, ok := codebook.ParseGUID(c.Code); !ok {
						t.Fatalf("coding of code %q", c.Code)
					}
				}
			}
		}
	})
}

func BenchmarkReadRefiProject(b *testing.B) {
	file := refiSample(b, "nvivo-win-12.6.qdpx")
	zr, err := zip.OpenReader(file)
	if err != nil {
		b.Fatal(err)
	}
	defer zr.Close()
	var data []byte
	for _, zf := range zr.File {
		if zf.Name == "project.qde" {
			rc, _ := zf.Open()
			data, _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := readRefiProject("project.qde", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRefiText measures decoding a source, building its position maps
// and converting positions: 600 kB of NVivo text with CR LF and emoji.
func BenchmarkRefiText(b *testing.B) {
	file := refiSample(b, "nvivo-win-12.6.qdpx")
	zr, err := zip.OpenReader(file)
	if err != nil {
		b.Fatal(err)
	}
	defer zr.Close()
	var data []byte
	for _, zf := range zr.File {
		if strings.HasSuffix(zf.Name, "68bbdc14-c361-4432-b4dd-ae1dbfc12890.txt") {
			rc, _ := zf.Open()
			data, _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		tx := newRefiText(data)
		for x := 0; x < tx.u16Len; x += 2000 {
			tx.toText(x, RefiUTF16, false)
			tx.onBoundary(x, RefiUTF16)
		}
	}
}

func BenchmarkPrepareRefiImportNVivo(b *testing.B) {
	file := refiSample(b, "nvivo-win-12.6.qdpx")
	p := refiTestProject(b)
	for b.Loop() {
		if _, err := PrepareRefiImport(p, file, RefiImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzPrepareRefiImport runs whole imports of bare .qde files (texts given
// as PlainTextContent): whatever the file, the import either fails with an
// InputError or stages and applies without panicking.
func FuzzPrepareRefiImport(f *testing.F) {
	f.Add([]byte(refiQDE(testUsers, testCodes, `<Sources><TextSource guid="`+gSrc+`" name="s"><PlainTextContent>`+testText+`</PlainTextContent>`+selOf("They showed", gCodeA)+`</TextSource></Sources>`)))
	f.Add([]byte(refiQDE(testCodes, `<Sources><TextSource guid="`+gSrc+`" name="s"><PlainTextContent>a😀b&#xD;&#xA;ce&#x301;f</PlainTextContent>`+refiSel(1, 4, gCodeB)+refiSel(4, 6, gCodeA)+`<Coding guid="88888888-0000-4000-8000-700000000001"><CodeRef targetGUID="`+gCodeA+`"/></Coding></TextSource></Sources>`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		file := filepath.Join(dir, "project.qde")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := corpus.Init(filepath.Join(dir, "study"), "study")
		if err != nil {
			t.Fatal(err)
		}
		im, err := PrepareRefiImport(p, file, RefiImportOptions{Now: time.Unix(1750000000, 0)})
		if err != nil {
			var ie *errs.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is %T, not an InputError", err, err)
			}
			return
		}
		if err := im.Apply(); err != nil {
			t.Fatalf("Apply: %v", err)
		}
		if _, err := codebook.Load(p.Path(corpus.CodebookFile)); err != nil {
			t.Fatalf("the codebook does not load after the import: %v", err)
		}
		if _, err := corpus.ReadCases(p.Path(corpus.CasesFile)); err != nil {
			t.Fatalf("cases.csv does not read after the import: %v", err)
		}
		for _, c := range refiCodingsOf(t, p) {
			src, err := p.Source(c.Source, true)
			if err != nil {
				t.Fatal(err)
			}
			if got := NewTextIndex(src.Text).Slice(c.Start, c.End); got != c.Quote {
				t.Fatalf("coding %d-%d quotes %q, the text there is %q", c.Start, c.End, c.Quote, got)
			}
		}
	})
}

func TestRefiImportKeepsWhatTheProjectHas(t *testing.T) {
	p := refiTestProject(t)
	os.WriteFile(p.Path(corpus.CodebookFile), []byte("themes:\n  - id: welcome\n    name: welcome\n    definition: Ours.\n    memo: Our memo.\n"), 0o644)
	src := `<Sources><TextSource guid="` + gSrc + `" name="Interview 1" plainTextPath="internal://` + gSrc + `.txt"><Description>Recorded   by the gate.</Description>` +
		selOf("They showed", gCodeB) + `</TextSource></Sources>`
	cases := `<Cases><Case guid="` + gCase + `" name="P01"><Description>The first
participant.</Description><SourceRef targetGUID="` + gSrc + `"/></Case></Cases>`
	notes := `<Notes><Note guid="` + gNote1 + `" name="About welcome"><PlainTextContent>Welcome was the first code.</PlainTextContent></Note></Notes>`
	file := refiWriteQDPX(t, refiEntry{"project.qde", refiQDE(testUsers, testCodes, cases, src, notes, "<Description>A study of gardens.</Description>")},
		refiEntry{"sources/" + gSrc + ".txt", testText})
	rep := refiImport(t, p, file, RefiImportOptions{})
	var whats []string
	for _, s := range rep.Skipped {
		whats = append(whats, s.What)
	}
	if want := []string{"memo of a code already in the codebook", "description of a code already in the codebook"}; !slices.Equal(whats, want) {
		t.Errorf("skipped %v, want %v", whats, want)
	}
	cb, err := codebook.Load(p.Path(corpus.CodebookFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := cb.Node("welcome"); n.Definition != "Ours." || n.Memo != "Our memo." || len(n.Children) != 1 || n.Children[0].Name != "Tours" {
		t.Errorf("welcome: %+v", n)
	}
	s, err := p.Source("interview-1", false)
	if err != nil || s.Attrs["description"] != "Recorded by the gate." || s.Case != "P01" {
		t.Errorf("source: %+v %v", s, err)
	}
	cases2, _ := corpus.ReadCases(p.Path(corpus.CasesFile))
	if cases2["P01"]["description"] != "The first participant." {
		t.Errorf("cases %v", cases2)
	}
	if d, err := os.ReadFile(p.Path(corpus.MemosDir, "Project description.md")); err != nil || string(d) != "A study of gardens.\n" {
		t.Errorf("project description: %q %v", d, err)
	}
}
