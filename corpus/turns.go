package corpus

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DetectTurns finds the speaker turns of a transcript, or the entries of a
// diary when kind is KindDiary, in normalised text. Offsets are code points;
// a turn covers its content only (never its speaker label or date line) and
// is trimmed of surrounding white space, so no turn is empty.
//
// Speaker labels are recognised at the start of a line, after an optional
// indent and an optional line number ("12    Dan: ..."):
//
//	Name: ...                 Dan:, Jane Smith:, I:, P3:, interviewer:, **Dan:**
//	[00:01:02] Name: ...      also "00:01:02 Name:", "Name (00:01:02):", "Name [00:01:02]:",
//	                          "Name: [00:01:02] ..."
//	Name  00:12               alone on its line (Otter.ai, "P2 0:25"); the turn follows
//	[id1] ...                 a bracketed id holding a digit, or a role word
//
// A label's name has at most 4 words and 40 characters, no sentence
// punctuation, and names of several words are capitalised. A name is taken
// as a speaker when it labels at least 2 lines, or when it is a role word
// (I, P, R, Q, Int, Interviewer, Interviewee, Participant, Respondent,
// Moderator, Facilitator, Researcher, optionally numbered: "P3",
// "Participant 3"). Words that head metadata lines (Note, Date, Location,
// Participants, ...) are never speakers. Two refinements: once-used labels
// above the first label of a repeated name belong to the header
// ("Participant: P3, nurse" in a metadata block), not to turns; and where at
// least two names label two or more lines each, a once-used capitalised
// name written in the label style most labels share is a speaker too (a
// focus group member who speaks once).
//
// Text before the first label (a title or metadata block) is returned as a
// turn with Speaker "", so that every word stays codable; its role is
// "other". Text with no labels at all is one turn with Speaker "".
// Consecutive turns of one speaker stay separate when separately labelled.
// Speaker names keep the spelling of their first label (names are matched
// case-insensitively, runs of spaces collapsed), and Turn.Time holds the
// label's timestamp as written.
//
// Diaries: an entry starts at a date line or at a markdown heading holding a
// date ("## 1660-01-01", "2025-03-04", "Monday 3 March 2025", "3 March 2025",
// "March 3, 2025", "Tue 4 Mar", "# Week 2 – 12/03/2025"). A date line that
// is not a heading must start with the date (or "Week 2 –", "Day 3:", "Entry
// 5 -" and the like), followed by nothing, a time, or a separator (":", " –
// ") and the entry's first words. Where dated headings exist, they alone
// mark entries: a plain date line below one is part of its entry ("Jan. 1st
// (Lord's day). ..." under "## 1660-01-11"), and undated headings of the
// same or a higher level start undated entries (Pepys's "## entry-1"
// new-year summaries). Where plain date lines mark entries, headings stay
// inside them. A diary without date lines has one entry per markdown
// heading, else a single entry. Text before the first entry is an undated
// entry. Turn.Date is YYYY-MM-DD when the
// date has a day, a month and a year; dd/mm/yyyy and mm/dd/yyyy are told
// apart by any date in the document whose day exceeds 12, day first when
// nothing tells. Entries left empty (a heading followed directly by another)
// are dropped.
func DetectTurns(text, kind string) []Turn {
	if kind == KindDiary {
		return detectEntries(text)
	}
	return detectSpeakerTurns(text)
}

// byteTurn is a turn whose offsets are still bytes.
type byteTurn struct {
	speaker, time, date string
	start, end          int
}

// finishTurns trims byte turns, drops empty ones and converts the offsets to
// code points.
func finishTurns(text string, bts []byteTurn) []Turn {
	idx := newCPIndex(text)
	out := make([]Turn, 0, len(bts))
	for _, bt := range bts {
		s, e := trimByteSpan(text, bt.start, bt.end)
		if s >= e {
			continue
		}
		out = append(out, Turn{Speaker: bt.speaker, Time: bt.time, Date: bt.date, Start: idx.cp(s), End: idx.cp(e)})
	}
	if len(out) == 0 {
		return nil // no turns is nil, not an empty list
	}
	return out
}

// textLine is one line of a text, as byte offsets; end excludes the '\n'.
type textLine struct{ start, end int }

// splitTextLines returns the lines of text in order. A text ending in '\n'
// has no empty last line.
func splitTextLines(text string) []textLine {
	lines := make([]textLine, 0, strings.Count(text, "\n")+1)
	start := 0
	for start < len(text) {
		i := strings.IndexByte(text[start:], '\n')
		if i < 0 {
			lines = append(lines, textLine{start, len(text)})
			break
		}
		lines = append(lines, textLine{start, start + i})
		start += i + 1
	}
	return lines
}

// trimByteSpan narrows [s,e) past surrounding white space.
func trimByteSpan(text string, s, e int) (int, int) {
	for s < e {
		if c := text[s]; c < utf8.RuneSelf {
			if !isASCIISpace(c) {
				break
			}
			s++
			continue
		}
		r, n := utf8.DecodeRuneInString(text[s:e])
		if !unicode.IsSpace(r) {
			break
		}
		s += n
	}
	for e > s {
		if c := text[e-1]; c < utf8.RuneSelf {
			if !isASCIISpace(c) {
				break
			}
			e--
			continue
		}
		r, n := utf8.DecodeLastRuneInString(text[s:e])
		if !unicode.IsSpace(r) {
			break
		}
		e -= n
	}
	return s, e
}

// isASCIISpace is unicode.IsSpace for a byte below utf8.RuneSelf.
func isASCIISpace(c byte) bool {
	return c == ' ' || '\t' <= c && c <= '\r'
}

// ---- speaker labels -------------------------------------------------------

// timestampPattern matches a timestamp as transcripts write it: 0:25,
// 00:01:02, 1:02:03.456.
const timestampPattern = `\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?`

var (
	// inlineLabelRe is "[time] Name (time): " with every part but the name
	// and the colon optional, and optional markdown bold around it.
	inlineLabelRe = regexp.MustCompile(`^(?:\*\*|__)?(?:[\[(]?(` + timestampPattern + `)[\])]?[ \t]+)?(?:\*\*|__)?` +
		`(\pL[^:\n]{0,60}?)(?:[ \t]*[\[(](` + timestampPattern + `)[\])])?[ \t]*(?:\*\*|__)?:(?:\*\*|__)?` +
		`(?:[ \t]+[\[(](` + timestampPattern + `)[\])])?(?:[ \t]+|$)`)
	// standaloneLabelRe is "Name  00:12" alone on its line.
	standaloneLabelRe = regexp.MustCompile(`^(\pL[^:\n]{0,60}?)[ \t]+[\[(]?(` + timestampPattern + `)[\])]?[ \t]*$`)
	// bracketLabelRe is "[id1] " at the start of a line.
	bracketLabelRe = regexp.MustCompile(`^\[([^\]\n]{1,24})\](?:[ \t]*:)?(?:[ \t]+|$)`)
	timestampRe    = regexp.MustCompile(`^` + timestampPattern + `$`)
)

// Label forms, part of a label's style.
const (
	formColon = iota + 1
	formStandalone
	formBracket
)

// labelStyle is how a label is written; once-used names are accepted only
// in the style most labels of a transcript share.
type labelStyle struct {
	indent, number bool
	form           int
	timeBefore     bool
	timeAfter      bool
}

// labelCandidate is a line that looks like a speaker label.
type labelCandidate struct {
	line         int
	name, key    string // key: lower case, spaces collapsed
	time         string
	contentStart int // byte offset where the turn's content begins
	style        labelStyle
}

// parseLabel reads a speaker label at the start of line l, if it has one.
func parseLabel(text string, l textLine, lineNo int) (labelCandidate, bool) {
	s := text[l.start:l.end]
	indentEnd, prefixEnd := labelPrefix(s)
	rest := s[prefixEnd:]
	// Every label has a colon (or a timestamp's) near its start, or opens
	// with a bracket: most lines are turned away here, cheaply.
	if head := rest[:min(len(rest), 100)]; !strings.Contains(head, ":") && !strings.HasPrefix(rest, "[") {
		return labelCandidate{}, false
	}
	rest = rest[:labelScanEnd(rest)]
	st := labelStyle{indent: indentEnd > 0, number: prefixEnd > indentEnd}
	c := labelCandidate{line: lineNo}
	if m := matchInlineLabel(rest); m != nil {
		st.form = formColon
		c.name = rest[m[4]:m[5]]
		if m[2] >= 0 {
			c.time, st.timeBefore = rest[m[2]:m[3]], true
		}
		for _, g := range []int{6, 8} { // "Name (time):", "Name: [time]"
			if m[g] >= 0 {
				if c.time != "" {
					return c, false // two timestamps: not a label
				}
				c.time, st.timeAfter = rest[m[g]:m[g+1]], true
			}
		}
		c.contentStart = l.start + prefixEnd + m[1]
	} else if m := standaloneLabelRe.FindStringSubmatchIndex(rest); m != nil {
		st.form, st.timeAfter = formStandalone, true
		c.name = rest[m[2]:m[3]]
		c.time = rest[m[4]:m[5]]
		c.contentStart = l.end
	} else if m := bracketLabelRe.FindStringSubmatchIndex(rest); m != nil {
		st.form = formBracket
		c.name = strings.TrimSpace(rest[m[2]:m[3]])
		if timestampRe.MatchString(c.name) {
			return c, false
		}
		c.contentStart = l.start + prefixEnd + m[1]
	} else {
		return c, false
	}
	name, ok := cleanLabelName(c.name)
	if !ok {
		return c, false
	}
	c.name, c.key, c.style = name, strings.ToLower(name), st
	if st.form == formBracket && !strings.ContainsAny(name, "0123456789") && !isRoleWord(c.key) {
		return c, false // "[laughs]" is an annotation, not a speaker
	}
	if labelStopWords[c.key] {
		return c, false
	}
	return c, true
}

// matchInlineLabel is inlineLabelRe.FindStringSubmatchIndex(rest), with a
// fast path for the commonest label, a name of ASCII letters and digits
// directly followed by a colon and a space ("Interviewer: ...", "P3: ..."),
// which the expression would match in the same way.
func matchInlineLabel(rest string) []int {
	k := strings.IndexByte(rest, ':')
	if k < 1 || k > 61 || !isASCIILetter(rest[0]) {
		return inlineLabelRe.FindStringSubmatchIndex(rest)
	}
	for i := 1; i < k; i++ {
		if c := rest[i]; !isASCIILetter(c) && !('0' <= c && c <= '9') {
			return inlineLabelRe.FindStringSubmatchIndex(rest)
		}
	}
	end := k + 1
	if end < len(rest) {
		if c := rest[end]; c != ' ' && c != '\t' {
			return inlineLabelRe.FindStringSubmatchIndex(rest)
		}
		for end < len(rest) && (rest[end] == ' ' || rest[end] == '\t') {
			end++
		}
		if end < len(rest) && (rest[end] == '[' || rest[end] == '(') {
			return inlineLabelRe.FindStringSubmatchIndex(rest) // maybe "Name: [time]"
		}
	}
	return []int{0, end, -1, -1, 0, k, -1, -1, -1, -1}
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// labelPrefix finds the optional indent and line number at the start of a
// line, what ^([ \t]*)(?:\d{1,6}(?:\t|  )[ \t]*)? matches (that expression
// ran on every line): indentEnd is the end of the indent, end the end of
// the whole prefix.
func labelPrefix(s string) (indentEnd, end int) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	d := i
	for d < len(s) && '0' <= s[d] && s[d] <= '9' {
		d++
	}
	// A line number is 1 to 6 digits set off by a tab or two spaces.
	if n := d - i; n < 1 || n > 6 || d == len(s) {
		return i, i
	}
	if s[d] != '\t' && !strings.HasPrefix(s[d:], "  ") {
		return i, i
	}
	end = d
	for end < len(s) && (s[end] == ' ' || s[end] == '\t') {
		end++
	}
	return i, end
}

// labelScanLimit bounds how much of a line the label expressions read. None
// of them can consume more than about 300 bytes other than spaces and tabs
// (a 61-character name of 4-byte characters, two timestamps, brackets and
// bold markers), so cutting a line after labelScanLimit such bytes changes
// no match, while sparing the regular expressions long lines of prose.
const labelScanLimit = 400

// labelScanEnd is where to cut s for the label expressions: after its
// labelScanLimit-th byte that is not a space or tab, at a character
// boundary; len(s) for shorter lines.
func labelScanEnd(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && c != '\t' {
			n++
			if n > labelScanLimit && utf8.RuneStart(c) {
				return i
			}
		}
	}
	return len(s)
}

// nameTitles are abbreviations that may end with a period inside a name.
var nameTitles = map[string]bool{"dr": true, "mr": true, "mrs": true, "ms": true, "prof": true, "st": true,
	"rev": true, "fr": true, "sr": true, "jr": true, "mx": true}

// nameParticles are lower-case words allowed inside a capitalised name.
var nameParticles = map[string]bool{"van": true, "von": true, "de": true, "der": true, "den": true, "da": true,
	"di": true, "del": true, "della": true, "la": true, "le": true, "du": true, "dos": true, "das": true,
	"bin": true, "bint": true, "al": true, "el": true, "ten": true, "ter": true, "y": true}

// cleanLabelName checks that s can be a speaker's name and returns it with
// runs of white space collapsed.
func cleanLabelName(s string) (string, bool) {
	words := strings.Fields(s)
	if len(words) == 0 || len(words) > 4 {
		return "", false
	}
	name := strings.Join(words, " ")
	if utf8.RuneCountInString(name) > 40 {
		return "", false
	}
	first, _ := utf8.DecodeRuneInString(name)
	if !unicode.IsLetter(first) {
		return "", false
	}
	for i, w := range words {
		for j, r := range w {
			switch {
			case unicode.IsLetter(r), unicode.IsMark(r), unicode.IsDigit(r),
				r == '-', r == '\'', r == '’', r == '_':
			case r == '.':
				// Only a title ("Dr.") or an initial ("J.") may carry a period.
				base := strings.ToLower(w[:j])
				if j != len(w)-1 || !(nameTitles[base] || utf8.RuneCountInString(base) == 1) {
					return "", false
				}
				if i == len(words)-1 && base != "jr" && base != "sr" {
					return "", false
				}
			default:
				return "", false
			}
		}
	}
	if len(words) > 1 && !isRoleWord(strings.ToLower(name)) {
		// Several words: a capitalised name ("Jane van Dijk"), not prose.
		for i, w := range words {
			r, _ := utf8.DecodeRuneInString(w)
			if unicode.IsUpper(r) || unicode.IsDigit(r) || (i > 0 && nameParticles[w]) {
				continue
			}
			return "", false
		}
	}
	return name, true
}

// roleWords are the labels that mark a speaker even when used once; the
// value is the default role.
var roleWords = map[string]string{
	"i": RoleInterviewer, "int": RoleInterviewer, "interviewer": RoleInterviewer,
	"moderator": RoleInterviewer, "facilitator": RoleInterviewer, "researcher": RoleInterviewer,
	"q": RoleInterviewer,
	"p": RoleParticipant, "r": RoleParticipant, "participant": RoleParticipant,
	"interviewee": RoleParticipant, "respondent": RoleParticipant,
}

// isRoleWord reports whether key (lower case) is a role word, optionally
// numbered.
func isRoleWord(key string) bool {
	_, ok := roleWords[stripNumber(key)]
	return ok
}

// stripNumber removes a numbering suffix: "participant 3" -> "participant",
// "p3" -> "p".
func stripNumber(key string) string {
	i := len(key)
	for i > 0 && key[i-1] >= '0' && key[i-1] <= '9' {
		i--
	}
	if i == len(key) || i == 0 {
		return key
	}
	if c := key[i-1]; c == ' ' || c == '_' || c == '-' {
		i--
	}
	return key[:i]
}

// labelStopWords head metadata lines and notes; they are never speakers.
var labelStopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Split("note|notes|nb|n.b|ps|p.s|date|time|day|location|place|venue|setting|site|"+
		"duration|length|subject|re|fwd|cc|to|from|title|topic|project|study|source|url|link|email|e-mail|"+
		"tel|phone|page|file|filename|recording|audio|video|transcript|transcription|transcriber|"+
		"transcribed by|keywords|tags|summary|abstract|example|examples|warning|update|edit|todo|to do|"+
		"tip|hint|caution|important|attendees|present|participants|speakers|interviewers|agenda|minutes|"+
		"action|actions|action items|context|background|comment|comments|observation|observations|"+
		"reflection|reflections|memo|code|codes|theme|themes|interview|interview date|date of interview|"+
		"age|gender|sex|occupation|role|id|pseudonym|consent|version|status|total|step|answer key", "|") {
		m[w] = true
	}
	return m
}()

// detectSpeakerTurns implements DetectTurns for transcripts.
func detectSpeakerTurns(text string) []Turn {
	lines := splitTextLines(text)
	var cands []labelCandidate
	uses := map[string]int{}
	for i, l := range lines {
		if c, ok := parseLabel(text, l, i); ok {
			cands = append(cands, c)
			uses[c.key]++
		}
	}
	// Names used on two or more lines, and the style most of their labels share.
	repeated := 0
	for _, n := range uses {
		if n >= 2 {
			repeated++
		}
	}
	firstRepeated := -1
	styles := map[labelStyle]int{}
	for _, c := range cands {
		if uses[c.key] >= 2 {
			if firstRepeated < 0 {
				firstRepeated = c.line
			}
			styles[c.style]++
		}
	}
	var common labelStyle
	best := 0
	for st, n := range styles {
		if n > best || (n == best && styleLess(st, common)) {
			common, best = st, n
		}
	}

	accepted := make([]labelCandidate, 0, len(cands))
	for _, c := range cands {
		ok := uses[c.key] >= 2
		if !ok && (firstRepeated < 0 || c.line > firstRepeated) {
			switch {
			case isRoleWord(c.key):
				ok = true
			case repeated >= 2 && c.style == common && capitalised(c.name):
				ok = true
			}
		}
		if ok {
			accepted = append(accepted, c)
		}
	}

	// Speakers keep the spelling of their first label.
	spelling := map[string]string{}
	for _, c := range accepted {
		if _, ok := spelling[c.key]; !ok {
			spelling[c.key] = c.name
		}
	}
	if len(accepted) == 0 {
		return finishTurns(text, []byteTurn{{start: 0, end: len(text)}})
	}
	bts := make([]byteTurn, 0, len(accepted)+1)
	bts = append(bts, byteTurn{start: 0, end: lines[accepted[0].line].start})
	for i, c := range accepted {
		end := len(text)
		if i+1 < len(accepted) {
			end = lines[accepted[i+1].line].start
		}
		bts = append(bts, byteTurn{speaker: spelling[c.key], time: c.time, start: c.contentStart, end: end})
	}
	return finishTurns(text, bts)
}

// capitalised reports whether every word of name starts with an upper-case
// letter or a digit.
func capitalised(name string) bool {
	for _, w := range strings.Fields(name) {
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsUpper(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// styleLess orders styles so that ties in counting are broken the same way
// on every run (map iteration order is random).
func styleLess(a, b labelStyle) bool {
	key := func(s labelStyle) int {
		k := s.form
		for _, f := range []bool{s.indent, s.number, s.timeBefore, s.timeAfter} {
			k <<= 1
			if f {
				k |= 1
			}
		}
		return k
	}
	return key(a) < key(b)
}

// ---- diary entries ----------------------------------------------------------

const (
	weekdayPattern = `(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun)\.?,?\s+`
	monthPattern   = `(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?`
	ordinalPattern = `(?:st|nd|rd|th)?`
)

var (
	isoDateRe = regexp.MustCompile(`\b(\d{4})-(\d{1,2})-(\d{1,2})\b`)
	numDateRe = regexp.MustCompile(`\b(\d{1,2})([/.])(\d{1,2})[/.](\d{4}|\d{2})\b`)
	dmyDateRe = regexp.MustCompile(`(?i)\b(?:` + weekdayPattern + `)?(\d{1,2})` + ordinalPattern + `\s+(?:of\s+)?` + monthPattern + `(?:,?\s+(\d{4}))?\b`)
	mdyDateRe = regexp.MustCompile(`(?i)\b(?:` + weekdayPattern + `)?` + monthPattern + `\s+(\d{1,2})` + ordinalPattern + `(?:,?\s+(\d{4}))?\b`)
	// headingRe is a markdown ATX heading: its level and its text.
	headingRe = regexp.MustCompile(`^(#{1,6})[ \t]+(.*?)[ \t#]*$`)
	// dateLeadRe is what may stand before the date on a plain date line.
	dateLeadRe = regexp.MustCompile(`(?i)^(?:(?:week|day|entry|diary entry|journal entry|log|diary|journal)(?:\s+\d{1,4})?\s*[-–—:,.]?\s*)?$`)
	// dateTimeRe is a time following a date: ", 14:30", " at 9:05 pm".
	dateTimeRe = regexp.MustCompile(`(?i)^,?\s*(?:at\s+)?(` + timestampPattern + `(?:\s*[ap]\.?m\.?)?)`)
	// dateAsideRe is a short parenthetical after a date: "(Tuesday)".
	dateAsideRe = regexp.MustCompile(`^\s*\([^()\n]{0,30}\)`)
	// dateSepRe sets a date line's label off from text on the same line.
	dateSepRe = regexp.MustCompile(`^\s*(?::|[-–—]\s|\.\s)\s*`)
)

var monthNumbers = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
	"sep": 9, "oct": 10, "nov": 11, "dec": 12}

// foundDate is a date found on a line. For numeric dates like 12/03/2025,
// a and b hold the first two numbers until the document tells their order.
type foundDate struct {
	y, m, d   int // 0 when absent
	ambiguous bool
	a, b      int
	start     int // byte offsets in the searched string
	end       int
}

// findDate returns the first date in s.
func findDate(s string) (foundDate, bool) { return findDateIn(s, true) }

// findDateIn is findDate; with quick false, it tries every expression
// without the scans that rule them out (which tests compare against).
func findDateIn(s string, quick bool) (foundDate, bool) {
	var best foundDate
	// Every date pattern holds an ASCII digit (\d is ASCII in Go's regexp):
	// most lines of a diary have none and need not be searched.
	if quick && !hasASCIIDigit(s) {
		return best, false
	}
	found := false
	take := func(f foundDate) {
		if !found || f.start < best.start {
			best, found = f, true
		}
	}
	// Each expression needs something a cheap scan can rule out first: a
	// '-' for ISO dates, a '/' or '.' for numeric ones, a month's name for
	// the others.
	if m := submatchIf(!quick || strings.IndexByte(s, '-') >= 0, isoDateRe, s); m != nil {
		y, mo, d := parseDigits(s[m[2]:m[3]]), parseDigits(s[m[4]:m[5]]), parseDigits(s[m[6]:m[7]])
		if validCalendarDate(y, mo, d) {
			take(foundDate{y: y, m: mo, d: d, start: m[0], end: m[1]})
		}
	}
	if m := submatchIf(!quick || strings.ContainsAny(s, "/."), numDateRe, s); m != nil {
		a, b, y := parseDigits(s[m[2]:m[3]]), parseDigits(s[m[6]:m[7]]), parseDigits(s[m[8]:m[9]])
		if m[9]-m[8] == 2 {
			y += 2000
		}
		f := foundDate{y: y, a: a, b: b, start: m[0], end: m[1]}
		switch {
		case s[m[4]:m[5]] == ".": // dotted dates are day first
			f.m, f.d = b, a
		case a > 12:
			f.m, f.d = b, a
		case b > 12:
			f.m, f.d = a, b
		default:
			f.m, f.d, f.ambiguous = b, a, true
		}
		if validCalendarDate(y, f.m, f.d) {
			take(f)
		}
	}
	if quick && !mayHoldMonth(s) {
		return best, found
	}
	if m := dmyDateRe.FindStringSubmatchIndex(s); m != nil {
		f := foundDate{d: parseDigits(s[m[2]:m[3]]), m: monthNumbers[strings.ToLower(s[m[4]:m[4]+3])], start: m[0], end: m[1]}
		if m[6] >= 0 {
			f.y = parseDigits(s[m[6]:m[7]])
		}
		if validCalendarDate(f.y, f.m, f.d) {
			take(f)
		}
	}
	if m := mdyDateRe.FindStringSubmatchIndex(s); m != nil {
		f := foundDate{m: monthNumbers[strings.ToLower(s[m[2]:m[2]+3])], d: parseDigits(s[m[4]:m[5]]), start: m[0], end: m[1]}
		if m[6] >= 0 {
			f.y = parseDigits(s[m[6]:m[7]])
		}
		if validCalendarDate(f.y, f.m, f.d) {
			take(f)
		}
	}
	return best, found
}

// submatchIf is re.FindStringSubmatchIndex(s) when may is true, else nil.
func submatchIf(may bool, re *regexp.Regexp, s string) []int {
	if !may {
		return nil
	}
	return re.FindStringSubmatchIndex(s)
}

// monthAbbrevs are the first three letters of every month name
// monthPattern accepts.
var monthAbbrevs = map[[3]byte]bool{}

func init() {
	for m := range monthNumbers {
		monthAbbrevs[[3]byte{m[0], m[1], m[2]}] = true
	}
}

// mayHoldMonth reports whether s may hold a month name as dmyDateRe and
// mdyDateRe read them: false only when s is ASCII and no three letters of it
// spell the start of a month in any case. (Case-insensitive matching folds
// a few non-ASCII letters onto ASCII ones, the long s and the Kelvin sign,
// so text with any non-ASCII byte is left to the expressions.)
func mayHoldMonth(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	for i := 0; i+3 <= len(s); i++ {
		if monthAbbrevs[[3]byte{lowerASCII(s[i]), lowerASCII(s[i+1]), lowerASCII(s[i+2])}] {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// headingMatch is headingRe.FindStringSubmatch(s), tried only on lines
// that start with '#'.
func headingMatch(s string) []string {
	if !strings.HasPrefix(s, "#") {
		return nil
	}
	return headingRe.FindStringSubmatch(s)
}

// hasASCIIDigit reports whether s holds a byte '0'...'9'.
func hasASCIIDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if '0' <= s[i] && s[i] <= '9' {
			return true
		}
	}
	return false
}

// parseDigits reads a short string of ASCII digits.
func parseDigits(s string) int {
	n := 0
	for _, c := range []byte(s) {
		n = n*10 + int(c-'0')
	}
	return n
}

// validCalendarDate checks month and day; y == 0 (no year) allows 29 February.
func validCalendarDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
	if m == 2 && y != 0 && !(y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		days = 28
	}
	return d <= days
}

// entryLine is a line that starts a diary entry.
type entryLine struct {
	line         int
	level        int // heading level, 0 for a plain line
	date         foundDate
	dated        bool
	time         string
	contentStart int
}

// parseEntryLine reads a diary line: a heading (dated or not) or a plain
// date line.
func parseEntryLine(text string, l textLine, lineNo int) (entryLine, bool) {
	s := text[l.start:l.end]
	e := entryLine{line: lineNo, contentStart: l.end}
	// headingRe needs a '#' first; testing for it spares most lines the
	// regular expression.
	if m := headingMatch(s); m != nil {
		e.level = len(m[1])
		if f, ok := findDate(m[2]); ok {
			e.date, e.dated = f, true
			if t := dateTimeRe.FindStringSubmatch(m[2][f.end:]); t != nil {
				e.time = t[1]
			}
		}
		return e, true
	}
	lead := len(s) - len(strings.TrimLeft(s, " \t"))
	body := s[lead:]
	bold := strings.HasPrefix(body, "**") || strings.HasPrefix(body, "__")
	if bold {
		body = body[2:]
		lead += 2
	}
	// The date opens the line, so only its first bytes need searching;
	// diaries have long lines of prose.
	f, ok := findDate(body[:min(len(body), 100)])
	if !ok || !dateLeadRe.MatchString(body[:f.start]) {
		return e, false
	}
	rest := body[f.end:]
	if t := dateTimeRe.FindStringSubmatchIndex(rest); t != nil {
		e.time = rest[t[2]:t[3]]
		rest = rest[t[1]:]
	}
	if bold {
		rest = strings.TrimPrefix(strings.TrimPrefix(rest, "**"), "__")
	}
	if m := dateAsideRe.FindStringIndex(rest); m != nil {
		rest = rest[m[1]:]
	}
	restAt := l.end - len(rest)
	if strings.TrimFunc(rest, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) == "" {
		e.date, e.dated = f, true
		return e, true
	}
	if m := dateSepRe.FindStringIndex(rest); m != nil {
		e.date, e.dated = f, true
		e.contentStart = restAt + m[1]
		return e, true
	}
	return e, false
}

// detectEntries implements DetectTurns for diaries.
func detectEntries(text string) []Turn {
	lines := splitTextLines(text)
	var all []entryLine
	dayFirst, monthFirst := false, false
	maxDatedLevel, anyDated, anyHeading := 0, false, false
	for i, l := range lines {
		e, ok := parseEntryLine(text, l, i)
		if !ok {
			continue
		}
		all = append(all, e)
		if e.level > 0 {
			anyHeading = true
		}
		if !e.dated {
			continue
		}
		anyDated = true
		if e.level > maxDatedLevel {
			maxDatedLevel = e.level
		}
		if f := e.date; f.a != 0 && !f.ambiguous {
			if f.a > 12 {
				dayFirst = true
			} else if f.b > 12 {
				monthFirst = true
			}
		}
	}
	var starts []entryLine
	for _, e := range all {
		if e.dated && e.date.ambiguous && monthFirst && !dayFirst {
			e.date.m, e.date.d = e.date.a, e.date.b
		}
		switch {
		case maxDatedLevel > 0:
			// Dated headings mark the entries: plain date lines are part
			// of an entry ("Jan. 1st (Lord's day)." below "## 1660-01-11"),
			// and undated headings of the same or a higher level start
			// undated entries.
			if e.level > 0 && (e.dated || e.level <= maxDatedLevel) {
				starts = append(starts, e)
			}
		case anyDated:
			// Plain date lines mark the entries; headings stay inside them.
			if e.dated {
				starts = append(starts, e)
			}
		case anyHeading:
			// No dates at all: one entry per heading.
			starts = append(starts, e)
		}
	}
	if len(starts) == 0 {
		return finishTurns(text, []byteTurn{{start: 0, end: len(text)}})
	}
	bts := []byteTurn{{start: 0, end: lines[starts[0].line].start}}
	for i, e := range starts {
		end := len(text)
		if i+1 < len(starts) {
			end = lines[starts[i+1].line].start
		}
		bt := byteTurn{time: e.time, start: e.contentStart, end: end}
		if e.dated && e.date.y > 0 {
			bt.date = formatISODate(e.date.y, e.date.m, e.date.d)
		}
		bts = append(bts, bt)
	}
	return finishTurns(text, bts)
}

// formatISODate formats a date as YYYY-MM-DD.
func formatISODate(y, m, d int) string {
	b := []byte("0000-00-00")
	for i, v := 3, y; i >= 0; i, v = i-1, v/10 {
		b[i] = byte('0' + v%10)
	}
	b[5], b[6] = byte('0'+m/10), byte('0'+m%10)
	b[8], b[9] = byte('0'+d/10), byte('0'+d%10)
	return string(b)
}
