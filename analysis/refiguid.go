package analysis

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
	"github.com/thematic-qda/thematic/internal/fsx"
)

// RefiGUIDFile is the file at a project's root that keeps the REFI-QDA GUIDs
// of imported objects, so that exporting gives them back the GUIDs they came
// with. It is written only by imports.
const RefiGUIDFile = "refi-guids.json"

// RefiKind is a kind of project object that has a REFI-QDA GUID.
type RefiKind string

// Kinds of objects with GUIDs.
const (
	RefiCode     RefiKind = "code"     // a codebook node, by id
	RefiSource   RefiKind = "source"   // a source, by id
	RefiUser     RefiKind = "user"     // a coder, by name
	RefiCase     RefiKind = "case"     // a case, by id
	RefiVariable RefiKind = "variable" // an attribute, by name
	RefiMemo     RefiKind = "memo"     // a memo file in memos/, by file name
)

var refiKinds = []RefiKind{RefiCode, RefiSource, RefiUser, RefiCase, RefiVariable, RefiMemo}

// RefiGUIDs gives the objects of one project stable REFI-QDA GUIDs.
//
// An object imported from a REFI-QDA file keeps the GUID it came with (kept
// in refi-guids.json). Every other object gets a name-based UUID (version 5,
// RFC 9562: SHA-1 of a namespace and a name) of the project's namespace (a
// UUID made from the project's name) and its kind and id, so the same
// project exports the same GUIDs every time without storing anything; a
// renamed id or project gets new GUIDs. Selections and codings are named by
// the GUIDs of their source, code and user and their positions (see
// RefiSelectionGUID), so they follow those GUIDs through an import and a
// new export.
type RefiGUIDs struct {
	ns   [16]byte
	kept map[RefiKind]map[string]string // kind -> id -> guid
}

// refiRootNS is the namespace of thematic's name-based GUIDs: the UUID of
// the URL below in the standard URL namespace.
var refiRootNS = refiUUID5(refiURLNamespace, "https://github.com/thematic-qda/thematic#refi-qda")

// refiURLNamespace is the name space ID for URLs of RFC 9562, appendix A.
var refiURLNamespace = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// refiUUID5 makes a version 5 (SHA-1, name-based) UUID.
func refiUUID5(ns [16]byte, name string) [16]byte {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u
}

func refiFormatUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// NewRefiGUIDs returns the GUIDs of a project named name, none kept.
func NewRefiGUIDs(name string) *RefiGUIDs {
	g := &RefiGUIDs{ns: refiUUID5(refiRootNS, "project\x00"+name), kept: map[RefiKind]map[string]string{}}
	for _, k := range refiKinds {
		g.kept[k] = map[string]string{}
	}
	return g
}

// RefiProjectName is the name a project's GUIDs are made from: its name in
// thematic.yaml, or its folder's name.
func RefiProjectName(p *corpus.Project) string {
	if p.Config.Name != "" {
		return p.Config.Name
	}
	return filepath.Base(p.Root)
}

// refiGUIDJSON is the layout of refi-guids.json: per kind, id -> GUID.
type refiGUIDJSON struct {
	Codes     map[string]string `json:"codes,omitempty"`
	Sources   map[string]string `json:"sources,omitempty"`
	Users     map[string]string `json:"users,omitempty"`
	Cases     map[string]string `json:"cases,omitempty"`
	Variables map[string]string `json:"variables,omitempty"`
	Memos     map[string]string `json:"memos,omitempty"`
}

func (j *refiGUIDJSON) fields() map[RefiKind]*map[string]string {
	return map[RefiKind]*map[string]string{
		RefiCode: &j.Codes, RefiSource: &j.Sources, RefiUser: &j.Users,
		RefiCase: &j.Cases, RefiVariable: &j.Variables, RefiMemo: &j.Memos,
	}
}

// LoadRefiGUIDs returns the GUIDs of project p, with those kept in its
// refi-guids.json (a missing file keeps none).
func LoadRefiGUIDs(p *corpus.Project) (*RefiGUIDs, error) {
	g := NewRefiGUIDs(RefiProjectName(p))
	data, err := os.ReadFile(p.Path(RefiGUIDFile))
	if errors.Is(err, fs.ErrNotExist) {
		return g, nil
	}
	if err != nil {
		return nil, err
	}
	var j refiGUIDJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, errs.New(RefiGUIDFile, 0, 0, "cannot read it: %v (it is written by 'thematic import qdpx'; delete it to let exports make new GUIDs)", err)
	}
	for kind, f := range j.fields() {
		for id, guid := range *f {
			canon, ok := codebook.ParseGUID(guid)
			if !ok {
				return nil, errs.New(RefiGUIDFile, 0, 0, "%s %q: %q is not a GUID", kind, id, guid)
			}
			g.kept[kind][id] = canon
		}
	}
	return g, nil
}

// Bytes returns refi-guids.json as Save writes it: sorted keys, indented.
func (g *RefiGUIDs) Bytes() []byte {
	var j refiGUIDJSON
	for kind, f := range j.fields() {
		if len(g.kept[kind]) > 0 {
			*f = g.kept[kind]
		}
	}
	data, _ := json.MarshalIndent(j, "", "  ") // maps of strings always encode
	return append(data, '\n')
}

// Save writes refi-guids.json into project p atomically. Callers hold the
// project lock.
func (g *RefiGUIDs) Save(p *corpus.Project) error {
	return fsx.WriteFile(p.Path(RefiGUIDFile), g.Bytes(), 0o644)
}

// GUID returns the GUID of the object of kind with id: the kept one, or the
// one made from the project's namespace.
func (g *RefiGUIDs) GUID(kind RefiKind, id string) string {
	if guid, ok := g.kept[kind][id]; ok {
		return guid
	}
	return g.Derived(kind, id)
}

// Derived returns the GUID made for the object of kind with id, ignoring
// any kept one.
func (g *RefiGUIDs) Derived(kind RefiKind, id string) string {
	return refiFormatUUID(refiUUID5(g.ns, string(kind)+"\x00"+id))
}

// Adopt makes guid the GUID of the object of kind with id, keeping it only
// when exports would not give it that GUID anyway, and reports whether
// anything changed.
func (g *RefiGUIDs) Adopt(kind RefiKind, id, guid string) bool {
	canon, ok := codebook.ParseGUID(guid)
	if !ok || g.GUID(kind, id) == canon {
		return false
	}
	g.kept[kind][id] = canon
	return true
}

// Known maps GUIDs to the ids of the given objects of kind: the GUIDs kept
// for them and those made for them, so that an object is found again
// whether it came from an import or was exported before.
func (g *RefiGUIDs) Known(kind RefiKind, ids []string) map[string]string {
	m := map[string]string{}
	for _, id := range ids {
		m[g.Derived(kind, id)] = id
	}
	for _, id := range ids {
		if k, ok := g.kept[kind][id]; ok {
			m[k] = id
		}
	}
	return m
}

// RefiSelectionGUID is the GUID of the selection from start to end (code
// points) of the source with GUID source.
func RefiSelectionGUID(source string, start, end int) string {
	return refiFormatUUID(refiUUID5(refiRootNS, "selection\x00"+source+"\x00"+strconv.Itoa(start)+"\x00"+strconv.Itoa(end)))
}

// RefiCodingGUID is the GUID of the coding of a selection with a code by
// a user, each given by its GUID.
func RefiCodingGUID(selection, code, user string) string {
	return refiFormatUUID(refiUUID5(refiRootNS, "coding\x00"+selection+"\x00"+code+"\x00"+user))
}

// RefiNoteGUID is the GUID of the note holding the memo of the object with
// GUID owner (a code or a coding).
func RefiNoteGUID(owner string) string {
	return refiFormatUUID(refiUUID5(refiRootNS, "note\x00"+owner))
}
