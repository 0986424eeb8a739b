package corpus

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
)

// wDoc wraps body XML in a w:document with the WordprocessingML namespace.
func wDoc(body string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` +
		body + `</w:body></w:document>`
}

// odtDoc wraps office:text XML in an office:document-content.
func odtDoc(body string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>` +
		`<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>` +
		body + `</office:text></office:body></office:document-content>`
}

func TestReadDocxGolden(t *testing.T) {
	data := docxPackage(t, string(readFixture(t, "docx/document.xml")))
	docs, err := Read("interview7.docx", data, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkDocInvariants(t, docs[0])
	checkReadGolden(t, docs, "docx.golden")
}

func TestReadODTGolden(t *testing.T) {
	data := odtPackage(t, string(readFixture(t, "odt/content.xml")))
	docs, err := Read("diary.odt", data, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkDocInvariants(t, docs[0])
	checkReadGolden(t, docs, "odt.golden")
}

func TestReadDocxCases(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"whitespace without xml:space is dropped", `<w:p><w:r><w:t> a </w:t></w:r><w:r><w:t>b</w:t></w:r></w:p>`, "ab\n"},
		{"xml:space preserve keeps it", `<w:p><w:r><w:t xml:space="preserve">a </w:t></w:r><w:r><w:t>b</w:t></w:r></w:p>`, "a b\n"},
		{"tab stops in properties are not tabs", `<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="1"/></w:tabs></w:pPr><w:r><w:t>x</w:t></w:r></w:p>`, "x\n"},
		{"two breaks do not split the paragraph", `<w:p><w:r><w:t>a</w:t><w:br/><w:br/><w:t>b</w:t></w:r></w:p>`, "a\nb\n"},
		{"leading tab trimmed", `<w:p><w:r><w:tab/><w:t>I: Hello</w:t></w:r></w:p>`, "I: Hello\n"},
		{"deleted paragraph mark keeps text", `<w:p><w:pPr><w:rPr><w:del w:id="1" w:author="A"/></w:rPr></w:pPr><w:r><w:t>kept</w:t></w:r></w:p>`, "kept\n"},
		{"nested content controls", `<w:sdt><w:sdtContent><w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent><w:p><w:r><w:t>placeholder</w:t></w:r></w:p></w:sdtContent></w:sdt><w:p><w:r><w:t>real</w:t></w:r></w:p></w:sdtContent></w:sdt>`, "real\n"},
		{"strict OOXML namespace", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := wDoc(tc.body)
			want := tc.want
			if tc.body == "" {
				doc = `<w:document xmlns:w="http://purl.oclc.org/ooxml/wordprocessingml/main"><w:body><w:p><w:r><w:t>strict</w:t></w:r></w:p></w:body></w:document>`
				want = "strict\n"
			}
			docs, err := Read("a.docx", docxPackage(t, doc), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkDocInvariants(t, docs[0])
			if docs[0].Text != want {
				t.Errorf("text = %q, want %q", docs[0].Text, want)
			}
		})
	}
}

func TestReadDocxMainPartFromRels(t *testing.T) {
	data := zipOf(t, map[string]string{
		"_rels/.rels":        `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="/word/document2.xml"/></Relationships>`,
		"word/document2.xml": wDoc(`<w:p><w:r><w:t>from document2</w:t></w:r></w:p>`),
	})
	docs, err := Read("a.docx", data, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if docs[0].Text != "from document2\n" {
		t.Errorf("text = %q", docs[0].Text)
	}
}

func TestReadODTCases(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"space runs collapse across spans", `<text:p>a  <text:span> b</text:span>	c</text:p>`, "a b c\n"},
		{"text:s without count is one space", `<text:p>a<text:s/>b</text:p>`, "a b\n"},
		{"huge text:s count is capped", `<text:p>a<text:s text:c="999999999"/>b</text:p>`, "a" + strings.Repeat(" ", maxODFSpaces) + "b\n"},
		{"bad text:s count is one space", `<text:p>a<text:s text:c="x"/>b</text:p>`, "a b\n"},
		{"empty paragraphs dropped", `<text:p/><text:p> </text:p><text:h>H</text:h>`, "H\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := Read("a.odt", odtPackage(t, odtDoc(tc.body)), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkDocInvariants(t, docs[0])
			if docs[0].Text != tc.want {
				t.Errorf("text = %q, want %q", docs[0].Text, tc.want)
			}
		})
	}
}

func TestReadDocxRealCorpus(t *testing.T) {
	p := readerCorpus(t, "qualcoder-examples/ID1.docx")
	docs, err := readDiskFile(t, p, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := docs[0]
	checkDocInvariants(t, d)
	paras := strings.Split(strings.TrimSuffix(d.Text, "\n"), "\n\n")
	if len(paras) != 3 {
		t.Fatalf("got %d paragraphs, want the file's 3 non-empty ones:\n%s", len(paras), d.Text)
	}
	// Runs split by proofing marks and bookmarks join up again.
	for _, want := range []string{
		"lecture slides and web links have been really good.",
		"but its like a duck to water for me - no problem at all.",
		"I'm happy to pay €200.",
	} {
		if !strings.Contains(d.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, d.Text)
		}
	}
}

func TestReadODTRealCorpus(t *testing.T) {
	p := readerCorpus(t, "qualcoder-examples/ID2.odt")
	docs, err := readDiskFile(t, p, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := docs[0]
	checkDocInvariants(t, d)
	paras := strings.Split(strings.TrimSuffix(d.Text, "\n"), "\n\n")
	if len(paras) != 3 {
		t.Fatalf("got %d paragraphs, want 3:\n%s", len(paras), d.Text)
	}
	for _, want := range []string{
		"I have not studied much before, but my father Joe Bloggs really encouraged me to study again. I know that I must get help",
		"explain the course material.",
		"The course cost €200.00 and I do not want to waste my money.",
	} {
		if !strings.Contains(d.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, d.Text)
		}
	}
}

// zipStored makes a one-member zip whose member is stored or deflated.
func zipOneMember(t *testing.T, name string, content []byte, method uint16) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadOfficeBadInput(t *testing.T) {
	// A document.xml of 2 MiB of one repeated paragraph: fine by default,
	// over a 1 MiB MaxBytes.
	big := wDoc(strings.Repeat(`<w:p><w:r><w:t>padding text</w:t></w:r></w:p>`, 2<<20/45))
	bigDocx := zipOneMember(t, "word/document.xml", []byte(big), zip.Deflate)
	if _, err := Read("big.docx", bigDocx, ReadOptions{}); err != nil {
		t.Fatalf("2 MiB document under the default limit: %v", err)
	}
	// A member that inflates 1000:1: 10 MiB of zeros in ~10 KiB.
	bomb := zipOneMember(t, "word/document.xml", make([]byte, 10<<20), zip.Deflate)

	// A member that lies about its size: declared small, expands beyond.
	liar := zipOneMember(t, "content.xml", []byte(odtDoc(strings.Repeat("<text:p>x</text:p>", 1000))), zip.Deflate)
	liar = patchDeclaredSize(t, liar, 100)

	// Two members each under MaxBytes whose sum is over it.
	pad := strings.Repeat(" ", 600)
	split := zipOf(t, map[string]string{
		"_rels/.rels":       `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` + pad + `</Relationships>`,
		"word/document.xml": wDoc(`<w:p><w:r><w:t>x</w:t></w:r></w:p>` + pad),
	})

	tests := []struct {
		name string
		file string
		data []byte
		opts ReadOptions
		want []string
	}{
		{"docx not a zip", "a.docx", []byte("just some text, not a zip"), ReadOptions{}, []string{"not a .docx file (not a zip archive)"}},
		{"odt not a zip", "a.odt", []byte("PK but no"), ReadOptions{}, []string{"not a .odt file (not a zip archive)"}},
		{"docx empty file", "a.docx", nil, ReadOptions{}, []string{msgEmptyFile}},
		{"docx missing document.xml", "a.docx", zipOf(t, map[string]string{"word/styles.xml": "<x/>"}), ReadOptions{}, []string{"word/document.xml is missing"}},
		{"odt missing content.xml", "a.odt", zipOf(t, map[string]string{"meta.xml": "<x/>"}), ReadOptions{}, []string{"content.xml is missing"}},
		{"docx broken XML", "a.docx", docxPackage(t, "<?xml version=\"1.0\"?>\n<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\n<w:body><w:p>\n<w:r><w:t>unclosed</w:r></w:p>\n</w:body></w:document>"), ReadOptions{}, []string{"word/document.xml line 4: broken XML"}},
		{"odt broken XML", "a.odt", odtPackage(t, "<office:document-content>\n<text:p>a & b</text:p>"), ReadOptions{}, []string{"content.xml line 2: broken XML"}},
		{"docx truncated XML", "a.docx", docxPackage(t, wDoc("<w:p><w:r><w:t>cut")[:150]), ReadOptions{}, []string{"broken XML"}},
		{"docx without text", "a.docx", docxPackage(t, wDoc("<w:p/>")), ReadOptions{}, []string{"no text in the document"}},
		{"docx over MaxBytes", "big.docx", bigDocx, ReadOptions{MaxBytes: 1 << 20}, []string{"word/document.xml", "over the limit of 1048576", "zip bomb"}},
		{"docx compression ratio", "bomb.docx", bomb, ReadOptions{}, []string{"word/document.xml", "compressed", "zip bomb"}},
		{"members over MaxBytes together", "split.docx", split, ReadOptions{MaxBytes: 1000}, []string{"word/document.xml unpacks to more than 1000 bytes"}},
		{"odt member larger than declared", "liar.odt", liar, ReadOptions{}, []string{"content.xml", "more than its declared size", "zip bomb"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(tc.file, tc.data, tc.opts)
			wantReadError(t, err, tc.file, 0, tc.want...)
		})
	}
}

// patchDeclaredSize rewrites the uncompressed size of a one-member zip in
// both its local header and its central directory, as a zip bomb can.
func patchDeclaredSize(t *testing.T, z []byte, size uint32) []byte {
	t.Helper()
	z = bytes.Clone(z)
	put := func(off int) {
		z[off], z[off+1], z[off+2], z[off+3] = byte(size), byte(size>>8), byte(size>>16), byte(size>>24)
	}
	// Local file header: signature PK\x03\x04, uncompressed size at +22.
	// With a data descriptor (archive/zip writes one), sizes follow the data:
	// signature PK\x07\x08, uncompressed size at +12.
	// Central directory header: signature PK\x01\x02, uncompressed size at +24.
	patched := 0
	for i := 0; i+4 <= len(z); i++ {
		switch string(z[i : i+4]) {
		case "PK\x07\x08":
			put(i + 12)
			patched++
		case "PK\x01\x02":
			put(i + 24)
			patched++
		}
	}
	if patched != 2 {
		t.Fatalf("patched %d size fields, want 2", patched)
	}
	return z
}
