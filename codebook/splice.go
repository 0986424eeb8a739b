package codebook

import (
	"bytes"
	"fmt"
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

// trimEnd moves end back over blank lines, and over comments and lone
// dashes not indented past col: those belong to what follows.
func (e *Editor) trimEnd(start, end, col int) int {
	for end > start {
		l := e.lines[end]
		if !isBlank(l) && !((isComment(l) || isLoneDash(l)) && indent(l) <= col) {
			break
		}
		end--
	}
	return end
}

// isLoneDash reports a line holding just the dash of an item whose content
// starts on the next line.
func isLoneDash(s string) bool {
	t := strings.TrimSpace(s)
	if i := strings.Index(t, " #"); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	return t == "-"
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
		if k < 0 || !isLoneDash(e.lines[k]) {
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
					if s, err := e.itemSpan(it); err == nil {
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

// root returns the top mapping of the file, or nil when there is none.
func (e *Editor) root() *yaml.Node {
	if e.cb.doc == nil || len(e.cb.doc.Content) == 0 || e.cb.doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	return e.cb.doc.Content[0]
}

// mappingOf returns the mapping of the node with id, or the top mapping for "".
func (e *Editor) mappingOf(id string) *yaml.Node {
	if id == "" {
		return e.root()
	}
	if n := e.cb.Node(id); n != nil {
		return n.y
	}
	return nil
}

// ensureBlock rewrites in block style whatever flow-style collections
// ({...}, [...]) lie on the way to the node with id (the top for "").
func (e *Editor) ensureBlock(id string) error {
	for range 10 {
		if r := e.root(); r != nil && isFlow(r) && len(r.Content) == 0 {
			// "{}": an empty codebook; drop it so the themes can be written.
			row := r.Line - 1
			rest := strings.TrimSpace(strings.TrimSpace(e.lines[row])[min(2, len(strings.TrimSpace(e.lines[row]))):])
			if !strings.HasPrefix(strings.TrimSpace(e.lines[row]), "{}") || rest != "" && !strings.HasPrefix(rest, "#") {
				return e.layoutError(r)
			}
			e.replace(row, row+1, nil)
			if rest != "" {
				e.replace(row, row, []string{rest})
			}
			if err := e.reparse(); err != nil {
				return err
			}
			continue
		}
		if r := e.root(); r != nil {
			_, th := lookup(r, "themes")
			if isFlow(r) || isFlow(th) && len(th.Content) > 0 {
				if err := e.rerenderDoc(); err != nil {
					return err
				}
				continue
			}
		}
		if id == "" {
			return nil
		}
		n := e.cb.Node(id)
		if n == nil {
			return fmt.Errorf("internal error: %q went missing during an edit", id)
		}
		var flowing *Node
		for _, m := range n.Path() {
			if flowAt(m.y) {
				flowing = m
				break
			}
		}
		if flowing == nil {
			return nil
		}
		if err := e.rerenderItem(flowing); err != nil {
			return err
		}
	}
	return errs.New(e.path, 0, 0, "cannot edit the codebook automatically (unusual YAML layout); make this change by hand")
}

// rerenderDoc writes the whole document again in block style.
func (e *Editor) rerenderDoc() error {
	r := e.root()
	r.Style &^= yaml.FlowStyle
	if _, th := lookup(r, "themes"); th != nil {
		th.Style &^= yaml.FlowStyle
		for _, it := range th.Content {
			if it.Kind == yaml.MappingNode {
				clearFlow(it)
			}
		}
	}
	lines, err := e.encode(e.cb.doc)
	if err != nil {
		return err
	}
	e.lines = lines
	return e.reparse()
}

// rerenderItem writes node n's item again in block style.
func (e *Editor) rerenderItem(n *Node) error {
	s, err := e.itemSpan(n.y)
	if err != nil {
		return err
	}
	clearFlow(n.y)
	n.y.HeadComment = "" // the comment lines above stay where they are
	if len(n.y.Content) > 0 {
		n.y.Content[0].HeadComment = ""
	}
	lines, err := e.renderItem(n.y)
	if err != nil {
		return err
	}
	e.replace(s.start, s.end+1, shift(lines, s.col))
	return e.reparse()
}

// appendItems adds items (each as lines with its dash at column 0) at the
// end of the list under key in the node with id ("" for the top), making
// the list when there is none.
func (e *Editor) appendItems(id, key string, items [][]string) error {
	if err := e.ensureBlock(id); err != nil {
		return err
	}
	lay := e.layout()
	m := e.mappingOf(id)
	if m == nil {
		if id != "" {
			return fmt.Errorf("internal error: %q went missing during an edit", id)
		}
		// No top mapping: an empty file, or only comments.
		block := []string{key + ":"}
		for _, it := range items {
			block = append(block, shift(it, lay.seqOff)...)
		}
		e.lines = append(e.lines, block...)
		return e.reparse()
	}
	k, v := lookup(m, key)
	switch {
	case k == nil:
		if len(m.Content) < 2 {
			return e.layoutError(m)
		}
		ps, err := e.pairSpan(m.Content[len(m.Content)-2], m.Content[len(m.Content)-1])
		if err != nil {
			return err
		}
		block := []string{strings.Repeat(" ", ps.col) + key + ":"}
		for _, it := range items {
			block = append(block, shift(it, ps.col+lay.seqOff)...)
		}
		e.replace(ps.end+1, ps.end+1, block)
	case isNull(v) || v.Kind == yaml.SequenceNode && len(v.Content) == 0:
		ps, err := e.pairSpan(k, v)
		if err != nil {
			return err
		}
		head := e.lines[ps.start][:ps.col] + k.Value + ":"
		if c := strings.TrimSpace(k.LineComment + " " + v.LineComment); c != "" {
			head += " " + c
		}
		block := []string{head}
		for l := ps.start + 1; l <= ps.end; l++ {
			if isComment(e.lines[l]) {
				block = append(block, e.lines[l])
			}
		}
		for _, it := range items {
			block = append(block, shift(it, ps.col+lay.seqOff)...)
		}
		e.replace(ps.start, ps.end+1, block)
	case v.Kind == yaml.SequenceNode && !isFlow(v):
		last := v.Content[len(v.Content)-1]
		ls, err := e.itemSpan(last)
		if err != nil {
			return err
		}
		sep := len(v.Content) > 1 && ls.head > 0 && isBlank(e.lines[ls.head-1])
		var block []string
		for _, it := range items {
			if sep {
				block = append(block, "")
			}
			block = append(block, shift(it, ls.col)...)
		}
		e.replace(ls.end+1, ls.end+1, block)
	default:
		return e.layoutError(v)
	}
	return e.reparse()
}

// cutItem removes the node with id from its list and returns its lines
// (with the comments directly above it), its dash moved to column 0. A list
// left empty goes too.
func (e *Editor) cutItem(id string) ([]string, error) {
	if err := e.ensureBlock(id); err != nil {
		return nil, err
	}
	n := e.cb.Node(id)
	pm := e.root()
	if n.Parent != nil {
		pm = n.Parent.y
	}
	k, seq := container(pm, n.y)
	if seq == nil {
		return nil, e.layoutError(n.y)
	}
	s, err := e.itemSpan(n.y)
	if err != nil {
		return nil, err
	}
	block := shift(e.lines[s.head:s.end+1], -s.col)
	if len(seq.Content) > 1 {
		e.remove(s.head, s.end+1)
		// The first item gone, a blank line that parted it from the next
		// would now part the list from its key.
		if seq.Content[0] == n.y && s.head < len(e.lines) && s.head > 0 && isBlank(e.lines[s.head]) && !isBlank(e.lines[s.head-1]) {
			e.replace(s.head, s.head+1, nil)
		}
		return block, e.reparse()
	}
	ps, err := e.pairSpan(k, seq)
	if err != nil {
		return nil, err
	}
	pre := e.lines[ps.start][:ps.col]
	if strings.TrimSpace(pre) == "" {
		e.remove(ps.head, ps.end+1)
	} else { // the key starts an item ("- codes:"): keep the line
		e.replace(ps.start, ps.end+1, []string{pre + k.Value + ": []"})
	}
	return block, e.reparse()
}

// setValue sets key to val in the node with id, keeping the key's place and
// its line comment; a new key goes first (first) or last in the node.
func (e *Editor) setValue(id, keyName string, val *yaml.Node, first bool) error {
	if err := e.ensureBlock(id); err != nil {
		return err
	}
	m := e.mappingOf(id)
	k, v := lookup(m, keyName)
	if k != nil {
		ps, err := e.pairSpan(k, v)
		if err != nil {
			return err
		}
		if val.Kind == yaml.ScalarNode && v.Kind == yaml.ScalarNode && val.Style == 0 {
			val.Style = v.Style & (yaml.SingleQuotedStyle | yaml.DoubleQuotedStyle)
		}
		if val.LineComment == "" {
			val.LineComment = v.LineComment
		}
		lines, err := e.encode(mapOf(key(keyName), val))
		if err != nil {
			return err
		}
		out := append([]string{e.lines[ps.start][:ps.col] + lines[0]}, shift(lines[1:], ps.col)...)
		e.replace(ps.start, ps.end+1, out)
		return e.reparse()
	}
	lines, err := e.encode(mapOf(key(keyName), val))
	if err != nil {
		return err
	}
	if len(m.Content) < 2 {
		return e.layoutError(m)
	}
	if first {
		fk := m.Content[0]
		row := fk.Line - 1
		pre, ok := asciiPrefix(e.lines[row], fk.Column)
		if !ok {
			return e.layoutError(fk)
		}
		out := append([]string{pre + lines[0]}, shift(lines[1:], len(pre))...)
		out = append(out, strings.Repeat(" ", len(pre))+e.lines[row][len(pre):])
		e.replace(row, row+1, out)
		return e.reparse()
	}
	ps, err := e.pairSpan(m.Content[len(m.Content)-2], m.Content[len(m.Content)-1])
	if err != nil {
		return err
	}
	e.replace(ps.end+1, ps.end+1, shift(lines, ps.col))
	return e.reparse()
}

// baseID is the id a node has, or would have were its name unique.
func baseID(n *Node) string {
	if n.idGiven {
		return n.ID
	}
	if b := slug(n.Name); b != "" {
		return b
	}
	return n.Level
}

// pin writes into the file the made ids of the nodes with the given ids and
// of every node whose made id depends on other nodes (it has a suffix such
// as "-2", or shares its name with another node), so that moving, renaming
// or removing nodes cannot change any id. Other made ids follow only from
// their own node's name and stay as they are.
func (e *Editor) pin(ids ...string) error {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	uses := map[string]int{}
	all := e.cb.Codes()
	for _, n := range all {
		uses[baseID(n)]++
	}
	var list []string
	for _, n := range all {
		if !n.idGiven && (want[n.ID] || n.ID != baseID(n) || uses[baseID(n)] > 1) {
			list = append(list, n.ID)
		}
	}
	for _, id := range list {
		if err := e.setValue(id, "id", str(id), true); err != nil {
			return err
		}
	}
	return nil
}
