package corpus

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	vregexp "github.com/blevesearch/vellum/regexp"
	"golang.org/x/text/unicode/norm"

	"github.com/thematic-qda/thematic/internal/errs"
)

// SearchRequest is a search of the index.
type SearchRequest struct {
	// Query uses bleve's query-string syntax: words, "phrases", +must,
	// -not, wildcards*, /regexps/, fuzzy~1, field:value (speaker:Alice,
	// attr.site:Leeds). Words are analysed like the text (lower case,
	// stemmed); wildcard and regexp patterns are lower-cased and folded but
	// not stemmed. An empty query matches every paragraph.
	Query string
	// Filters: a hit must match one of the values of each non-empty list.
	// Values are exact and case-sensitive.
	Kinds, Cases, Speakers, Roles, Sources []string
	// Attrs filters on attributes: name -> exact value.
	Attrs map[string]string
	// Limit is the number of hits wanted; 0 means all.
	Limit int
}

// Hit is one paragraph that matches a search.
type Hit struct {
	Source, Segment  string
	SegStart, SegEnd int // the segment's span in the source text (code points)
	// Matches are the matched words' spans in the source text, in code
	// points, sorted and without duplicates.
	Matches []Span
	Score   float64
}

// Span is a half-open range of code points.
type Span struct{ Start, End int }

// Match offsets come from bleve's term vectors (the text field keeps them,
// with positions) rather than from re-analysing each hit: bleve then reports
// exactly the words its query matched — only the words inside a matched
// phrase, every expansion of a wildcard or fuzzy term, nothing from -excluded
// clauses or filters — so no query semantics are re-implemented here. The
// stored paragraph text turns their byte offsets into code points.
//
// Measured on 10k generated paragraphs of 60 words (3.2 MB; BenchmarkIndex,
// BenchmarkTokens): term vectors make the index 8.3 MB instead of 6.2 MB and
// indexing about 15% slower (3.4 against 3.9 MB/s), while re-analysing costs
// 20-30 µs per hit at search time, some 40 ms for a query with 1,600 hits.
// Indexing happens once; searches (and rule runs) happen many times.

// Search runs req and returns its hits ordered by score, ties broken by
// source and position, with the total number of hits. An invalid query is an
// *errs.InputError saying what is wrong and at which column.
func (ix *Index) Search(req SearchRequest) ([]Hit, int, error) {
	if ix.idx == nil {
		return nil, 0, errClosed
	}
	uq, err := compileQuery(req.Query, ix.an)
	if err != nil {
		return nil, 0, err
	}
	var top query.Query
	filter := filterQuery(req)
	switch {
	case filter == nil && uq == nil:
		top = query.NewMatchAllQuery()
	case filter == nil:
		top = uq
	default:
		bq := query.NewBooleanQuery(nil, nil, nil)
		if uq != nil {
			bq.AddMust(uq)
		}
		bq.AddFilter(filter)
		top = bq
	}

	// Hits are ordered by score, then source and position. Reading a sort
	// field costs a DocValues lookup for every candidate (half the time of a
	// query with a thousand candidates), so bleve sorts by score alone and
	// ties are ordered here; only when equal scores straddle the Limit is
	// the query run again with the full sort, to choose the right ones.
	// (SearchAfter cannot page hits sorted by score: bleve does not put the
	// score in a hit's sort key.)
	if req.Limit > 0 {
		hits, total, err := ix.searchPage(top, req.Limit+1, false)
		if err != nil {
			return nil, 0, err
		}
		if len(hits) > req.Limit && hits[req.Limit].Score == hits[req.Limit-1].Score {
			hits, total, err = ix.searchPage(top, req.Limit, true)
			if err != nil {
				return nil, 0, err
			}
		}
		hits = hits[:min(len(hits), req.Limit)]
		sortHits(hits)
		return hits, total, nil
	}
	hits, total, err := ix.searchPage(top, batchSize, false)
	if err != nil {
		return nil, 0, err
	}
	if total > len(hits) {
		if hits, total, err = ix.searchPage(top, total, false); err != nil {
			return nil, 0, err
		}
	}
	sortHits(hits)
	return hits, total, nil
}

// searchPage runs one request for the first size hits, sorted by score
// alone or, with fullSort, by score, source and position.
func (ix *Index) searchPage(q query.Query, size int, fullSort bool) ([]Hit, int, error) {
	sr := bleve.NewSearchRequestOptions(q, size, 0, false)
	sr.Fields = []string{fieldText, fieldStart, fieldSource, fieldSegment}
	sr.IncludeLocations = true
	if fullSort {
		sr.SortByCustom(search.SortOrder{
			&search.SortScore{Desc: true},
			&search.SortField{Field: fieldOrder, Type: search.SortFieldAsString},
		})
	}
	res, err := ix.idx.Search(sr)
	if err != nil {
		return nil, 0, fmt.Errorf("search: %w", err)
	}
	hits := make([]Hit, 0, len(res.Hits))
	for _, h := range res.Hits {
		hit, err := makeHit(h)
		if err != nil {
			return nil, 0, err
		}
		hits = append(hits, hit)
	}
	return hits, int(res.Total), nil
}

// sortHits orders hits by score, then source, then position.
func sortHits(hits []Hit) {
	sort.Slice(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.SegStart < b.SegStart
	})
}

// makeHit turns a bleve hit into a Hit, converting the byte offsets of its
// matches in the stored paragraph into code points in the source.
func makeHit(h *search.DocumentMatch) (Hit, error) {
	text, start, ok := hitText(h)
	src, _ := h.Fields[fieldSource].(string)
	seg, _ := h.Fields[fieldSegment].(string)
	if !ok || src == "" {
		return Hit{}, fmt.Errorf("search index: document %s lacks its stored fields; delete the index to rebuild it", h.ID)
	}
	hit := Hit{Source: src, Segment: seg, SegStart: start, SegEnd: start + utf8.RuneCountInString(text), Score: h.Score}
	var spans []Span
	for _, locs := range h.Locations[fieldText] {
		for _, l := range locs {
			if l.End <= uint64(len(text)) && l.Start <= l.End {
				spans = append(spans, Span{int(l.Start), int(l.End)})
			}
		}
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].Start != spans[j].Start {
			return spans[i].Start < spans[j].Start
		}
		return spans[i].End < spans[j].End
	})
	conv := byteToRune{s: text}
	for i, s := range spans {
		if i > 0 && s == spans[i-1] {
			continue
		}
		// Starts increase; an end may pass the next start (overlapping
		// matches), which byteToRune handles by counting again.
		st := conv.at(s.Start)
		en := conv.at(s.End)
		hit.Matches = append(hit.Matches, Span{start + st, start + en})
	}
	return hit, nil
}

// filterQuery combines the request's filters: any value of each list, all
// lists. Filters restrict hits without changing their scores.
func filterQuery(req SearchRequest) query.Query {
	var parts []query.Query
	add := func(field string, values []string) {
		var alts []query.Query
		for _, v := range values {
			tq := query.NewTermQuery(v)
			tq.SetField(field)
			alts = append(alts, tq)
		}
		switch len(alts) {
		case 0:
		case 1:
			parts = append(parts, alts[0])
		default:
			parts = append(parts, query.NewDisjunctionQuery(alts))
		}
	}
	add(fieldKind, req.Kinds)
	add(fieldCase, req.Cases)
	add(fieldSpeaker, req.Speakers)
	add(fieldRole, req.Roles)
	add(fieldSource, req.Sources)
	names := make([]string, 0, len(req.Attrs))
	for k := range req.Attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		add(fieldAttr+"."+k, []string{req.Attrs[k]})
	}
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0]
	}
	return query.NewConjunctionQuery(parts)
}

// ValidateQuery checks a query string without running it: the same checks
// Search makes. The error is an *errs.InputError whose Col is the 1-based
// column (code points) of the problem when it is known.
func ValidateQuery(q string) error {
	_, err := compileQuery(q, nil)
	return err
}

// compileQuery parses a query string into a bleve query, nil for an empty
// one. With an analyser, wildcard and regexp patterns on the text are
// folded as the text's terms are.
func compileQuery(q string, an *Analyzer) (query.Query, error) {
	q = cleanQuery(q)
	if strings.TrimSpace(q) == "" {
		return nil, nil
	}
	toks, lexErr := lexQuery(q)
	parsed, err := query.NewQueryStringQuery(q).Parse()
	if err != nil {
		if lexErr != nil {
			return nil, lexErr
		}
		if gerr := checkGrammar(toks, q); gerr != nil {
			return nil, gerr
		}
		if serr := checkSemantics(toks, q); serr != nil {
			return nil, serr
		}
		msg := strings.ReplaceAll(err.Error(), "\n", "; ")
		return nil, &errs.InputError{Msg: fmt.Sprintf("invalid query: %s: %s", msg, q)}
	}
	if err := checkSemantics(toks, q); err != nil {
		return nil, err
	}
	if an != nil {
		parsed = foldPatterns(parsed, an)
	}
	if v, ok := parsed.(query.ValidatableQuery); ok {
		if err := v.Validate(); err != nil {
			return nil, &errs.InputError{Msg: fmt.Sprintf("invalid query: %v: %s", err, q)}
		}
	}
	return parsed, nil
}

// cleanQuery brings a query to NFC, like the text, and turns every kind of
// white space into a plain space, the only one bleve's lexer separates on.
func cleanQuery(q string) string {
	q = norm.NFC.String(q)
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, q)
}

// foldPatterns rewrites the patterns of wildcard and regexp queries on the
// text field, which bleve does not analyse: wildcards become the patterns of
// Analyzer.Wildcards (several make a disjunction); regexps are folded unless
// they hold a backslash, as lower-casing would change \W into \w.
func foldPatterns(q query.Query, an *Analyzer) query.Query {
	onText := func(f string) bool { return f == "" || f == fieldText }
	switch q := q.(type) {
	case *query.BooleanQuery:
		if q.Must != nil {
			q.Must = foldPatterns(q.Must, an)
		}
		if q.Should != nil {
			q.Should = foldPatterns(q.Should, an)
		}
		if q.MustNot != nil {
			q.MustNot = foldPatterns(q.MustNot, an)
		}
	case *query.ConjunctionQuery:
		for i, c := range q.Conjuncts {
			q.Conjuncts[i] = foldPatterns(c, an)
		}
	case *query.DisjunctionQuery:
		for i, c := range q.Disjuncts {
			q.Disjuncts[i] = foldPatterns(c, an)
		}
	case *query.WildcardQuery:
		if !onText(q.FieldVal) {
			return q
		}
		pats := an.Wildcards(q.Wildcard)
		q.Wildcard = pats[0]
		if len(pats) == 1 {
			return q
		}
		alts := []query.Query{q}
		for _, p := range pats[1:] {
			w := query.NewWildcardQuery(p)
			w.FieldVal = q.FieldVal
			w.BoostVal = q.BoostVal
			alts = append(alts, w)
		}
		return query.NewDisjunctionQuery(alts)
	case *query.RegexpQuery:
		if onText(q.FieldVal) && !strings.Contains(q.Regexp, `\`) {
			q.Regexp = an.Fold(q.Regexp)
		}
	}
	return q
}

// The query-string lexer below mirrors bleve's, keeping each token's column,
// so that a query bleve rejects can be reported with the place of the fault.

type qkind int

const (
	qStr qkind = iota
	qNum
	qPhrase
	qPlus
	qMinus
	qColon
	qGreater
	qLess
	qEqual
	qBoost
	qTilde
)

type qtok struct {
	kind qkind
	text string
	col  int // 1-based, code points
}

func queryError(q string, col int, format string, args ...any) *errs.InputError {
	return &errs.InputError{Col: col, Msg: fmt.Sprintf("invalid query: %s at column %d: %s", fmt.Sprintf(format, args...), col, q)}
}

// queryReserved are the characters a backslash escapes in bleve's syntax.
const queryReserved = "+-=&|><!(){}[]^\"~*?:\\/ "

func lexQuery(q string) ([]qtok, *errs.InputError) {
	rs := []rune(q)
	// read collects runes from j while more(rune) holds, resolving
	// backslash escapes; a backslash ending the query is dropped, as bleve
	// does.
	read := func(j int, more func(rune) bool) (text string, next int, escaped bool) {
		var b strings.Builder
		for ; j < len(rs) && more(rs[j]); j++ {
			c := rs[j]
			if c == '\\' {
				if j+1 == len(rs) {
					continue
				}
				j++
				c, escaped = rs[j], true
				if !strings.ContainsRune(queryReserved, c) {
					b.WriteRune('\\') // bleve keeps a backslash that escapes nothing
				}
			}
			b.WriteRune(c)
		}
		return b.String(), j, escaped
	}
	var toks []qtok
	for i := 0; i < len(rs); {
		r, col := rs[i], i+1
		switch {
		case r == ' ':
			i++
		case r == '"':
			text, j, _ := read(i+1, func(c rune) bool { return c != '"' })
			if j >= len(rs) {
				return toks, queryError(q, col, "unclosed quote")
			}
			toks = append(toks, qtok{qPhrase, text, col})
			i = j + 1
		case strings.ContainsRune("+-:><=", r):
			k := map[rune]qkind{'+': qPlus, '-': qMinus, ':': qColon, '>': qGreater, '<': qLess, '=': qEqual}[r]
			toks = append(toks, qtok{k, string(r), col})
			i++
		case r == '^' || r == '~':
			text, j, _ := read(i+1, func(c rune) bool { return c != ' ' })
			k := qBoost
			if r == '~' {
				k = qTilde
			}
			toks = append(toks, qtok{k, text, col})
			i = j
		case r == '\\' && i+1 == len(rs):
			i++
		default:
			text, j, escaped := read(i, func(c rune) bool { return !strings.ContainsRune(" :^~", c) })
			k := qStr
			if !escaped && isQueryNumber(text) {
				k = qNum
			}
			toks = append(toks, qtok{k, text, col})
			i = j
		}
	}
	return toks, nil
}

// isQueryNumber tells whether bleve's lexer reads s as a number: digits with
// at most one dot, starting with a digit.
func isQueryNumber(s string) bool {
	dot := false
	for i, r := range s {
		switch {
		case unicode.IsDigit(r):
		case r == '.' && !dot && i > 0:
			dot = true
		default:
			return false
		}
	}
	return s != ""
}

// checkGrammar walks the tokens by bleve's query-string grammar and reports
// the first fault it finds.
func checkGrammar(toks []qtok, q string) *errs.InputError {
	n := len(toks)
	if n == 0 {
		return queryError(q, 1, "nothing to search for")
	}
	at := func(i int) qkind {
		if i < n {
			return toks[i].kind
		}
		return -1
	}
	end := utf8.RuneCountInString(q) + 1
	colOf := func(i int) int {
		if i < n {
			return toks[i].col
		}
		return end
	}
	for i := 0; i < n; {
		if k := at(i); k == qPlus || k == qMinus {
			if b := at(i + 1); b != qStr && b != qNum && b != qPhrase {
				return queryError(q, toks[i].col, "%s must be followed by a word or a phrase", toks[i].text)
			}
			i++
		}
		t := toks[i]
		switch {
		case (t.kind == qStr || t.kind == qPhrase) && at(i+1) == qColon:
			colon := toks[i+1].col
			i += 2
			switch at(i) {
			case qStr:
				i++
				if at(i) == qTilde {
					i++
				}
			case qNum, qPhrase:
				i++
			case qMinus:
				if at(i+1) != qNum {
					return queryError(q, colOf(i), "- after %s: must be followed by a number", t.text)
				}
				i += 2
			case qGreater, qLess:
				i++
				if at(i) == qEqual {
					i++
				}
				if at(i) == qMinus && at(i+1) == qNum {
					i += 2
				} else if k := at(i); k == qNum || k == qPhrase {
					i++
				} else {
					return queryError(q, colOf(i), "a range on %s: needs a number or a quoted date", t.text)
				}
			default:
				return queryError(q, colon, "%s: needs a value after the colon", t.text)
			}
		case t.kind == qStr:
			i++
			if at(i) == qTilde {
				i++
			}
		case t.kind == qNum:
			if at(i+1) == qColon {
				return queryError(q, t.col, "a field name cannot be a number")
			}
			i++
		case t.kind == qPhrase:
			i++
			if at(i) == qTilde {
				return queryError(q, toks[i].col, "~ cannot follow a phrase")
			}
		case t.kind == qColon:
			return queryError(q, t.col, "':' needs a field name before it")
		case t.kind == qTilde:
			return queryError(q, t.col, "~ must follow a word")
		case t.kind == qBoost:
			return queryError(q, t.col, "^ must follow a word or a phrase")
		default:
			return queryError(q, t.col, "%q is only allowed after field: in a range", t.text)
		}
		if at(i) == qBoost {
			i++
		}
	}
	return nil
}

// checkSemantics rejects what bleve parses but would not do as meant: the
// Lucene operators AND and NOT (bleve takes them as words, so "a AND b"
// finds a or b), fuzziness above bleve's maximum of 2, bad numbers after ~
// and ^, bad dates in ranges and regular expressions that do not compile.
func checkSemantics(toks []qtok, q string) *errs.InputError {
	for i, t := range toks {
		switch t.kind {
		case qStr:
			isValue := i > 0 && toks[i-1].kind == qColon
			if !isValue && (t.text == "AND" || t.text == "NOT" || t.text == "&&") {
				return queryError(q, t.col, "%s is not an operator here: write +word to require a word and -word to exclude one", t.text)
			}
			if t.text == "/" {
				return queryError(q, t.col, "a lone / (a regular expression is written /like.*this/)")
			}
			if len(t.text) >= 2 && strings.HasPrefix(t.text, "/") && strings.HasSuffix(t.text, "/") {
				if _, err := vregexp.New(t.text[1 : len(t.text)-1]); err != nil {
					return queryError(q, t.col, "regular expression %s: %v", t.text, err)
				}
			}
		case qNum:
			if _, err := strconv.ParseFloat(t.text, 64); err != nil {
				return queryError(q, t.col, "%s is read as a number but only ASCII digits are; quote it (\"%s\") to search the text", t.text, t.text)
			}
		case qPhrase:
			if i > 0 && (toks[i-1].kind == qGreater || toks[i-1].kind == qLess || toks[i-1].kind == qEqual) {
				if err := checkDate(t.text); err != nil {
					return queryError(q, t.col, "%q is not a date (write 2020-01-31)", t.text)
				}
			}
		case qTilde:
			f, err := strconv.ParseFloat(orOne(t.text), 64)
			if err != nil || f < 0 || int(f) > 2 {
				return queryError(q, t.col, "fuzziness must be 0, 1 or 2, not %q", t.text)
			}
		case qBoost:
			if _, err := strconv.ParseFloat(orOne(t.text), 64); err != nil {
				return queryError(q, t.col, "boost must be a number, not %q", t.text)
			}
		}
	}
	return nil
}

// checkDate parses the date of a range the way bleve's query parser does.
func checkDate(s string) error {
	p, err := registry.NewCache().DateTimeParserNamed(query.QueryDateTimeParser)
	if err != nil {
		return err
	}
	_, _, err = p.ParseDateTime(s)
	return err
}

func orOne(s string) string {
	if s == "" {
		return "1"
	}
	return s
}

// KWIC cuts keyword-in-context around a span of text: up to width code points
// either side, cut back to whole words, with every run of white space
// (newlines included) shown as one space. Spans outside the text are
// clamped to it.
func KWIC(text string, s Span, width int) (left, match, right string) {
	rs := []rune(text)
	n := len(rs)
	s.Start = clamp(s.Start, 0, n)
	s.End = clamp(s.End, s.Start, n)
	if width < 0 {
		width = 0
	}
	lo := max(s.Start-width, 0)
	hi := min(s.End+width, n)
	// Drop a word cut by the window's edge.
	if lo > 0 && isWordRune(rs[lo-1]) {
		for lo < s.Start && isWordRune(rs[lo]) {
			lo++
		}
	}
	if hi < n && isWordRune(rs[hi]) {
		for hi > s.End && isWordRune(rs[hi-1]) {
			hi--
		}
	}
	left = strings.TrimLeft(oneLine(rs[lo:s.Start]), " ")
	match = oneLine(rs[s.Start:s.End])
	right = strings.TrimRight(oneLine(rs[s.End:hi]), " ")
	return left, match, right
}

func clamp(v, lo, hi int) int {
	return min(max(v, lo), hi)
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '\'' || r == '\u2019'
}

// oneLine replaces each run of white space with a single space.
func oneLine(rs []rune) string {
	var b strings.Builder
	b.Grow(len(rs))
	space := false
	for _, r := range rs {
		if unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}
