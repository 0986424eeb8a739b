package analysis

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/internal/errs"
)

// Limits of the .qde reader, against files made to exhaust memory.
const (
	maxQDEDepth    = 256       // nesting of elements
	maxQDEElements = 5_000_000 // elements in one file
)

// refiXMLEl is an element of a parsed XML document: local name, attributes by
// local name (unqualified attributes only), children, and its own text.
type refiXMLEl struct {
	name      string
	space     string
	attrs     []xml.Attr
	kids      []*refiXMLEl
	text      string
	line, col int
}

func (e *refiXMLEl) attr(local string) string {
	for _, a := range e.attrs {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// child returns the first child named local, or nil.
func (e *refiXMLEl) child(local string) *refiXMLEl {
	for _, k := range e.kids {
		if k.name == local {
			return k
		}
	}
	return nil
}

// parseRefiXML reads an XML document into a tree of elements, with the
// line and column of each start tag. Only UTF-8 is read; entities other
// than XML's own are refused (the decoder has no DTD support), so nothing
// is fetched and nothing expands.
func parseRefiXML(name string, data []byte) (*refiXMLEl, error) {
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
	var root *refiXMLEl
	var stack []*refiXMLEl
	var texts [][]byte
	elements := 0
	for {
		line, col := d.InputPos()
		tok, err := d.Token()
		if err == io.EOF {
			if root == nil {
				return nil, errs.New(name, 0, 0, "no XML element in the file")
			}
			if len(stack) > 0 {
				return nil, errs.New(name, line, col, "the XML ends inside <%s> (line %d)", stack[len(stack)-1].name, stack[len(stack)-1].line)
			}
			return root, nil
		}
		if err != nil {
			if se, ok := err.(*xml.SyntaxError); ok {
				return nil, errs.New(name, se.Line, 0, "XML syntax error: %s", se.Msg)
			}
			return nil, errs.New(name, line, col, "XML error: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, errs.New(name, line, col, "a second root element <%s>", t.Name.Local)
			}
			elements++
			if elements > maxQDEElements {
				return nil, errs.New(name, line, col, "more than %d elements; refusing a file this large", maxQDEElements)
			}
			if len(stack) >= maxQDEDepth {
				return nil, errs.New(name, line, col, "elements nested more than %d deep", maxQDEDepth)
			}
			// InputPos before the token is where the previous token ended:
			// white space between tags is a token of its own, so that is
			// where this tag's '<' is.
			el := &refiXMLEl{name: t.Name.Local, space: t.Name.Space, attrs: t.Attr, line: line, col: col}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.kids = append(parent.kids, el)
			} else {
				root = el
			}
			stack = append(stack, el)
			texts = append(texts, nil)
		case xml.EndElement:
			el := stack[len(stack)-1]
			el.text = string(texts[len(texts)-1])
			stack, texts = stack[:len(stack)-1], texts[:len(texts)-1]
		case xml.CharData:
			if len(texts) > 0 {
				texts[len(texts)-1] = append(texts[len(texts)-1], t...)
			}
		}
	}
}

// The model of a REFI-QDA project as far as thematic reads it.
type (
	refiProject struct {
		Name, Origin string
		Description  string    // of the project as a whole
		Created      time.Time // the newest of the project's creation and modification times
		CreatingUser string
		Users        []refiUser
		Codes        []*codebook.QDCCode
		Variables    []refiVariable
		Cases        []refiCase
		Sources      []*refiSource // text sources, PDF representations and transcripts
		Others       []refiOther   // what thematic cannot hold: pictures, PDF areas, audio, video
		Notes        []refiNote
		Sets, Links  int
		Graphs       int
		NoteRefs     []string // notes about the project as a whole
	}
	refiUser struct {
		GUID, Name, ID string
		Line           int
	}
	refiVariable struct {
		GUID, Name, Type string
		Line             int
	}
	refiValue struct {
		Variable, Value string
		Line            int
	}
	refiCase struct {
		GUID, Name  string
		Description string
		Values      []refiValue
		Sources     []string
		Selections  int // SelectionRef: selections of a case, which thematic has no place for
		CodeRefs    int
		Line, Col   int
	}
	refiSource struct {
		GUID, Name   string
		Element      string // TextSource, Representation (of a PDF) or Transcript
		Of           string // for a representation or transcript, the name of its PDF or media source
		Path         string // plainTextPath
		RichPath     string // richTextPath: the formatted text (.docx), not read
		Content      string // PlainTextContent
		HasContent   bool
		CreatingUser string
		Created      time.Time
		Description  string
		Selections   []refiSelection
		Codings      []refiCoding // of the whole source
		NoteRefs     []string
		Values       []refiValue
		Line, Col    int
		// TranscriptSelections counts selections of a transcript, which are
		// given by sync points of the media and not imported.
		TranscriptSelections int
	}
	refiSelection struct {
		GUID         string
		Start, End   int
		CreatingUser string
		Created      time.Time
		Description  string
		Codings      []refiCoding
		NoteRefs     []string
		Line, Col    int
	}
	refiCoding struct {
		GUID, Code, User string
		Created          time.Time
		NoteRefs         []string
		Line, Col        int
	}
	refiOther struct {
		Element, Name, GUID string
		Selections, Codings int
		Line                int
	}
	refiNote struct {
		GUID, Name   string
		Path         string
		Content      string
		HasContent   bool
		Description  string
		CreatingUser string
		Line, Col    int
	}
)

// qdeReader turns the element tree into the model, checking GUIDs.
type qdeReader struct {
	file string
	p    *refiProject
	// GUIDs seen, per kind of element, with the line of their first use.
	seen map[string]map[string]int
}

// readRefiProject reads a project.qde. Elements are matched by local name
// in any namespace of the form urn:QDA-XML:project:* (files in the wild
// carry drafts such as 0:4 as well as 1.0).
func readRefiProject(file string, data []byte) (*refiProject, error) {
	root, err := parseRefiXML(file, data)
	if err != nil {
		return nil, err
	}
	switch {
	case root.name == "CodeBook" && strings.HasPrefix(root.space, "urn:QDA-XML:codebook"):
		return nil, errs.New(file, root.line, root.col, "this is a REFI-QDA codebook, not a project; import it with 'thematic codebook import'")
	case root.name != "Project" || !strings.HasPrefix(root.space, "urn:QDA-XML:project"):
		return nil, errs.New(file, root.line, root.col, "not a REFI-QDA project: the root element is <%s> in namespace %q, not <Project> in %s", root.name, root.space, codebook.ProjectNamespace)
	}
	r := &qdeReader{file: file, p: &refiProject{}, seen: map[string]map[string]int{}}
	return r.project(root)
}

func (r *qdeReader) errAt(e *refiXMLEl, format string, args ...any) error {
	return errs.New(r.file, e.line, e.col, format, args...)
}

// guid reads the GUID attribute attr of e; required says whether it must
// be there. kind, when not "", is checked for duplicates.
func (r *qdeReader) guid(e *refiXMLEl, attr, kind string, required bool) (string, error) {
	v := e.attr(attr)
	if v == "" {
		if required {
			return "", r.errAt(e, "<%s> has no %s", e.name, attr)
		}
		return "", nil
	}
	g, ok := codebook.ParseGUID(v)
	if !ok {
		return "", r.errAt(e, "<%s> %s %q is not a GUID (8-4-4-4-12 hexadecimal digits)", e.name, attr, v)
	}
	if kind != "" {
		m := r.seen[kind]
		if m == nil {
			m = map[string]int{}
			r.seen[kind] = m
		}
		if prev, dup := m[g]; dup {
			return "", r.errAt(e, "duplicate GUID %s: another %s has it (line %d); every %s needs its own", g, kind, prev, kind)
		}
		m[g] = e.line
	}
	return g, nil
}

// refiWhen reads a dateTime attribute; an unreadable one counts as absent.
func refiWhen(e *refiXMLEl, attr string) time.Time {
	v := strings.TrimSpace(e.attr(attr))
	if v == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

func (r *qdeReader) project(root *refiXMLEl) (*refiProject, error) {
	p := r.p
	p.Name, p.Origin = root.attr("name"), root.attr("origin")
	p.Created = refiWhen(root, "creationDateTime")
	if m := refiWhen(root, "modifiedDateTime"); m.After(p.Created) {
		p.Created = m
	}
	var err error
	if p.CreatingUser, err = r.guid(root, "creatingUserGUID", "", false); err != nil {
		return nil, err
	}
	for _, sec := range root.kids {
		switch sec.name {
		case "Users":
			for _, u := range sec.kids {
				if u.name != "User" {
					continue
				}
				g, err := r.guid(u, "guid", "user", true)
				if err != nil {
					return nil, err
				}
				p.Users = append(p.Users, refiUser{GUID: g, Name: u.attr("name"), ID: u.attr("id"), Line: u.line})
			}
		case "CodeBook":
			for _, codes := range sec.kids {
				if codes.name != "Codes" {
					continue
				}
				cs, err := r.codes(codes, 1)
				if err != nil {
					return nil, err
				}
				p.Codes = append(p.Codes, cs...)
			}
		case "Variables":
			for _, v := range sec.kids {
				if v.name != "Variable" {
					continue
				}
				g, err := r.guid(v, "guid", "variable", true)
				if err != nil {
					return nil, err
				}
				p.Variables = append(p.Variables, refiVariable{GUID: g, Name: v.attr("name"), Type: v.attr("typeOfVariable"), Line: v.line})
			}
		case "Cases":
			for _, c := range sec.kids {
				if c.name != "Case" {
					continue
				}
				if err := r.caseEl(c); err != nil {
					return nil, err
				}
			}
		case "Sources":
			for _, s := range sec.kids {
				if err := r.source(s); err != nil {
					return nil, err
				}
			}
		case "Notes":
			for _, n := range sec.kids {
				if n.name != "Note" {
					continue
				}
				g, err := r.guid(n, "guid", "note", true)
				if err != nil {
					return nil, err
				}
				note := refiNote{GUID: g, Name: n.attr("name"), Path: n.attr("plainTextPath"), Line: n.line, Col: n.col}
				if c := n.child("PlainTextContent"); c != nil {
					note.Content, note.HasContent = c.text, true
				}
				if d := n.child("Description"); d != nil {
					note.Description = d.text
				}
				note.CreatingUser, _ = r.guid(n, "creatingUser", "", false)
				p.Notes = append(p.Notes, note)
			}
		case "Links":
			p.Links += refiCountKids(sec, "Link")
		case "Sets":
			p.Sets += refiCountKids(sec, "Set")
		case "Graphs":
			p.Graphs += refiCountKids(sec, "Graph")
		case "Description":
			p.Description = sec.text
		case "NoteRef":
			if g, err := r.guid(sec, "targetGUID", "", true); err == nil {
				p.NoteRefs = append(p.NoteRefs, g)
			} else {
				return nil, err
			}
		}
	}
	return p, nil
}

func refiCountKids(e *refiXMLEl, local string) int {
	n := 0
	for _, k := range e.kids {
		if k.name == local {
			n++
		}
	}
	return n
}

// codes reads the Code elements under e.
func (r *qdeReader) codes(e *refiXMLEl, depth int) ([]*codebook.QDCCode, error) {
	var out []*codebook.QDCCode
	for _, k := range e.kids {
		if k.name != "Code" {
			continue
		}
		if depth > maxQDEDepth {
			return nil, r.errAt(k, "codes nested more than %d deep", maxQDEDepth)
		}
		g, err := r.guid(k, "guid", "code", true)
		if err != nil {
			return nil, err
		}
		c := &codebook.QDCCode{GUID: g, Name: k.attr("name"), Codable: true, Line: k.line}
		if v := strings.TrimSpace(k.attr("isCodable")); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, r.errAt(k, "code %q: isCodable %q is not true or false", c.Name, v)
			}
			c.Codable = b
		}
		if v := k.attr("color"); v != "" {
			col, ok := codebook.ParseColour(v)
			if !ok {
				return nil, r.errAt(k, "code %q: color %q is not a colour such as #4E79A7", c.Name, v)
			}
			c.Colour = col
		}
		if d := k.child("Description"); d != nil {
			c.Description = d.text
		}
		for _, n := range k.kids {
			if n.name == "NoteRef" {
				g, err := r.guid(n, "targetGUID", "", true)
				if err != nil {
					return nil, err
				}
				c.NoteRefs = append(c.NoteRefs, g)
			}
		}
		if c.Children, err = r.codes(k, depth+1); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (r *qdeReader) values(e *refiXMLEl) ([]refiValue, error) {
	var out []refiValue
	for _, v := range e.kids {
		if v.name != "VariableValue" {
			continue
		}
		ref := v.child("VariableRef")
		if ref == nil {
			return nil, r.errAt(v, "<VariableValue> has no <VariableRef>")
		}
		g, err := r.guid(ref, "targetGUID", "", true)
		if err != nil {
			return nil, err
		}
		val := refiValue{Variable: g, Line: v.line}
		for _, k := range v.kids {
			switch k.name {
			case "TextValue", "BooleanValue", "IntegerValue", "FloatValue", "DateValue", "DateTimeValue":
				val.Value = strings.TrimSpace(k.text)
			}
		}
		out = append(out, val)
	}
	return out, nil
}

func (r *qdeReader) caseEl(c *refiXMLEl) error {
	g, err := r.guid(c, "guid", "case", true)
	if err != nil {
		return err
	}
	cs := refiCase{GUID: g, Name: c.attr("name"), Line: c.line, Col: c.col}
	if d := c.child("Description"); d != nil {
		cs.Description = d.text
	}
	if cs.Values, err = r.values(c); err != nil {
		return err
	}
	for _, k := range c.kids {
		switch k.name {
		case "SourceRef":
			sg, err := r.guid(k, "targetGUID", "", true)
			if err != nil {
				return err
			}
			cs.Sources = append(cs.Sources, sg)
		case "SelectionRef":
			cs.Selections++
		case "CodeRef":
			cs.CodeRefs++
		}
	}
	r.p.Cases = append(r.p.Cases, cs)
	return nil
}

// source reads one element of Sources.
func (r *qdeReader) source(s *refiXMLEl) error {
	switch s.name {
	case "TextSource":
		src, err := r.textSource(s, "TextSource", "")
		if err != nil {
			return err
		}
		r.p.Sources = append(r.p.Sources, src)
	case "PDFSource", "PictureSource", "AudioSource", "VideoSource":
		g, err := r.guid(s, "guid", "source", true)
		if err != nil {
			return err
		}
		other := refiOther{Element: s.name, Name: s.attr("name"), GUID: g, Line: s.line}
		for _, k := range s.kids {
			switch k.name {
			case "PDFSelection", "PictureSelection", "AudioSelection", "VideoSelection":
				other.Selections++
				other.Codings += refiCountKids(k, "Coding")
			case "Coding":
				other.Codings++
			case "Representation":
				// The plain text of a PDF: a text source of its own.
				src, err := r.textSource(k, "Representation", other.Name)
				if err != nil {
					return err
				}
				r.p.Sources = append(r.p.Sources, src)
			case "Transcript":
				src, err := r.textSource(k, "Transcript", other.Name)
				if err != nil {
					return err
				}
				r.p.Sources = append(r.p.Sources, src)
			}
		}
		r.p.Others = append(r.p.Others, other)
	}
	return nil
}

// textSource reads a TextSource, or an element of its type (a PDF's
// Representation) or a media source's Transcript.
func (r *qdeReader) textSource(s *refiXMLEl, element, of string) (*refiSource, error) {
	g, err := r.guid(s, "guid", "source", true)
	if err != nil {
		return nil, err
	}
	src := &refiSource{GUID: g, Name: s.attr("name"), Element: element, Of: of, Path: s.attr("plainTextPath"), RichPath: s.attr("richTextPath"),
		Created: refiWhen(s, "creationDateTime"), Line: s.line, Col: s.col}
	if src.CreatingUser, err = r.guid(s, "creatingUser", "", false); err != nil {
		return nil, err
	}
	if c := s.child("PlainTextContent"); c != nil {
		src.Content, src.HasContent = c.text, true
	}
	if d := s.child("Description"); d != nil {
		src.Description = d.text
	}
	if src.Values, err = r.values(s); err != nil {
		return nil, err
	}
	for _, k := range s.kids {
		switch k.name {
		case "PlainTextSelection":
			sel, err := r.selection(k)
			if err != nil {
				return nil, err
			}
			src.Selections = append(src.Selections, sel)
		case "TranscriptSelection":
			src.TranscriptSelections++
		case "Coding":
			c, err := r.coding(k)
			if err != nil {
				return nil, err
			}
			src.Codings = append(src.Codings, c)
		case "NoteRef":
			ng, err := r.guid(k, "targetGUID", "", true)
			if err != nil {
				return nil, err
			}
			src.NoteRefs = append(src.NoteRefs, ng)
		}
	}
	return src, nil
}

func (r *qdeReader) position(e *refiXMLEl, attr string) (int, error) {
	v := strings.TrimSpace(e.attr(attr))
	if v == "" {
		return 0, r.errAt(e, "<%s> has no %s", e.name, attr)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, r.errAt(e, "<%s> %s %q is not a whole number", e.name, attr, v)
	}
	return n, nil
}

func (r *qdeReader) selection(e *refiXMLEl) (refiSelection, error) {
	g, err := r.guid(e, "guid", "selection", true)
	if err != nil {
		return refiSelection{}, err
	}
	sel := refiSelection{GUID: g, Created: refiWhen(e, "creationDateTime"), Line: e.line, Col: e.col}
	if sel.Start, err = r.position(e, "startPosition"); err != nil {
		return sel, err
	}
	if sel.End, err = r.position(e, "endPosition"); err != nil {
		return sel, err
	}
	if sel.CreatingUser, err = r.guid(e, "creatingUser", "", false); err != nil {
		return sel, err
	}
	if d := e.child("Description"); d != nil {
		sel.Description = d.text
	}
	for _, k := range e.kids {
		switch k.name {
		case "Coding":
			c, err := r.coding(k)
			if err != nil {
				return sel, err
			}
			sel.Codings = append(sel.Codings, c)
		case "NoteRef":
			ng, err := r.guid(k, "targetGUID", "", true)
			if err != nil {
				return sel, err
			}
			sel.NoteRefs = append(sel.NoteRefs, ng)
		}
	}
	return sel, nil
}

func (r *qdeReader) coding(e *refiXMLEl) (refiCoding, error) {
	g, err := r.guid(e, "guid", "coding", true)
	if err != nil {
		return refiCoding{}, err
	}
	c := refiCoding{GUID: g, Created: refiWhen(e, "creationDateTime"), Line: e.line, Col: e.col}
	if c.User, err = r.guid(e, "creatingUser", "", false); err != nil {
		return c, err
	}
	ref := e.child("CodeRef")
	if ref == nil {
		return c, r.errAt(e, "<Coding> has no <CodeRef>")
	}
	if c.Code, err = r.guid(ref, "targetGUID", "", true); err != nil {
		return c, err
	}
	for _, k := range e.kids {
		if k.name == "NoteRef" {
			ng, err := r.guid(k, "targetGUID", "", true)
			if err != nil {
				return c, err
			}
			c.NoteRefs = append(c.NoteRefs, ng)
		}
	}
	return c, nil
}
