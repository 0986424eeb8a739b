// Package codebook reads, checks and edits a study's codebook.yaml: the
// themes, sub-themes and codes of a thematic analysis, with their
// definitions, scope and deductive rules.
//
// # The file
//
// A codebook has an optional name and description and a list of themes.
// Themes hold sub-themes (key subthemes) and codes (key codes); sub-themes
// hold codes; a code may hold one more level of child codes. Every node has a
// name and may have an id, definition, when_to_use, when_not_to_use,
// examples, colour (or color), memo, a scope (unit, speakers, kinds, attrs)
// and rules.
//
// Ids are stable keys for codings. A node without an id gets the slug of its
// name (lowercase a-z, 0-9 and '-'); when that is taken, "-2", "-3" and so on
// are added in file order. Ids written in the file are never changed by the
// package; the Editor writes an id into the file before any edit that could
// change a generated one.
//
// Any node, themes and sub-themes included, can hold codings: a researcher may
// code a passage to a theme as a whole. Rules and scope are allowed at every
// level too. Scope is inherited: a node without unit, speakers or kinds takes
// its parent's, and attrs are merged key by key with the parent's (the node's
// own values win). The unit defaults to "sentence".
//
// # Rules
//
// A node's rules code a unit when any rule matches it, unless a not rule
// matches it too. Rule kinds: words (any of the words), phrase (consecutive
// words), all (every word within the unit), near (terms within N words,
// N defaulting to DefaultWithin), query (a bleve query string), regex (a Go
// regular expression, case-insensitive unless it says (?-i)) and not (a veto
// holding one rule). Words are analysed like the index (stemming, case);
// '*' and '?' in a word are wildcards. The analysis package applies rules;
// this package only reads and checks them.
//
// # Problems
//
// Parse reports every problem at once as an *errs.InputError naming the
// file, line and column, so a researcher can fix a codebook in one pass.
//
// # Editing
//
// The Editor changes a codebook file for commands such as "code add": it
// locates nodes with the yaml.v3 node tree and splices the text of the file,
// so the researcher's comments, blank lines, quoting and indentation outside
// the edited lines stay byte for byte as they were. Re-encoding the whole
// tree with yaml.v3 would drop blank lines and re-indent the file. Every edit
// is checked by parsing the result and comparing it with the expected
// codebook before it is accepted.
package codebook

import (
	"regexp"
	"strings"

	"github.com/thematic-qda/thematic/internal/errs"
	"go.yaml.in/yaml/v3"
)

// Levels of a node in the codebook tree.
const (
	LevelTheme    = "theme"
	LevelSubtheme = "subtheme"
	LevelCode     = "code" // a code, directly under a theme or sub-theme, or a child code
)

// Units a rule match codes.
const (
	UnitMatch     = "match"     // just the matched words
	UnitSentence  = "sentence"  // the sentence holding the match
	UnitParagraph = "paragraph" // the paragraph holding the match
	UnitTurn      = "turn"      // the speaker turn (diary entry) holding the match
	DefaultUnit   = UnitSentence
)

// Rule kinds: the key of a rule in the file.
const (
	RuleWords  = "words"
	RulePhrase = "phrase"
	RuleAll    = "all"
	RuleNear   = "near"
	RuleQuery  = "query"
	RuleRegex  = "regex"
	RuleNot    = "not"
)

// DefaultWithin is the distance in words of a near rule that gives none.
const DefaultWithin = 10

// Source kinds a scope may name (the same names the corpus uses).
var sourceKinds = []string{"interview", "focus-group", "diary", "notes", "survey"}

// Speaker roles a scope may name.
var roles = []string{"interviewer", "participant", "other"}

// Codebook is a parsed codebook file.
type Codebook struct {
	Name        string
	Description string
	Themes      []*Node
	File        string // path as given to Parse or Load

	byID map[string]*Node
	doc  *yaml.Node // the YAML document; nil for an empty file
}

// Node is a theme, sub-theme or code.
type Node struct {
	ID           string
	Name         string
	Definition   string
	WhenToUse    string
	WhenNotToUse string
	Examples     []string
	Colour       string // "#RRGGBB" (upper case), or "" when none is given
	Memo         string

	Level    string  // LevelTheme, LevelSubtheme or LevelCode
	Children []*Node // sub-themes, then codes, each in file order
	Parent   *Node   // nil for a theme

	// Rules code units for this node; Unit, Speakers, Kinds and Attrs are its
	// scope after inheritance (see the package documentation).
	Rules    []Rule
	Unit     string
	Speakers []string            // role names or speaker names
	Kinds    []string            // source kinds
	Attrs    map[string][]string // attribute name -> accepted values

	Line, Col int // position of the node (its first key) in the file, 1-based

	y       *yaml.Node // the node's mapping in the file
	idGiven bool       // the id is written in the file
	namePos pos
	own     scope // scope as written on this node
}

// Rule is one deductive rule of a node.
type Rule struct {
	Kind     string   // RuleWords, RulePhrase, RuleAll, RuleNear, RuleQuery, RuleRegex or RuleNot
	Words    []string // words (words, all) or terms (near)
	Phrase   string
	Within   int  // near: the largest distance in words between the terms
	Ordered  bool // near: the terms must come in the order given
	Query    string
	Regex    *regexp.Regexp // compiled, case-insensitive unless the source says (?-i)
	RegexSrc string         // the regex as written
	Not      *Rule          // the vetoing rule of a not
	Line     int            // position of the rule's key in the file
	Col      int
}

type pos struct{ line, col int }

type scope struct {
	unit        string
	speakers    []string
	speakerPos  []pos
	kinds       []string
	attrs       map[string][]string
	hasSpeakers bool
	hasKinds    bool
}

// Node returns the node with the given id, or nil.
func (cb *Codebook) Node(id string) *Node {
	return cb.byID[id]
}

// Walk calls fn for every node in file order, each node before its
// children, and stops when fn returns false.
func (cb *Codebook) Walk(fn func(n *Node) bool) {
	var walk func(ns []*Node) bool
	walk = func(ns []*Node) bool {
		for _, n := range ns {
			if !fn(n) || !walk(n.Children) {
				return false
			}
		}
		return true
	}
	walk(cb.Themes)
}

// Codes returns every node that can hold codings, in file order. That is
// every node: themes and sub-themes can be coded as well as codes.
func (cb *Codebook) Codes() []*Node {
	var out []*Node
	cb.Walk(func(n *Node) bool {
		out = append(out, n)
		return true
	})
	return out
}

// Path returns the nodes from the theme down to n.
func (n *Node) Path() []*Node {
	var p []*Node
	for m := n; m != nil; m = m.Parent {
		p = append(p, m)
	}
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// Descendants returns the nodes below n in file order, each before its
// children.
func (n *Node) Descendants() []*Node {
	var out []*Node
	var walk func(ns []*Node)
	walk = func(ns []*Node) {
		for _, c := range ns {
			out = append(out, c)
			walk(c.Children)
		}
	}
	walk(n.Children)
	return out
}

// isUnder reports whether n is anc or lies below it.
func (n *Node) isUnder(anc *Node) bool {
	for m := n; m != nil; m = m.Parent {
		if m == anc {
			return true
		}
	}
	return false
}

// CheckScope reports speakers named in scopes that are neither a role
// (interviewer, participant, other) nor one of knownSpeakers, compared
// without regard to case. Only names written on a node are reported, not
// those it inherits.
func (cb *Codebook) CheckScope(knownSpeakers []string) []*errs.InputError {
	known := map[string]bool{}
	for _, r := range roles {
		known[r] = true
	}
	for _, s := range knownSpeakers {
		known[strings.ToLower(strings.TrimSpace(s))] = true
	}
	var probs []*errs.InputError
	cb.Walk(func(n *Node) bool {
		for i, s := range n.own.speakers {
			if known[strings.ToLower(s)] {
				continue
			}
			msg := "unknown speaker %q in the scope of %q; use a role (interviewer, participant, other) or a speaker's name"
			if m := closest(s, append(append([]string{}, roles...), knownSpeakers...)); m != "" {
				msg += "; did you mean " + quote(m) + "?"
			}
			p := n.own.speakerPos[i]
			probs = append(probs, errs.New(cb.File, p.line, p.col, msg, s, n.ID))
		}
		return true
	})
	return probs
}

// String gives the rule in a short form for listings, such as
// `words: boundary, limit*` or `near 8 (ordered): role, define`.
func (r Rule) String() string {
	switch r.Kind {
	case RuleWords, RuleAll:
		return r.Kind + ": " + strings.Join(r.Words, ", ")
	case RulePhrase:
		return "phrase: " + quote(r.Phrase)
	case RuleNear:
		s := "near " + itoa(r.Within)
		if r.Ordered {
			s += " (ordered)"
		}
		return s + ": " + strings.Join(r.Words, ", ")
	case RuleQuery:
		return "query: " + r.Query
	case RuleRegex:
		return "regex: " + r.RegexSrc
	case RuleNot:
		if r.Not == nil {
			return "not"
		}
		return "not (" + r.Not.String() + ")"
	}
	return r.Kind
}
