package corpus

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/unicode/norm"

	"github.com/thematic-qda/thematic/internal/errs"
)

// Messages shared by the readers and their tests.
const (
	msgEmptyFile  = "empty file"
	msgBinaryFile = "binary file, not text (is the extension right?)"
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// Normalize decodes raw text bytes and normalises them: UTF-8 (a BOM is
// dropped), UTF-16 LE or BE with a BOM, and otherwise, when the bytes are not
// valid UTF-8, Windows-1252 (what Word's plain-text export writes). The result
// is NFC with LF line ends. Empty or whitespace-only input and binary data are
// reported as *errs.InputError naming the file.
func Normalize(name string, data []byte) (string, error) {
	s, err := decodeText(name, data)
	if err != nil {
		return "", err
	}
	s = normalizeText(s)
	if strings.TrimSpace(s) == "" {
		return "", errs.New(name, 0, 0, msgEmptyFile)
	}
	if looksBinary(s) {
		return "", errs.New(name, 0, 0, msgBinaryFile)
	}
	return s, nil
}

// decodeText turns bytes into a Go string according to their encoding. NUL
// bytes outside UTF-16 mean binary data.
func decodeText(name string, data []byte) (string, error) {
	var s string
	switch {
	case bytes.HasPrefix(data, bomUTF8):
		s = strings.ToValidUTF8(string(data[len(bomUTF8):]), "\uFFFD")
	case bytes.HasPrefix(data, bomUTF16LE):
		s = decodeUTF16(data[2:], unicode.LittleEndian)
	case bytes.HasPrefix(data, bomUTF16BE):
		s = decodeUTF16(data[2:], unicode.BigEndian)
	case bytes.IndexByte(data, 0) >= 0:
		return "", errs.New(name, 0, 0, msgBinaryFile)
	case utf8.Valid(data):
		s = string(data)
	default:
		b, err := charmap.Windows1252.NewDecoder().Bytes(data)
		if err != nil { // cannot happen: every byte has a mapping
			return "", errs.New(name, 0, 0, "cannot decode as Windows-1252: %v", err)
		}
		s = string(b)
	}
	return s, nil
}

// decodeUTF16 decodes UTF-16 without its BOM; unpaired surrogates and an odd
// trailing byte become U+FFFD.
func decodeUTF16(data []byte, e unicode.Endianness) string {
	b, err := unicode.UTF16(e, unicode.IgnoreBOM).NewDecoder().Bytes(data)
	if err != nil {
		// The UTF-16 decoder replaces what it cannot decode; an error here
		// would be a bug in x/text. Fall back to a lossy decode of pairs.
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(b)
}

// looksBinary reports whether decoded text holds NUL characters or a high
// share (over 5%) of control characters other than whitespace.
func looksBinary(s string) bool {
	var runes, ctrl int
	for i := 0; i < len(s); {
		runes++
		r := rune(s[i])
		if r < utf8.RuneSelf {
			i++
		} else {
			var size int
			r, size = utf8.DecodeRuneInString(s[i:])
			i += size
		}
		switch {
		case r == 0:
			return true
		case r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v':
		case r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0):
			ctrl++
		}
	}
	return ctrl > 0 && ctrl*20 > runes
}

// normalizeText makes any string meet the invariants of Document.Text: valid
// UTF-8, no BOM (U+FEFF) at the start, LF line ends (CRLF and lone CR become LF), NFC.
func normalizeText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.TrimLeft(s, "\uFEFF")
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		s = strings.ReplaceAll(s, "\r", "\n")
	}
	return norm.NFC.String(s)
}

// NormalizeString normalises text given on the command line or in a table
// (a quote to find, say) exactly as ingest normalises a source's text.
func NormalizeString(s string) string { return normalizeText(s) }
