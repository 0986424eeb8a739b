package codebook

import (
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2/search/query"
	"go.yaml.in/yaml/v3"
)

// rules reads a node's rules list.
func (p *parser) rules(v *yaml.Node) []Rule {
	switch {
	case v.Kind == yaml.AliasNode:
		p.errorf(v, "aliases (*%s) are not supported for rules; write the rules out", v.Value)
		return nil
	case isNull(v):
		return nil
	case v.Kind != yaml.SequenceNode:
		p.errorf(v, "rules must be a list, each rule starting with \"- \" (such as - words: [boundary]); found %s", describe(v))
		return nil
	}
	var out []Rule
	positive, failed := false, false
	for _, it := range v.Content {
		r, ok := p.rule(it, false)
		if !ok {
			failed = true
			continue
		}
		out = append(out, r)
		if r.Kind != RuleNot {
			positive = true
		}
	}
	if len(out) > 0 && !positive && !failed {
		p.errorf(v, "these rules are all not rules, so they code nothing; add a rule that finds the passages")
	}
	return out
}

// rule reads one rule; inNot is set for the rule inside a not.
func (p *parser) rule(y *yaml.Node, inNot bool) (Rule, bool) {
	switch {
	case y.Kind == yaml.AliasNode:
		p.errorf(y, "aliases (*%s) are not supported for rules; write the rule out", y.Value)
		return Rule{}, false
	case isNull(y):
		p.errorf(y, "empty rule; give one of %s", strings.Join(ruleKinds, ", "))
		return Rule{}, false
	case y.Kind == yaml.ScalarNode:
		p.errorf(y, "a rule is a mapping such as words: [%s], not plain text", y.Value)
		return Rule{}, false
	case y.Kind == yaml.SequenceNode:
		p.errorf(y, "a rule is one mapping such as words: [...], not a list")
		return Rule{}, false
	case y.Kind != yaml.MappingNode:
		p.errorf(y, "a rule is a mapping such as words: [...], not %s", describe(y))
		return Rule{}, false
	case len(y.Content) < 2:
		p.errorf(y, "empty rule; give one of %s", strings.Join(ruleKinds, ", "))
		return Rule{}, false
	}
	k, v := y.Content[0], y.Content[1]
	if k.Kind != yaml.ScalarNode {
		p.errorf(k, "a rule's kind must be one of %s, not %s", strings.Join(ruleKinds, ", "), describe(k))
		return Rule{}, false
	}
	ok := true
	if len(y.Content) > 2 {
		k2 := y.Content[2]
		p.errorf(k2, "a rule has one kind and this one is %s; give %s a rule of its own (- %s: ...)", k.Value, k2.Value, k2.Value)
		ok = false
	}
	r := Rule{Kind: k.Value, Line: k.Line, Col: k.Column}
	switch r.Kind {
	case RuleWords, RuleAll:
		ws, at, lok := p.list(v, r.Kind)
		switch {
		case !lok:
			ok = false
		case len(ws) == 0:
			p.errorf(v, "%s needs at least one word", r.Kind)
			ok = false
		}
		for i, w := range ws {
			if !p.word(w, at[i], r.Kind) {
				ok = false
			}
		}
		r.Words = ws
	case RulePhrase:
		s, tok := p.text(v, "phrase")
		if tok && s == "" {
			p.errorf(v, "empty phrase")
		}
		ok = ok && tok && s != ""
		r.Phrase = strings.Join(strings.Fields(s), " ")
	case RuleNear:
		ok = p.near(&r, v) && ok
	case RuleQuery:
		s, tok := p.text(v, "query")
		ok = ok && tok
		if tok {
			if e := checkQuery(s); e != "" {
				p.errorf(v, "%s", e)
				ok = false
			}
		}
		r.Query = s
	case RuleRegex:
		ok = p.regex(&r, v) && ok
	case RuleNot:
		switch {
		case inNot:
			p.errorf(k, "not inside not; write the rule itself")
			return r, false
		case deref(v).Kind == yaml.SequenceNode:
			p.errorf(v, "not takes one rule, not a list; write one - not: ... per rule")
			return r, false
		case deref(v).Kind != yaml.MappingNode:
			p.errorf(v, "not takes one rule, such as not: {words: [joke]}; found %s", describe(deref(v)))
			return r, false
		}
		inner, iok := p.rule(v, true)
		if iok {
			r.Not = &inner
		}
		ok = ok && iok
	default:
		msg := "unknown rule kind " + quote(r.Kind) + "; kinds are " + strings.Join(ruleKinds, ", ")
		if h := ruleHints[strings.ToLower(r.Kind)]; h != "" {
			msg += "; " + h
		} else if c := closest(r.Kind, ruleKinds); c != "" {
			msg += "; did you mean " + quote(c) + "?"
		}
		p.errorf(k, "%s", msg)
		return r, false
	}
	return r, ok
}

// word checks one word of a words, all or near rule.
func (p *parser) word(w string, at pos, kind string) bool {
	switch {
	case hasSpace(w):
		p.errorAt(at, "%q is more than one word; a %s rule takes single words: use phrase: %q for words in a row, or all: for words anywhere in the unit", w, kind, w)
		return false
	case strings.Trim(w, "*?") == "":
		p.errorAt(at, "%q would match every word; give some letters with the wildcard", w)
		return false
	}
	return true
}

func (p *parser) near(r *Rule, v *yaml.Node) bool {
	r.Within = DefaultWithin
	t := deref(v)
	var termsNode *yaml.Node
	ok := true
	switch t.Kind {
	case yaml.SequenceNode: // near: [a, b] is near: {terms: [a, b]}
		termsNode = v
	case yaml.MappingNode:
		p.pairs(t, "a near rule", nearKeys, nearHints, func(k, val *yaml.Node) {
			switch k.Value {
			case "terms":
				termsNode = val
			case "within":
				s, tok := p.text(val, "within")
				if !tok {
					ok = false
					return
				}
				n, err := strconv.Atoi(s)
				switch {
				case err != nil:
					p.errorf(val, "within must be a whole number of words, such as 8; found %q", s)
					ok = false
				case n < 1:
					p.errorf(val, "within must be at least 1 word; found %d", n)
					ok = false
				default:
					r.Within = n
				}
			case "ordered":
				s, tok := p.text(val, "ordered")
				switch strings.ToLower(s) {
				case "true", "yes":
					r.Ordered = true
				case "false", "no", "":
				default:
					if tok {
						p.errorf(val, "ordered must be true or false; found %q", s)
					}
					ok = false
				}
			}
		})
	default:
		p.errorf(v, "near takes {terms: [a, b], within: 8}; found %s", describe(t))
		return false
	}
	if termsNode == nil {
		p.errorf(v, "near needs terms: [a, b], the words to find near each other")
		return false
	}
	ws, at, lok := p.list(termsNode, "terms")
	if !lok {
		return false
	}
	if len(ws) < 2 {
		p.errorf(termsNode, "near needs at least two terms; for one word use words:")
		ok = false
	}
	for i, w := range ws {
		if !p.word(w, at[i], "near") {
			ok = false
		}
	}
	r.Words = ws
	return ok
}

func (p *parser) regex(r *Rule, v *yaml.Node) bool {
	t := deref(v)
	if t.Kind != yaml.ScalarNode || isNull(t) {
		p.errorf(v, "regex must be text, not %s", describe(t))
		return false
	}
	src := t.Value // not trimmed: spaces can matter in a pattern
	r.RegexSrc = src
	if strings.TrimSpace(src) == "" {
		p.errorf(v, "empty regex; it would match everywhere")
		return false
	}
	re, err := regexp.Compile("(?i)" + src)
	if err != nil {
		// Compile the pattern as written for a message that quotes it so.
		if _, e2 := regexp.Compile(src); e2 != nil {
			err = e2
		}
		p.errorf(v, "regex does not compile: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return false
	}
	if re.MatchString("") {
		p.errorf(v, "regex %q matches empty text, so it would code every unit; make some part of it required", src)
		return false
	}
	r.Regex = re
	return true
}

// checkQuery parses a bleve query string and returns what is wrong with it,
// or "".
func checkQuery(s string) string {
	if s == "" {
		return "empty query"
	}
	q, err := query.NewQueryStringQuery(s).Parse()
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), "\n", "; ")
		return "query does not parse: " + msg + " (bleve query-string syntax: word, \"a phrase\", +must, -must-not, field:value, word*, /regexp/)"
	}
	if e := checkRegexps(q); e != "" {
		return e
	}
	return ""
}

// checkRegexps compiles the /regexp/ terms of a parsed query, which bleve
// itself checks only when the query runs.
func checkRegexps(q query.Query) string {
	switch q := q.(type) {
	case *query.BooleanQuery:
		if q == nil {
			return ""
		}
		for _, sub := range []query.Query{q.Must, q.Should, q.MustNot, q.Filter} {
			if sub != nil {
				if e := checkRegexps(sub); e != "" {
					return e
				}
			}
		}
	case *query.ConjunctionQuery:
		if q == nil {
			return ""
		}
		for _, sub := range q.Conjuncts {
			if e := checkRegexps(sub); e != "" {
				return e
			}
		}
	case *query.DisjunctionQuery:
		if q == nil {
			return ""
		}
		for _, sub := range q.Disjuncts {
			if e := checkRegexps(sub); e != "" {
				return e
			}
		}
	case *query.RegexpQuery:
		if q == nil {
			return ""
		}
		if _, err := syntax.Parse(q.Regexp, syntax.Perl); err != nil {
			return "query regexp /" + q.Regexp + "/ does not compile: " + strings.TrimPrefix(err.Error(), "error parsing regexp: ")
		}
	}
	return ""
}
