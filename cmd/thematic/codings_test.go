package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

var codingsUpdate = flag.Bool("update-codings", false, "rewrite the golden files under testdata/codings")

// codingsTestProject is codeTestProject with these codings (offsets
// counted by hand, see codeTestInterview; d01's entries start at 11 and 71):
//
//	alice welcome p01 73-100  segment t2.p1.s2 "Someone handed me a bucket!"
//	alice welcome p01 101-115 "I felt welcome"
//	alice plots   p01 211-255 line 10
//	alice gate    p01 44-64   "walked past the gate"
//	alice plots   d01 73-84   "dug my plot"
//	alice welcome d01 36-50   "I felt welcome", with a memo
//	bob   welcome p01 81-99   "handed me a bucket"
//	bob   gate    p01 42-72   segment t2.p1.s1
//	bob   welcome p01 0-5     orphaned
//	bob   legacy  p01 3-6     a code no longer in the codebook
func codingsTestProject(t testing.TB) *corpus.Project {
	t.Helper()
	p := codeTestProject(t)
	made := []struct {
		coder, code string
		sel         CodeSelection
		memo        string
	}{
		{"alice", "welcome", CodeSelection{Target: "p01:t2.p1.s2"}, ""},
		{"alice", "welcome", CodeSelection{Target: "p01", Match: "I felt welcome"}, ""},
		{"alice", "plots", CodeSelection{Target: "p01", Lines: "10"}, ""},
		{"alice", "gate", CodeSelection{Target: "p01", Match: "walked past the gate"}, ""},
		{"alice", "plots", CodeSelection{Target: "d01", Match: "dug my plot"}, ""},
		{"alice", "welcome", CodeSelection{Target: "d01", Match: "I felt welcome"}, "despite the leak"},
		{"bob", "welcome", CodeSelection{Target: "p01", Match: "handed me a bucket"}, ""},
		{"bob", "gate", CodeSelection{Target: "p01:t2.p1.s1"}, ""},
	}
	for _, m := range made {
		opts := codeTestOpts(p, m.coder, m.sel.Target, m.code)
		opts.CodeSelection, opts.Memo = m.sel, m.memo
		if err := runCode(opts); err != nil {
			t.Fatal(err)
		}
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	bob := codeTestCodings(t, p, "bob")
	bob = append(bob,
		analysis.Coding{ID: "orphan1", Source: "p01", Start: 0, End: 5, Quote: "Hello", Code: "welcome", Coder: "bob",
			Origin: analysis.OriginManual, Time: codeTestTime, Orphan: true},
		analysis.Coding{ID: "legacy1", Source: "p01", Start: 3, End: 6, Quote: "How", Code: "legacy", Coder: "bob",
			Origin: analysis.OriginSheet, Time: codeTestTime})
	if err := store.Save("bob", bob); err != nil {
		t.Fatal(err)
	}
	return p
}

// codingsRun runs 'thematic codings' with opts filled in by set and returns
// stdout and stderr.
func codingsRun(p *corpus.Project, set func(o *CodingsOptions)) (string, string, error) {
	ios, out, errOut := codeTestIO()
	opts := &CodingsOptions{IO: ios, Project: func() (*corpus.Project, error) { return corpus.Open(p.Root) }}
	set(opts)
	err := runCodings(opts)
	return out.String(), errOut.String(), err
}

func TestCodingsFilters(t *testing.T) {
	p := codingsTestProject(t)
	all := []string{
		"welcome d01 36-50 alice",
		"welcome p01 0-5 bob orphan",
		"welcome p01 73-100 alice",
		"welcome p01 81-99 bob",
		"welcome p01 101-115 alice",
		"gate p01 42-72 bob",
		"gate p01 44-64 alice",
		"plots d01 73-84 alice",
		"plots p01 211-255 alice",
		"legacy p01 3-6 bob",
	}
	pick := func(keep func(s string) bool) []string {
		var out []string
		for _, s := range all {
			if keep(s) {
				out = append(out, s)
			}
		}
		return out
	}
	has := func(part string) func(string) bool {
		return func(s string) bool { return strings.Contains(s, part) }
	}
	arriving := pick(func(s string) bool { return has("welcome ")(s) || has("gate ")(s) })
	tests := []struct {
		name string
		set  func(o *CodingsOptions)
		want []string
	}{
		{"everything, in codebook order", func(o *CodingsOptions) {}, all},
		{"a theme takes in its codes", func(o *CodingsOptions) { o.Codes = []string{"belonging"} }, arriving},
		{"a sub-theme takes in its codes", func(o *CodingsOptions) { o.Codes = []string{"arriving"} }, arriving},
		{"a code and a coder", func(o *CodingsOptions) { o.Codes, o.Coders = []string{"welcome"}, []string{"bob"} },
			[]string{"welcome p01 0-5 bob orphan", "welcome p01 81-99 bob"}},
		{"two codes", func(o *CodingsOptions) { o.Codes = []string{"growing", "gate"} },
			pick(func(s string) bool { return has("gate ")(s) || has("plots ")(s) })},
		{"a source", func(o *CodingsOptions) { o.Sources = []string{"d01"} }, pick(has(" d01 "))},
		{"a case", func(o *CodingsOptions) { o.Cases = []string{"P02"} }, pick(has(" d01 "))},
		{"an attribute from cases.csv", func(o *CodingsOptions) { o.Attrs = []string{"gender=female"} }, pick(has(" p01 "))},
		{"the kind", func(o *CodingsOptions) { o.Attrs = []string{"kind=diary"} }, pick(has(" d01 "))},
		{"a source attribute", func(o *CodingsOptions) { o.Attrs = []string{"wave=1"} }, pick(has(" p01 "))},
		{"values of one attribute are alternatives", func(o *CodingsOptions) { o.Attrs = []string{"site=North", "site=South"} }, all},
		{"attributes must all hold", func(o *CodingsOptions) { o.Attrs = []string{"gender=female", "wave=2"} }, nil},
		{"coder, source and code", func(o *CodingsOptions) {
			o.Coders, o.Sources, o.Codes = []string{"alice"}, []string{"p01"}, []string{"plots"}
		}, []string{"plots p01 211-255 alice"}},
		{"a code only the codings know", func(o *CodingsOptions) { o.Codes = []string{"legacy"} }, []string{"legacy p01 3-6 bob"}},
		// Queries that give codings: A NOT B.
		{"a theme not one of its codes", func(o *CodingsOptions) { o.Codes, o.Not = []string{"belonging"}, []string{"gate"} },
			[]string{"welcome d01 36-50 alice", "welcome p01 73-100 alice", "welcome p01 81-99 bob", "welcome p01 101-115 alice"}},
		{"not in the same paragraph", func(o *CodingsOptions) {
			o.Codes, o.Not, o.Unit = []string{"welcome"}, []string{"gate"}, corpus.UnitParagraph
		}, []string{"welcome d01 36-50 alice"}},
		{"not, by one coder", func(o *CodingsOptions) {
			o.Codes, o.Not, o.Coders = []string{"welcome"}, []string{"plots"}, []string{"bob"}
		}, []string{"welcome p01 81-99 bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, msg, err := codingsRun(p, func(o *CodingsOptions) { tt.set(o); o.JSON = true })
			if err != nil {
				t.Fatal(err)
			}
			var got []codingsExtract
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
			var desc []string
			for _, e := range got {
				d := fmt.Sprintf("%s %s %d-%d %s", e.Code, e.Source, e.Start, e.End, e.Coder)
				if e.Orphan {
					d += " orphan"
				}
				desc = append(desc, d)
			}
			if !slices.Equal(desc, tt.want) {
				t.Errorf("got  %q\nwant %q", desc, tt.want)
			}
			if want := fmt.Sprintf("%d extract", len(tt.want)); !strings.HasPrefix(msg, want) {
				t.Errorf("message %q, want %q", msg, want)
			}
		})
	}
}

// TestCodingsExtractFields checks one extract field by field.
func TestCodingsExtractFields(t *testing.T) {
	p := codingsTestProject(t)
	out, _, err := codingsRun(p, func(o *CodingsOptions) {
		o.Codes, o.Coders, o.Sources, o.JSON = []string{"welcome"}, []string{"alice"}, []string{"p01"}, true
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []codingsExtract
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d extracts", len(got))
	}
	want := codingsExtract{
		ID: analysis.CodingID("p01", 101, 115, "welcome", "alice"), Code: "welcome",
		Path:   []string{"Finding a place", "Arriving", "Being welcomed"},
		Source: "p01", Segment: "t2.p1.s3", Citation: "(Interview 1)", Case: "P01", Speaker: "Ana",
		Line: 4, Start: 101, End: 115, Quote: "I felt welcome", Coder: "alice", Origin: "manual", Time: codeTestTime,
	}
	if g := got[1]; !slices.Equal(g.Path, want.Path) || fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("got  %+v\nwant %+v", g, want)
	}
	// A coding of a whole segment keeps that segment's id.
	if got[0].Segment != "t2.p1.s2" || got[0].Line != 3 {
		t.Errorf("got %+v", got[0])
	}
}

func TestCodingsQueries(t *testing.T) {
	p := codingsTestProject(t)
	tests := []struct {
		name string
		set  func(o *CodingsOptions)
		want []string // "source segment start-end codes"
	}{
		{"and: overlapping text (none here)", func(o *CodingsOptions) {
			o.Codes, o.And = []string{"welcome"}, []string{"gate"}
		}, nil},
		{"and: same paragraph", func(o *CodingsOptions) {
			o.Codes, o.And, o.Unit = []string{"welcome"}, []string{"gate"}, corpus.UnitParagraph
		}, []string{"p01 t2.p1 42-136 gate,welcome 42-72,44-64,73-100,81-99,101-115"}},
		{"and: same sentence (none here)", func(o *CodingsOptions) {
			o.Codes, o.And, o.Unit = []string{"welcome"}, []string{"gate"}, corpus.UnitSentence
		}, nil},
		{"and: A with itself joins overlapping codings", func(o *CodingsOptions) {
			o.Codes, o.And, o.Coders = []string{"welcome"}, []string{"welcome"}, []string{"alice", "bob"}
		}, []string{"d01 e1.p1.s2 36-50 welcome 36-50", "p01 t2.p1.s2 73-100 welcome 73-100,81-99", "p01 t2.p1.s3 101-115 welcome 101-115"}},
		{"and: either of two codes, same turn", func(o *CodingsOptions) {
			o.Codes, o.And, o.Unit = []string{"welcome"}, []string{"gate, plots"}, corpus.UnitTurn
		}, []string{"p01 t2 42-194 gate,welcome 42-72,44-64,73-100,81-99,101-115"}},
		{"and: two operands", func(o *CodingsOptions) {
			o.Codes, o.And, o.Unit = []string{"welcome"}, []string{"gate", "plots"}, corpus.UnitTurn
		}, nil},
		{"and with not", func(o *CodingsOptions) {
			o.Codes, o.And, o.Not, o.Unit = []string{"welcome"}, []string{"welcome"}, []string{"gate"}, corpus.UnitParagraph
		}, []string{"d01 e1.p1 11-58 welcome 36-50"}},
		{"and, by attribute", func(o *CodingsOptions) {
			o.Codes, o.And, o.Unit, o.Attrs = []string{"welcome"}, []string{"plots"}, corpus.UnitTurn, []string{"kind=diary"}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, msg, err := codingsRun(p, func(o *CodingsOptions) { tt.set(o); o.JSON = true })
			if err != nil {
				t.Fatal(err)
			}
			var got []codingsHit
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v:\n%s", err, out)
			}
			var desc []string
			for _, h := range got {
				var spans []string
				for _, c := range h.Codings {
					spans = append(spans, fmt.Sprintf("%d-%d", c.Start, c.End))
				}
				desc = append(desc, fmt.Sprintf("%s %s %d-%d %s %s", h.Source, h.Segment, h.Start, h.End,
					strings.Join(h.Codes, ","), strings.Join(spans, ",")))
				if q := string([]rune(codeTestSourceText(h.Source))[h.Start:h.End]); q != h.Quote {
					t.Errorf("hit %d-%d quotes %q, the text there is %q", h.Start, h.End, h.Quote, q)
				}
			}
			if !slices.Equal(desc, tt.want) {
				t.Errorf("got  %q\nwant %q", desc, tt.want)
			}
			if want := fmt.Sprintf("%d hit", len(tt.want)); !strings.HasPrefix(msg, want) {
				t.Errorf("message %q, want %q", msg, want)
			}
		})
	}
}

func codeTestSourceText(id string) string {
	if id == "d01" {
		return codeTestDiary
	}
	return codeTestInterview
}

func TestCodingsErrors(t *testing.T) {
	p := codingsTestProject(t)
	tests := []struct {
		set func(o *CodingsOptions)
		err string
	}{
		{func(o *CodingsOptions) { o.Codes = []string{"nope"} }, "--code nope: no such code in codebook.yaml or in the codings"},
		{func(o *CodingsOptions) { o.Codes, o.And = []string{"welcome"}, []string{"nope"} }, "--and nope: no such code"},
		{func(o *CodingsOptions) { o.Codes, o.Not = []string{"welcome"}, []string{"nope"} }, "--not nope: no such code"},
		{func(o *CodingsOptions) { o.Coders = []string{"carol"} }, `no codings by "carol" (coders: alice, bob)`},
		{func(o *CodingsOptions) { o.Sources = []string{"zzz"} }, "--source zzz: no such source"},
		{func(o *CodingsOptions) { o.Cases = []string{"P09"} }, "--case P09: no source or row of cases.csv"},
		{func(o *CodingsOptions) { o.Unit = "sentence" }, "--unit applies to the queries"},
		{func(o *CodingsOptions) { o.And = []string{"gate"} }, "--and and --not need --code"},
		{func(o *CodingsOptions) { o.Codes, o.Not, o.Unit = []string{"gate"}, []string{"welcome"}, "chapter" }, `--unit "chapter"`},
		{func(o *CodingsOptions) { o.Attrs = []string{"gender"} }, `--attr "gender": want key=value`},
	}
	for _, tt := range tests {
		_, _, err := codingsRun(p, tt.set)
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("got %v, want %q", err, tt.err)
			continue
		}
		if _, ok := err.(*errs.InputError); !ok {
			t.Errorf("%v: %T is not an *errs.InputError", err, err)
		}
	}
}

// TestCodingsNoCodebook lists codings of a project whose codebook is gone.
func TestCodingsNoCodebook(t *testing.T) {
	p := codingsTestProject(t)
	if err := os.Remove(p.Path(corpus.CodebookFile)); err != nil {
		t.Fatal(err)
	}
	out, _, err := codingsRun(p, func(o *CodingsOptions) { o.Codes = []string{"plots"} })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "plots  (not in the codebook)") || strings.Count(out, "\n    ") != 2 {
		t.Errorf("got:\n%s", out)
	}
}

// TestCodingsGolden checks the text listing and a query's text output.
func TestCodingsGolden(t *testing.T) {
	p := codingsTestProject(t)
	runs := []struct {
		file string
		set  func(o *CodingsOptions)
	}{
		{"list.golden", func(o *CodingsOptions) {}},
		{"and-paragraph.golden", func(o *CodingsOptions) {
			o.Codes, o.And, o.Unit = []string{"welcome"}, []string{"gate"}, corpus.UnitParagraph
		}},
		{"and-overlap.golden", func(o *CodingsOptions) {
			o.Codes, o.And = []string{"welcome"}, []string{"welcome"}
		}},
	}
	for _, r := range runs {
		out, _, err := codingsRun(p, r.set)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "codings", r.file)
		if *codingsUpdate {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update-codings to create it)", err)
		}
		if out != string(want) {
			t.Errorf("%s differs:\n%s", path, codingsDiff(string(want), out))
		}
	}
}

// codingsDiff shows the first differing line of two texts.
func codingsDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\nwant %q\ngot  %q", i+1, a, b)
		}
	}
	return ""
}

// BenchmarkCodings lists 20,000 codings of one coder as JSON extracts.
func BenchmarkCodings(b *testing.B) {
	p := codeTestProject(b)
	text := []rune(codeTestInterview)
	var cs []analysis.Coding
	codes := []string{"welcome", "gate", "plots"}
	for i := 0; i < 20000; i++ {
		s := i % (len(text) - 20)
		c, err := analysis.NewCoding("p01", codeTestInterview, s, s+1+i%19, codes[i%3], "alice", analysis.OriginManual, codeTestTime)
		if err != nil {
			b.Fatal(err)
		}
		cs = append(cs, c)
	}
	if err := (analysis.Store{Dir: p.Path(corpus.CodingsDir)}).Save("alice", cs); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		ios := &IOStreams{Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
		if err := runCodings(&CodingsOptions{IO: ios, Project: func() (*corpus.Project, error) { return p, nil },
			Codes: []string{"belonging"}, JSON: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// A listing read a few codes at a time is the listing read at once.
func TestCodingsInBatches(t *testing.T) {
	p := codingsTestProject(t)
	for _, set := range []func(o *CodingsOptions){
		func(o *CodingsOptions) {},
		func(o *CodingsOptions) { o.JSON = true },
		func(o *CodingsOptions) { o.Sources = []string{"p01"}; o.JSON = true },
		func(o *CodingsOptions) { o.Codes = []string{"welcome", "plots"} },
	} {
		whole, wholeErr, err := codingsRun(p, set)
		if err != nil {
			t.Fatal(err)
		}
		func() {
			defer func(n int) { codingsBatch = n }(codingsBatch)
			codingsBatch = 1
			got, gotErr, err := codingsRun(p, set)
			if err != nil || got != whole || gotErr != wholeErr {
				t.Fatalf("in batches (%v):\n%s%s\nat once:\n%s%s", err, got, gotErr, whole, wholeErr)
			}
		}()
		if !strings.Contains(wholeErr, "extract") {
			t.Fatalf("no count on stderr: %q", wholeErr)
		}
	}
}
