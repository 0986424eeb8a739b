package export

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/fsx"
)

// RefiOrigin is the origin attribute of the REFI-QDA files thematic writes.
const RefiOrigin = "thematic"

// Memo is a memo file of a project's memos/ folder.
type Memo struct {
	File string // file name in memos/, such as "research-plan.md"
	Text string
}

// ReadMemos reads the memo files of dir (a project's memos/): every file
// not starting with '.', in name order. A missing folder has none.
func ReadMemos(dir string) ([]Memo, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Memo
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Memo{File: e.Name(), Text: corpus.NormalizeString(string(data))})
	}
	return out, nil
}

// RefiProject is what a REFI-QDA project export (.qdpx) is made from.
type RefiProject struct {
	Name     string
	Codebook *codebook.Codebook // nil: none
	// Sources are the sources to export: with their text, or, when Read
	// is set, their metadata only (as corpus.Project.SourceInfos gives it).
	Sources []*corpus.Source
	Cases   corpus.Cases
	Codings []analysis.Coding // of every coder to export, unless Each is set
	Memos   []Memo
	GUIDs   *analysis.RefiGUIDs
	// Each, when set, gives the codings in place of Codings, as
	// Study.Each does: they are read once, and only what the export needs
	// of them is kept.
	Each func(fn func(c *analysis.Coding) error) error
	// Read, when set, reads a source (as corpus.Project.Source does); the
	// texts are then read one at a time as the export writes them.
	Read func(id string, withText bool) (*corpus.Source, error)
	// Text, when set with Read, reads a source's text alone, and is used
	// instead of Read: the export needs no segments.
	Text func(id string) (string, error)
}

// RefiExportReport counts what an export wrote and lists what it left out.
type RefiExportReport struct {
	Sources   int      `json:"sources"`
	Codes     int      `json:"codes"`
	Users     int      `json:"users"`
	Codings   int      `json:"codings"`
	Cases     int      `json:"cases"`
	Variables int      `json:"variables"`
	Notes     int      `json:"notes"`
	Skipped   []string `json:"skipped"`
}

// The elements of project.qde, in the order Project.xsd requires.
type (
	qdeProject struct {
		XMLName   xml.Name      `xml:"Project"`
		NS        string        `xml:"xmlns,attr"`
		Name      string        `xml:"name,attr"`
		Origin    string        `xml:"origin,attr,omitempty"`
		Users     *qdeUsers     `xml:"Users"`
		CodeBook  *qdeCodeBook  `xml:"CodeBook"`
		Variables *qdeVariables `xml:"Variables"`
		Cases     *qdeCases     `xml:"Cases"`
		Sources   *qdeSources   `xml:"Sources"`
		Notes     *qdeNotes     `xml:"Notes"`
	}
	qdeUsers struct {
		User []qdeUser `xml:"User"`
	}
	qdeUser struct {
		GUID string `xml:"guid,attr"`
		Name string `xml:"name,attr"`
	}
	qdeCodeBook struct {
		Codes []*qdeCode `xml:"Codes>Code"`
	}
	qdeCode struct {
		GUID        string     `xml:"guid,attr"`
		Name        string     `xml:"name,attr"`
		Codable     bool       `xml:"isCodable,attr"`
		Colour      string     `xml:"color,attr,omitempty"`
		Description string     `xml:"Description,omitempty"`
		NoteRef     []qdeRef   `xml:"NoteRef"`
		Code        []*qdeCode `xml:"Code"`
	}
	qdeRef struct {
		Target string `xml:"targetGUID,attr"`
	}
	qdeVariables struct {
		Variable []qdeVariable `xml:"Variable"`
	}
	qdeVariable struct {
		GUID string `xml:"guid,attr"`
		Name string `xml:"name,attr"`
		Type string `xml:"typeOfVariable,attr"`
	}
	qdeValue struct {
		VariableRef  qdeRef  `xml:"VariableRef"`
		TextValue    *string `xml:"TextValue"`
		BooleanValue *string `xml:"BooleanValue"`
		IntegerValue *string `xml:"IntegerValue"`
		DateValue    *string `xml:"DateValue"`
	}
	qdeCases struct {
		Case []qdeCase `xml:"Case"`
	}
	qdeCase struct {
		GUID          string     `xml:"guid,attr"`
		Name          string     `xml:"name,attr"`
		VariableValue []qdeValue `xml:"VariableValue"`
		SourceRef     []qdeRef   `xml:"SourceRef"`
	}
	qdeSources struct {
		TextSource []qdeTextSource `xml:"TextSource"`
	}
	qdeTextSource struct {
		GUID               string         `xml:"guid,attr"`
		Name               string         `xml:"name,attr"`
		PlainTextPath      string         `xml:"plainTextPath,attr"`
		PlainTextSelection []qdeSelection `xml:"PlainTextSelection"`
		VariableValue      []qdeValue     `xml:"VariableValue"`
	}
	qdeSelection struct {
		GUID         string      `xml:"guid,attr"`
		Start        int         `xml:"startPosition,attr"`
		End          int         `xml:"endPosition,attr"`
		CreatingUser string      `xml:"creatingUser,attr,omitempty"`
		Created      string      `xml:"creationDateTime,attr,omitempty"`
		Coding       []qdeCoding `xml:"Coding"`
	}
	qdeCoding struct {
		GUID         string   `xml:"guid,attr"`
		CreatingUser string   `xml:"creatingUser,attr"`
		Created      string   `xml:"creationDateTime,attr"`
		CodeRef      qdeRef   `xml:"CodeRef"`
		NoteRef      []qdeRef `xml:"NoteRef"`
	}
	qdeNotes struct {
		Note []qdeNote `xml:"Note"`
	}
	qdeNote struct {
		GUID    string `xml:"guid,attr"`
		Name    string `xml:"name,attr"`
		Content string `xml:"PlainTextContent"`
	}
)

// refiTime formats a time as xsd:dateTime in UTC, to the second.
func refiTime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z")
}

// refiGUIDSet hands out GUIDs, never the same one twice: a GUID kept in
// refi-guids.json that another object already has gives way to the made one.
type refiGUIDSet struct {
	g    *analysis.RefiGUIDs
	used map[string]bool
}

func (s *refiGUIDSet) get(kind analysis.RefiKind, id string) string {
	g := s.g.GUID(kind, id)
	if s.used[g] {
		g = s.g.Derived(kind, id)
	}
	s.used[g] = true
	return g
}

// refiVariableType decides the REFI type of an attribute from its values:
// Integer, Boolean or Date when every value is written in that type's
// canonical form (so it reads back exactly), Text otherwise.
func refiVariableType(values []string) string {
	isInt, isBool, isDate := true, true, true
	for _, v := range values {
		if n, err := strconv.Atoi(v); err != nil || strconv.Itoa(n) != v {
			isInt = false
		}
		if v != "true" && v != "false" {
			isBool = false
		}
		if t, err := time.Parse("2006-01-02", v); err != nil || t.Format("2006-01-02") != v {
			isDate = false
		}
	}
	switch {
	case len(values) == 0:
		return "Text"
	case isInt:
		return "Integer"
	case isBool:
		return "Boolean"
	case isDate:
		return "Date"
	}
	return "Text"
}

func refiValue(ref, typ, v string) qdeValue {
	val := qdeValue{VariableRef: qdeRef{ref}}
	switch typ {
	case "Integer":
		val.IntegerValue = &v
	case "Boolean":
		val.BooleanValue = &v
	case "Date":
		val.DateValue = &v
	default:
		val.TextValue = &v
	}
	return val
}

// BuildQDE makes the project.qde of a REFI-QDA project export, valid against
// Project.xsd, and the texts of its internal sources (file name in
// sources/ -> text).
//
// Users are the coders of the codings given; the codebook's nodes are
// nested Code elements (each codable, with its colour, its description made
// by codebook.Describe and its memo as a note); cases come with their
// attributes as variables and their sources; every source is a TextSource
// whose plain text is sources/GUID.txt (UTF-8, LF line ends, as the project
// holds it), with its kind and attributes as variables and one
// PlainTextSelection per coded span holding a Coding per code and coder.
// Positions are code points of that text, counted from 0, end exclusive, as
// the standard says. Memo files become notes; memos of codings become
// notes the codings refer to.
//
// Left out, and listed in the report: orphaned codings (their text changed
// and they could not be found again), codings of codes not in the codebook
// and codings of sources not given.
//
// BuildQDE holds the whole file and every text in memory; WriteQDPX
// streams them.
func BuildQDE(x *RefiProject) ([]byte, map[string]string, *RefiExportReport, error) {
	q, err := newRefiQDE(x)
	if err != nil {
		return nil, nil, nil, err
	}
	var buf bytes.Buffer
	if err := q.write(&buf); err != nil {
		return nil, nil, nil, err
	}
	files := map[string]string{}
	for _, s := range q.srcs {
		text, err := q.text(s)
		if err != nil {
			return nil, nil, nil, err
		}
		files[q.srcGUID[s.ID]+".txt"] = text
	}
	return buf.Bytes(), files, q.rep, nil
}

// refiCoding is what project.qde needs of a coding.
type refiCoding struct {
	start, end  int
	code, coder string // ids, shared among codings
	time        time.Time
	memo        string // trimmed
}

// refiQDE is a project export made ready to write: everything but the
// sources' selections is built; those are kept compact, by source.
type refiQDE struct {
	x        *RefiProject
	proj     *qdeProject // without Sources and Notes
	notes    []qdeNote   // memo files and code memos; coding memos follow
	srcs     []*corpus.Source
	srcGUID  map[string]string
	codeGUID map[string]string
	userGUID map[string]string
	valuesOf func(attrs map[string]string) []qdeValue
	bySource map[string][]refiCoding
	codeRank map[string]int // code id -> place in the codebook
	stamp    time.Time      // the newest coding or source
	rep      *RefiExportReport
}

// newRefiQDE reads the codings and builds what goes before the sources.
func newRefiQDE(x *RefiProject) (*refiQDE, error) {
	q := &refiQDE{x: x, rep: &RefiExportReport{Skipped: []string{}}, srcGUID: map[string]string{},
		codeGUID: map[string]string{}, codeRank: map[string]int{}, bySource: map[string][]refiCoding{}}
	rep := q.rep
	gs := &refiGUIDSet{g: x.GUIDs, used: map[string]bool{}}
	proj := &qdeProject{NS: codebook.ProjectNamespace, Name: x.Name, Origin: RefiOrigin}
	q.proj = proj

	// Codebook.
	if x.Codebook != nil {
		for i, n := range x.Codebook.Codes() {
			q.codeGUID[n.ID] = gs.get(analysis.RefiCode, n.ID)
			q.codeRank[n.ID] = i
		}
		var conv func(ns []*codebook.Node) []*qdeCode
		conv = func(ns []*codebook.Node) []*qdeCode {
			var out []*qdeCode
			for _, n := range ns {
				c := &qdeCode{GUID: q.codeGUID[n.ID], Name: n.Name, Codable: true, Colour: n.Colour,
					Description: codebook.Describe(n), Code: conv(n.Children)}
				if m := strings.TrimSpace(n.Memo); m != "" {
					ng := analysis.RefiNoteGUID(c.GUID)
					q.notes = append(q.notes, qdeNote{GUID: ng, Name: "Memo: " + n.Name, Content: m})
					c.NoteRef = []qdeRef{{ng}}
				}
				out = append(out, c)
			}
			return out
		}
		if codes := conv(x.Codebook.Themes); len(codes) > 0 {
			proj.CodeBook = &qdeCodeBook{Codes: codes}
			rep.Codes = len(q.codeGUID)
		}
	}

	// Sources and their GUIDs.
	srcs := append([]*corpus.Source(nil), x.Sources...)
	sort.SliceStable(srcs, func(i, j int) bool {
		a, b := refiSrcTitle(srcs[i]), refiSrcTitle(srcs[j])
		if a != b {
			return a < b
		}
		return srcs[i].ID < srcs[j].ID
	})
	q.srcs = srcs
	byID := make(map[string]*corpus.Source, len(srcs))
	for _, s := range srcs {
		q.srcGUID[s.ID] = gs.get(analysis.RefiSource, s.ID)
		byID[s.ID] = s
	}

	// Variables: case attributes, source attributes and kind.
	values := map[string][]string{}
	for _, attrs := range x.Cases {
		for k, v := range attrs {
			values[k] = append(values[k], v)
		}
	}
	for _, s := range srcs {
		for k, v := range s.Attrs {
			values[k] = append(values[k], v)
		}
		values["kind"] = append(values["kind"], s.Kind)
	}
	varGUID, varType := map[string]string{}, map[string]string{}
	if len(values) > 0 {
		proj.Variables = &qdeVariables{}
		for _, name := range refiKeys(values) {
			varGUID[name] = gs.get(analysis.RefiVariable, name)
			varType[name] = refiVariableType(values[name])
			proj.Variables.Variable = append(proj.Variables.Variable, qdeVariable{GUID: varGUID[name], Name: name, Type: varType[name]})
		}
		rep.Variables = len(varGUID)
	}
	q.valuesOf = func(attrs map[string]string) []qdeValue {
		var out []qdeValue
		for _, k := range refiKeys(attrs) {
			if attrs[k] != "" {
				out = append(out, refiValue(varGUID[k], varType[k], attrs[k]))
			}
		}
		return out
	}

	// Cases: those of cases.csv and those sources name.
	caseIDs := map[string]bool{}
	for id := range x.Cases {
		caseIDs[id] = true
	}
	bySrcCase := map[string][]qdeRef{}
	for _, s := range srcs {
		if s.Case != "" {
			caseIDs[s.Case] = true
			bySrcCase[s.Case] = append(bySrcCase[s.Case], qdeRef{q.srcGUID[s.ID]})
		}
	}
	if len(caseIDs) > 0 {
		proj.Cases = &qdeCases{}
		for _, id := range refiKeys(caseIDs) {
			c := qdeCase{GUID: gs.get(analysis.RefiCase, id), Name: id, VariableValue: q.valuesOf(x.Cases[id]), SourceRef: bySrcCase[id]}
			proj.Cases.Case = append(proj.Cases.Case, c)
		}
		rep.Cases = len(caseIDs)
	}

	// Codings, grouped by source, each reduced to what a selection needs.
	skipped := map[string]int{}
	coders := map[string]string{} // interned coder names, then their GUIDs
	codes := map[string]string{}  // interned code ids
	share := func(m map[string]string, s string) string {
		if t, ok := m[s]; ok {
			return t
		}
		t := strings.Clone(s)
		m[t] = t
		return t
	}
	stamp := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	visit := func(c *analysis.Coding) error {
		if c.Time.After(stamp) {
			stamp = c.Time
		}
		switch {
		case c.Orphan:
			skipped["orphaned codings (their text changed; see 'thematic status')"]++
		case q.srcGUID[c.Source] == "":
			skipped["codings of sources that are not in the project"]++
		case q.codeGUID[c.Code] == "":
			skipped["codings of codes that are not in the codebook (see 'thematic doctor')"]++
		default:
			// Keyed by the source's own id: assigning with c.Source would
			// put that string, which may be a streamed coding's, in the map.
			src := byID[c.Source].ID
			q.bySource[src] = append(q.bySource[src], refiCoding{start: c.Start, end: c.End, code: share(codes, c.Code),
				coder: share(coders, c.Coder), time: c.Time, memo: strings.Clone(strings.TrimSpace(c.Memo))})
		}
		return nil
	}
	if x.Each != nil {
		if err := x.Each(visit); err != nil {
			return nil, err
		}
	} else {
		for i := range x.Codings {
			visit(&x.Codings[i])
		}
	}
	for _, s := range x.Sources {
		if s.Ingested.After(stamp) {
			stamp = s.Ingested
		}
	}
	q.stamp = stamp
	for _, why := range refiKeys(skipped) {
		rep.Skipped = append(rep.Skipped, fmt.Sprintf("%d %s", skipped[why], why))
	}
	q.userGUID = map[string]string{}
	if len(coders) > 0 {
		proj.Users = &qdeUsers{}
		for _, coder := range refiKeys(coders) {
			q.userGUID[coder] = gs.get(analysis.RefiUser, coder)
			proj.Users.User = append(proj.Users.User, qdeUser{GUID: q.userGUID[coder], Name: coder})
		}
		rep.Users = len(q.userGUID)
	}
	rep.Sources = len(srcs)

	// Memo files come first among the notes, then code and coding memos.
	var memoNotes []qdeNote
	for _, m := range x.Memos {
		name := strings.TrimSuffix(m.File, filepath.Ext(m.File))
		memoNotes = append(memoNotes, qdeNote{GUID: gs.get(analysis.RefiMemo, m.File), Name: name, Content: m.Text})
	}
	q.notes = append(memoNotes, q.notes...)
	return q, nil
}

// textSource is the TextSource element of s with its selections; it adds
// the notes of its codings' memos to notes.
func (q *refiQDE) textSource(s *corpus.Source, notes []qdeNote) (qdeTextSource, []qdeNote) {
	sg := q.srcGUID[s.ID]
	ts := qdeTextSource{GUID: sg, Name: refiSrcTitle(s), PlainTextPath: "internal://" + sg + ".txt"}
	attrs := map[string]string{"kind": s.Kind}
	for k, v := range s.Attrs {
		attrs[k] = v
	}
	ts.VariableValue = q.valuesOf(attrs)
	cs := q.bySource[s.ID]
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		switch {
		case a.start != b.start:
			return a.start < b.start
		case a.end != b.end:
			return a.end < b.end
		case q.codeRank[a.code] != q.codeRank[b.code]:
			return q.codeRank[a.code] < q.codeRank[b.code]
		}
		return a.coder < b.coder
	})
	for i := 0; i < len(cs); {
		j := i
		for j < len(cs) && cs[j].start == cs[i].start && cs[j].end == cs[i].end {
			j++
		}
		selGUID := analysis.RefiSelectionGUID(sg, cs[i].start, cs[i].end)
		// The selection was made by whoever coded it first.
		sel := qdeSelection{GUID: selGUID, Start: cs[i].start, End: cs[i].end, CreatingUser: q.userGUID[cs[i].coder]}
		first := cs[i].time
		seen := map[[2]string]bool{}
		for _, c := range cs[i:j] {
			if seen[[2]string{c.code, c.coder}] {
				continue // the same code by the same coder twice: one coding
			}
			seen[[2]string{c.code, c.coder}] = true
			if c.time.Before(first) {
				first, sel.CreatingUser = c.time, q.userGUID[c.coder]
			}
			cg := analysis.RefiCodingGUID(selGUID, q.codeGUID[c.code], q.userGUID[c.coder])
			coding := qdeCoding{GUID: cg, CreatingUser: q.userGUID[c.coder], Created: refiTime(c.time), CodeRef: qdeRef{q.codeGUID[c.code]}}
			if c.memo != "" {
				ng := analysis.RefiNoteGUID(cg)
				notes = append(notes, qdeNote{GUID: ng, Name: "Memo on a coding of " + s.ID, Content: c.memo})
				coding.NoteRef = []qdeRef{{ng}}
			}
			sel.Coding = append(sel.Coding, coding)
			q.rep.Codings++
		}
		sel.Created = refiTime(first)
		ts.PlainTextSelection = append(ts.PlainTextSelection, sel)
		i = j
	}
	return ts, notes
}

// write writes project.qde to w, one source at a time. It counts the
// codings in the report as it goes.
func (q *refiQDE) write(w io.Writer) error {
	q.rep.Codings = 0
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	p := q.proj
	start := xml.StartElement{Name: xml.Name{Local: "Project"}, Attr: []xml.Attr{
		{Name: xml.Name{Local: "xmlns"}, Value: p.NS}, {Name: xml.Name{Local: "name"}, Value: p.Name}}}
	if p.Origin != "" {
		start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "origin"}, Value: p.Origin})
	}
	if err := enc.EncodeToken(start); err != nil {
		return err
	}
	for _, part := range []struct {
		v    any
		name string
		some bool
	}{
		{p.Users, "Users", p.Users != nil},
		{p.CodeBook, "CodeBook", p.CodeBook != nil},
		{p.Variables, "Variables", p.Variables != nil},
		{p.Cases, "Cases", p.Cases != nil},
	} {
		if part.some {
			if err := enc.EncodeElement(part.v, xml.StartElement{Name: xml.Name{Local: part.name}}); err != nil {
				return err
			}
		}
	}
	notes := slices.Clone(q.notes)
	if len(q.srcs) > 0 {
		// The sources, most of the file, are written here rather than by
		// the encoder (whose reflection takes several times as long), in
		// the layout it gives: the encoder is flushed and, having written
		// nothing inside, goes on at the right depth after them.
		if err := enc.Flush(); err != nil {
			return err
		}
		var b []byte
		b = append(b, "\n  <Sources>"...)
		for _, s := range q.srcs {
			var ts qdeTextSource
			ts, notes = q.textSource(s, notes)
			b = appendTextSource(b, &ts)
			if len(b) > 32<<10 {
				if _, err := w.Write(b); err != nil {
					return err
				}
				b = b[:0]
			}
		}
		b = append(b, "\n  </Sources>"...)
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	if len(notes) > 0 {
		if err := enc.EncodeElement(&qdeNotes{Note: notes}, xml.StartElement{Name: xml.Name{Local: "Notes"}}); err != nil {
			return err
		}
		q.rep.Notes = len(notes)
	}
	if err := enc.EncodeToken(start.End()); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// appendTextSource appends a TextSource element at the depth of a
// project's sources, as encoding/xml with a two-space indent writes it.
func appendTextSource(b []byte, ts *qdeTextSource) []byte {
	b = append(b, "\n    <TextSource"...)
	b = appendXMLAttr(b, "guid", ts.GUID)
	b = appendXMLAttr(b, "name", ts.Name)
	b = appendXMLAttr(b, "plainTextPath", ts.PlainTextPath)
	b = append(b, '>')
	for i := range ts.PlainTextSelection {
		sel := &ts.PlainTextSelection[i]
		b = append(b, "\n      <PlainTextSelection"...)
		b = appendXMLAttr(b, "guid", sel.GUID)
		b = appendXMLAttr(b, "startPosition", strconv.Itoa(sel.Start))
		b = appendXMLAttr(b, "endPosition", strconv.Itoa(sel.End))
		if sel.CreatingUser != "" {
			b = appendXMLAttr(b, "creatingUser", sel.CreatingUser)
		}
		if sel.Created != "" {
			b = appendXMLAttr(b, "creationDateTime", sel.Created)
		}
		b = append(b, '>')
		for j := range sel.Coding {
			c := &sel.Coding[j]
			b = append(b, "\n        <Coding"...)
			b = appendXMLAttr(b, "guid", c.GUID)
			b = appendXMLAttr(b, "creatingUser", c.CreatingUser)
			b = appendXMLAttr(b, "creationDateTime", c.Created)
			b = append(b, ">\n          <CodeRef"...)
			b = appendXMLAttr(b, "targetGUID", c.CodeRef.Target)
			b = append(b, "></CodeRef>"...)
			for _, n := range c.NoteRef {
				b = append(b, "\n          <NoteRef"...)
				b = appendXMLAttr(b, "targetGUID", n.Target)
				b = append(b, "></NoteRef>"...)
			}
			b = append(b, "\n        </Coding>"...)
		}
		if len(sel.Coding) > 0 {
			b = append(b, "\n      "...)
		}
		b = append(b, "</PlainTextSelection>"...)
	}
	for i := range ts.VariableValue {
		v := &ts.VariableValue[i]
		b = append(b, "\n      <VariableValue>\n        <VariableRef"...)
		b = appendXMLAttr(b, "targetGUID", v.VariableRef.Target)
		b = append(b, "></VariableRef>"...)
		for _, tv := range []struct {
			name string
			v    *string
		}{{"TextValue", v.TextValue}, {"BooleanValue", v.BooleanValue}, {"IntegerValue", v.IntegerValue}, {"DateValue", v.DateValue}} {
			if tv.v != nil {
				b = append(b, "\n        <"+tv.name+">"...)
				b = appendXMLEscaped(b, *tv.v)
				b = append(b, "</"+tv.name+">"...)
			}
		}
		b = append(b, "\n      </VariableValue>"...)
	}
	if len(ts.PlainTextSelection) > 0 || len(ts.VariableValue) > 0 {
		b = append(b, "\n    "...)
	}
	return append(b, "</TextSource>"...)
}

// appendXMLAttr appends ` name="value"`, the value escaped.
func appendXMLAttr(b []byte, name, value string) []byte {
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, '=', '"')
	b = appendXMLEscaped(b, value)
	return append(b, '"')
}

// appendXMLEscaped appends s escaped as encoding/xml escapes text and
// attribute values: the five markup characters, tab, line feed and
// carriage return as references, and what XML cannot hold as U+FFFD.
func appendXMLEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var esc string
		switch {
		case r == '"':
			esc = "&#34;"
		case r == '\'':
			esc = "&#39;"
		case r == '&':
			esc = "&amp;"
		case r == '<':
			esc = "&lt;"
		case r == '>':
			esc = "&gt;"
		case r == '\t':
			esc = "&#x9;"
		case r == '\n':
			esc = "&#xA;"
		case r == '\r':
			esc = "&#xD;"
		case !xmlChar(r) || (r == utf8.RuneError && size == 1):
			esc = "\uFFFD"
		default:
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		i += size
		start = i
	}
	return append(b, s[start:]...)
}

// text returns a source's text, reading it when the export streams.
func (q *refiQDE) text(s *corpus.Source) (string, error) {
	if q.x.Read == nil {
		return s.Text, nil
	}
	if q.x.Text != nil {
		return q.x.Text(s.ID)
	}
	full, err := q.x.Read(s.ID, true)
	if err != nil {
		return "", err
	}
	return full.Text, nil
}

func refiSrcTitle(s *corpus.Source) string {
	if t := strings.TrimSpace(s.Title); t != "" {
		return t
	}
	return s.ID
}

func refiKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// WriteQDPX writes a REFI-QDA project export to w: a zip holding
// project.qde (see BuildQDE) and sources/GUID.txt for every source. The
// same project gives the same bytes: entries are in a fixed order and
// dated by the newest coding or source. The file is written as a stream:
// a source's selections and its text are made and written one source at a
// time.
func WriteQDPX(w io.Writer, x *RefiProject) (*RefiExportReport, error) {
	q, err := newRefiQDE(x)
	if err != nil {
		return nil, err
	}
	stamp := q.stamp.UTC().Truncate(2 * time.Second) // what a zip header can hold
	zw := zip.NewWriter(w)
	// The fastest compression: project.qde of a large project is hundreds
	// of megabytes of XML, which compresses well at any level.
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	create := func(name string) (io.Writer, error) {
		return zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: stamp})
	}
	f, err := create("project.qde")
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := q.write(bw); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	// The texts, in the order of their file names.
	byName := slices.Clone(q.srcs)
	slices.SortFunc(byName, func(a, b *corpus.Source) int { return strings.Compare(q.srcGUID[a.ID], q.srcGUID[b.ID]) })
	for _, s := range byName {
		text, err := q.text(s)
		if err != nil {
			return nil, err
		}
		if len(text) > 1<<31-1 {
			return nil, fmt.Errorf("source file %s.txt is over 2 GB, the most the standard allows", q.srcGUID[s.ID])
		}
		f, err := create("sources/" + q.srcGUID[s.ID] + ".txt")
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(f, text); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return q.rep, nil
}

// WriteQDPXFile writes a REFI-QDA project export to path atomically.
func WriteQDPXFile(path string, x *RefiProject) (*RefiExportReport, error) {
	var rep *RefiExportReport
	err := fsx.WriteWith(path, 0o644, func(w io.Writer) error {
		var err error
		rep, err = WriteQDPX(w, x)
		return err
	})
	return rep, err
}

// WriteQDC writes the codebook as a REFI-QDA codebook (.qdc, valid against
// Codebook.xsd) with the GUIDs a project export gives its codes, and
// returns how many codes it holds.
func WriteQDC(w io.Writer, cb *codebook.Codebook, guids *analysis.RefiGUIDs) (int, error) {
	gs := &refiGUIDSet{g: guids, used: map[string]bool{}}
	codes := codebook.ToQDC(cb, func(n *codebook.Node) string { return gs.get(analysis.RefiCode, n.ID) })
	if err := codebook.WriteQDC(w, codes, RefiOrigin); err != nil {
		return 0, err
	}
	return len(gs.used), nil
}

// WriteQDCFile writes the codebook as a .qdc file at path atomically.
func WriteQDCFile(path string, cb *codebook.Codebook, guids *analysis.RefiGUIDs) (int, error) {
	var n int
	err := fsx.WriteWith(path, 0o644, func(w io.Writer) error {
		var err error
		n, err = WriteQDC(w, cb, guids)
		return err
	})
	return n, err
}
