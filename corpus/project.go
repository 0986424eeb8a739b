package corpus

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"go.yaml.in/yaml/v3"

	"github.com/thematic-qda/thematic/internal/errs"
	"github.com/thematic-qda/thematic/internal/fsx"
)

// File and folder names inside a project.
const (
	ConfigFile   = "thematic.yaml"
	CodebookFile = "codebook.yaml"
	CasesFile    = "cases.csv"
	SourcesDir   = "sources"
	CodingsDir   = "codings"
	MemosDir     = "memos"
	CacheDir     = ".thematic"
)

// Project is a study folder: thematic.yaml, codebook.yaml, sources/,
// codings/ and the derived cache .thematic/.
type Project struct {
	Root   string
	Config Config
}

// ErrNoProject is returned by Find when no thematic.yaml is found.
var ErrNoProject = errors.New("not inside a thematic project (no thematic.yaml here or above; run 'thematic init' or pass -C DIR)")

// Init makes a new project in dir (created if needed). It refuses a folder
// that already holds a thematic.yaml.
func Init(dir, name string) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(abs, ConfigFile)); err == nil {
		return nil, errs.New(filepath.Join(dir, ConfigFile), 0, 0, "a project already exists here")
	}
	if name == "" {
		name = filepath.Base(abs)
	}
	for _, d := range []string{SourcesDir, CodingsDir, MemosDir, CacheDir} {
		if err := os.MkdirAll(filepath.Join(abs, d), 0o755); err != nil {
			return nil, err
		}
	}
	files := []struct{ name, body string }{
		{".gitignore", "# derived: the search index and caches, rebuilt on demand\n" + CacheDir + "/\n"},
		{CodebookFile, codebookStub},
		{ConfigFile, fmt.Sprintf(configTemplate, yamlQuote(name))},
	}
	for _, f := range files {
		p := filepath.Join(abs, f.name)
		if _, err := os.Stat(p); err == nil && f.name != ConfigFile {
			continue // keep what the researcher already has
		}
		if err := fsx.WriteFile(p, []byte(f.body), 0o644); err != nil {
			return nil, err
		}
	}
	return Open(abs)
}

func yamlQuote(s string) string {
	b, _ := json.Marshal(s) // a JSON string is a valid YAML double-quoted scalar
	return string(b)
}

const configTemplate = `# thematic project settings
name: %s
# language of text analysis for search and rules (en, de, fr, es, it, nl, pt, ...)
language: en
# fold accents so that "naïve" matches "naive"
fold_accents: false
# citation label of an extract: {Kind} {kind} {n} {case} {source} {title} or any attribute name
citation: "({Kind} {n})"
# default coder for manual coding ($THEMATIC_CODER overrides)
coder: ""
# speaker name -> role (interviewer, participant, other), overriding the defaults
roles: {}
`

const codebookStub = `# The codebook: themes > sub-themes > codes. See 'thematic codebook --help'.
name: ""
themes: []
`

// Find locates the project containing dir by walking up to the first folder
// holding a thematic.yaml.
func Find(dir string) (*Project, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ConfigFile)); err == nil {
			return Open(d)
		}
		if filepath.Dir(d) == d {
			return nil, ErrNoProject
		}
	}
}

// Open opens the project whose root is dir and reads its thematic.yaml.
func Open(dir string) (*Project, error) {
	p := &Project{Root: dir}
	path := filepath.Join(dir, ConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p.Config); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(path, err)
	}
	if p.Config.Language == "" {
		p.Config.Language = "en"
	}
	if p.Config.Citation == "" {
		p.Config.Citation = "({Kind} {n})"
	}
	for name, role := range p.Config.Roles {
		switch role {
		case RoleInterviewer, RoleParticipant, RoleOther:
		default:
			return nil, errs.New(path, 0, 0, "roles: speaker %q has role %q; use interviewer, participant or other", name, role)
		}
	}
	return p, nil
}

// yamlError turns a yaml.v3 error ("yaml: line 3: ...") into an InputError.
func yamlError(path string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if _, e := fmt.Sscanf(msg, "line %d:", &line); e == nil {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
	} else if strings.HasPrefix(msg, "unmarshal errors:") {
		rest := strings.TrimSpace(strings.TrimPrefix(msg, "unmarshal errors:"))
		if _, e := fmt.Sscanf(rest, "line %d:", &line); e == nil {
			msg = strings.TrimSpace(rest[strings.Index(rest, ":")+1:])
			if i := strings.IndexByte(msg, '\n'); i >= 0 {
				msg = msg[:i]
			}
		}
	}
	return errs.New(path, line, 0, "%s", msg)
}

// Path joins elem onto the project root.
func (p *Project) Path(elem ...string) string {
	return filepath.Join(append([]string{p.Root}, elem...)...)
}

// Lock takes the project's write lock, waiting up to wait for another
// thematic process to finish. Every command that writes holds it.
func (p *Project) Lock(wait time.Duration) (unlock func() error, err error) {
	path := p.Path(CacheDir, "lock")
	deadline := time.Now().Add(wait)
	for {
		unlock, err := fsx.Lock(path)
		if err == nil {
			return unlock, nil
		}
		if !errors.Is(err, fsx.ErrLocked) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, errs.New(p.Root, 0, 0, "another thematic process is changing this project (lock %s); try again when it has finished", filepath.Join(CacheDir, "lock"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// SourceIDs lists the ids of the ingested sources, sorted.
func (p *Project) SourceIDs() ([]string, error) {
	entries, err := os.ReadDir(p.Path(SourcesDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if name := e.Name(); strings.HasSuffix(name, ".json") && !strings.HasPrefix(name, ".") {
			ids = append(ids, strings.TrimSuffix(name, ".json"))
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// Source reads one source: its sidecar and, when withText, its text, checked
// against the sidecar's hash. The sidecar is read through the source cache
// in .thematic/ (see EachSource), which is checked against it.
func (p *Project) Source(id string, withText bool) (*Source, error) {
	src, text, err := p.loadSource(id, withText, true)
	if err != nil {
		return nil, err
	}
	src.Text = text
	return src, nil
}

// readSidecar decodes a source's sidecar.
func (p *Project) readSidecar(id string) (*Source, error) {
	jsonPath := p.Path(SourcesDir, id+".json")
	data, err := os.ReadFile(jsonPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.New("", 0, 0, "no source %q (see 'thematic sources')", id)
	}
	if err != nil {
		return nil, err
	}
	src := new(Source)
	if !decodeSidecar(data, src) {
		*src = Source{}
		if err := json.Unmarshal(data, src); err != nil {
			return nil, errs.New(filepath.Join(SourcesDir, id+".json"), 0, 0, "broken sidecar: %v (re-ingest the source)", err)
		}
	}
	return src, nil
}

// Sources reads every source, with or without text, in id order. It holds
// them all, segments and texts, at once: a command that can take the
// sources one at a time uses EachSource, whose memory stays bounded
// however large the project.
func (p *Project) Sources(withText bool) ([]*Source, error) {
	ids, err := p.SourceIDs()
	if err != nil {
		return nil, err
	}
	// Read on every core; a problem is reported for the first source in
	// id order, as reading them one by one would.
	out := make([]*Source, len(ids))
	err = parallel(len(ids), runtime.GOMAXPROCS(0), func(i int) error {
		s, err := p.Source(ids[i], withText)
		out[i] = s
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SaveSource writes a source's text and then its sidecar, each atomically;
// the sidecar carries the text's hash, so a crash between the two is detected
// on the next read. Callers hold the project lock.
func (p *Project) SaveSource(src *Source) error {
	if err := os.MkdirAll(p.Path(SourcesDir), 0o755); err != nil {
		return err
	}
	src.SHA = HashText(src.Text)
	if err := fsx.WriteFile(p.Path(SourcesDir, src.ID+".txt"), []byte(src.Text), 0o644); err != nil {
		return err
	}
	data, err := encodeSidecar(src)
	if err != nil {
		return err
	}
	if err := fsx.WriteFile(p.Path(SourcesDir, src.ID+".json"), append(data, '\n'), 0o644); err != nil {
		return err
	}
	// The source is at hand: write its cache entry now rather than decode
	// the sidecar again on the next read.
	p.cacheSaved(src, p.Path(SourcesDir, src.ID+".json"), p.Path(SourcesDir, src.ID+".txt"))
	return nil
}

// cacheSaved writes the source cache entry of src, just written as the
// sidecar at jsonPath and the text at txtPath (which may be staged files
// that are then renamed into sources/: a rename keeps what the entry's keys
// record). Writers call it so that the next read need not decode the
// sidecar.
func (p *Project) cacheSaved(src *Source, jsonPath, txtPath string) {
	sk, err1 := fileKeyOf(jsonPath)
	tk, err2 := fileKeyOf(txtPath)
	if err1 != nil || err2 != nil || !validSourceStrings(src) {
		return
	}
	// As read back from the sidecar: empty lists and maps that the JSON
	// leaves out are nil.
	c := *src
	if len(c.Attrs) == 0 {
		c.Attrs = nil
	}
	if len(c.PrevSHA) == 0 {
		c.PrevSHA = nil
	}
	if len(c.Speakers) == 0 {
		c.Speakers = nil
	}
	p.writeSourceCache(&c, src.Text, sk, tk)
}

// validSourceStrings reports whether the strings of src are valid UTF-8,
// and so read back from the sidecar as they are.
func validSourceStrings(src *Source) bool {
	for _, s := range [...]string{src.ID, src.Title, src.Kind, src.Case, src.Format, src.OrigPath, src.RawSHA, src.SHA} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	for k, v := range src.Attrs {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return false
		}
	}
	for _, s := range src.PrevSHA {
		if !utf8.ValidString(s) {
			return false
		}
	}
	for _, sp := range src.Speakers {
		if !utf8.ValidString(sp.Name) || !utf8.ValidString(sp.Role) {
			return false
		}
	}
	for i := range src.Segments {
		g := &src.Segments[i]
		for _, s := range [...]string{g.ID, g.Unit, g.Parent, g.Speaker, g.Role, g.Time, g.Date} {
			if !utf8.ValidString(s) {
				return false
			}
		}
	}
	return true
}

// RemoveSource deletes a source's sidecar and text.
func (p *Project) RemoveSource(id string) error {
	p.removeSourceCache(id)
	if err := os.Remove(p.Path(SourcesDir, id+".json")); err != nil {
		return err
	}
	return os.Remove(p.Path(SourcesDir, id+".txt"))
}

// HashText is the hex sha256 of a text.
func HashText(s string) string {
	// The bytes are only read: no copy of the text is needed.
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(s), len(s)))
	return hex.EncodeToString(sum[:])
}
