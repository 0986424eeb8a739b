package corpus

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	gounicode "unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"

	"github.com/thematic-qda/thematic/internal/errs"
	"golang.org/x/text/unicode/norm"

	// Every language the analysis can be set to registers its analyser,
	// stop words and stemmer here, so that any binary that imports corpus
	// can open an index whose mapping names them.
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ar"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/bg"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ca"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ckb"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/cs"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/da"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/de"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/el"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/en"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/es"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/eu"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fa"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fi"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fr"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ga"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/gl"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/hi"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/hr"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/hu"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/hy"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/id"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/it"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/nl"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/no"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/pt"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ro"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ru"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/sv"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/tr"
)

// The analysis chain is registered with bleve as an analyser type of its own,
// configured by language and accent folding. The index mapping names it with
// that configuration, so an index reopened later (by any binary importing
// this package) analyses queries exactly as it analysed the text.
const (
	analyzerType     = "thematic"
	textAnalyzerName = "thematic_text"
)

func init() {
	if err := registry.RegisterAnalyzer(analyzerType, analyzerConstructor); err != nil {
		panic(err)
	}
}

func analyzerConstructor(config map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
	lang, _ := config["language"].(string)
	fold, _ := config["fold_accents"].(bool)
	an, err := buildAnalyzer(lang, fold, cache)
	if err != nil {
		return nil, err
	}
	return fastAnalyzer(an), nil
}

// fastAnalyzer returns the analyser the index runs: an with ASCII words
// split by splitWordsFast, where an splits words with bleve's Unicode
// tokenizer (which gives the same tokens, more slowly: a tenth of the
// indexing time went there).
func fastAnalyzer(an *analysis.DefaultAnalyzer) analysis.Analyzer {
	if _, ok := an.Tokenizer.(*unicode.UnicodeTokenizer); !ok || len(an.CharFilters) > 0 {
		return an
	}
	return &analysis.DefaultAnalyzer{Tokenizer: fastTokenizer{an.Tokenizer}, TokenFilters: an.TokenFilters}
}

// fastTokenizer splits runs of ASCII text itself, between white space, and
// leaves the rest to bleve's Unicode tokenizer: the same tokens either way
// (FuzzFastTokenizer compares them).
type fastTokenizer struct{ slow analysis.Tokenizer }

func (t fastTokenizer) Tokenize(input []byte) analysis.TokenStream {
	ascii := true
	for _, c := range input {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		if !utf8.Valid(input) {
			return t.slow.Tokenize(input) // which stops at the first bad byte
		}
		return t.mixed(input)
	}
	return splitASCIIWords(input, 0, 1, nil)
}

// mixed splits text holding non-ASCII characters chunk by chunk, a chunk
// being a run without ASCII white space: words never span white space,
// and a chunk that starts with a combining mark gets the same words alone
// as after the space that would otherwise carry the mark.
func (t fastTokenizer) mixed(input []byte) analysis.TokenStream {
	var out analysis.TokenStream
	pos := 1
	for i := 0; i < len(input); {
		if fastIsSpace(input[i]) {
			i++
			continue
		}
		j, ascii := i, true
		for j < len(input) && !fastIsSpace(input[j]) {
			ascii = ascii && input[j] < utf8.RuneSelf
			j++
		}
		if ascii {
			n := len(out)
			out = splitASCIIWords(input[i:j], i, pos, out)
			pos += len(out) - n
		} else {
			for _, tok := range t.slow.Tokenize(input[i:j]) {
				tok.Start += i
				tok.End += i
				tok.Position = pos
				pos++
				out = append(out, tok)
			}
		}
		i = j
	}
	return out
}

func fastIsSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// Word classes of ASCII characters in Unicode's word boundary rules
// (UAX #29), as bleve's segmenter implements them.
func fastIsLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func fastIsDigit(c byte) bool  { return c >= '0' && c <= '9' }

// fastIsMidLetter: MidLetter (:), MidNumLet (.) and Single_Quote ('), which
// join two letters.
func fastIsMidLetter(c byte) bool { return c == ':' || c == '.' || c == '\'' }

// fastIsMidNum: MidNum (, ;), MidNumLet (.) and Single_Quote ('), which join
// two digits.
func fastIsMidNum(c byte) bool { return c == ',' || c == ';' || c == '.' || c == '\'' }

// splitASCIIWords appends the words of ASCII text to out, as bleve's Unicode
// tokenizer finds them: runs of letters, digits and underscores (which join
// anything), with a mid-word character between two letters (don't, e.g)
// or two digits (1,000.5) kept. A word with no letter and a digit is
// Numeric, any other AlphaNumeric. Offsets start at base, positions at pos.
func splitASCIIWords(text []byte, base, pos int, out analysis.TokenStream) analysis.TokenStream {
	var slab []analysis.Token
	for i := 0; i < len(text); {
		c := text[i]
		if !fastIsLetter(c) && !fastIsDigit(c) && c != '_' {
			i++
			continue
		}
		start, letters, digits := i, false, false
		for i < len(text) {
			c := text[i]
			switch {
			case fastIsLetter(c):
				letters = true
			case fastIsDigit(c):
				digits = true
			case c == '_':
			case i > start && i+1 < len(text) &&
				(fastIsMidLetter(c) && fastIsLetter(text[i-1]) && fastIsLetter(text[i+1]) ||
					fastIsMidNum(c) && fastIsDigit(text[i-1]) && fastIsDigit(text[i+1])):
			default:
				goto end
			}
			i++
		}
	end:
		if len(slab) == 0 {
			slab = make([]analysis.Token, max(4, (len(text)-i)/6+1))
		}
		tok := &slab[0]
		slab = slab[1:]
		tok.Term = text[start:i]
		tok.Start, tok.End = base+start, base+i
		tok.Position = pos
		tok.Type = analysis.AlphaNumeric
		if digits && !letters {
			tok.Type = analysis.Numeric
		}
		pos++
		out = append(out, tok)
	}
	return out
}

// languageAliases maps language codes to the bleve analyser that serves them.
var languageAliases = map[string]string{"ja": "cjk", "zh": "cjk", "ko": "cjk", "nb": "no"}

// normLanguage lower-cases a language code, drops a region ("en-GB" -> "en")
// and applies aliases; "" means English.
func normLanguage(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_"); i > 0 {
		lang = lang[:i]
	}
	if lang == "" {
		return "en"
	}
	if a, ok := languageAliases[lang]; ok {
		return a
	}
	return lang
}

// Languages lists the language codes the analysis supports.
func Languages() []string {
	cache := registry.NewCache()
	var out []string
	for _, code := range []string{"ar", "bg", "ca", "cjk", "ckb", "cs", "da", "de", "el", "en", "es", "eu",
		"fa", "fi", "fr", "ga", "gl", "hi", "hr", "hu", "hy", "id", "it", "nl", "no", "pt", "ro",
		"ru", "sv", "tr"} {
		if _, err := cache.AnalyzerNamed(code); err == nil {
			out = append(out, code)
		} else if _, err := cache.TokenFilterNamed("stop_" + code); err == nil {
			out = append(out, code)
		}
	}
	for a := range languageAliases {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// buildAnalyzer makes the project's analysis chain: bleve's analyser for the
// language (tokenizer, lower case, stop words, stemmer...) with three changes:
//   - curly apostrophes are straightened first, so don’t and don't are one term;
//   - the stop-word filter lets through words holding an apostrophe, so
//     contractions ("don't", "can't", "I'm") stay searchable in both spellings
//     (bleve's English list drops the straight form only);
//   - with fold, accents are removed by a token filter placed after the stop
//     words and before stemming; a character filter would change the text
//     and shift every later offset.
//
// Languages with stop words but no bleve analyser get the unicode tokenizer,
// lower case and their stop words.
func buildAnalyzer(language string, fold bool, cache *registry.Cache) (*analysis.DefaultAnalyzer, error) {
	code := normLanguage(language)
	var (
		tokenizer analysis.Tokenizer
		chars     []analysis.CharFilter
		chain     []analysis.TokenFilter
	)
	if a, err := cache.AnalyzerNamed(code); err == nil {
		da, ok := a.(*analysis.DefaultAnalyzer)
		if !ok {
			return nil, fmt.Errorf("language %q: analyser of unexpected type %T", code, a)
		}
		tokenizer, chars = da.Tokenizer, da.CharFilters
		chain = append(chain, da.TokenFilters...)
	} else if sf, err := cache.TokenFilterNamed("stop_" + code); err == nil {
		tok, err := cache.TokenizerNamed(unicode.Name)
		if err != nil {
			return nil, err
		}
		lower, err := cache.TokenFilterNamed(lowercase.Name)
		if err != nil {
			return nil, err
		}
		tokenizer = tok
		chain = []analysis.TokenFilter{lower, sf}
	} else {
		return nil, &inputErr{fmt.Sprintf("unsupported language %q (use one of: %s)", language, strings.Join(Languages(), ", "))}
	}
	// Accents are folded after the stop words (whose lists are accented)
	// and before any stemming or normalising filter, so that "résumé" and
	// "resume" reach the stemmer as the same word.
	foldAt := len(chain)
	for i, f := range chain {
		if _, ok := f.(*stop.StopTokensFilter); ok {
			foldAt = i + 1
			break
		}
		if _, ok := f.(*lowercase.LowerCaseFilter); ok {
			foldAt = i + 1
		}
	}
	filters := []analysis.TokenFilter{apostropheFilter{}}
	for i, f := range chain {
		if i == foldAt && fold {
			filters = append(filters, accentFilter{})
		}
		if sf, ok := f.(*stop.StopTokensFilter); ok {
			f = contractionStop{sf}
		}
		filters = append(filters, f)
	}
	if foldAt == len(chain) && fold {
		filters = append(filters, accentFilter{})
	}
	return &analysis.DefaultAnalyzer{CharFilters: chars, Tokenizer: tokenizer, TokenFilters: filters}, nil
}

// inputErr marks a problem in the project settings; settingsError turns it
// into an *errs.InputError naming thematic.yaml.
type inputErr struct{ msg string }

func (e *inputErr) Error() string { return e.msg }

// settingsFile is the project settings file, named in errors about them.
const settingsFile = "thematic.yaml"

func settingsError(err error) error {
	var ie *inputErr
	if errors.As(err, &ie) {
		return errs.New(settingsFile, 0, 0, "%s", ie.msg)
	}
	return err
}

// apostrophes are the characters folded to a straight apostrophe inside a
// word: right and left single quotation marks, the single high-reversed-9
// quotation mark, the modifier letter apostrophe and the fullwidth apostrophe.
var apostrophes = strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u201B", "'", "\u02BC", "'", "\uFF07", "'")

// apostropheFilter straightens curly apostrophes in terms.
type apostropheFilter struct{}

func (apostropheFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		if hasNonASCII(t.Term) {
			t.Term = []byte(apostrophes.Replace(string(t.Term)))
		}
	}
	return in
}

// contractionStop applies a stop-word filter to every term except those
// holding an apostrophe.
type contractionStop struct{ inner *stop.StopTokensFilter }

func (f contractionStop) Filter(in analysis.TokenStream) analysis.TokenStream {
	protected := false
	for _, t := range in {
		if bytes.IndexByte(t.Term, '\'') >= 0 {
			protected = true
			break
		}
	}
	if !protected {
		return f.inner.Filter(in)
	}
	plain := make(analysis.TokenStream, 0, len(in))
	for _, t := range in {
		if bytes.IndexByte(t.Term, '\'') < 0 {
			plain = append(plain, t)
		}
	}
	kept := f.inner.Filter(plain) // a subsequence of plain, order kept
	out := in[:0]
	k := 0
	for _, t := range in {
		switch {
		case bytes.IndexByte(t.Term, '\'') >= 0:
			out = append(out, t)
		case k < len(kept) && kept[k] == t:
			out = append(out, t)
			k++
		}
	}
	return out
}

// accentFilter folds accented letters to their unaccented forms (naïve ->
// naive, Straße -> strasse) in terms, leaving offsets alone.
type accentFilter struct{}

var asciiFolder = asciifolding.New()

func (accentFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		if hasNonASCII(t.Term) {
			t.Term = asciiFolder.Filter(t.Term)
			if hasNonASCII(t.Term) {
				// Combining marks left over from decomposed text, or on
				// letters the folding table does not know.
				t.Term = bytes.Map(func(r rune) rune {
					if gounicode.Is(gounicode.Mn, r) {
						return -1
					}
					return r
				}, t.Term)
			}
		}
	}
	return in
}

// validUTF8 replaces each invalid byte of s with U+FFFD, so that the text
// keeps the number of code points Go counts in it and every offset stays put.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

func hasNonASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// Analyzer is the project's text analysis, shared by the index and by the
// autocoding rules so that a rule's words match exactly what a search would.
// It is safe for concurrent use.
type Analyzer struct {
	an       *analysis.DefaultAnalyzer
	fast     analysis.Analyzer // an with the fast tokenizer: the same tokens
	language string
	fold     bool
}

// NewAnalyzer returns the analysis for a language code ("" means "en";
// a region such as "en-GB" is ignored) with or without accent folding.
// An unknown language is an *errs.InputError naming thematic.yaml.
func NewAnalyzer(language string, foldAccents bool) (*Analyzer, error) {
	an, err := buildAnalyzer(language, foldAccents, registry.NewCache())
	if err != nil {
		return nil, settingsError(err)
	}
	return &Analyzer{an: an, fast: fastAnalyzer(an), language: normLanguage(language), fold: foldAccents}, nil
}

// Language is the analyser's normalised language code.
func (a *Analyzer) Language() string { return a.language }

// Token is one analysed term with its place in the text.
type Token struct {
	Term       string // the term as indexed: lower case, stemmed, folded
	Start, End int    // code points into the analysed text, half-open
	Pos        int    // 0-based position of the word; stop words leave gaps
}

// Tokens analyses text as the index does and returns its terms in order.
func (a *Analyzer) Tokens(text string) []Token {
	text = validUTF8(text)
	ts := a.fast.Analyze([]byte(text))
	out := make([]Token, 0, len(ts))
	conv := byteToRune{s: text}
	for _, t := range ts {
		s := conv.at(t.Start)
		e := conv.at(t.End)
		out = append(out, Token{Term: string(t.Term), Start: s, End: e, Pos: t.Position - 1})
	}
	return out
}

// Term analyses a single word as the index would. It returns "" when the word
// yields no term (a stop word, punctuation) or several (use Tokens for those).
// The word is brought to NFC first, as source texts are.
func (a *Analyzer) Term(word string) string {
	ts := a.fast.Analyze([]byte(norm.NFC.String(word)))
	if len(ts) != 1 {
		return ""
	}
	return string(ts[0].Term)
}

// Fold normalises a pattern the way terms are normalised but without
// stemming or stop words: NFC, lower case, straight apostrophes and, when the
// analysis folds accents, no accents. Wildcard and regular-expression
// queries are not analysed by bleve, so their patterns go through Fold.
func (a *Analyzer) Fold(s string) string {
	return foldPattern(s, a.fold)
}

// Wildcards returns the patterns a wildcard word is matched with against
// the index's terms, which are stemmed. A word ending in a single trailing *
// matches by its stem too: boundary* gives boundary* and boundari* (the stem
// of boundary), feature* gives featur* alone (which covers feature*). Other
// patterns are only folded (see Fold). Search and the autocoding rules both
// match wildcards this way.
func (a *Analyzer) Wildcards(pattern string) []string {
	folded := a.Fold(pattern)
	word, ok := strings.CutSuffix(folded, "*")
	if !ok || word == "" || strings.ContainsAny(word, "*?") {
		return []string{folded}
	}
	stem := a.Term(word)
	switch {
	case stem == "" || stem == word:
		return []string{folded}
	case strings.HasPrefix(word, stem):
		return []string{stem + "*"}
	}
	return []string{folded, stem + "*"}
}

var lowerFilter = lowercase.NewLowerCaseFilter()

func foldPattern(s string, fold bool) string {
	ts := analysis.TokenStream{&analysis.Token{Term: []byte(norm.NFC.String(s))}}
	ts = lowerFilter.Filter(ts)
	ts = apostropheFilter{}.Filter(ts)
	if fold {
		ts = accentFilter{}.Filter(ts)
	}
	return string(ts[0].Term)
}

// byteToRune converts increasing byte offsets in s to code-point offsets in
// one pass; an offset lower than the previous one restarts the count.
type byteToRune struct {
	s       string
	byteOff int
	runeOff int
}

func (c *byteToRune) at(b int) int {
	if b > len(c.s) {
		b = len(c.s)
	}
	if b < c.byteOff {
		c.byteOff, c.runeOff = 0, 0
	}
	c.runeOff += utf8.RuneCountInString(c.s[c.byteOff:b])
	c.byteOff = b
	return c.runeOff
}
