package export

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMarkdownGolden writes the shape of the extracts document: theme >
// sub-theme > definition > quotes, then a table.
func TestMarkdownGolden(t *testing.T) {
	var buf bytes.Buffer
	m := NewMarkdown(&buf)
	m.Heading(1, "Extracts")
	m.Heading(2, "Making sense of the role #1")
	m.Heading(3, "Flexibility\nand *boundaries*")
	m.Paragraph("Talk about limits of the role, availability, disclosure.\n\n  Use when: the participant names a limit.")
	m.Quote("I said no.\nAnd that was that, you know?", "(Interview 11)")
	m.Quote("# not a heading\n> not nested\n1. not a list\n- not a bullet\n    not code\n<script>alert(1)</script> [link](http://x) ![img](y) a_b *c* `d` ~~e~~ $x$ &amp; AT&T | pipe", "(Diary 4)")
	m.Quote("", "(Interview 2)")
	m.Quote("  ", "")
	m.Paragraph("")
	m.Heading(9, "")
	m.Table(extractTable())
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	golden(t, "extracts.md", buf.Bytes())
}

func TestEscapeMarkdown(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain words, and more.", "plain words, and more."},
		{"*stars* and _unders_", `\*stars\* and \_unders\_`},
		{"a `code` span", "a \\`code\\` span"},
		{"[link](url)", `\[link\](url)`},
		{"<b>html</b>", `\<b\>html\</b\>`},
		{"AT&T and &amp; and & alone", `AT\&T and \&amp; and & alone`},
		{"&#169;", `\&#169;`},
		{"~~strike~~ $5", `\~\~strike\~\~ \$5`},
		{"a | b", `a \| b`},
		{`back\slash`, `back\\slash`},
		{"# heading", `\# heading`},
		{"mid # hash", "mid # hash"},
		{"> quote", `\> quote`},
		{"- item", `\- item`},
		{"+ item", `\+ item`},
		{"===", `\===`},
		{"1. first", `1\. first`},
		{"12) twelfth", `12\) twelfth`},
		{"2024. A year", `2024\. A year`},
		{"3.5 percent", "3.5 percent"},
		{"    indented code", "indented code"},
		{"line one\n- line two", "line one\n\\- line two"},
		{"crlf\r\n# next", "crlf\n\\# next"},
		{"nul\x00gone", "nulgone"},
	}
	for _, tt := range tests {
		if got := EscapeMarkdown(tt.in); got != tt.want {
			t.Errorf("EscapeMarkdown(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMarkdownTableCells(t *testing.T) {
	var buf bytes.Buffer
	m := NewMarkdown(&buf)
	m.Table(Table{
		Columns: []Column{{Title: "Quote | text"}, {Title: "N", Number: true}},
		Rows:    rowsOf([]any{"line one\r\nline two\n\n  three", 3}, []any{"a|b", 2.5}, []any{nil}),
	})
	if err := m.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "| Quote \\| text | N |\n" +
		"| --- | ---: |\n" +
		"| line one<br>line two<br><br>three | 3 |\n" +
		"| a\\|b | 2.5 |\n" +
		"|  |  |\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestMarkdownErrors(t *testing.T) {
	var buf bytes.Buffer
	m := NewMarkdown(&buf)
	m.Table(Table{})
	if err := m.Err(); err == nil || !strings.Contains(err.Error(), "at least one column") {
		t.Errorf("err = %v, want a missing-columns error", err)
	}
	m = NewMarkdown(&buf)
	m.Table(Table{Columns: []Column{{Title: "A"}, {Title: "B"}}, Rows: failingRows(2)})
	m.Heading(1, "after the error")
	if err := m.Flush(); !errors.Is(err, errHalfway) {
		t.Errorf("Flush = %v, want the rows' error", err)
	}
	m = NewMarkdown(&buf)
	m.Table(Table{Columns: []Column{{Title: "A"}}, Rows: rowsOf([]any{map[string]int{}})})
	if err := m.Err(); err == nil || !strings.Contains(err.Error(), "unsupported cell value") {
		t.Errorf("err = %v, want an unsupported-value error", err)
	}
	// WriteMarkdown passes the callback's own error on and writes nothing.
	path := filepath.Join(t.TempDir(), "x.md")
	if err := WriteMarkdown(path, func(m *Markdown) error { m.Heading(1, "x"); return errHalfway }); !errors.Is(err, errHalfway) {
		t.Errorf("WriteMarkdown = %v, want the callback's error", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("failed WriteMarkdown left a file")
	}
}

// unescapeMarkdown removes the backslash before ASCII punctuation, as a
// CommonMark renderer does.
func unescapeMarkdown(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// FuzzEscapeMarkdown checks that escaping loses nothing but leading
// indentation and that no special character is left bare.
func FuzzEscapeMarkdown(f *testing.F) {
	for _, s := range []string{"*a*", "# h", "1. x", "a\\b", "&amp;", "<x>", "| t |", "  - y", "\\*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := EscapeMarkdown(s)
		lines := strings.Split(normaliseLines(CleanText(s)), "\n")
		for i, l := range lines {
			lines[i] = strings.TrimLeft(l, " \t")
		}
		if want := strings.Join(lines, "\n"); unescapeMarkdown(got) != want {
			t.Fatalf("EscapeMarkdown(%q) = %q reads back as %q, want %q", s, got, unescapeMarkdown(got), want)
		}
		for i := 0; i < len(got); i++ {
			if got[i] == '\\' {
				i++ // the escaped character
				continue
			}
			if strings.IndexByte(inlineSpecial, got[i]) >= 0 {
				t.Fatalf("EscapeMarkdown(%q) = %q leaves %q bare at %d", s, got, got[i], i)
			}
		}
		for _, l := range strings.Split(got, "\n") {
			if l != "" && strings.IndexByte("#>-+= \t", l[0]) >= 0 {
				t.Fatalf("line %q of EscapeMarkdown(%q) starts with a bare block marker", l, s)
			}
		}
	})
}

func BenchmarkMarkdownTable100k(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		m := NewMarkdown(&buf)
		m.Table(Table{Columns: benchColumns, Rows: benchRows(100000)})
		if err := m.Flush(); err != nil {
			b.Fatal(err)
		}
	}
}
