// Package export holds the low-level writers that every export of thematic
// is built on: an Excel workbook of sheets (xlsx), CSV, GitHub-flavoured
// Markdown and JSON. The unit is a Table: column headers and a stream of
// typed rows, produced one at a time so that a large export runs in bounded
// memory.
//
// Every writer treats text as untrusted, since it comes from participants:
// text never becomes a spreadsheet formula (xlsx cells are written as
// strings; CSV cells that a spreadsheet could read as a formula get a
// leading quote, see SafeCSVCell), characters that XML forbids are removed
// (CleanText), text too long for an Excel cell is cut with a visible marker
// (FitCell), and Markdown syntax in text is escaped (EscapeMarkdown).
//
// The Write... functions replace their target file atomically: an export
// that fails half way, or is interrupted, leaves the previous file as it was
// and no temporary file behind. The Encode... functions write to any
// io.Writer, such as standard output.
package export

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Column describes one column of a Table.
type Column struct {
	// Title is the header text.
	Title string
	// Key names the field in JSON records; empty means Title.
	Key string
	// Width is the xlsx column width in characters; 0 picks one from the
	// title (60 for a Wrap column).
	Width float64
	// Wrap wraps long text inside the xlsx cell, as for quotes.
	Wrap bool
	// Number marks a numeric column: right-aligned in Markdown.
	Number bool
	// NumFmt is the Excel number format of the numbers in this column, such
	// as "0.00" or "0.0%"; empty means Excel's General.
	NumFmt string
}

// key is the column's JSON field name.
func (c Column) key() string {
	if c.Key != "" {
		return c.Key
	}
	return c.Title
}

// Rows streams the rows of a Table: it calls emit once per row, in order,
// stops at the first error emit returns and returns that error (or its own).
// emit does not keep row, so the producer may reuse one slice for every
// row. A row may be shorter than the columns (the rest is empty) but not
// longer.
//
// A cell value is one of: nil (an empty cell), string, bool, any integer or
// floating-point type, time.Time, or Link. Strings are always text, even
// when they look like numbers; numbers are always numbers.
type Rows func(emit func(row []any) error) error

// Table is a header and a stream of rows.
type Table struct {
	Columns []Column
	Rows    Rows
}

// Link is a cell value that shows Text and, in a workbook, links to a cell
// of another of its sheets (an index sheet linking to each theme's sheet).
// Other formats show Text only.
type Link struct {
	Text  string
	Sheet string // name of the target sheet, as in Sheet.Name
	Cell  string // target cell such as "B7"; empty means A1
}

// Row and column limits of an Excel worksheet.
const (
	maxSheetRows = 1048576
	maxSheetCols = 16384
)

// stream runs t.Rows, checking each row's width and counting rows from 1,
// and calls each for every row. name labels errors.
func (t Table) stream(name string, each func(n int, row []any) error) error {
	if len(t.Columns) == 0 {
		return fmt.Errorf("export: %s: a table needs at least one column", name)
	}
	if t.Rows == nil {
		return nil
	}
	n := 0
	return t.Rows(func(row []any) error {
		n++
		if len(row) > len(t.Columns) {
			return fmt.Errorf("export: %s: row %d has %d values for %d columns", name, n, len(row), len(t.Columns))
		}
		return each(n, row)
	})
}

// unsupported is the error for a cell value of a type no writer handles.
func unsupported(name string, n, col int, v any) error {
	return fmt.Errorf("export: %s: row %d, column %d: unsupported cell value of type %T", name, n, col+1, v)
}

// cellText renders a cell value as text for the text formats (CSV and
// Markdown). isText reports whether the value was text (a string or a
// link's text), which is what needs guarding against formula injection;
// numbers, booleans and times are rendered by this package and are safe.
func cellText(v any) (s string, isText, ok bool) {
	switch v := v.(type) {
	case nil:
		return "", false, true
	case string:
		return v, true, true
	case Link:
		return v.Text, true, true
	case bool:
		return strconv.FormatBool(v), false, true
	case time.Time:
		return formatTime(v), false, true
	case float64:
		return formatFloat(v, 64), false, true
	case float32:
		return formatFloat(float64(v), 32), false, true
	}
	if i, ok := asInt64(v); ok {
		return strconv.FormatInt(i, 10), false, true
	}
	if u, ok := asUint64(v); ok {
		return strconv.FormatUint(u, 10), false, true
	}
	return "", false, false
}

// formatFloat writes f in plain decimal notation with the fewest digits that
// read back as the same number; NaN and infinities as NaN, +Inf and -Inf.
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(f, 'f', -1, bits)
}

// formatTime writes a date alone when t has no time of day, else RFC 3339.
func formatTime(t time.Time) string {
	if isDate(t) {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339)
}

// isDate reports whether t is midnight, a date without a time of day.
func isDate(t time.Time) bool {
	h, m, s := t.Clock()
	return h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0
}

// asInt64 converts the signed integer types.
func asInt64(v any) (int64, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int8:
		return int64(v), true
	case int16:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}

// asUint64 converts the unsigned integer types.
func asUint64(v any) (uint64, bool) {
	switch v := v.(type) {
	case uint:
		return uint64(v), true
	case uint8:
		return uint64(v), true
	case uint16:
		return uint64(v), true
	case uint32:
		return uint64(v), true
	case uint64:
		return v, true
	case uintptr:
		return uint64(v), true
	}
	return 0, false
}
