package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/text/unicode/norm"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// CodeSelection says which text 'thematic code' and 'thematic uncode' work
// on: a source or one of its segments, narrowed by at most one of Lines,
// Match and Span.
type CodeSelection struct {
	Target string // SOURCE or SOURCE:SEGMENT
	Lines  string // "A-B": lines A to B, 1-based, inclusive
	Match  string // an exact quote that occurs once in the source
	Span   string // "START-END": code points [START, END)
}

// CodeOptions are the flags of 'thematic code'.
type CodeOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	CodeSelection
	Code       string
	Coder      string
	Memo       string
	New        bool
	Under      string
	Name       string
	Definition string
	JSON       bool
	// Getenv reads the environment ($THEMATIC_CODER); os.Getenv when nil.
	Getenv func(string) string
	// Now gives the time of the coding; time.Now when nil.
	Now func() time.Time
}

func init() { register(newCodeCmd) }

func newCodeCmd(g *globals) *cobra.Command {
	opts := &CodeOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "code SOURCE[:SEGMENT] CODE",
		Short: "Code a segment, lines, a quote or a span of a source",
		Long: `Code text of a source with a code of the codebook, as a person (origin
"manual"). Say what to code with one of:

  SOURCE:SEGMENT       a whole segment, by the id 'thematic show' prints (t3.p1)
  --lines A-B          lines A to B of the source (1-based, inclusive), trimmed
                       of the white space around them; --lines A for one line
  --match "QUOTE"      the exact words, which must occur once in the source
                       (otherwise every place they occur is listed)
  --span START-END     characters START to END (code points, 0-based, END
                       not included), as 'thematic search --json' gives them

The coder is --coder, else $THEMATIC_CODER, else coder: in thematic.yaml.
The coder "auto" belongs to 'thematic autocode' and cannot be used here.

The code must be in codebook.yaml, unless --new adds it there (open,
inductive coding): under the theme, sub-theme or code given by --under, or
else under a theme "Uncategorised", from where it can be moved later. The
rest of codebook.yaml, comments included, is left as it was.

Coding the same text with the same code again changes nothing. Every run
takes the project lock, so several coders (or scripts) may code at once.`,
		Example: `  thematic code p01-wave1:t8.p1 welcome
  thematic code p01-wave1 outsider --lines 11 --memo "nights cut her off"
  thematic code p01-wave1 welcome --match "showed me round"
  thematic code p01-wave1 welcome --span 1182-1197 --coder bob
  thematic code p02-wave1:t7 seed-swaps --new --under ties --name "Swapping seeds"`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Target, opts.Code = args[0], args[1]
			return runCode(opts)
		},
	}
	f := cmd.Flags()
	codeSelectionFlags(cmd, &opts.CodeSelection)
	f.StringVar(&opts.Coder, "coder", "", "who is coding (default: $THEMATIC_CODER, then coder: in thematic.yaml)")
	f.StringVar(&opts.Memo, "memo", "", "a note kept with the coding")
	f.BoolVar(&opts.New, "new", false, "add CODE to codebook.yaml first (open coding)")
	f.StringVar(&opts.Under, "under", "", "with --new: the theme, sub-theme or code to add it under (default: Uncategorised)")
	f.StringVar(&opts.Name, "name", "", "with --new: the code's name (default: from CODE)")
	f.StringVar(&opts.Definition, "definition", "", "with --new: the code's definition")
	f.BoolVar(&opts.JSON, "json", false, "print the coding as JSON")
	return cmd
}

// codeSelectionFlags adds the flags of a CodeSelection to cmd.
func codeSelectionFlags(cmd *cobra.Command, sel *CodeSelection) {
	f := cmd.Flags()
	f.StringVar(&sel.Lines, "lines", "", "lines `A-B` of the source (1-based, inclusive)")
	f.StringVar(&sel.Match, "match", "", "the exact `QUOTE`; it must occur once in the source")
	f.StringVar(&sel.Span, "span", "", "code points `START-END` of the source (END excluded)")
}

// codeJSON is what --json prints.
type codeJSON struct {
	Coding       analysis.Coding `json:"coding"`
	Citation     string          `json:"citation"`
	Line         int             `json:"line"`
	AlreadyCoded bool            `json:"already_coded"`
	AddedCode    string          `json:"added_code,omitempty"`
}

func runCode(opts *CodeOptions) error {
	switch {
	case !opts.New && opts.Under != "":
		return errs.New("", 0, 0, "--under needs --new (to move an existing code, use 'thematic codebook move')")
	case !opts.New && (opts.Name != "" || opts.Definition != ""):
		return errs.New("", 0, 0, "--name and --definition need --new (to change an existing code, edit codebook.yaml)")
	}
	p, err := opts.Project()
	if err != nil {
		return err
	}
	coder, err := codeResolveCoder(opts.Coder, opts.Getenv, p.Config.Coder)
	if err != nil {
		return err
	}
	unlock, err := p.Lock(10 * time.Second)
	if err != nil {
		return err
	}
	defer unlock()

	src, sel, err := codeSelect(p, opts.CodeSelection)
	if err != nil {
		return err
	}
	cbPath := p.Path(corpus.CodebookFile)
	var (
		ed      *codebook.Editor
		addedAs string
	)
	if opts.New {
		if ed, err = codebook.Edit(cbPath); err != nil {
			return err
		}
		if n := ed.Codebook().Node(opts.Code); n != nil {
			return errs.New(corpus.CodebookFile, n.Line, n.Col, "code %q is already in the codebook (%s); leave out --new to code with it", opts.Code, codeNodePath(n))
		}
		name := opts.Name
		if name == "" {
			name = codeNameFromID(opts.Code)
		}
		if _, err := ed.AddCode(opts.Under, name, opts.Code, opts.Definition); err != nil {
			return err
		}
		addedAs = codeNodePath(ed.Codebook().Node(opts.Code))
	} else {
		cb, err := codebook.Load(cbPath)
		if err != nil {
			return err
		}
		if cb.Node(opts.Code) == nil {
			return codeUnknown(cb, opts.Code)
		}
	}

	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	c, err := analysis.NewTextIndex(src.Text).NewCoding(src.ID, sel.start, sel.end, opts.Code, coder, analysis.OriginManual, now())
	if err != nil {
		return errs.New("", 0, 0, "%s: %v", src.ID, err)
	}
	c.Segment = sel.segment
	c.Memo = strings.TrimSpace(opts.Memo)

	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	cs, err := store.Load(coder)
	if err != nil {
		return err
	}
	already := false
	for _, o := range cs {
		if !o.Orphan && o.Source == c.Source && o.Start == c.Start && o.End == c.End && o.Code == c.Code {
			already, c = true, o
			break
		}
	}
	// The codebook first: a code without codings is harmless, a coding of a
	// code the codebook lacks is a problem for 'thematic doctor'.
	if ed != nil {
		if err := ed.Save(); err != nil {
			return err
		}
	}
	if !already {
		if err := store.Save(coder, append(cs, c)); err != nil {
			return err
		}
	}

	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		return err
	}
	citation := corpus.Citation(p.Config.Citation, src, corpus.CaseAttrs(src, cases))
	text := []rune(src.Text)
	line := codeLineAt(text, c.Start)
	if opts.JSON {
		return writeJSON(opts.IO.Out, codeJSON{Coding: c, Citation: citation, Line: line, AlreadyCoded: already, AddedCode: addedAs})
	}
	if addedAs != "" {
		fmt.Fprintf(opts.IO.ErrOut, "Added code %q to %s: %s\n", opts.Code, corpus.CodebookFile, addedAs)
	}
	if already {
		fmt.Fprintf(opts.IO.ErrOut, "Already coded %s by %s (coding %s); nothing changed\n", c.Code, coder, c.ID)
	}
	codePrintCoding(opts.IO, "coded", c, citation, text)
	return nil
}

// codePrintCoding prints a coding: what was done, where, and the quote.
func codePrintCoding(ios *IOStreams, verb string, c analysis.Coding, citation string, text []rune) {
	where := c.Source
	if c.Segment != "" {
		where += ":" + c.Segment
	}
	l1, l2 := codeLineAt(text, c.Start), codeLineAt(text, max(c.End-1, c.Start))
	lines := fmt.Sprintf("L%d", l1)
	if l2 > l1 {
		lines = fmt.Sprintf("L%d-%d", l1, l2)
	}
	color := ios.Color()
	fmt.Fprintf(ios.Out, "%s %s  %s %s %s  %d-%d  %s\n", verb, style(color, ansiBold, c.Code), where, lines, citation, c.Start, c.End, c.Coder)
	for _, l := range strings.Split(c.Quote, "\n") {
		fmt.Fprintf(ios.Out, "    %s\n", l)
	}
	if c.Memo != "" {
		fmt.Fprintf(ios.Out, "    %s\n", style(color, ansiDim, "memo: "+c.Memo))
	}
}

// codeResolveCoder picks the coder: the flag, else $THEMATIC_CODER, else
// thematic.yaml's coder. The rule engine's coder "auto" is refused.
func codeResolveCoder(flag string, getenv func(string) string, config string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	coder, from := strings.TrimSpace(flag), "--coder"
	if coder == "" {
		coder, from = strings.TrimSpace(getenv("THEMATIC_CODER")), "$THEMATIC_CODER"
	}
	if coder == "" {
		coder, from = strings.TrimSpace(config), corpus.ConfigFile+" (coder:)"
	}
	if coder == "" {
		return "", errs.New("", 0, 0, "who is coding? give --coder NAME, set THEMATIC_CODER=NAME, or set coder: NAME in %s", corpus.ConfigFile)
	}
	if coder == analysis.AutoCoder {
		return "", errs.New("", 0, 0, "%s: the coder %q is the rule engine's ('thematic autocode' makes its codings); code under your own name", from, coder)
	}
	if err := analysis.ValidCoderName(coder); err != nil {
		return "", errs.New("", 0, 0, "%s: %v", from, err)
	}
	return coder, nil
}

// codeSpan is a selected stretch of a source's text.
type codeSpan struct {
	start, end int    // code points
	segment    string // the segment, when a whole one was selected
}

// codeSourceID matches what a source id may be (as ingest makes them).
var codeSourceID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// codeSelect reads the source that sel names and finds the text selected.
func codeSelect(p *corpus.Project, sel CodeSelection) (*corpus.Source, codeSpan, error) {
	srcID, segID, hasSeg := strings.Cut(strings.TrimSpace(sel.Target), ":")
	if !codeSourceID.MatchString(srcID) {
		return nil, codeSpan{}, errs.New("", 0, 0, "%q is not a source id; give SOURCE or SOURCE:SEGMENT as 'thematic sources' and 'thematic show' print them", sel.Target)
	}
	src, err := p.Source(srcID, true)
	if err != nil {
		return nil, codeSpan{}, err
	}
	span, err := codeSelectIn(src, segID, hasSeg, sel)
	return src, span, err
}

// codeSelectIn finds the text of src that the selection names: the segment
// segID (when hasSeg), or the text --lines, --match or --span selects.
func codeSelectIn(src *corpus.Source, segID string, hasSeg bool, sel CodeSelection) (codeSpan, error) {
	n := 0
	for _, given := range []bool{hasSeg, sel.Lines != "", sel.Match != "", sel.Span != ""} {
		if given {
			n++
		}
	}
	switch {
	case n == 0:
		return codeSpan{}, errs.New("", 0, 0, "say what to code in %s: SOURCE:SEGMENT (see 'thematic show %s'), --lines A-B, --match \"QUOTE\" or --span START-END", src.ID, src.ID)
	case n > 1:
		return codeSpan{}, errs.New("", 0, 0, "give only one of SOURCE:SEGMENT, --lines, --match and --span")
	}
	text := []rune(src.Text)
	switch {
	case hasSeg:
		segID = strings.TrimSpace(segID)
		seg := findSegment(src, segID)
		if seg.ID == "" || seg.End <= seg.Start {
			return codeSpan{}, errs.New("", 0, 0, "no segment %q in %s; 'thematic show %s' lists its segment ids", segID, src.ID, src.ID)
		}
		return codeSpan{start: seg.Start, end: seg.End, segment: seg.ID}, nil
	case sel.Lines != "":
		a, b, err := codeParseRange("--lines", sel.Lines, true)
		if err != nil {
			return codeSpan{}, err
		}
		if a < 1 {
			return codeSpan{}, errs.New("", 0, 0, "--lines %s: lines are numbered from 1", sel.Lines)
		}
		starts := codeLineStarts(text)
		lines := len(starts)
		if len(text) > 0 && text[len(text)-1] == '\n' {
			lines-- // no line after the final line break
		}
		if b > lines {
			return codeSpan{}, errs.New("", 0, 0, "--lines %s: %s has %d lines", sel.Lines, src.ID, lines)
		}
		start, end := starts[a-1], len(text)
		if b < len(starts) {
			end = starts[b] - 1 // before the line break
		}
		for start < end && unicode.IsSpace(text[start]) {
			start++
		}
		for end > start && unicode.IsSpace(text[end-1]) {
			end--
		}
		if start == end {
			return codeSpan{}, errs.New("", 0, 0, "--lines %s: the lines are blank in %s", sel.Lines, src.ID)
		}
		return codeSpan{start: start, end: end}, nil
	case sel.Match != "":
		return codeFindQuote(src, text, sel.Match)
	default:
		start, end, err := codeParseRange("--span", sel.Span, false)
		if err != nil {
			return codeSpan{}, err
		}
		if end > len(text) {
			return codeSpan{}, errs.New("", 0, 0, "--span %s: %s has only %d characters", sel.Span, src.ID, len(text))
		}
		if end == start {
			return codeSpan{}, errs.New("", 0, 0, "--span %s is empty: END is not included, so END must be greater than START", sel.Span)
		}
		return codeSpan{start: start, end: end}, nil
	}
}

// codeParseRange reads "A-B" (or "A" alone when single is allowed) as two
// non-negative numbers with A <= B.
func codeParseRange(flag, s string, single bool) (int, int, error) {
	want := "START-END, such as 120-185"
	if single {
		want = "A-B or A, such as 12-14"
	}
	bad := func() (int, int, error) {
		return 0, 0, errs.New("", 0, 0, "%s %q: want %s", flag, s, want)
	}
	as, bs, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		if !single {
			return bad()
		}
		bs = as
	}
	a, err1 := strconv.Atoi(strings.TrimSpace(as))
	b, err2 := strconv.Atoi(strings.TrimSpace(bs))
	if err1 != nil || err2 != nil || a < 0 || b < 0 || strings.HasPrefix(strings.TrimSpace(as), "+") || strings.HasPrefix(strings.TrimSpace(bs), "+") {
		return bad()
	}
	if b < a {
		return 0, 0, errs.New("", 0, 0, "%s %s: the end comes before the start", flag, s)
	}
	return a, b, nil
}

// codeLineStarts returns the code-point offset at which each line starts.
func codeLineStarts(text []rune) []int {
	starts := []int{0}
	for i, r := range text {
		if r == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// codeLineAt returns the 1-based line of code point i.
func codeLineAt(text []rune, i int) int {
	n := 1
	for _, r := range text[:min(max(i, 0), len(text))] {
		if r == '\n' {
			n++
		}
	}
	return n
}

// codeFindQuote finds the one place where quote occurs in src, or says
// where it occurs when it occurs more than once.
func codeFindQuote(src *corpus.Source, text []rune, quote string) (codeSpan, error) {
	q := norm.NFC.String(strings.ReplaceAll(strings.ReplaceAll(quote, "\r\n", "\n"), "\r", "\n"))
	switch {
	case !utf8.ValidString(q):
		return codeSpan{}, errs.New("", 0, 0, "--match: the quote is not valid UTF-8 text; check the terminal's encoding")
	case strings.TrimSpace(q) == "":
		return codeSpan{}, errs.New("", 0, 0, "--match needs some words to look for")
	}
	qLen := utf8.RuneCountInString(q)
	// Every occurrence, overlapping ones included, in code points.
	var at []int
	cp, last := 0, 0
	for off := 0; ; {
		i := strings.Index(src.Text[off:], q)
		if i < 0 {
			break
		}
		b := off + i
		cp += utf8.RuneCountInString(src.Text[last:b])
		last = b
		at = append(at, cp)
		_, w := utf8.DecodeRuneInString(src.Text[b:])
		off = b + w
	}
	switch len(at) {
	case 1:
		return codeSpan{start: at[0], end: at[0] + qLen}, nil
	case 0:
		msg := fmt.Sprintf("--match: %q does not occur in %s", codeClip(q, 60), src.ID)
		if line := codeFoldedLine(text, []rune(q)); line > 0 {
			msg += fmt.Sprintf("; it occurs with other capitals or spacing on line %d: copy the words exactly, or use --lines or --span", line)
		}
		return codeSpan{}, errs.New("", 0, 0, "%s", msg)
	}
	const show = 8
	var places []string
	for k, s := range at {
		if k == show {
			places = append(places, fmt.Sprintf("and %d more", len(at)-show))
			break
		}
		place := fmt.Sprintf("line %d", codeLineAt(text, s))
		if seg := codeInnermost(src, s, s+qLen); seg != "" {
			place += " (" + seg + ")"
		}
		places = append(places, fmt.Sprintf("%s --span %d-%d", place, s, s+qLen))
	}
	return codeSpan{}, errs.New("", 0, 0, "--match: %q occurs %d times in %s: %s; give a longer quote, or one of the --span values",
		codeClip(q, 60), len(at), src.ID, strings.Join(places, "; "))
}

// codeFoldedLine returns the line where q occurs in text when case and runs
// of white space are ignored, or 0.
func codeFoldedLine(text, q []rune) int {
	type folded struct {
		r    rune
		line int
	}
	fold := func(rs []rune) []folded {
		var out []folded
		line := 1
		for i, r := range rs {
			if unicode.IsSpace(r) {
				if i > 0 && r == '\n' {
					line++
				}
				if len(out) > 0 && out[len(out)-1].r == ' ' {
					continue
				}
				r = ' '
			}
			out = append(out, folded{unicode.ToLower(r), line})
		}
		return out
	}
	ft, fq := fold(text), fold(q)
	for len(fq) > 0 && fq[0].r == ' ' {
		fq = fq[1:]
	}
	for len(fq) > 0 && fq[len(fq)-1].r == ' ' {
		fq = fq[:len(fq)-1]
	}
	if len(fq) == 0 {
		return 0
	}
outer:
	for i := 0; i+len(fq) <= len(ft); i++ {
		for j := range fq {
			if ft[i+j].r != fq[j].r {
				continue outer
			}
		}
		return ft[i].line
	}
	return 0
}

// codeInnermost returns the id of the smallest segment holding [start, end),
// or "".
func codeInnermost(src *corpus.Source, start, end int) string {
	best, size := "", -1
	for _, s := range src.Segments {
		if s.Start <= start && end <= s.End && (size < 0 || s.End-s.Start <= size) {
			best, size = s.ID, s.End-s.Start
		}
	}
	return best
}

// codeClip shortens s to n code points for messages.
func codeClip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// codeNameFromID makes a readable name from a code id: "seed-swaps" gives
// "Seed swaps".
func codeNameFromID(id string) string {
	name := strings.Join(strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' || r == '.' }), " ")
	r, w := utf8.DecodeRuneInString(name)
	if w == 0 {
		return id
	}
	return string(unicode.ToUpper(r)) + name[w:]
}

// codeNodePath names a node with its ancestors: "Theme > Sub-theme > Code".
func codeNodePath(n *codebook.Node) string {
	if n == nil {
		return ""
	}
	var names []string
	for _, m := range n.Path() {
		names = append(names, m.Name)
	}
	return strings.Join(names, " > ")
}

// codeUnknown is the error for a code the codebook lacks, with the ids that
// look like it.
func codeUnknown(cb *codebook.Codebook, id string) error {
	var like []string
	lower := strings.ToLower(id)
	for _, n := range cb.Codes() {
		l := strings.ToLower(n.ID)
		if strings.Contains(l, lower) || strings.Contains(lower, l) || strings.Contains(strings.ToLower(n.Name), lower) {
			like = append(like, n.ID)
		}
	}
	msg := fmt.Sprintf("no code %q in the codebook", id)
	if len(like) > 0 && len(like) <= 5 {
		msg += "; did you mean " + strings.Join(like, ", ") + "?"
	}
	msg += " Add it while coding with --new (and --under THEME), or see 'thematic codebook'"
	return errs.New(corpus.CodebookFile, 0, 0, "%s", msg)
}
