package analysis

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// refiImporter holds the state of one import while it is staged.
type refiImporter struct {
	p     *corpus.Project
	file  string
	qde   string // the .qde's name in messages
	arc   *refiArchive
	opts  RefiImportOptions
	proj  *refiProject
	rep   *RefiReport
	im    *RefiImport
	guids *RefiGUIDs

	notes       map[string]*refiNote
	usedNotes   map[string]bool // notes that became the memo of a code or coding
	missedNotes map[string]bool // notes whose file is missing, reported once
	skips       map[[2]string]int

	coders    map[string]string // user GUID -> coder
	userNames map[string]string // coder -> user name

	codeIDs  map[string]string // code GUID -> codebook id
	varNames map[string]string // variable GUID -> attribute name

	caseOfSource map[string]string // source GUID -> case id
	caseAttrs    map[string]map[string]string
	caseOrder    []string

	drafts      []refiDraft
	changedText map[string]string // source id -> new text, for re-anchoring
	imported    map[string]bool   // ids of the project sources the file's sources went to
	annotations []refiAnnotation
	err         error // the first error of a step that could not return it
}

// refiDraft is a coding on its way into the store.
type refiDraft struct {
	source     string
	text       *TextIndex
	start, end int
	code       string
	coder      string
	time       time.Time
	memo       string
}

// refiAnnotation is a note on a selection that has no coding: kept as a
// memo file.
type refiAnnotation struct {
	source, title string
	start, end    int
	quote, text   string
}

func (r *refiImporter) skip(what, why, where string, n int) {
	k := [2]string{what, why}
	if i, ok := r.skips[k]; ok {
		r.rep.Skipped[i].Count += n
		return
	}
	r.skips[k] = len(r.rep.Skipped)
	r.rep.Skipped = append(r.rep.Skipped, RefiSkip{What: what, Count: n, Why: why, Where: where})
}

// fail records the first error met where a step cannot return one; the
// import stops with it after the step.
func (r *refiImporter) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *refiImporter) note(format string, args ...any) {
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf(format, args...))
}

// at names a line of the .qde for the report.
func (r *refiImporter) at(line int) string {
	if line == 0 {
		return r.qde
	}
	return r.qde + ":" + strconv.Itoa(line)
}

// PrepareRefiImport reads a REFI-QDA project (.qdpx, or a bare .qde) and
// stages its import into project p: text sources (text files of the
// archive, PDF text representations and media transcripts), the codebook
// as a subtree of codebook.yaml (rules empty; see codebook.Editor.AddQDC),
// each user's codings of text selections as a coder's codings, cases with
// their variables in cases.csv, variables of sources as source attributes,
// and notes as memos (of a code, of a coding, or files in memos/).
// Selections of pictures, PDF areas, audio and video, sets, links and
// graphs have no place in thematic: they are listed in the report's
// Skipped, as is everything else left out, each with the reason. Nothing is
// written until Apply.
//
// Positions: the standard counts code points (section 10.2), but NVivo for
// Windows counts UTF-16 code units; the import takes the reading that puts
// the most selections on word boundaries (see RefiPositions), applies the
// positions to the text as the file holds it, and converts them to code
// points of the normalised text that the project stores.
//
// Importing the same file again changes nothing: sources, codes, cases and
// memos are found again by GUID (refi-guids.json and the GUIDs exports
// make), else by text or name, and codings by their span, code and coder.
//
// Problems in the file (not REFI, broken XML, duplicate GUIDs, a zip entry
// leaving its folder, sizes over opts.Limits) are *errs.InputError naming
// the file and, in the .qde, the line and column. Callers hold the project
// lock until Apply returns.
func PrepareRefiImport(p *corpus.Project, file string, opts RefiImportOptions) (*RefiImport, error) {
	if opts.Limits == (RefiLimits{}) {
		opts.Limits = DefaultRefiLimits
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	opts.Now = opts.Now.UTC().Truncate(time.Second)
	if opts.Kind != "" && !corpus.ValidKind(opts.Kind) {
		return nil, errs.New("", 0, 0, "unknown kind %q (use one of %s)", opts.Kind, strings.Join(corpus.Kinds, ", "))
	}
	arc, qdeName, data, err := openRefiFile(file, opts.Limits)
	if err != nil {
		return nil, err
	}
	defer arc.close()
	proj, err := readRefiProject(qdeName, data)
	if err != nil {
		return nil, err
	}
	guids, err := LoadRefiGUIDs(p)
	if err != nil {
		return nil, err
	}
	empty := func() RefiChanges { return RefiChanges{Added: []string{}, Updated: []string{}, Unchanged: []string{}} }
	rep := &RefiReport{File: file, Tool: proj.Origin, Positions: RefiCodePoints, Skipped: []RefiSkip{}, Coders: []RefiCoder{},
		Sources: empty(), Cases: empty(), Memos: empty()}
	r := &refiImporter{p: p, file: file, qde: qdeName, arc: arc, opts: opts, proj: proj, rep: rep, guids: guids,
		im:    &RefiImport{Report: rep, p: p, codings: map[string][]Coding{}, memos: map[string]string{}, guids: guids},
		notes: map[string]*refiNote{}, usedNotes: map[string]bool{}, missedNotes: map[string]bool{},
		skips: map[[2]string]int{}, changedText: map[string]string{}, imported: map[string]bool{}}
	for i := range proj.Notes {
		r.notes[proj.Notes[i].GUID] = &proj.Notes[i]
	}
	for _, step := range []func() error{r.mapUsers, r.mapCodebook, r.mapCases, r.mapSources, r.stageCodings, r.stageCases, r.stageMemos} {
		if err := step(); err != nil {
			return nil, err
		}
		if r.err != nil {
			return nil, r.err
		}
	}
	r.reportRest()
	return r.im, nil
}

// keep records guid for the object of kind with id (see RefiGUIDs.Adopt).
func (r *refiImporter) keep(kind RefiKind, id, guid string) {
	if r.guids.Adopt(kind, id, guid) {
		r.im.guidsChanged = true
	}
}

func (r *refiImporter) known(kind RefiKind, ids []string) map[string]string {
	return r.guids.Known(kind, ids)
}

// refiCoderName makes a coder name from a user's name: its slug, or
// "user-" and the start of the GUID when the name gives none.
func refiCoderName(name, guid string) string {
	s := corpus.Slug(name)
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "-")
	}
	if s == "" {
		return "user-" + guid[:8]
	}
	if ValidCoderName(s) != nil {
		s = "user-" + s
		if len(s) > 64 {
			s = strings.TrimRight(s[:64], "-")
		}
	}
	return s
}

// mapUsers gives every user of the file a coder name.
func (r *refiImporter) mapUsers() error {
	r.coders, r.userNames = map[string]string{}, map[string]string{}
	usedKey := map[string]bool{}
	for _, from := range refiSortedKeys(r.opts.CoderMap) {
		to := r.opts.CoderMap[from]
		if err := ValidCoderName(to); err != nil {
			return errs.New("", 0, 0, "--coder-map %s=%s: %v", from, to, err)
		}
		if to == AutoCoder {
			return errs.New("", 0, 0, "--coder-map %s=%s: coder %q belongs to 'thematic autocode'; choose another name", from, to, AutoCoder)
		}
	}
	var listed []string
	for _, u := range r.proj.Users {
		name := strings.TrimSpace(u.Name)
		if name == "" {
			name = strings.TrimSpace(u.ID)
		}
		def := refiCoderName(name, u.GUID)
		coder, mapped := def, false
		if c, ok := r.opts.CoderMap[name]; ok && name != "" {
			coder, mapped, usedKey[name] = c, true, true
		} else if c, ok := r.opts.CoderMap[def]; ok {
			coder, mapped, usedKey[def] = c, true, true
		}
		if !mapped && coder == AutoCoder {
			coder = "auto-import"
			r.note("user %q is coder %q: %q is the coder of 'thematic autocode' (choose another with --coder-map)", name, coder, AutoCoder)
		}
		if _, dup := r.userNames[coder]; dup && !mapped {
			base := coder
			for i := 2; ; i++ {
				coder = base + "-" + strconv.Itoa(i)
				if _, taken := r.userNames[coder]; !taken {
					break
				}
			}
			r.note("users %q and %q would both be coder %q; %q is coder %q", r.userNames[base], name, base, name, coder)
		}
		r.coders[u.GUID] = coder
		if _, ok := r.userNames[coder]; !ok {
			r.userNames[coder] = name
			r.keep(RefiUser, coder, u.GUID)
		}
		listed = append(listed, fmt.Sprintf("%q (coder %s)", name, def))
	}
	for _, from := range refiSortedKeys(r.opts.CoderMap) {
		if !usedKey[from] {
			users := "it has no users"
			if len(listed) > 0 {
				users = "its users are " + strings.Join(listed, ", ")
			}
			return errs.New(r.qde, 0, 0, "--coder-map %s=%s: no user %q in the file; %s", from, r.opts.CoderMap[from], from, users)
		}
	}
	return nil
}

// coderOf finds the coder of a coding from the first user GUID given.
func (r *refiImporter) coderOf(users ...string) string {
	for _, g := range users {
		if g == "" {
			continue
		}
		if c, ok := r.coders[g]; ok {
			return c
		}
		c := "user-" + g[:8]
		if _, ok := r.userNames[c]; !ok {
			r.userNames[c] = c
			r.note("codings by user %s, who is not among the file's users, go to coder %q", g, c)
		}
		r.coders[g] = c
		return c
	}
	const c = "unknown-user"
	if _, ok := r.userNames[c]; !ok {
		r.userNames[c] = ""
		r.note("codings that name no user go to coder %q", c)
	}
	return c
}

// noteText returns the text of a note (its Description first, when it
// has one): its PlainTextContent, or its file.
func (r *refiImporter) noteText(guid string, where string) (string, bool) {
	n := r.notes[guid]
	if n == nil {
		r.skip("note reference", "no note of the file has its GUID", where, 1)
		return "", false
	}
	text := n.Content
	if !n.HasContent && n.Path != "" {
		data, why, err := r.fileBytes(n.Path)
		if err != nil {
			r.fail(err)
			return "", false
		}
		if why != "" {
			if !r.missedNotes[guid] {
				r.skip(fmt.Sprintf("note %q", n.Name), why, r.at(n.Line), 1)
			}
			r.missedNotes[guid] = true
			return "", false
		}
		text = newRefiText(data).text
	}
	text = corpus.NormalizeString(text)
	if d := strings.TrimSpace(corpus.NormalizeString(n.Description)); d != "" {
		if strings.TrimSpace(text) == "" {
			text = d
		} else {
			text = d + "\n\n" + text
		}
	}
	return text, true
}

// memoOf joins extra texts and the texts of the notes refs point to,
// marking those notes used.
func (r *refiImporter) memoOf(refs []string, where string, extra ...string) string {
	var parts []string
	for _, x := range extra {
		if s := strings.TrimSpace(corpus.NormalizeString(x)); s != "" {
			parts = append(parts, s)
		}
	}
	for _, g := range refs {
		if t, ok := r.noteText(g, where); ok {
			r.usedNotes[g] = true
			if s := strings.TrimSpace(t); s != "" {
				parts = append(parts, s)
			}
		}
	}
	return strings.Join(parts, "\n\n")
}

// fileBytes reads a file the .qde refers to, or says why it is not there.
// An entry over the limits is an error: the archive is not to be trusted.
func (r *refiImporter) fileBytes(ref string) ([]byte, string, error) {
	name, why := refiFileRef(ref)
	if why != "" {
		return nil, why, nil
	}
	if r.arc == nil {
		return nil, "a bare .qde carries no files (" + ref + "); import the .qdpx", nil
	}
	zf := r.arc.entry(name)
	if zf == nil {
		return nil, "its file " + ref + " is not in the archive", nil
	}
	data, err := r.arc.read(zf)
	return data, "", err
}

// refiNestATLAS undoes ATLAS.ti's flattening of code groups into names such as
// "Coke::diet Coke": such a code goes under the top-level code named
// "Coke" when there is one.
func refiNestATLAS(codes []*codebook.QDCCode) ([]*codebook.QDCCode, int) {
	byName := map[string]*codebook.QDCCode{}
	for _, c := range codes {
		if !strings.Contains(c.Name, "::") {
			byName[strings.ToLower(strings.TrimSpace(c.Name))] = c
		}
	}
	var out []*codebook.QDCCode
	n := 0
	for _, c := range codes {
		group, rest, ok := strings.Cut(c.Name, "::")
		if parent := byName[strings.ToLower(strings.TrimSpace(group))]; ok && parent != nil && strings.TrimSpace(rest) != "" {
			moved := *c
			moved.Name = strings.TrimSpace(rest)
			parent.Children = append(parent.Children, &moved)
			n++
			continue
		}
		out = append(out, c)
	}
	return out, n
}

// mapCodebook stages the file's codes as a subtree of codebook.yaml.
func (r *refiImporter) mapCodebook() error {
	codes := r.proj.Codes
	if strings.HasPrefix(r.proj.Origin, "ATLAS.ti") {
		var n int
		if codes, n = refiNestATLAS(codes); n > 0 {
			r.note("%d ATLAS.ti codes named \"group::code\" went under their group's code", n)
		}
	}
	var walk func(cs []*codebook.QDCCode)
	walk = func(cs []*codebook.QDCCode) {
		for _, c := range cs {
			c.Memo = r.memoOf(c.NoteRefs, r.at(c.Line))
			walk(c.Children)
		}
	}
	walk(codes)
	r.codeIDs = map[string]string{}
	if len(codes) == 0 {
		return nil
	}
	ed, err := codebook.Edit(r.p.Path(corpus.CodebookFile))
	if err != nil {
		return err
	}
	var ids []string
	for _, n := range ed.Codebook().Codes() {
		ids = append(ids, n.ID)
	}
	res, err := ed.AddQDC(codes, r.known(RefiCode, ids))
	if err != nil {
		return err
	}
	r.codeIDs = res.IDs
	if len(res.Added) > 0 {
		r.im.editor = ed
	}
	added := map[string]bool{}
	for _, id := range res.Added {
		added[id] = true
	}
	var count func(cs []*codebook.QDCCode)
	count = func(cs []*codebook.QDCCode) {
		for _, c := range cs {
			if added[res.IDs[c.GUID]] && strings.TrimSpace(c.Memo) != "" {
				r.rep.CodeMemos++
			}
			count(c.Children)
		}
	}
	count(codes)
	// Codes the codebook had already keep their own text: say what of the
	// file's is not taken.
	cb := ed.Codebook()
	var differ func(cs []*codebook.QDCCode)
	differ = func(cs []*codebook.QDCCode) {
		for _, c := range cs {
			if n := cb.Node(res.IDs[c.GUID]); n != nil && !added[n.ID] {
				if m := strings.TrimSpace(c.Memo); m != "" && m != strings.TrimSpace(n.Memo) {
					r.skip("memo of a code already in the codebook", "the codebook's code keeps its own memo (copy the note into codebook.yaml to take it)", r.at(c.Line), 1)
				}
				d := codebook.ParseDescription(c.Description)
				if strings.TrimSpace(c.Description) != "" && codebook.Describe(n) != codebook.Describe(&codebook.Node{Definition: d.Definition,
					WhenToUse: d.WhenToUse, WhenNotToUse: d.WhenNotToUse, Examples: d.Examples}) {
					r.skip("description of a code already in the codebook", "the codebook's code keeps its own definition (copy the description into codebook.yaml to take it)", r.at(c.Line), 1)
				}
			}
			differ(c.Children)
		}
	}
	differ(codes)
	r.rep.Codes = RefiCodeCounts{Added: len(res.Added), Matched: res.Matched, Flattened: res.Flattened, Renamed: res.Renamed}
	if res.Flattened > 0 {
		r.note("%d codes nested deeper than theme > sub-theme > code > child code sit beside their parent code, named \"parent › code\"", res.Flattened)
	}
	for _, g := range refiSortedKeys(res.IDs) {
		r.keep(RefiCode, res.IDs[g], g)
	}
	return nil
}

// mapCases names the file's cases and variables and finds which source
// belongs to which case.
func (r *refiImporter) mapCases() error {
	r.varNames = map[string]string{}
	names := map[string]bool{}
	for _, v := range r.proj.Variables {
		name := strings.Join(strings.Fields(v.Name), " ")
		if name == "" {
			name = "variable-" + v.GUID[:8]
		}
		if names[strings.ToLower(name)] {
			r.note("two variables are named %q; their values are taken together", name)
		}
		names[strings.ToLower(name)] = true
		r.varNames[v.GUID] = name
		r.keep(RefiVariable, name, v.GUID)
	}
	existing, err := corpus.ReadCases(r.p.Path(corpus.CasesFile))
	if err != nil {
		return err
	}
	known := r.known(RefiCase, refiSortedKeys(existing))
	r.caseOfSource, r.caseAttrs = map[string]string{}, map[string]map[string]string{}
	taken := map[string]string{} // case id -> GUID in this file
	for _, c := range r.proj.Cases {
		id, ok := known[c.GUID]
		if !ok {
			id = strings.Join(strings.Fields(c.Name), " ")
			if id == "" {
				id = "case-" + c.GUID[:8]
			}
			if other, dup := taken[id]; dup && other != c.GUID {
				base := id
				for i := 2; taken[id] != ""; i++ {
					id = base + "-" + strconv.Itoa(i)
				}
				r.note("two cases are named %q; the second is case %q", base, id)
			}
		}
		taken[id] = c.GUID
		r.caseOrder = append(r.caseOrder, id)
		r.keep(RefiCase, id, c.GUID)
		attrs := map[string]string{}
		for _, v := range c.Values {
			name, ok := r.varNames[v.Variable]
			if !ok {
				r.skip("case variable value", "its variable's GUID is not among the file's variables", r.at(v.Line), 1)
				continue
			}
			if val := strings.TrimSpace(corpus.NormalizeString(v.Value)); val != "" {
				attrs[name] = val
			}
		}
		if d := strings.Join(strings.Fields(corpus.NormalizeString(c.Description)), " "); d != "" && attrs["description"] == "" {
			attrs["description"] = d
		}
		r.caseAttrs[id] = attrs
		for _, sg := range c.Sources {
			if prev, dup := r.caseOfSource[sg]; dup && prev != id {
				r.note("source %s is in cases %q and %q; thematic gives a source one case: %q", sg, prev, id, prev)
				continue
			}
			r.caseOfSource[sg] = id
		}
		if c.Selections > 0 {
			r.skip("selection of a case", "thematic gives whole sources to cases, not selections", r.at(c.Line), c.Selections)
		}
		if c.CodeRefs > 0 {
			r.skip("code of a case", "thematic does not code cases themselves", r.at(c.Line), c.CodeRefs)
		}
	}
	return nil
}

// refiStaged is a text source of the file on its way into the project.
type refiStaged struct {
	rs    *refiSource
	t     *refiText
	raw   []byte
	label string
}

func refiSourceLabel(rs *refiSource) string {
	switch rs.Element {
	case "Representation":
		return fmt.Sprintf("text of PDF %q", rs.Of)
	case "Transcript":
		return fmt.Sprintf("transcript %q of %q", rs.Name, rs.Of)
	}
	return fmt.Sprintf("text source %q", refiSourceTitle(rs))
}

// refiSourceTitle is the title of a new source made from a REFI source.
func refiSourceTitle(rs *refiSource) string {
	name := strings.Join(strings.Fields(rs.Name), " ")
	switch rs.Element {
	case "Representation":
		name = strings.Join(strings.Fields(rs.Of), " ")
	case "Transcript":
		if name == "" {
			name = strings.Join(strings.Fields(rs.Of), " ") + " transcript"
		}
	}
	if name == "" && rs.Path != "" {
		// qc writes no name, only the file: "board_2017.txt".
		base := path.Base(strings.ReplaceAll(strings.TrimPrefix(rs.Path, "internal://"), `\`, "/"))
		name = strings.TrimSuffix(base, path.Ext(base))
	}
	if name == "" {
		name = "source " + rs.GUID[:8]
	}
	return name
}

// refiCount says n things: "1 selection", "3 codings".
func refiCount(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// refiInferKind guesses a source's kind from its name, as ingest does from a
// file name.
func refiInferKind(name string) string {
	lower := strings.ToLower(name)
	switch {
	case strings.Contains(lower, "diar") || strings.Contains(lower, "journal"):
		return corpus.KindDiary
	case strings.Contains(lower, "focus"):
		return corpus.KindFocusGroup
	case strings.Contains(lower, "note") || strings.Contains(lower, "memo"):
		return corpus.KindNotes
	}
	return corpus.KindInterview
}

// mapSources reads the text of every text source, decides how the file
// counts positions, and stages sources and coding drafts.
func (r *refiImporter) mapSources() error {
	var staged []*refiStaged
	texts := map[string]string{} // hash of text -> label, against transcripts repeating a text source
	var err error
	for _, rs := range r.proj.Sources {
		codings := len(rs.Codings)
		for _, s := range rs.Selections {
			codings += len(s.Codings)
		}
		label := refiSourceLabel(rs)
		what := fmt.Sprintf("%s (%s, %s)", label, refiCount(len(rs.Selections), "selection"), refiCount(codings, "coding"))
		var data []byte
		switch {
		case rs.HasContent:
			data = []byte(rs.Content)
		case rs.Path != "":
			var why string
			if data, why, err = r.fileBytes(rs.Path); err != nil {
				return err
			} else if why != "" {
				r.skip(what, why, r.at(rs.Line), 1)
				continue
			}
		default:
			r.skip(what, "it has neither plainTextPath nor PlainTextContent", r.at(rs.Line), 1)
			continue
		}
		norm, err := corpus.Normalize(label, data)
		if err != nil {
			why := err.Error()
			var ie *errs.InputError
			if errors.As(err, &ie) {
				why = ie.Msg
			}
			r.skip(what, "its text: "+why, r.at(rs.Line), 1)
			continue
		}
		t := newRefiText(data)
		if t.text != norm {
			return fmt.Errorf("internal error: %s: the text read for positions differs from the normalised text", label)
		}
		if t.decoded != "" {
			r.note("%s is %s, not UTF-8; read as such", label, t.decoded)
		}
		h := corpus.HashText(norm)
		if prev, dup := texts[h]; dup && rs.Element == "Transcript" {
			r.skip(what, "it repeats the text of "+prev, r.at(rs.Line), 1)
			continue
		}
		texts[h] = label
		if rs.TranscriptSelections > 0 {
			r.skip("selection of a transcript", "given by sync points of audio or video, not by text positions", r.at(rs.Line), rs.TranscriptSelections)
		}
		staged = append(staged, &refiStaged{rs: rs, t: t, raw: data, label: label})
	}
	rich := 0
	for _, s := range staged {
		if s.rs.RichPath != "" {
			rich++
		}
	}
	if rich > 0 {
		r.note("%d sources also carry formatted text (%s); their plain text was imported, which is what the positions count", rich, "richTextPath")
	}
	// How does the file count?
	var ts []*refiText
	var spans [][]refiSpan
	for _, s := range staged {
		ts = append(ts, s.t)
		var sp []refiSpan
		for _, sel := range s.rs.Selections {
			sp = append(sp, refiSpan{sel.Start, sel.End})
		}
		spans = append(spans, sp)
	}
	conv, ev := detectRefiPositions(ts, spans)
	r.rep.Positions, r.rep.Evidence = conv, ev.String()

	existing, err := r.p.Sources(true)
	if err != nil {
		return err
	}
	byID := map[string]*corpus.Source{}
	bySHA := map[string]string{}
	maxNumber := map[string]int{}
	var ids []string
	for _, s := range existing {
		byID[s.ID] = s
		ids = append(ids, s.ID)
		if _, ok := bySHA[s.SHA]; !ok {
			bySHA[s.SHA] = s.ID
		}
		maxNumber[s.Kind] = max(maxNumber[s.Kind], s.Number)
	}
	m := &refiSourceMatch{byID: byID, byGUID: r.known(RefiSource, ids), bySHA: bySHA, claimed: map[string]bool{}, maxNumber: maxNumber}
	for _, s := range staged {
		if err := r.stageSource(s, conv, m); err != nil {
			return err
		}
	}
	return nil
}

// refiSourceMatch finds the project's sources again.
type refiSourceMatch struct {
	byID      map[string]*corpus.Source
	byGUID    map[string]string // REFI GUID -> source id
	bySHA     map[string]string // hash of the text -> source id
	claimed   map[string]bool   // ids taken by this import
	maxNumber map[string]int    // per kind
}

// stageSource stages one source, new, changed or as it is, and its
// codings.
func (r *refiImporter) stageSource(s *refiStaged, conv RefiPositions, m *refiSourceMatch) error {
	rs, text := s.rs, s.t.text
	title := refiSourceTitle(rs)
	// Variables of the source: attributes, and its kind.
	kind := ""
	attrs := map[string]string{}
	for _, v := range rs.Values {
		name, ok := r.varNames[v.Variable]
		if !ok {
			r.skip("source variable value", "its variable's GUID is not among the file's variables", r.at(v.Line), 1)
			continue
		}
		val := strings.TrimSpace(corpus.NormalizeString(v.Value))
		if strings.EqualFold(name, "kind") && corpus.ValidKind(strings.ToLower(val)) {
			kind = strings.ToLower(val)
			continue
		}
		if val != "" {
			attrs[name] = val
		}
	}
	if d := strings.Join(strings.Fields(corpus.NormalizeString(rs.Description)), " "); d != "" && attrs["description"] == "" {
		attrs["description"] = d
	}
	caseID := r.caseOfSource[rs.GUID]

	id, ok := m.byGUID[rs.GUID]
	if !ok || m.claimed[id] {
		id, ok = m.bySHA[corpus.HashText(text)]
		ok = ok && !m.claimed[id]
	}
	sum := sha256.Sum256(s.raw)
	if ok {
		old := m.byID[id]
		cp := *old
		src := &cp
		src.Attrs = map[string]string{}
		for k, v := range old.Attrs {
			src.Attrs[k] = v
		}
		for k, v := range attrs {
			src.Attrs[k] = v
		}
		if len(src.Attrs) == 0 {
			src.Attrs = nil
		}
		if caseID != "" {
			src.Case = caseID
		}
		if kind != "" {
			src.Kind = kind
		}
		textChanged := old.SHA != corpus.HashText(text)
		if textChanged || src.Kind != old.Kind {
			if err := r.segment(src, text, s.label); err != nil {
				return err
			}
		}
		if textChanged {
			src.PrevSHA = append(slices.Clone(old.PrevSHA), old.SHA)
			src.RawSHA = hex.EncodeToString(sum[:])
			r.changedText[id] = text
			r.note("source %q had other text; its codings are re-anchored onto the file's text", id)
		}
		if src.Kind != old.Kind {
			m.maxNumber[src.Kind]++
			src.Number = m.maxNumber[src.Kind]
		}
		if textChanged || src.Kind != old.Kind || src.Case != old.Case || !refiMapsEqual(src.Attrs, old.Attrs) {
			r.rep.Sources.Updated = append(r.rep.Sources.Updated, id)
			r.im.sources = append(r.im.sources, src)
		} else {
			r.rep.Sources.Unchanged = append(r.rep.Sources.Unchanged, id)
		}
	} else {
		base := corpus.Slug(strings.TrimSuffix(title, path.Ext(title)))
		if len(base) > 60 {
			base = strings.TrimRight(base[:60], "-")
		}
		if base == "" {
			base = "source-" + rs.GUID[:8]
		}
		id = base
		for i := 2; m.byID[id] != nil || m.claimed[id]; i++ {
			id = base + "-" + strconv.Itoa(i)
		}
		if kind == "" {
			kind = r.opts.Kind
		}
		if kind == "" {
			kind = refiInferKind(title)
		}
		src := &corpus.Source{ID: id, Title: title, Kind: kind, Case: caseID, Attrs: attrs, Format: "txt",
			OrigPath: filepath.ToSlash(filepath.Base(r.file)) + "#" + rs.GUID, RawSHA: hex.EncodeToString(sum[:]),
			Ingested: r.opts.Now}
		if len(src.Attrs) == 0 {
			src.Attrs = nil
		}
		if err := r.segment(src, text, s.label); err != nil {
			return err
		}
		m.maxNumber[kind]++
		src.Number = m.maxNumber[kind]
		r.rep.Sources.Added = append(r.rep.Sources.Added, id)
		r.im.sources = append(r.im.sources, src)
	}
	m.claimed[id] = true
	r.imported[id] = true
	r.keep(RefiSource, id, rs.GUID)
	r.draftCodings(s, id, conv)
	return nil
}

func refiMapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// segment gives src its text and the segments, speakers and word count
// ingest would give it.
func (r *refiImporter) segment(src *corpus.Source, text, label string) error {
	segs, speakers := corpus.Segments(corpus.Document{Text: text, Format: "txt"}, src.Kind, r.p.Config.Roles)
	if src.Kind == corpus.KindDiary || src.Kind == corpus.KindSurvey {
		for i := range segs {
			if segs[i].Speaker == "" {
				segs[i].Role = corpus.RoleParticipant
			}
		}
	}
	if len(segs) == 0 {
		return errs.New(r.qde, 0, 0, "%s: no text to import", label)
	}
	src.Text, src.Segments, src.Speakers, src.Words = text, segs, speakers, corpus.CountWords(text)
	src.SHA = corpus.HashText(text)
	return nil
}

// draftCodings turns the selections and codings of a staged source into
// coding drafts, skipping (and reporting) what cannot be placed.
func (r *refiImporter) draftCodings(s *refiStaged, id string, conv RefiPositions) {
	rs, t := s.rs, s.t
	idx := NewTextIndex(t.text)
	widened := 0
	stamp := func(ts ...time.Time) time.Time {
		for _, x := range ts {
			if !x.IsZero() && x.Year() >= 1 && x.Year() <= 9999 {
				return x
			}
		}
		return r.opts.Now
	}
	add := func(start, end int, c refiCoding, sel *refiSelection, selMemo string) {
		code, ok := r.codeIDs[c.Code]
		if !ok {
			r.skip("coding", "its code's GUID is not in the file's codebook", r.at(c.Line), 1)
			return
		}
		var selUser string
		var selTime time.Time
		if sel != nil {
			selUser, selTime = sel.CreatingUser, sel.Created
		}
		coder := r.coderOf(c.User, selUser, rs.CreatingUser, r.proj.CreatingUser)
		memo := r.memoOf(c.NoteRefs, r.at(c.Line), selMemo)
		r.drafts = append(r.drafts, refiDraft{source: id, text: idx, start: start, end: end, code: code, coder: coder,
			time: stamp(c.Created, selTime, rs.Created, r.proj.Created), memo: memo})
	}
	n := t.length(conv)
	for i := range rs.Selections {
		sel := &rs.Selections[i]
		where := r.at(sel.Line)
		switch {
		case sel.Start < 0 || sel.End > n:
			r.skip("coding", "its selection lies outside the text of its source", where, max(len(sel.Codings), 1))
			continue
		case sel.Start >= sel.End:
			r.skip("coding", "its selection is empty (start not before end)", where, max(len(sel.Codings), 1))
			continue
		}
		start, ok1 := t.toText(sel.Start, conv, false)
		end, ok2 := t.toText(sel.End, conv, true)
		if !ok1 || !ok2 {
			widened++
		}
		if start >= end {
			r.skip("coding", "its selection holds only a line end or a byte order mark", where, max(len(sel.Codings), 1))
			continue
		}
		selMemo := r.memoOf(sel.NoteRefs, where, sel.Description)
		if len(sel.Codings) == 0 {
			if selMemo == "" {
				r.skip("text selection without codings or notes", "nothing to import", where, 1)
				continue
			}
			r.annotations = append(r.annotations, refiAnnotation{source: id, title: refiSourceTitle(rs), start: start, end: end,
				quote: idx.Slice(start, end), text: selMemo})
			continue
		}
		for _, c := range sel.Codings {
			add(start, end, c, sel, selMemo)
		}
	}
	if len(rs.Codings) > 0 {
		// Codings of the whole source: its text without the white space around it.
		lead := len(t.text) - len(strings.TrimLeft(t.text, " \t\n"))
		trail := len(strings.TrimRight(t.text, " \t\n"))
		start := utf8.RuneCountInString(t.text[:lead])
		end := start + utf8.RuneCountInString(t.text[lead:trail])
		for _, c := range rs.Codings {
			add(start, end, c, nil, "")
		}
		r.note("%d codings of the whole of %s code all its text", len(rs.Codings), s.label)
	}
	if widened > 0 {
		r.note("%d selections of %s began or ended inside a character (between CR and LF, in a surrogate pair or a combining sequence) and were widened to whole characters", widened, s.label)
	}
}

// refiKey is what makes a coding of one coder the same coding.
type refiKey struct {
	source     string
	start, end int
	code       string
}

// stageCodings merges the drafts into each coder's codings, re-anchoring
// codings on sources whose text changed.
func (r *refiImporter) stageCodings() error {
	store := Store{Dir: r.p.Path(corpus.CodingsDir)}
	byCoder := map[string][]refiDraft{}
	for _, d := range r.drafts {
		byCoder[d.coder] = append(byCoder[d.coder], d)
	}
	coders := map[string]bool{}
	for c := range byCoder {
		coders[c] = true
	}
	if len(r.changedText) > 0 {
		all, err := store.Coders()
		if err != nil {
			return err
		}
		for _, c := range all {
			coders[c] = true
		}
	}
	origin := "import:" + refiToolSlug(r.proj.Origin)
	for _, coder := range refiSortedKeys(coders) {
		old, err := store.Load(coder)
		if err != nil {
			return err
		}
		changed := r.reanchor(coder, old)
		drafts := byCoder[coder]
		if len(drafts) == 0 {
			if changed {
				r.im.codings[coder] = old
			}
			continue
		}
		rc := RefiCoder{Coder: coder, User: r.userNames[coder]}
		fresh := map[refiKey]refiDraft{}
		var order []refiKey
		for _, d := range drafts {
			k := refiKey{d.source, d.start, d.end, d.code}
			if prev, dup := fresh[k]; dup {
				if d.memo != "" && !strings.Contains(prev.memo, d.memo) {
					prev.memo = strings.TrimSpace(prev.memo + "\n\n" + d.memo)
					fresh[k] = prev
				}
				continue
			}
			fresh[k] = d
			order = append(order, k)
		}
		if n := len(drafts) - len(order); n > 0 {
			r.note("%d codings of coder %s repeat another of the same span and code; kept once", n, coder)
		}
		var out []Coding
		have := map[refiKey]int{}
		for _, c := range old {
			k := refiKey{c.Source, c.Start, c.End, c.Code}
			if r.opts.Replace && r.imported[c.Source] {
				if _, again := fresh[k]; !again || c.Orphan {
					rc.Removed++
					changed = true
					continue
				}
			}
			if !c.Orphan {
				have[k] = len(out)
			}
			out = append(out, c)
		}
		for _, k := range order {
			d := fresh[k]
			if i, ok := have[k]; ok {
				if d.memo != "" && out[i].Memo != d.memo {
					out[i].Memo = d.memo
					rc.Updated++
					changed = true
				} else {
					rc.Unchanged++
				}
				continue
			}
			c, err := d.text.NewCoding(d.source, d.start, d.end, d.code, coder, origin, d.time)
			if err != nil {
				return fmt.Errorf("internal error: coding %d-%d of %s: %v", d.start, d.end, d.source, err)
			}
			c.Memo = d.memo
			if msg := checkCoding(&c, utf8.RuneCountInString(c.Quote)); msg != "" {
				return fmt.Errorf("internal error: coding %d-%d of %s %s", d.start, d.end, d.source, msg)
			}
			if c.Memo != "" {
				r.rep.CodingMemos++
			}
			out = append(out, c)
			rc.Added++
			changed = true
		}
		r.rep.Coders = append(r.rep.Coders, rc)
		if changed {
			r.im.codings[coder] = out
		}
	}
	return nil
}

// reanchor moves a coder's codings on sources whose text changed onto the
// new text, in place, and reports whether there were any.
func (r *refiImporter) reanchor(coder string, cs []Coding) bool {
	groups := map[string][]int{}
	for i, c := range cs {
		if _, ok := r.changedText[c.Source]; ok {
			groups[c.Source] = append(groups[c.Source], i)
		}
	}
	for _, sid := range refiSortedKeys(groups) {
		idx := groups[sid]
		g := make([]Coding, len(idx))
		for k, i := range idx {
			g[k] = cs[i]
		}
		moved, orphaned := Reanchor(g, r.changedText[sid])
		for k, i := range idx {
			cs[i] = g[k]
		}
		if moved+orphaned > 0 {
			r.note("coder %s on source %s: %d codings moved, %d orphaned by the new text (see 'thematic status')", coder, sid, moved, orphaned)
		}
	}
	return len(groups) > 0
}

// refiToolSlug names the tool that wrote a file, for codings' origin: the
// first word of the origin attribute ("NVivo for Windows 12.6" -> nvivo).
func refiToolSlug(origin string) string {
	f := strings.Fields(origin)
	if len(f) == 0 {
		return "refi"
	}
	if s := corpus.Slug(f[0]); s != "" {
		return s
	}
	return "refi"
}

// stageCases merges the file's cases and their variables into cases.csv,
// keeping its columns, rows and values; new columns and rows go at the end.
func (r *refiImporter) stageCases() error {
	if len(r.caseOrder) == 0 {
		return nil
	}
	file := r.p.Path(corpus.CasesFile)
	var rows [][]string
	data, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err == nil && len(bytes.TrimSpace(data)) > 0 {
		text, err := corpus.Normalize(corpus.CasesFile, data)
		if err != nil {
			return err
		}
		cr := csv.NewReader(strings.NewReader(text))
		cr.FieldsPerRecord = -1
		if rows, err = cr.ReadAll(); err != nil {
			return errs.New(corpus.CasesFile, 0, 0, "%v", err)
		}
	}
	if len(rows) == 0 {
		rows = [][]string{{"case"}}
	}
	col := map[string]int{}
	for i := 1; i < len(rows[0]); i++ {
		col[strings.TrimSpace(rows[0][i])] = i
	}
	rowOf := map[string]int{}
	for i := 1; i < len(rows); i++ {
		for len(rows[i]) < len(rows[0]) {
			rows[i] = append(rows[i], "")
		}
		rowOf[strings.TrimSpace(rows[i][0])] = i
	}
	changed := false
	seen := map[string]bool{}
	for _, id := range r.caseOrder {
		if seen[id] {
			continue
		}
		seen[id] = true
		attrs := r.caseAttrs[id]
		ri, had := rowOf[id]
		if !had {
			row := make([]string, len(rows[0]))
			row[0] = id
			rows = append(rows, row)
			ri = len(rows) - 1
			rowOf[id] = ri
			changed = true
		}
		rowChanged := false
		for _, name := range refiSortedKeys(attrs) {
			ci, ok := col[name]
			if !ok {
				rows[0] = append(rows[0], name)
				ci = len(rows[0]) - 1
				col[name] = ci
				for i := 1; i < len(rows); i++ {
					rows[i] = append(rows[i], "")
				}
			}
			if strings.TrimSpace(rows[ri][ci]) != attrs[name] {
				rows[ri][ci] = attrs[name]
				rowChanged = true
			}
		}
		switch {
		case !had:
			r.rep.Cases.Added = append(r.rep.Cases.Added, id)
		case rowChanged:
			r.rep.Cases.Updated = append(r.rep.Cases.Updated, id)
		default:
			r.rep.Cases.Unchanged = append(r.rep.Cases.Unchanged, id)
		}
		changed = changed || rowChanged
	}
	if !changed {
		return nil
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		return err
	}
	if _, err := corpus.ParseCases(corpus.CasesFile, bytes.NewReader(buf.Bytes())); err != nil {
		return fmt.Errorf("internal error: the merged cases.csv does not read back: %v", err)
	}
	r.im.cases = buf.Bytes()
	return nil
}

// stageMemos turns the notes that are no code's or coding's memo into
// files in memos/ (NAME.md), and notes on selections without codings into
// memos quoting their text.
func (r *refiImporter) stageMemos() error {
	dir := r.p.Path(corpus.MemosDir)
	have := map[string]bool{}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && !strings.HasPrefix(n, ".") {
			have[n] = true
			names = append(names, n)
		}
	}
	known := r.known(RefiMemo, names)
	current := func(name string) (string, bool) {
		if s, ok := r.im.memos[name]; ok {
			return s, true
		}
		if !have[name] {
			return "", false
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", false
		}
		return string(data), true
	}
	put := func(name, guid, content string, matched bool) {
		old, exists := current(name)
		switch {
		case exists && old == content:
			r.rep.Memos.Unchanged = append(r.rep.Memos.Unchanged, name)
		case exists && matched:
			r.rep.Memos.Updated = append(r.rep.Memos.Updated, name)
			r.im.memos[name] = content
		default:
			r.rep.Memos.Added = append(r.rep.Memos.Added, name)
			r.im.memos[name] = content
		}
		if guid != "" {
			r.keep(RefiMemo, name, guid)
		}
	}
	// free finds a file name for content: BASE.md, or BASE-2.md... or the
	// file that already holds exactly this content.
	free := func(base, content string) string {
		name := base + ".md"
		for i := 2; ; i++ {
			old, exists := current(name)
			if !exists || old == content {
				return name
			}
			name = base + "-" + strconv.Itoa(i) + ".md"
		}
	}
	for _, n := range r.proj.Notes {
		if r.usedNotes[n.GUID] {
			continue
		}
		text, ok := r.noteText(n.GUID, r.at(n.Line))
		if !ok {
			continue
		}
		if strings.TrimSpace(text) == "" {
			r.skip(fmt.Sprintf("note %q", n.Name), "it is empty", r.at(n.Line), 1)
			continue
		}
		if name, ok := known[n.GUID]; ok {
			put(name, n.GUID, text, true)
			continue
		}
		put(free(refiMemoBase(n.Name, n.GUID), text), n.GUID, text, false)
	}
	if d := strings.TrimSpace(corpus.NormalizeString(r.proj.Description)); d != "" {
		put(free("Project description", d+"\n"), "", d+"\n", false)
	}
	for _, a := range r.annotations {
		var b strings.Builder
		fmt.Fprintf(&b, "Note on %s (source %s), characters %d-%d:\n\n", a.title, a.source, a.start, a.end)
		for _, l := range strings.Split(a.quote, "\n") {
			b.WriteString("> " + l + "\n")
		}
		b.WriteString("\n" + a.text + "\n")
		base := fmt.Sprintf("note-%s-%d-%d", a.source, a.start, a.end)
		put(free(base, b.String()), "", b.String(), false)
	}
	return nil
}

// refiMemoBase makes the file name (without .md) of a memo from a note's name:
// the name itself when it makes a safe file name on every system, else its
// slug, else "note-" and the start of the GUID.
func refiMemoBase(name, guid string) string {
	name = strings.Join(strings.Fields(name), " ")
	for _, ext := range []string{".md", ".txt", ".MD", ".TXT"} {
		name = strings.TrimSuffix(name, ext)
	}
	safe := name != "" && len(name) <= 100 && !strings.HasPrefix(name, ".") && !strings.HasSuffix(name, ".") &&
		!strings.ContainsAny(name, `/\:*?"<>|`) && strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) < 0
	if stem, _, _ := strings.Cut(strings.ToLower(name), "."); refiReservedName(strings.TrimSpace(stem)) {
		safe = false
	}
	if safe {
		return name
	}
	base := corpus.Slug(name)
	if len(base) > 60 {
		base = strings.TrimRight(base[:60], "-")
	}
	if base == "" {
		base = "note-" + guid[:8]
	}
	return base
}

// refiReservedName reports whether a file name stem is one Windows keeps
// for devices (con, nul, com1...).
func refiReservedName(stem string) bool {
	switch stem {
	case "con", "prn", "aux", "nul":
		return true
	}
	return len(stem) == 4 && (strings.HasPrefix(stem, "com") || strings.HasPrefix(stem, "lpt")) && stem[3] >= '0' && stem[3] <= '9'
}

// reportRest adds to the report what the import leaves out as a whole.
func (r *refiImporter) reportRest() {
	for _, o := range r.proj.Others {
		what := fmt.Sprintf("%s %q (%s, %s)", o.Element, o.Name, refiCount(o.Selections, "selection"), refiCount(o.Codings, "coding"))
		why := "thematic holds text only"
		switch o.Element {
		case "PDFSource":
			why = "thematic holds text only: areas of PDF pages are not text (the PDF's plain-text representation, when the file has one, is imported as a source)"
		case "PictureSource":
			why = "thematic holds text only: areas of pictures cannot be coded"
		case "AudioSource", "VideoSource":
			why = "thematic holds text only: time spans of audio and video cannot be coded (their transcripts, when the file has them, are imported as sources)"
		}
		r.skip(what, why, r.at(o.Line), 1)
	}
	if r.proj.Sets > 0 {
		r.skip("set", "thematic has no sets of codes or sources (use attributes or themes)", r.qde, r.proj.Sets)
	}
	if r.proj.Links > 0 {
		r.skip("link", "thematic has no links between codes, sources, selections or notes", r.qde, r.proj.Links)
	}
	if r.proj.Graphs > 0 {
		r.skip("graph", "thematic draws no graphs", r.qde, r.proj.Graphs)
	}
	sort.Slice(r.rep.Coders, func(i, j int) bool { return r.rep.Coders[i].Coder < r.rep.Coders[j].Coder })
}
