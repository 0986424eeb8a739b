package analysis

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
	"github.com/thematic-qda/thematic/internal/fsx"
)

// RefiLimits bound what an import reads from a .qdpx, so that a zip bomb
// (a small archive that inflates to gigabytes) is refused before it fills
// memory. Only the entries an import needs are inflated: project.qde and
// the plain text of text sources and notes.
type RefiLimits struct {
	Entries int   // entries in the archive
	Entry   int64 // bytes of one entry, inflated
	Total   int64 // bytes inflated in all
	// Ratio caps inflated:compressed size of an entry over 1 MiB; text
	// rarely packs better than 20:1, bombs pack about 1000:1.
	Ratio int64
}

// DefaultRefiLimits are the limits an import uses when none are given.
var DefaultRefiLimits = RefiLimits{Entries: 100_000, Entry: 512 << 20, Total: 2 << 30, Ratio: 200}

// RefiImportOptions are the choices of an import.
type RefiImportOptions struct {
	// CoderMap names the coder of a REFI user: the user's name as the file
	// gives it, or the coder name it would get, -> the coder to use.
	CoderMap map[string]string
	// Kind is the kind of new sources that carry no "kind" variable; ""
	// infers it from the name (diary, journal, focus, note) or takes
	// interview.
	Kind string
	// Replace drops the imported coders' earlier codings on the imported
	// sources, so the file's codings take their place; otherwise codings
	// are added to what is there.
	Replace bool
	// Now stamps new sources, and codings that carry no time; zero: now.
	Now    time.Time
	Limits RefiLimits // zero: DefaultRefiLimits
}

// RefiReport says what an import did or, before Apply, would do.
type RefiReport struct {
	File string `json:"file"`
	Tool string `json:"tool"` // the origin attribute of the project
	// Positions is how the file counts text positions, and Evidence why.
	Positions RefiPositions  `json:"positions"`
	Evidence  string         `json:"positions_evidence"`
	Sources   RefiChanges    `json:"sources"`
	Codes     RefiCodeCounts `json:"codes"`
	Coders    []RefiCoder    `json:"coders"`
	Cases     RefiChanges    `json:"cases"`
	Memos     RefiChanges    `json:"memos"`
	// CodeMemos and CodingMemos count notes that became the memo of a new
	// code or of a new coding.
	CodeMemos   int        `json:"code_memos"`
	CodingMemos int        `json:"coding_memos"`
	Skipped     []RefiSkip `json:"skipped"`
	Notes       []string   `json:"notes,omitempty"`
}

// RefiChanges lists the ids of what an import adds, changes or finds as it is.
type RefiChanges struct {
	Added     []string `json:"added"`
	Updated   []string `json:"updated"`
	Unchanged []string `json:"unchanged"`
}

// RefiCodeCounts counts the codes of an import; see codebook.QDCResult.
type RefiCodeCounts struct {
	Added     int `json:"added"`
	Matched   int `json:"matched"`
	Flattened int `json:"flattened"`
	Renamed   int `json:"renamed"`
}

// RefiCoder is what an import does to one coder's codings.
type RefiCoder struct {
	Coder     string `json:"coder"`
	User      string `json:"user"` // the REFI user's name
	Added     int    `json:"added"`
	Unchanged int    `json:"unchanged"`
	Updated   int    `json:"updated"` // memo changed
	Removed   int    `json:"removed"` // by Replace
}

// RefiSkip is something of the file an import leaves out, and why.
type RefiSkip struct {
	What  string `json:"what"`
	Count int    `json:"count"`
	Why   string `json:"why"`
	Where string `json:"where,omitempty"` // file:line of the first one
}

// RefiImport is an import read, checked and staged in memory: Report says
// what it holds; Apply writes it into the project.
type RefiImport struct {
	Report *RefiReport

	p            *corpus.Project
	sources      []*corpus.Source // new or changed, to save
	editor       *codebook.Editor // nil when the codebook stays as it is
	codings      map[string][]Coding
	cases        []byte // new cases.csv; nil: unchanged
	memos        map[string]string
	guids        *RefiGUIDs
	guidsChanged bool
}

// Changed reports whether Apply would write anything.
func (im *RefiImport) Changed() bool {
	return len(im.sources) > 0 || im.editor != nil || len(im.codings) > 0 || im.cases != nil ||
		len(im.memos) > 0 || im.guidsChanged
}

// Apply writes the staged import: sources, codebook, codings, cases.csv,
// memos, then refi-guids.json, each file atomically. Everything was read
// and checked before, so only a failing disk can stop it part way; running
// the same import again then completes it, as imports are idempotent.
// Callers hold the project lock from PrepareRefiImport to Apply.
func (im *RefiImport) Apply() error {
	for _, s := range im.sources {
		if err := im.p.SaveSource(s); err != nil {
			return err
		}
	}
	if im.editor != nil {
		if err := im.editor.Save(); err != nil {
			return err
		}
	}
	store := Store{Dir: im.p.Path(corpus.CodingsDir)}
	for _, coder := range refiSortedKeys(im.codings) {
		if err := store.Save(coder, im.codings[coder]); err != nil {
			return err
		}
	}
	if im.cases != nil {
		if err := fsx.WriteFile(im.p.Path(corpus.CasesFile), im.cases, 0o644); err != nil {
			return err
		}
	}
	if len(im.memos) > 0 {
		if err := os.MkdirAll(im.p.Path(corpus.MemosDir), 0o755); err != nil {
			return err
		}
		for _, name := range refiSortedKeys(im.memos) {
			if err := fsx.WriteFile(im.p.Path(corpus.MemosDir, name), []byte(im.memos[name]), 0o644); err != nil {
				return err
			}
		}
	}
	if im.guidsChanged {
		return im.guids.Save(im.p)
	}
	return nil
}

func refiSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// refiArchive reads entries of a .qdpx within limits.
type refiArchive struct {
	file   string
	f      *os.File
	byName map[string]*zip.File // lower-case name -> entry
	limits RefiLimits
	used   int64
}

func (a *refiArchive) close() {
	if a != nil && a.f != nil {
		a.f.Close()
	}
}

// openRefiFile opens a .qdpx (a zip holding project.qde and sources/) or a
// bare .qde, and returns the archive (nil for a bare .qde; close it when
// done), the name the .qde is known by in messages, and its bytes.
func openRefiFile(file string, limits RefiLimits) (arc *refiArchive, qdeName string, qde []byte, err error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", nil, errs.New(file, 0, 0, "no such file")
	}
	if err != nil {
		return nil, "", nil, err
	}
	defer func() {
		if arc == nil {
			f.Close()
		}
	}()
	info, err := f.Stat()
	if err != nil {
		return nil, "", nil, err
	}
	if info.IsDir() {
		return nil, "", nil, errs.New(file, 0, 0, "is a folder, not a .qdpx file")
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if !bytes.HasPrefix(head, []byte("PK")) {
		trimmed := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF")), " \t\r\n")
		if !bytes.HasPrefix(trimmed, []byte("<")) {
			return nil, "", nil, errs.New(file, 0, 0, "neither a .qdpx (zip) nor a .qde (XML) file")
		}
		if info.Size() > limits.Entry {
			return nil, "", nil, errs.New(file, 0, 0, "%d bytes, over the limit of %d for a project file", info.Size(), limits.Entry)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, "", nil, err
		}
		return nil, file, data, nil
	}
	zr, err := zip.NewReader(f, info.Size())
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, "", nil, errs.New(file, 0, 0, "not a readable zip archive: %v", err)
	}
	if len(zr.File) > limits.Entries {
		return nil, "", nil, errs.New(file, 0, 0, "%d entries in the archive, over the limit of %d", len(zr.File), limits.Entries)
	}
	a := &refiArchive{file: file, f: f, byName: map[string]*zip.File{}, limits: limits}
	var qdes []*zip.File
	for _, zf := range zr.File {
		name := strings.ReplaceAll(zf.Name, `\`, "/")
		if unsafeZipPath(name) {
			return nil, "", nil, errs.New(file, 0, 0, "zip entry %q points outside the archive's folder (zip slip); refusing the file", zf.Name)
		}
		if zf.FileInfo().IsDir() {
			continue
		}
		key := strings.ToLower(path.Clean(name))
		if _, dup := a.byName[key]; dup {
			return nil, "", nil, errs.New(file, 0, 0, "zip entry %q is in the archive twice", zf.Name)
		}
		a.byName[key] = zf
		if !strings.Contains(key, "/") && strings.HasSuffix(key, ".qde") {
			qdes = append(qdes, zf)
		}
	}
	zf := a.byName["project.qde"]
	if zf == nil && len(qdes) == 1 {
		zf = qdes[0]
	}
	if zf == nil {
		return nil, "", nil, errs.New(file, 0, 0, "no project.qde in the archive; is this a REFI-QDA project (.qdpx)?")
	}
	data, err := a.read(zf)
	if err != nil {
		return nil, "", nil, err
	}
	return a, file + "/" + zf.Name, data, nil
}

// unsafeZipPath reports whether an entry name would leave the folder it is
// extracted into: absolute, with a drive letter, or climbing with "..".
func unsafeZipPath(name string) bool {
	if name == "" || strings.HasPrefix(name, "/") || len(name) > 1 && name[1] == ':' {
		return true
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

// read inflates one entry within the limits.
func (a *refiArchive) read(zf *zip.File) ([]byte, error) {
	size := int64(zf.UncompressedSize64)
	where := a.file + "/" + zf.Name
	switch {
	case zf.UncompressedSize64 > uint64(a.limits.Entry):
		return nil, errs.New(where, 0, 0, "%d bytes once inflated, over the limit of %d per entry (a zip bomb?)", zf.UncompressedSize64, a.limits.Entry)
	case a.used+size > a.limits.Total:
		return nil, errs.New(where, 0, 0, "the entries read inflate to over %d bytes in all (a zip bomb?)", a.limits.Total)
	case size > 1<<20 && zf.CompressedSize64 > 0 && size/int64(zf.CompressedSize64) > a.limits.Ratio:
		return nil, errs.New(where, 0, 0, "packed %d:1, more than the %d:1 of any real text (a zip bomb?)", size/int64(zf.CompressedSize64), a.limits.Ratio)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, errs.New(where, 0, 0, "cannot open the entry: %v", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, size+1))
	if errors.Is(err, zip.ErrFormat) {
		// archive/zip stops reading at the size the header gives.
		return nil, errs.New(where, 0, 0, "the entry inflates to other than the %d bytes its header says, or is damaged (a zip bomb?)", size)
	}
	if err != nil {
		return nil, errs.New(where, 0, 0, "cannot inflate the entry: %v", err)
	}
	if int64(len(data)) > size {
		return nil, errs.New(where, 0, 0, "the entry inflates to more than the %d bytes its header says (a zip bomb?)", size)
	}
	a.used += int64(len(data))
	return data, nil
}

// refiFileRef resolves a plainTextPath: the entry name inside the archive,
// or why it cannot be read.
func refiFileRef(p string) (entry string, why string) {
	rest, internal := strings.CutPrefix(p, "internal://")
	if !internal && strings.Contains(p, "://") {
		return "", "an external file (" + p + "), not inside the .qdpx"
	}
	rest = strings.ReplaceAll(rest, `\`, "/")
	if unsafeZipPath(rest) {
		return "", "its path " + strconv.Quote(p) + " leaves the sources folder"
	}
	return rest, ""
}

// entry finds a source file by its path: in sources/ (any case), or at the
// top of the archive.
func (a *refiArchive) entry(name string) *zip.File {
	key := strings.ToLower(path.Clean(name))
	if zf := a.byName["sources/"+key]; zf != nil {
		return zf
	}
	return a.byName[key]
}

// maxQDCBytes bounds the size of a .qdc file an import reads.
const maxQDCBytes = 64 << 20

// RefiCodebookImport is a REFI-QDA codebook (.qdc) read and staged as a
// subtree of codebook.yaml; Apply writes it.
type RefiCodebookImport struct {
	Origin string              // the tool that wrote the file
	Sets   int                 // code sets, which have no place in codebook.yaml
	Result *codebook.QDCResult // what the codebook gains

	p            *corpus.Project
	editor       *codebook.Editor
	guids        *RefiGUIDs
	guidsChanged bool
}

// PrepareRefiCodebookImport reads a .qdc file and stages its codes as a
// subtree of the codebook of project p (see codebook.Editor.AddQDC): codes
// the codebook has already, found by GUID (refi-guids.json or the GUIDs
// exports make) or by name under the same parent, are not added again, so
// importing a file twice changes nothing. Nothing is written until Apply.
// Callers hold the project lock until Apply returns.
func PrepareRefiCodebookImport(p *corpus.Project, file string) (*RefiCodebookImport, error) {
	info, err := os.Stat(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.New(file, 0, 0, "no such file")
	}
	if err != nil {
		return nil, err
	}
	if info.Size() > maxQDCBytes {
		return nil, errs.New(file, 0, 0, "%d bytes, over the limit of %d for a codebook", info.Size(), maxQDCBytes)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	q, err := codebook.ReadQDC(file, data)
	if err != nil {
		return nil, err
	}
	guids, err := LoadRefiGUIDs(p)
	if err != nil {
		return nil, err
	}
	ed, err := codebook.Edit(p.Path(corpus.CodebookFile))
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, n := range ed.Codebook().Codes() {
		ids = append(ids, n.ID)
	}
	res, err := ed.AddQDC(q.Codes, guids.Known(RefiCode, ids))
	if err != nil {
		return nil, err
	}
	ci := &RefiCodebookImport{Origin: q.Origin, Sets: q.Sets, Result: res, p: p, guids: guids}
	for _, g := range refiSortedKeys(res.IDs) {
		if guids.Adopt(RefiCode, res.IDs[g], g) {
			ci.guidsChanged = true
		}
	}
	if len(res.Added) > 0 {
		ci.editor = ed
	}
	return ci, nil
}

// Apply writes codebook.yaml and refi-guids.json, when they change.
func (ci *RefiCodebookImport) Apply() error {
	if ci.editor != nil {
		if err := ci.editor.Save(); err != nil {
			return err
		}
	}
	if ci.guidsChanged {
		return ci.guids.Save(ci.p)
	}
	return nil
}
