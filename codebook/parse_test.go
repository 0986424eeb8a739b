package codebook

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// want is one expected problem: its exact position prefix and part of its
// message.
type want struct {
	at  string // "cb.yaml:LINE:COL" or "cb.yaml:LINE"
	msg string
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []want
	}{
		{"yaml syntax error", "themes:\n  - name: A\n    codes:\n      - name: B\n     definition: x\n",
			[]want{{"cb.yaml:5", "YAML syntax: did not find expected key"}}},
		{"yaml syntax error on line 1", "name: a: b\n",
			[]want{{"cb.yaml:1", "mapping values are not allowed"}}},
		{"unclosed quote", "name: Study\ndescription: 'about\n\nthemes: []\n",
			[]want{{"cb.yaml:2", "found unexpected end of stream"}}},
		{"syntax error far below the start of its block", "themes:\n  - name: A\n    codes:\n" + strings.Repeat("      - {name: B}\n", 300) + "     definition: x\n",
			[]want{{"cb.yaml:304", "YAML syntax: did not find expected key"}}},
		{"unclosed bracket at the end", "themes: [\n",
			[]want{{"cb.yaml:1", "YAML syntax: did not find expected node content"}}},
		{"tab indentation", "themes:\n\t- name: A\n",
			[]want{{"cb.yaml:2", "not tabs"}}},
		{"unknown key with suggestion", "themes:\n  - name: A\n    defintion: x\n",
			[]want{{"cb.yaml:3:5", `unknown key "defintion" in a theme; did you mean "definition"?`}}},
		{"unknown key with hint", "themes:\n  - name: A\n    description: x\n",
			[]want{{"cb.yaml:3:5", `did you mean "definition"?`}}},
		{"rule kind as a node key", "themes:\n  - name: A\n    words: [x]\n",
			[]want{{"cb.yaml:3:5", `"words" is a rule`}}},
		{"unknown top key", "name: S\ncodes: []\n",
			[]want{{"cb.yaml:2:1", "codes sit under a theme"}}},
		{"unknown key, nothing close", "themes:\n  - name: A\n    zzz: 1\n",
			[]want{{"cb.yaml:3:5", "keys are id, name, definition"}}},
		{"duplicate key", "themes:\n  - name: A\n    name: B\n",
			[]want{{"cb.yaml:3:5", `key "name" is given twice in a theme (first at line 2)`}}},
		{"name is a list", "themes:\n  - name: [a, b]\n",
			[]want{{"cb.yaml:2:11", "name must be text, not a list"}}},
		{"themes is a mapping", "themes:\n  name: A\n",
			[]want{{"cb.yaml:2:3", `found a mapping (add "- " before its first key)`}}},
		{"theme is text", "themes:\n  - Belonging\n",
			[]want{{"cb.yaml:2:5", `write "- name: Belonging"`}}},
		{"examples is a mapping", "themes:\n  - name: A\n    examples: {a: b}\n",
			[]want{{"cb.yaml:3:15", "examples must be a list of text, not a mapping"}}},
		{"missing name", "themes:\n  - id: a\n    definition: x\n",
			[]want{{"cb.yaml:2:5", "missing name: every theme needs one"}}},
		{"empty name", "themes:\n  - name: \"  \"\n",
			[]want{{"cb.yaml:2:11", "empty name"}}},
		{"duplicate ids", "themes:\n  - id: a\n    name: A\n    codes:\n      - id: a\n        name: B\n",
			[]want{{"cb.yaml:5:13", `duplicate id "a" (first at line 2)`}}},
		{"bad id", "themes:\n  - id: my code\n    name: A\n",
			[]want{{"cb.yaml:2:9", `id "my code" may hold only`}}},
		{"duplicate names under one parent", "themes:\n  - name: A\n    codes:\n      - name: Trust\n      - name: trust\n",
			[]want{{"cb.yaml:5:15", `duplicate name "trust" in theme "A" (first at line 4)`}}},
		{"duplicate theme names", "themes:\n  - name: A\n  - name: A\n",
			[]want{{"cb.yaml:3:11", `duplicate name "A" at the top of the codebook`}}},
		{"bad unit", "themes:\n  - name: A\n    unit: sentense\n",
			[]want{{"cb.yaml:3:11", `unit "sentense" is not one of match, sentence, paragraph, turn; did you mean "sentence"?`}}},
		{"unknown kind", "themes:\n  - name: A\n    kinds: [interview, focus group, blog]\n",
			[]want{{"cb.yaml:3:24", `unknown source kind "focus group"`}, {"cb.yaml:3:37", `unknown source kind "blog"`}}},
		{"kind suggestion", "themes:\n  - name: A\n    kinds: diaries\n",
			[]want{{"cb.yaml:3:12", `did you mean "diary"?`}}},
		{"empty speakers", "themes:\n  - name: A\n    speakers: []\n",
			[]want{{"cb.yaml:3:15", "empty speakers list"}}},
		{"attrs wrong type", "themes:\n  - name: A\n    attrs: [wave]\n",
			[]want{{"cb.yaml:3:12", "attrs must be a mapping"}}},
		{"attr without values", "themes:\n  - name: A\n    attrs: {wave: []}\n",
			[]want{{"cb.yaml:3:19", `attribute "wave" has no values`}}},
		{"near with one term", "themes:\n  - name: A\n    rules:\n      - near: {terms: [role], within: 3}\n",
			[]want{{"cb.yaml:4:23", "near needs at least two terms"}}},
		{"near within 0", "themes:\n  - name: A\n    rules:\n      - near: {terms: [a, b], within: 0}\n",
			[]want{{"cb.yaml:4:39", "within must be at least 1"}}},
		{"near within not a number", "themes:\n  - name: A\n    rules:\n      - near: {terms: [a, b], within: few}\n",
			[]want{{"cb.yaml:4:39", `within must be a whole number of words, such as 8; found "few"`}}},
		{"near ordered not a bool", "themes:\n  - name: A\n    rules:\n      - near: {terms: [a, b], ordered: maybe}\n",
			[]want{{"cb.yaml:4:40", "ordered must be true or false"}}},
		{"near unknown key", "themes:\n  - name: A\n    rules:\n      - near: {terms: [a, b], distance: 3}\n",
			[]want{{"cb.yaml:4:31", `unknown key "distance" in a near rule; did you mean "within"?`}}},
		{"near without terms", "themes:\n  - name: A\n    rules:\n      - near: {within: 3}\n",
			[]want{{"cb.yaml:4:15", "near needs terms"}}},
		{"empty word list", "themes:\n  - name: A\n    rules:\n      - words: []\n",
			[]want{{"cb.yaml:4:16", "words needs at least one word"}}},
		{"empty all list", "themes:\n  - name: A\n    rules:\n      - all:\n",
			[]want{{"cb.yaml:4:13", "all needs at least one word"}}},
		{"words with a space", "themes:\n  - name: A\n    rules:\n      - words: [ok, on call]\n",
			[]want{{"cb.yaml:4:21", `"on call" is more than one word; a words rule takes single words: use phrase: "on call"`}}},
		{"bare wildcard", "themes:\n  - name: A\n    rules:\n      - words: ['*']\n",
			[]want{{"cb.yaml:4:17", "would match every word"}}},
		{"empty phrase", "themes:\n  - name: A\n    rules:\n      - phrase: ''\n",
			[]want{{"cb.yaml:4:17", "empty phrase"}}},
		{"regex does not compile", "themes:\n  - name: A\n    rules:\n      - regex: '\\bsick (day|leave'\n",
			[]want{{"cb.yaml:4:16", "regex does not compile: missing closing ): `\\bsick (day|leave`"}}},
		{"regex matches empty text", "themes:\n  - name: A\n    rules:\n      - regex: 'x*'\n",
			[]want{{"cb.yaml:4:16", "matches empty text"}}},
		{"query does not parse", "themes:\n  - name: A\n    rules:\n      - query: '\"data disclosure'\n",
			[]want{{"cb.yaml:4:16", "query does not parse: parse error: unterminated quote"}}},
		{"query regexp does not compile", "themes:\n  - name: A\n    rules:\n      - query: 'x /[a/'\n",
			[]want{{"cb.yaml:4:16", "query regexp /[a/ does not compile"}}},
		{"not holding a list", "themes:\n  - name: A\n    rules:\n      - words: [a]\n      - not: [{words: [joke]}]\n",
			[]want{{"cb.yaml:5:14", "not takes one rule, not a list"}}},
		{"not holding text", "themes:\n  - name: A\n    rules:\n      - words: [a]\n      - not: joke\n",
			[]want{{"cb.yaml:5:14", "not takes one rule, such as not: {words: [joke]}"}}},
		{"not inside not", "themes:\n  - name: A\n    rules:\n      - words: [a]\n      - not: {not: {words: [b]}}\n",
			[]want{{"cb.yaml:5:15", "not inside not"}}},
		{"only not rules", "themes:\n  - name: A\n    rules:\n      - not: {words: [joke]}\n",
			[]want{{"cb.yaml:4:7", "all not rules, so they code nothing"}}},
		{"rule with two kinds", "themes:\n  - name: A\n    rules:\n      - words: [a]\n        phrase: b c\n",
			[]want{{"cb.yaml:5:9", "a rule has one kind and this one is words; give phrase a rule of its own"}}},
		{"unknown rule kind", "themes:\n  - name: A\n    rules:\n      - regexp: 'a+'\n",
			[]want{{"cb.yaml:4:9", `unknown rule kind "regexp"; kinds are words, phrase, all, near, query, regex, not; did you mean "regex"?`}}},
		{"rule as text", "themes:\n  - name: A\n    rules:\n      - boundary\n",
			[]want{{"cb.yaml:4:9", "a rule is a mapping such as words: [boundary]"}}},
		{"rules as a mapping", "themes:\n  - name: A\n    rules:\n      words: [a]\n",
			[]want{{"cb.yaml:4:7", "rules must be a list"}}},
		{"invalid colour", "themes:\n  - name: A\n    colour: blueish\n",
			[]want{{"cb.yaml:3:13", `colour "blueish" is not a colour`}}},
		{"colour read as a comment", "themes:\n  - name: A\n    colour: #4E79A7\n",
			[]want{{"cb.yaml:3:12", `colour value #4E79A7 is read as a comment because it starts with #; quote it: colour: "#4E79A7"`}}},
		{"colour and color", "themes:\n  - name: A\n    colour: '#fff'\n    color: '#000'\n",
			[]want{{"cb.yaml:4:5", "both colour and color are given"}}},
		{"subthemes in a sub-theme", "themes:\n  - name: A\n    subthemes:\n      - name: B\n        subthemes: []\n",
			[]want{{"cb.yaml:5:9", "subthemes are allowed only in a theme; a sub-theme holds codes:"}}},
		{"codes too deep", "themes:\n  - name: A\n    codes:\n      - name: B\n        codes:\n          - name: C\n            codes: [{name: D}]\n",
			[]want{{"cb.yaml:7:13", "a child code cannot hold codes"}}},
		{"alias for a node", "themes:\n  - &t\n    name: A\n  - *t\n",
			[]want{{"cb.yaml:4:5", "aliases (*t) are not supported for themes and codes"}}},
		{"unknown anchor", "themes:\n  - name: A\n    speakers: *who\n",
			[]want{{"cb.yaml:3:15", "alias *who refers to no anchor &who"}}},
		{"merge key", "themes:\n  - <<: {name: A}\n",
			[]want{{"cb.yaml:2:5", "merge keys (<<) are not supported"}, {"cb.yaml:2:5", "missing name"}}},
		{"second document", "themes: []\n---\nthemes: []\n",
			[]want{{"cb.yaml:3:1", "a codebook is one YAML document"}}},
		{"control character", "name: A\x07\n",
			[]want{{"cb.yaml:1:8", "character U+0007 is not allowed in YAML"}}},
		{"invalid UTF-8", "name: caf\xe9\n",
			[]want{{"cb.yaml:1:10", "invalid UTF-8 (byte 0xE9)"}}},
		{"UTF-16", "\xff\xfen\x00", []want{{"cb.yaml:1:1", "UTF-16"}}},
		{"top is a list", "- name: A\n",
			[]want{{"cb.yaml:1:1", "a codebook is a mapping with themes:"}}},
		{"several problems at once", "themes:\n  - name: A\n    unit: word\n    codes:\n      - name: B\n        rules:\n          - regex: '('\n      - name: B\n",
			[]want{{"cb.yaml:3:11", `unit "word"`}, {"cb.yaml:7:20", "regex does not compile"}, {"cb.yaml:8:15", `duplicate name "B"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := Parse("cb.yaml", []byte(tt.yaml))
			var got []string
			for _, p := range probs {
				got = append(got, p.Error())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w.at+": ") || !strings.Contains(got[i], w.msg) {
					t.Errorf("problem %d:\n got  %s\n want %s: ...%s...", i, got[i], w.at, w.msg)
				}
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	cb, probs := Parse("testdata/valid.yaml", mustRead(t, "testdata/valid.yaml"))
	for _, p := range probs {
		t.Error(p)
	}
	if cb.Name != "Peer support workers" || !strings.HasPrefix(cb.Description, "Deductive codes") {
		t.Errorf("name %q, description %q", cb.Name, cb.Description)
	}
	var ids []string
	for _, n := range cb.Codes() {
		ids = append(ids, n.Level+":"+n.ID)
	}
	wantIDs := []string{
		"theme:role", "subtheme:flexibility-and-boundaries", "code:boundaries", "code:out-of-hours",
		"code:on-call", "subtheme:lived-experience", "code:self-disclosure",
		"theme:support", "code:supervision", "code:cafe-culture", "code:trust",
		"theme:wellbeing", "code:trust-2", "code:dont-know",
	}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Errorf("ids in file order:\n got  %v\n want %v", ids, wantIDs)
	}

	b := cb.Node("boundaries")
	if b.Definition != "Talk about limits of the role, availability, disclosure." {
		t.Errorf("definition %q", b.Definition)
	}
	if b.Parent.ID != "flexibility-and-boundaries" || b.Line != 18 || b.Col != 13 {
		t.Errorf("boundaries: parent %q at %d:%d", b.Parent.ID, b.Line, b.Col)
	}
	if len(b.Rules) != 7 {
		t.Fatalf("boundaries has %d rules, want 7", len(b.Rules))
	}
	r := b.Rules
	if r[0].Kind != RuleWords || !reflect.DeepEqual(r[0].Words, []string{"boundary", "boundaries", "limit*"}) || r[0].Line != 24 || r[0].Col != 17 {
		t.Errorf("rule 0: %+v", r[0])
	}
	if r[1].Kind != RulePhrase || r[1].Phrase != "on call" {
		t.Errorf("rule 1: %+v", r[1])
	}
	if r[2].Kind != RuleAll || !reflect.DeepEqual(r[2].Words, []string{"garden", "alone"}) {
		t.Errorf("rule 2: %+v", r[2])
	}
	if r[3].Kind != RuleNear || r[3].Within != 8 || r[3].Ordered || !reflect.DeepEqual(r[3].Words, []string{"role", "define"}) {
		t.Errorf("rule 3: %+v", r[3])
	}
	if r[4].Kind != RuleQuery || r[4].Query != `disclose -"data disclosure"` {
		t.Errorf("rule 4: %+v", r[4])
	}
	if r[5].Kind != RuleRegex || r[5].RegexSrc != `\bsick (day|leave)s?\b` || !r[5].Regex.MatchString("took SICK DAYS") {
		t.Errorf("rule 5: %+v (case-insensitive match expected)", r[5])
	}
	if r[6].Kind != RuleNot || r[6].Not == nil || r[6].Not.Kind != RuleWords || r[6].Not.Words[0] != "joke" {
		t.Errorf("rule 6: %+v", r[6])
	}
	if b.Unit != UnitTurn || !reflect.DeepEqual(b.Speakers, []string{"participant"}) || !reflect.DeepEqual(b.Kinds, []string{"interview", "diary"}) {
		t.Errorf("scope: unit %q speakers %v kinds %v", b.Unit, b.Speakers, b.Kinds)
	}
	if !reflect.DeepEqual(b.Attrs, map[string][]string{"wave": {"1", "2"}, "site": {"north"}}) {
		t.Errorf("attrs %v", b.Attrs)
	}

	// Scope inherits from the theme, the child code overrides some of it.
	oh := cb.Node("out-of-hours")
	if oh.Parent != b || oh.Unit != UnitTurn || !reflect.DeepEqual(oh.Speakers, []string{"Dan"}) {
		t.Errorf("out-of-hours: parent %v unit %q speakers %v", oh.Parent.ID, oh.Unit, oh.Speakers)
	}
	if !reflect.DeepEqual(oh.Attrs, map[string][]string{"wave": {"3"}, "site": {"north"}}) {
		t.Errorf("out-of-hours attrs %v", oh.Attrs)
	}
	near := cb.Node("on-call").Rules[0]
	if near.Within != DefaultWithin || !near.Ordered {
		t.Errorf("near shorthand: %+v", near)
	}
	if sup := cb.Node("support"); sup.Unit != DefaultUnit || sup.Speakers != nil || sup.Colour != "#FF8800" {
		t.Errorf("support: unit %q speakers %v colour %q", sup.Unit, sup.Speakers, sup.Colour)
	}
	if role := cb.Node("role"); role.Colour != "#4E79A7" || role.Memo != "Check against the second wave." {
		t.Errorf("role: colour %q memo %q", role.Colour, role.Memo)
	}
	le := cb.Node("lived-experience")
	if le.Definition != "Drawing on one's own history\nto connect with people." || le.WhenToUse == "" || le.WhenNotToUse == "" ||
		!reflect.DeepEqual(le.Examples, []string{"I've been there myself", "when I was unwell"}) {
		t.Errorf("lived experience: %+v", le)
	}
	if got := cb.Node("supervision").Examples; !reflect.DeepEqual(got, []string{"my supervisor checks in every week"}) {
		t.Errorf("one example as text: %v", got)
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestTreeHelpers(t *testing.T) {
	cb, probs := Parse("valid.yaml", mustRead(t, "testdata/valid.yaml"))
	if len(probs) > 0 {
		t.Fatal(probs[0])
	}
	oh := cb.Node("out-of-hours")
	var path []string
	for _, n := range oh.Path() {
		path = append(path, n.ID)
	}
	if want := []string{"role", "flexibility-and-boundaries", "boundaries", "out-of-hours"}; !reflect.DeepEqual(path, want) {
		t.Errorf("path %v, want %v", path, want)
	}
	var desc []string
	for _, n := range cb.Node("role").Descendants() {
		desc = append(desc, n.ID)
	}
	if want := []string{"flexibility-and-boundaries", "boundaries", "out-of-hours", "on-call", "lived-experience", "self-disclosure"}; !reflect.DeepEqual(desc, want) {
		t.Errorf("descendants %v, want %v", desc, want)
	}
	// Children: sub-themes first, then codes, whatever the key order.
	var kids []string
	for _, n := range cb.Node("support").Children {
		kids = append(kids, n.Level+":"+n.ID)
	}
	if want := []string{"code:supervision", "code:cafe-culture", "code:trust"}; !reflect.DeepEqual(kids, want) {
		t.Errorf("children %v, want %v", kids, want)
	}
	var walked []string
	cb.Walk(func(n *Node) bool {
		walked = append(walked, n.ID)
		return n.ID != "boundaries"
	})
	if want := []string{"role", "flexibility-and-boundaries", "boundaries"}; !reflect.DeepEqual(walked, want) {
		t.Errorf("walk stopped at %v, want %v", walked, want)
	}
	if cb.Node("nope") != nil {
		t.Error("Node of an unknown id is not nil")
	}
}

func TestCheckScope(t *testing.T) {
	cb, probs := Parse("valid.yaml", mustRead(t, "testdata/valid.yaml"))
	if len(probs) > 0 {
		t.Fatal(probs[0])
	}
	if got := cb.CheckScope([]string{"dan", "Alex"}); len(got) != 0 {
		t.Errorf("known speakers reported: %v", got)
	}
	got := cb.CheckScope([]string{"Dana", "Alex"})
	if len(got) != 1 {
		t.Fatalf("got %v, want one problem", got)
	}
	if want := `valid.yaml:33:28: unknown speaker "Dan" in the scope of "out-of-hours"`; !strings.HasPrefix(got[0].Error(), want) ||
		!strings.Contains(got[0].Error(), `did you mean "Dana"?`) {
		t.Errorf("got %s\nwant %s...did you mean \"Dana\"?", got[0], want)
	}
}

func TestSlugAndIDs(t *testing.T) {
	for _, tt := range []struct{ name, slug string }{
		{"Setting boundaries", "setting-boundaries"},
		{"  Café culture! ", "cafe-culture"},
		{"Don't know", "dont-know"},
		{"PDP/ICE", "pdp-ice"},
		{"Æsthetics & Straße", "aesthetics-strasse"},
		{"信任", ""},
		{"A very long name that goes on and on about many things in the role", "a-very-long-name-that-goes-on-and-on-about-many"},
	} {
		if got := slug(tt.name); got != tt.slug {
			t.Errorf("slug(%q) = %q, want %q", tt.name, got, tt.slug)
		}
	}
	// Made ids avoid ids written later in the file, and names without letters
	// fall back to the level.
	cb, probs := Parse("cb.yaml", []byte("themes:\n  - name: Trust\n    codes:\n      - name: 信任\n      - name: 信任!\n  - id: trust\n    name: Other\n"))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	var ids []string
	for _, n := range cb.Codes() {
		ids = append(ids, n.ID)
	}
	if want := []string{"trust-2", "code", "code-2", "trust"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
}

func TestRuleString(t *testing.T) {
	cb, _ := Parse("valid.yaml", mustRead(t, "testdata/valid.yaml"))
	var got []string
	for _, r := range cb.Node("boundaries").Rules {
		got = append(got, r.String())
	}
	want := []string{
		"words: boundary, boundaries, limit*", `phrase: "on call"`, "all: garden, alone", "near 8: role, define",
		`query: disclose -"data disclosure"`, `regex: \bsick (day|leave)s?\b`, "not (words: joke)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml: cannot read the codebook: no such file") {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("themes:\n  - name: A\n    unit: word\n    kinds: [blog]\n"), 0o644)
	if _, err := Load(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":3:11: unit") {
		t.Errorf("first problem: %v", err)
	}
	cb, err := Load("testdata/valid.yaml")
	if err != nil || cb.File != "testdata/valid.yaml" || len(cb.Themes) != 3 {
		t.Errorf("valid: %v %+v", err, cb)
	}
}

func TestEmptyCodebooks(t *testing.T) {
	for _, s := range []string{"", "# just a comment\n", "---\n", "themes:\n", "themes: []\n", "{}\n", "\ufeffname: x\n"} {
		cb, probs := Parse("cb.yaml", []byte(s))
		if len(probs) > 0 || len(cb.Themes) != 0 || len(cb.Codes()) != 0 {
			t.Errorf("%q: %v, %d themes", s, probs, len(cb.Themes))
		}
	}
}

// TestRealCodeSystem builds a codebook from a published MAXQDA code system
// (PDPilot user study) with the Editor, and checks it parses back whole.
func TestRealCodeSystem(t *testing.T) {
	data, err := os.ReadFile("../../shared/corpora/interviews-pdpilot/code-system.txt")
	if err != nil {
		t.Skip("shared corpora not found beside the repository:", err)
	}
	e, err := Edit(filepath.Join(t.TempDir(), "codebook.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type entry struct{ name, memo string }
	var stack []string // ids by depth
	var entries []entry
	for _, line := range strings.Split(string(data), "\n")[3:] {
		if strings.TrimSpace(line) == "" {
			continue
		}
		depth := (len(line) - len(strings.TrimLeft(line, " ")) + 1) / 4 // 2, 5, 9 spaces -> 0, 1, 2
		fields := splitColumns(strings.TrimSpace(line))
		ent := entry{name: fields[0]}
		if len(fields) == 3 {
			ent.memo = fields[1]
		}
		var id string
		if depth == 0 {
			id, err = e.AddTheme(ent.name, "")
		} else {
			id, err = e.AddCode(stack[depth-1], ent.name, "", ent.memo)
		}
		if err != nil {
			t.Fatalf("%q: %v", ent.name, err)
		}
		stack = append(stack[:depth], id)
		entries = append(entries, ent)
	}
	cb, probs := Parse("codebook.yaml", e.Bytes())
	if len(probs) > 0 {
		t.Fatal(probs[0])
	}
	nodes := cb.Codes()
	if len(nodes) != len(entries) || len(entries) < 50 {
		t.Fatalf("%d nodes for %d entries", len(nodes), len(entries))
	}
	for i, n := range nodes {
		if n.Name != entries[i].name || (n.Level != LevelTheme && n.Definition != entries[i].memo) {
			t.Errorf("node %d: %q %q, want %q %q", i, n.Name, n.Definition, entries[i].name, entries[i].memo)
		}
	}
}

// splitColumns splits a line of a fixed-width export on runs of 2+ spaces.
func splitColumns(s string) []string {
	var out []string
	for _, f := range strings.Split(s, "  ") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
