package codebook

import (
	"bytes"
	"strings"

	"github.com/thematic-qda/thematic/internal/errs"
	"go.yaml.in/yaml/v3"
)

// The Editor works on the file's lines. The yaml.v3 tree of the current text
// says where things are; edits replace whole lines, and the text is parsed
// again after each step, so positions are always fresh.

func isBlank(s string) bool   { return strings.TrimSpace(s) == "" }
func isComment(s string) bool { return strings.HasPrefix(strings.TrimSpace(s), "#") }
func indent(s string) int     { return len(s) - len(strings.TrimLeft(s, " ")) }

// shift indents lines by delta columns (outdents when negative, never
// removing more than the spaces a line has). Blank lines become empty.
func shift(lines []string, delta int) []string {
	out := make([]string, len(lines))
	pad := strings.Repeat(" ", max(delta, 0))
	for i, l := range lines {
		switch {
		case isBlank(l):
			out[i] = ""
		case delta >= 0:
			out[i] = pad + l
		default:
			out[i] = l[min(-delta, indent(l)):]
		}
	}
	return out
}

// replace puts with in place of lines [a, b).
func (e *Editor) replace(a, b int, with []string) {
	out := make([]string, 0, len(e.lines)-(b-a)+len(with))
	out = append(out, e.lines[:a]...)
	out = append(out, with...)
	out = append(out, e.lines[b:]...)
	e.lines = out
}

// remove deletes lines [a, b) and then one of two blank lines left meeting
// at the cut, or blank lines left at the end of the file.
func (e *Editor) remove(a, b int) {
	e.replace(a, b, nil)
	switch {
	case a > 0 && a < len(e.lines) && isBlank(e.lines[a-1]) && isBlank(e.lines[a]):
		e.replace(a, a+1, nil)
	case a == len(e.lines):
		for len(e.lines) > 0 && isBlank(e.lines[len(e.lines)-1]) {
			e.lines = e.lines[:len(e.lines)-1]
		}
	}
}

// layoutError reports a layout the Editor does not change by itself.
func (e *Editor) layoutError(y *yaml.Node) error {
	return errs.New(e.path, y.Line, y.Column, "cannot edit the codebook here automatically (unusual YAML layout); make this change by hand")
}

// asciiPrefix returns the part of line before 1-based column col when it is
// plain ASCII (spaces and dashes, as in block layout).
func asciiPrefix(line string, col int) (string, bool) {
	if col-1 > len(line) {
		return "", false
	}
	pre := line[:col-1]
	for i := 0; i < len(pre); i++ {
		if pre[i] >= 0x80 {
			return "", false
		}
	}
	return pre, true
}

// span is a range of lines, inclusive, with the column its content starts at.
type span struct {
	head  int // first line, with the comment lines directly above it that belong to it
	start int // line of the dash (items) or key (pairs)
	end   int // last line
	col   int // column of the dash (items) or key (pairs)
}

// trimEnd moves end back over blank lines and comments that are not indented
// past col: those belong to what follows.
func (e *Editor) trimEnd(start, end, col int) int {
	for end > start && (isBlank(e.lines[end]) || isComment(e.lines[end]) && indent(e.lines[end]) <= col) {
		end--
	}
	return end
}

// headOf extends start up over comment lines at column col directly above it.
func (e *Editor) headOf(start, col int) int {
	h := start
	for h > 0 && isComment(e.lines[h-1]) && indent(e.lines[h-1]) == col {
		h--
	}
	return h
}

// endLine returns the last line index before the node that follows y's
// subtree, or the last line of the file.
func (e *Editor) endLine(y *yaml.Node) int {
	if nl := e.next[y]; nl > 0 {
		return nl - 2
	}
	return len(e.lines) - 1
}

// itemSpan finds the lines of y, an item of a block sequence.
func (e *Editor) itemSpan(y *yaml.Node) (span, error) {
	s := span{start: y.Line - 1}
	if s.start < 0 || s.start >= len(e.lines) {
		return s, e.layoutError(y)
	}
	pre, ok := asciiPrefix(e.lines[s.start], y.Column)
	t := strings.TrimRight(pre, " ")
	switch {
	case ok && strings.HasSuffix(t, "-") && strings.Trim(t[:len(t)-1], " ") == "":
		s.col = len(t) - 1
	case ok && t == "":
		// "-" alone on a line above the item's first key
		k := s.start - 1
		for k >= 0 && (isBlank(e.lines[k]) || isComment(e.lines[k])) {
			k--
		}
		if k < 0 || strings.TrimSpace(e.lines[k]) != "-" {
			return s, e.layoutError(y)
		}
		s.start, s.col = k, indent(e.lines[k])
	default:
		return s, e.layoutError(y)
	}
	end := e.endLine(y)
	if end < y.Line-1 {
		return s, e.layoutError(y) // something follows on the same line: flow layout
	}
	s.end = e.trimEnd(s.start, end, s.col)
	s.head = e.headOf(s.start, s.col)
	return s, nil
}

// pairSpan finds the lines of the key k and its value v in a block mapping.
func (e *Editor) pairSpan(k, v *yaml.Node) (span, error) {
	s := span{start: k.Line - 1}
	if s.start < 0 || s.start >= len(e.lines) {
		return s, e.layoutError(k)
	}
	pre, ok := asciiPrefix(e.lines[s.start], k.Column)
	if !ok {
		return s, e.layoutError(k)
	}
	s.col = len(pre)
	end := e.endLine(v)
	if end < s.start {
		return s, e.layoutError(k)
	}
	s.end = e.trimEnd(s.start, end, s.col)
	s.head = s.start
	if strings.TrimSpace(pre) == "" {
		s.head = e.headOf(s.start, s.col)
	}
	return s, nil
}

// lookup returns the key and value of key in mapping m, or nils.
func lookup(m *yaml.Node, key string) (*yaml.Node, *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// container returns the key and sequence holding item y in mapping m.
func container(m, y *yaml.Node) (*yaml.Node, *yaml.Node) {
	if m == nil {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		v := m.Content[i+1]
		if v.Kind != yaml.SequenceNode {
			continue
		}
		for _, it := range v.Content {
			if it == y {
				return m.Content[i], v
			}
		}
	}
	return nil, nil
}

// layout is how the file indents block sequences.
type layout struct {
	seqOff  int // columns from a key to the dash of its items (0: "key:\n- item")
	itemOff int // columns from a dash to the item's first key
}

// layout looks at the first block sequence of mappings in the file.
func (e *Editor) layout() layout {
	lay := layout{seqOff: 2, itemOff: 2}
	if e.cb.doc == nil {
		return lay
	}
	var found bool
	var walk func(y *yaml.Node)
	walk = func(y *yaml.Node) {
		if found {
			return
		}
		if y.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(y.Content) && !found; i += 2 {
				k, v := y.Content[i], y.Content[i+1]
				if v.Kind == yaml.SequenceNode && v.Style&yaml.FlowStyle == 0 && len(v.Content) > 0 &&
					v.Content[0].Kind == yaml.MappingNode && v.Content[0].Style&yaml.FlowStyle == 0 {
					it := v.Content[0]
					if s, err := e.itemSpan(it); err == nil && s.start == it.Line-1 {
						lay = layout{seqOff: max(s.col-(k.Column-1), 0), itemOff: max(it.Column-1-s.col, 2)}
						found = true
						return
					}
				}
			}
		}
		for _, c := range y.Content {
			walk(c)
		}
	}
	walk(e.cb.doc)
	return lay
}

// encode renders a YAML node with yaml.v3 in the file's layout and returns
// its lines, starting at column 0.
func (e *Editor) encode(y *yaml.Node) ([]string, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if e.layout().seqOff == 0 {
		enc.CompactSeqIndent()
	}
	if err := enc.Encode(y); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimRight(buf.String(), "\n"), "\n"), nil
}

// renderItem renders mapping m as one sequence item, dash at column 0,
// with the file's distance from dash to key.
func (e *Editor) renderItem(m *yaml.Node) ([]string, error) {
	lines, err := e.encode(&yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{m}})
	if err != nil {
		return nil, err
	}
	off := e.layout().itemOff
	if off <= 2 || len(lines) == 0 || !strings.HasPrefix(lines[0], "- ") {
		return lines, nil
	}
	out := []string{"-" + strings.Repeat(" ", off-1) + lines[0][2:]}
	return append(out, shift(lines[1:], off-2)...), nil
}

// str makes a text scalar, quoted by the encoder where YAML needs it.
func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if strings.Contains(s, "\n") {
		n.Style = yaml.LiteralStyle
	}
	return n
}

// mapOf makes a mapping of the given keys and values.
func mapOf(kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Content: kv}
}

func key(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

// isFlow reports whether a collection is written in flow style ([...] {...}).
func isFlow(y *yaml.Node) bool { return y != nil && y.Style&yaml.FlowStyle != 0 }

// structural keys hold the lists the Editor adds to and takes from.
var structural = []string{"themes", "subthemes", "codes", "rules"}

// flowAt reports whether node mapping m, or a non-empty list of nodes or
// rules in it, is in flow style.
func flowAt(m *yaml.Node) bool {
	if isFlow(m) {
		return true
	}
	for _, k := range structural {
		// An empty [] is left alone: appendItems replaces it.
		if _, v := lookup(m, k); isFlow(v) && len(v.Content) > 0 {
			return true
		}
	}
	return false
}

// clearFlow turns a mapping and its lists of nodes and rules to block
// style, and the nodes in them too.
func clearFlow(m *yaml.Node) {
	m.Style &^= yaml.FlowStyle
	for _, k := range structural {
		_, v := lookup(m, k)
		if v == nil || v.Kind != yaml.SequenceNode {
			continue
		}
		v.Style &^= yaml.FlowStyle
		if k == "rules" {
			continue
		}
		for _, it := range v.Content {
			if it.Kind == yaml.MappingNode {
				clearFlow(it)
			}
		}
	}
}
