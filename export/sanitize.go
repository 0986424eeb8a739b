package export

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxCellChars is the most UTF-16 code units an Excel cell holds; Excel
// silently cuts longer text when it opens a file.
const MaxCellChars = 32767

// CleanText returns s made safe for any export format, XML included: bytes
// that are not UTF-8 become U+FFFD, and the characters XML 1.0 forbids — the
// C0 controls other than tab, line feed and carriage return, and the
// non-characters U+FFFE and U+FFFF — are removed. Other text is unchanged, so
// clean text comes back as the same string without allocating.
func CleanText(s string) string {
	i := firstUnclean(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case xmlChar(r):
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// firstUnclean is the byte index of the first byte CleanText would change,
// or -1 when there is none.
func firstUnclean(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !xmlChar(r) {
			return i
		}
		i += size
	}
	return -1
}

// xmlChar reports whether r may appear in an XML 1.0 document (the Char
// production of the XML 1.0 recommendation).
func xmlChar(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r':
		return true
	case r < 0x20:
		return false
	case r <= 0xD7FF:
		return true
	case r < 0xE000:
		return false
	case r <= 0xFFFD:
		return true
	case r < 0x10000:
		return false
	default:
		return r <= 0x10FFFF
	}
}

// utf16Len counts the UTF-16 code units of s, the unit of Excel's limits.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// FitCell returns s unchanged when Excel can hold it in one cell (at most
// MaxCellChars UTF-16 code units). Longer text is cut at a character
// boundary and ends with a visible marker, "… [truncated: N more
// characters]", N counting the Unicode code points left out; the result
// including the marker fits in a cell. A reader of the workbook therefore
// sees that the text goes on instead of losing its end without notice.
func FitCell(s string) string {
	if len(s) <= MaxCellChars || utf16Len(s) <= MaxCellChars {
		return s
	}
	total := utf8.RuneCountInString(s)
	// Reserve room for the marker with as many digits as the whole text's
	// length: the count left out can only be smaller.
	room := MaxCellChars - utf16Len(truncMarker(total))
	units, runes, cut := 0, 0, 0
	for i, r := range s {
		if units+utf16.RuneLen(r) > room {
			cut = i
			break
		}
		units += utf16.RuneLen(r)
		runes++
	}
	return s[:cut] + truncMarker(total-runes)
}

// truncMarker is the text that ends a cut cell.
func truncMarker(n int) string {
	return "… [truncated: " + strconv.Itoa(n) + " more characters]"
}

// SafeCSVCell returns s so that a spreadsheet opening a CSV file shows it
// as text and never evaluates it as a formula. Following OWASP's advice on
// CSV injection, a cell whose first character is '=', '+', '-', '@', a tab
// or a carriage return gets a single quote (') in front; as a conservative
// extension the same holds when those characters follow leading spaces or
// line feeds. Spreadsheets show the quote, which is the price of safety:
// "-3 days" reads "'-3 days". Numbers written by the CSV writer from numeric
// values are not text and never pass through here.
func SafeCSVCell(s string) string {
	if formulaLike(s) {
		return "'" + s
	}
	return s
}

// formulaLike reports whether a spreadsheet could take s for a formula.
func formulaLike(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '=', '+', '-', '@', '\t', '\r':
			return true
		case ' ', '\n':
			continue
		default:
			return false
		}
	}
	return false
}

// sheetNameMax is Excel's limit on a sheet name, in UTF-16 code units.
const sheetNameMax = 31

// SheetName returns a valid Excel sheet name made from name that is not
// among used, and records it in used. Excel's rules: 1 to 31 characters;
// none of [ ] : * ? / \; no apostrophe at either end; unique in the
// workbook ignoring case; not "History", which Excel reserves. The name is
// kept as close to the original as possible: / \ and : become "-", [ and ]
// become ( and ), * and ? are dropped, straight apostrophes become ’ (a
// sheet name with a straight apostrophe needs quoting in every reference to
// it), control characters and runs of white space become one space, a long
// name is cut to fit, and a clash gets " (2)", " (3)" and so on. An empty
// result becomes "Sheet". used is keyed by a case-folded form of the names;
// pass the same map, starting empty, for every sheet of one workbook (a
// nil map records nothing). A
// name that needs none of these changes (and has no leading, trailing or
// doubled white space) comes back unchanged.
func SheetName(name string, used map[string]bool) string {
	base := cutUTF16(cleanSheetName(name), sheetNameMax)
	if base == "" {
		base = "Sheet"
	}
	candidate := base
	for n := 2; used[sheetKey(candidate)] || sheetKey(candidate) == "history"; n++ {
		suffix := " (" + strconv.Itoa(n) + ")"
		candidate = strings.TrimRight(cutUTF16(base, sheetNameMax-len(suffix)), " ") + suffix
	}
	if used != nil {
		used[sheetKey(candidate)] = true
	}
	return candidate
}

// sheetKey is the form in which sheet names are compared: Excel ignores
// case. Upper- then lower-casing also merges letters with several upper or
// lower forms (ſ and s, ς and σ), erring towards a needless suffix rather
// than a clash.
func sheetKey(name string) string { return strings.ToLower(strings.ToUpper(name)) }

// cleanSheetName replaces or drops what a sheet name may not hold and folds
// white space.
func cleanSheetName(name string) string {
	var b strings.Builder
	space := false
	for _, r := range CleanText(name) {
		switch r {
		case '/', '\\', ':':
			r = '-'
		case '[':
			r = '('
		case ']':
			r = ')'
		case '*', '?':
			continue
		case '\'':
			r = '’'
		}
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// cutUTF16 returns the longest prefix of s, ending at a character
// boundary, with at most max UTF-16 code units, without trailing spaces.
func cutUTF16(s string, max int) string {
	units := 0
	for i, r := range s {
		units += utf16.RuneLen(r)
		if units > max {
			return strings.TrimRight(s[:i], " ")
		}
	}
	return s
}

// checkSheetName reports why name is not a valid Excel sheet name for this
// package, or nil. It rejects straight apostrophes anywhere because excelize
// does not quote them in the names it defines for autofilters.
func checkSheetName(name string) string {
	switch {
	case name == "":
		return "is empty"
	case utf16Len(name) > sheetNameMax:
		return "is longer than 31 characters"
	case strings.ContainsAny(name, `[]:*?/\'`):
		return `contains one of [ ] : * ? / \ '`
	case firstUnclean(name) >= 0 || strings.ContainsAny(name, "\t\n\r"):
		return "contains a control character or invalid UTF-8"
	case sheetKey(name) == "history":
		return `is "History", which Excel reserves`
	}
	return ""
}
