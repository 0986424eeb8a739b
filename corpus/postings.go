package corpus

import (
	"context"
	"fmt"
	"sort"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	unitok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	index "github.com/blevesearch/bleve_index_api"
)

// Posting is one occurrence of an analysed term in the text of an indexed
// segment, read from the index's term vectors.
type Posting struct {
	Source  string // the source's id
	Segment string // the indexed segment's id: a paragraph, or a turn of a source without paragraphs
	Term    string // the term as asked for (an analysed term)
	// Pos is the 0-based position of the word among the segment's words,
	// counted as Analyzer.Tokens counts them (stop words leave gaps).
	Pos int
	// Start and End are UTF-8 byte offsets of the word in the segment's
	// text, which begins at the segment's Start in the source's text.
	Start, End int
}

// Postings calls fn once with every occurrence in the index of each of
// terms (analysed terms, as Analyzer.Term gives them), in no particular
// order. Terms are matched exactly; expand a wildcard with Terms first. An
// error from fn ends the walk and is returned as it is.
//
// Each document's source and segment come from the postings of those
// keyword fields, read once per call: looking up every hit's stored id
// instead cost more and paged in much of the index's stored data.
//
// The postings of a source stand for its text only while the index holds
// that text as it is now: check with Current.
func (ix *Index) Postings(terms []string, fn func(Posting) error) error {
	if ix.idx == nil {
		return errClosed
	}
	for _, part := range ix.parts() {
		adv, err := part.Advanced()
		if err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		r, err := adv.Reader()
		if err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		err = readPostings(r, terms, fn)
		if cerr := r.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("search index: %w", cerr)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// docNames maps the documents of one bleve index to the values of a keyword
// field (a document's source or segment id): names[of[doc]] is the value of
// document number doc, of[doc] is -1 for a document without one. Reading the
// field's postings touches only the index's compact postings lists, where
// looking up each document's stored id would page in the stored texts.
type docNames struct {
	names []string
	of    []int32
}

func readDocNames(r index.IndexReader, field string) (*docNames, error) {
	ctx := context.Background()
	d, err := r.FieldDict(field)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	dn := &docNames{}
	var doc *index.TermFieldDoc
	for {
		e, err := d.Next()
		if err != nil {
			return nil, err
		}
		if e == nil {
			return dn, nil
		}
		k := int32(len(dn.names))
		dn.names = append(dn.names, e.Term)
		tfr, err := r.TermFieldReader(ctx, []byte(e.Term), field, false, false, false)
		if err != nil {
			return nil, err
		}
		for {
			if doc != nil {
				doc = doc.Reset()
			}
			next, err := tfr.Next(doc)
			if err != nil {
				tfr.Close()
				return nil, err
			}
			if next == nil {
				break
			}
			doc = next
			n := doc.ID.Value()
			if n >= uint64(len(dn.of)) {
				if n >= 1<<31 {
					tfr.Close()
					return nil, fmt.Errorf("document number %d out of range", n)
				}
				grown := make([]int32, max(n+1, uint64(2*len(dn.of))))
				copy(grown, dn.of)
				for i := len(dn.of); i < len(grown); i++ {
					grown[i] = -1
				}
				dn.of = grown
			}
			dn.of[n] = k
		}
		if err := tfr.Close(); err != nil {
			return nil, err
		}
	}
}

// name returns the value of document number n, or "".
func (dn *docNames) name(n uint64) string {
	if n >= uint64(len(dn.of)) || dn.of[n] < 0 {
		return ""
	}
	return dn.names[dn.of[n]]
}

// readPostings walks one bleve index's postings of terms.
func readPostings(r index.IndexReader, terms []string, fn func(Posting) error) error {
	sources, err := readDocNames(r, fieldSource)
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	segments, err := readDocNames(r, fieldSegment)
	if err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	ctx := context.Background()
	var doc *index.TermFieldDoc
	for _, term := range terms {
		if term == "" {
			continue
		}
		tfr, err := r.TermFieldReader(ctx, []byte(term), fieldText, true, false, true)
		if err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		for {
			if doc != nil {
				doc = doc.Reset()
			}
			next, err := tfr.Next(doc)
			if err != nil {
				tfr.Close()
				return fmt.Errorf("search index: %w", err)
			}
			if next == nil {
				break
			}
			doc = next
			n := doc.ID.Value()
			src, seg := sources.name(n), segments.name(n)
			if src == "" || seg == "" {
				continue // not a segment document
			}
			for _, v := range doc.Vectors {
				if v.Field != fieldText {
					continue
				}
				p := Posting{Source: src, Segment: seg, Term: term, Pos: int(v.Pos) - 1, Start: int(v.Start), End: int(v.End)}
				if err := fn(p); err != nil {
					tfr.Close()
					return err
				}
			}
		}
		if err := tfr.Close(); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
	}
	return nil
}

// Terms lists the distinct terms of the index's text that begin with prefix
// and for which keep (if not nil) is true, sorted. It expands a wildcard
// into the terms whose postings to read.
func (ix *Index) Terms(prefix string, keep func(term string) bool) ([]string, error) {
	if ix.idx == nil {
		return nil, errClosed
	}
	seen := map[string]bool{}
	for _, part := range ix.parts() {
		adv, err := part.Advanced()
		if err != nil {
			return nil, fmt.Errorf("search index: %w", err)
		}
		r, err := adv.Reader()
		if err != nil {
			return nil, fmt.Errorf("search index: %w", err)
		}
		err = func() error {
			defer r.Close()
			var d index.FieldDict
			if prefix == "" {
				d, err = r.FieldDict(fieldText)
			} else {
				d, err = r.FieldDictPrefix(fieldText, []byte(prefix))
			}
			if err != nil {
				return err
			}
			defer d.Close()
			for {
				e, err := d.Next()
				if err != nil {
					return err
				}
				if e == nil {
					return nil
				}
				if !seen[e.Term] && (keep == nil || keep(e.Term)) {
					seen[e.Term] = true
				}
			}
		}()
		if err != nil {
			return nil, fmt.Errorf("search index: %w", err)
		}
	}
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	sort.Strings(out)
	return out, nil
}

// IndexedSegments returns the segments of src that the index makes
// documents of, in text order: its paragraphs, or its turns when it has no
// paragraphs. A Posting's Segment is one of their ids.
func IndexedSegments(src *Source) []Segment {
	// As indexUnits picks them, counting first so as to copy each once.
	paras, turns := 0, 0
	for i := range src.Segments {
		switch src.Segments[i].Unit {
		case UnitParagraph:
			paras++
		case UnitTurn:
			turns++
		}
	}
	unit, n := UnitParagraph, paras
	if paras == 0 {
		unit, n = UnitTurn, turns
	}
	out := make([]Segment, 0, n)
	for i := range src.Segments {
		if src.Segments[i].Unit == unit {
			out = append(out, src.Segments[i])
		}
	}
	return out
}

// Current reports whether the index's postings of src are exactly the
// tokens Analyzer.Tokens finds in src.Text, segment by indexed segment: the
// last build or update of the index finished and indexed src as it is now
// (its text, segments, kind, case and attributes: pass the source as Sync
// is given it, see IndexedSources; as for Sync, src.SHA must be the hash of
// its text, which Project.Source checks), the text is valid UTF-8, the analysis
// treats each word on its own (no filter joins neighbouring words, no
// character filter), and every indexed segment begins and ends at white space
// or at an end of the text, where a word always ends. Where Current is false,
// analyse the text instead.
func (ix *Index) Current(src *Source) bool {
	if ix.idx == nil || ix.man == nil || !ix.man.Complete || ix.man.indexSettings != ix.set || src == nil {
		return false
	}
	want, ok := ix.man.Sources[src.ID]
	if !ok || !ix.an.wordLocal() || !utf8.ValidString(src.Text) {
		return false
	}
	p, err := prepareSource(src)
	if err != nil || p.hash != want {
		return false
	}
	return wordBounded(src.Text, len(p.units), func(i int) *Segment { return &p.units[i].seg })
}

// IndexCurrent returns Index.Current for the project's sources, made
// cheaper for the sources whose sidecar and row of cases.csv are the files
// the index recorded when it indexed them (same size, modification time
// and file number, the stamps OpenIndex compares): those are not hashed
// again, only their text is checked for word boundaries. It stats every
// sidecar once, here. The function returned takes a source as
// Project.Source reads it (without its case's attributes) and must be used
// while the caller holds the project lock, so that no sidecar changes in
// between.
func (p *Project) IndexCurrent(ix *Index) (func(src *Source) bool, error) {
	items, cases, err := p.indexSources()
	if err != nil {
		return nil, err
	}
	same := make(map[string]bool, len(items))
	if ix.idx != nil && ix.man != nil && ix.man.Complete && ix.man.indexSettings == ix.set && ix.an.wordLocal() {
		for _, it := range items {
			if _, ok := ix.man.Sources[it.id]; ok && it.unchanged(ix.man.Stamps[it.id]) {
				same[it.id] = true
			}
		}
	}
	return func(src *Source) bool {
		if src == nil {
			return false
		}
		if !same[src.ID] {
			return ix.Current(IndexedSources([]*Source{src}, cases)[0])
		}
		if !utf8.ValidString(src.Text) {
			return false
		}
		units := indexUnitsAt(src)
		n := utf8.RuneCountInString(src.Text)
		for _, i := range units {
			if g := &src.Segments[i]; g.Start < 0 || g.End < g.Start || g.End > n {
				return false
			}
		}
		return wordBounded(src.Text, len(units), func(i int) *Segment { return &src.Segments[units[i]] })
	}, nil
}

// wordLocal reports whether the analysis makes each word's term from that
// word alone, after a UAX #29 word split: then the terms found in a span of
// text that begins and ends at white space are those found there in the
// whole text. A character filter, or a filter that joins neighbouring
// tokens (the CJK bigrams), breaks that.
func (a *Analyzer) wordLocal() bool {
	if len(a.an.CharFilters) > 0 {
		return false
	}
	if _, ok := a.an.Tokenizer.(*unitok.UnicodeTokenizer); !ok {
		return false
	}
	for _, f := range a.an.TokenFilters {
		if _, ok := f.(*cjk.CJKBigramFilter); ok {
			return false
		}
	}
	return true
}

// wordBounded reports whether each of n segments (seg(i), in text order,
// spans in code points) begins at the start of text or after white space,
// with a character that cannot attach to what precedes it, and ends at the
// end of text or before white space. UAX #29 always breaks words there.
func wordBounded(text string, n int, seg func(i int) *Segment) bool {
	// One pass over the text, visiting the code points each segment needs.
	b, cp := 0, 0
	prev := rune(-1) // the code point before b; -1 at the start
	advance := func(to int) bool {
		for cp < to {
			if b >= len(text) {
				return false
			}
			if c := text[b]; c < utf8.RuneSelf {
				prev = rune(c)
				b++
			} else {
				r, w := utf8.DecodeRuneInString(text[b:])
				prev = r
				b += w
			}
			cp++
		}
		return true
	}
	for i := 0; i < n; i++ {
		g := seg(i)
		if g.Start < cp || g.End <= g.Start {
			return false // out of order or empty: do not guess
		}
		if !advance(g.Start) {
			return false
		}
		if prev != -1 && !unicode.IsSpace(prev) {
			return false
		}
		if r, _ := utf8.DecodeRuneInString(text[b:]); b >= len(text) || unicode.In(r, unicode.M, unicode.Cf) {
			return false
		}
		if !advance(g.End) {
			return false
		}
		if b < len(text) {
			if r, _ := utf8.DecodeRuneInString(text[b:]); !unicode.IsSpace(r) {
				return false
			}
		}
	}
	return true
}
