package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

var agreeUpdate = flag.Bool("update-agree", false, "rewrite the golden files under testdata/agree")

// agreeGolden compares got with testdata/agree/name.
func agreeGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "agree", name)
	if *agreeUpdate {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update-agree to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// agreeTestText has ten sentences (s1..s10); see analysis/agree_test.go,
// which works the same codings out by hand.
const agreeTestText = "I: How did the first week go?\n\nP: It was hard. I knew nobody. Then Kath said hello.\n\n" +
	"The slugs ate everything. I cried a bit.\n\nI: And the rota?\n\nP: The rota is a mess. Nobody reads it. I like the plot though.\n"

const agreeTestCodebook = `themes:
  - id: belonging
    name: Belonging
    codes:
      - id: kindness
        name: Kindness of others
      - id: struggle
        name: Struggling at first
      - id: unused
        name: Never used
`

// agreeTestProject makes a project with one interview, p01, coded by alice
// and bob:
//
//	struggle  s1 s2 s3 s4 s5 s6 s7 s8 s9 s10
//	alice      .  x  x  .  x  x  .  .  .  .
//	bob        .  x  x  .  .  x  .  x  x  .
//
// and kindness on s4 by both. The 2x2 table of struggle has 3 both, 1
// alice only, 2 bob only and 4 neither: percent 70%, Cohen's kappa
// (0.7-0.5)/0.5 = 0.400, Fleiss' kappa 13/33 = 0.394, alpha 14/33 = 0.424,
// Brennan-Prediger 0.400.
func agreeTestProject(t *testing.T) (*corpus.Project, *IOStreams, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	p, err := corpus.Init(filepath.Join(dir, "study"), "study")
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "p01.txt")
	if err := os.WriteFile(in, []byte(agreeTestText), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Ingest([]string{in}, corpus.IngestOptions{Kind: corpus.KindInterview}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.Path(corpus.CodebookFile), []byte(agreeTestCodebook), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := p.Source("p01", true)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(src.Text, "I: How did") {
		t.Fatalf("ingested text %q", src.Text)
	}
	when := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	code := func(coder, code string, spans ...[2]int) []analysis.Coding {
		var out []analysis.Coding
		for _, sp := range spans {
			c, err := analysis.NewCoding(src.ID, src.Text, sp[0], sp[1], code, coder, analysis.OriginManual, when)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
		return out
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	alice := append(code("alice", "struggle", [2]int{34, 61}, [2]int{85, 110}, [2]int{113, 118}), code("alice", "kindness", [2]int{62, 83})...)
	bob := append(code("bob", "struggle", [2]int{34, 46}, [2]int{47, 62}, [2]int{111, 125}, [2]int{148, 184}), code("bob", "kindness", [2]int{62, 83})...)
	if err := store.Save("alice", alice); err != nil {
		t.Fatal(err)
	}
	if err := store.Save("bob", bob); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	return p, &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, &out, &errOut
}

func agreeTestOpts(p *corpus.Project, ios *IOStreams) *AgreeOptions {
	return &AgreeOptions{IO: ios, Project: func() (*corpus.Project, error) { return p, nil },
		Coders: []string{"alice", "bob"}, Unit: corpus.UnitSentence, Uncoded: "absent"}
}

// agreeLine returns the fields of the first output line whose first field is
// first.
func agreeLine(t *testing.T, out, first string) []string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == first {
			return f
		}
	}
	t.Fatalf("no line starting with %q in:\n%s", first, out)
	return nil
}

func TestAgreeText(t *testing.T) {
	p, ios, out, errOut := agreeTestProject(t)
	if err := runAgree(agreeTestOpts(p, ios)); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for first, want := range map[string][]string{
		// CODE UNITS BY-ALICE BY-BOB AGREE COHEN FLEISS ALPHA B-P
		"struggle": {"struggle", "10", "4", "5", "70.0%", "0.400", "0.394", "0.424", "0.400"},
		"kindness": {"kindness", "10", "1", "1", "100.0%", "1.000", "1.000", "1.000", "1.000"},
		// 20 unit x code pairs: 4 both, 1 alice only, 2 bob only, 13
		// neither. Po = 0.85; Cohen: Pe = 0.25*0.3 + 0.75*0.7 = 0.6, kappa
		// 0.625; Fleiss: p = 11/40, Pe = 0.60125, kappa = 0.24875/0.39875 =
		// 0.624; alpha: Do = 6/40, De = 2*11*29/(40*39), alpha = 0.633;
		// B-P = 0.7.
		"(all": {"(all", "codes)", "20", "5", "6", "85.0%", "0.625", "0.624", "0.633", "0.700"},
	} {
		if f := agreeLine(t, got, first); !reflect.DeepEqual(f, want) {
			t.Errorf("line %v, want %v", f, want)
		}
	}
	// Character level, struggle in p01 (209 characters with the final
	// newline): alice 57, bob 77, both 31, neither 209-57-77+31 = 106.
	// Po = 137/209 = 65.6%; Pe = (57*77 + 152*132)/209² = 24453/43681;
	// kappa = (137*209 - 24453)/(43681 - 24453) = 4180/19228 = 0.217.
	var chars []string
	for _, l := range strings.Split(got, "\n") {
		if strings.HasPrefix(l, "struggle") && strings.Contains(l, "alice/bob") {
			chars = append(chars, strings.Join(strings.Fields(l), " "))
		}
	}
	want := []string{
		"struggle p01 alice/bob 209 65.6% 0.217 31 26 46",
		"struggle (all sources) alice/bob 209 65.6% 0.217 31 26 46",
	}
	if !reflect.DeepEqual(chars, want) {
		t.Errorf("character rows\n got %q\nwant %q", chars, want)
	}
	if !strings.Contains(got, "3 disagreements") {
		t.Errorf("no disagreement count in\n%s", got)
	}
	if !strings.Contains(got, "on 10 sentences in 1 source") || !strings.Contains(got, "overlaps it by at least one character") {
		t.Errorf("no header in\n%s", got)
	}
	if errOut.Len() != 0 {
		t.Errorf("stderr: %s", errOut)
	}
	// The whole report, whose numbers are checked above.
	agreeGolden(t, "report.txt", got)
}

func TestAgreeUndefinedAndOptions(t *testing.T) {
	p, ios, out, _ := agreeTestProject(t)
	opts := agreeTestOpts(p, ios)
	opts.Codes = []string{"unused", "struggle"}
	opts.MinOverlap = 0.5 // "cried" (5 of 14) no longer codes s6 for alice
	if err := runAgree(opts); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	// Nobody coded "unused": 100% agreement, the kappas and alpha undefined,
	// B-P = (1 - 0.5)/0.5.
	if f := agreeLine(t, got, "unused"); !reflect.DeepEqual(f, []string{"unused", "10", "0", "0", "100.0%", "—", "—", "—", "1.000"}) {
		t.Errorf("unused: %v", f)
	}
	// struggle at half cover: both 2, alice 1, bob 3, neither 4: Po 0.6,
	// Pe = 0.3*0.5 + 0.7*0.5 = 0.5, kappa 0.2.
	if f := agreeLine(t, got, "struggle"); f[4] != "60.0%" || f[5] != "0.200" {
		t.Errorf("struggle at 0.5: %v", f)
	}
	if !strings.Contains(got, "unused: cohen-kappa: no variation") || !strings.Contains(got, "cover at least 50.0% of its characters") {
		t.Errorf("no notes or rule in\n%s", got)
	}
	if strings.Contains(got, "NaN") {
		t.Errorf("NaN in\n%s", got)
	}
	agreeGolden(t, "undefined.txt", got)

	// A theme folds in its codes: alice s2-s6, bob s2-s4, s6, s8, s9.
	out.Reset()
	opts = agreeTestOpts(p, ios)
	opts.Codes = []string{"belonging"}
	opts.Unit = corpus.UnitParagraph
	if err := runAgree(opts); err != nil {
		t.Fatal(err)
	}
	// Paragraphs t1.p1, t2.p1, t2.p2, t3.p1, t4.p1: alice .xx.. bob .xx.x:
	// Po 0.8; Pe = 0.4*0.6 + 0.6*0.4 = 0.48; kappa = 0.32/0.52 = 0.615.
	if f := agreeLine(t, out.String(), "belonging"); !reflect.DeepEqual(f[:6], []string{"belonging", "5", "2", "3", "80.0%", "0.615"}) {
		t.Errorf("belonging by paragraph: %v", f)
	}
}

func TestAgreeJSON(t *testing.T) {
	p, ios, out, _ := agreeTestProject(t)
	opts := agreeTestOpts(p, ios)
	opts.JSON = true
	opts.Codes = []string{"struggle", "unused"}
	if err := runAgree(opts); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Coders  []string `json:"coders"`
		Unit    string   `json:"unit"`
		Sources []string `json:"sources"`
		Units   int      `json:"units"`
		Codes   []struct {
			Code   string         `json:"code"`
			Name   string         `json:"name"`
			Coded  map[string]int `json:"coded"`
			Cohen  agreeStat      `json:"cohen_kappa"`
			Alpha  agreeStat      `json:"alpha_nominal"`
			Fleiss agreeStat      `json:"fleiss_kappa"`
		} `json:"codes"`
		Pooled struct {
			Percent agreeStat `json:"percent"`
		} `json:"pooled"`
		Chars []struct {
			Source string    `json:"source"`
			Both   int       `json:"both"`
			Kappa  agreeStat `json:"kappa"`
		} `json:"chars"`
		Disagreements []agreeJSONDisagreement `json:"disagreements"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v in\n%s", err, out)
	}
	if got.Unit != "sentence" || got.Units != 10 || !reflect.DeepEqual(got.Sources, []string{"p01"}) || !reflect.DeepEqual(got.Coders, []string{"alice", "bob"}) {
		t.Errorf("header %+v", got)
	}
	if len(got.Codes) != 2 {
		t.Fatalf("codes %+v", got.Codes)
	}
	s, u := got.Codes[0], got.Codes[1]
	if s.Code != "struggle" || s.Name != "Struggling at first" || s.Coded["alice"] != 4 || s.Coded["bob"] != 5 {
		t.Errorf("struggle %+v", s)
	}
	if s.Cohen.Value == nil || math.Abs(*s.Cohen.Value-0.4) > 1e-12 || s.Cohen.Pe == nil || *s.Cohen.Pe != 0.5 || !s.Cohen.Defined {
		t.Errorf("struggle cohen %+v", s.Cohen)
	}
	if s.Alpha.Do == nil || math.Abs(*s.Alpha.Do-0.3) > 1e-12 || s.Alpha.Pairable != 20 {
		t.Errorf("struggle alpha %+v", s.Alpha)
	}
	if u.Cohen.Value != nil || u.Cohen.Defined || u.Cohen.Note == "" {
		t.Errorf("unused cohen should be null with a note: %+v", u.Cohen)
	}
	if !strings.Contains(out.String(), `"value": null`) {
		t.Error(`no "value": null in the JSON`)
	}
	// Pooled over struggle and unused: 20 pairs, 3 disagreements, 17 agree.
	if v := got.Pooled.Percent.Value; v == nil || *v != 0.85 {
		t.Errorf("pooled percent %v", v)
	}
	// struggle in p01 and over all sources; unused over all sources only
	// (nobody coded it in p01), where kappa is undefined.
	if len(got.Chars) != 3 || got.Chars[0].Source != "p01" || got.Chars[0].Both != 31 || got.Chars[1].Source != "" ||
		got.Chars[2].Source != "" || got.Chars[2].Kappa.Value != nil {
		t.Errorf("chars %+v", got.Chars)
	}
	want := []agreeJSONDisagreement{
		{Code: "struggle", Source: "p01", Segment: "t2.p2.s1", Citation: "(Interview 1)", Speaker: "P", Line: 5, Start: 85, End: 110,
			Text: "The slugs ate everything.", CodedBy: []string{"alice"}, NotCodedBy: []string{"bob"}},
		{Code: "struggle", Source: "p01", Segment: "t4.p1.s1", Citation: "(Interview 1)", Speaker: "P", Line: 9, Start: 148, End: 167,
			Text: "The rota is a mess.", CodedBy: []string{"bob"}, NotCodedBy: []string{"alice"}},
		{Code: "struggle", Source: "p01", Segment: "t4.p1.s2", Citation: "(Interview 1)", Speaker: "P", Line: 9, Start: 168, End: 184,
			Text: "Nobody reads it.", CodedBy: []string{"bob"}, NotCodedBy: []string{"alice"}},
	}
	if !reflect.DeepEqual(got.Disagreements, want) {
		t.Errorf("disagreements\n got %+v\nwant %+v", got.Disagreements, want)
	}
}

func TestAgreeXLSX(t *testing.T) {
	p, ios, _, errOut := agreeTestProject(t)
	opts := agreeTestOpts(p, ios)
	opts.XLSX = filepath.Join(t.TempDir(), "agreement.xlsx")
	opts.Codes = []string{"struggle", "unused"}
	if err := runAgree(opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "Wrote "+opts.XLSX+" (3 disagreements)") {
		t.Errorf("stderr %q", errOut)
	}
	f, err := excelize.OpenFile(opts.XLSX)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); !reflect.DeepEqual(got, []string{"Summary", "Characters", "Disagreements", "About"}) {
		t.Errorf("sheets %v", got)
	}
	rows, err := f.GetRows("Disagreements")
	if err != nil {
		t.Fatal(err)
	}
	wantRows := [][]string{
		{"Source", "Segment", "Citation", "Speaker", "Text", "Code", "Coded by", "Not coded by", "Decision"},
		{"p01", "t2.p2.s1", "(Interview 1)", "P", "The slugs ate everything.", "struggle", "alice", "bob"},
		{"p01", "t4.p1.s1", "(Interview 1)", "P", "The rota is a mess.", "struggle", "bob", "alice"},
		{"p01", "t4.p1.s2", "(Interview 1)", "P", "Nobody reads it.", "struggle", "bob", "alice"},
	}
	if !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("Disagreements sheet\n got %q\nwant %q", rows, wantRows)
	}
	// Summary: numbers are numbers, undefined statistics the mark.
	sum, err := f.GetRows("Summary", excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum) != 4 {
		t.Fatalf("summary rows %q", sum)
	}
	head := sum[0]
	col := func(title string) int {
		for i, h := range head {
			if h == title {
				return i
			}
		}
		t.Fatalf("no column %q in %q", title, head)
		return -1
	}
	num := func(s string) float64 {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Errorf("cell %q is not a number", s)
		}
		return x
	}
	if r := sum[1]; r[0] != "struggle" || math.Abs(num(r[col("Cohen's kappa")])-0.4) > 1e-9 || r[col("Coded by bob")] != "5" ||
		math.Abs(num(r[col("Percent agreement")])-0.7) > 1e-9 || math.Abs(num(r[col("Krippendorff's alpha (nominal)")])-14.0/33) > 1e-9 {
		t.Errorf("struggle row %q", r)
	}
	if r := sum[2]; r[0] != "unused" || r[col("Cohen's kappa")] != "—" || !strings.Contains(r[col("Notes")], "no variation") {
		t.Errorf("unused row %q", r)
	}
	if r := sum[3]; r[0] != "(all codes)" || r[col("Units")] != "20" {
		t.Errorf("pooled row %q", r)
	}
	// As displayed: 31, 106, 26 and 46 of 209 characters.
	chars, _ := f.GetRows("Characters")
	wantChars := [][]string{
		{"Code", "Source", "Citation", "Coder A", "Coder B", "Characters", "Agreement", "Kappa", "A and B", "Neither", "A not B", "B not A", "Notes"},
		{"struggle", "p01", "(Interview 1)", "alice", "bob", "209", "65.6%", "0.217", "14.8%", "50.7%", "12.4%", "22.0%"},
		{"struggle", "(all sources)", "", "alice", "bob", "209", "65.6%", "0.217", "14.8%", "50.7%", "12.4%", "22.0%"},
		{"unused", "(all sources)", "", "alice", "bob", "209", "100.0%", "—", "0.0%", "100.0%", "0.0%", "0.0%",
			"char-kappa: no variation: neither coder coded any character, kappa undefined"},
	}
	if !reflect.DeepEqual(chars, wantChars) {
		t.Errorf("Characters sheet\n got %q\nwant %q", chars, wantChars)
	}
}

func TestAgreeTable(t *testing.T) {
	dir := t.TempDir()
	// Six units both coders rated, one with bob's value missing:
	// agreement on u1 u3 u4 u5, so Po = 4/6; each coder says 1 three times
	// in six: Pe = 0.5, Cohen = Fleiss = B-P = (4/6 - 0.5)/0.5 = 0.333.
	// Alpha: n = 12 pairable values (u7 has one), six 1s and six 0s; Do =
	// 4/12, De = 2*6*6/(12*11) = 72/132; alpha = 1 - 44/72 = 0.389. With
	// two values every level's difference is the same for every
	// disagreeing pair, so every level gives 0.389.
	csv := "unit,alice,bob\nu1,1,1\nu2,1,0\nu3,0,0\nu4,0,0\nu5,1,1\nu6,0,1\nu7,1,NA\n"
	file := filepath.Join(dir, "ratings.csv")
	if err := os.WriteFile(file, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	ios := &IOStreams{Out: &out, ErrOut: &errOut}
	if err := runAgree(&AgreeOptions{IO: ios, Table: file}); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for first, want := range map[string][]string{
		"percent":          {"percent", "66.7%", "6", "1"},
		"cohen-kappa":      {"cohen-kappa", "0.333", "6", "1"},
		"fleiss-kappa":     {"fleiss-kappa", "0.333", "6", "1"},
		"brennan-prediger": {"brennan-prediger", "0.333", "6", "1"},
		"alpha-nominal":    {"alpha-nominal", "0.389", "6", "1"},
		"alpha-ordinal":    {"alpha-ordinal", "0.389", "6", "1"},
		"alpha-interval":   {"alpha-interval", "0.389", "6", "1"},
		"alpha-ratio":      {"alpha-ratio", "0.389", "6", "1"},
	} {
		if f := agreeLine(t, got, first); !reflect.DeepEqual(f[:4], want) {
			t.Errorf("%s: %v, want %v", first, f, want)
		}
	}
	if !strings.Contains(got, "7 units, 2 coders (alice, bob), 2 distinct values; Brennan-Prediger with q = 2") {
		t.Errorf("header in\n%s", got)
	}

	// One level; categories; labels cannot be interval.
	labels := filepath.Join(dir, "labels.csv")
	os.WriteFile(labels, []byte("unit,a,b,c\nx,yes,yes,no\ny,no,no,no\nz,yes,yes,yes\n"), 0o644)
	out.Reset()
	if err := runAgree(&AgreeOptions{IO: ios, Table: labels, Level: "interval", Categories: 3, JSON: true}); err != nil {
		t.Fatal(err)
	}
	var js struct {
		Categories int         `json:"categories"`
		Statistics []agreeStat `json:"statistics"`
	}
	if err := json.Unmarshal(out.Bytes(), &js); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range js.Statistics {
		names = append(names, s.Statistic)
	}
	if want := []string{"percent", "cohen-kappa", "fleiss-kappa", "brennan-prediger", "alpha-interval"}; !reflect.DeepEqual(names, want) {
		t.Errorf("statistics %v, want %v", names, want)
	}
	last := js.Statistics[len(js.Statistics)-1]
	if js.Categories != 3 || last.Value != nil || !strings.Contains(last.Note, "needs numbers") {
		t.Errorf("interval alpha on labels: %+v (q %d)", last, js.Categories)
	}
	// Three coders: percent = (1 + 1/3 + 1 + ... ) -- x has 1 agreeing pair
	// of 3, y and z all 3: (1/3 + 1 + 1)/3 = 7/9; B-P with q = 3:
	// (7/9 - 1/3)/(2/3) = 2/3.
	if bp := js.Statistics[3]; bp.Value == nil || *bp.Value < 0.6666 || *bp.Value > 0.6667 {
		t.Errorf("brennan-prediger q=3: %+v", bp)
	}
	if js.Statistics[1].Value != nil {
		t.Errorf("cohen with 3 coders should be undefined: %+v", js.Statistics[1])
	}
}

func TestAgreeErrors(t *testing.T) {
	p, ios, _, _ := agreeTestProject(t)
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("unit,a\nu1,1\nu1,0\n"), 0o644)
	for _, tc := range []struct {
		name string
		edit func(o *AgreeOptions)
		want string
	}{
		{"one coder", func(o *AgreeOptions) { o.Coders = []string{"alice"} }, "at least 2 coders"},
		{"twice", func(o *AgreeOptions) { o.Coders = []string{"alice", "alice"} }, "named twice"},
		{"bad name", func(o *AgreeOptions) { o.Coders = []string{"alice", "Bob"} }, "upper-case"},
		{"no such coder", func(o *AgreeOptions) { o.Coders = []string{"alice", "carol"} }, `no coder "carol": codings/carol.jsonl does not exist (coders: alice, bob)`},
		{"unit", func(o *AgreeOptions) { o.Unit = "word" }, `--unit "word"`},
		{"overlap", func(o *AgreeOptions) { o.MinOverlap = 2 }, "--min-overlap"},
		{"uncoded", func(o *AgreeOptions) { o.Uncoded = "zero" }, "--uncoded"},
		{"source", func(o *AgreeOptions) { o.Sources = []string{"p99"} }, `no source "p99"`},
		{"both source flags", func(o *AgreeOptions) { o.Sources = []string{"p01"}; o.AllSources = true }, "exclude each other"},
		{"code", func(o *AgreeOptions) { o.Codes = []string{"nope"} }, `no code "nope"`},
		{"xlsx name", func(o *AgreeOptions) { o.XLSX = "report.csv" }, "must end in .xlsx"},
		{"level without table", func(o *AgreeOptions) { o.Level = "ordinal" }, "--level goes with --table"},
		{"table and coders", func(o *AgreeOptions) { o.Table = bad }, "--table reads its coders"},
		{"table missing", func(o *AgreeOptions) { o.Coders = nil; o.Table = "/nonexistent/t.csv" }, "/nonexistent/t.csv: cannot read the table"},
		{"table bad", func(o *AgreeOptions) { o.Coders = nil; o.Table = bad }, bad + `:3:1: unit "u1" appears twice`},
		{"table level", func(o *AgreeOptions) { o.Coders = nil; o.Table = bad; o.Level = "loud" }, "--level"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := agreeTestOpts(p, ios)
			tc.edit(opts)
			err := runAgree(opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// A second source coded by alice only counts (absent for bob) unless named
// out; the note on stderr says so.
func TestAgreeSourcesChoice(t *testing.T) {
	p, ios, out, errOut := agreeTestProject(t)
	in := filepath.Join(t.TempDir(), "n01.txt")
	os.WriteFile(in, []byte("Went to the plot. Watered the beans with Kath. Felt calm.\n"), 0o644)
	if _, err := p.Ingest([]string{in}, corpus.IngestOptions{Kind: corpus.KindNotes}); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "n02.txt")
	os.WriteFile(other, []byte("Nobody coded this.\n"), 0o644)
	if _, err := p.Ingest([]string{other}, corpus.IngestOptions{Kind: corpus.KindNotes}); err != nil {
		t.Fatal(err)
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	err := store.Update("alice", func(cs []analysis.Coding) ([]analysis.Coding, error) {
		c, err := analysis.NewCoding("n01", "Went to the plot. Watered the beans with Kath. Felt calm.\n", 18, 46, "kindness", "alice", analysis.OriginManual, time.Now())
		return append(cs, c), err
	})
	if err != nil {
		t.Fatal(err)
	}
	units := func(opts *AgreeOptions) int {
		out.Reset()
		opts.JSON = true
		if err := runAgree(opts); err != nil {
			t.Fatal(err)
		}
		var js struct {
			Units int `json:"units"`
		}
		json.Unmarshal(out.Bytes(), &js)
		return js.Units
	}
	if n := units(agreeTestOpts(p, ios)); n != 13 {
		t.Errorf("default: %d units, want 10 + 3", n)
	}
	if !strings.Contains(errOut.String(), "Note: n01 has no codings by bob, who count as coding none of its units") {
		t.Errorf("stderr %q", errOut)
	}
	o := agreeTestOpts(p, ios)
	o.AllSources = true
	if n := units(o); n != 14 {
		t.Errorf("--all-sources: %d units, want 14", n)
	}
	o = agreeTestOpts(p, ios)
	o.Sources = []string{"p01"}
	if n := units(o); n != 10 {
		t.Errorf("--sources p01: %d units, want 10", n)
	}
}

func TestAgreeResolve(t *testing.T) {
	p, ios, out, errOut := agreeTestProject(t)
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	resolve := func(rule string, force bool) error {
		out.Reset()
		errOut.Reset()
		return runAgreeResolve(&AgreeResolveOptions{IO: ios, Project: func() (*corpus.Project, error) { return p, nil },
			Coders: []string{"alice", "bob"}, Into: "consensus", Rule: rule, Force: force,
			Now: func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }})
	}
	spans := func() []string {
		cs, err := store.Load("consensus")
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, c := range cs {
			s = append(s, c.Code+":"+c.Quote+":"+c.Origin)
		}
		return s
	}
	if err := resolve("intersection", false); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"struggle:It was hard.:consensus:intersection",
		"struggle:I knew nobody.:consensus:intersection",
		"kindness:Then Kath said hello.:consensus:intersection",
		"struggle:cried:consensus:intersection",
	}
	if got := spans(); !reflect.DeepEqual(got, want) {
		t.Errorf("intersection\n got %q\nwant %q", got, want)
	}
	if !strings.Contains(errOut.String(), `Wrote 4 codings of coder "consensus" to codings/consensus.jsonl (rule intersection, from alice, bob)`) {
		t.Errorf("stderr %q", errOut)
	}
	if err := resolve("union", false); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("overwrite without --force: %v", err)
	}
	if err := resolve("union", true); err != nil {
		t.Fatal(err)
	}
	// alice's 4 and bob's 5, the shared kindness coding once.
	if got := spans(); len(got) != 8 {
		t.Errorf("union: %d codings %q, want 8", len(got), got)
	}
	if err := resolve("bob", true); err != nil {
		t.Fatal(err)
	}
	if got := spans(); len(got) != 5 || got[0] != "struggle:It was hard.:consensus:bob" {
		t.Errorf("bob's rule: %q", got)
	}
	// The consensus coder can be compared at once: against bob, all agree.
	out.Reset()
	opts := agreeTestOpts(p, ios)
	opts.Coders = []string{"consensus", "bob"}
	if err := runAgree(opts); err != nil {
		t.Fatal(err)
	}
	if f := agreeLine(t, out.String(), "struggle"); f[4] != "100.0%" || f[5] != "1.000" {
		t.Errorf("consensus vs bob: %v", f)
	}
	for _, tc := range []struct {
		coders     []string
		into, rule string
		want       string
	}{
		{[]string{"alice", "bob"}, "", "union", "--into"},
		{[]string{"alice", "bob"}, "alice", "union", "one of the coders"},
		{[]string{"alice", "bob"}, "x y", "union", "--into"},
		{[]string{"alice", "bob"}, "c2", "vote", `--rule "vote"`},
		{[]string{"alice", "zed"}, "c2", "union", `no coder "zed"`},
	} {
		err := runAgreeResolve(&AgreeResolveOptions{IO: ios, Project: func() (*corpus.Project, error) { return p, nil },
			Coders: tc.coders, Into: tc.into, Rule: tc.rule})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v into %q rule %q: %v, want %q", tc.coders, tc.into, tc.rule, err, tc.want)
		}
	}
	// The JSON form.
	out.Reset()
	err := runAgreeResolve(&AgreeResolveOptions{IO: ios, Project: func() (*corpus.Project, error) { return p, nil },
		Coders: []string{"alice", "bob"}, Into: "agreed", Rule: "alice", JSON: true})
	if err != nil {
		t.Fatal(err)
	}
	var js struct {
		File    string `json:"file"`
		Codings int    `json:"codings"`
	}
	if err := json.Unmarshal(out.Bytes(), &js); err != nil || js.File != "codings/agreed.jsonl" || js.Codings != 4 {
		t.Errorf("json %s (%v)", out, err)
	}
}

// The command line: flags reach the options, the subcommand is found.
func TestAgreeCommandLine(t *testing.T) {
	p, _, _, _ := agreeTestProject(t)
	var out, errOut bytes.Buffer
	ios := &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	if code := Main([]string{"-C", p.Root, "agree", "--coders", "alice,bob", "--codes", "struggle"}, ios); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if f := agreeLine(t, out.String(), "struggle"); f[5] != "0.400" {
		t.Errorf("struggle %v", f)
	}
	out.Reset()
	if code := Main([]string{"-C", p.Root, "agree", "resolve", "--coders", "alice,bob", "--into", "consensus"}, ios); code != 0 {
		t.Fatalf("resolve: exit %d: %s", code, errOut.String())
	}
	if _, err := os.Stat(p.Path(corpus.CodingsDir, "consensus.jsonl")); err != nil {
		t.Error(err)
	}
	errOut.Reset()
	if code := Main([]string{"-C", p.Root, "agree", "--coders", "alice,bob", "--level", "ordinal"}, ios); code != 1 || !strings.Contains(errOut.String(), "--level goes with --table") {
		t.Errorf("--level without --table: exit %d, %q", code, errOut.String())
	}
}
