package export

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/thematic-qda/thematic/internal/fsx"
)

// CSVOptions says how to write a CSV file. The zero value writes what Excel
// reads best: comma-separated, UTF-8 with a byte order mark, LF line ends.
type CSVOptions struct {
	// NoBOM leaves out the UTF-8 byte order mark. Excel needs the mark to
	// read a CSV file as UTF-8 (without it, accented letters come out
	// garbled); other tools mostly ignore it.
	NoBOM bool
	// CRLF ends records with CR LF, as RFC 4180 has it, instead of LF.
	CRLF bool
	// Comma is the field separator; 0 means ','. Excel in locales with a
	// decimal comma expects ';'.
	Comma rune
}

// utf8BOM is the UTF-8 encoding of U+FEFF.
const utf8BOM = "\uFEFF"

// WriteCSV writes the table as CSV at path, atomically.
func WriteCSV(path string, t Table, opts CSVOptions) error {
	return fsx.WriteWith(path, 0o644, func(w io.Writer) error {
		return EncodeCSV(w, t, opts)
	})
}

// EncodeCSV writes the table as CSV (RFC 4180 quoting, via encoding/csv) to
// w: a header row of column titles, then one record per row. Text, titles
// included, passes through CleanText and then SafeCSVCell, so that no cell
// from a participant can run as a formula when the file is opened in a
// spreadsheet: a cell that starts with = + - @, a tab or a carriage return
// gets a leading single quote. Numbers, booleans (true, false) and times
// (2006-01-02 or RFC 3339) are written plainly and never quoted this way.
// Line breaks inside a cell are kept, inside double quotes.
//
// Without a byte order mark, a file whose first cell starts with "ID" would
// make Excel take it for a SYLK file; that cell is then always quoted.
func EncodeCSV(w io.Writer, t Table, opts CSVOptions) error {
	if len(t.Columns) == 0 {
		return fmt.Errorf("export: csv: a table needs at least one column")
	}
	bw := bufio.NewWriter(w)
	if !opts.NoBOM {
		bw.WriteString(utf8BOM)
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = opts.CRLF
	if opts.Comma != 0 {
		cw.Comma = opts.Comma
	}
	header := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		header[i] = SafeCSVCell(CleanText(c.Title))
	}
	if opts.NoBOM && strings.HasPrefix(header[0], "ID") {
		// encoding/csv would not quote "ID"; write that field by hand.
		bw.WriteString(`"` + strings.ReplaceAll(header[0], `"`, `""`) + `"`)
		if len(header) > 1 {
			bw.WriteRune(cw.Comma)
		}
		header = header[1:]
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("export: csv: %w", err)
	}
	record := make([]string, len(t.Columns))
	err := t.stream("csv", func(n int, row []any) error {
		clear(record)
		for i, v := range row {
			s, isText, ok := cellText(v)
			if !ok {
				return unsupported("csv", n, i, v)
			}
			if isText {
				s = SafeCSVCell(CleanText(s))
			}
			record[i] = s
		}
		out := record
		if len(record) == 1 && record[0] == "" {
			// encoding/csv would write an empty line, which readers skip.
			bw.WriteString(`""`)
			out = nil
		}
		if err := cw.Write(out); err != nil {
			return fmt.Errorf("export: csv: row %d: %w", n, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export: csv: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("export: csv: %w", err)
	}
	return nil
}
