package codebook

import (
	"errors"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/thematic-qda/thematic/internal/errs"
	"go.yaml.in/yaml/v3"
)

// Load reads and parses the codebook at path. It returns the first problem
// in the file as an *errs.InputError; Parse gives them all.
func Load(path string) (*Codebook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errs.New(path, 0, 0, "cannot read the codebook: %v", pathErr(err))
	}
	cb, probs := Parse(path, data)
	if len(probs) > 0 {
		return nil, probs[0]
	}
	return cb, nil
}

// pathErr drops the path from an *fs.PathError, as the caller names the file.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Parse parses and checks a codebook read from file. It returns every
// problem found, each naming file, line and column, in file order; the
// codebook is returned even then, holding what could be read.
func Parse(file string, data []byte) (cb *Codebook, probs []*errs.InputError) {
	cb = &Codebook{File: file, byID: map[string]*Node{}}
	defer func() {
		// yaml.v3 has panicked on odd input in the past; never let that reach a user.
		if r := recover(); r != nil {
			cb = &Codebook{File: file, byID: map[string]*Node{}}
			probs = []*errs.InputError{errs.New(file, 1, 0, "cannot read the codebook: %v", r)}
		}
	}()
	if e := checkText(file, data); e != nil {
		return cb, []*errs.InputError{e}
	}
	doc, e := decodeYAML(file, data)
	if e != nil {
		return cb, []*errs.InputError{e}
	}
	cb, probs = parseDoc(file, doc)
	return cb, probs
}

// parseDoc builds and checks a codebook from its YAML document (nil for an
// empty file).
func parseDoc(file string, doc *yaml.Node) (*Codebook, []*errs.InputError) {
	cb := &Codebook{File: file, byID: map[string]*Node{}, doc: doc}
	p := &parser{file: file, cb: cb}
	if doc != nil && len(doc.Content) > 0 {
		p.top(doc.Content[0])
	}
	p.assignIDs()
	p.inherit()
	sort.SliceStable(p.probs, func(i, j int) bool {
		a, b := p.probs[i], p.probs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return cb, p.probs
}

type parser struct {
	file  string
	cb    *Codebook
	probs []*errs.InputError
	all   []*Node // every node, in file order
	idPos map[*Node]pos
}

func (p *parser) errorf(y *yaml.Node, format string, args ...any) {
	p.errorAt(pos{y.Line, y.Column}, format, args...)
}

func (p *parser) errorAt(at pos, format string, args ...any) {
	p.probs = append(p.probs, errs.New(p.file, max(at.line, 1), at.col, format, args...))
}

// Keys of the top mapping and of a node, with hints for likely mistakes.
var (
	topKeys   = []string{"name", "description", "themes"}
	topHints  = map[string]string{"codes": "codes sit under a theme: put them in a theme's codes: list", "subthemes": "sub-themes sit under a theme", "title": `did you mean "name"?`}
	nodeKeys  = []string{"id", "name", "definition", "when_to_use", "when_not_to_use", "examples", "colour", "color", "memo", "subthemes", "codes", "unit", "speakers", "kinds", "attrs", "rules"}
	nodeHints = map[string]string{
		"description": `did you mean "definition"?`, "title": `did you mean "name"?`, "label": `did you mean "name"?`,
		"children": `did you mean "codes"?`, "subcodes": `did you mean "codes"?`, "child_codes": `did you mean "codes"?`,
		"include": `did you mean "when_to_use"?`, "inclusion": `did you mean "when_to_use"?`, "inclusion_criteria": `did you mean "when_to_use"?`,
		"exclude": `did you mean "when_not_to_use"?`, "exclusion": `did you mean "when_not_to_use"?`, "exclusion_criteria": `did you mean "when_not_to_use"?`,
		"note": `did you mean "memo"?`, "notes": `did you mean "memo"?`, "comment": `did you mean "memo"?`,
		"role": `did you mean "speakers"?`, "roles": `did you mean "speakers"?`, "attributes": `did you mean "attrs"?`,
		"sources": `did you mean "kinds"?`, "source_kinds": `did you mean "kinds"?`,
		"themes":   "themes sit only at the top of the codebook; use subthemes: or codes: here",
		"keywords": "give keywords as a rule: rules: [{words: [...]}]",
	}
	nearKeys  = []string{"terms", "within", "ordered"}
	nearHints = map[string]string{"words": `did you mean "terms"?`, "distance": `did you mean "within"?`, "window": `did you mean "within"?`, "slop": `did you mean "within"?`, "in_order": `did you mean "ordered"?`, "order": `did you mean "ordered"?`}
	ruleKinds = []string{RuleWords, RulePhrase, RuleAll, RuleNear, RuleQuery, RuleRegex, RuleNot}
	ruleHints = map[string]string{"regexp": `did you mean "regex"?`, "pattern": `did you mean "regex"?`, "and": `did you mean "all"?`, "any": `did you mean "words"?`, "exclude": `did you mean "not"?`, "none": `did you mean "not"?`, "keywords": `did you mean "words"?`, "terms": `did you mean "words"?`}
	units     = []string{UnitMatch, UnitSentence, UnitParagraph, UnitTurn}
)

// pairs calls fn for each known key of mapping y, after reporting keys that
// are not scalars, repeated, merge keys (<<) or unknown. keys nil accepts any
// key.
func (p *parser) pairs(y *yaml.Node, where string, keys []string, hints map[string]string, fn func(k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(y.Content); i += 2 {
		k, v := y.Content[i], y.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "a key in %s must be a plain name, not %s", where, describe(k))
			continue
		}
		if k.Value == "<<" {
			p.errorf(k, "merge keys (<<) are not supported in the codebook; write the keys out")
			continue
		}
		if line, dup := seen[k.Value]; dup {
			p.errorf(k, "key %q is given twice in %s (first at line %d); keep one", k.Value, where, line)
			continue
		}
		seen[k.Value] = k.Line
		if keys != nil && !contains(keys, k.Value) {
			msg := "unknown key " + quote(k.Value) + " in " + where
			if h := hints[strings.ToLower(k.Value)]; h != "" {
				msg += "; " + h
			} else if contains(ruleKinds, k.Value) && contains(keys, "rules") {
				msg += "; " + quote(k.Value) + " is a rule: put it in the rules list (rules: [{" + k.Value + ": ...}])"
			} else if c := closest(k.Value, keys); c != "" {
				msg += "; did you mean " + quote(c) + "?"
			} else {
				msg += "; keys are " + strings.Join(keys, ", ")
			}
			p.errorf(k, "%s", msg)
			continue
		}
		fn(k, v)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// describe names the kind of a YAML node for messages.
func describe(y *yaml.Node) string {
	switch y.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias (*" + y.Value + ")"
	case yaml.ScalarNode:
		if y.Tag == "!!null" {
			return "nothing"
		}
		return "the text " + quote(y.Value)
	}
	return "something else"
}

// deref follows an alias one step (never further, so cycles cannot loop).
func deref(y *yaml.Node) *yaml.Node {
	if y.Kind == yaml.AliasNode && y.Alias != nil {
		return y.Alias
	}
	return y
}

func isNull(y *yaml.Node) bool { return y.Kind == yaml.ScalarNode && y.Tag == "!!null" }

// text reads a scalar as trimmed text; null is "".
func (p *parser) text(v *yaml.Node, what string) (string, bool) {
	t := deref(v)
	if t.Kind == yaml.ScalarNode {
		if isNull(t) {
			return "", true
		}
		return strings.TrimSpace(t.Value), true
	}
	p.errorf(v, "%s must be text, not %s", what, describe(t))
	return "", false
}

// list reads a list of text, or one text as a list of one; null is empty.
func (p *parser) list(v *yaml.Node, what string) ([]string, []pos, bool) {
	t := deref(v)
	switch t.Kind {
	case yaml.ScalarNode:
		if isNull(t) {
			return nil, nil, true
		}
		s := strings.TrimSpace(t.Value)
		if s == "" {
			p.errorf(v, "empty %s", what)
			return nil, nil, false
		}
		return []string{s}, []pos{{v.Line, v.Column}}, true
	case yaml.SequenceNode:
		var out []string
		var at []pos
		ok := true
		for _, it := range t.Content {
			s := deref(it)
			if s.Kind != yaml.ScalarNode || isNull(s) {
				p.errorf(it, "each item of %s must be text, not %s", what, describe(s))
				ok = false
				continue
			}
			v := strings.TrimSpace(s.Value)
			if v == "" {
				p.errorf(it, "empty item in %s", what)
				ok = false
				continue
			}
			out = append(out, v)
			at = append(at, pos{it.Line, it.Column})
		}
		return out, at, ok
	}
	p.errorf(v, "%s must be a list of text, not %s", what, describe(t))
	return nil, nil, false
}

func (p *parser) top(y *yaml.Node) {
	if isNull(y) {
		return
	}
	if y.Kind != yaml.MappingNode {
		p.errorf(y, "a codebook is a mapping with themes: (and optionally name: and description:), not %s", describe(y))
		return
	}
	p.pairs(y, "the codebook", topKeys, topHints, func(k, v *yaml.Node) {
		switch k.Value {
		case "name":
			p.cb.Name, _ = p.text(v, "name")
		case "description":
			p.cb.Description, _ = p.text(v, "description")
		case "themes":
			p.cb.Themes = p.nodes(v, LevelTheme, nil)
			p.uniqueNames(p.cb.Themes, "at the top of the codebook")
		}
	})
}

// levelWord names a node's level for messages.
func levelWord(level string, parent *Node) string {
	switch {
	case level == LevelSubtheme:
		return "sub-theme"
	case level == LevelCode && parent != nil && parent.Level == LevelCode:
		return "child code"
	}
	return level
}

// nodes reads a list of nodes of one level.
func (p *parser) nodes(v *yaml.Node, level string, parent *Node) []*Node {
	word := levelWord(level, parent)
	switch {
	case v.Kind == yaml.AliasNode:
		p.errorf(v, "aliases (*%s) are not supported for themes and codes; write the %ss out", v.Value, word)
		return nil
	case isNull(v):
		return nil
	case v.Kind == yaml.MappingNode:
		p.errorf(v, "expected a list of %ss, each item starting with \"- \"; found a mapping (add \"- \" before its first key)", word)
		return nil
	case v.Kind != yaml.SequenceNode:
		p.errorf(v, "expected a list of %ss, each item starting with \"- \"; found %s", word, describe(v))
		return nil
	}
	var out []*Node
	for _, it := range v.Content {
		if n := p.node(it, level, parent); n != nil {
			out = append(out, n)
		}
	}
	return out
}

// uniqueNames reports siblings whose names differ only in case or not at all.
func (p *parser) uniqueNames(ns []*Node, where string) {
	seen := map[string]*Node{}
	for _, n := range ns {
		if n.Name == "" {
			continue
		}
		key := strings.ToLower(n.Name)
		if first := seen[key]; first != nil {
			p.errorAt(n.namePos, "duplicate name %q %s (first at line %d); names under one parent must differ", n.Name, where, first.namePos.line)
			continue
		}
		seen[key] = n
	}
}

func (p *parser) node(y *yaml.Node, level string, parent *Node) *Node {
	word := levelWord(level, parent)
	switch {
	case y.Kind == yaml.AliasNode:
		p.errorf(y, "aliases (*%s) are not supported for themes and codes; write the %s out", y.Value, word)
		return nil
	case y.Kind == yaml.ScalarNode && !isNull(y):
		p.errorf(y, "a %s is a mapping with at least a name; write \"- name: %s\"", word, y.Value)
		return nil
	case y.Kind != yaml.MappingNode:
		p.errorf(y, "a %s is a mapping with at least a name (- name: ...), not %s", word, describe(y))
		return nil
	}
	n := &Node{Level: level, Parent: parent, Line: y.Line, Col: y.Column, y: y}
	p.all = append(p.all, n)
	childCode := level == LevelCode && parent != nil && parent.Level == LevelCode
	var subs, codes []*Node
	hasName, colourKey := false, ""
	p.pairs(y, "a "+word, nodeKeys, nodeHints, func(k, v *yaml.Node) {
		switch k.Value {
		case "id":
			s, ok := p.text(v, "id")
			switch {
			case !ok:
			case s == "":
				p.errorf(v, "empty id; remove the key to have one made from the name")
			case !idPattern.MatchString(s):
				p.errorf(v, "id %q may hold only letters, digits, '.', '_' and '-', and must start with a letter or digit", s)
			default:
				n.ID, n.idGiven = s, true
				if p.idPos == nil {
					p.idPos = map[*Node]pos{}
				}
				p.idPos[n] = pos{v.Line, v.Column}
			}
		case "name":
			hasName = true
			n.namePos = pos{v.Line, v.Column}
			if s, ok := p.text(v, "name"); ok {
				if s == "" {
					p.errorf(v, "empty name; every %s needs one", word)
				}
				n.Name = s
			}
		case "definition":
			n.Definition, _ = p.text(v, "definition")
		case "when_to_use":
			n.WhenToUse, _ = p.text(v, "when_to_use")
		case "when_not_to_use":
			n.WhenNotToUse, _ = p.text(v, "when_not_to_use")
		case "memo":
			n.Memo, _ = p.text(v, "memo")
		case "examples":
			n.Examples, _, _ = p.list(v, "examples")
		case "colour", "color":
			if colourKey != "" {
				p.errorf(k, "both %s and %s are given; keep one", colourKey, k.Value)
				return
			}
			colourKey = k.Value
			p.colour(n, k, v)
		case "unit":
			s, ok := p.text(v, "unit")
			if !ok {
				return
			}
			u := strings.ToLower(s)
			if !contains(units, u) {
				msg := "unit %q is not one of match, sentence, paragraph, turn"
				if c := closest(s, units); c != "" {
					msg += "; did you mean " + quote(c) + "?"
				}
				p.errorf(v, msg, s)
				return
			}
			n.own.unit = u
		case "speakers":
			ss, at, ok := p.list(v, "speakers")
			if ok && len(ss) == 0 {
				p.errorf(v, "empty speakers list; remove the key to include every speaker")
				return
			}
			n.own.speakers, n.own.speakerPos, n.own.hasSpeakers = ss, at, ok
		case "kinds":
			p.kinds(n, v)
		case "attrs":
			p.attrs(n, v)
		case "rules":
			n.Rules = p.rules(v)
		case "subthemes":
			if level != LevelTheme {
				p.errorf(k, "subthemes are allowed only in a theme; a %s holds codes:", word)
				return
			}
			subs = p.nodes(v, LevelSubtheme, n)
		case "codes":
			if childCode {
				p.errorf(k, "a child code cannot hold codes: codes nest only one level below a code")
				return
			}
			codes = p.nodes(v, LevelCode, n)
		}
	})
	if !hasName {
		p.errorf(y, "missing name: every %s needs one", word)
	}
	n.Children = append(subs, codes...)
	p.uniqueNames(n.Children, "in "+word+" "+quote(n.Name))
	return n
}

func (p *parser) colour(n *Node, k, v *yaml.Node) {
	if isNull(v) {
		// colour: #4E79A7 without quotes is a key with an empty value and a comment.
		c := strings.TrimSpace(k.LineComment + v.LineComment)
		if strings.HasPrefix(c, "#") {
			if _, ok := parseColour(strings.Fields(c)[0]); ok {
				p.errorf(v, "%s value %s is read as a comment because it starts with #; quote it: %s: \"%s\"", k.Value, strings.Fields(c)[0], k.Value, strings.Fields(c)[0])
			}
		}
		return
	}
	s, ok := p.text(v, k.Value)
	if !ok || s == "" {
		return
	}
	c, ok := parseColour(s)
	if !ok {
		p.errorf(v, "%s %q is not a colour; write six hex digits in quotes, such as \"#4E79A7\"", k.Value, s)
		return
	}
	n.Colour = c
}

// parseColour accepts #RGB or #RRGGBB (the # optional) and returns #RRGGBB in
// upper case.
func parseColour(s string) (string, bool) {
	h := strings.TrimPrefix(s, "#")
	if len(h) != 3 && len(h) != 6 {
		return "", false
	}
	for _, c := range h {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", false
		}
	}
	if len(h) == 3 {
		h = string([]byte{h[0], h[0], h[1], h[1], h[2], h[2]})
	}
	return "#" + strings.ToUpper(h), true
}

func (p *parser) kinds(n *Node, v *yaml.Node) {
	ks, at, ok := p.list(v, "kinds")
	if !ok {
		return
	}
	if len(ks) == 0 {
		p.errorf(v, "empty kinds list; remove the key to include every kind of source")
		return
	}
	for i, k := range ks {
		lk := strings.ToLower(k)
		if contains(sourceKinds, lk) {
			ks[i] = lk
			continue
		}
		msg := "unknown source kind %q; kinds are " + strings.Join(sourceKinds, ", ")
		if c := closest(k, sourceKinds); c != "" {
			msg += "; did you mean " + quote(c) + "?"
		}
		p.errorAt(at[i], msg, k)
		ok = false
	}
	if ok {
		n.own.kinds, n.own.hasKinds = ks, true
	}
}

func (p *parser) attrs(n *Node, v *yaml.Node) {
	t := deref(v)
	if isNull(t) {
		return
	}
	if t.Kind != yaml.MappingNode {
		p.errorf(v, "attrs must be a mapping of attribute names to values, such as attrs: {wave: [\"1\", \"2\"]}; found %s", describe(t))
		return
	}
	p.pairs(t, "attrs", nil, nil, func(k, val *yaml.Node) {
		name := strings.TrimSpace(k.Value)
		if name == "" {
			p.errorf(k, "empty attribute name in attrs")
			return
		}
		vals, _, ok := p.list(val, "attribute "+quote(name))
		if !ok {
			return
		}
		if len(vals) == 0 {
			p.errorf(val, "attribute %q has no values; give the values to include, or remove it", name)
			return
		}
		if n.own.attrs == nil {
			n.own.attrs = map[string][]string{}
		}
		n.own.attrs[name] = vals
	})
}

// assignIDs registers the ids written in the file, reports duplicates and
// then makes ids for the other nodes, in file order.
func (p *parser) assignIDs() {
	taken := p.cb.byID
	for _, n := range p.all {
		if !n.idGiven {
			continue
		}
		if first := taken[n.ID]; first != nil {
			p.errorAt(p.idPos[n], "duplicate id %q (first at line %d); ids must be unique in the codebook", n.ID, p.idPos[first].line)
			n.idGiven = false // give it a made id so the rest can still be checked
			continue
		}
		taken[n.ID] = n
	}
	for _, n := range p.all {
		if n.idGiven {
			continue
		}
		base := slug(n.Name)
		if base == "" {
			base = n.Level
		}
		n.ID = uniqueID(base, func(id string) bool { return taken[id] != nil })
		taken[n.ID] = n
	}
}

// inherit fills each node's scope from its own values and its parent's.
func (p *parser) inherit() {
	for _, n := range p.all { // parents come before children
		var up *Node
		if n.Parent != nil {
			up = n.Parent
		}
		n.Unit = n.own.unit
		n.Speakers, n.Kinds = n.own.speakers, n.own.kinds
		if up != nil {
			if n.Unit == "" {
				n.Unit = up.Unit
			}
			if !n.own.hasSpeakers {
				n.Speakers = up.Speakers
			}
			if !n.own.hasKinds {
				n.Kinds = up.Kinds
			}
		}
		if n.Unit == "" {
			n.Unit = DefaultUnit
		}
		if len(n.own.attrs) > 0 || (up != nil && len(up.Attrs) > 0) {
			n.Attrs = map[string][]string{}
			if up != nil {
				for k, v := range up.Attrs {
					n.Attrs[k] = v
				}
			}
			for k, v := range n.own.attrs {
				n.Attrs[k] = v
			}
		}
	}
}
