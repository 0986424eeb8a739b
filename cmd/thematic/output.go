package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// jsonStream writes JSON byte for byte as writeJSON indents it, a value at
// a time, for listings too long to hold: arrays are opened, given their
// elements one by one and closed.
type jsonStream struct {
	w   *bufio.Writer
	buf bytes.Buffer
	enc *json.Encoder
}

func newJSONStream(w io.Writer) *jsonStream {
	s := &jsonStream{w: bufio.NewWriter(w)}
	s.enc = json.NewEncoder(&s.buf)
	s.enc.SetEscapeHTML(false)
	return s
}

// value writes v as it stands at nesting depth depth, without a newline
// after it.
func (s *jsonStream) value(v any, depth int) error {
	s.buf.Reset()
	s.enc.SetIndent(strings.Repeat("  ", depth), "  ")
	if err := s.enc.Encode(v); err != nil {
		return err
	}
	_, err := s.w.Write(bytes.TrimSuffix(s.buf.Bytes(), []byte("\n")))
	return err
}

// openObject writes the object v at depth 0 but leaves it open, so that
// fields can follow (see field).
func (s *jsonStream) openObject(v any) error {
	s.buf.Reset()
	s.enc.SetIndent("", "  ")
	if err := s.enc.Encode(v); err != nil {
		return err
	}
	_, err := s.w.Write(bytes.TrimSuffix(s.buf.Bytes(), []byte("\n}\n")))
	return err
}

// field starts one more field of an object opened at depth 0.
func (s *jsonStream) field(name string) {
	s.w.WriteString(",\n  ")
	s.value(name, 1)
	s.w.WriteString(": ")
}

// jsonArray is an array a jsonStream is writing.
type jsonArray struct {
	s        *jsonStream
	depth, n int
}

// openArray starts an array that stands at nesting depth depth.
func (s *jsonStream) openArray(depth int) *jsonArray {
	s.w.WriteByte('[')
	return &jsonArray{s: s, depth: depth}
}

// add writes the next element.
func (a *jsonArray) add(v any) error {
	if a.n > 0 {
		a.s.w.WriteByte(',')
	}
	a.n++
	a.s.w.WriteString("\n" + strings.Repeat("  ", a.depth+1))
	return a.s.value(v, a.depth+1)
}

// close ends the array.
func (a *jsonArray) close() {
	if a.n > 0 {
		a.s.w.WriteString("\n" + strings.Repeat("  ", a.depth))
	}
	a.s.w.WriteByte(']')
}

// flush writes what is buffered.
func (s *jsonStream) flush() error { return s.w.Flush() }

// newTable returns a tab-aligned writer for listings.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// formatAttrs prints attributes as k=v in key order.
func formatAttrs(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, " ")
}

// ANSI styles, used only when stdout is a terminal.
const (
	ansiBold  = "\x1b[1m"
	ansiMatch = "\x1b[1;33m"
	ansiDim   = "\x1b[2m"
	ansiReset = "\x1b[0m"
)

func style(on bool, code, s string) string {
	if !on || s == "" {
		return s
	}
	return code + s + ansiReset
}
