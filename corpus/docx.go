package corpus

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/thematic-qda/thematic/internal/errs"
)

// Zip bomb guards. A member may unpack to at most the reader's MaxBytes, and
// a member larger than ratioFloor may not unpack to more than maxRatio times
// its compressed size (ordinary XML compresses 5-50x; deflate's ceiling is
// about 1000x).
const (
	maxRatio   = 400
	ratioFloor = 8 << 20
)

// XML namespaces the walkers look for.
const (
	nsW       = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	nsWStrict = "http://purl.oclc.org/ooxml/wordprocessingml/main"
	nsMC      = "http://schemas.openxmlformats.org/markup-compatibility/2006"
	nsXML     = "http://www.w3.org/XML/1998/namespace"
	nsText    = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
	nsOffice  = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
	nsSVG     = "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"
	nsDraw    = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
)

// zipArchive is an opened .docx/.odt/.xlsx with the limits that guard it.
type zipArchive struct {
	name   string // file name for errors
	zr     *zip.Reader
	max    int64 // bound on one member and on all members read together
	budget int64 // what is left of max for further members
}

// openZip opens data as a zip archive or says the file is not one.
func openZip(name, kind string, data []byte, max int64) (*zipArchive, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, errs.New(name, 0, 0, msgEmptyFile)
		}
		return nil, errs.New(name, 0, 0, "not a .%s file (not a zip archive)", kind)
	}
	return &zipArchive{name: name, zr: zr, max: max, budget: max}, nil
}

// find returns the member at path p (case-insensitively, "\" taken as "/"),
// or nil.
func (a *zipArchive) find(p string) *zip.File {
	for _, f := range a.zr.File {
		if f.Name == p {
			return f
		}
	}
	for _, f := range a.zr.File {
		if strings.EqualFold(strings.ReplaceAll(f.Name, `\`, "/"), p) {
			return f
		}
	}
	return nil
}

// checkDeclared rejects a member whose declared size is over the limits.
// archive/zip refuses to produce more bytes than a member declares, so the
// declared size is a real bound; open also counts what it reads.
func (a *zipArchive) checkDeclared(f *zip.File) error {
	size := f.UncompressedSize64
	if size > uint64(a.max) {
		return errs.New(a.name, 0, 0, "%s would unpack to %d bytes, over the limit of %d (a zip bomb?)", f.Name, size, a.max)
	}
	if size > ratioFloor && size/max(f.CompressedSize64, 1) > maxRatio {
		return errs.New(a.name, 0, 0, "%s is compressed %d:1, beyond any real document (a zip bomb?)", f.Name, size/max(f.CompressedSize64, 1))
	}
	return nil
}

// open returns a reader over member f that fails with a clear error once it
// has produced more than the remaining budget or an implausible ratio.
func (a *zipArchive) open(f *zip.File) (io.ReadCloser, error) {
	if err := a.checkDeclared(f); err != nil {
		return nil, err
	}
	rc, err := f.Open()
	if err != nil {
		return nil, errs.New(a.name, 0, 0, "%s: cannot unpack: %v", f.Name, err)
	}
	return &guardedReader{a: a, f: f, rc: rc}, nil
}

// guardedReader counts the bytes unpacked from one member.
type guardedReader struct {
	a  *zipArchive
	f  *zip.File
	rc io.ReadCloser
	n  int64
}

func (g *guardedReader) Read(p []byte) (int, error) {
	if g.a.budget < 0 {
		return 0, errs.New(g.a.name, 0, 0, "%s unpacks to more than %d bytes, the limit (a zip bomb?)", g.f.Name, g.a.max)
	}
	// Ask for at most one byte past the budget: enough to notice an overflow.
	if int64(len(p)) > g.a.budget+1 {
		p = p[:max(g.a.budget+1, 0)]
	}
	n, err := g.rc.Read(p)
	g.n += int64(n)
	g.a.budget -= int64(n)
	if g.a.budget < 0 {
		return n, errs.New(g.a.name, 0, 0, "%s unpacks to more than %d bytes, the limit (a zip bomb?)", g.f.Name, g.a.max)
	}
	if g.n > ratioFloor && uint64(g.n)/max(g.f.CompressedSize64, 1) > maxRatio {
		return n, errs.New(g.a.name, 0, 0, "%s is compressed over %d:1, beyond any real document (a zip bomb?)", g.f.Name, maxRatio)
	}
	if errors.Is(err, zip.ErrFormat) {
		// archive/zip stops a member that unpacks to more than it declares.
		return n, errs.New(g.a.name, 0, 0, "%s is corrupt or unpacks to more than its declared size (a zip bomb?)", g.f.Name)
	}
	if err != nil && err != io.EOF {
		return n, errs.New(g.a.name, 0, 0, "%s: corrupt zip member: %v", g.f.Name, err)
	}
	return n, err
}

func (g *guardedReader) Close() error { return g.rc.Close() }

// readAll reads a whole (small) member within the limits.
func (a *zipArchive) readAll(f *zip.File) ([]byte, error) {
	rc, err := a.open(f)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// officeXMLError turns an error met while walking member part into an
// InputError.
func officeXMLError(name, part string, err error) error {
	var ie *errs.InputError
	if errors.As(err, &ie) {
		return ie
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return errs.New(name, 0, 0, "%s line %d: broken XML: %s", part, se.Line, se.Msg)
	}
	return errs.New(name, 0, 0, "%s: broken XML: %v", part, err)
}

// xmlParagraphs collects the text of (possibly nested) paragraphs. A paragraph
// inside another one (a text box) is finished first and so comes first.
type xmlParagraphs struct {
	open []*xmlPara
	done []string
}

// xmlPara is one open paragraph.
type xmlPara struct {
	b         strings.Builder
	lastSpace bool // ODF: the last character written was collapsible white space
}

func (ps *xmlParagraphs) start() { ps.open = append(ps.open, &xmlPara{lastSpace: true}) }

// top is the innermost open paragraph, or nil outside paragraphs.
func (ps *xmlParagraphs) top() *xmlPara {
	if len(ps.open) == 0 {
		return nil
	}
	return ps.open[len(ps.open)-1]
}

// write adds literal text to the current paragraph (dropped outside one).
func (ps *xmlParagraphs) write(s string) {
	if p := ps.top(); p != nil {
		p.b.WriteString(s)
		p.lastSpace = false
	}
}

// end finishes the innermost paragraph, keeping it unless it is blank.
func (ps *xmlParagraphs) end() {
	p := ps.top()
	if p == nil {
		return
	}
	ps.open = ps.open[:len(ps.open)-1]
	if s := tidyParagraph(p.b.String()); s != "" {
		ps.done = append(ps.done, s)
	}
}

// text joins the paragraphs with blank lines, closing any left open by a
// truncated document.
func (ps *xmlParagraphs) text() string {
	for len(ps.open) > 0 {
		ps.end()
	}
	if len(ps.done) == 0 {
		return ""
	}
	return normalizeText(strings.Join(ps.done, "\n\n") + "\n")
}

// tidyParagraph drops trailing blanks on each line and blank lines at the
// start and end of a paragraph, and turns blank lines inside it (from two
// line breaks) into single line breaks so paragraphs stay blank-line
// separated.
func tidyParagraph(s string) string {
	s = normalizeText(s)
	lines := strings.Split(s, "\n")
	out := lines[:0]
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\u00a0")
		if strings.TrimSpace(l) == "" {
			continue
		}
		out = append(out, l)
	}
	if len(out) == 0 {
		return ""
	}
	out[0] = strings.TrimLeft(out[0], " \t\u00a0")
	return strings.Join(out, "\n")
}

// readDocx reads a Word document's main part.
func readDocx(name string, data []byte, maxBytes int64) (Document, error) {
	a, err := openZip(name, "docx", data, maxBytes)
	if err != nil {
		return Document{}, err
	}
	part := a.docxMainPart()
	f := a.find(part)
	if f == nil {
		return Document{}, errs.New(name, 0, 0, "not a Word document: %s is missing from the archive", part)
	}
	rc, err := a.open(f)
	if err != nil {
		return Document{}, err
	}
	defer rc.Close()
	text, err := walkDocx(rc)
	if err != nil {
		return Document{}, officeXMLError(name, part, err)
	}
	if strings.TrimSpace(text) == "" {
		return Document{}, errs.New(name, 0, 0, "no text in the document")
	}
	return Document{Text: text, Format: "docx"}, nil
}

// docxMainPart finds the main document part from the package relationships,
// falling back to the usual word/document.xml.
func (a *zipArchive) docxMainPart() string {
	const fallback = "word/document.xml"
	f := a.find("_rels/.rels")
	if f == nil || f.UncompressedSize64 > 1<<20 {
		return fallback
	}
	b, err := a.readAll(f)
	if err != nil {
		return fallback
	}
	var rels struct {
		Rel []struct {
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if xml.Unmarshal(b, &rels) != nil {
		return fallback
	}
	for _, r := range rels.Rel {
		if strings.HasSuffix(r.Type, "/officeDocument") && r.Target != "" {
			p := path.Clean("/" + strings.ReplaceAll(r.Target, `\`, "/"))
			return strings.TrimPrefix(p, "/")
		}
	}
	return fallback
}

// isW reports whether an XML name is in the WordprocessingML namespace.
func isW(n xml.Name) bool { return n.Space == nsW || n.Space == nsWStrict }

// walkDocx extracts the paragraphs of a WordprocessingML body: text of w:t
// runs (honouring xml:space), tabs and breaks, including hyperlinks, tracked
// insertions, content controls, smart tags and field results; leaving out
// deleted and moved-away text, field instructions, properties, placeholder
// text of empty content controls and markup-compatibility fallbacks.
func walkDocx(r io.Reader) (string, error) {
	d := xml.NewDecoder(r)
	var (
		ps       xmlParagraphs
		inT      bool
		preserve bool
		tbuf     strings.Builder
		sdt      []bool // per open w:sdt: is it showing placeholder text?
	)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space == nsMC && t.Name.Local == "Fallback" {
				if err := d.Skip(); err != nil {
					return "", err
				}
				continue
			}
			if !isW(t.Name) {
				continue
			}
			switch local := t.Name.Local; local {
			case "p":
				ps.start()
			case "t":
				inT = true
				tbuf.Reset()
				preserve = false
				for _, at := range t.Attr {
					if at.Name.Space == nsXML && at.Name.Local == "space" {
						preserve = at.Value == "preserve"
					}
				}
			case "tab", "ptab":
				ps.write("\t")
			case "br", "cr":
				ps.write("\n")
			case "noBreakHyphen":
				ps.write("-")
			case "del", "moveFrom", "delText", "delInstrText", "instrText":
				if err := d.Skip(); err != nil {
					return "", err
				}
			case "sdt":
				sdt = append(sdt, false)
			case "sdtPr":
				placeholder, err := scanSdtPr(d)
				if err != nil {
					return "", err
				}
				if placeholder && len(sdt) > 0 {
					sdt[len(sdt)-1] = true
				}
			case "sdtContent":
				if len(sdt) > 0 && sdt[len(sdt)-1] {
					if err := d.Skip(); err != nil {
						return "", err
					}
				}
			default:
				// Properties (w:pPr, w:rPr, w:tblPr, w:sectPr, ...) hold no
				// text but do hold w:tab elements that are tab stops.
				if strings.HasSuffix(local, "Pr") || strings.HasSuffix(local, "PrEx") {
					if err := d.Skip(); err != nil {
						return "", err
					}
				}
			}
		case xml.EndElement:
			if !isW(t.Name) {
				continue
			}
			switch t.Name.Local {
			case "p":
				ps.end()
			case "t":
				if inT {
					s := strings.ReplaceAll(tbuf.String(), "\n", " ")
					if !preserve {
						s = strings.TrimSpace(s)
					}
					ps.write(s)
					inT = false
				}
			case "sdt":
				if len(sdt) > 0 {
					sdt = sdt[:len(sdt)-1]
				}
			}
		case xml.CharData:
			if inT {
				tbuf.Write(t)
			}
		}
	}
	return ps.text(), nil
}

// scanSdtPr reads the rest of a w:sdtPr element and reports whether it marks
// the content control as showing its placeholder text.
func scanSdtPr(d *xml.Decoder) (bool, error) {
	placeholder := false
	for depth := 1; depth > 0; {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return false, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if isW(t.Name) && t.Name.Local == "showingPlcHdr" {
				placeholder = true
				for _, at := range t.Attr {
					if at.Name.Local == "val" && (at.Value == "0" || at.Value == "false" || at.Value == "off") {
						placeholder = false
					}
				}
			}
		case xml.EndElement:
			depth--
		}
	}
	return placeholder, nil
}

// readODT reads an OpenDocument text's content.xml.
func readODT(name string, data []byte, maxBytes int64) (Document, error) {
	a, err := openZip(name, "odt", data, maxBytes)
	if err != nil {
		return Document{}, err
	}
	const part = "content.xml"
	f := a.find(part)
	if f == nil {
		return Document{}, errs.New(name, 0, 0, "not an OpenDocument text: %s is missing from the archive", part)
	}
	rc, err := a.open(f)
	if err != nil {
		return Document{}, err
	}
	defer rc.Close()
	text, err := walkODT(rc)
	if err != nil {
		return Document{}, officeXMLError(name, part, err)
	}
	if strings.TrimSpace(text) == "" {
		return Document{}, errs.New(name, 0, 0, "no text in the document")
	}
	return Document{Text: text, Format: "odt"}, nil
}

// maxODFSpaces caps one text:s element's c count.
const maxODFSpaces = 1000

// walkODT extracts the paragraphs and headings of an ODF text body (lists,
// tables, sections, links and spans included) with ODF's white-space rules,
// leaving out annotations, notes, tracked deletions, generated numbering and
// drawing titles and descriptions.
func walkODT(r io.Reader) (string, error) {
	d := xml.NewDecoder(r)
	var ps xmlParagraphs
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if odtSkip(t.Name) {
				if err := d.Skip(); err != nil {
					return "", err
				}
				continue
			}
			if t.Name.Space != nsText {
				continue
			}
			switch t.Name.Local {
			case "p", "h":
				ps.start()
			case "s":
				n := 1
				for _, at := range t.Attr {
					if at.Name.Space == nsText && at.Name.Local == "c" {
						if v, err := strconv.Atoi(strings.TrimSpace(at.Value)); err == nil {
							n = min(max(v, 1), maxODFSpaces)
						}
					}
				}
				ps.write(strings.Repeat(" ", n))
				if p := ps.top(); p != nil {
					p.lastSpace = true
				}
			case "tab":
				ps.write("\t")
			case "line-break":
				ps.write("\n")
				if p := ps.top(); p != nil {
					p.lastSpace = true
				}
			}
		case xml.EndElement:
			if t.Name.Space == nsText && (t.Name.Local == "p" || t.Name.Local == "h") {
				ps.end()
			}
		case xml.CharData:
			p := ps.top()
			if p == nil {
				continue
			}
			// ODF white space: tabs and line ends in the XML are spaces, and
			// a run of spaces counts as one.
			for _, c := range string(t) {
				if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
					if !p.lastSpace {
						p.b.WriteByte(' ')
						p.lastSpace = true
					}
					continue
				}
				p.b.WriteRune(c)
				p.lastSpace = false
			}
		}
	}
	return ps.text(), nil
}

// odtSkip lists the ODF elements whose content is not part of the text.
func odtSkip(n xml.Name) bool {
	switch n.Space {
	case nsOffice:
		return n.Local == "annotation"
	case nsText:
		switch n.Local {
		case "note", "tracked-changes", "number", "sequence-decls", "variable-decls", "user-field-decls":
			return true
		}
	case nsSVG:
		return n.Local == "title" || n.Local == "desc"
	case nsDraw:
		return n.Local == "object" || n.Local == "object-ole"
	}
	return false
}
