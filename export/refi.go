package export

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

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
	Sources  []*corpus.Source   // with their text
	Cases    corpus.Cases
	Codings  []analysis.Coding // of every coder to export
	Memos    []Memo
	GUIDs    *analysis.RefiGUIDs
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
func BuildQDE(x *RefiProject) ([]byte, map[string]string, *RefiExportReport, error) {
	rep := &RefiExportReport{Skipped: []string{}}
	gs := &refiGUIDSet{g: x.GUIDs, used: map[string]bool{}}
	proj := &qdeProject{NS: codebook.ProjectNamespace, Name: x.Name, Origin: RefiOrigin}
	var notes []qdeNote

	// Codebook.
	codeGUID := map[string]string{}
	codeOrder := map[string]int{}
	if x.Codebook != nil {
		for i, n := range x.Codebook.Codes() {
			codeGUID[n.ID] = gs.get(analysis.RefiCode, n.ID)
			codeOrder[n.ID] = i
		}
		var conv func(ns []*codebook.Node) []*qdeCode
		conv = func(ns []*codebook.Node) []*qdeCode {
			var out []*qdeCode
			for _, n := range ns {
				c := &qdeCode{GUID: codeGUID[n.ID], Name: n.Name, Codable: true, Colour: n.Colour,
					Description: codebook.Describe(n), Code: conv(n.Children)}
				if m := strings.TrimSpace(n.Memo); m != "" {
					ng := analysis.RefiNoteGUID(c.GUID)
					notes = append(notes, qdeNote{GUID: ng, Name: "Memo: " + n.Name, Content: m})
					c.NoteRef = []qdeRef{{ng}}
				}
				out = append(out, c)
			}
			return out
		}
		if codes := conv(x.Codebook.Themes); len(codes) > 0 {
			proj.CodeBook = &qdeCodeBook{Codes: codes}
			rep.Codes = len(codeGUID)
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
	srcGUID := map[string]string{}
	for _, s := range srcs {
		srcGUID[s.ID] = gs.get(analysis.RefiSource, s.ID)
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
	valuesOf := func(attrs map[string]string) []qdeValue {
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
	for _, s := range srcs {
		if s.Case != "" {
			caseIDs[s.Case] = true
		}
	}
	if len(caseIDs) > 0 {
		proj.Cases = &qdeCases{}
		for _, id := range refiKeys(caseIDs) {
			c := qdeCase{GUID: gs.get(analysis.RefiCase, id), Name: id, VariableValue: valuesOf(x.Cases[id])}
			for _, s := range srcs {
				if s.Case == id {
					c.SourceRef = append(c.SourceRef, qdeRef{srcGUID[s.ID]})
				}
			}
			proj.Cases.Case = append(proj.Cases.Case, c)
		}
		rep.Cases = len(caseIDs)
	}

	// Codings, grouped by source and span.
	bySource := map[string][]analysis.Coding{}
	skipped := map[string]int{}
	for _, c := range x.Codings {
		switch {
		case c.Orphan:
			skipped["orphaned codings (their text changed; see 'thematic status')"]++
		case srcGUID[c.Source] == "":
			skipped["codings of sources that are not in the project"]++
		case codeGUID[c.Code] == "":
			skipped["codings of codes that are not in the codebook (see 'thematic doctor')"]++
		default:
			bySource[c.Source] = append(bySource[c.Source], c)
		}
	}
	for _, why := range refiKeys(skipped) {
		rep.Skipped = append(rep.Skipped, fmt.Sprintf("%d %s", skipped[why], why))
	}
	userGUID := map[string]string{}
	for _, cs := range bySource {
		for _, c := range cs {
			userGUID[c.Coder] = ""
		}
	}
	if len(userGUID) > 0 {
		proj.Users = &qdeUsers{}
		for _, coder := range refiKeys(userGUID) {
			userGUID[coder] = gs.get(analysis.RefiUser, coder)
			proj.Users.User = append(proj.Users.User, qdeUser{GUID: userGUID[coder], Name: coder})
		}
		rep.Users = len(userGUID)
	}
	files := map[string]string{}
	if len(srcs) > 0 {
		proj.Sources = &qdeSources{}
	}
	for _, s := range srcs {
		sg := srcGUID[s.ID]
		ts := qdeTextSource{GUID: sg, Name: refiSrcTitle(s), PlainTextPath: "internal://" + sg + ".txt"}
		attrs := map[string]string{"kind": s.Kind}
		for k, v := range s.Attrs {
			attrs[k] = v
		}
		ts.VariableValue = valuesOf(attrs)
		cs := bySource[s.ID]
		sort.SliceStable(cs, func(i, j int) bool {
			a, b := cs[i], cs[j]
			switch {
			case a.Start != b.Start:
				return a.Start < b.Start
			case a.End != b.End:
				return a.End < b.End
			case codeOrder[a.Code] != codeOrder[b.Code]:
				return codeOrder[a.Code] < codeOrder[b.Code]
			}
			return a.Coder < b.Coder
		})
		for i := 0; i < len(cs); {
			j := i
			for j < len(cs) && cs[j].Start == cs[i].Start && cs[j].End == cs[i].End {
				j++
			}
			selGUID := analysis.RefiSelectionGUID(sg, cs[i].Start, cs[i].End)
			// The selection was made by whoever coded it first.
			sel := qdeSelection{GUID: selGUID, Start: cs[i].Start, End: cs[i].End, CreatingUser: userGUID[cs[i].Coder]}
			first := cs[i].Time
			seen := map[[2]string]bool{}
			for _, c := range cs[i:j] {
				if seen[[2]string{c.Code, c.Coder}] {
					continue // the same code by the same coder twice: one coding
				}
				seen[[2]string{c.Code, c.Coder}] = true
				if c.Time.Before(first) {
					first, sel.CreatingUser = c.Time, userGUID[c.Coder]
				}
				cg := analysis.RefiCodingGUID(selGUID, codeGUID[c.Code], userGUID[c.Coder])
				coding := qdeCoding{GUID: cg, CreatingUser: userGUID[c.Coder], Created: refiTime(c.Time), CodeRef: qdeRef{codeGUID[c.Code]}}
				if m := strings.TrimSpace(c.Memo); m != "" {
					ng := analysis.RefiNoteGUID(cg)
					notes = append(notes, qdeNote{GUID: ng, Name: "Memo on a coding of " + s.ID, Content: m})
					coding.NoteRef = []qdeRef{{ng}}
				}
				sel.Coding = append(sel.Coding, coding)
				rep.Codings++
			}
			sel.Created = refiTime(first)
			ts.PlainTextSelection = append(ts.PlainTextSelection, sel)
			i = j
		}
		proj.Sources.TextSource = append(proj.Sources.TextSource, ts)
		files[sg+".txt"] = s.Text
	}
	rep.Sources = len(srcs)

	// Memo files come first among the notes, then code and coding memos.
	var memoNotes []qdeNote
	for _, m := range x.Memos {
		name := strings.TrimSuffix(m.File, filepath.Ext(m.File))
		memoNotes = append(memoNotes, qdeNote{GUID: gs.get(analysis.RefiMemo, m.File), Name: name, Content: m.Text})
	}
	notes = append(memoNotes, notes...)
	if len(notes) > 0 {
		proj.Notes = &qdeNotes{Note: notes}
		rep.Notes = len(notes)
	}

	var buf bytes.Buffer
	buf.Grow(4096 + 600*rep.Codings) // about what a coding and its selection take
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(proj); err != nil {
		return nil, nil, nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, nil, nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), files, rep, nil
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
// dated by the newest coding or source.
func WriteQDPX(w io.Writer, x *RefiProject) (*RefiExportReport, error) {
	qde, files, rep, err := BuildQDE(x)
	if err != nil {
		return nil, err
	}
	stamp := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range x.Codings {
		if c.Time.After(stamp) {
			stamp = c.Time
		}
	}
	for _, s := range x.Sources {
		if s.Ingested.After(stamp) {
			stamp = s.Ingested
		}
	}
	stamp = stamp.UTC().Truncate(2 * time.Second) // what a zip header can hold
	zw := zip.NewWriter(w)
	add := func(name string, data []byte) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: stamp})
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		return err
	}
	if err := add("project.qde", qde); err != nil {
		return nil, err
	}
	for _, name := range refiKeys(files) {
		if len(files[name]) > 1<<31-1 {
			return nil, fmt.Errorf("source file %s is over 2 GB, the most the standard allows", name)
		}
		if err := add("sources/"+name, []byte(files[name])); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return rep, nil
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
