package analysis

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
)

// queryCoding makes a hand-made coding; its id names it in expectations.
func queryCoding(id, code, coder, source string, start, end int) Coding {
	return Coding{ID: id, Code: code, Coder: coder, Source: source, Start: start, End: end, Origin: OriginManual}
}

// queryFixture is a small hand-made study. Source s1 has two turns:
//
//	t1 [0,100):   t1.p1 [0,40)   = t1.p1.s1 [0,20)   + t1.p1.s2 [20,40)
//	              t1.p2 [40,100) = t1.p2.s1 [40,70)  + t1.p2.s2 [70,100)
//	t2 [100,200): t2.p1 [100,200) = t2.p1.s1 [100,150) + t2.p1.s2 [150,200)
//
// and s2 one turn, paragraph and sentence [0,50).
func queryFixture() ([]Coding, map[string][]corpus.Segment) {
	seg := func(id, unit string, start, end int) corpus.Segment {
		return corpus.Segment{ID: id, Unit: unit, Start: start, End: end}
	}
	segs := map[string][]corpus.Segment{
		"s1": {
			seg("t1", corpus.UnitTurn, 0, 100),
			seg("t1.p1", corpus.UnitParagraph, 0, 40),
			seg("t1.p1.s1", corpus.UnitSentence, 0, 20),
			seg("t1.p1.s2", corpus.UnitSentence, 20, 40),
			seg("t1.p2", corpus.UnitParagraph, 40, 100),
			seg("t1.p2.s1", corpus.UnitSentence, 40, 70),
			seg("t1.p2.s2", corpus.UnitSentence, 70, 100),
			seg("t2", corpus.UnitTurn, 100, 200),
			seg("t2.p1", corpus.UnitParagraph, 100, 200),
			seg("t2.p1.s2", corpus.UnitSentence, 150, 200), // out of order on purpose
			seg("t2.p1.s1", corpus.UnitSentence, 100, 150),
		},
		"s2": {
			seg("t1", corpus.UnitTurn, 0, 50),
			seg("t1.p1", corpus.UnitParagraph, 0, 50),
			seg("t1.p1.s1", corpus.UnitSentence, 0, 50),
		},
	}
	orphan := queryCoding("o1", "B", "alice", "s1", 50, 52)
	orphan.Orphan = true
	cs := []Coding{
		queryCoding("a1", "A", "alice", "s1", 5, 15),
		queryCoding("a2", "A", "bob", "s1", 10, 25),
		queryCoding("a3", "A", "alice", "s1", 45, 60),
		queryCoding("a4", "A", "alice", "s1", 120, 140),
		queryCoding("a5", "A", "alice", "s2", 0, 10),
		queryCoding("b1", "B", "alice", "s1", 12, 30),
		queryCoding("b2", "B", "bob", "s1", 75, 90),
		queryCoding("b3", "B", "alice", "s1", 140, 160), // touches a4, no overlap
		queryCoding("b4", "B", "alice", "s2", 20, 30),
		queryCoding("c1", "C", "alice", "s1", 0, 8),
		queryCoding("c2", "C", "alice", "s1", 55, 58),
		orphan, // inside a3 and t1.p2.s1, but stale: takes no part
		queryCoding("d1", "D", "alice", "s1", 13, 14),
	}
	return cs, segs
}

// queryDescribe prints hits as "source segment start-end [coding ids]".
func queryDescribe(hits []QueryHit) []string {
	var out []string
	for _, h := range hits {
		ids := make([]string, len(h.Codings))
		for i, c := range h.Codings {
			ids[i] = c.ID
		}
		seg := h.Segment
		if seg == "" {
			seg = "-"
		}
		out = append(out, fmt.Sprintf("%s %s %d-%d [%s]", h.Source, seg, h.Start, h.End, strings.Join(ids, " ")))
	}
	return out
}

func queryCodes(ids ...string) CodeSet {
	s := CodeSet{}
	for _, id := range ids {
		s[id] = true
	}
	return s
}

// TestCodeQuery checks each kind of query against results worked out by
// hand from the fixture's positions (see queryFixture).
func TestCodeQuery(t *testing.T) {
	cs, segs := queryFixture()
	tests := []struct {
		name string
		q    CodeQuery
		want []string
	}{
		{
			// A covers [5,25) (a1+a2), [45,60), [120,140) in s1 and [0,10) in s2;
			// B covers [12,30), [75,90), [140,160) and s2 [20,30). Only [12,25)
			// is coded at both; [120,140) and [140,160) merely touch.
			name: "A and B, overlapping text",
			q:    CodeQuery{Codes: queryCodes("A"), And: []CodeSet{queryCodes("B")}},
			want: []string{"s1 - 12-25 [a1 a2 b1]"},
		},
		{
			name: "A and B and D narrows to D's character",
			q:    CodeQuery{Codes: queryCodes("A"), And: []CodeSet{queryCodes("B"), queryCodes("D")}},
			want: []string{"s1 - 13-14 [a1 a2 b1 d1]"},
		},
		{
			name: "A and B not C: C lies elsewhere",
			q:    CodeQuery{Codes: queryCodes("A"), And: []CodeSet{queryCodes("B")}, Not: queryCodes("C")},
			want: []string{"s1 - 12-25 [a1 a2 b1]"},
		},
		{
			name: "A and B not D: D inside the hit vetoes it",
			q:    CodeQuery{Codes: queryCodes("A"), And: []CodeSet{queryCodes("B")}, Not: queryCodes("D")},
			want: nil,
		},
		{
			name: "A and A joins overlapping and touching codings",
			q:    CodeQuery{Codes: queryCodes("A"), And: []CodeSet{queryCodes("A")}},
			want: []string{"s1 - 5-25 [a1 a2]", "s1 - 45-60 [a3]", "s1 - 120-140 [a4]", "s2 - 0-10 [a5]"},
		},
		{
			// a1 and a2 overlap b1; a3 overlaps only the orphan; a4 only touches b3.
			name: "A not B, overlapping text",
			q:    CodeQuery{Codes: queryCodes("A"), Not: queryCodes("B")},
			want: []string{"s1 - 45-60 [a3]", "s1 - 120-140 [a4]", "s2 - 0-10 [a5]"},
		},
		{
			name: "A not C, overlapping text",
			q:    CodeQuery{Codes: queryCodes("A"), Not: queryCodes("C")},
			want: []string{"s1 - 10-25 [a2]", "s1 - 120-140 [a4]", "s2 - 0-10 [a5]"},
		},
		{
			name: "A alone lists its live codings",
			q:    CodeQuery{Codes: queryCodes("A")},
			want: []string{"s1 - 5-15 [a1]", "s1 - 10-25 [a2]", "s1 - 45-60 [a3]", "s1 - 120-140 [a4]", "s2 - 0-10 [a5]"},
		},
		{
			// Sentences with A: t1.p1.s1, t1.p1.s2, t1.p2.s1, t2.p1.s1, s2's.
			// With B: t1.p1.s1, t1.p1.s2, t1.p2.s2, t2.p1.s1, t2.p1.s2, s2's.
			name: "A and B in the same sentence",
			q:    CodeQuery{Codes: queryCodes("A"), And: []CodeSet{queryCodes("B")}, Unit: corpus.UnitSentence},
			want: []string{
				"s1 t1.p1.s1 0-20 [a1 a2 b1]",
				"s1 t1.p1.s2 20-40 [a2 b1]",
				"s1 t2.p1.s1 100-150 [a4 b3]",
				"s2 t1.p1.s1 0-50 [a5 b4]",
			},
		},
		{
			name: "A and B in the same paragraph",
			q:    CodeQuery{Codes: queryCodes("A"), And: []CodeSet{queryCodes("B")}, Unit: corpus.UnitParagraph},
			want: []string{
				"s1 t1.p1 0-40 [a1 a2 b1]",
				"s1 t1.p2 40-100 [a3 b2]",
				"s1 t2.p1 100-200 [a4 b3]",
				"s2 t1.p1 0-50 [a5 b4]",
			},
		},
		{
			name: "A and B in the same paragraph, not C",
			q:    CodeQuery{Codes: queryCodes("A"), And: []CodeSet{queryCodes("B")}, Not: queryCodes("C"), Unit: corpus.UnitParagraph},
			want: []string{"s1 t2.p1 100-200 [a4 b3]", "s2 t1.p1 0-50 [a5 b4]"},
		},
		{
			name: "A not C in the same turn",
			q:    CodeQuery{Codes: queryCodes("A"), Not: queryCodes("C"), Unit: corpus.UnitTurn},
			want: []string{"s1 - 120-140 [a4]", "s2 - 0-10 [a5]"},
		},
		{
			// B is in every sentence with A but t1.p2.s1 (the orphan does not count).
			name: "A not B in the same sentence",
			q:    CodeQuery{Codes: queryCodes("A"), Not: queryCodes("B"), Unit: corpus.UnitSentence},
			want: []string{"s1 - 45-60 [a3]"},
		},
		{
			// A theme stands for A and B; every coding of B overlaps itself.
			name: "theme not one of its codes",
			q:    CodeQuery{Codes: queryCodes("T", "A", "B"), Not: queryCodes("B")},
			want: []string{"s1 - 45-60 [a3]", "s1 - 120-140 [a4]", "s2 - 0-10 [a5]"},
		},
		{
			name: "an absent operand finds nothing",
			q:    CodeQuery{Codes: queryCodes("A"), And: []CodeSet{queryCodes("nope")}},
			want: nil,
		},
		{
			name: "an absent not vetoes nothing",
			q:    CodeQuery{Codes: queryCodes("D"), Not: queryCodes("nope"), Unit: corpus.UnitTurn},
			want: []string{"s1 - 13-14 [d1]"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits, err := tt.q.Run(cs, segs)
			if err != nil {
				t.Fatal(err)
			}
			if got := queryDescribe(hits); !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestCodeQueryBadUnit(t *testing.T) {
	cs, segs := queryFixture()
	q := CodeQuery{Codes: queryCodes("A"), Unit: "chapter"}
	if _, err := q.Run(cs, segs); err == nil || !strings.Contains(err.Error(), "chapter") {
		t.Fatalf("want an error naming the unit, got %v", err)
	}
}

// TestCodeQueryOverlapMatchesCharacters compares overlap queries on random
// codings with a character-by-character computation: the hits must be the
// maximal runs of characters coded at every operand, less the runs that
// touch a character coded at a Not code.
func TestCodeQueryOverlapMatchesCharacters(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	const textLen = 60
	codes := []string{"A", "B", "C", "N"}
	for round := 0; round < 300; round++ {
		var cs []Coding
		for i := 0; i < 2+rng.IntN(12); i++ {
			s := rng.IntN(textLen - 1)
			e := s + 1 + rng.IntN(min(12, textLen-s))
			cs = append(cs, queryCoding(fmt.Sprint("c", i), codes[rng.IntN(len(codes))], "x", "s", s, e))
		}
		nAnd := rng.IntN(3)
		q := CodeQuery{Codes: queryCodes("A"), Not: queryCodes("N")}
		ops := []string{"A"}
		for k := 0; k < nAnd; k++ {
			code := []string{"B", "C"}[k]
			q.And = append(q.And, queryCodes(code))
			ops = append(ops, code)
		}
		hits, err := q.Run(cs, nil)
		if err != nil {
			t.Fatal(err)
		}
		if nAnd == 0 {
			continue // codings themselves, covered by the table
		}
		covered := func(code string, x int) bool {
			return slices.ContainsFunc(cs, func(c Coding) bool { return c.Code == code && c.Start <= x && x < c.End })
		}
		var want []string
		for x := 0; x < textLen; {
			all := func(x int) bool {
				return x < textLen && !slices.ContainsFunc(ops, func(op string) bool { return !covered(op, x) })
			}
			if !all(x) {
				x++
				continue
			}
			s := x
			vetoed := false
			for ; all(x); x++ {
				vetoed = vetoed || covered("N", x)
			}
			if !vetoed {
				want = append(want, fmt.Sprintf("%d-%d", s, x))
			}
		}
		var got []string
		for _, h := range hits {
			got = append(got, fmt.Sprintf("%d-%d", h.Start, h.End))
			for _, c := range h.Codings {
				if c.Start >= h.End || h.Start >= c.End || !slices.Contains(ops, c.Code) {
					t.Fatalf("round %d: hit %d-%d lists coding %+v", round, h.Start, h.End, c)
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: codings %v, operands %v:\ngot  %v\nwant %v", round, cs, ops, got, want)
		}
	}
}

func TestExpandCodes(t *testing.T) {
	yml := `themes:
  - id: T
    name: Theme
    subthemes:
      - id: S
        name: Sub
        codes:
          - id: A
            name: Code A
            codes:
              - id: A1
                name: Child
  - id: U
    name: Other
    codes:
      - id: B
        name: Code B
`
	cb, probs := codebook.Parse("codebook.yaml", []byte(yml))
	if len(probs) > 0 {
		t.Fatal(probs[0])
	}
	tests := []struct {
		ids         []string
		want        []string
		wantUnknown []string
	}{
		{[]string{"T"}, []string{"A", "A1", "S", "T"}, nil},
		{[]string{"S", "zz"}, []string{"A", "A1", "S", "zz"}, []string{"zz"}},
		{[]string{"A1"}, []string{"A1"}, nil},
		{[]string{"B", "U", "zz", "zz"}, []string{"B", "U", "zz"}, []string{"zz"}},
		{nil, nil, nil},
	}
	for _, tt := range tests {
		got, unknown := ExpandCodes(cb, tt.ids)
		keys := make([]string, 0, len(got))
		for k := range got {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, tt.want) || !slices.Equal(unknown, tt.wantUnknown) {
			t.Errorf("ExpandCodes(%v) = %v, %v; want %v, %v", tt.ids, keys, unknown, tt.want, tt.wantUnknown)
		}
	}
	if got, unknown := ExpandCodes(nil, []string{"x"}); !got["x"] || !slices.Equal(unknown, []string{"x"}) {
		t.Errorf("nil codebook: %v %v", got, unknown)
	}
}

func TestCodingFilter(t *testing.T) {
	cs, _ := queryFixture()
	cs = append(cs, queryCoding("g1", "A", "alice", "gone", 0, 3)) // a source no longer ingested
	srcs := map[string]*corpus.Source{
		"s1": {ID: "s1", Kind: corpus.KindInterview, Case: "P01", Attrs: map[string]string{"wave": "1"}},
		"s2": {ID: "s2", Kind: corpus.KindDiary, Case: "P02", Attrs: map[string]string{"wave": "2", "site": "East"}},
	}
	cases := corpus.Cases{
		"P01": {"gender": "female", "site": "North"},
		"P02": {"gender": "Male", "site": "South"}, // s2's own site wins
	}
	s1 := []string{"a1", "a2", "a3", "a4", "b1", "b2", "b3", "c1", "c2", "o1", "d1"}
	s2 := []string{"a5", "b4"}
	all := append(append(append([]string{}, s1...), s2...), "g1")
	tests := []struct {
		name string
		f    CodingFilter
		want []string
	}{
		{"nothing", CodingFilter{}, all},
		{"code", CodingFilter{Codes: queryCodes("A")}, []string{"a1", "a2", "a3", "a4", "a5", "g1"}},
		{"code and coder", CodingFilter{Codes: queryCodes("A", "B"), Coders: []string{"bob"}}, []string{"a2", "b2"}},
		{"coders", CodingFilter{Coders: []string{"bob", "carol"}}, []string{"a2", "b2"}},
		{"source", CodingFilter{Sources: []string{"s2", "gone"}}, append(append([]string{}, s2...), "g1")},
		{"case", CodingFilter{Cases: []string{"P01"}}, s1},
		{"case attribute", CodingFilter{Attrs: map[string][]string{"gender": {"female"}}}, s1},
		{"attribute values ignore case", CodingFilter{Attrs: map[string][]string{"gender": {" MALE "}}}, s2},
		{"source attribute wins", CodingFilter{Attrs: map[string][]string{"site": {"South"}}}, nil},
		{"source attribute", CodingFilter{Attrs: map[string][]string{"site": {"East", "North"}}}, append(append([]string{}, s1...), s2...)},
		{"kind", CodingFilter{Attrs: map[string][]string{"kind": {"diary"}}}, s2},
		{"two attributes", CodingFilter{Attrs: map[string][]string{"gender": {"female"}, "wave": {"2"}}}, nil},
		{"unknown attribute", CodingFilter{Attrs: map[string][]string{"age": {"30"}}}, nil},
		{"case and code", CodingFilter{Codes: queryCodes("B"), Cases: []string{"P02"}}, []string{"b4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range tt.f.Select(cs, srcs, cases) {
				got = append(got, c.ID)
			}
			// Select keeps the order of cs; compare as sets.
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

// BenchmarkCodeQuery runs A AND B over 100k codings in 100 sources, at
// overlap and at sentence level.
func BenchmarkCodeQuery(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var cs []Coding
	segs := map[string][]corpus.Segment{}
	for s := 0; s < 100; s++ {
		src := fmt.Sprint("src", s)
		for k := 0; k < 2000; k++ {
			segs[src] = append(segs[src], corpus.Segment{ID: fmt.Sprint("s", k), Unit: corpus.UnitSentence, Start: k * 50, End: k*50 + 50})
		}
		for i := 0; i < 1000; i++ {
			st := rng.IntN(100000 - 200)
			cs = append(cs, queryCoding(fmt.Sprint(src, "-", i), []string{"A", "B", "C", "D"}[rng.IntN(4)], "x", src, st, st+1+rng.IntN(200)))
		}
	}
	for _, unit := range []string{"", corpus.UnitSentence} {
		b.Run("unit="+unit, func(b *testing.B) {
			q := CodeQuery{Codes: queryCodes("A"), And: []CodeSet{queryCodes("B")}, Not: queryCodes("C"), Unit: unit}
			for b.Loop() {
				if _, err := q.Run(cs, segs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// eachCodingFile saves n codings of alice over a few sources, with memos
// that need escaping, and returns the store.
func eachCodingFile(t *testing.T, n int) Store {
	t.Helper()
	st := Store{Dir: t.TempDir()}
	text := strings.Repeat("Ein Café, \"quoted\" und ✓ weiter.\n", 40)
	var cs []Coding
	for i := range n {
		start := (i * 7) % 600
		c, err := NewCoding(fmt.Sprintf("src%02d", i%5), text, start, start+5+i%30, fmt.Sprint("code", i%9), "alice", OriginManual, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			c.Memo = fmt.Sprintf("memo %d:\n\t\"tab\" \\ end", i)
		}
		cs = append(cs, c)
	}
	if err := st.Save("alice", cs); err != nil {
		t.Fatal(err)
	}
	return st
}

// collectEach gathers what EachCoding gives, copied out of its memory.
func collectEach(s Store, coder string) ([]Coding, error) {
	var out []Coding
	err := EachCoding(s, coder, func(c *Coding) error {
		k := *c
		for _, p := range []*string{&k.ID, &k.Source, &k.Quote, &k.Prefix, &k.Suffix, &k.Code, &k.Coder, &k.Origin, &k.Segment, &k.Memo} {
			*p = strings.Clone(*p)
		}
		out = append(out, k)
		return nil
	})
	return out, err
}

// withPiece makes EachCoding read pieces of n bytes during a test.
func withPiece(t *testing.T, n int) {
	old := eachCodingPiece
	eachCodingPiece = n
	t.Cleanup(func() { eachCodingPiece = old })
}

func TestEachCodingMatchesLoad(t *testing.T) {
	st := eachCodingFile(t, 400)
	want, err := st.Load("alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, piece := range []int{64, 1000, 4096, 8 << 20} { // 64: every line longer than a piece
		t.Run(fmt.Sprint(piece), func(t *testing.T) {
			withPiece(t, piece)
			got, err := collectEach(st, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%d codings, want %d", len(got), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("coding %d:\n got %+v\nwant %+v", i, got[i], want[i])
				}
			}
		})
	}
	// No file, no codings; a bad name is an error.
	if got, err := collectEach(st, "bob"); err != nil || len(got) != 0 {
		t.Errorf("missing file: %d codings, %v", len(got), err)
	}
	if err := EachCoding(st, "Bob", func(*Coding) error { return nil }); err == nil {
		t.Error("no error for an invalid coder name")
	}
}

// A broken file gives the error Load gives, wherever the problem falls
// among the pieces.
func TestEachCodingErrorsAsLoad(t *testing.T) {
	st := eachCodingFile(t, 60)
	path := filepath.Join(st.Dir, "alice.jsonl")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(orig), "\n")
	edit := func(f func(lines []string) []string) string {
		return strings.Join(f(slices.Clone(lines)), "")
	}
	tests := []struct {
		name string
		file string
	}{
		{"broken line late", edit(func(l []string) []string { l[50] = l[50][:40] + "\n"; return l })},
		{"id repeated in another piece", edit(func(l []string) []string {
			return append(l, strings.Replace(l[0], `"start":`, `"memo":"again","start":`, 1))
		})},
		{"byte order mark inside", edit(func(l []string) []string { l[30] = "\xef\xbb\xbf" + l[30]; return l })},
		{"wrong coder", edit(func(l []string) []string {
			l[45] = strings.Replace(l[45], `"coder":"alice"`, `"coder":"bob"`, 1)
			return l
		})},
		{"invalid UTF-8", edit(func(l []string) []string { l[20] = strings.Replace(l[20], "Café", "Caf\xe9", 1); return l })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(path, []byte(tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			_, want := st.Load("alice")
			if want == nil {
				t.Fatal("Load accepts the file")
			}
			for _, piece := range []int{700, 3000, 1 << 20} {
				withPiece(t, piece)
				_, err := collectEach(st, "alice")
				if err == nil || err.Error() != want.Error() {
					t.Errorf("piece %d: error %v, want %v", piece, err, want)
				}
			}
		})
	}
	// A byte order mark at the start is allowed, as Load allows it.
	if err := os.WriteFile(path, append([]byte("\xef\xbb\xbf"), orig...), 0o644); err != nil {
		t.Fatal(err)
	}
	withPiece(t, 700)
	if got, err := collectEach(st, "alice"); err != nil || len(got) != 60 {
		t.Errorf("with a BOM: %d codings, %v", len(got), err)
	}
}

// fn's error stops the scan.
func TestEachCodingStops(t *testing.T) {
	st := eachCodingFile(t, 50)
	withPiece(t, 500)
	stop := fmt.Errorf("enough")
	n := 0
	err := EachCoding(st, "alice", func(*Coding) error {
		if n++; n == 7 {
			return stop
		}
		return nil
	})
	if err != stop || n != 7 {
		t.Errorf("after %d codings: %v", n, err)
	}
}

// BenchmarkEachCoding streams 100,000 codings (about 37 MB of JSONL).
func BenchmarkEachCoding(b *testing.B) {
	st := Store{Dir: b.TempDir()}
	text := strings.Repeat("Ein Café und ein Garten, sagte sie, und dann war es still. ", 200)
	cs := make([]Coding, 0, 100000)
	for i := range 100000 {
		start := (i / 500) * 50 // 200 codings a source, each its own span
		c, err := NewCoding(fmt.Sprintf("src%03d", i%500), text, start, start+60, fmt.Sprint("code", i%200), "alice", "rule:x/1", time.Unix(1750000000, 0))
		if err != nil {
			b.Fatal(err)
		}
		cs = append(cs, c)
	}
	if err := st.Save("alice", cs); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := EachCoding(st, "alice", func(*Coding) error { n++; return nil }); err != nil || n != len(cs) {
			b.Fatal(n, err)
		}
	}
}

// FuzzEachCoding reads arbitrary files in small pieces: EachCoding must
// give exactly the codings Load gives, or fail with Load's error.
func FuzzEachCoding(f *testing.F) {
	text := "Ein Café, und dann.\n"
	var seed strings.Builder
	for i := range 6 {
		c, err := NewCoding("s", text, i, i+3+i%4, fmt.Sprint("c", i%2), "alice", OriginManual, time.Unix(1750000000, 0).UTC())
		if err != nil {
			f.Fatal(err)
		}
		b := appendCoding(nil, &c, c.ID)
		seed.Write(b)
	}
	f.Add([]byte(seed.String()), 64)
	f.Add([]byte("\xef\xbb\xbf"+seed.String()), 200)
	f.Add([]byte(seed.String()+seed.String()), 100) // every id twice
	f.Add([]byte(strings.Replace(seed.String(), "\n", "\n\n  \n", 3)), 50)
	f.Add([]byte("{\"id\":\"x\"\n<<<<<<< HEAD\n"), 8)
	f.Fuzz(func(t *testing.T, data []byte, piece int) {
		st := Store{Dir: t.TempDir()}
		if err := os.WriteFile(filepath.Join(st.Dir, "alice.jsonl"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		old := eachCodingPiece
		eachCodingPiece = 1 + (piece&0xffff)%4096
		defer func() { eachCodingPiece = old }()
		want, wantErr := st.Load("alice")
		got, err := collectEach(st, "alice")
		if wantErr != nil {
			if err == nil || err.Error() != wantErr.Error() {
				t.Fatalf("error %v, want %v", err, wantErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("error %v where Load gives %d codings", err, len(want))
		}
		if len(got) != len(want) {
			t.Fatalf("%d codings, want %d", len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("coding %d:\n got %+v\nwant %+v", i, got[i], want[i])
			}
		}
	})
}
