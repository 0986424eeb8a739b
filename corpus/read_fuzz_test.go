package corpus

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/thematic-qda/thematic/internal/errs"
)

// The fuzz targets check that no input panics, that every failure is an
// *errs.InputError naming the file on one line, and that every document
// read meets the Document invariants (checkDocInvariants).

// requireInputError fails unless err is nil or an InputError naming file.
func requireInputError(t *testing.T, err error, file string) {
	t.Helper()
	if err == nil {
		return
	}
	var ie *errs.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("error is %T, not *errs.InputError: %v", err, err)
	}
	if ie.File != file {
		t.Fatalf("error names %q, want %q: %v", ie.File, file, err)
	}
	if strings.ContainsAny(ie.Error(), "\n\r") {
		t.Fatalf("error spans lines: %q", ie.Error())
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "hello\r\nworld\r", "\xEF\xBB\xBFcafe\u0301", "\xFF\xFEa\x00b\x00", "\xFE\xFF\x00a\x00b", "caf\xe9 \x93q\x94", "\x00\x01", "\uFEFF\uFEFFx"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Normalize("f.txt", data)
		requireInputError(t, err, "f.txt")
		if err != nil {
			return
		}
		if !utf8.ValidString(s) || !norm.NFC.IsNormalString(s) || strings.ContainsRune(s, '\r') ||
			strings.HasPrefix(s, "\uFEFF") || strings.ContainsRune(s, 0) || strings.TrimSpace(s) == "" {
			t.Fatalf("Normalize(%q) = %q breaks an invariant", data, s)
		}
		// Normalising normalised text changes nothing.
		again, err := Normalize("f.txt", []byte(s))
		if err != nil || again != s {
			t.Fatalf("Normalize is not idempotent on %q: %q, %v", s, again, err)
		}
	})
}

func FuzzFrontMatter(f *testing.F) {
	for _, s := range []string{
		"---\ncase: P1\ntitle: T\nwave: 2\n---\nBody\n",
		"---\ntags: [a, b]\n...\n\nBody",
		"---\n- a\n---\nx",
		"---\na: &x 1\nb: *x\nc: [*x, 2]\n---\nx",
		"---\na: {b: c}\n---\nx",
		"---\n\"unterminated\n---\nx",
		"--- \r\ncase: 1\r\n---\r\nbody",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		docs, err := Read("f.md", []byte(in), ReadOptions{})
		requireInputError(t, err, "f.md")
		if err != nil {
			return
		}
		d := docs[0]
		checkDocInvariants(t, d)
		norm, _ := Normalize("f.md", []byte(in))
		if !strings.HasSuffix(norm, d.Text) {
			t.Fatalf("body %q is not the end of the text %q", d.Text, norm)
		}
		for k, v := range d.Attrs {
			if k == "" || strings.ContainsAny(v, "\n\r") || !utf8.ValidString(k+v) {
				t.Fatalf("bad attribute %q=%q", k, v)
			}
		}
	})
}

func FuzzReadDocx(f *testing.F) {
	f.Add(wDoc(`<w:p><w:r><w:t>a</w:t><w:tab/><w:br/></w:r></w:p>`))
	f.Add(wDoc(`<w:p><w:hyperlink><w:r><w:t xml:space="preserve"> x </w:t></w:r></w:hyperlink><w:del><w:r><w:delText>d</w:delText></w:r></w:del></w:p>`))
	f.Add(wDoc(`<w:sdt><w:sdtPr><w:showingPlcHdr/></w:sdtPr><w:sdtContent><w:p><w:r><w:t>p</w:t></w:r></w:p></w:sdtContent></w:sdt>`))
	f.Add(wDoc(`<w:tbl><w:tr><w:tc><w:p><w:r><w:t>c</w:t></w:r></w:p></w:tc></w:tr></w:tbl>`))
	f.Add(`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:p><w:t>`)
	f.Fuzz(func(t *testing.T, documentXML string) {
		docs, err := Read("f.docx", docxPackage(t, documentXML), ReadOptions{MaxBytes: 1 << 20})
		requireInputError(t, err, "f.docx")
		if err == nil {
			checkDocInvariants(t, docs[0])
			if strings.Contains(docs[0].Text, "\n\n\n") {
				t.Fatalf("paragraphs separated by more than one blank line: %q", docs[0].Text)
			}
		}
	})
}

func FuzzReadODT(f *testing.F) {
	f.Add(odtDoc(`<text:p>a<text:s text:c="3"/>b<text:tab/>c<text:line-break/>d</text:p>`))
	f.Add(odtDoc(`<text:p>x<text:note><text:note-body><text:p>n</text:p></text:note-body></text:note></text:p>`))
	f.Add(odtDoc(`<text:h>H</text:h><text:list><text:list-item><text:p>i</text:p></text:list-item></text:list>`))
	f.Add(`<office:document-content><text:p>`)
	f.Fuzz(func(t *testing.T, contentXML string) {
		docs, err := Read("f.odt", odtPackage(t, contentXML), ReadOptions{MaxBytes: 1 << 20})
		requireInputError(t, err, "f.odt")
		if err == nil {
			checkDocInvariants(t, docs[0])
		}
	})
}

func FuzzReadSubtitle(f *testing.F) {
	f.Add([]byte("WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\n<v Ann>Hi &amp; bye\n"), true)
	f.Add([]byte("WEBVTT\n\n00:01.000 --> 00:02.000\nAnn: hi\n\n00:02.000 --> 00:03.000\nAnn: again\n"), true)
	f.Add([]byte("WEBVTT\n\nSTYLE\n::cue { }\n\nREGION\nid:r\n\n00:00:01.000 --> 00:00:02.000 region:r\n<c.x><i>a</i></c>\n"), true)
	f.Add([]byte("1\r\n00:00:01,000 --> 00:00:02,000\r\n<i>Hello</i>\r\nworld\r\n\r\n2\r\n00:00:03,000 --> 00:00:04,000\r\n{\\an8}Bye\r\n"), false)
	f.Add([]byte("1\n00:00:01,000 --> 00:00:02,000\nBob: x\n"), false)
	f.Add([]byte("1\n-1:00:01,000 --> 00:00:02,000\nx\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, vtt bool) {
		name := "f.srt"
		if vtt {
			name = "f.vtt"
		}
		docs, err := Read(name, data, ReadOptions{})
		requireInputError(t, err, name)
		if err != nil {
			return
		}
		d := docs[0]
		checkDocInvariants(t, d)
		if len(d.Turns) == 0 {
			t.Fatalf("subtitle read without turns: %q", d.Text)
		}
		for i := 1; i < len(d.Turns); i++ {
			if s := d.Turns[i].Speaker; s != "" && s == d.Turns[i-1].Speaker {
				t.Fatalf("turns %d and %d of %q were not merged", i-1, i, s)
			}
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("r1,hello,g\nr2,\"multi\nline\",h\n"), true, false)
	f.Add([]byte("r1;a;b\n"), false, true)
	f.Add([]byte("r1,\"bad\"quote,x\n"), true, false)
	f.Add([]byte(",,\n,x,\nr1,y\nr1,z\n"), true, true)
	f.Fuzz(func(t *testing.T, body []byte, useID, twoColumns bool) {
		data := append([]byte("id,answer,group\n"), body...)
		opts := ReadOptions{TextColumns: []string{"answer"}}
		if twoColumns {
			opts.TextColumns = append(opts.TextColumns, "group")
		}
		if useID {
			opts.IDColumn = "id"
		}
		docs, err := Read("f.csv", data, opts)
		requireInputError(t, err, "f.csv")
		if err != nil {
			return
		}
		names := map[string]bool{}
		for _, d := range docs {
			checkDocInvariants(t, d)
			if d.Case == "" || d.Name == "" || d.Format != "csv" {
				t.Fatalf("document without case, name or format: %+v", d)
			}
			if names[d.Name] {
				t.Fatalf("two documents named %q", d.Name)
			}
			names[d.Name] = true
			if strings.TrimSpace(d.Text) != d.Text {
				t.Fatalf("answer not trimmed: %q", d.Text)
			}
		}
	})
}
