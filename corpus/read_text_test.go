package corpus

import (
	"bytes"
	"strings"
	"testing"
)

// utf16Bytes encodes s as UTF-16 with a BOM, little or big endian.
func utf16Bytes(s string, little bool) []byte {
	var b bytes.Buffer
	put := func(u uint16) {
		if little {
			b.WriteByte(byte(u))
			b.WriteByte(byte(u >> 8))
		} else {
			b.WriteByte(byte(u >> 8))
			b.WriteByte(byte(u))
		}
	}
	put(0xFEFF)
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			put(uint16(0xD800 + (r >> 10)))
			put(uint16(0xDC00 + (r & 0x3FF)))
			continue
		}
		put(uint16(r))
	}
	return b.Bytes()
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"plain UTF-8", []byte("Ana: hello\n"), "Ana: hello\n"},
		{"UTF-8 BOM dropped", []byte("\xEF\xBB\xBFAna: café\n"), "Ana: café\n"},
		{"UTF-16 LE with BOM", utf16Bytes("Zoë: naïve 🙂\r\nI: ok\r\n", true), "Zoë: naïve 🙂\nI: ok\n"},
		{"UTF-16 BE with BOM", utf16Bytes("Zoë: naïve 🙂\nI: ok", false), "Zoë: naïve 🙂\nI: ok"},
		// Windows-1252: 0x93/0x94 curly quotes, 0x92 apostrophe, 0xE9 é, 0x80 euro, 0x85 ellipsis.
		{"Windows-1252", []byte("\x93Caf\xE9\x94 cost \x805, didn\x92t it\x85\r\n"), "“Café” cost €5, didn’t it…\n"},
		{"NFD to NFC", []byte("Cafe\u0301 and Ame\u0301lie"), "Café and Amélie"},
		{"CRLF and lone CR", []byte("a\r\nb\rc\n\rd"), "a\nb\nc\n\nd"},
		{"UTF-8 BOM with a stray bad byte", []byte("\xEF\xBB\xBFok \xFF end"), "ok \uFFFD end"},
		{"tab and form feed are text", []byte("a\tb\fc"), "a\tb\fc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Normalize("in.txt", tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Normalize = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, msgEmptyFile},
		{"blanks only", []byte(" \r\n\t\n"), msgEmptyFile},
		{"BOM only", []byte("\xEF\xBB\xBF"), msgEmptyFile},
		{"UTF-16 BOM only", []byte("\xFF\xFE"), msgEmptyFile},
		{"NUL bytes", []byte("PK\x03\x04\x14\x00\x00\x00word/document.xml"), msgBinaryFile},
		{"control characters", []byte("\x01\x02\x03\x04hello\x05\x06\x07\x08\x0E\x0F\x10"), msgBinaryFile},
		{"UTF-16 NUL character", utf16Bytes("a\x00b", true), msgBinaryFile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Normalize("notes.txt", tc.in)
			wantReadError(t, err, "notes.txt", 0, tc.want)
		})
	}
}

func TestReadPlain(t *testing.T) {
	// A front matter in a Markdown diary, in a UTF-16 file with CRLF: the
	// decoding and the front matter combine.
	md := readFixture(t, "frontmatter.md")
	docs, err := Read("diary.md", md, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkDocInvariants(t, docs[0])
	checkReadGolden(t, docs, "frontmatter.golden")

	crlf := bytes.ReplaceAll(md, []byte("\n"), []byte("\r\n"))
	docs2, err := Read("diary.md", utf16Bytes(string(crlf), true), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := dumpDocuments(docs2), dumpDocuments(docs); got != want {
		t.Errorf("UTF-16 CRLF copy reads differently:\n%s\nwant\n%s", got, want)
	}

	tests := []struct {
		name, file, in string
		want           Document
	}{
		{"no front matter", "a.txt", "I: Hello\nP: Hi\n", Document{Text: "I: Hello\nP: Hi\n", Format: "txt"}},
		{"dashes later are text", "a.txt", "Intro\n---\nkey: value\n---\n", Document{Text: "Intro\n---\nkey: value\n---\n", Format: "txt"}},
		{"empty front matter", "a.md", "---\n---\nBody", Document{Text: "Body", Format: "md"}},
		{"closing dots and trailing blanks", "a.txt", "--- \ncase: P3\n...\nBody\n", Document{Text: "Body\n", Case: "P3", Format: "txt"}},
		{"upper-case keys", "a.txt", "---\nCase: P4\nTitle: T\n---\nBody\n", Document{Text: "Body\n", Case: "P4", Title: "T", Format: "txt"}},
		{"extension case", "A.TXT", "Body", Document{Text: "Body", Format: "txt"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := Read(tc.file, []byte(tc.in), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != 1 {
				t.Fatalf("got %d documents", len(docs))
			}
			checkDocInvariants(t, docs[0])
			if got, want := dumpDocuments(docs), dumpDocuments([]Document{tc.want}); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestFrontMatterErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		want string
	}{
		{"not closed", "---\ncase: P1\nbody\n", 1, "not closed"},
		{"YAML syntax", "---\ncase: P1\ntitle: [unclosed\n---\nBody\n", 0, "front matter"},
		{"bad indentation", "---\ncase: P1\n\tsite: x\n---\nBody\n", 3, "front matter"},
		{"not a mapping", "---\n- a\n- b\n---\nBody\n", 2, "key: value"},
		{"scalar only", "---\nInterview one\n---\nBody\n", 2, "key: value"},
		{"nested mapping", "---\ncase: P1\nsite:\n  name: North\n---\nBody\n", 4, `key "site"`},
		{"duplicate key", "---\ncase: P1\nwave: 1\nWave: 2\n---\nBody\n", 4, "repeats line 3"},
		{"no body", "---\ncase: P1\n---\n\n", 0, "no text after the front matter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read("p1.txt", []byte(tc.in), ReadOptions{})
			wantReadError(t, err, "p1.txt", tc.line, tc.want)
		})
	}
}

func TestReadUnsupported(t *testing.T) {
	_, err := Read("scan.pdf", []byte("%PDF-1.4"), ReadOptions{})
	wantReadError(t, err, "scan.pdf", 0, "unsupported format .pdf", ".docx", ".vtt", ".xlsx")
	_, err = Read("README", []byte("text"), ReadOptions{})
	wantReadError(t, err, "README", 0, "no extension")

	for name, want := range map[string]bool{
		"a.txt": true, "b.MD": true, "c.docx": true, "d.odt": true, "e.vtt": true,
		"f.srt": true, "g.csv": true, "h.xlsx": true, "i.doc": false, "j.pdf": false,
		"k": false, "dir.txt/l.rtf": false,
	} {
		if got := Supported(name); got != want {
			t.Errorf("Supported(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestReadBinaryAsText(t *testing.T) {
	// A Word file renamed to .txt.
	docx := zipOf(t, map[string]string{"word/document.xml": "<w:document/>"})
	_, err := Read("interview.txt", docx, ReadOptions{})
	wantReadError(t, err, "interview.txt", 0, msgBinaryFile)
}

func TestReadRealTranscript(t *testing.T) {
	p := readerCorpus(t, "qualcoder-examples/transcript.txt")
	docs, err := readDiskFile(t, p, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkDocInvariants(t, docs[0])
	if docs[0].Turns != nil || docs[0].Format != "txt" {
		t.Errorf("plain text got turns %v, format %q", docs[0].Turns, docs[0].Format)
	}
	if !strings.Contains(docs[0].Text, "[id1]") {
		t.Errorf("transcript text lost its speaker labels: %.200q", docs[0].Text)
	}
}
