package codebook

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/thematic-qda/thematic/internal/errs"
	"github.com/thematic-qda/thematic/internal/fsx"
	"go.yaml.in/yaml/v3"
)

// UncategorisedName is the theme that AddCode puts codes under when no
// parent is given. A theme named "Uncategorized" is used as well.
const UncategorisedName = "Uncategorised"

// Editor makes changes to a codebook file that keep the rest of the file as
// the researcher wrote it: comments, blank lines, order, quoting and
// indentation. Each change is applied to the text, parsed and checked
// against the codebook expected; a change that fails leaves the Editor as it
// was. Nothing is written until Save.
//
// An Editor is not safe for use by several goroutines at once; callers
// should hold the project lock from Edit to Save.
type Editor struct {
	path    string
	perm    fs.FileMode
	orig    []byte // the file when read, to notice changes made meanwhile
	exists  bool
	bom     bool
	crlf    bool
	finalNL bool
	lines   []string // without line ends
	cb      *Codebook
	probs   []*errs.InputError // problems of cb
	next    map[*yaml.Node]int // 1-based line of the node after each node's subtree; 0: none
	changed bool
}

// Edit opens the codebook at path for editing. A missing file is an empty
// codebook, created on Save. A codebook with problems is refused with the
// first of them: fix it by hand first.
func Edit(path string) (*Editor, error) {
	data, err := os.ReadFile(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, errs.New(path, 0, 0, "cannot read the codebook: %v", pathErr(err))
	}
	e, err := newEditor(path, data, exists)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil {
		e.perm = fi.Mode().Perm()
	}
	return e, nil
}

// newEditor starts editing data, the content of path (exists: whether the
// file is there).
func newEditor(path string, data []byte, exists bool) (*Editor, error) {
	e := &Editor{path: path, perm: 0o644, finalNL: true, exists: exists}
	if exists {
		e.orig = data
	}
	cb, probs := Parse(path, data)
	if len(probs) > 0 {
		return nil, probs[0]
	}
	if err := e.load(data); err != nil {
		return nil, err
	}
	if e.bom || e.crlf {
		return e, e.reparse() // positions are the same, but parse what is edited
	}
	e.setCB(cb, nil)
	return e, nil
}

// load splits the file into lines, remembering its byte order mark, line
// ends and final newline so that Bytes gives them back.
func (e *Editor) load(data []byte) error {
	s := string(data)
	if strings.HasPrefix(s, "\uFEFF") {
		e.bom, s = true, s[len("\uFEFF"):]
	}
	if strings.Contains(s, "\r\n") {
		e.crlf, s = true, strings.ReplaceAll(s, "\r\n", "\n")
	}
	if i := strings.IndexAny(s, "\r\u0085\u2028\u2029"); i >= 0 {
		l, c := lineCol([]byte(s), i)
		r := []rune(s[i:])[0]
		return errs.New(e.path, l, c, "unusual line break %U; replace it with an ordinary line break so the codebook can be edited", r)
	}
	e.finalNL = s == "" || strings.HasSuffix(s, "\n")
	e.lines = nil
	if s != "" {
		e.lines = strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	}
	return nil
}

// text is the current text without byte order mark, with LF line ends.
func (e *Editor) text() string {
	if len(e.lines) == 0 {
		return ""
	}
	s := strings.Join(e.lines, "\n")
	if e.finalNL {
		s += "\n"
	}
	return s
}

// Bytes returns the codebook file as it would be saved.
func (e *Editor) Bytes() []byte {
	s := e.text()
	if e.crlf {
		s = strings.ReplaceAll(s, "\n", "\r\n")
	}
	if e.bom {
		s = "\uFEFF" + s
	}
	return []byte(s)
}

// Codebook returns the codebook as edited so far.
func (e *Editor) Codebook() *Codebook { return e.cb }

// Save writes the edited codebook atomically, if anything changed. It
// refuses when the file changed on disk after Edit read it.
func (e *Editor) Save() error {
	if !e.changed {
		return nil
	}
	cur, err := os.ReadFile(e.path)
	switch {
	case err == nil && (!e.exists || !bytes.Equal(cur, e.orig)):
		return errs.New(e.path, 0, 0, "the codebook changed on disk while it was being edited; nothing was saved: run the command again")
	case err != nil && errors.Is(err, fs.ErrNotExist) && e.exists:
		return errs.New(e.path, 0, 0, "the codebook was removed while it was being edited; nothing was saved")
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return errs.New(e.path, 0, 0, "cannot read the codebook: %v", pathErr(err))
	}
	out := e.Bytes()
	if err := fsx.WriteFile(e.path, out, e.perm); err != nil {
		return err
	}
	e.orig, e.exists, e.changed = out, true, false
	return nil
}

// reparse parses the current text and indexes its YAML tree.
func (e *Editor) reparse() error {
	doc, perr := decodeYAML(e.path, []byte(e.text()))
	if perr != nil {
		return fmt.Errorf("internal error: an edit made the YAML unreadable (%v)", perr)
	}
	e.setCB(parseDoc(e.path, doc))
	return nil
}

// setCB makes cb, with its problems, the current codebook and indexes its
// YAML tree.
func (e *Editor) setCB(cb *Codebook, probs []*errs.InputError) {
	e.cb, e.probs = cb, probs
	e.next = map[*yaml.Node]int{}
	doc := cb.doc
	if doc == nil {
		return
	}
	// The node after a node's subtree is its next sibling, or for a last
	// child whatever follows its parent.
	var walk func(y *yaml.Node, after int)
	walk = func(y *yaml.Node, after int) {
		e.next[y] = after
		for i, c := range y.Content {
			a := after
			if i+1 < len(y.Content) {
				a = y.Content[i+1].Line
			}
			walk(c, a)
		}
	}
	walk(doc, 0)
}

// node finds a node by id for an edit, suggesting a close id when none has it.
func (e *Editor) node(id string) (*Node, error) {
	if n := e.cb.Node(id); n != nil {
		return n, nil
	}
	msg := "no theme or code has the id " + quote(id)
	var ids []string
	for _, n := range e.cb.Codes() {
		ids = append(ids, n.ID)
	}
	if c := closest(id, ids); c != "" {
		msg += "; did you mean " + quote(c) + "?"
	}
	return nil, errs.New(e.path, 0, 0, "%s", msg)
}

// cleanName checks a name given for a node.
func (e *Editor) cleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", errs.New(e.path, 0, 0, "a name is needed")
	case strings.ContainsAny(name, "\n\r"):
		return "", errs.New(e.path, 0, 0, "a name is one line; put longer text in the definition")
	}
	return name, nil
}

// newID checks an id given for a new or renamed node, or makes one from
// the name when id is "".
func (e *Editor) newID(id, name, level string) (string, error) {
	if id == "" {
		base := slug(name)
		if base == "" {
			base = level
		}
		return uniqueID(base, func(s string) bool { return e.cb.Node(s) != nil }), nil
	}
	if !idPattern.MatchString(id) {
		return "", errs.New(e.path, 0, 0, "id %q may hold only letters, digits, '.', '_' and '-', and must start with a letter or digit", id)
	}
	if n := e.cb.Node(id); n != nil {
		return "", errs.New(e.path, 0, 0, "the id %q is taken by %s %q", id, levelWord(n.Level, n.Parent), n.Name)
	}
	return id, nil
}

// checkName refuses a name already used under parent (nil: the top),
// leaving out node self.
func (e *Editor) checkName(parent *Node, name string, self *Node) error {
	sibs := e.cb.Themes
	where := "among the themes"
	if parent != nil {
		sibs = parent.Children
		where = "under " + quote(parent.Name)
	}
	for _, s := range sibs {
		if s != self && strings.EqualFold(s.Name, name) {
			return errs.New(e.path, 0, 0, "there is already a %s named %q %s (id %q)", levelWord(s.Level, s.Parent), s.Name, where, s.ID)
		}
	}
	return nil
}

// AddTheme adds a theme at the end of the codebook and returns its id, made
// from the name when id is "".
func (e *Editor) AddTheme(name, id string) (string, error) {
	name, err := e.cleanName(name)
	if err != nil {
		return "", err
	}
	if err := e.checkName(nil, name, nil); err != nil {
		return "", err
	}
	if id, err = e.newID(id, name, LevelTheme); err != nil {
		return "", err
	}
	item, err := e.renderItem(mapOf(key("id"), str(id), key("name"), str(name)))
	if err != nil {
		return "", err
	}
	x := expect{added: map[string]placed{id: {"", name}}}
	err = e.transact("adding theme "+quote(name), x, func() error {
		return e.appendItems("", "themes", [][]string{item})
	})
	return id, err
}

// AddCode adds a code with a name and optional definition at the end of the
// codes of the node parentID and returns its id, made from the name when id
// is "". With parentID "" the code goes under the theme "Uncategorised",
// which is made when there is none.
func (e *Editor) AddCode(parentID, name, id, definition string) (string, error) {
	name, err := e.cleanName(name)
	if err != nil {
		return "", err
	}
	if _, err = e.newID(id, name, LevelCode); err != nil {
		return "", err // refuse a bad id before making a theme for it
	}
	var parent *Node
	if parentID == "" {
		for _, t := range e.cb.Themes {
			if strings.EqualFold(t.Name, UncategorisedName) || strings.EqualFold(t.Name, "Uncategorized") {
				parent = t
				break
			}
		}
		if parent == nil {
			tid, err := e.AddTheme(UncategorisedName, "")
			if err != nil {
				return "", err
			}
			parent = e.cb.Node(tid)
		}
	} else if parent, err = e.node(parentID); err != nil {
		return "", err
	}
	if parent.Level == LevelCode && parent.Parent != nil && parent.Parent.Level == LevelCode {
		return "", errs.New(e.path, 0, 0, "%q is a child code, and codes nest only one level below a code; add the code under %q instead", parent.ID, parent.Parent.ID)
	}
	if err := e.checkName(parent, name, nil); err != nil {
		return "", err
	}
	if id, err = e.newID(id, name, LevelCode); err != nil {
		return "", err
	}
	kv := []*yaml.Node{key("id"), str(id), key("name"), str(name)}
	if d := strings.TrimSpace(definition); d != "" {
		kv = append(kv, key("definition"), str(d))
	}
	item, err := e.renderItem(mapOf(kv...))
	if err != nil {
		return "", err
	}
	pid := parent.ID
	x := expect{added: map[string]placed{id: {pid, name}}}
	err = e.transact("adding code "+quote(name), x, func() error {
		return e.appendItems(pid, "codes", [][]string{item})
	})
	return id, err
}

// hasSubthemes reports whether n holds sub-themes.
func hasSubthemes(n *Node) bool {
	for _, c := range n.Children {
		if c.Level == LevelSubtheme {
			return true
		}
	}
	return false
}

// height is the number of levels below n.
func height(n *Node) int {
	h := 0
	for _, c := range n.Children {
		h = max(h, 1+height(c))
	}
	return h
}

// placement says under which key n goes when moved under np (nil: the top)
// and refuses moves that would nest codes too deep.
func (e *Editor) placement(n, np *Node) (string, error) {
	switch {
	case np == nil:
		return "themes", nil
	case np.Level == LevelTheme:
		if n.Level == LevelCode {
			return "codes", nil
		}
		if hasSubthemes(n) {
			return "", errs.New(e.path, 0, 0, "%q has sub-themes, so it cannot become a sub-theme of %q; move its sub-themes first", n.ID, np.ID)
		}
		return "subthemes", nil
	case np.Level == LevelSubtheme, np.Level == LevelCode && np.Parent != nil && np.Parent.Level != LevelCode:
		room := 0 // levels a code may have below it here
		if np.Level == LevelSubtheme {
			room = 1
		}
		if hasSubthemes(n) || height(n) > room {
			return "", errs.New(e.path, 0, 0, "%q holds too many levels to go under %q: codes nest only one level below a code", n.ID, np.ID)
		}
		return "codes", nil
	}
	return "", errs.New(e.path, 0, 0, "%q is a child code, and codes nest only one level below a code, so nothing can go under it", np.ID)
}

// parentByID finds a new parent: nil for "".
func (e *Editor) parentByID(id string) (*Node, error) {
	if id == "" {
		return nil, nil
	}
	return e.node(id)
}

// Move moves the node with id, with everything below it, to the end of
// the sub-themes or codes of newParentID, or to the end of the themes when
// newParentID is "". A theme or sub-theme moved under a theme becomes a
// sub-theme; anything moved under a sub-theme or code becomes a code. Ids do
// not change.
func (e *Editor) Move(id, newParentID string) error {
	n, err := e.node(id)
	if err != nil {
		return err
	}
	np, err := e.parentByID(newParentID)
	if err != nil {
		return err
	}
	if np != nil && np.isUnder(n) {
		return errs.New(e.path, 0, 0, "cannot move %q under itself or under %q, which lies below it", n.ID, np.ID)
	}
	if n.Parent == np {
		return nil
	}
	k, err := e.placement(n, np)
	if err != nil {
		return err
	}
	if err := e.checkName(np, n.Name, nil); err != nil {
		return err
	}
	pid := ""
	if np != nil {
		pid = np.ID
	}
	x := expect{moved: map[string]string{n.ID: pid}}
	return e.transact("moving "+quote(n.ID), x, func() error {
		if err := e.pin(); err != nil {
			return err
		}
		block, err := e.cutItem(id)
		if err != nil {
			return err
		}
		return e.appendItems(pid, k, [][]string{block})
	})
}

// Rename gives the node with id a new name, a new id, or both ("" keeps
// either), and returns the ids that changed (old -> new) so the caller can
// carry codings along.
func (e *Editor) Rename(id, newName, newID string) (map[string]string, error) {
	n, err := e.node(id)
	if err != nil {
		return nil, err
	}
	newName = strings.TrimSpace(newName)
	if newName != "" {
		if newName, err = e.cleanName(newName); err != nil {
			return nil, err
		}
		if err := e.checkName(n.Parent, newName, n); err != nil {
			return nil, err
		}
	}
	if newID == n.ID {
		newID = ""
	}
	if newID != "" {
		if newID, err = e.newID(newID, "", n.Level); err != nil {
			return nil, err
		}
	}
	if newName == n.Name && newID == "" || newName == "" && newID == "" {
		return map[string]string{}, nil
	}
	changes := map[string]string{}
	x := expect{changed: map[string]bool{}}
	cur := n.ID
	if newID != "" {
		changes[n.ID] = newID
		x.renamed = changes
		cur = newID
	}
	x.changed[cur] = newName != "" && newName != n.Name
	want := newName
	if want == "" {
		want = n.Name
	}
	x.extra = func(cb *Codebook) error {
		if got := cb.Node(cur); got == nil || got.Name != want {
			return fmt.Errorf("%q is not named %q", cur, want)
		}
		return nil
	}
	err = e.transact("renaming "+quote(n.ID), x, func() error {
		var keep []string
		if newName != "" && newName != n.Name {
			keep = append(keep, id) // a made id would follow the new name
		}
		if err := e.pin(keep...); err != nil {
			return err
		}
		if newID != "" {
			if err := e.setValue(id, "id", str(newID), true); err != nil {
				return err
			}
		}
		if newName != "" && newName != n.Name {
			return e.setValue(cur, "name", str(newName), false)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return changes, nil
}

// Merge merges the node fromID into intoID and removes it: its sub-themes
// and codes move under intoID, its rules and examples are added to
// intoID's, and its definition and memo are kept in intoID's memo. It
// returns the ids that changed (fromID -> intoID) so the caller can carry
// codings along.
func (e *Editor) Merge(fromID, intoID string) (map[string]string, error) {
	from, err := e.node(fromID)
	if err != nil {
		return nil, err
	}
	into, err := e.node(intoID)
	if err != nil {
		return nil, err
	}
	if from == into {
		return nil, errs.New(e.path, 0, 0, "cannot merge %q into itself", fromID)
	}
	if into.isUnder(from) {
		return nil, errs.New(e.path, 0, 0, "cannot merge %q into %q, which lies below it; move %q out first", fromID, intoID, intoID)
	}
	type move struct{ id, key string }
	var moves []move
	for _, c := range from.Children {
		k, err := e.placement(c, into)
		if err != nil {
			return nil, err
		}
		if err := e.checkName(into, c.Name, from); err != nil {
			return nil, err
		}
		moves = append(moves, move{c.ID, k})
	}
	examples := slices.Clone(into.Examples)
	for _, ex := range from.Examples {
		if !slices.Contains(examples, ex) {
			examples = append(examples, ex)
		}
	}
	memo := into.Memo
	if from.Definition != "" || from.Memo != "" {
		note := "Merged from " + quote(from.Name) + " (" + from.ID + ")."
		if from.Definition != "" {
			note += "\nDefinition: " + from.Definition
		}
		if from.Memo != "" {
			note += "\nMemo: " + from.Memo
		}
		if memo != "" {
			memo += "\n\n"
		}
		memo += note
	}
	var wantRules []string
	for _, r := range into.Rules {
		wantRules = append(wantRules, r.String())
	}
	for _, r := range from.Rules {
		wantRules = append(wantRules, r.String())
	}
	x := expect{
		renamed: map[string]string{},
		removed: map[string]bool{from.ID: true},
		moved:   map[string]string{},
		changed: map[string]bool{into.ID: true},
	}
	for _, c := range from.Children {
		x.moved[c.ID] = into.ID
	}
	x.extra = func(cb *Codebook) error {
		n := cb.Node(into.ID)
		var got []string
		for _, r := range n.Rules {
			got = append(got, r.String())
		}
		if !slices.Equal(got, wantRules) || !slices.Equal(n.Examples, examples) || n.Memo != memo {
			return fmt.Errorf("%q did not take the rules, examples and memo of %q", into.ID, from.ID)
		}
		return nil
	}
	err = e.transact("merging "+quote(fromID)+" into "+quote(intoID), x, func() error {
		if err := e.pin(); err != nil {
			return err
		}
		for _, m := range moves {
			block, err := e.cutItem(m.id)
			if err != nil {
				return err
			}
			if err := e.appendItems(intoID, m.key, [][]string{block}); err != nil {
				return err
			}
		}
		if len(from.Rules) > 0 {
			if err := e.ensureBlock(fromID); err != nil {
				return err
			}
			_, rules := lookup(e.cb.Node(fromID).y, "rules")
			var items [][]string
			for _, it := range rules.Content {
				s, err := e.itemSpan(it)
				if err != nil {
					return err
				}
				items = append(items, shift(e.lines[s.head:s.end+1], -s.col))
			}
			if err := e.appendItems(intoID, "rules", items); err != nil {
				return err
			}
		}
		if !slices.Equal(examples, into.Examples) {
			seq := &yaml.Node{Kind: yaml.SequenceNode}
			if _, old := lookup(e.cb.Node(intoID).y, "examples"); isFlow(old) {
				seq.Style = yaml.FlowStyle
			}
			for _, ex := range examples {
				seq.Content = append(seq.Content, str(ex))
			}
			if err := e.setValue(intoID, "examples", seq, false); err != nil {
				return err
			}
		}
		if memo != into.Memo {
			if err := e.setValue(intoID, "memo", str(memo), false); err != nil {
				return err
			}
		}
		_, err := e.cutItem(fromID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return map[string]string{fromID: intoID}, nil
}

// AddRules adds words to the rules of the node with id: single words join
// one new words rule, and text of several words becomes a phrase rule each.
// Words and phrases the node's rules already hold are skipped.
func (e *Editor) AddRules(id string, words []string) error {
	n, err := e.node(id)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, r := range n.Rules {
		switch r.Kind {
		case RuleWords:
			for _, w := range r.Words {
				have[strings.ToLower(w)] = true
			}
		case RulePhrase:
			have[strings.ToLower(r.Phrase)] = true
		}
	}
	var single, phrases []string
	for _, w := range words {
		w = strings.Join(strings.Fields(w), " ")
		if w == "" || have[strings.ToLower(w)] {
			continue
		}
		have[strings.ToLower(w)] = true
		if hasSpace(w) {
			phrases = append(phrases, w)
			continue
		}
		if strings.Trim(w, "*?") == "" {
			return errs.New(e.path, 0, 0, "%q would match every word; give some letters with the wildcard", w)
		}
		single = append(single, w)
	}
	if len(single) == 0 && len(phrases) == 0 {
		return nil
	}
	var items [][]string
	if len(single) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, w := range single {
			seq.Content = append(seq.Content, str(w))
		}
		it, err := e.renderItem(mapOf(key(RuleWords), seq))
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	for _, p := range phrases {
		it, err := e.renderItem(mapOf(key(RulePhrase), str(p)))
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	before := len(n.Rules)
	want := before + len(items)
	x := expect{changed: map[string]bool{id: true}}
	x.extra = func(cb *Codebook) error {
		if got := len(cb.Node(id).Rules); got != want {
			return fmt.Errorf("%q has %d rules, not %d", id, got, want)
		}
		return nil
	}
	return e.transact("adding rules to "+quote(id), x, func() error {
		return e.appendItems(id, "rules", items)
	})
}
