package corpus

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	index "github.com/blevesearch/bleve_index_api"
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
// index does not store the text; each document's stored loc field gives the
// paragraph's span and where its multi-byte characters are, which turns
// byte offsets into code points.

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
	// field costs a DocValues lookup for every candidate, so bleve sorts by
	// score alone, and ties are ordered here. Among equal scores bleve keeps
	// the documents that come first in the index; when that order is source
	// then position (a fresh build, see manifest.Ordered) the hits kept are
	// the right ones. Otherwise, when equal scores straddle the Limit, the
	// query runs again with the full sort, to choose the right ones.
	// (SearchAfter cannot page hits sorted by score: bleve does not put the
	// score in a hit's sort key.)
	if req.Limit > 0 {
		ordered := ix.man != nil && ix.man.Ordered
		size := req.Limit + 1
		if ordered {
			size = req.Limit
		}
		hits, total, err := ix.searchPage(top, size, false)
		if err != nil {
			return nil, 0, err
		}
		if !ordered && len(hits) > req.Limit && hits[req.Limit].Score == hits[req.Limit-1].Score {
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
//
// For a page of a few hits the match locations are found in a second
// pass: reading every candidate's term vectors (and, for a phrase of one
// word, checking them) cost more than the rest of a query whose words are
// common, while the second pass looks only at the page's documents.
func (ix *Index) searchPage(q query.Query, size int, fullSort bool) ([]Hit, int, error) {
	locQ := locationQuery(q)
	twoPass := size <= twoPassLimit && locQ != nil
	res, err := ix.runSearch(q, size, fullSort, !twoPass)
	if err != nil {
		return nil, 0, err
	}
	if twoPass && len(res.Hits) > 0 {
		ids := make([]string, len(res.Hits))
		for i, h := range res.Hits {
			ids[i] = h.ID
		}
		again, err := ix.runSearch(query.NewConjunctionQuery([]query.Query{query.NewDocIDQuery(ids), locQ}), len(ids), false, true)
		if err != nil {
			return nil, 0, err
		}
		locs := make(map[string]search.FieldTermLocationMap, len(again.Hits))
		for _, h := range again.Hits {
			locs[h.ID] = h.Locations
		}
		for _, h := range res.Hits {
			h.Locations = locs[h.ID]
		}
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

// locationQuery is a query that finds, in a document that matches q, the
// same match locations as q: the disjunction of q's positive clauses (a
// document matching q matches its required clauses, and its optional ones
// report locations only where they match). It is nil when q reports no
// locations. (Not q itself: bleve's boolean searcher loses the locations
// of optional clauses when advanced to a document, as the second pass
// does.)
func locationQuery(q query.Query) query.Query {
	var leaves []query.Query
	var walk func(q query.Query)
	walk = func(q query.Query) {
		switch q := q.(type) {
		case nil:
		case *query.BooleanQuery:
			walk(q.Must)
			walk(q.Should)
		case *query.ConjunctionQuery:
			for _, c := range q.Conjuncts {
				walk(c)
			}
		case *query.DisjunctionQuery:
			for _, c := range q.Disjuncts {
				walk(c)
			}
		case *query.MatchAllQuery, *query.MatchNoneQuery:
		case *query.TermQuery:
			if q.FieldVal == fieldText || q.FieldVal == "" {
				leaves = append(leaves, q)
			}
		default:
			leaves = append(leaves, q)
		}
	}
	walk(q)
	switch len(leaves) {
	case 0:
		return nil
	case 1:
		return leaves[0]
	}
	return query.NewDisjunctionQuery(leaves)
}

// twoPassLimit is the largest page whose match locations are found in a
// second pass.
const twoPassLimit = 200

func (ix *Index) runSearch(q query.Query, size int, fullSort, locations bool) (*bleve.SearchResult, error) {
	sr := bleve.NewSearchRequestOptions(q, size, 0, false)
	sr.Fields = []string{fieldLoc}
	sr.IncludeLocations = locations
	if fullSort {
		sr.SortByCustom(search.SortOrder{
			&search.SortScore{Desc: true},
			&search.SortField{Field: fieldOrder, Type: search.SortFieldAsString},
		})
	}
	res, err := ix.idx.Search(sr)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	return res, nil
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

// makeHit turns a bleve hit into a Hit: its source and segment from the
// document id, and the byte offsets of its matches in the paragraph turned
// into code points in the source by the document's loc field.
func makeHit(h *search.DocumentMatch) (Hit, error) {
	src, seg, _ := strings.Cut(h.ID, "#")
	locText, _ := h.Fields[fieldLoc].(string)
	loc, ok := decodeLoc(locText)
	if !ok || src == "" || seg == "" {
		return Hit{}, fmt.Errorf("search index: document %s lacks its stored fields; delete the index to rebuild it", h.ID)
	}
	hit := Hit{Source: src, Segment: seg, SegStart: loc.start, SegEnd: loc.end, Score: h.Score}
	var spans []Span
	for _, locs := range h.Locations[fieldText] {
		for _, l := range locs {
			if l.Start <= l.End && l.End <= uint64(loc.bytes) {
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
	for i, s := range spans {
		if i > 0 && s == spans[i-1] {
			continue
		}
		hit.Matches = append(hit.Matches, Span{loc.start + loc.runeAt(s.Start), loc.start + loc.runeAt(s.End)})
	}
	return hit, nil
}

// paraLoc is what the loc field stores of a paragraph: its span in the
// source text (code points), its length in bytes, and the runs of
// multi-byte characters in it, which map byte offsets to code points.
type paraLoc struct {
	start, end int
	bytes      int
	runs       []byteRun
}

// byteRun is a run of n characters of w bytes each, starting at byte off of
// the paragraph.
type byteRun struct{ off, n, w int }

// encodeLoc writes a paragraph's loc field: "START END BYTES" then one
// "OFF,N,W" per run of multi-byte characters of one width, all in decimal.
// An ASCII paragraph (the common case for English) has no runs.
func encodeLoc(start, end int, text string) string {
	b := make([]byte, 0, 24)
	b = strconv.AppendInt(b, int64(start), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(end), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(len(text)), 10)
	var run byteRun
	flush := func() {
		if run.n > 0 {
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(run.off), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(run.n), 10)
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(run.w), 10)
		}
	}
	for i, r := range text {
		if r < utf8.RuneSelf {
			continue
		}
		w := utf8.RuneLen(r)
		if w < 0 {
			w = 3 // an invalid byte reads as U+FFFD; validUTF8 replaced them all
		}
		if run.n > 0 && run.w == w && run.off+run.n*run.w == i {
			run.n++
			continue
		}
		flush()
		run = byteRun{off: i, n: 1, w: w}
	}
	flush()
	return string(b)
}

// decodeLoc reads a loc field; ok is false for a malformed one.
func decodeLoc(s string) (paraLoc, bool) {
	f := strings.Fields(s)
	if len(f) < 3 {
		return paraLoc{}, false
	}
	var l paraLoc
	var err1, err2, err3 error
	l.start, err1 = strconv.Atoi(f[0])
	l.end, err2 = strconv.Atoi(f[1])
	l.bytes, err3 = strconv.Atoi(f[2])
	if err1 != nil || err2 != nil || err3 != nil || l.start < 0 || l.end < l.start || l.bytes < 0 {
		return paraLoc{}, false
	}
	prevEnd := 0
	for _, r := range f[3:] {
		parts := strings.Split(r, ",")
		if len(parts) != 3 {
			return paraLoc{}, false
		}
		off, e1 := strconv.Atoi(parts[0])
		n, e2 := strconv.Atoi(parts[1])
		w, e3 := strconv.Atoi(parts[2])
		if e1 != nil || e2 != nil || e3 != nil || off < prevEnd || n < 1 || w < 2 || w > 4 || off+n*w > l.bytes {
			return paraLoc{}, false
		}
		prevEnd = off + n*w
		l.runs = append(l.runs, byteRun{off, n, w})
	}
	return l, true
}

// runeAt converts a byte offset in the paragraph into a code-point offset.
// An offset inside a multi-byte character counts that character as passed.
func (l *paraLoc) runeAt(b int) int {
	b = clamp(b, 0, l.bytes)
	extra := 0 // bytes beyond one per character, before b
	for _, r := range l.runs {
		if r.off >= b {
			break
		}
		full := min(r.n, (b-r.off)/r.w) // characters of the run wholly before b
		extra += full * (r.w - 1)
		if in := b - r.off - full*r.w; full < r.n && in > 0 {
			extra += in - 1 // b inside a character: it counts as one
		}
	}
	return b - extra
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
// they hold a backslash, as lower-casing would change \W into \w. Phrases
// become phraseQuery, bleve's phrase query with a faster position check.
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
	case *query.MatchPhraseQuery:
		if q.Fuzziness == 0 {
			return phraseQuery{q}
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

// phraseQuery is bleve's match-phrase query (the "quoted words" of the
// query syntax) with a faster check of the words' positions. bleve's
// phrase searcher turns every candidate document's term locations into
// maps before checking them, which made a phrase of two common words take
// half a second over a million paragraphs; this one checks the locations
// where they are. Candidates, scores and the locations reported are bleve's:
// the same conjunction of term searchers finds and scores the candidates.
type phraseQuery struct {
	*query.MatchPhraseQuery
}

// Searcher analyses the phrase as bleve does and searches for it.
func (q phraseQuery) Searcher(ctx context.Context, r index.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	field := q.FieldVal
	if field == "" {
		field = m.DefaultSearchField()
	}
	name := q.Analyzer
	if name == "" {
		name = m.AnalyzerNameForPath(field)
	}
	an := m.AnalyzerNamed(name)
	if an == nil {
		return nil, fmt.Errorf("no analyzer named '%s' registered", name)
	}
	tokens := an.Analyze([]byte(q.MatchPhrase))
	if len(tokens) == 0 {
		return query.NewMatchNoneQuery().Searcher(ctx, r, m, options)
	}
	return newPhraseSearcher(ctx, r, tokensToPhrase(tokens), field, q.BoostVal.Value(), options)
}

// tokensToPhrase lays tokens out by position, from the first: the terms at
// each position, none where a stop word was.
func tokensToPhrase(tokens analysis.TokenStream) [][]string {
	first, last := tokens[0].Position, tokens[0].Position
	for _, t := range tokens {
		first, last = min(first, t.Position), max(last, t.Position)
	}
	out := make([][]string, last-first+1)
	for _, t := range tokens {
		out[t.Position-first] = append(out[t.Position-first], string(t.Term))
	}
	return out
}

// phraseSearcher finds the documents where the terms of a phrase follow one
// another, position after position. The conjunction of the terms finds and
// scores the candidates without reading positions; the positions of a
// candidate's terms are then read by readers of their own, which skip the
// documents in between without decoding them.
type phraseSearcher struct {
	must        search.Searcher
	terms       [][]string
	readers     [][]*phraseReader // per phrase position, per term; nil for one position
	locations   bool              // report the phrase's locations
	initialized bool
	curr        *search.DocumentMatch
	path        []*index.TermFieldVector // scratch: the path being built
	pathTerms   []string
	out         []search.FieldTermLocation
}

// phraseReader reads one term's positions, document by document.
type phraseReader struct {
	term string
	tfr  index.TermFieldReader
	doc  *index.TermFieldDoc // the current document, nil past the end
	buf  index.TermFieldDoc
	done bool
}

// at returns the term's positions in document id, or nil.
func (r *phraseReader) at(id index.IndexInternalID) ([]*index.TermFieldVector, error) {
	if r.done {
		return nil, nil
	}
	if r.doc == nil || r.doc.ID.Compare(id) < 0 {
		d, err := r.tfr.Advance(id, r.buf.Reset())
		if err != nil {
			return nil, err
		}
		if d == nil {
			r.done = true
			return nil, nil
		}
		r.doc = d
	}
	if r.doc.ID.Equals(id) {
		return r.doc.Vectors, nil
	}
	return nil, nil
}

func newPhraseSearcher(ctx context.Context, r index.IndexReader, terms [][]string, field string, boost float64,
	options search.SearcherOptions) (*phraseSearcher, error) {
	s := &phraseSearcher{terms: terms, locations: options.IncludeTermVectors}
	var parts []search.Searcher
	fail := func(err error) (*phraseSearcher, error) {
		for _, p := range parts {
			p.Close()
		}
		s.closeReaders()
		return nil, fmt.Errorf("phrase searcher: %w", err)
	}
	// A phrase of one word (perhaps among stop words) matches wherever the
	// word is: the term searcher reads its positions if they are asked for.
	// Otherwise the readers below read them.
	termOptions := options
	if len(terms) > 1 {
		termOptions.IncludeTermVectors = false
		s.readers = make([][]*phraseReader, len(terms))
	}
	for i, alts := range terms {
		var ts []search.Searcher
		for _, t := range alts {
			if t == "" {
				continue
			}
			ss, err := searcher.NewTermSearcher(ctx, r, t, field, boost, termOptions)
			if err != nil {
				for _, x := range ts {
					x.Close()
				}
				return fail(err)
			}
			ts = append(ts, ss)
			if s.readers != nil {
				tfr, err := r.TermFieldReader(ctx, []byte(t), field, false, false, true)
				if err != nil {
					for _, x := range ts {
						x.Close()
					}
					return fail(err)
				}
				s.readers[i] = append(s.readers[i], &phraseReader{term: t, tfr: tfr})
			}
		}
		switch len(ts) {
		case 0:
		case 1:
			parts = append(parts, ts[0])
		default:
			d, err := searcher.NewDisjunctionSearcher(ctx, r, ts, 1, termOptions)
			if err != nil {
				for _, x := range ts {
					x.Close()
				}
				return fail(err)
			}
			parts = append(parts, d)
		}
	}
	must, err := searcher.NewConjunctionSearcher(ctx, r, parts, termOptions)
	if err != nil {
		return fail(err)
	}
	s.must = must
	// The query norm, as bleve's phrase searcher sets it.
	s.must.SetQueryNorm(1 / math.Sqrt(s.must.Weight()))
	return s, nil
}

func (s *phraseSearcher) closeReaders() {
	for _, rs := range s.readers {
		for _, r := range rs {
			r.tfr.Close()
		}
	}
}

func (s *phraseSearcher) advance(ctx *search.SearchContext, next func() (*search.DocumentMatch, error)) error {
	if s.curr != nil {
		ctx.DocumentMatchPool.Put(s.curr)
	}
	var err error
	s.curr, err = next()
	return err
}

// Next returns the next document that holds the phrase.
func (s *phraseSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	if !s.initialized {
		s.initialized = true
		if err := s.advance(ctx, func() (*search.DocumentMatch, error) { return s.must.Next(ctx) }); err != nil {
			return nil, err
		}
	}
	for s.curr != nil {
		var hit *search.DocumentMatch
		ok, err := s.check(s.curr)
		if err != nil {
			return nil, err
		}
		if ok {
			hit, s.curr = s.curr, nil
		}
		if err := s.advance(ctx, func() (*search.DocumentMatch, error) { return s.must.Next(ctx) }); err != nil {
			return nil, err
		}
		if hit != nil {
			return hit, nil
		}
	}
	return nil, nil
}

// Advance returns the first document at or after id that holds the phrase.
func (s *phraseSearcher) Advance(ctx *search.SearchContext, id index.IndexInternalID) (*search.DocumentMatch, error) {
	if !s.initialized {
		s.initialized = true
		if err := s.advance(ctx, func() (*search.DocumentMatch, error) { return s.must.Next(ctx) }); err != nil {
			return nil, err
		}
	}
	if s.curr == nil {
		return nil, nil
	}
	if s.curr.IndexInternalID.Compare(id) < 0 {
		if err := s.advance(ctx, func() (*search.DocumentMatch, error) { return s.must.Advance(ctx, id) }); err != nil {
			return nil, err
		}
	}
	return s.Next(ctx)
}

// check reports whether dm holds the phrase and, when locations are asked
// for, sets its term locations to those of the phrase's occurrences (every
// way the phrase is found, as bleve's phrase searcher reports them).
func (s *phraseSearcher) check(dm *search.DocumentMatch) (bool, error) {
	if s.readers == nil {
		return true, nil
	}
	s.out = s.out[:0]
	found := false
	for _, r0 := range s.readers[0] {
		vs, err := r0.at(dm.IndexInternalID)
		if err != nil {
			return false, err
		}
		for _, v := range vs {
			s.path = append(s.path[:0], v)
			s.pathTerms = append(s.pathTerms[:0], r0.term)
			ok, err := s.extend(dm.IndexInternalID, 1, v.Pos)
			if err != nil {
				return false, err
			}
			found = found || ok
			if found && !s.locations {
				return true, nil
			}
		}
	}
	if found && s.locations {
		dm.FieldTermLocations = append(dm.FieldTermLocations[:0], s.out...)
	}
	return found, nil
}

// extend continues the path from phrase position i, the previous position
// being at word position pos, and records every complete path.
func (s *phraseSearcher) extend(id index.IndexInternalID, i int, pos uint64) (bool, error) {
	if i == len(s.terms) {
		if s.locations {
			for k, v := range s.path {
				s.out = append(s.out, search.FieldTermLocation{Field: v.Field, Term: s.pathTerms[k],
					Location: search.Location{Pos: v.Pos, Start: v.Start, End: v.End, ArrayPositions: v.ArrayPositions}})
			}
		}
		return true, nil
	}
	if len(s.readers[i]) == 0 {
		return s.extend(id, i+1, pos+1) // a stop word's gap matches anything
	}
	first := s.path[0]
	found := false
	for _, r := range s.readers[i] {
		vs, err := r.at(id)
		if err != nil {
			return false, err
		}
		for _, v := range vs {
			if v.Pos != pos+1 || v.Field != first.Field || !search.ArrayPositions(v.ArrayPositions).Equals(first.ArrayPositions) {
				continue
			}
			s.path = append(s.path, v)
			s.pathTerms = append(s.pathTerms, r.term)
			ok, err := s.extend(id, i+1, pos+1)
			if err != nil {
				return false, err
			}
			s.path, s.pathTerms = s.path[:len(s.path)-1], s.pathTerms[:len(s.pathTerms)-1]
			found = found || ok
			if found && !s.locations {
				return true, nil
			}
		}
	}
	return found, nil
}

// Weight is the conjunction's.
func (s *phraseSearcher) Weight() float64 { return s.must.Weight() }

// SetQueryNorm passes the norm to the conjunction.
func (s *phraseSearcher) SetQueryNorm(n float64) { s.must.SetQueryNorm(n) }

// Count is an upper bound: the documents holding every word.
func (s *phraseSearcher) Count() uint64 { return s.must.Count() }

// Min is zero: a phrase has no optional clauses.
func (s *phraseSearcher) Min() int { return 0 }

// Size estimates the searcher's memory.
func (s *phraseSearcher) Size() int { return 128 + s.must.Size() }

// DocumentMatchPoolSize is the conjunction's and the one held here.
func (s *phraseSearcher) DocumentMatchPoolSize() int { return s.must.DocumentMatchPoolSize() + 1 }

// Close closes the conjunction and the readers.
func (s *phraseSearcher) Close() error {
	s.closeReaders()
	return s.must.Close()
}
