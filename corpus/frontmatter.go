package corpus

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/thematic-qda/thematic/internal/errs"
)

// frontMatter is what a YAML header at the top of a .txt or .md file says
// about the document.
type frontMatter struct {
	Case  string
	Title string
	Attrs map[string]string
}

// yamlLineRe finds the line number in a yaml.v3 error message.
var yamlLineRe = regexp.MustCompile(`line (\d+): `)

// isFence reports whether line (without its "\n") is a front matter
// delimiter: "---", with trailing blanks allowed. A closing line may also be
// "..." as in YAML documents.
func isFence(line string, closing bool) bool {
	line = strings.TrimRight(line, " \t")
	return line == "---" || (closing && line == "...")
}

// splitFrontMatter separates an optional YAML front matter from normalised
// text. It returns nil and the text unchanged when the text does not start
// with a "---" line. Blank lines between the front matter and the body are
// dropped from the body. Errors name the line in the file.
func splitFrontMatter(name, text string) (*frontMatter, string, error) {
	first, rest, ok := strings.Cut(text, "\n")
	if !ok || !isFence(first, false) {
		return nil, text, nil
	}
	// Find the closing fence; yamlText is everything between the fences.
	var yamlText, body string
	found := false
	for off := 0; off <= len(rest); {
		end := strings.IndexByte(rest[off:], '\n')
		var line string
		next := len(rest) + 1
		if end < 0 {
			line = rest[off:]
		} else {
			line = rest[off : off+end]
			next = off + end + 1
		}
		if isFence(line, true) {
			yamlText = rest[:off]
			if next <= len(rest) {
				body = rest[next:]
			}
			found = true
			break
		}
		off = next
	}
	if !found {
		return nil, "", errs.New(name, 1, 0, "front matter is not closed: add a line with --- after its last key")
	}
	fm, err := parseFrontMatter(name, yamlText)
	if err != nil {
		return nil, "", err
	}
	return fm, strings.TrimLeft(body, "\n"), nil
}

// parseFrontMatter reads the YAML between the fences. Line numbers in errors
// are file lines: the YAML starts on line 2.
func parseFrontMatter(name, yamlText string) (fm *frontMatter, err error) {
	const firstLine = 2 // the line after the opening ---
	fileLine := func(yamlLine int) int { return yamlLine + firstLine - 1 }
	defer func() {
		if r := recover(); r != nil { // yaml.v3 is not expected to panic; keep user input from crashing us
			fm, err = nil, errs.New(name, firstLine, 0, "front matter: cannot parse YAML: %v", r)
		}
	}()

	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(yamlText), &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 1
		if m := yamlLineRe.FindStringSubmatchIndex(msg); m != nil {
			line, _ = strconv.Atoi(msg[m[2]:m[3]])
			msg = msg[:m[0]] + msg[m[1]:]
		}
		msg = strings.Join(strings.Fields(msg), " ")
		return nil, errs.New(name, fileLine(line), 0, "front matter: %s", msg)
	}
	fm = &frontMatter{Attrs: map[string]string{}}
	if doc.Kind == 0 || len(doc.Content) == 0 { // nothing but blanks or comments
		return fm, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, errs.New(name, fileLine(root.Line), 0, "front matter must be \"key: value\" lines, found %s (a file that starts with a --- line starts with YAML front matter)", yamlKindName(root))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, errs.New(name, fileLine(k.Line), k.Column, "front matter: a key must be a plain name, found %s", yamlKindName(k))
		}
		key := strings.TrimSpace(k.Value)
		if key == "" {
			return nil, errs.New(name, fileLine(k.Line), k.Column, "front matter: empty key")
		}
		lower := strings.ToLower(key)
		if prev, dup := seen[lower]; dup {
			return nil, errs.New(name, fileLine(k.Line), k.Column, "front matter: key %q repeats line %d", key, fileLine(prev))
		}
		seen[lower] = k.Line
		val, ok, err := scalarValue(v)
		if err != nil {
			return nil, errs.New(name, fileLine(v.Line), v.Column, "front matter: key %q: %v", key, err)
		}
		if !ok {
			continue // key with no value
		}
		switch lower {
		case "case":
			fm.Case = val
		case "title":
			fm.Title = val
		default:
			fm.Attrs[key] = val
		}
	}
	return fm, nil
}

// scalarValue gives the text of a front matter value: a scalar, or a list of
// scalars joined by ", ". ok is false for a null value.
func scalarValue(v *yaml.Node) (val string, ok bool, err error) {
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return "", false, nil
		}
		return frontMatterValue(v.Value), true, nil
	case yaml.SequenceNode:
		parts := make([]string, 0, len(v.Content))
		for _, item := range v.Content {
			if item.Kind == yaml.AliasNode && item.Alias != nil {
				item = item.Alias
			}
			if item.Kind != yaml.ScalarNode {
				return "", false, fmt.Errorf("a list may hold only single values, found %s", yamlKindName(item))
			}
			if item.Tag != "!!null" {
				parts = append(parts, frontMatterValue(item.Value))
			}
		}
		return strings.Join(parts, ", "), true, nil
	default:
		return "", false, fmt.Errorf("value must be a single value or a list, found %s", yamlKindName(v))
	}
}

// cleanValue trims an attribute value and keeps it to one normalised line.
func frontMatterValue(s string) string {
	return strings.Join(strings.Fields(normalizeText(s)), " ")
}

// kindName names a YAML node kind for error messages.
func yamlKindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	default:
		return "a single value"
	}
}
