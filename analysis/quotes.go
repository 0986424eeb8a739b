package analysis

import (
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// QuoteRow is one row of a quotes table: a code applied to an exact quote
// of a source, as a coder working in a spreadsheet would list it.
type QuoteRow struct {
	Line   int // 1-based line of the row in its file
	Source string
	Code   string
	Quote  string
	Memo   string
}

// ReadQuotes reads a CSV with a header naming the columns source, code and
// quote (and optionally memo), in any order.
func ReadQuotes(name string, r io.Reader) ([]QuoteRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, quotesCSVError(name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"source", "code", "quote"} {
		if _, ok := col[need]; !ok {
			return nil, errs.New(name, 1, 0, "no %q column in the header (need source, code, quote; optional memo)", need)
		}
	}
	memo, hasMemo := col["memo"]
	var rows []QuoteRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, quotesCSVError(name, err)
		}
		line, _ := cr.FieldPos(0)
		get := func(k string) string {
			if i := col[k]; i < len(rec) {
				return rec[i]
			}
			return ""
		}
		row := QuoteRow{Line: line, Source: strings.TrimSpace(get("source")), Code: strings.TrimSpace(get("code")), Quote: get("quote")}
		if hasMemo && memo < len(rec) {
			row.Memo = rec[memo]
		}
		if row.Source == "" && row.Code == "" && strings.TrimSpace(row.Quote) == "" {
			continue
		}
		if row.Source == "" || row.Code == "" || strings.TrimSpace(row.Quote) == "" {
			return nil, errs.New(name, line, 0, "source, code and quote must all be given")
		}
		rows = append(rows, row)
	}
}

func quotesCSVError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return errs.New(name, pe.Line, pe.Column, "%v", pe.Err)
	}
	return errs.New(name, 0, 0, "%v", err)
}

// CodeQuotes turns quote rows into codings of coder: each quote must occur
// exactly once in its source's text (after the same normalisation as
// ingest: NFC, LF). Every row is checked; the first problem is returned with
// its line, and no coding is returned unless all rows are good.
func CodeQuotes(name string, rows []QuoteRow, sources map[string]*corpus.Source, known func(code string) bool, coder, origin string, t time.Time) ([]Coding, error) {
	indexes := map[string]*TextIndex{}
	var out []Coding
	for _, r := range rows {
		src := sources[r.Source]
		if src == nil {
			return nil, errs.New(name, r.Line, 0, "no source %q in the project", r.Source)
		}
		if known != nil && !known(r.Code) {
			return nil, errs.New(name, r.Line, 0, "code %q is not in the codebook", r.Code)
		}
		quote := strings.TrimSpace(corpus.NormalizeString(r.Quote))
		i := strings.Index(src.Text, quote)
		if i < 0 {
			return nil, errs.New(name, r.Line, 0, "quote not found in %s: %q", r.Source, clipQuote(quote))
		}
		if strings.Contains(src.Text[i+1:], quote) {
			return nil, errs.New(name, r.Line, 0, "quote occurs more than once in %s; give a longer quote: %q", r.Source, clipQuote(quote))
		}
		ti := indexes[r.Source]
		if ti == nil {
			ti = NewTextIndex(src.Text)
			indexes[r.Source] = ti
		}
		start := ti.cpAt(i)
		end := start + len([]rune(quote))
		c, err := ti.NewCoding(src.ID, start, end, r.Code, coder, origin, t)
		if err != nil {
			return nil, errs.New(name, r.Line, 0, "%v", err)
		}
		c.Memo = r.Memo
		out = append(out, c)
	}
	return out, nil
}

func clipQuote(s string) string {
	r := []rune(s)
	if len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}
