package corpus

import (
	"encoding/csv"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/thematic-qda/thematic/internal/errs"
)

// Cases maps a case id to its attributes (column name -> value).
type Cases map[string]map[string]string

// ReadCases reads a cases.csv: a header row whose first column holds the case
// id (named case, id or participant, or anything), then one row per case with
// any attribute columns. A missing file gives no cases.
func ReadCases(path string) (Cases, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Cases{}, nil
	}
	if err != nil {
		return nil, err
	}
	text, err := Normalize(path, data)
	if err != nil {
		return nil, err
	}
	return ParseCases(path, strings.NewReader(text))
}

// ParseCases parses cases.csv content; name is used in errors.
func ParseCases(name string, r io.Reader) (Cases, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return Cases{}, nil
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
		if header[i] == "" && i > 0 {
			return nil, errs.New(name, 1, i+1, "empty column name in the header")
		}
	}
	cases := Cases{}
	seenAt := map[string]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return cases, nil
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			return nil, errs.New(name, line, 0, "%d fields, but the header has %d", len(rec), len(header))
		}
		id := strings.TrimSpace(rec[0])
		if id == "" {
			return nil, errs.New(name, line, 1, "empty case id")
		}
		if prev, dup := seenAt[id]; dup {
			return nil, errs.New(name, line, 1, "case %q is listed twice (also on line %d)", id, prev)
		}
		seenAt[id] = line
		attrs := map[string]string{}
		for i := 1; i < len(rec); i++ {
			if v := strings.TrimSpace(rec[i]); v != "" {
				attrs[header[i]] = v
			}
		}
		cases[id] = attrs
	}
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return errs.New(name, pe.Line, pe.Column, "%v", pe.Err)
	}
	return errs.New(name, 0, 0, "%v", err)
}
