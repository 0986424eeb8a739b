package codebook

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxSlug caps the length of a generated id.
const maxSlug = 48

// idPattern is what an id written in the file may look like.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// foldLatin maps accented Latin letters to their base letters for slugs.
var foldLatin = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ã': "a", 'ä': "a", 'å': "a", 'ā': "a", 'ă': "a", 'ą': "a", 'æ': "ae",
	'ç': "c", 'ć': "c", 'č': "c", 'ď': "d", 'đ': "d", 'ð': "d",
	'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ē': "e", 'ė': "e", 'ę': "e", 'ě': "e",
	'ğ': "g", 'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ī': "i", 'į': "i", 'ı': "i",
	'ł': "l", 'ľ': "l", 'ñ': "n", 'ń': "n", 'ň': "n",
	'ò': "o", 'ó': "o", 'ô': "o", 'õ': "o", 'ö': "o", 'ø': "o", 'ō': "o", 'ő': "o", 'œ': "oe",
	'ř': "r", 'ś': "s", 'š': "s", 'ş': "s", 'ß': "ss", 'ť': "t", 'ţ': "t", 'þ': "th",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ū': "u", 'ů': "u", 'ű': "u", 'ų': "u",
	'ý': "y", 'ÿ': "y", 'ź': "z", 'ż': "z", 'ž': "z",
}

// slug turns a name into an id: lower case ASCII letters and digits, with
// single hyphens for everything else, at most maxSlug bytes, cut at a
// hyphen where possible. It returns "" when nothing usable is left.
func slug(name string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range strings.ToLower(name) {
		var s string
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			s = string(r)
		case foldLatin[r] != "":
			s = foldLatin[r]
		case r == '\'' || r == '’':
			continue // "don't" -> "dont"
		default:
			hyphen = b.Len() > 0
			continue
		}
		if hyphen {
			b.WriteByte('-')
			hyphen = false
		}
		b.WriteString(s)
	}
	out := b.String()
	if len(out) > maxSlug {
		out = out[:maxSlug]
		if i := strings.LastIndexByte(out, '-'); i > maxSlug/2 {
			out = out[:i]
		}
		out = strings.TrimRight(out, "-")
	}
	return out
}

// uniqueID returns base, or base-2, base-3... the first not taken.
func uniqueID(base string, taken func(string) bool) string {
	id := base
	for i := 2; taken(id); i++ {
		id = base + "-" + strconv.Itoa(i)
	}
	return id
}

// closest returns the option nearest to word when it is near enough to be
// a likely typo, or "". Case and '-'/'_'/' ' differences count for nothing.
func closest(word string, options []string) string {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		return strings.Map(func(r rune) rune {
			if r == '-' || r == '_' || r == ' ' {
				return -1
			}
			return r
		}, s)
	}
	w := norm(word)
	if w == "" {
		return ""
	}
	best, bestD := "", 1<<30
	for _, o := range options {
		// Singular and plural count as a near miss ("diaries", "boundary").
		no := norm(o)
		d := min(distance(w, no), distance(singular(w), singular(no))+1)
		if d < bestD {
			best, bestD = o, d
		}
	}
	limit := 1
	if n := utf8.RuneCountInString(w); n >= 5 {
		limit = 2
	}
	if n := utf8.RuneCountInString(w); n >= 9 {
		limit = 3
	}
	if bestD <= limit {
		return best
	}
	return ""
}

// singular strips a plain English plural ending.
func singular(w string) string {
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		return strings.TrimSuffix(w, "ies") + "y"
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && len(w) > 3:
		return strings.TrimSuffix(w, "s")
	}
	return w
}

// distance is the Levenshtein edit distance between a and b, in runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := prev[j-1]
			if ra[i-1] != rb[j-1] {
				c++
			}
			c = min(c, prev[j]+1, cur[j-1]+1)
			cur[j] = c
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// quote quotes s for a message.
func quote(s string) string { return strconv.Quote(s) }

func itoa(i int) string { return strconv.Itoa(i) }

// hasSpace reports whether s contains white space.
func hasSpace(s string) bool { return strings.IndexFunc(s, unicode.IsSpace) >= 0 }
