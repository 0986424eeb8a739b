package suggest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/internal/errs"
)

// File is a suggestions file: what Suggest proposed, written for a
// researcher to edit. Each suggestion they set keep: true on is added to
// the codebook by Accept.
type File struct {
	// Under is where kept suggestions go when they do not say: the id or
	// name of a theme or sub-theme, or the name of a new theme; empty means
	// the codebook's "Uncategorised" theme.
	Under       string      `yaml:"under"`
	Suggestions []FileEntry `yaml:"suggestions"`
}

// FileEntry is one suggestion in a File.
type FileEntry struct {
	Keep       bool     `yaml:"keep"`
	Name       string   `yaml:"name"`
	Kind       string   `yaml:"kind"`
	Score      float64  `yaml:"score"`
	Count      int      `yaml:"count"`
	Cases      []string `yaml:"cases,flow"`
	Sources    int      `yaml:"sources"`
	Entity     string   `yaml:"entity,omitempty"`
	Words      []string `yaml:"words,flow"`
	Definition string   `yaml:"definition"`
	Under      string   `yaml:"under"`
	Extracts   []string `yaml:"extracts"`

	// Line is where the entry starts in the file read (1-based).
	Line int `yaml:"-"`
}

// NewFile makes a suggestions file of a result: the key phrases, in-vivo
// expressions, clusters and entities in that order, none kept. under is the
// default place for kept suggestions.
func NewFile(res *Result, under string) *File {
	f := &File{Under: under, Suggestions: []FileEntry{}}
	for _, list := range [][]Suggestion{res.Phrases, res.InVivo, res.Clusters, res.Entities} {
		for _, s := range list {
			e := FileEntry{Name: s.Label, Kind: s.Kind, Score: s.Score, Count: s.Count,
				Cases: s.Cases, Sources: len(s.Sources), Entity: s.Entity, Words: s.Words}
			if e.Cases == nil {
				e.Cases = []string{}
			}
			if e.Words == nil {
				e.Words = []string{}
			}
			for _, x := range s.Extracts {
				e.Extracts = append(e.Extracts, strings.Join(strings.Fields(x.Text), " ")+" "+x.Citation)
			}
			f.Suggestions = append(f.Suggestions, e)
		}
	}
	return f
}

// fileHeader explains the file to the researcher who edits it.
const fileHeader = `# Suggested codes from 'thematic suggest'. Nothing here is coded.
#
# For each suggestion worth keeping, set keep: true, and change its name,
# definition, under or words as you like; then run
#     thematic accept-suggestions FILE
# to add the kept ones to codebook.yaml as codes (comments there are kept).
#   under:  the id or name of a theme or sub-theme to put the code in; a new
#           theme is made when none has that name. Empty: the "under" at the
#           top of this file, or else the theme "Uncategorised".
#   words:  the code's first rule: single words become a words rule (matched
#           as search matches them: "slug" finds "slugs"); phrases of several
#           words become phrase rules. Empty: no rule.
# kind, score, count, cases, sources and extracts are for reading only.
`

// Encode writes the file as YAML with an explanatory header. summary, if
// not empty, is added to the header as comment lines.
func (f *File) Encode(w io.Writer, summary string) error {
	var b bytes.Buffer
	b.WriteString(fileHeader)
	for _, l := range strings.Split(strings.TrimSpace(summary), "\n") {
		if l != "" {
			b.WriteString("# " + l + "\n")
		}
	}
	b.WriteString("\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// ParseFile reads a suggestions file; name is used in errors, which are
// *errs.InputError with the line (and column where known). Unknown keys are
// errors, as are a kept suggestion without a name or a name of several
// lines.
func ParseFile(name string, data []byte) (*File, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlInputError(name, err)
	}
	f := &File{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errs.New(name, 0, 0, "empty file; make one with 'thematic suggest --out %s'", name)
		}
		return nil, yamlInputError(name, err)
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, errs.New(name, 1, 1, "want a mapping with under: and suggestions:")
	}
	top := root.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "suggestions" && top.Content[i+1].Kind == yaml.SequenceNode {
			for j, item := range top.Content[i+1].Content {
				if j < len(f.Suggestions) {
					f.Suggestions[j].Line = item.Line
				}
			}
		}
	}
	for _, s := range f.Suggestions {
		if !s.Keep {
			continue
		}
		switch {
		case strings.TrimSpace(s.Name) == "":
			return nil, errs.New(name, s.Line, 0, "a kept suggestion needs a name")
		case strings.ContainsAny(s.Name, "\r\n"):
			return nil, errs.New(name, s.Line, 0, "the name %q is more than one line; put longer text in definition", s.Name)
		}
		for _, w := range s.Words {
			if strings.TrimSpace(w) == "" {
				return nil, errs.New(name, s.Line, 0, "%q: an empty word in words", s.Name)
			}
		}
	}
	return f, nil
}

// yamlInputError turns a yaml.v3 error ("yaml: line 3: ...") into an
// InputError naming the file and line.
func yamlInputError(name string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:")
	msg = strings.TrimSpace(msg)
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	var line int
	if _, e := fmt.Sscanf(msg, "line %d:", &line); e == nil {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
	}
	return errs.New(name, line, 0, "%s", msg)
}

// Added is a code Accept added.
type Added struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Parent string   `json:"parent"` // id of the theme or sub-theme it went into
	Words  []string `json:"words,omitempty"`
	Line   int      `json:"line"` // of its entry in the suggestions file
}

// Accept adds the kept suggestions of f to the codebook being edited, as
// codes with their definitions and their words as a first rule, in file
// order. A suggestion goes under its own "under", else the file's, else
// defaultUnder, else the theme "Uncategorised"; "under" is the id of a
// theme or sub-theme, or a name (compared without regard to case) of
// exactly one, or else the name of a theme to make. Nothing is saved: the
// caller calls ed.Save. An error names the suggestions file (name) and the
// entry's line; the editor may then hold part of the changes and must not
// be saved.
func Accept(ed *codebook.Editor, f *File, name, defaultUnder string) ([]Added, error) {
	var out []Added
	for _, s := range f.Suggestions {
		if !s.Keep {
			continue
		}
		under := firstNonEmpty(s.Under, f.Under, defaultUnder)
		parent := ""
		if under != "" {
			id, err := placeFor(ed, under)
			if err != nil {
				return nil, errs.New(name, s.Line, 0, "%q: %v", s.Name, msgOf(err))
			}
			parent = id
		}
		id, err := ed.AddCode(parent, strings.TrimSpace(s.Name), "", s.Definition)
		if err != nil {
			return nil, errs.New(name, s.Line, 0, "%q: %v", s.Name, msgOf(err))
		}
		var words []string
		for _, w := range s.Words {
			if w = strings.Join(strings.Fields(w), " "); w != "" {
				words = append(words, w)
			}
		}
		if len(words) > 0 {
			if err := ed.AddRules(id, words); err != nil {
				return nil, errs.New(name, s.Line, 0, "%q: %v", s.Name, msgOf(err))
			}
		}
		n := ed.Codebook().Node(id)
		pid := ""
		if n != nil && n.Parent != nil {
			pid = n.Parent.ID
		}
		out = append(out, Added{ID: id, Name: strings.TrimSpace(s.Name), Parent: pid, Words: words, Line: s.Line})
	}
	return out, nil
}

// placeFor finds the theme or sub-theme that under names, making a theme of
// that name when none has it.
func placeFor(ed *codebook.Editor, under string) (string, error) {
	under = strings.TrimSpace(under)
	cb := ed.Codebook()
	if n := cb.Node(under); n != nil {
		return n.ID, nil
	}
	var found []*codebook.Node
	for _, n := range cb.Codes() {
		if strings.EqualFold(n.Name, under) && n.Level != codebook.LevelCode {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 1:
		return found[0].ID, nil
	case 0:
		return ed.AddTheme(under, "")
	}
	ids := make([]string, len(found))
	for i, n := range found {
		ids[i] = n.ID
	}
	return "", fmt.Errorf("under %q: several themes or sub-themes have that name (%s); give an id", under, strings.Join(ids, ", "))
}

// msgOf is an error's message without the codebook file's name, which the
// error about the suggestions file would otherwise repeat.
func msgOf(err error) string {
	var ie *errs.InputError
	if errors.As(err, &ie) {
		return ie.Msg
	}
	return err.Error()
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}
