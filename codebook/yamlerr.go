package codebook

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/thematic-qda/thematic/internal/errs"
	"go.yaml.in/yaml/v3"
)

// checkText finds what YAML cannot read at all, with its position: UTF-16,
// bytes that are not UTF-8 and control characters. yaml.v3 reports these
// without a line.
func checkText(file string, data []byte) *errs.InputError {
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) {
		return errs.New(file, 1, 1, "the codebook is saved as UTF-16; save it as UTF-8")
	}
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return errs.New(file, line, col, "invalid UTF-8 (byte 0x%02X); save the codebook as UTF-8", data[i])
		case i == 0 && r == '\uFEFF':
			i += size
			continue // a byte order mark, not counted as a column
		case !yamlRune(r):
			return errs.New(file, line, col, "character U+%04X is not allowed in YAML; delete it", r)
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return nil
}

// yamlRune reports whether YAML allows r in a stream.
func yamlRune(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r', r >= 0x20 && r <= 0x7E, r == 0x85,
		r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// decodeYAML reads the one YAML document of a codebook; nil for a file with
// no document.
func decodeYAML(file string, data []byte) (*yaml.Node, *errs.InputError) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(file, data, err)
	}
	var extra yaml.Node
	err := dec.Decode(&extra)
	switch {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(file, data, err)
	case len(extra.Content) > 0 && !isNull(extra.Content[0]):
		c := extra.Content[0]
		return nil, errs.New(file, c.Line, c.Column, "a codebook is one YAML document; this is a second one (after ---): remove it or move it to a file of its own")
	}
	return &doc, nil
}

// parserProblems are the yaml.v3 messages raised by its parser, which
// reports 0-based lines, unlike its scanner, which reports 1-based ones.
var parserProblems = []string{
	"did not find expected ',' or ']'", "did not find expected ',' or '}'", "did not find expected '-' indicator",
	"did not find expected <document start>", "did not find expected <stream-start>", "did not find expected key",
	"did not find expected node content", "found duplicate %TAG directive", "found duplicate %YAML directive",
	"found incompatible YAML document", "found undefined tag handle",
}

var (
	yamlLine      = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
)

// scanLines is how many lines refineLine tries one by one before it
// bisects.
const scanLines = 50

// syntaxError turns a yaml.v3 error into an InputError with the line of the
// problem. yaml.v3 gives the line where the enclosing construct starts, 0- or
// 1-based depending on where the error arose, and none on the first line;
// the line is corrected, then moved down to the first line whose inclusion
// makes the same error appear.
func syntaxError(file string, data []byte, err error) *errs.InputError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			l, c := lineCol(data, i)
			return errs.New(file, l, c, "alias *%s refers to no anchor &%s", m[1], m[1])
		}
	}
	for _, pm := range parserProblems {
		if strings.HasPrefix(msg, pm) {
			line++
			break
		}
	}
	line = max(line, 1)
	lines := bytes.SplitAfter(data, []byte("\n"))
	from := line
	if strings.HasPrefix(msg, "found unexpected end of stream") {
		// An unclosed quote or bracket: yaml.v3 names the end of the file
		// when the construct starts on line 1.
		from = 1
	}
	line = refineLine(lines, msg, from, line)
	// yaml.v3 may name the line after the last when the file ends early.
	last := bytes.Count(data, []byte("\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' {
		last++
	}
	line = max(min(line, last), 1)
	return errs.New(file, line, 0, "YAML syntax: %s%s", msg, syntaxHint(msg, lines, line))
}

// refineLine returns the first line k >= from such that the text up to and
// including line k fails with the same message; or line when there is none.
// It tries the first lines one by one, then bisects the rest (a prefix that
// reaches the problem keeps failing the same way).
func refineLine(lines [][]byte, msg string, from, line int) int {
	fails := func(k int) bool {
		var n yaml.Node
		err := yaml.Unmarshal(bytes.Join(lines[:k], nil), &n)
		return err != nil && sameProblem(err.Error(), msg)
	}
	n := len(lines)
	for k := from; k <= n && k < from+scanLines; k++ {
		if fails(k) {
			return k
		}
	}
	lo, hi := from+scanLines, n // the answer, if any, is in [lo, hi]
	if lo > hi || !fails(hi) {
		return line
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// sameProblem compares yaml.v3 messages without their line.
func sameProblem(e, msg string) bool {
	e = strings.TrimPrefix(e, "yaml: ")
	if m := yamlLine.FindStringSubmatch(e); m != nil {
		e = m[2]
	}
	return e == msg
}

// syntaxHint suggests the usual cause of a syntax error.
func syntaxHint(msg string, lines [][]byte, line int) string {
	var text []byte
	if line >= 1 && line <= len(lines) {
		text = lines[line-1]
	}
	switch {
	case bytes.ContainsRune(text, '\t') && strings.Contains(msg, "cannot start any token"):
		return " (indent with spaces, not tabs)"
	case strings.HasPrefix(msg, "mapping values are not allowed"):
		return " (text holding \": \" must be quoted)"
	case strings.HasPrefix(msg, "found unexpected end of stream"):
		return " (a quote or bracket opened here is never closed)"
	case strings.HasPrefix(msg, "did not find expected key"), strings.HasPrefix(msg, "did not find expected '-' indicator"):
		return " (check the indentation here)"
	case strings.HasPrefix(msg, "found character that cannot start any token") && bytes.ContainsAny(text, "@`"):
		return " (text starting with @ or ` must be quoted)"
	}
	return ""
}

// lineCol gives the 1-based line and column (in code points) of byte i.
func lineCol(data []byte, i int) (int, int) {
	line := 1 + bytes.Count(data[:i], []byte("\n"))
	start := bytes.LastIndexByte(data[:i], '\n') + 1
	return line, 1 + utf8.RuneCount(data[start:i])
}
