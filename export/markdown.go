package export

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/thematic-qda/thematic/internal/fsx"
)

// Markdown writes a GitHub-flavoured Markdown document block by block:
// headings, paragraphs, block quotes and tables, separated by blank lines.
// All text is escaped (see EscapeMarkdown), so a participant's words show
// as written and never turn into markup. Errors are sticky: after the first
// one the methods do nothing, and Err and Flush report it.
type Markdown struct {
	w      *bufio.Writer
	err    error
	blocks int
}

// NewMarkdown returns a Markdown writer to w. Call Flush at the end.
func NewMarkdown(w io.Writer) *Markdown {
	return &Markdown{w: bufio.NewWriter(w)}
}

// WriteMarkdown writes the document that write produces at path,
// atomically: if write or Flush fails, path is left as it was.
func WriteMarkdown(path string, write func(m *Markdown) error) error {
	return fsx.WriteWith(path, 0o644, func(w io.Writer) error {
		m := NewMarkdown(w)
		if err := write(m); err != nil {
			return err
		}
		return m.Flush()
	})
}

// Err returns the first error met, or nil.
func (m *Markdown) Err() error { return m.err }

// Flush writes out what is buffered and returns the first error met.
func (m *Markdown) Flush() error {
	if m.err != nil {
		return m.err
	}
	if err := m.w.Flush(); err != nil {
		m.err = fmt.Errorf("export: markdown: %w", err)
	}
	return m.err
}

// block starts a block, after a blank line unless it is the first, and
// reports whether writing may go on.
func (m *Markdown) block() bool {
	if m.err != nil {
		return false
	}
	if m.blocks > 0 {
		m.w.WriteByte('\n')
	}
	m.blocks++
	return true
}

// Heading writes an ATX heading of level 1 to 6 (clamped), on one line:
// line breaks in text become spaces.
func (m *Markdown) Heading(level int, text string) {
	if !m.block() {
		return
	}
	level = min(max(level, 1), 6)
	text = strings.Join(strings.Fields(CleanText(text)), " ")
	m.w.WriteString(strings.Repeat("#", level))
	if text != "" {
		m.w.WriteByte(' ')
		m.w.WriteString(strings.ReplaceAll(escapeInline(text), "#", `\#`))
	}
	m.w.WriteByte('\n')
}

// Paragraph writes text as paragraphs, one per non-blank line of text, so
// that the line breaks of a transcript survive rendering. Blank text writes
// nothing.
func (m *Markdown) Paragraph(text string) {
	paras := paragraphs(text)
	if len(paras) == 0 || !m.block() {
		return
	}
	for i, p := range paras {
		if i > 0 {
			m.w.WriteString("\n")
		}
		m.w.WriteString(p)
		m.w.WriteByte('\n')
	}
}

// Quote writes text as a block quote, one paragraph per non-blank line, and
// ends its last paragraph with cite (such as "(Interview 11)") when cite is
// not empty.
func (m *Markdown) Quote(text, cite string) {
	paras := paragraphs(text)
	if cite = strings.Join(strings.Fields(CleanText(cite)), " "); cite != "" {
		cite = escapeInline(cite)
		if len(paras) == 0 {
			paras = []string{escapeLineStart(cite)}
		} else {
			paras[len(paras)-1] += " " + cite
		}
	}
	if len(paras) == 0 || !m.block() {
		return
	}
	for i, p := range paras {
		if i > 0 {
			m.w.WriteString(">\n")
		}
		m.w.WriteString("> ")
		m.w.WriteString(p)
		m.w.WriteByte('\n')
	}
}

// Table writes t as a GitHub-flavoured table: the header, a delimiter row
// (Number columns right-aligned) and one line per row, streamed. In cells,
// | is escaped and line breaks become <br>.
func (m *Markdown) Table(t Table) {
	if len(t.Columns) == 0 {
		if m.err == nil {
			m.err = fmt.Errorf("export: markdown: a table needs at least one column")
		}
		return
	}
	if !m.block() {
		return
	}
	cells := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cells[i] = tableCell(c.Title)
	}
	m.tableRow(cells)
	for i, c := range t.Columns {
		cells[i] = "---"
		if c.Number {
			cells[i] = "---:"
		}
	}
	m.tableRow(cells)
	err := t.stream("markdown", func(n int, row []any) error {
		clear(cells)
		for i, v := range row {
			s, _, ok := cellText(v)
			if !ok {
				return unsupported("markdown", n, i, v)
			}
			cells[i] = tableCell(s)
		}
		m.tableRow(cells)
		return nil
	})
	if err != nil {
		m.err = err
	}
}

// tableRow writes one table line.
func (m *Markdown) tableRow(cells []string) {
	m.w.WriteByte('|')
	for _, c := range cells {
		m.w.WriteByte(' ')
		m.w.WriteString(c)
		m.w.WriteString(" |")
	}
	m.w.WriteByte('\n')
}

// tableCell escapes text for a table cell, which must stay on one line.
func tableCell(s string) string {
	s = strings.TrimSpace(CleanText(s))
	if !strings.ContainsAny(s, "\r\n\t") {
		return escapeInline(s)
	}
	s = normaliseLines(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = escapeInline(strings.TrimSpace(strings.ReplaceAll(l, "\t", " ")))
	}
	return strings.Join(lines, "<br>")
}

// paragraphs splits text into escaped, trimmed, non-blank lines.
func paragraphs(text string) []string {
	var out []string
	for _, l := range strings.Split(normaliseLines(CleanText(text)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, escapeLineStart(escapeInline(l)))
		}
	}
	return out
}

// normaliseLines turns CR LF and lone CR into LF.
func normaliseLines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// EscapeMarkdown returns text that Markdown renders as s itself: every
// character that could start emphasis, code, a link, raw HTML, an entity,
// strikethrough, maths ($) or a table cell boundary gets a backslash, and
// so does a character at the start of a line that could open a heading,
// quote, list or thematic break (#, >, -, +, = and the . or ) of a
// numbered list item). Leading spaces of lines are dropped, as they could
// start a code block. Line breaks are kept, as LF. The text is cleaned with
// CleanText first.
func EscapeMarkdown(s string) string {
	lines := strings.Split(normaliseLines(CleanText(s)), "\n")
	for i, l := range lines {
		lines[i] = escapeLineStart(escapeInline(strings.TrimLeft(l, " \t")))
	}
	return strings.Join(lines, "\n")
}

// inlineSpecial are the characters escaped wherever they appear.
const inlineSpecial = "\\`*_[]<>|~$"

// escapeInline backslash-escapes characters with inline meaning, and & when
// it could start an entity.
func escapeInline(s string) string {
	if !strings.ContainsAny(s, inlineSpecial+"&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte(inlineSpecial, c) >= 0:
			b.WriteByte('\\')
		case c == '&' && i+1 < len(s) && entityStart(s[i+1]):
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// entityStart reports whether c after & could make an entity reference.
func entityStart(c byte) bool {
	return c == '#' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// escapeLineStart escapes a line's first character when it could open a
// block: a heading, quote, list item, thematic break or setext underline.
func escapeLineStart(l string) string {
	if l == "" {
		return l
	}
	switch l[0] {
	case '#', '>', '-', '+', '=':
		return `\` + l
	}
	d := 0
	for d < len(l) && d < 10 && '0' <= l[d] && l[d] <= '9' {
		d++
	}
	if d > 0 && d < len(l) && (l[d] == '.' || l[d] == ')') && (d+1 == len(l) || l[d+1] == ' ' || l[d+1] == '\t') {
		return l[:d] + `\` + l[d:]
	}
	return l
}
