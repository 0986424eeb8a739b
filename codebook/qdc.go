package codebook

// REFI-QDA codebook exchange (urn:QDA-XML:codebook:1.0, files ending in
// .qdc): reading a .qdc, writing one, turning the codebook into REFI codes
// and adding REFI codes to codebook.yaml as a subtree. The project exchange
// (.qdpx) reuses the code tree of this file; it lives in analysis and export.

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/thematic-qda/thematic/internal/errs"
)

// Namespaces of the REFI-QDA exchange files.
const (
	QDCNamespace     = "urn:QDA-XML:codebook:1.0"
	ProjectNamespace = "urn:QDA-XML:project:1.0"
)

// QDCCode is a code of a REFI-QDA codebook, as read from a .qdc file or a
// project's CodeBook, or as made from codebook.yaml for export.
type QDCCode struct {
	GUID        string // canonical: lower case, no braces (see ParseGUID)
	Name        string
	Codable     bool   // isCodable: false for folders that only group codes
	Colour      string // "#RRGGBB" upper case, or ""
	Description string
	// Memo is the text of the notes attached to the code (projects only;
	// a .qdc has no notes).
	Memo     string
	NoteRefs []string // GUIDs of the notes attached to the code (projects only)
	Children []*QDCCode
	Line     int // where the code starts in the file it was read from; 0 when made
}

// QDC is a codebook file read by ReadQDC.
type QDC struct {
	Origin string // the origin attribute: the tool that wrote the file
	Codes  []*QDCCode
	Sets   int // code sets, which thematic has no place for
}

// maxQDCDepth bounds the nesting of Code elements a reader accepts.
const maxQDCDepth = 100

// ParseGUID checks a REFI GUID (8-4-4-4-12 hexadecimal digits, either case,
// optionally in braces) and returns it in lower case without braces.
func ParseGUID(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	if len(s) != 36 {
		return "", false
	}
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return "", false
			}
		}
	}
	return string(b), true
}

// ParseColour reads a colour such as "#4E79A7" or "#abc" and returns it as
// "#RRGGBB" in upper case.
func ParseColour(s string) (string, bool) {
	if !strings.HasPrefix(strings.TrimSpace(s), "#") {
		return "", false
	}
	return parseColour(strings.TrimSpace(s))
}

// ReadQDC reads a REFI-QDA codebook (.qdc). name is the file as the user
// knows it, used in errors. Any namespace of the form urn:QDA-XML:codebook:*
// is accepted (tools wrote drafts such as 0:4), and elements are matched by
// local name.
func ReadQDC(name string, data []byte) (*QDC, error) {
	d, err := qdcDecoder(name, data)
	if err != nil {
		return nil, err
	}
	fail := func(format string, args ...any) error {
		line, col := d.InputPos()
		return errs.New(name, line, col, format, args...)
	}
	root, err := qdcFirstElement(d, name)
	if err != nil {
		return nil, err
	}
	switch {
	case root.Name.Local == "Project" && strings.HasPrefix(root.Name.Space, "urn:QDA-XML:project"):
		return nil, fail("this is a REFI-QDA project, not a codebook; import it with 'thematic import qdpx'")
	case root.Name.Local != "CodeBook" || !strings.HasPrefix(root.Name.Space, "urn:QDA-XML:codebook"):
		return nil, fail("not a REFI-QDA codebook: the root element is <%s> in namespace %q, not <CodeBook> in %s", root.Name.Local, root.Name.Space, QDCNamespace)
	}
	q := &QDC{Origin: qdcAttr(root, "origin")}
	seen := map[string]int{}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, qdcXMLError(name, d, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if q.Codes == nil {
				return nil, fail("the codebook holds no codes")
			}
			return q, nil
		case xml.StartElement:
			switch t.Name.Local {
			case "Codes":
				codes, err := readQDCCodes(name, d, seen, 1)
				if err != nil {
					return nil, err
				}
				q.Codes = append(q.Codes, codes...)
			case "Sets":
				n, err := qdcCountChildren(name, d, "Set")
				if err != nil {
					return nil, err
				}
				q.Sets += n
			default:
				if err := d.Skip(); err != nil {
					return nil, qdcXMLError(name, d, err)
				}
			}
		}
	}
}

// readQDCCodes reads the Code elements inside the element just opened, up
// to its end. seen maps the GUIDs read so far to their lines.
func readQDCCodes(name string, d *xml.Decoder, seen map[string]int, depth int) ([]*QDCCode, error) {
	var out []*QDCCode
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, qdcXMLError(name, d, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return out, nil
		case xml.StartElement:
			if t.Name.Local != "Code" {
				if err := d.Skip(); err != nil {
					return nil, qdcXMLError(name, d, err)
				}
				continue
			}
			c, err := readQDCCode(name, d, t, seen, depth)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
}

// readQDCCode reads one Code element, whose start tag was just read.
func readQDCCode(name string, d *xml.Decoder, start xml.StartElement, seen map[string]int, depth int) (*QDCCode, error) {
	line, col := d.InputPos()
	fail := func(format string, args ...any) error {
		return errs.New(name, line, col, format, args...)
	}
	if depth > maxQDCDepth {
		return nil, fail("codes are nested more than %d levels deep", maxQDCDepth)
	}
	c := &QDCCode{Name: qdcAttr(start, "name"), Line: line}
	g, ok := ParseGUID(qdcAttr(start, "guid"))
	if !ok {
		return nil, fail("code %q: guid %q is not a GUID (8-4-4-4-12 hexadecimal digits)", c.Name, qdcAttr(start, "guid"))
	}
	if prev, dup := seen[g]; dup {
		return nil, fail("code %q: guid %s is used twice (also on line %d)", c.Name, g, prev)
	}
	seen[g] = line
	c.GUID = g
	c.Codable = true
	if v := strings.TrimSpace(qdcAttr(start, "isCodable")); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fail("code %q: isCodable %q is not true or false", c.Name, v)
		}
		c.Codable = b
	}
	if v := qdcAttr(start, "color"); v != "" {
		col, ok := ParseColour(v)
		if !ok {
			return nil, fail("code %q: color %q is not a colour such as #4E79A7", c.Name, v)
		}
		c.Colour = col
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, qdcXMLError(name, d, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return c, nil
		case xml.StartElement:
			switch t.Name.Local {
			case "Description":
				s, err := qdcElementText(name, d)
				if err != nil {
					return nil, err
				}
				c.Description = s
			case "Code":
				k, err := readQDCCode(name, d, t, seen, depth+1)
				if err != nil {
					return nil, err
				}
				c.Children = append(c.Children, k)
			case "NoteRef":
				if g, ok := ParseGUID(qdcAttr(t, "targetGUID")); ok {
					c.NoteRefs = append(c.NoteRefs, g)
				}
				if err := d.Skip(); err != nil {
					return nil, qdcXMLError(name, d, err)
				}
			default:
				if err := d.Skip(); err != nil {
					return nil, qdcXMLError(name, d, err)
				}
			}
		}
	}
}

// qdcDecoder makes a strict decoder for data, which may start with a
// UTF-8 byte order mark. Only UTF-8 is read (the standard's encoding).
func qdcDecoder(name string, data []byte) (*xml.Decoder, error) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errs.New(name, 0, 0, "empty file")
	}
	if !utf8.Valid(data) {
		return nil, errs.New(name, 0, 0, "not UTF-8 text; REFI-QDA files are UTF-8 XML")
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "utf-8", "utf8", "us-ascii", "ascii":
			return in, nil
		}
		return nil, fmt.Errorf("encoding %q is not supported; REFI-QDA files are UTF-8", label)
	}
	return d, nil
}

// qdcFirstElement returns the root element's start tag.
func qdcFirstElement(d *xml.Decoder, name string) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return xml.StartElement{}, errs.New(name, 0, 0, "no XML element in the file")
		}
		if err != nil {
			return xml.StartElement{}, qdcXMLError(name, d, err)
		}
		if t, ok := tok.(xml.StartElement); ok {
			return t, nil
		}
	}
}

// qdcXMLError turns a decoding error into an InputError with the position.
func qdcXMLError(name string, d *xml.Decoder, err error) error {
	if err == io.EOF {
		line, col := d.InputPos()
		return errs.New(name, line, col, "the XML ends too early (unclosed elements)")
	}
	if se, ok := err.(*xml.SyntaxError); ok {
		return errs.New(name, se.Line, 0, "XML syntax error: %s", se.Msg)
	}
	line, col := d.InputPos()
	return errs.New(name, line, col, "XML error: %v", err)
}

// qdcElementText reads the text of the element just opened up to its end,
// leaving out nested elements.
func qdcElementText(name string, d *xml.Decoder) (string, error) {
	var b strings.Builder
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return "", qdcXMLError(name, d, err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			if depth == 0 {
				b.Write(t)
			}
		case xml.StartElement:
			depth++
		case xml.EndElement:
			if depth == 0 {
				return b.String(), nil
			}
			depth--
		}
	}
}

// qdcCountChildren counts the child elements named local of the element just
// opened, up to its end.
func qdcCountChildren(name string, d *xml.Decoder, local string) (int, error) {
	n := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return 0, qdcXMLError(name, d, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return n, nil
		case xml.StartElement:
			if t.Name.Local == local {
				n++
			}
			if err := d.Skip(); err != nil {
				return 0, qdcXMLError(name, d, err)
			}
		}
	}
}

func qdcAttr(e xml.StartElement, local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// Labels of the parts of a REFI description made from a node (see
// Describe); ParseDescription splits them off again.
const (
	descWhenToUse    = "When to use: "
	descWhenNotToUse = "When not to use: "
	descExamples     = "Examples:"
)

// Describe makes the REFI description of a node: its definition, then "When
// to use: ...", "When not to use: ..." and "Examples:" with one "- " line
// per example, each part a paragraph, the empty ones left out. Other tools
// show the description next to the code; ParseDescription reads it back.
func Describe(n *Node) string {
	var parts []string
	if n.Definition != "" {
		parts = append(parts, n.Definition)
	}
	if n.WhenToUse != "" {
		parts = append(parts, descWhenToUse+n.WhenToUse)
	}
	if n.WhenNotToUse != "" {
		parts = append(parts, descWhenNotToUse+n.WhenNotToUse)
	}
	if len(n.Examples) > 0 {
		lines := []string{descExamples}
		for _, ex := range n.Examples {
			lines = append(lines, "- "+strings.Join(strings.Fields(ex), " "))
		}
		parts = append(parts, strings.Join(lines, "\n"))
	}
	return strings.Join(parts, "\n\n")
}

// Description is a REFI description split into the fields of a node.
type Description struct {
	Definition, WhenToUse, WhenNotToUse string
	Examples                            []string
}

// ParseDescription splits a description written by Describe into its
// parts; any other description is all definition. Line breaks are made LF
// and surrounding white space trimmed.
func ParseDescription(s string) Description {
	s = strings.TrimSpace(qdcText(s))
	var d Description
	if rest, tail, ok := cutSection(s, descExamples+"\n"); ok {
		var exs []string
		good := tail != ""
		for _, l := range strings.Split(tail, "\n") {
			ex, isItem := strings.CutPrefix(l, "- ")
			if !isItem || strings.TrimSpace(ex) == "" {
				good = false
				break
			}
			exs = append(exs, strings.TrimSpace(ex))
		}
		if good {
			s, d.Examples = rest, exs
		}
	}
	if rest, tail, ok := cutSection(s, descWhenNotToUse); ok {
		s, d.WhenNotToUse = rest, strings.TrimSpace(tail)
	}
	if rest, tail, ok := cutSection(s, descWhenToUse); ok {
		s, d.WhenToUse = rest, strings.TrimSpace(tail)
	}
	d.Definition = strings.TrimSpace(s)
	return d
}

// cutSection splits s at its last paragraph starting with label: the text
// before it and the paragraph's text after the label.
func cutSection(s, label string) (before, after string, ok bool) {
	if strings.HasPrefix(s, label) && !strings.Contains(s, "\n\n"+label) {
		return "", s[len(label):], true
	}
	i := strings.LastIndex(s, "\n\n"+label)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+2+len(label):], true
}

// ToQDC turns the codebook into REFI codes, each node a code (every node
// can hold codings, so all are codable), children nested, with its colour
// and its description made by Describe. guid gives each node's GUID.
func ToQDC(cb *Codebook, guid func(n *Node) string) []*QDCCode {
	var conv func(ns []*Node) []*QDCCode
	conv = func(ns []*Node) []*QDCCode {
		var out []*QDCCode
		for _, n := range ns {
			out = append(out, &QDCCode{
				GUID:        guid(n),
				Name:        n.Name,
				Codable:     true,
				Colour:      n.Colour,
				Description: Describe(n),
				Memo:        n.Memo,
				Children:    conv(n.Children),
			})
		}
		return out
	}
	return conv(cb.Themes)
}

// qdcXMLCode is a Code element of a .qdc file.
type qdcXMLCode struct {
	GUID        string        `xml:"guid,attr"`
	Name        string        `xml:"name,attr"`
	Codable     bool          `xml:"isCodable,attr"`
	Colour      string        `xml:"color,attr,omitempty"`
	Description string        `xml:"Description,omitempty"`
	Children    []*qdcXMLCode `xml:"Code"`
}

type qdcXMLFile struct {
	XMLName xml.Name      `xml:"CodeBook"`
	NS      string        `xml:"xmlns,attr"`
	Origin  string        `xml:"origin,attr,omitempty"`
	Codes   []*qdcXMLCode `xml:"Codes>Code"`
}

// WriteQDC writes codes as a REFI-QDA codebook (.qdc) in namespace
// urn:QDA-XML:codebook:1.0, valid against Codebook.xsd. A codebook needs at
// least one code; memos have no place in a .qdc and are left out.
func WriteQDC(w io.Writer, codes []*QDCCode, origin string) error {
	if len(codes) == 0 {
		return errs.New("", 0, 0, "the codebook has no themes or codes; a REFI-QDA codebook needs at least one")
	}
	var conv func(cs []*QDCCode) []*qdcXMLCode
	conv = func(cs []*QDCCode) []*qdcXMLCode {
		var out []*qdcXMLCode
		for _, c := range cs {
			out = append(out, &qdcXMLCode{GUID: c.GUID, Name: c.Name, Codable: c.Codable,
				Colour: c.Colour, Description: c.Description, Children: conv(c.Children)})
		}
		return out
	}
	f := qdcXMLFile{NS: QDCNamespace, Origin: origin, Codes: conv(codes)}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// QDCResult says what AddQDC did.
type QDCResult struct {
	// IDs maps the GUID of every code read to the id of its node: a new one
	// or one the codebook had already.
	IDs map[string]string
	// Added lists the ids of the new nodes, parents before children.
	Added []string
	// Matched counts codes found in the codebook already, by GUID or by
	// name under the same parent.
	Matched int
	// Flattened counts codes nested deeper than codebook.yaml allows (theme >
	// sub-theme > code > child code), placed beside their parent with its
	// name before theirs: "parent › code".
	Flattened int
	// Renamed counts codes whose name had to change: empty, several lines,
	// or the same as a sibling's.
	Renamed int
}

// flatSep joins the names of a code nested too deep and its parent.
const flatSep = " › "

// qdcNew is a node AddQDC will add.
type qdcNew struct {
	id, name, level string
	code            *QDCCode
	subs, codes     []*qdcNew
}

// qdcPlace is where AddQDC puts children: under an existing node, a new one,
// or at the top (both nil).
type qdcPlace struct {
	node  *Node
	fresh *qdcNew
}

func (pl qdcPlace) level() string {
	switch {
	case pl.node != nil:
		return pl.node.Level
	case pl.fresh != nil:
		return pl.fresh.level
	}
	return ""
}

func (pl qdcPlace) id() string {
	switch {
	case pl.node != nil:
		return pl.node.ID
	case pl.fresh != nil:
		return pl.fresh.id
	}
	return ""
}

// AddQDC adds REFI codes to the codebook as a subtree: top-level codes
// become themes, their children sub-themes (when they hold codes
// themselves) or codes, and so on down to child codes; codes nested deeper
// are placed beside their parent, named "parent › code" (see QDCResult).
// A code is not added again when known maps its GUID to a node of the
// codebook, or when its parent already holds a node of the same name
// (compared without regard to case): its children go under that node. New
// nodes get ids made from their names, their colour, and definition, when
// to use, when not to use and examples from the description (see
// ParseDescription); their memo is the code's Memo. Rules stay empty. The
// change is checked like every edit and kept only when the whole subtree
// could be added; nothing is written until Save.
func (e *Editor) AddQDC(codes []*QDCCode, known map[string]string) (*QDCResult, error) {
	res := &QDCResult{IDs: map[string]string{}}
	taken := map[string]bool{}
	for _, n := range e.cb.Codes() {
		taken[n.ID] = true
	}
	// names under each place, lower case, for matching and uniqueness
	names := map[qdcPlace]map[string]bool{}
	namesAt := func(pl qdcPlace) map[string]bool {
		if m, ok := names[pl]; ok {
			return m
		}
		m := map[string]bool{}
		var sibs []*Node
		switch {
		case pl.node != nil:
			sibs = pl.node.Children
		case pl.fresh == nil:
			sibs = e.cb.Themes
		}
		for _, s := range sibs {
			m[strings.ToLower(s.Name)] = true
		}
		names[pl] = m
		return m
	}
	existingChild := func(pl qdcPlace, name string) *Node {
		sibs := e.cb.Themes
		switch {
		case pl.node != nil:
			sibs = pl.node.Children
		case pl.fresh != nil:
			return nil
		}
		for _, s := range sibs {
			if strings.ToLower(s.Name) == strings.ToLower(name) {
				return s
			}
		}
		return nil
	}
	type group struct {
		parent, key string
		items       []*qdcNew
	}
	var groups []*group
	groupOf := map[[2]string]*group{}
	addAt := func(pl qdcPlace, nw *qdcNew) {
		key := "codes"
		switch {
		case pl.node == nil && pl.fresh == nil:
			key = "themes"
		case nw.level == LevelSubtheme:
			key = "subthemes"
		}
		if pl.fresh != nil {
			if key == "subthemes" {
				pl.fresh.subs = append(pl.fresh.subs, nw)
			} else {
				pl.fresh.codes = append(pl.fresh.codes, nw)
			}
			return
		}
		k := [2]string{pl.id(), key}
		g := groupOf[k]
		if g == nil {
			g = &group{parent: pl.id(), key: key}
			groupOf[k] = g
			groups = append(groups, g)
		}
		g.items = append(g.items, nw)
	}
	parentOf := map[*qdcNew]qdcPlace{}
	up := func(pl qdcPlace) qdcPlace {
		if pl.node != nil {
			return qdcPlace{node: pl.node.Parent}
		}
		return parentOf[pl.fresh]
	}
	// isChildCode reports whether pl is a code under a code, which holds
	// nothing.
	isChildCode := func(pl qdcPlace) bool {
		return pl.level() == LevelCode && up(pl).level() == LevelCode
	}
	var place func(c *QDCCode, pl qdcPlace) error
	place = func(c *QDCCode, pl qdcPlace) error {
		name := strings.Join(strings.Fields(c.Name), " ")
		if name == "" {
			name = "Unnamed code"
		}
		if name != c.Name {
			res.Renamed++
		}
		if isChildCode(pl) {
			parentName := ""
			if pl.node != nil {
				parentName = pl.node.Name
			} else {
				parentName = pl.fresh.name
			}
			name = parentName + flatSep + name
			pl = up(pl)
			res.Flattened++
		}
		if id, ok := known[c.GUID]; ok {
			if n := e.cb.Node(id); n != nil {
				res.IDs[c.GUID] = n.ID
				res.Matched++
				return placeAll(c.Children, qdcPlace{node: n}, place)
			}
		}
		if n := existingChild(pl, name); n != nil {
			res.IDs[c.GUID] = n.ID
			res.Matched++
			return placeAll(c.Children, qdcPlace{node: n}, place)
		}
		sibs := namesAt(pl)
		if sibs[strings.ToLower(name)] {
			base := name
			for i := 2; sibs[strings.ToLower(name)]; i++ {
				name = base + " (" + strconv.Itoa(i) + ")"
			}
			res.Renamed++
		}
		sibs[strings.ToLower(name)] = true
		nw := &qdcNew{name: name, code: c}
		switch pl.level() {
		case "":
			nw.level = LevelTheme
		case LevelTheme:
			nw.level = LevelCode
			if len(c.Children) > 0 {
				nw.level = LevelSubtheme
			}
		default:
			nw.level = LevelCode
		}
		base := slug(name)
		if base == "" {
			base = nw.level
		}
		nw.id = uniqueID(base, func(s string) bool { return taken[s] })
		taken[nw.id] = true
		parentOf[nw] = pl
		addAt(pl, nw)
		res.IDs[c.GUID] = nw.id
		res.Added = append(res.Added, nw.id)
		return placeAll(c.Children, qdcPlace{fresh: nw}, place)
	}
	if err := placeAll(codes, qdcPlace{}, place); err != nil {
		return nil, err
	}
	if len(res.Added) == 0 {
		return res, nil
	}
	x := expect{added: map[string]placed{}}
	var render func(nw *qdcNew, parent string) (*yaml.Node, error)
	render = func(nw *qdcNew, parent string) (*yaml.Node, error) {
		x.added[nw.id] = placed{parent, nw.name}
		d := ParseDescription(nw.code.Description)
		kv := []*yaml.Node{key("id"), str(nw.id), key("name"), str(nw.name)}
		if d.Definition != "" {
			kv = append(kv, key("definition"), str(d.Definition))
		}
		if d.WhenToUse != "" {
			kv = append(kv, key("when_to_use"), str(d.WhenToUse))
		}
		if d.WhenNotToUse != "" {
			kv = append(kv, key("when_not_to_use"), str(d.WhenNotToUse))
		}
		if len(d.Examples) > 0 {
			seq := &yaml.Node{Kind: yaml.SequenceNode}
			for _, ex := range d.Examples {
				seq.Content = append(seq.Content, str(ex))
			}
			kv = append(kv, key("examples"), seq)
		}
		if nw.code.Colour != "" {
			kv = append(kv, key("colour"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: nw.code.Colour, Style: yaml.DoubleQuotedStyle})
		}
		if m := strings.TrimSpace(qdcText(nw.code.Memo)); m != "" {
			kv = append(kv, key("memo"), str(m))
		}
		for _, part := range []struct {
			key   string
			nodes []*qdcNew
		}{{"subthemes", nw.subs}, {"codes", nw.codes}} {
			if len(part.nodes) == 0 {
				continue
			}
			seq := &yaml.Node{Kind: yaml.SequenceNode}
			for _, k := range part.nodes {
				y, err := render(k, nw.id)
				if err != nil {
					return nil, err
				}
				seq.Content = append(seq.Content, y)
			}
			kv = append(kv, key(part.key), seq)
		}
		return mapOf(kv...), nil
	}
	type block struct {
		parent, key string
		items       [][]string
	}
	var blocks []block
	for _, g := range groups {
		b := block{parent: g.parent, key: g.key}
		for _, nw := range g.items {
			y, err := render(nw, g.parent)
			if err != nil {
				return nil, err
			}
			lines, err := e.renderItem(y)
			if err != nil {
				return nil, err
			}
			b.items = append(b.items, lines)
		}
		blocks = append(blocks, b)
	}
	err := e.transact(fmt.Sprintf("adding %d imported codes", len(res.Added)), x, func() error {
		for _, b := range blocks {
			if err := e.appendItems(b.parent, b.key, b.items); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// qdcBreaks turns every line break into LF: codebook.yaml is edited line
// by line, and the Editor refuses the rarer breaks (NEL, LS, PS).
var qdcBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n")

// qdcText makes text from another tool fit codebook.yaml: LF line ends and
// valid UTF-8.
func qdcText(s string) string {
	return qdcBreaks.Replace(strings.ToValidUTF8(s, "\uFFFD"))
}

// placeAll places each code under pl in order.
func placeAll(cs []*QDCCode, pl qdcPlace, place func(c *QDCCode, pl qdcPlace) error) error {
	for _, c := range cs {
		if err := place(c, pl); err != nil {
			return err
		}
	}
	return nil
}
