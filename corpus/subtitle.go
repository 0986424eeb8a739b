package corpus

import (
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	astisub "github.com/asticode/go-astisub"

	"github.com/thematic-qda/thematic/internal/errs"
)

// Limits of the "Name: " speaker labels that Zoom writes into cue text.
const (
	maxLabelRunes = 40
	maxLabelWords = 5
)

// maxSubtitleLine is the longest line go-astisub can read: its line scanner
// stops silently at 64 KiB, so longer lines are refused up front.
const maxSubtitleLine = 64000

// astisubLineRe finds "line N" in a go-astisub error, astisubTimeRe a
// timestamp it could not parse.
var (
	astisubLineRe = regexp.MustCompile(`line (\d+):? ?`)
	astisubTimeRe = regexp.MustCompile(`duration (.*?) failed`)
)

// srtMarkupRe matches the formatting tags and SSA override blocks found in
// SRT files. go-astisub trims the text on each side of a tag and then joins
// the pieces without spaces ("<i>Hello</i> world" would read "Helloworld"),
// so they are removed before it parses the file.
var srtMarkupRe = regexp.MustCompile(`(?i)</?(?:i|b|u|s|font)(?:\s[^<>\n]*)?>|\{\\[^{}\n]*\}`)

// cuePiece is the text of one cue (or of one voice inside a cue).
type cuePiece struct {
	speaker string
	voiced  bool // speaker comes from a <v> tag
	start   time.Duration
	text    string
}

// readSubtitle reads a WebVTT or SRT file into one line per speaker turn,
// "[HH:MM:SS] Name: text", turns separated by blank lines. Consecutive cues of
// one speaker make one turn; cues without a speaker stay separate turns.
func readSubtitle(name, format string, data []byte) (Document, error) {
	text, err := Normalize(name, data)
	if err != nil {
		return Document{}, err
	}
	if err := checkLineLengths(name, text); err != nil {
		return Document{}, err
	}
	if format == "srt" {
		text = srtMarkupRe.ReplaceAllString(text, "")
	}
	subs, err := parseSubtitles(format, text)
	if err != nil {
		return Document{}, subtitleError(name, format, err)
	}
	if len(subs.Items) == 0 {
		if format == "vtt" {
			return Document{}, errs.New(name, 0, 0, "no cues found: not a WebVTT file (it must start with a WEBVTT line, then cues with 00:00:01.000 --> 00:00:02.000 timings)")
		}
		return Document{}, errs.New(name, 0, 0, "no cues found: not an SRT file (each cue is a number, a 00:00:01,000 --> 00:00:02,000 line and its text)")
	}
	pieces := cuePieces(subs.Items, format == "vtt")
	if len(pieces) == 0 {
		return Document{}, errs.New(name, 0, 0, "the cues hold no text")
	}
	applyZoomLabels(pieces)
	return renderTurns(pieces, format), nil
}

// checkLineLengths refuses lines too long for go-astisub's scanner.
func checkLineLengths(name, text string) error {
	line := 1
	for len(text) > 0 {
		i := strings.IndexByte(text, '\n')
		if i < 0 {
			i = len(text)
		}
		if i > maxSubtitleLine {
			return errs.New(name, line, 0, "line is %d bytes long, too long for a subtitle file (at most %d)", i, maxSubtitleLine)
		}
		if i == len(text) {
			break
		}
		text = text[i+1:]
		line++
	}
	return nil
}

// parseSubtitles runs go-astisub on normalised text, turning a panic in it
// into an error so user input never crashes the program.
func parseSubtitles(format, text string) (subs *astisub.Subtitles, err error) {
	defer func() {
		if r := recover(); r != nil {
			subs, err = nil, fmt.Errorf("cannot parse: %v", r)
		}
	}()
	if format == "vtt" {
		return astisub.ReadFromWebVTT(strings.NewReader(text))
	}
	return astisub.ReadFromSRT(strings.NewReader(text))
}

// subtitleError rewrites a go-astisub error as an InputError with the line.
func subtitleError(name, format string, err error) error {
	msg := strings.ReplaceAll(err.Error(), "astisub: ", "")
	line := 0
	if m := astisubLineRe.FindStringSubmatchIndex(msg); m != nil {
		line, _ = strconv.Atoi(msg[m[2]:m[3]])
		msg = msg[:m[0]] + msg[m[1]:]
	}
	kind, layout := "WebVTT", "HH:MM:SS.mmm"
	if format == "srt" {
		kind, layout = "SRT", "HH:MM:SS,mmm"
	}
	if m := astisubTimeRe.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("bad time %q (want %s)", strings.TrimSpace(m[1]), layout)
	}
	return errs.New(name, line, 0, "malformed %s file: %s", kind, strings.TrimSpace(msg))
}

// cuePieces flattens cues into pieces of text: one per cue, or one per voice
// when a cue's lines carry different <v> tags. Lines of a cue are joined with
// spaces and runs of white space collapse to one space. go-astisub decodes
// only &amp; &lt; and &nbsp; in WebVTT; with unescape set, the other
// character references (&gt;, &lrm;, numeric ones) are decoded here.
func cuePieces(items []*astisub.Item, unescape bool) []cuePiece {
	var out []cuePiece
	for _, it := range items {
		if it == nil {
			continue
		}
		var cur *cuePiece
		for _, l := range it.Lines {
			voice := squashSpaces(l.VoiceName)
			raw := l.String()
			if unescape && strings.IndexByte(raw, '&') >= 0 {
				raw = html.UnescapeString(raw)
			}
			t := squashSpaces(raw)
			if cur == nil || (voice != "" && voice != cur.speaker) {
				if cur != nil && cur.text != "" {
					out = append(out, *cur)
				}
				cur = &cuePiece{speaker: voice, voiced: voice != "", start: max(it.StartAt, 0)}
			}
			if t == "" {
				continue
			}
			if cur.text != "" {
				cur.text += " "
			}
			cur.text += t
		}
		if cur != nil && cur.text != "" {
			out = append(out, *cur)
		}
	}
	return out
}

// squashSpaces normalises a piece of cue text: NFC, white space collapsed.
func squashSpaces(s string) string {
	return strings.Join(strings.Fields(normalizeText(s)), " ")
}

// applyZoomLabels takes "Name: " at the start of cue text as the speaker, as
// Zoom writes it, when at least half of the cues without a <v> tag have such
// a label; a film subtitle with the odd "Note: ..." line keeps its text.
func applyZoomLabels(pieces []cuePiece) {
	var unvoiced, labelled int
	for _, p := range pieces {
		if p.voiced {
			continue
		}
		unvoiced++
		if _, _, ok := zoomLabel(p.text); ok {
			labelled++
		}
	}
	if unvoiced == 0 || labelled*2 < unvoiced {
		return
	}
	for i := range pieces {
		if pieces[i].voiced {
			continue
		}
		if who, rest, ok := zoomLabel(pieces[i].text); ok {
			pieces[i].speaker, pieces[i].text = who, rest
		}
	}
}

// zoomLabel splits "Name: text" when Name looks like a name: it starts with
// a letter, has at most 5 words and 40 characters and no sentence
// punctuation, and some text follows it.
func zoomLabel(s string) (who, rest string, ok bool) {
	i := strings.Index(s, ": ")
	if i <= 0 {
		return "", "", false
	}
	who, rest = strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+2:])
	if who == "" || rest == "" {
		return "", "", false
	}
	first, _ := utf8.DecodeRuneInString(who)
	if !unicode.IsLetter(first) || utf8.RuneCountInString(who) > maxLabelRunes ||
		len(strings.Fields(who)) > maxLabelWords || strings.ContainsAny(who, ",;!?\"“”[]<>") {
		return "", "", false
	}
	return who, rest, true
}

// renderTurns merges consecutive pieces of one named speaker and writes the
// text, recording where each turn's spoken words are.
func renderTurns(pieces []cuePiece, format string) Document {
	type turn struct {
		speaker string
		start   time.Duration
		parts   []string
	}
	var turns []turn
	for _, p := range pieces {
		if n := len(turns); n > 0 && p.speaker != "" && turns[n-1].speaker == p.speaker {
			turns[n-1].parts = append(turns[n-1].parts, p.text)
			continue
		}
		turns = append(turns, turn{speaker: p.speaker, start: p.start, parts: []string{p.text}})
	}
	var b strings.Builder
	size := 1
	for _, t := range turns {
		size += len("\n\n[00:00:00] : ") + len(t.speaker)
		for _, p := range t.parts {
			size += len(p) + 1
		}
	}
	b.Grow(size)
	pos := 0 // code points written so far
	write := func(s string) {
		b.WriteString(s)
		pos += utf8.RuneCountInString(s)
	}
	doc := Document{Format: format, Turns: make([]Turn, 0, len(turns))}
	for i, t := range turns {
		if i > 0 {
			write("\n\n")
		}
		stamp := cueClock(t.start)
		write("[" + stamp + "] ")
		if t.speaker != "" {
			write(t.speaker + ": ")
		}
		start := pos
		write(strings.Join(t.parts, " "))
		doc.Turns = append(doc.Turns, Turn{Speaker: t.speaker, Time: stamp, Start: start, End: pos})
	}
	write("\n")
	doc.Text = b.String()
	return doc
}

// clock formats a cue time as HH:MM:SS (hours may exceed 99).
func cueClock(d time.Duration) string {
	s := int64(max(d, 0) / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}
