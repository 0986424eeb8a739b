package agreement

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/thematic-qda/thematic/internal/errs"
)

// ReadTable reads reliability data from a units-by-coders CSV table, as given
// to `thematic agree --table`; name is the file's name for error messages.
//
// The first row is the header: a heading for the unit column (any text), then
// one coder name per column. Every further row holds a unit id, then one value
// per coder. Cells are trimmed of surrounding spaces. A cell that is empty,
// NA, N/A, NaN (in any case), "." or "*" is missing. A cell that parses as a
// finite number (3, -1.5, 2e3) is numeric; any other text is a category label.
// Rows whose cells are all empty are skipped. The delimiter is the comma, or
// the semicolon or tab when the header line holds more of those than commas;
// with the semicolon, as spreadsheets write it in many locales, a decimal
// comma is accepted too (1,5 is 1.5). A UTF-8 byte order mark is skipped and
// CR LF and CR line ends are accepted.
//
// Problems in the table are *errs.InputError values naming the file, the line
// and, where there is one, the column (counted in characters).
func ReadTable(name string, r io.Reader) (Data, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return Data{}, fmt.Errorf("%s: %w", name, err)
	}
	raw = bytes.TrimPrefix(raw, []byte("\uFEFF"))
	if !utf8.Valid(raw) {
		at := 0
		for at < len(raw) {
			ru, size := utf8.DecodeRune(raw[at:])
			if ru == utf8.RuneError && size <= 1 {
				break
			}
			at += size
		}
		line := 1 + bytes.Count(raw[:at], []byte("\n"))
		col := 1 + utf8.RuneCount(raw[bytes.LastIndexByte(raw[:at], '\n')+1:at])
		return Data{}, errs.New(name, line, col, "not UTF-8 text: save the table as CSV UTF-8")
	}
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	raw = bytes.ReplaceAll(raw, []byte("\r"), []byte("\n"))
	if len(bytes.TrimSpace(raw)) == 0 {
		return Data{}, errs.New(name, 0, 0, "empty table: want a header row (unit column, then coder names) and one row per unit")
	}

	t := tableReader{name: name, raw: raw, starts: lineStarts(raw)}
	cr := csv.NewReader(bytes.NewReader(raw))
	cr.Comma = delimiter(raw)
	decimalComma := cr.Comma == ';'
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	var d Data
	header := true
	unitLine := make(map[string]int)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Data{}, t.parseError(err)
		}
		line, _ := cr.FieldPos(0)
		if header {
			header = false
			if len(rec) < 2 {
				return Data{}, errs.New(name, line, 0, "the header needs a unit column and at least one coder column; found 1 cell (is the delimiter a comma, semicolon or tab?)")
			}
			seen := make(map[string]int)
			for i, cell := range rec[1:] {
				coder := strings.TrimSpace(cell)
				col := t.col(cr, i+1)
				if coder == "" {
					return Data{}, errs.New(name, line, col, "empty coder name in the header")
				}
				if j, dup := seen[coder]; dup {
					return Data{}, errs.New(name, line, col, "coder %q appears twice in the header (cells %d and %d)", coder, j+2, i+2)
				}
				seen[coder] = i
				d.Coders = append(d.Coders, coder)
			}
			continue
		}
		if blank(rec) {
			continue
		}
		if len(rec) != len(d.Coders)+1 {
			return Data{}, errs.New(name, line, 0, "%d cells, want %d (a unit id and one value for each of the %d coders in the header)", len(rec), len(d.Coders)+1, len(d.Coders))
		}
		unit := strings.TrimSpace(rec[0])
		if unit == "" {
			return Data{}, errs.New(name, line, t.col(cr, 0), "empty unit id")
		}
		if first, dup := unitLine[unit]; dup {
			return Data{}, errs.New(name, line, t.col(cr, 0), "unit %q appears twice (first on line %d)", unit, first)
		}
		unitLine[unit] = line
		row := make([]Value, len(d.Coders))
		for i, cell := range rec[1:] {
			row[i] = parseCell(cell, decimalComma)
		}
		d.Units = append(d.Units, unit)
		d.Values = append(d.Values, row)
	}
	if len(d.Values) == 0 {
		return Data{}, errs.New(name, 0, 0, "no units: the table has a header but no rows")
	}
	return d, nil
}

// parseCell turns one table cell into a Value; with decimalComma, a number
// written with one comma and no point (1,5) is read as 1.5.
func parseCell(cell string, decimalComma bool) Value {
	s := strings.TrimSpace(cell)
	switch strings.ToUpper(s) {
	case "", "NA", "N/A", "NAN", ".", "*":
		return Value{}
	}
	num := s
	if decimalComma && strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		num = strings.Replace(s, ",", ".", 1)
	}
	if x, err := strconv.ParseFloat(num, 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) {
		return Value{Label: s, Num: x, Numeric: true, Present: true}
	}
	return Cat(s)
}

// blank reports whether every cell of a record is empty or spaces.
func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// delimiter picks the comma, or the semicolon or tab when the first line holds
// more of those than commas.
func delimiter(raw []byte) rune {
	first := raw
	if i := bytes.IndexByte(raw, '\n'); i >= 0 {
		first = raw[:i]
	}
	best, most := ',', bytes.Count(first, []byte(","))
	for _, c := range []rune{';', '\t'} {
		if n := bytes.Count(first, []byte(string(c))); n > most {
			best, most = c, n
		}
	}
	return best
}

// lineStarts returns the byte offset at which each line begins.
func lineStarts(raw []byte) []int {
	starts := []int{0}
	for i, b := range raw {
		if b == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// tableReader converts encoding/csv positions (1-based byte columns) into
// character columns for error messages.
type tableReader struct {
	name   string
	raw    []byte
	starts []int
}

// charCol converts a 1-based byte column on a 1-based line to a 1-based
// character column; 0 when out of range.
func (t tableReader) charCol(line, byteCol int) int {
	if line < 1 || line > len(t.starts) || byteCol < 1 {
		return 0
	}
	start := t.starts[line-1]
	end := min(start+byteCol-1, len(t.raw))
	return 1 + utf8.RuneCount(t.raw[start:end])
}

// col is the character column at which field i of the record just read starts.
func (t tableReader) col(cr *csv.Reader, i int) int {
	line, c := cr.FieldPos(i)
	return t.charCol(line, c)
}

// parseError turns an encoding/csv error into an InputError.
func (t tableReader) parseError(err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", t.name, err)
	}
	msg := pe.Err.Error()
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		msg = `a " inside an unquoted cell: quote the whole cell and double the inner quote ("")`
	case errors.Is(pe.Err, csv.ErrQuote):
		msg = `a quoted cell is not closed, or has text after its closing quote`
	}
	return errs.New(t.name, pe.Line, t.charCol(pe.Line, pe.Column), "%s", msg)
}
