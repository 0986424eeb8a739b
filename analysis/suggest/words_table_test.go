package suggest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/gencorpus"
)

// countGroups runs a WordCounter over sources already ordered by group and
// case, bits being its packing width.
func countGroups(t testing.TB, srcs []*corpus.Source, group func(*corpus.Source) string, opts WordsOptions, bits uint) []WordGroup {
	t.Helper()
	wc := NewWordCounter(opts)
	wc.bits = bits
	var out []WordGroup
	for i, s := range srcs {
		if err := wc.Add(s); err != nil {
			t.Fatal(err)
		}
		if i == len(srcs)-1 || group(srcs[i+1]) != group(s) {
			out = append(out, wc.Group(group(s)))
		}
	}
	return out
}

// A phrase seen once lives in its slot; its second occurrence gives it a
// counter that must carry the first one over: its source, its case and
// its spelling.
func TestWordCounterPromotes(t *testing.T) {
	an := testAnalyzer(t)
	src := func(id, cas, text string) *corpus.Source {
		return toySource(id, corpus.KindDiary, cas, 1, "## 2025-06-01\n\n"+text+"\n")
	}
	srcs := []*corpus.Source{
		src("a", "P1", "Compost heaps steam. Compost heaps."),    // twice in one source
		src("b", "P1", "Compost heap rots. Onions grow."),        // once more, same case
		src("c", "P2", "COMPOST HEAPS smell. Onions grow. Kale"), // another case, capitals
		src("d", "P3", "Kale"),
	}
	for _, tc := range []struct {
		until int    // sources added
		term  string // the phrase
		want  string // count sources cases forms; "" when not listed
	}{
		{1, "compost heaps", "2 1 1 []"},
		{2, "compost heaps", "3 2 1 [compost heaps compost heap]"},
		{2, "onions grow", ""},
		{3, "compost heaps", "4 3 2 [compost heaps compost heap]"},
		{3, "onions grow", "2 2 2 []"},
		{3, "heaps smell", ""},
	} {
		g := countGroups(t, srcs[:tc.until], func(*corpus.Source) string { return "all" }, WordsOptions{Analyzer: an}, wordIDBits)[0]
		got := ""
		if f := freqOf(g.Phrases, tc.term); f != nil {
			got = fmt.Sprint(f.Count, f.Sources, f.Cases, f.Forms)
		}
		if got != tc.want {
			t.Errorf("%d sources, %q: %q, want %q", tc.until, tc.term, got, tc.want)
		}
	}
	// Seen once: listed as a word, and as a phrase from MinCount 1, from
	// its slot alone.
	g := countGroups(t, srcs, func(*corpus.Source) string { return "all" }, WordsOptions{Analyzer: an, MinCount: 1}, wordIDBits)[0]
	if f := freqOf(g.Phrases, "heaps smell"); f == nil || f.Count != 1 || f.Sources != 1 || f.Cases != 1 || f.Forms != nil {
		t.Errorf("heaps smell: %+v", f)
	}
	if f := freqOf(g.Terms, "smell"); f == nil || f.Count != 1 || f.Sources != 1 {
		t.Errorf("smell: %+v", f)
	}
	if f := freqOf(g.Terms, "kale"); f == nil || f.Count != 2 || f.Sources != 2 || f.Cases != 2 {
		t.Errorf("kale: %+v", f)
	}
	if !reflect.DeepEqual(g, oldFrequencies(srcs, WordsOptions{Analyzer: an, MinCount: 1})[0]) {
		t.Errorf("differs from the old count")
	}
}

// Words and phrases whose ids do not pack are counted in the side map: the
// same counts, whichever way each is held. With 4 bits, most of the
// vocabulary is wide and the rest packed, and the two mix within a phrase.
func TestWordCounterWide(t *testing.T) {
	an := testAnalyzer(t)
	srcs := wordsGenerated()
	byCase := func(s *corpus.Source) string { return s.Case }
	slices.SortStableFunc(srcs, func(a, b *corpus.Source) int { return strings.Compare(a.Case, b.Case) })
	for _, opts := range []WordsOptions{{Analyzer: an}, {Analyzer: an, Top: 7, MinCount: 3}} {
		want := oldFrequencies(srcs, WordsOptions{Analyzer: an, Group: byCase, Top: opts.Top, MinCount: opts.MinCount})
		for _, bits := range []uint{4, 9, wordIDBits} {
			got := countGroups(t, srcs, byCase, opts, bits)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%d bits, top %d: %s", bits, opts.Top, wordsDiff(got, want))
			}
		}
	}
	// both kinds were used, and the table grew
	for _, bits := range []uint{9, wordIDBits} {
		wc := NewWordCounter(WordsOptions{Analyzer: an})
		wc.bits = bits
		for _, s := range srcs {
			wc.Add(s)
		}
		grown := 0
		for _, sh := range wc.tab.shards {
			if len(sh.slots) > wordShardMin {
				grown++
			}
		}
		if bits < wordIDBits && len(wc.wide) == 0 || wc.tab.len() == 0 || bits == wordIDBits && grown == 0 {
			t.Errorf("%d bits: %d wide, %d packed, %d shards grown", bits, len(wc.wide), wc.tab.len(), grown)
		}
	}
}

// The top N are cut after sorting by count and then term, so entries tied
// at the cut are taken alphabetically, for words and for phrases.
func TestWordsTiesAtCut(t *testing.T) {
	an := testAnalyzer(t)
	// words: big 6, beet 4, red 3, then apple, carrot and damson 2 each,
	// fig 1; phrases: "red beet" 3, then "big apple", "big carrot" and "big
	// damson" 2 each.
	text := "Red beet. Red beet. Red beet. Beet. Big damson, big carrot, big apple. " +
		"Big damson. Big carrot. Big apple. Fig."
	srcs := []*corpus.Source{toySource("a", corpus.KindDiary, "P1", 1, "## 2025-06-01\n\n"+text+"\n")}
	for top := range 9 {
		opts := WordsOptions{Analyzer: an, Top: top}
		got, want := Frequencies(srcs, opts), oldFrequencies(srcs, opts)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("top %d: %s", top, wordsDiff(got, want))
		}
	}
	list := func(fs []Freq) string {
		var s []string
		for _, f := range fs {
			s = append(s, fmt.Sprintf("%s %d", f.Term, f.Count))
		}
		return strings.Join(s, "|")
	}
	g := Frequencies(srcs, WordsOptions{Analyzer: an, Top: 4})[0]
	if got, want := list(g.Terms), "big 6|beet 4|red 3|apple 2"; got != want {
		t.Errorf("top 4 words %q, want %q", got, want)
	}
	g = Frequencies(srcs, WordsOptions{Analyzer: an, Top: 2})[0]
	if got, want := list(g.Phrases), "red beet 3|big apple 2"; got != want {
		t.Errorf("top 2 phrases %q, want %q", got, want)
	}
}

// cmpSpelt orders spellings as their joined strings, even with a word that
// begins another and a word that holds a space.
func TestCmpSpelt(t *testing.T) {
	an := testAnalyzer(t)
	wc := NewWordCounter(WordsOptions{Analyzer: an})
	wc.v.surf = []string{"", "ab", "abc", "ab c", "b", "a", "ab!", "abb", "c"}
	var all [][3]uint32
	for a := uint32(1); a < uint32(len(wc.v.surf)); a++ {
		all = append(all, [3]uint32{a})
		for b := uint32(1); b < uint32(len(wc.v.surf)); b++ {
			all = append(all, [3]uint32{a, b})
			for c := uint32(1); c < 4; c++ {
				all = append(all, [3]uint32{a, b, c})
			}
		}
	}
	sign := func(n int) int { return min(max(n, -1), 1) }
	for _, x := range all {
		for _, y := range all {
			want := strings.Compare(wordsJoin(x, wc.v.surf), wordsJoin(y, wc.v.surf))
			if got := sign(wc.cmpSpelt(x, y)); got != want {
				t.Fatalf("%q vs %q: %d, want %d", wordsJoin(x, wc.v.surf), wordsJoin(y, wc.v.surf), got, want)
			}
		}
	}
}

func TestPack(t *testing.T) {
	for _, ids := range [][3]uint32{{1}, {1, 2}, {7, 0, 5}, {1<<21 - 1, 1<<21 - 1, 1<<21 - 1}} {
		p, ok := pack(ids, wordIDBits)
		if !ok || unpack(p, wordIDBits) != ids || p == 0 {
			t.Errorf("%v: %x %v -> %v", ids, p, ok, unpack(p, wordIDBits))
		}
	}
	for _, ids := range [][3]uint32{{1 << 21}, {1, 1 << 21}, {1, 2, 1 << 31}} {
		if _, ok := pack(ids, wordIDBits); ok {
			t.Errorf("%v packed", ids)
		}
	}
}

// The counter's scanning, into buffers it keeps, finds what wordSpans and
// []rune find.
func FuzzAppendWordSpans(f *testing.F) {
	for _, s := range []string{"Don't stop-gap it's  ok", "'quoted' - dash -- end-", "naïve café 2025 🌱", "x’y z'", "\xff\xfeab c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs := appendRunes([]rune("junk"), s)[4:]
		if !slices.Equal(rs, []rune(s)) {
			t.Fatalf("%q: runes %q", s, rs)
		}
		all := appendWordSpans([][2]int32{{9, 9}}, rs)
		if all[0] != [2]int32{9, 9} {
			t.Fatalf("%q: the spans already in dst were changed", s)
		}
		// The spans are the maximal runs of word characters, with a joiner
		// kept only between two of them: checked rune by rune.
		joined := func(i int) bool { // rs[i] is a joiner inside a word
			return i > 0 && i+1 < len(rs) && isJoiner(rs[i]) && isWordRune(rs[i-1]) && isWordRune(rs[i+1])
		}
		inside := make([]bool, len(rs))
		last := int32(0)
		for _, sp := range all[1:] {
			if sp[0] < last || sp[1] <= sp[0] || !isWordRune(rs[sp[0]]) || !isWordRune(rs[sp[1]-1]) {
				t.Fatalf("%q: span %v", s, sp)
			}
			if sp[0] > 0 && (isWordRune(rs[sp[0]-1]) || joined(int(sp[0])-1)) {
				t.Fatalf("%q: span %v starts inside a word", s, sp)
			}
			if int(sp[1]) < len(rs) && (isWordRune(rs[sp[1]]) || joined(int(sp[1]))) {
				t.Fatalf("%q: span %v ends inside a word", s, sp)
			}
			for i := sp[0]; i < sp[1]; i++ {
				inside[i] = true
				if !isWordRune(rs[i]) && !joined(int(i)) {
					t.Fatalf("%q: span %v holds %q", s, sp, rs[i])
				}
			}
			last = sp[1]
		}
		for i, r := range rs {
			if !inside[i] && isWordRune(r) {
				t.Fatalf("%q: word character %q at %d in no span", s, r, i)
			}
		}
		if got := wordSpans(rs); len(got) != len(all)-1 {
			t.Fatalf("%q: wordSpans gave %d spans, appendWordSpans %d", s, len(got), len(all)-1)
		}
	})
}

// BenchmarkWordCounter counts a million generated words as one group, the
// way 'thematic words' does by default, and lists the top 50.
func BenchmarkWordCounter(b *testing.B) {
	an, err := corpus.NewAnalyzer("en", false)
	if err != nil {
		b.Fatal(err)
	}
	g := gencorpus.New(gencorpus.Options{Seed: 1, Words: 5000})
	var srcs []*corpus.Source
	words := 0
	for i := range 200 {
		d := g.Doc(i)
		srcs = append(srcs, toySource(d.Name, d.Kind, d.Case, i+1, d.Text))
		words += len(strings.Fields(d.Text))
	}
	slices.SortStableFunc(srcs, func(a, b *corpus.Source) int { return strings.Compare(a.Case, b.Case) })
	b.ReportAllocs()
	for b.Loop() {
		wc := NewWordCounter(WordsOptions{Analyzer: an, Top: 50})
		for _, s := range srcs {
			if err := wc.Add(s); err != nil {
				b.Fatal(err)
			}
		}
		wc.Group("all")
	}
	b.ReportMetric(float64(words)*float64(b.N)/b.Elapsed().Seconds(), "words/s")
}
