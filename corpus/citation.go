package corpus

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Citation renders a citation label from a template such as "({Kind} {n})"
// giving "(Interview 11)". Placeholders: {kind} (as stored), {Kind}
// (capitalised), {n} (the source's number within its kind), {case},
// {source}, {title}, and any attribute name ({wave}). An unknown placeholder
// is left as written so that a typo shows.
func Citation(template string, src *Source, attrs map[string]string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(template, '{')
		if i < 0 {
			b.WriteString(template)
			break
		}
		j := strings.IndexByte(template[i:], '}')
		if j < 0 {
			b.WriteString(template)
			break
		}
		b.WriteString(template[:i])
		key := template[i+1 : i+j]
		if v, ok := placeholder(key, src, attrs); ok {
			b.WriteString(v)
		} else {
			b.WriteString(template[i : i+j+1])
		}
		template = template[i+j+1:]
	}
	return b.String()
}

func placeholder(key string, src *Source, attrs map[string]string) (string, bool) {
	switch key {
	case "kind":
		return kindLabel(src.Kind), true
	case "Kind":
		return capitalise(kindLabel(src.Kind)), true
	case "n":
		return strconv.Itoa(src.Number), true
	case "case":
		return src.Case, true
	case "source":
		return src.ID, true
	case "title":
		return src.Title, true
	}
	if v, ok := attrs[key]; ok {
		return v, true
	}
	if v, ok := src.Attrs[key]; ok {
		return v, true
	}
	return "", false
}

func kindLabel(kind string) string {
	if kind == KindFocusGroup {
		return "focus group"
	}
	return kind
}

func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
