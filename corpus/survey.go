package corpus

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/thematic-qda/thematic/internal/errs"
)

// table is a survey sheet: a header and the rows below it.
type surveyTable struct {
	header []string
	rows   []surveyRow
	csv    bool // rows are numbered by file line (csv) rather than sheet row
}

// surveyRow is one row of cells and its 1-based row number: the sheet row in
// a workbook, the line where the record starts in a csv file.
type surveyRow struct {
	n     int
	cells []string
}

// readCSV reads survey answers from a csv file. The delimiter (comma,
// semicolon or tab) is the one the header line uses most.
func readCSV(name string, data []byte, opts ReadOptions) ([]Document, error) {
	if err := checkSurveyOptions(name, opts); err != nil {
		return nil, err
	}
	text, err := Normalize(name, data)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = sniffDelimiter(text)
	r.FieldsPerRecord = -1
	t := surveyTable{csv: true}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				where := ""
				if pe.StartLine != pe.Line {
					where = fmt.Sprintf(" (in the record that starts on line %d)", pe.StartLine)
				}
				return nil, errs.New(name, pe.Line, pe.Column, "malformed csv: %v%s", pe.Err, where)
			}
			return nil, errs.New(name, 0, 0, "malformed csv: %v", err)
		}
		line, _ := r.FieldPos(0)
		if t.header == nil {
			if blankCells(rec) {
				continue
			}
			t.header = rec
			continue
		}
		t.rows = append(t.rows, surveyRow{n: line, cells: rec})
	}
	return surveyDocs(name, "csv", t, opts)
}

// sniffDelimiter picks the separator the first line uses most, outside
// quotes; a comma when there is none.
func sniffDelimiter(text string) rune {
	counts := map[rune]int{}
	quoted := false
	for _, c := range text {
		if c == '"' {
			quoted = !quoted
			continue
		}
		if c == '\n' && !quoted {
			break
		}
		if !quoted && (c == ',' || c == ';' || c == '\t') {
			counts[c]++
		}
	}
	best := ','
	for _, c := range []rune{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}

// readXLSX reads survey answers from the first sheet of a workbook.
func readXLSX(name string, data []byte, opts ReadOptions) (docs []Document, err error) {
	if err := checkSurveyOptions(name, opts); err != nil {
		return nil, err
	}
	// Check the archive's declared sizes ourselves first: excelize unpacks
	// every member into memory when it opens a workbook.
	a, err := openZip(name, "xlsx", data, opts.MaxBytes)
	if err != nil {
		return nil, err
	}
	var total uint64
	for _, f := range a.zr.File {
		if err := a.checkDeclared(f); err != nil {
			return nil, err
		}
		total += f.UncompressedSize64
		if total > uint64(opts.MaxBytes) {
			return nil, errs.New(name, 0, 0, "the workbook would unpack to more than %d bytes, the limit (a zip bomb?)", opts.MaxBytes)
		}
	}
	if a.find("[Content_Types].xml") == nil || a.find("xl/workbook.xml") == nil {
		return nil, errs.New(name, 0, 0, "not an Excel workbook: xl/workbook.xml is missing from the archive")
	}
	defer func() {
		if r := recover(); r != nil { // excelize on a hostile file: report, do not crash
			docs, err = nil, errs.New(name, 0, 0, "cannot read the workbook: %v", r)
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: opts.MaxBytes})
	if err != nil {
		return nil, errs.New(name, 0, 0, "not a readable .xlsx workbook: %v", err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, errs.New(name, 0, 0, "the workbook has no sheets")
	}
	rows, err := f.GetRows(sheets[0])
	if err != nil {
		return nil, errs.New(name, 0, 0, "sheet %q: %v", sheets[0], err)
	}
	var t surveyTable
	for i, row := range rows {
		for j := range row {
			row[j] = normalizeText(row[j])
		}
		if t.header == nil {
			if !blankCells(row) {
				t.header = row
			}
			continue
		}
		t.rows = append(t.rows, surveyRow{n: i + 1, cells: row})
	}
	return surveyDocs(name, "xlsx", t, opts)
}

// checkSurveyOptions requires the answer columns to be named.
func checkSurveyOptions(name string, opts ReadOptions) error {
	if len(opts.TextColumns) == 0 {
		return errs.New(name, 0, 0, "a survey file needs the names of the columns that hold the answers (text columns)")
	}
	return nil
}

// blankRow reports whether every cell of a row is blank.
func blankCells(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// surveyDocs makes one document per non-empty answer.
func surveyDocs(name, format string, t surveyTable, opts ReadOptions) ([]Document, error) {
	if t.header == nil {
		return nil, errs.New(name, 0, 0, msgEmptyFile)
	}
	header := make([]string, len(t.header))
	for i, h := range t.header {
		header[i] = squashSpaces(h)
		if header[i] == "" {
			header[i] = "column " + strconv.Itoa(i+1)
		}
	}
	textCols := make([]int, len(opts.TextColumns))
	isText := map[int]bool{}
	for i, c := range opts.TextColumns {
		col, err := findColumn(name, header, c)
		if err != nil {
			return nil, err
		}
		if isText[col] {
			return nil, errs.New(name, 0, 0, "column %q is named twice as a text column", header[col])
		}
		textCols[i], isText[col] = col, true
	}
	idCol := -1
	if opts.IDColumn != "" {
		col, err := findColumn(name, header, opts.IDColumn)
		if err != nil {
			return nil, err
		}
		if isText[col] {
			return nil, errs.New(name, 0, 0, "column %q cannot be both the id and a text column", header[col])
		}
		idCol = col
	}
	rowWord := "row"
	if t.csv {
		rowWord = "line"
	}
	var docs []Document
	firstRow := map[string]int{} // id -> row it was first seen in
	names := map[string]int{}    // document name -> its row
	for _, row := range t.rows {
		if blankCells(row.cells) {
			continue
		}
		cell := func(i int) string {
			if i < len(row.cells) {
				return row.cells[i]
			}
			return ""
		}
		id := ""
		if idCol >= 0 {
			id = squashSpaces(cell(idCol))
		}
		if id == "" {
			id = "row " + strconv.Itoa(row.n)
		}
		if prev, dup := firstRow[id]; dup {
			line := 0
			if t.csv {
				line = row.n
			}
			col := "id column"
			if idCol >= 0 {
				col = strconv.Quote(header[idCol])
			}
			return nil, errs.New(name, line, 0, "id %q in %s is repeated: %ss %d and %d (each respondent needs a unique id)", id, col, rowWord, prev, row.n)
		}
		firstRow[id] = row.n
		var attrs map[string]string
		for i := range max(len(row.cells), len(header)) {
			if isText[i] || i == idCol {
				continue
			}
			v := squashSpaces(cell(i))
			if v == "" {
				continue
			}
			key := "column " + strconv.Itoa(i+1)
			if i < len(header) {
				key = header[i]
			}
			if attrs == nil {
				attrs = map[string]string{}
			}
			if _, seen := attrs[key]; !seen {
				attrs[key] = v
			}
		}
		for _, col := range textCols {
			answer := strings.TrimSpace(normalizeText(cell(col)))
			if answer == "" {
				continue
			}
			docName := id
			if len(textCols) > 1 {
				docName += "-" + header[col]
			}
			if prev, dup := names[docName]; dup {
				return nil, errs.New(name, 0, 0, "answers in %ss %d and %d would both be named %q; make the ids distinct", rowWord, prev, row.n, docName)
			}
			names[docName] = row.n
			docs = append(docs, Document{
				Text:   answer,
				Case:   id,
				Name:   docName,
				Attrs:  maps.Clone(attrs),
				Format: format,
			})
		}
	}
	if len(docs) == 0 {
		return nil, errs.New(name, 0, 0, "no answers: the text columns %s are empty in every row", quoteNames(opts.TextColumns))
	}
	return docs, nil
}

// findColumn finds a header by exact name, else by a unique
// case-insensitive match.
func findColumn(name string, header []string, want string) (int, error) {
	want = squashSpaces(want)
	var exact, folded []int
	for i, h := range header {
		if h == want {
			exact = append(exact, i)
		} else if strings.EqualFold(h, want) {
			folded = append(folded, i)
		}
	}
	switch {
	case len(exact) == 1:
		return exact[0], nil
	case len(exact) > 1:
		return 0, errs.New(name, 0, 0, "column %q appears %d times in the header; rename one", want, len(exact))
	case len(folded) == 1:
		return folded[0], nil
	case len(folded) > 1:
		return 0, errs.New(name, 0, 0, "column %q matches %d headers that differ only in case; use the exact name", want, len(folded))
	}
	return 0, errs.New(name, 0, 0, "column %q not found; the header has %s", want, quoteNames(header))
}

// quoteList formats names as "a", "b", "c".
func quoteNames(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
