package export

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/thematic-qda/thematic/internal/fsx"
)

// Sheet is one worksheet of a workbook: a Table and how to present it.
type Sheet struct {
	// Name must be a valid sheet name, unique in the workbook ignoring
	// case; make one from any text with SheetName.
	Name string
	Table
	// FreezeHeader keeps the header row in view while scrolling.
	FreezeHeader bool
	// AutoFilter puts filter buttons on the header over all the data.
	AutoFilter bool
	// HeatMaps colour numeric ranges of the sheet.
	HeatMaps []HeatMap
}

// HeatMap colours the numbers of a block of columns on a colour scale, the
// lowest value in Low and the highest in High (Excel conditional format).
// The block runs over all data rows but the last SkipLastRows.
type HeatMap struct {
	FirstCol, LastCol int // 0-based, inclusive
	SkipLastRows      int // rows at the bottom left out, such as a totals row
	// Colours as "#RRGGBB". Empty Low and High mean white to red. With Mid
	// set the scale has three colours and Mid marks the median (50th
	// percentile); without it, two.
	Low, Mid, High string
}

// Default heat-map colours.
const (
	heatLow  = "#FFFFFF"
	heatHigh = "#F8696B"
)

// maxSheetLinks is the most hyperlinks Excel keeps on one worksheet.
const maxSheetLinks = 65530

// WriteXLSX writes the sheets as an Excel workbook at path, atomically.
func WriteXLSX(path string, sheets ...Sheet) error {
	if err := checkSheets(sheets); err != nil {
		return err
	}
	return fsx.WriteWith(path, 0o644, func(w io.Writer) error {
		return writeWorkbook(w, sheets)
	})
}

// EncodeXLSX writes the sheets as an Excel workbook to w, in the order
// given, the first one active. Rows are streamed: each goes into the
// compressed workbook as it comes, so memory stays small however many rows
// there are. Nothing is written to w unless every sheet's rows were
// produced without error (the workbook is put together in a temporary
// file, then copied to w).
//
// Strings are written as text cells, never formulas, after CleanText and
// FitCell; numbers as numbers; times as dates (yyyy-mm-dd) or date-times;
// booleans as TRUE/FALSE; a Link as blue underlined text linking to its
// target. NaN and infinite floats, which Excel cannot hold, are written as
// the text NaN, +Inf or -Inf.
func EncodeXLSX(w io.Writer, sheets ...Sheet) (err error) {
	if err := checkSheets(sheets); err != nil {
		return err
	}
	tmp, err := os.CreateTemp("", "thematic-*.xlsx")
	if err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	if err := writeWorkbook(tmp, sheets); err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	if _, err := io.Copy(w, tmp); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	return nil
}

// checkSheets rejects what would make a broken workbook: no sheets, names
// Excel refuses or repeats, too many columns, heat maps outside the table.
func checkSheets(sheets []Sheet) error {
	if len(sheets) == 0 {
		return fmt.Errorf("export: xlsx: a workbook needs at least one sheet")
	}
	seen := map[string]bool{}
	for _, sh := range sheets {
		if why := checkSheetName(sh.Name); why != "" {
			return fmt.Errorf("export: sheet name %q %s (make names with SheetName)", sh.Name, why)
		}
		if seen[sheetKey(sh.Name)] {
			return fmt.Errorf("export: sheet name %q is used twice (make names with SheetName)", sh.Name)
		}
		seen[sheetKey(sh.Name)] = true
		if len(sh.Columns) == 0 {
			return fmt.Errorf("export: sheet %q: a table needs at least one column", sh.Name)
		}
		if len(sh.Columns) > maxSheetCols {
			return fmt.Errorf("export: sheet %q: %d columns, more than Excel's %d", sh.Name, len(sh.Columns), maxSheetCols)
		}
		for _, hm := range sh.HeatMaps {
			if hm.FirstCol < 0 || hm.LastCol < hm.FirstCol || hm.LastCol >= len(sh.Columns) || hm.SkipLastRows < 0 {
				return fmt.Errorf("export: sheet %q: heat map over columns %d-%d, rows but %d, is outside the %d columns", sh.Name, hm.FirstCol, hm.LastCol, hm.SkipLastRows, len(sh.Columns))
			}
		}
	}
	return nil
}

// sheetRef quotes a sheet name for use in a cell reference.
func sheetRef(name string) string {
	return "'" + strings.ReplaceAll(name, "'", "''") + "'"
}

// columnWidth is the column's width, or one chosen from its title.
func columnWidth(c Column) float64 {
	switch {
	case c.Width > 0:
		return min(c.Width, 255)
	case c.Wrap:
		return 60
	default:
		return float64(min(max(utf16Len(c.Title)+3, 10), 40))
	}
}

// errUnsupported marks a cell value of a type no writer handles.
var errUnsupported = errors.New("unsupported cell value")
