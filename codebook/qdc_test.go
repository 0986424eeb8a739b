package codebook

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/internal/errs"
)

var updateQDC = flag.Bool("update-qdc", false, "rewrite the golden files under testdata/qdc")

func TestParseGUID(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"6f1b2c3d-0000-4000-8000-000000000001", "6f1b2c3d-0000-4000-8000-000000000001", true},
		{"6F1B2C3D-0000-4000-8000-00000000000A", "6f1b2c3d-0000-4000-8000-00000000000a", true},
		{"{6F1B2C3D-0000-4000-8000-000000000001}", "6f1b2c3d-0000-4000-8000-000000000001", true},
		{" 6f1b2c3d-0000-4000-8000-000000000001 ", "6f1b2c3d-0000-4000-8000-000000000001", true},
		{"6f1b2c3d000040008000000000000001", "", false},
		{"6f1b2c3d-0000-4000-8000-00000000000g", "", false},
		{"{6f1b2c3d-0000-4000-8000-000000000001", "", false},
		{"6f1b2c3d-0000-4000-8000_000000000001", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseGUID(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseGUID(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDescribeAndParseDescription(t *testing.T) {
	tests := []struct {
		name string
		node Node
		desc string
	}{
		{"definition only", Node{Definition: "Talk about limits."}, "Talk about limits."},
		{"all parts", Node{Definition: "Limits of the role.", WhenToUse: "Availability.", WhenNotToUse: "Pay.",
			Examples: []string{"I switch my phone off", "not after six"}},
			"Limits of the role.\n\nWhen to use: Availability.\n\nWhen not to use: Pay.\n\nExamples:\n- I switch my phone off\n- not after six"},
		{"no definition", Node{WhenToUse: "Always."}, "When to use: Always."},
		{"examples only", Node{Examples: []string{"one"}}, "Examples:\n- one"},
		{"definition of two paragraphs", Node{Definition: "First.\n\nSecond.", WhenNotToUse: "Never."},
			"First.\n\nSecond.\n\nWhen not to use: Never."},
		{"empty", Node{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Describe(&tt.node); got != tt.desc {
				t.Fatalf("Describe = %q, want %q", got, tt.desc)
			}
			d := ParseDescription(tt.desc)
			want := Description{tt.node.Definition, tt.node.WhenToUse, tt.node.WhenNotToUse, tt.node.Examples}
			if !reflect.DeepEqual(d, want) {
				t.Fatalf("ParseDescription(%q) = %+v, want %+v", tt.desc, d, want)
			}
		})
	}
}

func TestParseDescriptionOfOtherTools(t *testing.T) {
	tests := []struct {
		in   string
		want Description
	}{
		// A description that only looks like ours in part stays definition.
		{"Anything about jobs.\r\nExamples:\r\n- taxes", Description{Definition: "Anything about jobs.\nExamples:\n- taxes"}},
		{"Defined here.\n\nExamples:\nnot a list", Description{Definition: "Defined here.\n\nExamples:\nnot a list"}},
		{"  spaced  \n", Description{Definition: "spaced"}},
		{"Erősen szkeptikus (piros)\nElfogadó (zöld)", Description{Definition: "Erősen szkeptikus (piros)\nElfogadó (zöld)"}},
	}
	for _, tt := range tests {
		if got := ParseDescription(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseDescription(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestReadQDC(t *testing.T) {
	q, err := ReadQDC("tree.qdc", mustRead(t, filepath.Join("testdata", "qdc", "tree.qdc")))
	if err != nil {
		t.Fatal(err)
	}
	if q.Origin != "hand-written test file" || q.Sets != 1 || len(q.Codes) != 3 {
		t.Fatalf("origin %q, %d sets, %d top codes", q.Origin, q.Sets, len(q.Codes))
	}
	first := q.Codes[0]
	if first.GUID != "6f1b2c3d-0000-4000-8000-000000000001" || first.Codable || first.Line != 6 {
		t.Errorf("first code: %+v", first)
	}
	money := q.Codes[1]
	if money.Colour != "#AABBCC" || !strings.HasPrefix(money.Description, "What growing costs") || len(money.Children) != 5 {
		t.Errorf("Money: colour %q, description %q, %d children", money.Colour, money.Description, len(money.Children))
	}
	depth := 0
	for c := money.Children[2]; c != nil; depth++ {
		if len(c.Children) == 0 {
			break
		}
		c = c.Children[0]
	}
	if depth != 4 {
		t.Errorf("Funding holds %d levels, want 4", depth)
	}
}

func TestReadQDCNamespaces(t *testing.T) {
	for _, ns := range []string{"urn:QDA-XML:codebook:1.0", "urn:QDA-XML:codebook:0:4", "urn:QDA-XML:codebook:1:0"} {
		doc := fmt.Sprintf(`<CodeBook xmlns="%s"><Codes><Code guid="6f1b2c3d-0000-4000-8000-000000000001" name="A" isCodable="1"/></Codes></CodeBook>`, ns)
		q, err := ReadQDC("x.qdc", []byte("\xEF\xBB\xBF"+doc))
		if err != nil {
			t.Errorf("%s: %v", ns, err)
			continue
		}
		if len(q.Codes) != 1 || q.Codes[0].Name != "A" || !q.Codes[0].Codable {
			t.Errorf("%s: read %+v", ns, q.Codes)
		}
	}
}

func TestReadQDCErrors(t *testing.T) {
	code := func(guid, attrs string) string {
		return `<Code guid="` + guid + `" name="A" isCodable="true"` + attrs + `/>`
	}
	g1, g2 := "6f1b2c3d-0000-4000-8000-000000000001", "6f1b2c3d-0000-4000-8000-000000000002"
	wrap := func(codes string) string {
		return "<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\">\n<Codes>\n" + codes + "\n</Codes>\n</CodeBook>"
	}
	deep := strings.Repeat(`<Code guid="`+g1+`" name="A" isCodable="true">`, 2) // same GUID: caught first
	tests := []struct {
		name, doc, want string
		line            int
	}{
		{"empty", "  \n", "empty file", 0},
		{"not xml", "hello", "no XML element", 0},
		{"other root", `<html><body/></html>`, "not a REFI-QDA codebook: the root element is <html>", 1},
		{"project", `<Project xmlns="urn:QDA-XML:project:1.0" name="p"/>`, "this is a REFI-QDA project", 1},
		{"bad guid", wrap(code("not-a-guid", "")), `guid "not-a-guid" is not a GUID`, 3},
		{"duplicate guid", wrap(code(g1, "") + "\n" + code("{"+strings.ToUpper(g1)+"}", "")), "is used twice (also on line 3)", 4},
		{"bad colour", wrap(code(g2, ` color="red"`)), `color "red" is not a colour`, 3},
		{"bad isCodable", `<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="` + g1 + `" name="A" isCodable="maybe"/></Codes></CodeBook>`, `isCodable "maybe"`, 1},
		{"unclosed", wrap(deep), "", 0},
		{"broken xml", "<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\">\n<Codes>\n<Code guid=x>\n", "XML syntax error", 3},
		{"no codes", `<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes/></CodeBook>`, "holds no codes", 1},
		{"latin-1", "<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\" origin=\"caf\xe9\"/>", "not UTF-8", 0},
		{"declared utf-16", `<?xml version="1.0" encoding="UTF-16"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0"/>`, "not supported", 1},
		{"entity", `<!DOCTYPE x [<!ENTITY a "b">]><CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="&a;"/>`, "XML syntax error", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadQDC("cb.qdc", []byte(tt.doc))
			var ie *errs.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v (%T), want an InputError", err, err)
			}
			if ie.File != "cb.qdc" || !strings.Contains(ie.Msg, tt.want) || tt.line != 0 && ie.Line != tt.line {
				t.Fatalf("err = %v; want %q on line %d", err, tt.want, tt.line)
			}
		})
	}
}

func TestReadQDCTooDeep(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>`)
	for i := 0; i < maxQDCDepth+5; i++ {
		fmt.Fprintf(&b, `<Code guid="6f1b2c3d-0000-4000-8000-%012d" name="c%d" isCodable="true">`, i, i)
	}
	_, err := ReadQDC("deep.qdc", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("err = %v", err)
	}
}

// addQDCTree adds testdata/qdc/tree.qdc to a copy of base.yaml, with the
// GUID of "Welcome again" known as the code welcome.
func addQDCTree(t *testing.T) (*Editor, string, *QDCResult, []*QDCCode) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "codebook.yaml")
	if err := os.WriteFile(path, mustRead(t, filepath.Join("testdata", "qdc", "base.yaml")), 0o644); err != nil {
		t.Fatal(err)
	}
	q, err := ReadQDC("tree.qdc", mustRead(t, filepath.Join("testdata", "qdc", "tree.qdc")))
	if err != nil {
		t.Fatal(err)
	}
	e, err := Edit(path)
	if err != nil {
		t.Fatal(err)
	}
	q.Codes[1].Memo = "Costs came up in every interview."
	res, err := e.AddQDC(q.Codes, map[string]string{"6f1b2c3d-0000-4000-8000-000000000020": "welcome"})
	if err != nil {
		t.Fatal(err)
	}
	return e, path, res, q.Codes
}

func TestAddQDCGolden(t *testing.T) {
	e, path, res, _ := addQDCTree(t)
	if err := e.Save(); err != nil {
		t.Fatal(err)
	}
	got := mustRead(t, path)
	golden := filepath.Join("testdata", "qdc", "add.golden.yaml")
	if *updateQDC {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := mustRead(t, golden); !bytes.Equal(got, want) {
		t.Errorf("codebook after AddQDC differs from %s (run with -update-qdc and review the diff):\n%s", golden, got)
	}
	// The comments of the researcher's file are all still there.
	for _, c := range []string{"# A small codebook that an import adds to.", "# the first welcome"} {
		if !bytes.Contains(got, []byte(c)) {
			t.Errorf("comment %q lost", c)
		}
	}
	wantRes := QDCResult{Matched: 2, Flattened: 2, Renamed: 3}
	if res.Matched != wantRes.Matched || res.Flattened != wantRes.Flattened || res.Renamed != wantRes.Renamed || len(res.Added) != 13 {
		t.Errorf("result: %d added, %d matched, %d flattened, %d renamed; want 13, %d, %d, %d",
			len(res.Added), res.Matched, res.Flattened, res.Renamed, wantRes.Matched, wantRes.Flattened, wantRes.Renamed)
	}
	if len(res.IDs) != 15 {
		t.Errorf("%d GUIDs mapped, want all 15 codes of the file", len(res.IDs))
	}
	cb, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ id, parent, level, name string }{
		{"newcomers", "belonging", LevelSubtheme, "Newcomers"},
		{"shown-round", "newcomers", LevelCode, "Shown round"},
		{"money", "", LevelTheme, "Money"},
		{"costs", "money", LevelCode, "Costs"},
		{"costs-2", "money", LevelCode, "Costs (2)"},
		{"funding", "money", LevelSubtheme, "Funding"},
		{"grants", "funding", LevelCode, "Grants"},
		{"small-grants", "grants", LevelCode, "Small grants"},
		{"small-grants-seed-money", "grants", LevelCode, "Small grants › Seed money"},
		{"small-grants-seed-money-tiny", "grants", LevelCode, "Small grants › Seed money › Tiny"},
		{"two-lines", "money", LevelCode, "Two lines"},
		{"unnamed-code", "money", LevelCode, "Unnamed code"},
		{"named-at-the-gate", "welcome", LevelCode, "Named at the gate"},
	}
	for _, c := range checks {
		n := cb.Node(c.id)
		if n == nil {
			t.Errorf("no node %q", c.id)
			continue
		}
		if parentID(n) != c.parent || n.Level != c.level || n.Name != c.name {
			t.Errorf("%s: under %q, %s, %q; want under %q, %s, %q", c.id, parentID(n), n.Level, n.Name, c.parent, c.level, c.name)
		}
	}
	money := cb.Node("money")
	if money.Definition != "What growing costs and who pays." || money.WhenToUse != "Talk of fees, tools, seeds." ||
		money.WhenNotToUse != "Selling produce." || !reflect.DeepEqual(money.Examples, []string{`"the plot fee went up"`, "we chipped in for a hose"}) ||
		money.Colour != "#AABBCC" || money.Memo != "Costs came up in every interview." || len(money.Rules) != 0 {
		t.Errorf("money: %+v", money)
	}
	if cb.Node("costs").Colour != "#FF0000" {
		t.Errorf("costs colour %q", cb.Node("costs").Colour)
	}
}

func TestAddQDCTwiceChangesNothing(t *testing.T) {
	e, path, res, codes := addQDCTree(t)
	if err := e.Save(); err != nil {
		t.Fatal(err)
	}
	before := mustRead(t, path)
	e2, err := Edit(path)
	if err != nil {
		t.Fatal(err)
	}
	res2, err := e2.AddQDC(codes, res.IDs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Added) != 0 || res2.Matched != len(res.IDs) || !reflect.DeepEqual(res2.IDs, res.IDs) {
		t.Errorf("second add: %d added, %d matched; ids equal: %v", len(res2.Added), res2.Matched, reflect.DeepEqual(res2.IDs, res.IDs))
	}
	if err := e2.Save(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, mustRead(t, path)) {
		t.Error("the second import changed the file")
	}
	// Without the GUIDs, names under the same parent find the codes again;
	// only "Welcome again", found by GUID before, is new by name.
	e3, err := Edit(path)
	if err != nil {
		t.Fatal(err)
	}
	res3, err := e3.AddQDC(codes, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"welcome-again", "named-at-the-gate-2"}; !reflect.DeepEqual(res3.Added, want) {
		t.Errorf("matching by name added %q, want %q", res3.Added, want)
	}
}

func TestToQDCAndWriteQDC(t *testing.T) {
	cb, probs := Parse("valid.yaml", mustRead(t, filepath.Join("testdata", "valid.yaml")))
	if len(probs) > 0 {
		t.Fatal(probs[0])
	}
	n := 0
	codes := ToQDC(cb, func(node *Node) string {
		n++
		return fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
	})
	var count func(cs []*QDCCode) int
	count = func(cs []*QDCCode) int {
		k := 0
		for _, c := range cs {
			k += 1 + count(c.Children)
		}
		return k
	}
	if got := count(codes); got != len(cb.Codes()) {
		t.Fatalf("ToQDC made %d codes of %d nodes", got, len(cb.Codes()))
	}
	var buf bytes.Buffer
	if err := WriteQDC(&buf, codes, "thematic"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cb.qdc")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	xmllintSchema(t, "Codebook.xsd", path)
	// Reading it back gives the same tree.
	q, err := ReadQDC(path, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var flat func(cs []*QDCCode, out *[]string)
	flat = func(cs []*QDCCode, out *[]string) {
		for _, c := range cs {
			*out = append(*out, fmt.Sprintf("%s|%s|%s|%s|%d", c.GUID, c.Name, c.Colour, c.Description, len(c.Children)))
			flat(c.Children, out)
		}
	}
	var a, b []string
	flat(codes, &a)
	flat(q.Codes, &b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("read back differs:\n%v\n%v", a, b)
	}
	if err := WriteQDC(&buf, nil, "thematic"); err == nil {
		t.Error("an empty codebook was written")
	}
}

// xmllintSchema validates file against one of the official REFI-QDA schemas
// with xmllint; where xmllint or the schemas are missing it says so and the
// test goes on without it.
func xmllintSchema(t *testing.T, schema, file string) {
	t.Helper()
	xsd := filepath.Join("..", "..", "shared", "refi", "schemas", schema)
	if _, err := os.Stat(xsd); err != nil {
		t.Logf("schema %s not found (../shared missing): not validated", xsd)
		return
	}
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Log("xmllint not on PATH (Debian: apt-get install libxml2-utils): not validated against the schema")
		return
	}
	out, err := exec.Command("xmllint", "--noout", "--schema", xsd, file).CombinedOutput()
	if err != nil {
		t.Fatalf("%s does not validate against %s: %v\n%s", file, schema, err, out)
	}
}

func FuzzReadQDC(f *testing.F) {
	f.Add(mustReadF(f, filepath.Join("testdata", "qdc", "tree.qdc")))
	f.Add([]byte(`<CodeBook xmlns="urn:QDA-XML:codebook:0:4"><Codes><Code guid="{6F1B2C3D-0000-4000-8000-000000000001}" name="A" isCodable="true"><Description>d</Description></Code></Codes><Sets/></CodeBook>`))
	f.Add([]byte(`<Project xmlns="urn:QDA-XML:project:1.0"/>`))
	f.Add([]byte("<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\"><Codes><Code guid=\"6f1b2c3d-0000-4000-8000-000000000001\" name=\"a\u2028b\" isCodable=\"true\"><Description>one\u2029two\r\nthree\u0085four&#x1;</Description></Code></Codes></CodeBook>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := ReadQDC("fuzz.qdc", data)
		if err != nil {
			var ie *errs.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v is %T, not an InputError", err, err)
			}
			return
		}
		seen := map[string]bool{}
		var walk func(cs []*QDCCode)
		walk = func(cs []*QDCCode) {
			for _, c := range cs {
				if _, ok := ParseGUID(c.GUID); !ok || seen[c.GUID] {
					t.Fatalf("code %q has GUID %q (bad or repeated)", c.Name, c.GUID)
				}
				seen[c.GUID] = true
				walk(c.Children)
			}
		}
		walk(q.Codes)
		// Whatever reads must be addable to an empty codebook.
		path := filepath.Join(t.TempDir(), "codebook.yaml")
		e, err := Edit(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.AddQDC(q.Codes, nil); err != nil {
			t.Fatalf("AddQDC: %v", err)
		}
		if err := e.Save(); err != nil {
			t.Fatal(err)
		}
		// The file written can be read and edited again.
		if _, err := Load(path); err != nil && len(q.Codes) > 0 {
			t.Fatalf("the codebook written does not load: %v", err)
		}
		if _, err := Edit(path); err != nil && len(q.Codes) > 0 {
			t.Fatalf("the codebook written cannot be edited: %v", err)
		}
	})
}

func mustReadF(f *testing.F, path string) []byte {
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	return data
}

func BenchmarkReadQDC(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>`)
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&buf, `<Code guid="00000000-0000-4000-8000-%012d" name="theme %d" isCodable="true"><Description>about %d</Description>`, i*100, i, i)
		for j := 1; j < 20; j++ {
			fmt.Fprintf(&buf, `<Code guid="00000000-0000-4000-8000-%012d" name="code %d" isCodable="true" color="#112233"/>`, i*100+j, j)
		}
		buf.WriteString(`</Code>`)
	}
	buf.WriteString(`</Codes></CodeBook>`)
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadQDC("bench.qdc", data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAddQDC(b *testing.B) {
	var codes []*QDCCode
	for i := 0; i < 20; i++ {
		c := &QDCCode{GUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i*100), Name: fmt.Sprintf("Theme %d", i), Description: "A theme."}
		for j := 1; j < 10; j++ {
			c.Children = append(c.Children, &QDCCode{GUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i*100+j), Name: fmt.Sprintf("Code %d", j)})
		}
		codes = append(codes, c)
	}
	dir := b.TempDir()
	for b.Loop() {
		e, err := Edit(filepath.Join(dir, "none.yaml"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.AddQDC(codes, nil); err != nil {
			b.Fatal(err)
		}
	}
}
