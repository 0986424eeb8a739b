package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/analysis/agreement"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/gencorpus"
)

// agreeGenerated makes a small generated project: interviews and diaries
// (some with accented text, so code points and bytes differ), a codebook of
// 8 codes in themes, and three coders' codings. alice codes sentences,
// parts of them (sometimes two parts of one) and runs of two; bob takes most of alice's codings, some
// shifted by a few characters, and adds his own; carol codes on her own and
// leaves some sources alone. A few codings are orphans, one code is not in
// the codebook, and one source has odd segments: out of order and nested.
func agreeGenerated(t testing.TB) ([]*corpus.Source, map[string][]Coding, *codebook.Codebook) {
	t.Helper()
	g := gencorpus.New(gencorpus.Options{Seed: 5, Sources: 10, Words: 500, Rules: 8})
	yml, _ := g.Codebook()
	cb, probs := codebook.Parse("codebook.yaml", []byte(yml))
	if len(probs) > 0 {
		t.Fatal(probs[0])
	}
	rng := rand.New(rand.NewPCG(11, 13))
	codes := []string{"code0", "code1", "code2", "code3", "code4", "code5", "code6", "code7", "loose"}
	var srcs []*corpus.Source
	codings := map[string][]Coding{}
	add := func(src *corpus.Source, coder string, start, end int, code string) {
		n := len([]rune(src.Text))
		start, end = max(0, min(start, n-1)), min(n, end)
		if end <= start {
			return
		}
		c := agreeCoding(t, src, start, end, code, coder)
		c.Orphan = rng.IntN(60) == 0
		codings[coder] = append(codings[coder], c)
	}
	for i := range 10 {
		doc := g.Doc(i)
		text := doc.Text
		if i%2 == 1 {
			text = strings.ReplaceAll(text, " the ", " thé ")
			text = strings.ReplaceAll(text, " and ", " und “so” ")
		}
		src := agreeSource(t, fmt.Sprintf("s%02d", i), doc.Kind, text)
		if i == 4 {
			// Odd segments: sentences out of order, one inside another.
			var sents []corpus.Segment
			for _, s := range src.Segments {
				if s.Unit == corpus.UnitSentence {
					sents = append(sents, s)
				}
			}
			extra := sents[2]
			extra.ID, extra.End = "odd", sents[5].End
			src.Segments = append(src.Segments, extra)
			src.Segments[3], src.Segments[len(src.Segments)-2] = src.Segments[len(src.Segments)-2], src.Segments[3]
		}
		srcs = append(srcs, src)
		for _, s := range src.Segments {
			if s.Unit != corpus.UnitSentence || rng.IntN(5) != 0 {
				continue
			}
			code := codes[rng.IntN(len(codes))]
			start, end := s.Start, s.End
			switch rng.IntN(5) {
			case 0:
				start += (end - start) / 3
			case 1:
				end += 40 // into the next sentence
			case 2:
				// Two bits of one sentence: together they may cover enough.
				add(src, "alice", start, start+(end-start)/3, code)
				start = end - (end-start)/2
			}
			add(src, "alice", start, end, code)
			switch r := rng.IntN(10); {
			case r < 6:
				add(src, "bob", start, end, code)
			case r < 8:
				add(src, "bob", start+rng.IntN(7)-3, end+rng.IntN(7)-3, code)
			}
			if i%4 != 2 && rng.IntN(3) == 0 {
				add(src, "carol", start, end, codes[rng.IntN(len(codes))])
			}
			if rng.IntN(6) == 0 {
				add(src, "bob", s.Start, s.End, codes[rng.IntN(len(codes))])
			}
		}
	}
	return srcs, codings, cb
}

// agreeSameResult compares two statistics: exactly with two coders (every
// sum is of whole numbers), else up to rounding in the last bits.
func agreeSameResult(t *testing.T, what string, got, want agreement.Result, exact bool) {
	t.Helper()
	if exact {
		if got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
		}
		return
	}
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-12*max(1, math.Abs(a), math.Abs(b)) }
	if got.Statistic != want.Statistic || got.Defined != want.Defined || got.Note != want.Note ||
		got.Units != want.Units || got.Excluded != want.Excluded || got.Pairable != want.Pairable ||
		!close(got.Value, want.Value) || !close(got.Po, want.Po) || !close(got.Pe, want.Pe) ||
		!close(got.Do, want.Do) || !close(got.De, want.De) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

// The streaming, pattern-counting implementation gives what the one before
// it gave (kept in agree_oracle_test.go), on a generated project, for every
// unit, overlap rule, treatment of uncoded sources, two and three coders,
// and codes alone or folded into themes: the same units and marks, the
// same statistics, character comparisons and disagreements. BuildUnitData
// and StreamUnitData (sources loaded one at a time) agree too.
func TestStreamEqualsOldImplementation(t *testing.T) {
	srcs, codings, cb := agreeGenerated(t)
	meta := make([]*corpus.Source, len(srcs))
	for i, s := range srcs {
		m := *s
		m.Text, m.Segments = "", nil
		meta[i] = &m
	}
	for _, coders := range [][]string{{"alice", "bob"}, {"alice", "bob", "carol"}} {
		exact := len(coders) == 2
		for _, ids := range [][]string{nil, {"theme0", "code3", "loose"}} {
			codes, err := AgreeCodes(cb, ids, coders, codings, srcs)
			if err != nil {
				t.Fatal(err)
			}
			for _, unit := range []string{corpus.UnitSentence, corpus.UnitParagraph, corpus.UnitTurn} {
				for _, minCover := range []float64{0, 0.6} {
					for _, missing := range []bool{false, true} {
						opts := AgreeOptions{Coders: coders, Codes: codes, Unit: unit, MinCover: minCover, UncodedMissing: missing}
						name := fmt.Sprintf("%v %v %s cover %v missing %v", coders, ids, unit, minCover, missing)
						old, err := oldBuildUnitData(srcs, codings, opts)
						if err != nil {
							t.Fatal(err)
						}
						ud, err := BuildUnitData(srcs, codings, opts)
						if err != nil {
							t.Fatal(err)
						}
						cs := NewAgreeCodings(coders)
						for _, c := range coders {
							if err := cs.Add(c, codings[c]); err != nil {
								t.Fatal(err)
							}
						}
						st, err := StreamUnitData(meta, func(i int) (*corpus.Source, error) { return srcs[i], nil }, cs, opts)
						if err != nil {
							t.Fatal(err)
						}
						agreeCompare(t, name, old, ud, exact, true)
						agreeCompare(t, name+" (streamed)", old, st, exact, false)
					}
				}
			}
		}
	}
}

func agreeCompare(t *testing.T, name string, old *oldUnitData, ud *UnitData, exact, kept bool) {
	t.Helper()
	if len(ud.Units) != len(old.Units) {
		t.Fatalf("%s: %d units, want %d", name, len(ud.Units), len(old.Units))
	}
	for u, r := range old.Units {
		if int(ud.Units[u].Source) != r.Source || int(ud.Units[u].Segment) != r.Segment {
			t.Fatalf("%s: unit %d is %v, want %v", name, u, ud.Units[u], r)
		}
	}
	if !reflect.DeepEqual(ud.SourceCoders, old.SourceCoders) || ud.Orphans != old.Orphans {
		t.Errorf("%s: source coders %v, %d orphans; want %v, %d", name, ud.SourceCoders, ud.Orphans, old.SourceCoders, old.Orphans)
	}
	for k := range old.Marks {
		for u, m := range old.Marks[k] {
			if got := ud.Mark(k, u); got != m {
				t.Fatalf("%s: code %s, unit %s: marks %b, want %b", name, old.Codes[k].ID, old.UnitName(u), got, m)
			}
		}
	}
	if kept {
		if !reflect.DeepEqual(ud.Marks, old.Marks) {
			t.Errorf("%s: dense marks differ", name)
		}
		for k := range old.Codes {
			if !reflect.DeepEqual(ud.Data(k), old.Data(k)) {
				t.Errorf("%s: Data(%d) differs", name, k)
			}
		}
	}
	want, got := old.Report(), ud.Report()
	cmpCode := func(what string, g, w CodeAgreement) {
		if !reflect.DeepEqual(g.Code, w.Code) || g.Units != w.Units || !reflect.DeepEqual(g.Coded, w.Coded) {
			t.Errorf("%s %s: code %v, %d units, coded %v; want %v, %d, %v", name, what, g.Code, g.Units, g.Coded, w.Code, w.Units, w.Coded)
		}
		gs, ws := g.Stats(), w.Stats()
		for i := range ws {
			agreeSameResult(t, name+" "+what+" "+ws[i].Statistic, gs[i], ws[i], exact)
		}
	}
	if len(got.Codes) != len(want.Codes) {
		t.Fatalf("%s: %d codes, want %d", name, len(got.Codes), len(want.Codes))
	}
	for k := range want.Codes {
		cmpCode(want.Codes[k].Code.ID, got.Codes[k], want.Codes[k])
	}
	cmpCode("pooled", got.Pooled, want.Pooled)
	if !reflect.DeepEqual(got.Chars, want.Chars) {
		for i := range min(len(got.Chars), len(want.Chars)) {
			if !reflect.DeepEqual(got.Chars[i], want.Chars[i]) {
				t.Errorf("%s: character comparison %d:\n got %+v\nwant %+v", name, i, got.Chars[i], want.Chars[i])
				break
			}
		}
		t.Fatalf("%s: %d character comparisons, want %d", name, len(got.Chars), len(want.Chars))
	}
	if ud.NumCharComparisons() != len(want.Chars) {
		t.Errorf("%s: NumCharComparisons %d, want %d", name, ud.NumCharComparisons(), len(want.Chars))
	}
	if len(got.Disagreements) != len(want.Disagreements) || ud.NumDisagreements() != len(want.Disagreements) {
		t.Fatalf("%s: %d disagreements (%d counted), want %d", name, len(got.Disagreements), ud.NumDisagreements(), len(want.Disagreements))
	}
	for i, w := range want.Disagreements {
		g := got.Disagreements[i]
		if g.Code != w.Code || g.Unit != w.Unit || g.Source != w.Source || *g.Segment != *w.Segment || g.Text != w.Text ||
			!reflect.DeepEqual(g.CodedBy, w.CodedBy) || !reflect.DeepEqual(g.NotCodedBy, w.NotCodedBy) || !reflect.DeepEqual(g.Missing, w.Missing) {
			t.Fatalf("%s: disagreement %d:\n got %+v %+v\nwant %+v %+v", name, i, g, *g.Segment, w, *w.Segment)
		}
	}
	if len(want.Disagreements) == 0 {
		t.Errorf("%s: no disagreements: the generated codings test too little", name)
	}
}

// Streaming keeps none of the sources' text: the data holds the sources
// given (metadata), and a disagreement's text is its own copy.
func TestStreamUnitDataKeepsNoText(t *testing.T) {
	srcs, codings, _ := agreeGenerated(t)
	meta := make([]*corpus.Source, len(srcs))
	for i, s := range srcs {
		meta[i] = &corpus.Source{ID: s.ID, Kind: s.Kind}
	}
	coders := []string{"alice", "bob"}
	codes, err := AgreeCodes(nil, nil, coders, codings, srcs)
	if err != nil {
		t.Fatal(err)
	}
	cs := NewAgreeCodings(coders)
	for _, c := range coders {
		cs.Add(c, codings[c])
	}
	loaded := 0
	ud, err := StreamUnitData(meta, func(i int) (*corpus.Source, error) {
		loaded++
		cp := *srcs[i]
		cp.Text = strings.Clone(cp.Text)
		return &cp, nil
	}, cs, AgreeOptions{Coders: coders, Codes: codes, Unit: corpus.UnitSentence})
	if err != nil {
		t.Fatal(err)
	}
	if loaded != len(srcs) || ud.Sources[0] != meta[0] || ud.Marks != nil || ud.Segment(0) != nil {
		t.Errorf("loaded %d of %d; sources kept %v; marks %v", loaded, len(srcs), ud.Sources[0] == meta[0], ud.Marks != nil)
	}
	if name := ud.UnitName(0); !strings.HasPrefix(name, "s00:#") {
		t.Errorf("unit name without segments: %q", name)
	}
	if ud.NumDisagreements() == 0 {
		t.Fatal("no disagreements")
	}
	ud.EachDisagreement(func(d *Disagreement) error {
		if d.Segment == nil || d.Text == "" || d.Segment.Unit != corpus.UnitSentence {
			t.Errorf("disagreement %+v", d)
		}
		return nil
	})
	// Without their text: as many, the same units, no text.
	bare, err := StreamUnitData(meta, func(i int) (*corpus.Source, error) { return srcs[i], nil }, cs,
		AgreeOptions{Coders: coders, Codes: codes, Unit: corpus.UnitSentence, NoDisagreementText: true})
	if err != nil {
		t.Fatal(err)
	}
	if bare.NumDisagreements() != ud.NumDisagreements() || len(bare.arena) != 0 {
		t.Errorf("%d disagreements without text, %d with; arena %d chunks", bare.NumDisagreements(), ud.NumDisagreements(), len(bare.arena))
	}
	want := ud.Disagreements()
	for i, d := range bare.Disagreements() {
		if d.Segment != nil || d.Text != "" || d.Unit != want[i].Unit || d.Code != want[i].Code {
			t.Fatalf("disagreement %d without text: %+v, want unit %d", i, d, want[i].Unit)
		}
	}
}

func TestStreamUnitDataErrors(t *testing.T) {
	srcs, codings, _ := agreeGenerated(t)
	coders := []string{"alice", "bob"}
	codes := []AgreeCode{{ID: "code1", IDs: []string{"code1"}}}
	cs := NewAgreeCodings(coders)
	for _, c := range coders {
		cs.Add(c, codings[c])
	}
	if err := cs.Add("carol", codings["carol"]); err == nil || !strings.Contains(err.Error(), `"carol" is not one of the coders`) {
		t.Errorf("adding another coder's codings: %v", err)
	}
	opts := AgreeOptions{Coders: coders, Codes: codes, Unit: corpus.UnitSentence}
	for _, tc := range []struct {
		load func(i int) (*corpus.Source, error)
		want string
	}{
		{func(i int) (*corpus.Source, error) { return nil, fmt.Errorf("disk on fire") }, "disk on fire"},
		{func(i int) (*corpus.Source, error) { return srcs[(i+1)%len(srcs)], nil }, "gave another"},
	} {
		if _, err := StreamUnitData(srcs, tc.load, cs, opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
	if _, err := StreamUnitData(srcs, nil, cs, AgreeOptions{Coders: []string{"alice", "carol"}, Codes: codes, Unit: corpus.UnitSentence}); err == nil {
		t.Error("codings of other coders than the options name: no error")
	}
	if _, err := StreamUnitData(append(srcs[:1:1], srcs[0]), nil, cs, opts); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("a source twice: %v", err)
	}
}

// AgreeCodings.Codes chooses the codes as AgreeCodes does.
func TestAgreeCodingsCodes(t *testing.T) {
	srcs, codings, cb := agreeGenerated(t)
	coders := []string{"alice", "carol"}
	cs := NewAgreeCodings(coders)
	for _, c := range coders {
		cs.Add(c, codings[c])
	}
	for _, sub := range [][]*corpus.Source{srcs, srcs[2:3], srcs[5:]} {
		for _, ids := range [][]string{nil, {"theme1", "loose"}, {"nosuch"}} {
			want, werr := AgreeCodes(cb, ids, coders, codings, sub)
			got, gerr := cs.Codes(cb, ids, sub)
			if !reflect.DeepEqual(got, want) || fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Errorf("%d sources, %v: got %v %v, want %v %v", len(sub), ids, got, gerr, want, werr)
			}
		}
	}
	if !cs.Coded("s01") || cs.Coded("nosuch") {
		t.Error("Coded")
	}
}

// The streamed build over 100k sentences (compare BenchmarkBuildUnitData100k).
func BenchmarkStreamUnitData100k(b *testing.B) {
	srcs, codings, codes := agreeBenchData(b)
	coders := []string{"alice", "bob"}
	opts := AgreeOptions{Coders: coders, Codes: codes, Unit: corpus.UnitSentence}
	b.ReportAllocs()
	for b.Loop() {
		cs := NewAgreeCodings(coders)
		for _, c := range coders {
			cs.Add(c, codings[c])
		}
		ud, err := StreamUnitData(srcs, func(i int) (*corpus.Source, error) { return srcs[i], nil }, cs, opts)
		if err != nil {
			b.Fatal(err)
		}
		ud.Summary()
	}
}

// FuzzStreamEqualsOld compares the implementation with the one before it
// (agree_oracle_test.go) on any codings of the test text, as
// FuzzBuildUnitData makes them: spans may be empty, reversed or run past
// the text. They agree on everything but one thing, on purpose: where a
// span runs past its source's text, the old row over all sources counted
// it into the next source's text; the new one is undefined and says why.
func FuzzStreamEqualsOld(f *testing.F) {
	f.Add([]byte{0, 0, 34, 27, 1, 0, 34, 12, 0, 1, 62, 21, 1, 1, 62, 21})
	f.Add([]byte{0, 0, 200, 50, 1, 1, 0, 255, 2, 0, 10, 0})
	f.Add([]byte{2, 1, 100, 30, 2, 0, 5, 90, 0, 0, 30, 40, 1, 1, 150, 12})
	src := agreeSource(f, "p01", corpus.KindInterview, agreeText)
	src2 := agreeSource(f, "p02", corpus.KindInterview, agreeText[:120])
	coders := []string{"a", "b", "c"}
	codes := []AgreeCode{{ID: "x", IDs: []string{"x"}}, {ID: "both", IDs: []string{"both", "x", "y"}}}
	n := len([]rune(agreeText))
	f.Fuzz(func(t *testing.T, data []byte) {
		codings := map[string][]Coding{}
		bad := false
		for i := 0; i+4 <= len(data); i += 4 {
			coder := coders[int(data[i])%len(coders)]
			code := []string{"x", "y"}[int(data[i+1])%2]
			s, size := src, n
			if data[i+1]&2 != 0 {
				s, size = src2, 120
			}
			start := int(data[i+2])
			end := start + int(data[i+3]) - 8
			bad = bad || end > start && end > size
			codings[coder] = append(codings[coder], Coding{Source: s.ID, Start: start, End: end, Code: code, Coder: coder})
		}
		for _, who := range [][]string{coders[:2], coders} {
			for _, missing := range []bool{false, true} {
				opts := AgreeOptions{Coders: who, Codes: codes, Unit: corpus.UnitSentence, MinCover: 0.3, UncodedMissing: missing}
				srcs := []*corpus.Source{src, src2}
				old, err := oldBuildUnitData(srcs, codings, opts)
				if err != nil {
					t.Fatal(err)
				}
				ud, err := BuildUnitData(srcs, codings, opts)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(ud.Marks, old.Marks) || !reflect.DeepEqual(ud.SourceCoders, old.SourceCoders) {
					t.Fatalf("%v: marks %v, want %v", who, ud.Marks, old.Marks)
				}
				want, got := old.Report(), ud.Report()
				exact := len(who) == 2
				for k := range want.Codes {
					for i, r := range want.Codes[k].Stats() {
						agreeSameResult(t, "code "+want.Codes[k].Code.ID, got.Codes[k].Stats()[i], r, exact)
					}
				}
				for i, r := range want.Pooled.Stats() {
					agreeSameResult(t, "pooled", got.Pooled.Stats()[i], r, exact)
				}
				if len(got.Chars) != len(want.Chars) {
					t.Fatalf("%d character rows, want %d", len(got.Chars), len(want.Chars))
				}
				for i, w := range want.Chars {
					g := got.Chars[i]
					if w.Source == "" && bad {
						if g.Chars != w.Chars || g.Percent.Defined && g.Percent != w.Percent {
							t.Fatalf("row over all sources, a span past the text:\n got %+v\nwant %+v", g, w)
						}
						continue
					}
					if !reflect.DeepEqual(g, w) {
						t.Fatalf("character row %d:\n got %+v\nwant %+v", i, g, w)
					}
				}
				if len(got.Disagreements) != len(want.Disagreements) {
					t.Fatalf("%d disagreements, want %d", len(got.Disagreements), len(want.Disagreements))
				}
				for i, w := range want.Disagreements {
					if g := got.Disagreements[i]; !reflect.DeepEqual(g, w) {
						t.Fatalf("disagreement %d:\n got %+v\nwant %+v", i, g, w)
					}
				}
			}
		}
	})
}
