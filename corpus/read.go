package corpus

import (
	"path/filepath"
	"strings"

	"github.com/thematic-qda/thematic/internal/errs"
)

// ReadOptions tune the readers that need them.
type ReadOptions struct {
	// TextColumns names the columns that hold answers in a survey (.csv,
	// .xlsx); required for those formats.
	TextColumns []string
	// IDColumn names the respondent id column of a survey; its value becomes
	// Document.Case. Empty means rows are named "row N".
	IDColumn string
	// MaxBytes bounds the uncompressed size of the zip members read from a
	// .docx, .odt or .xlsx file; 0 means 256 MiB.
	MaxBytes int64
}

// DefaultMaxBytes is the bound on uncompressed zip members when
// ReadOptions.MaxBytes is 0.
const DefaultMaxBytes = 256 << 20

// formats maps a lower-case file extension to the reader's format name.
var readerFormats = map[string]string{
	".txt":  "txt",
	".md":   "md",
	".docx": "docx",
	".odt":  "odt",
	".vtt":  "vtt",
	".srt":  "srt",
	".csv":  "csv",
	".xlsx": "xlsx",
}

// supportedList is the list shown in the unsupported-format error.
const supportedList = ".txt .md .docx .odt .vtt .srt .csv .xlsx"

// Supported reports whether a file name has an extension Read understands.
func Supported(name string) bool {
	_, ok := readerFormats[strings.ToLower(filepath.Ext(name))]
	return ok
}

// Read turns one input file's bytes into documents: one for most formats,
// one per answer for surveys. name is the file name as the user gave it; it
// chooses the reader by extension and names the file in errors. Problems in
// the input are returned as *errs.InputError.
//
// Every Document.Text is valid UTF-8, NFC, with LF line ends, and Turn
// offsets are code points into it.
func Read(name string, data []byte, opts ReadOptions) ([]Document, error) {
	ext := strings.ToLower(filepath.Ext(name))
	format, ok := readerFormats[ext]
	if !ok {
		if ext == "" {
			return nil, errs.New(name, 0, 0, "unsupported format: the file name has no extension (supported: %s)", supportedList)
		}
		return nil, errs.New(name, 0, 0, "unsupported format %s (supported: %s)", ext, supportedList)
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	var (
		doc Document
		err error
	)
	switch format {
	case "txt", "md":
		doc, err = readPlain(name, format, data)
	case "docx":
		doc, err = readDocx(name, data, opts.MaxBytes)
	case "odt":
		doc, err = readODT(name, data, opts.MaxBytes)
	case "vtt", "srt":
		doc, err = readSubtitle(name, format, data)
	case "csv":
		return readCSV(name, data, opts)
	case "xlsx":
		return readXLSX(name, data, opts)
	}
	if err != nil {
		return nil, err
	}
	return []Document{doc}, nil
}

// readPlain reads .txt and .md: decoded, normalised text with an optional
// YAML front matter. Markdown is kept as written.
func readPlain(name, format string, data []byte) (Document, error) {
	text, err := Normalize(name, data)
	if err != nil {
		return Document{}, err
	}
	fm, body, err := splitFrontMatter(name, text)
	if err != nil {
		return Document{}, err
	}
	doc := Document{Text: body, Format: format}
	if fm != nil {
		if strings.TrimSpace(body) == "" {
			return Document{}, errs.New(name, 0, 0, "no text after the front matter")
		}
		doc.Case, doc.Title = fm.Case, fm.Title
		if len(fm.Attrs) > 0 {
			doc.Attrs = fm.Attrs
		}
	}
	return doc, nil
}
