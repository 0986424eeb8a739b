package corpus

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/thematic-qda/thematic/internal/errs"
)

// readTestdata returns a file under testdata/read.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "read", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sharedCorpus returns the path of a shared corpus file, skipping the test
// when the shared corpora are not checked out beside the repository.
func readerCorpus(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "shared", "corpora", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared corpus %s not present: %v", rel, err)
	}
	return p
}

// dumpDocs renders documents in the golden-file format: metadata, the text,
// and for each turn its speaker, time and the text its offsets select.
func dumpDocuments(docs []Document) string {
	var b strings.Builder
	for i, d := range docs {
		fmt.Fprintf(&b, "== document %d\nformat: %s\n", i+1, d.Format)
		if d.Name != "" {
			fmt.Fprintf(&b, "name: %s\n", d.Name)
		}
		if d.Case != "" {
			fmt.Fprintf(&b, "case: %s\n", d.Case)
		}
		if d.Title != "" {
			fmt.Fprintf(&b, "title: %s\n", d.Title)
		}
		keys := make([]string, 0, len(d.Attrs))
		for k := range d.Attrs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "attr %s: %s\n", k, d.Attrs[k])
		}
		b.WriteString("-- text\n")
		b.WriteString(d.Text)
		if !strings.HasSuffix(d.Text, "\n") {
			b.WriteString("\n")
		}
		if d.Turns != nil {
			b.WriteString("-- turns\n")
			runes := []rune(d.Text)
			for _, tr := range d.Turns {
				text := "<out of range>"
				if tr.Start >= 0 && tr.Start <= tr.End && tr.End <= len(runes) {
					text = string(runes[tr.Start:tr.End])
				}
				fmt.Fprintf(&b, "speaker=%q time=%q text=%q\n", tr.Speaker, tr.Time, text)
			}
		}
		b.WriteString("-- end\n")
	}
	return b.String()
}

// checkGolden compares docs with testdata/read/<golden>.
func checkReadGolden(t *testing.T, docs []Document, golden string) {
	t.Helper()
	want := string(readFixture(t, golden))
	got := dumpDocuments(docs)
	if got != want {
		t.Errorf("output differs from testdata/read/%s\n--- got\n%s--- want\n%s", golden, got, want)
	}
}

// checkDoc asserts the invariants every reader promises.
func checkDocInvariants(t testing.TB, d Document) {
	t.Helper()
	if !utf8.ValidString(d.Text) {
		t.Fatalf("text is not valid UTF-8: %q", d.Text)
	}
	if !norm.NFC.IsNormalString(d.Text) {
		t.Fatalf("text is not NFC: %q", d.Text)
	}
	if strings.ContainsRune(d.Text, '\r') {
		t.Fatalf("text holds a CR: %q", d.Text)
	}
	if strings.HasPrefix(d.Text, "\uFEFF") {
		t.Fatalf("text starts with a BOM: %q", d.Text)
	}
	if strings.TrimSpace(d.Text) == "" {
		t.Fatalf("blank text in a document read without error")
	}
	if d.Format == "" {
		t.Fatalf("document has no format")
	}
	n := utf8.RuneCountInString(d.Text)
	runes := []rune(d.Text)
	prev := 0
	for i, tr := range d.Turns {
		if tr.Start < prev || tr.End < tr.Start || tr.End > n {
			t.Fatalf("turn %d [%d,%d) out of order or range (text has %d code points, previous turn ends at %d)", i, tr.Start, tr.End, n, prev)
		}
		s := string(runes[tr.Start:tr.End])
		if s == "" || strings.TrimSpace(s) != s || strings.ContainsRune(s, '\n') {
			t.Fatalf("turn %d selects %q: want the spoken text on one line without outer blanks", i, s)
		}
		// The label before the spoken text is "[HH:MM:SS] " or "[HH:MM:SS] Name: ".
		label := "[" + tr.Time + "] "
		if tr.Speaker != "" {
			label += tr.Speaker + ": "
		}
		ls := tr.Start - utf8.RuneCountInString(label)
		if ls < 0 || string(runes[ls:tr.Start]) != label {
			t.Fatalf("turn %d is not preceded by its label %q", i, label)
		}
		prev = tr.End
	}
}

// wantInputError asserts err is an *errs.InputError naming file, at line (0:
// any line), whose message contains each of parts.
func wantReadError(t *testing.T, err error, file string, line int, parts ...string) {
	t.Helper()
	var ie *errs.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("want an *errs.InputError, got %T: %v", err, err)
	}
	t.Logf("error: %v", err)
	if ie.File != file {
		t.Errorf("error names file %q, want %q (%v)", ie.File, file, err)
	}
	if line != 0 && ie.Line != line {
		t.Errorf("error is at line %d, want %d (%v)", ie.Line, line, err)
	}
	for _, p := range parts {
		if !strings.Contains(ie.Msg, p) {
			t.Errorf("error %q does not mention %q", ie.Msg, p)
		}
	}
	if strings.Contains(ie.Error(), "\n") {
		t.Errorf("error is not one line: %q", ie.Error())
	}
}

// readFile reads a file from disk through Read, as the ingest command does.
func readDiskFile(t testing.TB, path string, opts ReadOptions) ([]Document, error) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Read(filepath.Base(path), b, opts)
}

// buildZip makes a zip archive of the given members, deflated, in name order.
func zipOf(t testing.TB, members map[string]string) []byte {
	t.Helper()
	names := make([]string, 0, len(members))
	for n := range members {
		names = append(names, n)
	}
	slices.Sort(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(members[n])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// docxPackage wraps a document.xml in the parts of a minimal .docx.
func docxPackage(t testing.TB, documentXML string) []byte {
	t.Helper()
	return zipOf(t, map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
		"_rels/.rels":         `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`,
		"word/document.xml":   documentXML,
	})
}

// odtPackage wraps a content.xml in the parts of a minimal .odt.
func odtPackage(t testing.TB, contentXML string) []byte {
	t.Helper()
	return zipOf(t, map[string]string{
		"mimetype":              "application/vnd.oasis.opendocument.text",
		"META-INF/manifest.xml": `<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/></manifest:manifest>`,
		"content.xml":           contentXML,
	})
}
