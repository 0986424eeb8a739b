package analysis

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/thematic-qda/thematic/analysis/agreement"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
)

// agreeText has ten sentences, numbered here as the tests use them:
//
//	s1  [3,29)    How did the first week go?      (interviewer)
//	s2  [34,46)   It was hard.
//	s3  [47,61)   I knew nobody.
//	s4  [62,83)   Then Kath said hello.
//	s5  [85,110)  The slugs ate everything.
//	s6  [111,125) I cried a bit.
//	s7  [130,143) And the rota?                   (interviewer)
//	s8  [148,167) The rota is a mess.
//	s9  [168,184) Nobody reads it.
//	s10 [185,208) I like the plot though.
//
// The text is 208 code points long.
const agreeText = "I: How did the first week go?\n\nP: It was hard. I knew nobody. Then Kath said hello.\n\n" +
	"The slugs ate everything. I cried a bit.\n\nI: And the rota?\n\nP: The rota is a mess. Nobody reads it. I like the plot though."

// agreeSentences are the sentence spans listed above.
var agreeSentences = [][2]int{{3, 29}, {34, 46}, {47, 61}, {62, 83}, {85, 110}, {111, 125}, {130, 143}, {148, 167}, {168, 184}, {185, 208}}

// agreeSource segments text as ingest does.
func agreeSource(t testing.TB, id, kind, text string) *corpus.Source {
	t.Helper()
	segs, speakers := corpus.Segments(corpus.Document{Text: text}, kind, nil)
	return &corpus.Source{ID: id, Kind: kind, Text: text, Segments: segs, Speakers: speakers}
}

// agreeCoding codes text[start:end) of src.
func agreeCoding(t testing.TB, src *corpus.Source, start, end int, code, coder string) Coding {
	t.Helper()
	c, err := NewCoding(src.ID, src.Text, start, end, code, coder, OriginManual, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// agreeFixture is the interview above, coded by alice and bob:
//
// struggle, sentence by sentence (x = coded):
//
//	       s1 s2 s3 s4 s5 s6 s7 s8 s9 s10
//	alice   .  x  x  .  x  x  .  .  .  .     one coding over s2-s3, "cried" in s6
//	bob     .  x  x  .  .  x  .  x  x  .     s3's coding runs to 62, where s4 starts
//
// kindness: both coded s4 exactly.
func agreeFixture(t testing.TB) (*corpus.Source, map[string][]Coding) {
	t.Helper()
	src := agreeSource(t, "p01", corpus.KindInterview, agreeText)
	var got [][2]int
	for _, s := range src.Segments {
		if s.Unit == corpus.UnitSentence {
			got = append(got, [2]int{s.Start, s.End})
		}
	}
	if !reflect.DeepEqual(got, agreeSentences) {
		t.Fatalf("the test text no longer splits into the sentences the tests count on:\n got %v\nwant %v", got, agreeSentences)
	}
	codings := map[string][]Coding{
		"alice": {
			agreeCoding(t, src, 34, 61, "struggle", "alice"),
			agreeCoding(t, src, 85, 110, "struggle", "alice"),
			agreeCoding(t, src, 113, 118, "struggle", "alice"),
			agreeCoding(t, src, 62, 83, "kindness", "alice"),
		},
		"bob": {
			agreeCoding(t, src, 34, 46, "struggle", "bob"),
			agreeCoding(t, src, 47, 62, "struggle", "bob"),
			agreeCoding(t, src, 111, 125, "struggle", "bob"),
			agreeCoding(t, src, 148, 184, "struggle", "bob"),
			agreeCoding(t, src, 62, 83, "kindness", "bob"),
		},
	}
	return src, codings
}

const agreeCodebookYAML = `themes:
  - id: belonging
    name: Belonging
    codes:
      - id: kindness
        name: Kindness of others
      - id: struggle
        name: Struggling at first
`

func agreeCB(t testing.TB) *codebook.Codebook {
	t.Helper()
	cb, probs := codebook.Parse("codebook.yaml", []byte(agreeCodebookYAML))
	if len(probs) > 0 {
		t.Fatal(probs[0])
	}
	return cb
}

// agreeMarks renders code k's marks as one string per coder, "x" for coded.
func agreeMarks(ud *UnitData, k int) []string {
	out := make([]string, len(ud.Coders))
	for c := range ud.Coders {
		var b strings.Builder
		for _, m := range ud.Marks[k] {
			if m&(1<<c) != 0 {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		out[c] = b.String()
	}
	return out
}

func agreeClose(t *testing.T, what string, r agreement.Result, want float64) {
	t.Helper()
	if !r.Defined {
		t.Errorf("%s undefined (%s), want %.6f", what, r.Note, want)
		return
	}
	if math.Abs(r.Value-want) > 1e-9 {
		t.Errorf("%s = %.9f, want %.9f", what, r.Value, want)
	}
}

func TestBuildUnitDataMarks(t *testing.T) {
	src, codings := agreeFixture(t)
	cb := agreeCB(t)
	tests := []struct {
		name     string
		codes    []string
		minCover float64
		want     map[string][]string // code -> marks of alice, bob
	}{
		{"any overlap", nil, 0, map[string][]string{
			"kindness": {"...x......", "...x......"},
			"struggle": {".xx.xx....", ".xx..x.xx."},
		}},
		// "cried" is 5 of the 14 code points of s6: not half.
		{"half the unit", nil, 0.5, map[string][]string{
			"kindness": {"...x......", "...x......"},
			"struggle": {".xx.x.....", ".xx..x.xx."},
		}},
		// 5/14 = 0.357: just enough at 0.35, not at 0.36.
		{"cover 0.35", []string{"struggle"}, 0.35, map[string][]string{"struggle": {".xx.xx....", ".xx..x.xx."}}},
		{"cover 0.36", []string{"struggle"}, 0.36, map[string][]string{"struggle": {".xx.x.....", ".xx..x.xx."}}},
		// The theme folds in both its codes.
		{"theme", []string{"belonging"}, 0, map[string][]string{"belonging": {".xxxxx....", ".xxx.x.xx."}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srcs := []*corpus.Source{src}
			codes, err := AgreeCodes(cb, tc.codes, []string{"alice", "bob"}, codings, srcs)
			if err != nil {
				t.Fatal(err)
			}
			ud, err := BuildUnitData(srcs, codings, AgreeOptions{Coders: []string{"alice", "bob"}, Codes: codes, Unit: corpus.UnitSentence, MinCover: tc.minCover})
			if err != nil {
				t.Fatal(err)
			}
			if len(ud.Units) != 10 {
				t.Fatalf("%d units, want 10", len(ud.Units))
			}
			got := map[string][]string{}
			for k, c := range ud.Codes {
				got[c.ID] = agreeMarks(ud, k)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("marks\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestAgreeCodes(t *testing.T) {
	src, codings := agreeFixture(t)
	cb := agreeCB(t)
	codings["bob"] = append(codings["bob"], agreeCoding(t, src, 185, 208, "zzz_not_in_codebook", "bob"))
	srcs := []*corpus.Source{src}
	coders := []string{"alice", "bob"}
	ids := func(cs []AgreeCode) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID+"="+strings.Join(c.IDs, "+"))
		}
		return out
	}
	// Default: codebook order (kindness before struggle), then unknown codes.
	got, err := AgreeCodes(cb, nil, coders, codings, srcs)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"kindness=kindness", "struggle=struggle", "zzz_not_in_codebook=zzz_not_in_codebook"}; !reflect.DeepEqual(ids(got), want) {
		t.Errorf("default codes %v, want %v", ids(got), want)
	}
	if got[0].Name != "Kindness of others" {
		t.Errorf("name %q", got[0].Name)
	}
	// Without a codebook: name order.
	got, _ = AgreeCodes(nil, nil, coders, codings, srcs)
	if want := []string{"kindness=kindness", "struggle=struggle", "zzz_not_in_codebook=zzz_not_in_codebook"}; !reflect.DeepEqual(ids(got), want) {
		t.Errorf("no codebook: %v, want %v", ids(got), want)
	}
	// Named: in the order given, themes with their codes, repeats once.
	got, err = AgreeCodes(cb, []string{"struggle", "belonging", " struggle", "zzz_not_in_codebook"}, coders, codings, srcs)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"struggle=struggle", "belonging=belonging+kindness+struggle", "zzz_not_in_codebook=zzz_not_in_codebook"}; !reflect.DeepEqual(ids(got), want) {
		t.Errorf("named codes %v, want %v", ids(got), want)
	}
	// Codings on other sources do not count.
	if got, _ := AgreeCodes(cb, nil, coders, codings, nil); len(got) != 0 {
		t.Errorf("no sources: %v", ids(got))
	}
	if _, err := AgreeCodes(cb, []string{"nope"}, coders, codings, srcs); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown code: %v", err)
	}
}

func TestAgreeSources(t *testing.T) {
	a := &corpus.Source{ID: "a"}
	b := &corpus.Source{ID: "b"}
	c := &corpus.Source{ID: "c"}
	codings := map[string][]Coding{
		"alice": {{Source: "c", Code: "x"}},
		"bob":   {{Source: "a", Code: "x", Orphan: true}},
		"carol": {{Source: "b", Code: "x"}},
	}
	got := AgreeSources([]*corpus.Source{a, b, c}, []string{"alice", "bob"}, codings)
	if len(got) != 2 || got[0] != a || got[1] != c {
		t.Errorf("got %v, want a and c (carol is not compared)", got)
	}
}

// The 2x2 table of struggle (any overlap), from the marks above:
//
//	              bob x   bob .
//	alice x         3       1       4
//	alice .         2       4       6
//	                5       5      10
//
// percent: Po = (3+4)/10 = 0.7
// Cohen:   Pe = 0.4*0.5 + 0.6*0.5 = 0.5, kappa = (0.7-0.5)/(1-0.5) = 0.4
// Fleiss:  p(x) = 9/20, Pe = 0.45² + 0.55² = 0.505, kappa = 0.195/0.495 = 13/33
// alpha:   n = 20 values, 9 x and 11 ., 3 disagreeing units give o(x,.) =
//
//	o(.,x) = 3, so Do = 6/20 and De = 2*9*11/(20*19) = 198/380;
//	alpha = 1 - (6/20)/(198/380) = 1 - 19/33 = 14/33
//
// Brennan-Prediger (q = 2): (0.7 - 0.5)/(1 - 0.5) = 0.4
//
// kindness: both coded s4 only: Po = 1, Pe = 0.1² + 0.9² = 0.82, kappa = 1.
//
// Pooled over the 20 unit x code pairs: both 3+1 = 4, alice only 1, bob
// only 2, neither 4+9 = 13. Po = 17/20 = 0.85; alice 5/20, bob 6/20, so
// Pe = 0.25*0.3 + 0.75*0.7 = 0.6 and kappa = 0.25/0.4 = 0.625.
func TestAgreementStatistics(t *testing.T) {
	src, codings := agreeFixture(t)
	srcs := []*corpus.Source{src}
	codes, _ := AgreeCodes(agreeCB(t), nil, []string{"alice", "bob"}, codings, srcs)
	ud, err := BuildUnitData(srcs, codings, AgreeOptions{Coders: []string{"alice", "bob"}, Codes: codes, Unit: corpus.UnitSentence})
	if err != nil {
		t.Fatal(err)
	}
	rep := ud.Report()
	if len(rep.Codes) != 2 || rep.Codes[0].Code.ID != "kindness" || rep.Codes[1].Code.ID != "struggle" {
		t.Fatalf("codes %+v", rep.Codes)
	}
	kind, str, pool := rep.Codes[0], rep.Codes[1], rep.Pooled

	if !reflect.DeepEqual(str.Coded, []int{4, 5}) || str.Units != 10 {
		t.Errorf("struggle: coded %v of %d units, want [4 5] of 10", str.Coded, str.Units)
	}
	agreeClose(t, "struggle percent", str.Percent, 0.7)
	agreeClose(t, "struggle cohen", str.Cohen, 0.4)
	agreeClose(t, "struggle fleiss", str.Fleiss, 13.0/33)
	agreeClose(t, "struggle alpha", str.Alpha, 14.0/33)
	agreeClose(t, "struggle brennan-prediger", str.BrennanPrediger, 0.4)
	if str.Cohen.Pe != 0.5 {
		t.Errorf("struggle Pe = %v", str.Cohen.Pe)
	}

	agreeClose(t, "kindness percent", kind.Percent, 1)
	agreeClose(t, "kindness cohen", kind.Cohen, 1)
	agreeClose(t, "kindness alpha", kind.Alpha, 1)

	if !reflect.DeepEqual(pool.Coded, []int{5, 6}) || pool.Units != 20 {
		t.Errorf("pooled: coded %v of %d, want [5 6] of 20", pool.Coded, pool.Units)
	}
	agreeClose(t, "pooled percent", pool.Percent, 0.85)
	agreeClose(t, "pooled cohen", pool.Cohen, 0.625)

	// Unit names are "source:segment".
	if d := ud.Data(1); d.Units[4] != "p01:t2.p2.s1" {
		t.Errorf("unit 5 is named %q", d.Units[4])
	}
}

// A third coder, carol, codes struggle on s2, s3, s5 and s6. Coders coding
// each unit (of 3):
//
//	s1 0, s2 3, s3 3, s4 0, s5 2, s6 3, s7 0, s8 1, s9 1, s10 0
//
// Fleiss: P_i = 1 on the seven unanimous units and (2²+1²-3)/6 = 1/3 on the
// three split ones: Po = (7 + 1)/10 = 0.8. 13 of 30 ratings are x:
// Pe = (13² + 17²)/30² = 458/900; kappa = (720-458)/(900-458) = 262/442.
// Alpha: each split unit adds 2*1*2/(3-1) = 2 to the off-diagonal
// coincidences, Do = 6/30, De = 2*13*17/(30*29) = 442/870; alpha = 1 -
// 174/442 = 268/442. Cohen's kappa is undefined for three coders.
func TestAgreementThreeCoders(t *testing.T) {
	src, codings := agreeFixture(t)
	for _, sp := range [][2]int{{34, 46}, {47, 61}, {85, 110}, {111, 125}} {
		codings["carol"] = append(codings["carol"], agreeCoding(t, src, sp[0], sp[1], "struggle", "carol"))
	}
	coders := []string{"alice", "bob", "carol"}
	srcs := []*corpus.Source{src}
	codes, _ := AgreeCodes(nil, []string{"struggle"}, coders, codings, srcs)
	ud, err := BuildUnitData(srcs, codings, AgreeOptions{Coders: coders, Codes: codes, Unit: corpus.UnitSentence})
	if err != nil {
		t.Fatal(err)
	}
	ca := ud.Agreement(0)
	agreeClose(t, "percent", ca.Percent, 0.8)
	agreeClose(t, "fleiss", ca.Fleiss, 262.0/442)
	agreeClose(t, "alpha", ca.Alpha, 268.0/442)
	if ca.Cohen.Defined || !strings.Contains(ca.Cohen.Note, "exactly 2 coders") {
		t.Errorf("cohen with 3 coders: %v", ca.Cohen)
	}
	if !reflect.DeepEqual(ca.Coded, []int{4, 5, 4}) {
		t.Errorf("coded %v", ca.Coded)
	}
	// Three pairs, each with a row for p01 and one for all sources.
	var pairs []string
	for _, c := range ud.CharComparisons() {
		pairs = append(pairs, c.First+"/"+c.Second+"@"+c.Source)
	}
	if want := []string{"alice/bob@p01", "alice/bob@", "alice/carol@p01", "alice/carol@", "bob/carol@p01", "bob/carol@"}; !reflect.DeepEqual(pairs, want) {
		t.Errorf("char rows %v, want %v", pairs, want)
	}
}

// A second source, coded by alice only: three sentences; alice codes
// kindness on the second.
//
// Absent (default): kindness has 13 units: both 1 (s4), alice only 1,
// neither 11. Po = 12/13, Pe = (2*1 + 11*12)/13² = 134/169, kappa =
// (156-134)/(169-134) = 22/35; one disagreement, on the diary sentence.
//
// Missing: bob gives no value on the second source, so Cohen uses the 10
// units of p01 (3 excluded) where both coded s4 only: kappa 1; alpha has
// only p01's units pairable, all agreeing: 1; no disagreement.
func TestAgreementUncodedSource(t *testing.T) {
	src, codings := agreeFixture(t)
	notes := agreeSource(t, "n01", corpus.KindNotes, "Went to the plot. Watered the beans with Kath. Felt calm.")
	var sents []corpus.Segment
	for _, s := range notes.Segments {
		if s.Unit == corpus.UnitSentence {
			sents = append(sents, s)
		}
	}
	if len(sents) != 3 {
		t.Fatalf("notes: %d sentences, want 3", len(sents))
	}
	codings["alice"] = append(codings["alice"], agreeCoding(t, notes, sents[1].Start, sents[1].End, "kindness", "alice"))
	coders := []string{"alice", "bob"}
	srcs := AgreeSources([]*corpus.Source{src, notes}, coders, codings)
	if len(srcs) != 2 {
		t.Fatalf("sources %d", len(srcs))
	}
	codes, _ := AgreeCodes(nil, []string{"kindness"}, coders, codings, srcs)

	ud, err := BuildUnitData(srcs, codings, AgreeOptions{Coders: coders, Codes: codes, Unit: corpus.UnitSentence})
	if err != nil {
		t.Fatal(err)
	}
	if ud.SourceCoders[0] != 3 || ud.SourceCoders[1] != 1 {
		t.Errorf("source coders %b %b", ud.SourceCoders[0], ud.SourceCoders[1])
	}
	ca := ud.Agreement(0)
	agreeClose(t, "absent: cohen", ca.Cohen, 22.0/35)
	agreeClose(t, "absent: percent", ca.Percent, 12.0/13)
	dis := ud.Disagreements()
	if len(dis) != 1 || dis[0].Source != "n01" || dis[0].Text != "Watered the beans with Kath." ||
		!reflect.DeepEqual(dis[0].CodedBy, []string{"alice"}) || !reflect.DeepEqual(dis[0].NotCodedBy, []string{"bob"}) {
		t.Errorf("absent: disagreements %+v", dis)
	}

	ud, err = BuildUnitData(srcs, codings, AgreeOptions{Coders: coders, Codes: codes, Unit: corpus.UnitSentence, UncodedMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	ca = ud.Agreement(0)
	agreeClose(t, "missing: cohen", ca.Cohen, 1)
	if ca.Cohen.Units != 10 || ca.Cohen.Excluded != 3 {
		t.Errorf("missing: cohen over %d units, %d excluded; want 10 and 3", ca.Cohen.Units, ca.Cohen.Excluded)
	}
	agreeClose(t, "missing: alpha", ca.Alpha, 1)
	if dis := ud.Disagreements(); len(dis) != 0 {
		t.Errorf("missing: disagreements %+v", dis)
	}
	// Character rows leave out the source bob did not code.
	for _, c := range ud.CharComparisons() {
		if c.Source == "n01" || c.Source == "" && c.Chars != 208 {
			t.Errorf("missing: char row %+v", c)
		}
	}
}

func TestAgreementUnits(t *testing.T) {
	src, codings := agreeFixture(t)
	srcs := []*corpus.Source{src}
	coders := []string{"alice", "bob"}
	codes, _ := AgreeCodes(nil, []string{"struggle"}, coders, codings, srcs)
	// Turns t1..t4: t2 (s2-s6) is coded by both, t4 (s8-s10) by bob only.
	// Paragraphs t1.p1, t2.p1, t2.p2, t3.p1, t4.p1: alice codes t2.p1 and
	// t2.p2, bob those and t4.p1.
	for unit, want := range map[string][]string{
		corpus.UnitTurn:      {".x..", ".x.x"},
		corpus.UnitParagraph: {".xx..", ".xx.x"},
	} {
		ud, err := BuildUnitData(srcs, codings, AgreeOptions{Coders: coders, Codes: codes, Unit: unit})
		if err != nil {
			t.Fatal(err)
		}
		if got := agreeMarks(ud, 0); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: marks %v, want %v", unit, got, want)
		}
	}
}

// Segments listed out of order (a source built by hand) give the same
// units, in text order.
func TestBuildUnitDataUnsortedSegments(t *testing.T) {
	src, codings := agreeFixture(t)
	rev := *src
	rev.Segments = slices.Clone(src.Segments)
	slices.Reverse(rev.Segments)
	codes := []AgreeCode{{ID: "struggle", IDs: []string{"struggle"}}}
	ud, err := BuildUnitData([]*corpus.Source{&rev}, codings, AgreeOptions{Coders: []string{"alice", "bob"}, Codes: codes, Unit: corpus.UnitSentence})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := agreeMarks(ud, 0), []string{".xx.xx....", ".xx..x.xx."}; !reflect.DeepEqual(got, want) {
		t.Errorf("marks %v, want %v", got, want)
	}
	if ud.UnitName(0) != "p01:t1.p1.s1" {
		t.Errorf("first unit %s", ud.UnitName(0))
	}
}

func TestAgreementDisagreements(t *testing.T) {
	src, codings := agreeFixture(t)
	srcs := []*corpus.Source{src}
	coders := []string{"alice", "bob"}
	codes, _ := AgreeCodes(agreeCB(t), nil, coders, codings, srcs)
	ud, err := BuildUnitData(srcs, codings, AgreeOptions{Coders: coders, Codes: codes, Unit: corpus.UnitSentence})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range ud.Disagreements() {
		got = append(got, fmt.Sprintf("%s %s %q %s %v/%v", d.Code, d.Segment.ID, d.Text, d.Segment.Speaker, d.CodedBy, d.NotCodedBy))
	}
	want := []string{
		`struggle t2.p2.s1 "The slugs ate everything." P [alice]/[bob]`,
		`struggle t4.p1.s1 "The rota is a mess." P [bob]/[alice]`,
		`struggle t4.p1.s2 "Nobody reads it." P [bob]/[alice]`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("disagreements\n got %q\nwant %q", got, want)
	}
}

// Character level, struggle in p01 (208 characters):
//
//	alice: [34,61) [85,110) [113,118)            27+25+5  = 57
//	bob:   [34,46) [47,62) [111,125) [148,184)   12+15+14+36 = 77
//	both:  [34,46) [47,61) [113,118)             12+14+5  = 31
//	neither = 208 - 57 - 77 + 31 = 105
//
// Po = (31+105)/208 = 136/208; Pe = (57*77 + 151*131)/208² = 24170/43264;
// kappa = (136*208 - 24170)/(43264 - 24170) = 4118/19094.
func TestCharComparisons(t *testing.T) {
	src, codings := agreeFixture(t)
	srcs := []*corpus.Source{src}
	coders := []string{"alice", "bob"}
	codes, _ := AgreeCodes(agreeCB(t), nil, coders, codings, srcs)
	// An orphan is left out of everything.
	orphan := agreeCoding(t, src, 185, 208, "struggle", "alice")
	orphan.Orphan = true
	codings["alice"] = append(codings["alice"], orphan)
	ud, err := BuildUnitData(srcs, codings, AgreeOptions{Coders: coders, Codes: codes, Unit: corpus.UnitSentence})
	if err != nil {
		t.Fatal(err)
	}
	if ud.Orphans != 1 {
		t.Errorf("orphans %d", ud.Orphans)
	}
	rows := ud.CharComparisons()
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4 (2 codes x (p01 + all))", len(rows))
	}
	s := rows[2]
	if s.Code != "struggle" || s.Source != "p01" || s.Chars != 208 || s.Both != 31 || s.FirstOnly != 26 || s.SecondOnly != 46 {
		t.Errorf("struggle row %+v", s)
	}
	agreeClose(t, "struggle char percent", s.Percent, 136.0/208)
	agreeClose(t, "struggle char kappa", s.Kappa, 4118.0/19094)
	// One source: the all-sources row is the same.
	if all := rows[3]; all.Source != "" || all.Kappa.Value != s.Kappa.Value || all.Chars != 208 {
		t.Errorf("all-sources row %+v", all)
	}
	agreeClose(t, "kindness char kappa", rows[0].Kappa, 1)
}

// With two sources, the all-sources row takes the texts end to end: a code
// coded by both in the first source only still counts the second source's
// characters as agreed "neither".
func TestCharComparisonsPooled(t *testing.T) {
	a := agreeSource(t, "a", corpus.KindNotes, "0123456789")
	b := agreeSource(t, "b", corpus.KindNotes, "abcdefghij")
	codings := map[string][]Coding{
		"x": {agreeCoding(t, a, 0, 5, "c", "x"), agreeCoding(t, b, 9, 10, "other", "x")},
		"y": {agreeCoding(t, a, 0, 5, "c", "y"), agreeCoding(t, b, 0, 1, "other", "y")},
	}
	srcs := AgreeSources([]*corpus.Source{a, b}, []string{"x", "y"}, codings)
	ud, err := BuildUnitData(srcs, codings, AgreeOptions{Coders: []string{"x", "y"}, Codes: []AgreeCode{{ID: "c", IDs: []string{"c"}}}, Unit: corpus.UnitSentence})
	if err != nil {
		t.Fatal(err)
	}
	rows := ud.CharComparisons()
	if len(rows) != 2 || rows[0].Source != "a" || rows[1].Source != "" {
		t.Fatalf("rows %+v", rows)
	}
	// 20 characters, 5 coded by both, 15 by neither: Po = 1;
	// Pe = 0.25² + 0.75² = 0.625; kappa = 1.
	if r := rows[1]; r.Chars != 20 || r.Both != 5 || r.Kappa.Pe != 0.625 {
		t.Errorf("pooled row %+v", r)
	}
}

func TestBuildUnitDataErrors(t *testing.T) {
	src, codings := agreeFixture(t)
	srcs := []*corpus.Source{src}
	many := make([]string, MaxAgreeCoders+1)
	for i := range many {
		many[i] = "c" + strconv.Itoa(i)
	}
	for _, tc := range []struct {
		opts AgreeOptions
		want string
	}{
		{AgreeOptions{Coders: []string{"alice"}, Unit: "sentence"}, "at least 2 coders"},
		{AgreeOptions{Coders: many, Unit: "sentence"}, "at most 64"},
		{AgreeOptions{Coders: []string{"alice", "alice"}, Unit: "sentence"}, "named twice"},
		{AgreeOptions{Coders: []string{"alice", "bob"}, Unit: "word"}, `unit "word"`},
		{AgreeOptions{Coders: []string{"alice", "bob"}, Unit: "sentence", MinCover: 1.5}, "from 0 to 1"},
		{AgreeOptions{Coders: []string{"alice", "bob"}, Unit: "sentence", MinCover: math.NaN()}, "from 0 to 1"},
	} {
		if _, err := BuildUnitData(srcs, codings, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.opts, err, tc.want)
		}
	}
}

// Edge cases give defined answers or notes, never NaN: no units at all, and
// a code nobody used in the compared units.
func TestAgreementEdgeCases(t *testing.T) {
	empty := &corpus.Source{ID: "empty"}
	ud, err := BuildUnitData([]*corpus.Source{empty}, nil, AgreeOptions{Coders: []string{"a", "b"}, Codes: []AgreeCode{{ID: "x", IDs: []string{"x"}}}, Unit: "sentence"})
	if err != nil {
		t.Fatal(err)
	}
	rep := ud.Report()
	for _, ca := range append(rep.Codes, rep.Pooled) {
		for _, r := range ca.Stats() {
			if r.Defined || r.Note == "" || math.IsNaN(r.Value) {
				t.Errorf("no units: %v", r)
			}
		}
	}
	for _, c := range rep.Chars {
		if c.Percent.Defined || c.Kappa.Defined {
			t.Errorf("empty text: %+v", c)
		}
	}

	src, codings := agreeFixture(t)
	ud, err = BuildUnitData([]*corpus.Source{src}, codings, AgreeOptions{Coders: []string{"alice", "bob"}, Codes: []AgreeCode{{ID: "unused", IDs: []string{"unused"}}}, Unit: "sentence"})
	if err != nil {
		t.Fatal(err)
	}
	ca := ud.Agreement(0)
	agreeClose(t, "unused percent", ca.Percent, 1)
	if ca.Cohen.Defined || ca.Alpha.Defined || !strings.Contains(ca.Cohen.Note, "no variation") {
		t.Errorf("unused code: cohen %v alpha %v", ca.Cohen, ca.Alpha)
	}
	agreeClose(t, "unused brennan-prediger", ca.BrennanPrediger, 1)
}

func TestConsensus(t *testing.T) {
	src, codings := agreeFixture(t)
	coders := []string{"alice", "bob"}
	texts := map[string]string{src.ID: src.Text}
	when := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	quotes := func(cs []Coding) []string {
		var out []string
		for _, c := range cs {
			if c.Coder != "consensus" || c.ID != CodingID(c.Source, c.Start, c.End, c.Code, "consensus") || !c.Time.Equal(when) {
				t.Errorf("coding %+v: wrong coder, id or time", c)
			}
			if got := string([]rune(src.Text)[c.Start:c.End]); got != c.Quote {
				t.Errorf("coding [%d,%d) quote %q, text %q", c.Start, c.End, c.Quote, got)
			}
			out = append(out, fmt.Sprintf("%s %d-%d %s %s", c.Code, c.Start, c.End, c.Quote, c.Origin))
		}
		return out
	}
	tests := []struct {
		rule string
		want []string
	}{
		// Everything either coded; kindness s4 is one coding. Canonical
		// order: by start, then end, then code.
		{"union", []string{
			"struggle 34-46 It was hard. consensus:union",
			"struggle 34-61 It was hard. I knew nobody. consensus:union",
			"struggle 47-62 I knew nobody.  consensus:union",
			"kindness 62-83 Then Kath said hello. consensus:union",
			"struggle 85-110 The slugs ate everything. consensus:union",
			"struggle 111-125 I cried a bit. consensus:union",
			"struggle 113-118 cried consensus:union",
			"struggle 148-184 The rota is a mess. Nobody reads it. consensus:union",
		}},
		// alice [34,61) [85,110) [113,118) x bob [34,46) [47,62) [111,125)
		// [148,184) = [34,46) [47,61) [113,118); kindness [62,83).
		{"intersection", []string{
			"struggle 34-46 It was hard. consensus:intersection",
			"struggle 47-61 I knew nobody. consensus:intersection",
			"kindness 62-83 Then Kath said hello. consensus:intersection",
			"struggle 113-118 cried consensus:intersection",
		}},
		{"alice", []string{
			"struggle 34-61 It was hard. I knew nobody. consensus:alice",
			"kindness 62-83 Then Kath said hello. consensus:alice",
			"struggle 85-110 The slugs ate everything. consensus:alice",
			"struggle 113-118 cried consensus:alice",
		}},
	}
	for _, tc := range tests {
		res, err := Consensus(codings, coders, tc.rule, "consensus", texts, when)
		if err != nil {
			t.Fatalf("%s: %v", tc.rule, err)
		}
		if got := quotes(res.Codings); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.rule, got, tc.want)
		}
	}
	// The intersection's codings are found again by their new context.
	res, _ := Consensus(codings, coders, "intersection", "consensus", texts, when)
	if c := res.Codings[1]; c.Prefix != "first week go?\n\nP: It was hard. " || c.Suffix != " Then Kath said hello.\n\nThe slug" {
		t.Errorf("context %q / %q", c.Prefix, c.Suffix)
	}
	// The results can be saved as they are.
	if err := (Store{Dir: t.TempDir()}).Save("consensus", res.Codings); err != nil {
		t.Error(err)
	}
}

func TestConsensusErrors(t *testing.T) {
	src, codings := agreeFixture(t)
	texts := map[string]string{src.ID: src.Text}
	now := time.Now()
	for _, tc := range []struct {
		coders      []string
		rule, into  string
		texts       map[string]string
		want        string
		wantOrphans int
	}{
		{[]string{"alice"}, "union", "c", texts, "at least 2 coders", 0},
		{[]string{"alice", "bob"}, "union", "Bad Name", texts, "upper-case", 0},
		{[]string{"alice", "bob"}, "union", "alice", texts, "one of the coders", 0},
		{[]string{"alice", "bob", "alice"}, "union", "c", texts, "named twice", 0},
		{[]string{"alice", "bob"}, "majority", "c", texts, `"majority"`, 0},
		{[]string{"alice", "bob"}, "carol", "c", texts, `"carol"`, 0},
		{[]string{"alice", "bob"}, "intersection", "c", nil, `no text for source "p01"`, 0},
	} {
		if _, err := Consensus(codings, tc.coders, tc.rule, tc.into, tc.texts, now); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v %s %s: error %v, want %q", tc.coders, tc.rule, tc.into, err, tc.want)
		}
	}
	// Orphans: left out of an intersection, copied by union.
	orphan := agreeCoding(t, src, 34, 46, "struggle", "alice")
	orphan.Orphan = true
	codings["alice"] = append(codings["alice"], orphan)
	res, err := Consensus(codings, []string{"alice", "bob"}, "intersection", "c", texts, now)
	if err != nil || res.Orphans != 1 {
		t.Errorf("intersection with an orphan: %v, %d orphans", err, res.Orphans)
	}
	res, _ = Consensus(codings, []string{"alice", "bob"}, "union", "c", texts, now)
	if !slices.ContainsFunc(res.Codings, func(c Coding) bool { return c.Orphan }) {
		t.Error("union dropped the orphan")
	}
}

// agreeBenchData makes 100 sources of 1,000 sentences each (100k units) and
// two coders' codings of 20 codes, each coding about one sentence in ten
// per code, sometimes two sentences at once.
func agreeBenchData(b *testing.B) ([]*corpus.Source, map[string][]Coding, []AgreeCode) {
	var srcs []*corpus.Source
	codings := map[string][]Coding{}
	var codes []AgreeCode
	for k := range 20 {
		id := "code" + strconv.Itoa(k)
		codes = append(codes, AgreeCode{ID: id, IDs: []string{id}})
	}
	seed := uint32(1)
	rnd := func() uint32 { seed = seed*1664525 + 1013904223; return seed >> 8 }
	const sentence = "This is sentence number nnnnn of the text. "
	for s := range 100 {
		src := &corpus.Source{ID: fmt.Sprintf("s%03d", s), Text: strings.Repeat(sentence, 1000)}
		for i := range 1000 {
			start := i * len(sentence)
			src.Segments = append(src.Segments, corpus.Segment{ID: "t1.p1.s" + strconv.Itoa(i+1), Unit: corpus.UnitSentence, Start: start, End: start + len(sentence) - 1})
			for k := range codes {
				for c, coder := range []string{"alice", "bob"} {
					if r := rnd(); r%10 == 0 || c == 1 && r%10 == 1 {
						end := start + len(sentence) - 1
						if r%7 == 0 && i < 999 {
							end += len(sentence)
						}
						codings[coder] = append(codings[coder], Coding{Source: src.ID, Start: start + int(r%5), End: end, Code: codes[k].ID, Coder: coder})
					}
				}
			}
		}
		srcs = append(srcs, src)
	}
	return srcs, codings, codes
}

func BenchmarkBuildUnitData100k(b *testing.B) {
	srcs, codings, codes := agreeBenchData(b)
	opts := AgreeOptions{Coders: []string{"alice", "bob"}, Codes: codes, Unit: corpus.UnitSentence}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildUnitData(srcs, codings, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// The whole report: statistics per code and pooled (2M unit x code pairs),
// character comparisons and disagreements.
func BenchmarkAgreementReport100k(b *testing.B) {
	srcs, codings, codes := agreeBenchData(b)
	opts := AgreeOptions{Coders: []string{"alice", "bob"}, Codes: codes, Unit: corpus.UnitSentence}
	b.ReportAllocs()
	for b.Loop() {
		ud, err := BuildUnitData(srcs, codings, opts)
		if err != nil {
			b.Fatal(err)
		}
		ud.Report()
	}
}

// FuzzBuildUnitData checks the sweep that marks units against a direct
// count, for any codings on the test text (spans may be empty, reversed or
// run past the text, as in a hand-edited file), and that no statistic is
// NaN or a defined value without its parts. Each 4 bytes of input are one
// coding: coder, code, start, length.
func FuzzBuildUnitData(f *testing.F) {
	f.Add([]byte{0, 0, 34, 27, 1, 0, 34, 12, 0, 1, 62, 21, 1, 1, 62, 21})
	f.Add([]byte{0, 0, 200, 50, 1, 1, 0, 255, 2, 0, 10, 0})
	f.Add([]byte{3, 3, 3, 3})
	src := agreeSource(f, "p01", corpus.KindInterview, agreeText)
	coders := []string{"a", "b", "c"}
	codes := []AgreeCode{{ID: "x", IDs: []string{"x"}}, {ID: "both", IDs: []string{"both", "x", "y"}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		codings := map[string][]Coding{}
		for i := 0; i+4 <= len(data); i += 4 {
			coder := coders[int(data[i])%len(coders)]
			code := []string{"x", "y"}[int(data[i+1])%2]
			start := int(data[i+2])
			codings[coder] = append(codings[coder], Coding{Source: "p01", Start: start, End: start + int(data[i+3]) - 8, Code: code, Coder: coder})
		}
		for _, minCover := range []float64{0, 0.5, 1} {
			for _, missing := range []bool{false, true} {
				ud, err := BuildUnitData([]*corpus.Source{src}, codings, AgreeOptions{Coders: coders, Codes: codes, Unit: corpus.UnitSentence, MinCover: minCover, UncodedMissing: missing})
				if err != nil {
					t.Fatal(err)
				}
				for k, code := range codes {
					for u := range ud.Units {
						seg := ud.Segment(u)
						for c, coder := range coders {
							covered := make([]bool, seg.End-seg.Start)
							n := 0
							for _, cd := range codings[coder] {
								if !slices.Contains(code.IDs, cd.Code) {
									continue
								}
								for p := max(cd.Start, seg.Start); p < min(cd.End, seg.End); p++ {
									if !covered[p-seg.Start] {
										covered[p-seg.Start] = true
										n++
									}
								}
							}
							want := n > 0 && float64(n) >= minCover*float64(seg.End-seg.Start)-1e-9
							if got := ud.Marks[k][u]&(1<<c) != 0; got != want {
								t.Fatalf("cover %v: code %s, unit %s, coder %s: marked %v, %d of %d characters covered", minCover, code.ID, ud.UnitName(u), coder, got, n, seg.End-seg.Start)
							}
						}
					}
				}
				rep := ud.Report()
				check := func(r agreement.Result) {
					if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) || !r.Defined && r.Note == "" {
						t.Fatalf("%v", r)
					}
				}
				for _, ca := range append(rep.Codes, rep.Pooled) {
					for _, r := range ca.Stats() {
						check(r)
					}
				}
				for _, c := range rep.Chars {
					check(c.Percent)
					check(c.Kappa)
				}
			}
		}
		for _, rule := range []string{"union", "intersection", "a"} {
			res, err := Consensus(codings, coders, rule, "consensus", map[string]string{"p01": agreeText}, time.Unix(0, 0))
			if err != nil {
				if rule == "intersection" && strings.Contains(err.Error(), "outside the text") {
					continue
				}
				t.Fatalf("%s: %v", rule, err)
			}
			if rule == "intersection" {
				for _, c := range res.Codings {
					if string([]rune(agreeText)[c.Start:c.End]) != c.Quote {
						t.Fatalf("intersection coding %d-%d quote %q", c.Start, c.End, c.Quote)
					}
				}
			}
		}
	})
}
