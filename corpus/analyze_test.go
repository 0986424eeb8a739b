package corpus

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"golang.org/x/text/unicode/norm"

	"github.com/thematic-qda/thematic/internal/errs"
)

func mustAnalyzer(t testing.TB, lang string, fold bool) *Analyzer {
	t.Helper()
	a, err := NewAnalyzer(lang, fold)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Each token's span must slice the text to the word it came from, in code
// points, whatever the bytes per character before it.
func TestTokensOffsets(t *testing.T) {
	type tok struct{ term, word string }
	cases := []struct {
		name string
		text string
		fold bool
		want []tok
	}{
		{"ascii", "The parents were parenting.", false,
			[]tok{{"parent", "parents"}, {"parent", "parenting"}}},
		{"accents and emoji before the words", "Café 😀 naïve 👩‍👧 Zoë’s résumé", false,
			[]tok{{"café", "Café"}, {"naïv", "naïve"}, {"zoë", "Zoë’s"}, {"résumé", "résumé"}}},
		{"folded", "Café 😀 naïve 👩‍👧 Zoë’s résumé Straße", true,
			[]tok{{"cafe", "Café"}, {"naiv", "naïve"}, {"zoe", "Zoë’s"}, {"resum", "résumé"}, {"strass", "Straße"}}},
		{"normalised from NFD", norm.NFC.String("Zoe\u0308 and the re\u0301sume\u0301"), false,
			[]tok{{"zoë", "Zoë"}, {"résumé", "résumé"}}},
		{"curly and straight apostrophes", "I don’t know, they don't, she didnʼt.", false,
			[]tok{{"don't", "don’t"}, {"know", "know"}, {"don't", "don't"}, {"didn't", "didnʼt"}}},
		{"newlines", "first line\nsecond\n\nthird", false,
			[]tok{{"first", "first"}, {"line", "line"}, {"second", "second"}, {"third", "third"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := mustAnalyzer(t, "en", c.fold)
			got := a.Tokens(c.text)
			rs := []rune(c.text)
			if len(got) != len(c.want) {
				t.Fatalf("Tokens(%q) = %+v, want %d tokens", c.text, got, len(c.want))
			}
			for i, g := range got {
				if g.Term != c.want[i].term {
					t.Errorf("token %d: term %q, want %q", i, g.Term, c.want[i].term)
				}
				if g.Start < 0 || g.End > len(rs) || g.Start >= g.End {
					t.Fatalf("token %d: span %d-%d outside %d code points", i, g.Start, g.End, len(rs))
				}
				if w := string(rs[g.Start:g.End]); w != c.want[i].word {
					t.Errorf("token %d: span %d-%d is %q, want %q", i, g.Start, g.End, w, c.want[i].word)
				}
			}
		})
	}
}

// Stop words are dropped but leave gaps in the positions, as bleve's phrase
// matching expects.
func TestTokensPositions(t *testing.T) {
	got := mustAnalyzer(t, "", false).Tokens("the role of the worker")
	if len(got) != 2 || got[0].Pos != 1 || got[1].Pos != 4 {
		t.Fatalf("Tokens = %+v, want role at 1 and worker at 4", got)
	}
}

// Porter stemming, with examples from Porter's 1980 paper.
func TestTermStemming(t *testing.T) {
	a := mustAnalyzer(t, "en", false)
	cases := map[string]string{
		"caresses": "caress", "ponies": "poni", "cats": "cat", "motoring": "motor", "hopping": "hop",
		"relational": "relat", "Parenting": "parent", "parents": "parent", "parent’s": "parent",
		"the": "", "and": "", "😀": "", "e-mail": "", "": "",
	}
	for in, want := range cases {
		if got := a.Term(in); got != want {
			t.Errorf("Term(%q) = %q, want %q", in, got, want)
		}
	}
}

// don’t and don't are one term, and a contraction is not dropped as a stop
// word in either spelling.
func TestTermApostrophes(t *testing.T) {
	a := mustAnalyzer(t, "en", false)
	for _, group := range [][]string{
		{"don't", "don’t", "DON‘T", "donʼt", "don＇t"},
		{"can't", "can’t"},
		{"I'm", "I’m"},
	} {
		want := a.Term(group[0])
		if want == "" || !strings.Contains(want, "'") {
			t.Fatalf("Term(%q) = %q, want a term with a straight apostrophe", group[0], want)
		}
		for _, w := range group[1:] {
			if got := a.Term(w); got != want {
				t.Errorf("Term(%q) = %q, want %q like %q", w, got, want, group[0])
			}
		}
	}
	// A possessive or "it's" reduces to its stem, which may be a stop word.
	if got := a.Term("it’s"); got != "" {
		t.Errorf("Term(it’s) = %q, want a stop word", got)
	}
}

func TestTermFoldAccents(t *testing.T) {
	pairs := [][2]string{{"naïve", "naive"}, {"café", "cafe"}, {"Zoë", "zoe"}, {"résumé", "resume"}, {"Björn", "bjorn"},
		{norm.NFD.String("naïve"), "naive"}}
	off := mustAnalyzer(t, "en", false)
	on := mustAnalyzer(t, "en", true)
	for _, p := range pairs {
		if a, b := on.Term(p[0]), on.Term(p[1]); a != b || a == "" {
			t.Errorf("folding: Term(%q) = %q, Term(%q) = %q, want equal", p[0], a, p[1], b)
		}
		if a, b := off.Term(p[0]), off.Term(p[1]); a == b {
			t.Errorf("not folding: Term(%q) = Term(%q) = %q, want different", p[0], p[1], a)
		}
	}
	// NFD input is brought to NFC, so it matches the (NFC) text unfolded too.
	if a, b := off.Term(norm.NFD.String("naïve")), off.Term("naïve"); a != b {
		t.Errorf("Term(NFD naïve) = %q, Term(naïve) = %q", a, b)
	}
}

func TestFold(t *testing.T) {
	cases := []struct {
		in   string
		fold bool
		want string
	}{
		{"Parent*", false, "parent*"},
		{"Don’t*", false, "don't*"},
		{"Naïv*", false, "naïv*"},
		{"Naïv*", true, "naiv*"},
		{norm.NFD.String("Résumé?"), true, "resume?"},
	}
	for _, c := range cases {
		if got := mustAnalyzer(t, "en", c.fold).Fold(c.in); got != c.want {
			t.Errorf("Fold(%q, fold=%v) = %q, want %q", c.in, c.fold, got, c.want)
		}
	}
}

func TestNewAnalyzerLanguages(t *testing.T) {
	cases := []struct {
		lang, want string
		word, term string
	}{
		{"", "en", "parenting", "parent"},
		{"EN-gb", "en", "parenting", "parent"},
		{"fr", "fr", "les", ""}, // a French stop word
		{"de", "de", "und", ""},
		{"ja", "cjk", "", ""},
		{"cs", "cs", "jsem", ""}, // stop words only, no analyser in bleve
	}
	for _, c := range cases {
		a, err := NewAnalyzer(c.lang, false)
		if err != nil {
			t.Fatalf("NewAnalyzer(%q): %v", c.lang, err)
		}
		if a.Language() != c.want {
			t.Errorf("NewAnalyzer(%q).Language() = %q, want %q", c.lang, a.Language(), c.want)
		}
		if c.word != "" {
			if got := a.Term(c.word); got != c.term {
				t.Errorf("%s: Term(%q) = %q, want %q", c.lang, c.word, got, c.term)
			}
		}
	}
	_, err := NewAnalyzer("xx", false)
	var ie *errs.InputError
	if !errors.As(err, &ie) || ie.File != "thematic.yaml" || !strings.Contains(ie.Msg, "en,") {
		t.Fatalf("NewAnalyzer(xx): %v, want an input error listing the languages", err)
	}
}

func TestLanguagesAllBuild(t *testing.T) {
	for _, l := range Languages() {
		for _, fold := range []bool{false, true} {
			a, err := NewAnalyzer(l, fold)
			if err != nil {
				t.Errorf("NewAnalyzer(%q, %v): %v", l, fold, err)
				continue
			}
			for _, tk := range a.Tokens("Ünïcödé text’s words 123") {
				if tk.Term == "" {
					t.Errorf("%s: empty term in %+v", l, tk)
				}
			}
		}
	}
}

// FuzzTokens checks that any text analyses without panicking into tokens
// that lie inside it, in order.
func FuzzTokens(f *testing.F) {
	for _, s := range []string{"", "I don’t know", "Café 😀 naïve", "\xff\xfe", "a\u0308\u0308b", "’’’s", "don't'"} {
		f.Add(s)
	}
	an := mustAnalyzer(f, "en", true)
	f.Fuzz(func(t *testing.T, s string) {
		n := utf8.RuneCountInString(s)
		prev := -1
		for _, tk := range an.Tokens(s) {
			if tk.Start < 0 || tk.End > n || tk.Start > tk.End {
				t.Fatalf("token %+v outside %d code points of %q", tk, n, s)
			}
			if tk.Pos < prev {
				t.Fatalf("positions go back: %+v after %d", tk, prev)
			}
			prev = tk.Pos
		}
		an.Term(s)
		an.Fold(s)
	})
}

// BenchmarkTokens measures the analysis of a 60-word paragraph, which is what
// re-analysing a hit would cost per hit.
func BenchmarkTokens(b *testing.B) {
	an := mustAnalyzer(b, "en", false)
	text := benchParagraphSources(1)[0].Text
	b.SetBytes(int64(len(text)))
	for i := 0; i < b.N; i++ {
		an.Tokens(text)
	}
}

func TestWildcards(t *testing.T) {
	cases := []struct {
		in   string
		fold bool
		want []string
	}{
		{"parent*", false, []string{"parent*"}},
		{"Feature*", false, []string{"featur*"}},
		{"boundary*", false, []string{"boundary*", "boundari*"}},
		{"Naïve*", true, []string{"naiv*"}},
		{"Naïve*", false, []string{"naïv*"}},
		{"don’t*", false, []string{"don't*"}},
		{"the*", false, []string{"the*"}}, // a stop word has no stem
		{"b?undary*", false, []string{"b?undary*"}},
		{"*ing", false, []string{"*ing"}},
		{"bound*ary", false, []string{"bound*ary"}},
		{"*", false, []string{"*"}},
	}
	for _, c := range cases {
		got := mustAnalyzer(t, "en", c.fold).Wildcards(c.in)
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("Wildcards(%q, fold=%v) = %q, want %q", c.in, c.fold, got, c.want)
		}
	}
}

// sameTokens compares the fast tokenizer with bleve's Unicode tokenizer on
// one input: terms, offsets, positions and types.
func sameTokens(t *testing.T, input string) {
	t.Helper()
	slow := unicode.NewUnicodeTokenizer()
	want := slow.Tokenize([]byte(input))
	got := fastTokenizer{slow}.Tokenize([]byte(input))
	describe := func(ts analysis.TokenStream) string {
		var b strings.Builder
		for _, tok := range ts {
			fmt.Fprintf(&b, "%q@%d[%d,%d)%d ", tok.Term, tok.Position, tok.Start, tok.End, tok.Type)
		}
		return b.String()
	}
	if describe(got) != describe(want) {
		t.Fatalf("%q:\n fast    %s\n unicode %s", input, describe(got), describe(want))
	}
}

func TestFastTokenizer(t *testing.T) {
	for _, s := range []string{
		"", "  ", "plain words here", "don't can't I'm o'clock", "e.g. i.e. U.S.A. a.b.", "3.14 1,000,000.5 1;2 1:2 12:30",
		"a_b __ _x x_ 1_000 a1b2 1a 1.a a.1 a:b a::b a''b 'quoted' \"double\"", "tab\tand\nnewline\r\nx\vy\fz",
		"end.", "...", "a-b a/b a+b #tag @user http://example.com/a?b=c", "x1.5y 1.5.6 1..2 a..b 'a' a' 'a",
		"Zoë’s café — don’t know, naïve", "日本語 text mixed", "e\u0301t\u00e9 \u0301abc", "a\u200db", "🌱garden 🌻 x",
		"résumé,résumé.résumé", "ok\u00a0nbsp", "trailing combining \u0301", "ABC’def ghi'jkl",
	} {
		sameTokens(t, s)
	}
	// Random strings over the characters the word rules treat apart.
	alphabet := []string{"a", "Z", "0", "7", "_", "'", ".", ":", ",", ";", " ", "\n", "-", "é", "’", "\u0301", "日"}
	rng := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		for k := rng.IntN(12); k >= 0; k-- {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		sameTokens(t, b.String())
	}
}

func FuzzFastTokenizer(f *testing.F) {
	for _, s := range []string{"don't 1,000.5 e.g.", "a_b 1a a:b", "Zoë’s café", "x\u0301 y", "1.a.2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sameTokens(t, s)
	})
}
