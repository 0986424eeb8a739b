package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// CodebookOptions are the flags of 'thematic codebook': the tree with counts.
type CodebookOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	Coders  []string // whose codings to count; every coder but "auto" when empty
	JSON    bool
}

// CodebookValidateOptions are the flags of 'thematic codebook validate'.
type CodebookValidateOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	JSON    bool
}

// CodebookAddOptions are the flags of 'thematic codebook add'.
type CodebookAddOptions struct {
	IO         *IOStreams
	Project    func() (*corpus.Project, error)
	Name       string
	Under      string // parent id; "" for the Uncategorised theme (codes) or the top (themes)
	ID         string // made from the name when ""
	Definition string
	Theme      bool // add a theme (a sub-theme with Under) rather than a code
}

// CodebookMoveOptions are the flags of 'thematic codebook move'.
type CodebookMoveOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	ID      string
	Under   string
	ToTop   bool
}

// CodebookRenameOptions are the flags of 'thematic codebook rename'.
type CodebookRenameOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	ID      string
	NewName string // "" keeps the name
	NewID   string // "" keeps the id

	// afterWrite is called after each file written while codings are
	// carried; tests stop there as if the process died.
	afterWrite func(step int, file string) error
}

// CodebookMergeOptions are the flags of 'thematic codebook merge'.
type CodebookMergeOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	From    string
	Into    string

	afterWrite func(step int, file string) error // as in CodebookRenameOptions
}

func init() { register(newCodebookCmd) }

// codebookCrashSafety is the part of the rename and merge help that says
// what happens when the command is stopped midway.
const codebookCrashSafety = `Codings are carried in an order that never leaves one without its code,
even if thematic is stopped midway (a power cut, a kill): first every
coder's file gets a copy of each coding under the new id, beside the old one;
then codebook.yaml is saved; then the old codings are removed. Each file is
written atomically under the project lock. If it is stopped, run the same
command again: it finishes the work. Until then 'thematic doctor' may list
the leftover copies as codings of a code not in the codebook.`

func newCodebookCmd(g *globals) *cobra.Command {
	opts := &CodebookOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "codebook",
		Short: "Show the codebook with counts; check and change it",
		Long: `Print the codebook as a tree (themes > sub-themes > codes, with their ids)
and how much is coded at each node: CODINGS (codings of the node itself:
one coder's code on one span of text), SOURCES and CASES (the distinct
sources and cases those codings fall in), and the same three as TOTAL
columns counting the node together with everything below it. Orphaned
codings (whose text changed; see 'thematic status') count too.

The codings of every coder except "auto" (the rules of 'thematic autocode')
are counted, or auto's when no one else has coded yet; --coder chooses
(repeat it, or give a comma-separated list).

Subcommands check the codebook (validate) and change it (add, move, rename,
merge) while keeping the comments, blank lines and order of codebook.yaml.`,
		Example: `  thematic codebook
  thematic codebook --coder alice --coder bob
  thematic codebook --coder auto --json
  thematic codebook validate
  thematic codebook add "Being on call" --under boundaries`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runCodebook(opts) },
	}
	cmd.Flags().StringSliceVar(&opts.Coders, "coder", nil, "count the codings of `NAME` (repeatable; default: every coder but auto)")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the tree with counts as JSON")
	cmd.AddCommand(newCodebookValidateCmd(g), newCodebookAddCmd(g), newCodebookMoveCmd(g),
		newCodebookRenameCmd(g), newCodebookMergeCmd(g))
	return cmd
}

func newCodebookValidateCmd(g *globals) *cobra.Command {
	opts := &CodebookValidateOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Report every problem in codebook.yaml at once",
		Long: `Check codebook.yaml and print every problem, one per line, as
FILE:LINE:COL: message — unknown keys, duplicate ids, duplicate or empty
names under one parent, rules that do not compile (a bleve query's syntax
error with its position), unknown source kinds, and speakers in a scope that
are neither a role (interviewer, participant, other) nor a speaker of the
ingested sources or of roles: in thematic.yaml.

Exits with status 1 when there is a problem, after a count on stderr;
otherwise prints "codebook.yaml: OK" with the number of themes and codes.`,
		Example: "  thematic codebook validate\n  thematic codebook validate --json",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return runCodebookValidate(opts) },
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the problems and counts as JSON")
	return cmd
}

func newCodebookAddCmd(g *globals) *cobra.Command {
	opts := &CodebookAddOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a code (or a theme) to codebook.yaml",
		Long: `Add a code named NAME at the end of the codes of the theme, sub-theme or
code given by --under, or of a theme "Uncategorised" (made when missing).
With --theme, add a theme instead, or a sub-theme of the theme --under names.

The id is made from the name (lower case, hyphens) unless --id gives one; it
is printed on stdout. The rest of codebook.yaml, comments included, stays as
it was.`,
		Example: `  thematic codebook add "Being on call" --under boundaries --definition "Availability outside working hours."
  thematic codebook add "Seed swaps" --id seed-swaps
  thematic codebook add "Practical help" --theme
  thematic codebook add "Tools and sheds" --theme --under growing`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			return runCodebookAdd(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Under, "under", "", "id of the theme, sub-theme or code to add it under")
	f.StringVar(&opts.ID, "id", "", "the new node's id (default: made from NAME)")
	f.StringVar(&opts.Definition, "definition", "", "the code's definition")
	f.BoolVar(&opts.Theme, "theme", false, "add a theme (with --under: a sub-theme of that theme)")
	return cmd
}

func newCodebookMoveCmd(g *globals) *cobra.Command {
	opts := &CodebookMoveOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "move ID (--under PARENT_ID | --to-top)",
		Short: "Move a code or theme, with everything below it, under another node",
		Long: `Move the node ID with everything below it to the end of the sub-themes or
codes of PARENT_ID, or with --to-top to the end of the themes. A theme or
sub-theme moved under a theme becomes a sub-theme; anything moved under a
sub-theme or code becomes a code; a code moved to the top becomes a theme.
Codes nest at most one level below a code. Ids do not change, so codings
stay as they are; nodes without an id in the file get their current id
written in, so that it cannot change later.`,
		Example: "  thematic codebook move seed-swaps --under sharing\n  thematic codebook move boundaries --to-top",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			return runCodebookMove(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Under, "under", "", "id of the new parent")
	cmd.Flags().BoolVar(&opts.ToTop, "to-top", false, "make it a theme")
	return cmd
}

func newCodebookRenameCmd(g *globals) *cobra.Command {
	opts := &CodebookRenameOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "rename ID [NEW_NAME] [--id NEW_ID]",
		Short: "Rename a code or theme; a new id carries its codings along",
		Long: `Give the node ID the name NEW_NAME, the id NEW_ID, or both. A new id is
written to codebook.yaml and every coder's codings of ID (those of "auto"
included) are rewritten to NEW_ID.

` + codebookCrashSafety,
		Example: `  thematic codebook rename boundaries "Setting limits"
  thematic codebook rename boundaries "Setting limits" --id limits
  thematic codebook rename boundaries --id limits`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.ID = args[0]
			if len(args) > 1 {
				opts.NewName = args[1]
			}
			return runCodebookRename(opts)
		},
	}
	cmd.Flags().StringVar(&opts.NewID, "id", "", "the new `ID`")
	return cmd
}

func newCodebookMergeCmd(g *globals) *cobra.Command {
	opts := &CodebookMergeOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "merge FROM_ID INTO_ID",
		Short: "Merge one code into another, with its codings",
		Long: `Merge the node FROM_ID into INTO_ID and remove it from codebook.yaml: its
sub-themes and codes move under INTO_ID, its rules and examples are added to
INTO_ID's, and its definition and memo are kept in INTO_ID's memo. Every
coder's codings of FROM_ID become codings of INTO_ID; where a coder coded the
same text with both, one coding remains (the memos are joined).

` + codebookCrashSafety,
		Example: "  thematic codebook merge limits boundaries",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.From, opts.Into = args[0], args[1]
			return runCodebookMerge(opts)
		},
	}
	return cmd
}

// codebookRead reads and parses the project's codebook, naming it as the
// user knows it (codebook.yaml) in every problem.
func codebookRead(p *corpus.Project) (*codebook.Codebook, []*errs.InputError, error) {
	data, err := os.ReadFile(p.Path(corpus.CodebookFile))
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, nil, errs.New(corpus.CodebookFile, 0, 0, "cannot read the codebook: %v", err)
	}
	cb, probs := codebook.Parse(corpus.CodebookFile, data)
	return cb, probs, nil
}

// codebookProblemsError refuses to go on with a codebook that has problems:
// the first, and how many more. before says what waits, such as "before
// changing it".
func codebookProblemsError(probs []*errs.InputError, before string) error {
	first := *probs[0]
	if n := len(probs) - 1; n > 0 {
		first.Msg += fmt.Sprintf(" (fix this and %d more %s %s; 'thematic codebook validate' lists them all)", n, codebookPlural(n, "problem", "problems"), before)
	} else {
		first.Msg += " (fix this " + before + ")"
	}
	return &first
}

// codebookRelErr names the codebook as the user knows it (codebook.yaml)
// in errors that give its full path.
func codebookRelErr(err error, path string) error {
	var ie *errs.InputError
	if errors.As(err, &ie) && ie.File == path {
		c := *ie
		c.File = corpus.CodebookFile
		return &c
	}
	return err
}

func codebookPlural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// codebookPath names a node by the names from its theme down.
func codebookPath(n *codebook.Node) string {
	var names []string
	for _, m := range n.Path() {
		names = append(names, m.Name)
	}
	return strings.Join(names, " > ")
}

// codebookLevel names a node's level for messages.
func codebookLevel(n *codebook.Node) string {
	switch {
	case n.Level == codebook.LevelTheme:
		return "theme"
	case n.Level == codebook.LevelSubtheme:
		return "sub-theme"
	case n.Parent != nil && n.Parent.Level == codebook.LevelCode:
		return "child code"
	}
	return "code"
}

// codebookSizes counts themes, sub-themes and codes.
func codebookSizes(cb *codebook.Codebook) (themes, subthemes, codes int) {
	cb.Walk(func(n *codebook.Node) bool {
		switch n.Level {
		case codebook.LevelTheme:
			themes++
		case codebook.LevelSubtheme:
			subthemes++
		default:
			codes++
		}
		return true
	})
	return
}

// ---- the tree with counts ----

// codebookNodeJSON is one node of 'thematic codebook --json'.
type codebookNodeJSON struct {
	ID       string              `json:"id"`
	Name     string              `json:"name"`
	Level    string              `json:"level"`
	Own      analysis.CodeCount  `json:"own"`
	Total    analysis.CodeCount  `json:"total"`
	Children []*codebookNodeJSON `json:"children,omitempty"`
}

// codebookTreeJSON is what 'thematic codebook --json' prints.
type codebookTreeJSON struct {
	File         string              `json:"file"`
	Name         string              `json:"name,omitempty"`
	Coders       []string            `json:"coders"`
	Themes       []*codebookNodeJSON `json:"themes"`
	UnknownCodes map[string]int      `json:"unknown_codes,omitempty"`
}

// codebookChooseCoders returns the coders whose codings are counted.
func codebookChooseCoders(have, want []string) ([]string, error) {
	if len(want) == 0 {
		var out []string
		for _, c := range have {
			if c != analysis.AutoCoder {
				out = append(out, c)
			}
		}
		return out, nil
	}
	var out []string
	for _, c := range want {
		c = strings.TrimSpace(c)
		if err := analysis.ValidCoderName(c); err != nil {
			return nil, errs.New("", 0, 0, "--coder: %v", err)
		}
		if !slices.Contains(have, c) {
			list := "there are no codings yet"
			if len(have) > 0 {
				list = "coders: " + strings.Join(have, ", ")
			}
			return nil, errs.New("", 0, 0, "--coder %s: no codings by %q in %s/ (%s)", c, c, corpus.CodingsDir, list)
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out, nil
}

func runCodebook(opts *CodebookOptions) error {
	p, err := opts.Project()
	if err != nil {
		return err
	}
	cb, probs, err := codebookRead(p)
	if err != nil {
		return err
	}
	if len(probs) > 0 {
		return codebookProblemsError(probs, "to see the codebook with counts")
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	have, err := store.Coders()
	if err != nil {
		return err
	}
	coders, err := codebookChooseCoders(have, opts.Coders)
	if err != nil {
		return err
	}
	if len(opts.Coders) == 0 && len(coders) == 0 && slices.Contains(have, analysis.AutoCoder) {
		// Only the rules have coded: their codings are better than a tree
		// of zeros.
		coders = []string{analysis.AutoCoder}
		fmt.Fprintf(opts.IO.ErrOut, "note: only %s (the rules of 'thematic autocode') has codings; counting them\n", analysis.AutoCoder)
	}
	// The counts come from the codings cache in .thematic/: the number of
	// codings of each code in each source, without the codings.
	cache := analysis.CodingsCache{Store: store}
	var perCoder []iter.Seq[analysis.CodeSourceCount]
	total := 0
	for _, c := range coders {
		cc, err := cache.Open(c)
		if err != nil {
			return err
		}
		defer cc.Close()
		counts, err := cc.Counts()
		if err != nil {
			return err
		}
		perCoder = append(perCoder, counts)
		total += cc.Summary().Codings
	}
	infos, err := p.SourceInfos()
	if err != nil {
		return err
	}
	caseOf := make(map[string]string, len(infos))
	for _, s := range infos {
		caseOf[s.ID] = s.Case
	}
	all := func(yield func(analysis.CodeSourceCount) bool) {
		for _, counts := range perCoder {
			for k := range counts {
				if !yield(k) {
					return
				}
			}
		}
	}
	counts := analysis.CountCodeSources(cb, all, func(id string) string { return caseOf[id] })

	if len(counts.Unknown) > 0 {
		ids := make([]string, 0, len(counts.Unknown))
		n := 0
		for id, k := range counts.Unknown {
			ids = append(ids, id)
			n += k
		}
		sort.Strings(ids)
		for i, id := range ids {
			ids[i] = fmt.Sprintf("%s (%d)", id, counts.Unknown[id])
		}
		fmt.Fprintf(opts.IO.ErrOut, "warning: %d %s of codes not in %s, not counted: %s; see 'thematic doctor'\n",
			n, codebookPlural(n, "coding", "codings"), corpus.CodebookFile, strings.Join(ids, ", "))
	}
	if opts.JSON {
		var build func(ns []*codebook.Node) []*codebookNodeJSON
		build = func(ns []*codebook.Node) []*codebookNodeJSON {
			out := make([]*codebookNodeJSON, 0, len(ns))
			for _, n := range ns {
				out = append(out, &codebookNodeJSON{ID: n.ID, Name: n.Name, Level: n.Level,
					Own: counts.Own[n.ID], Total: counts.Total[n.ID], Children: build(n.Children)})
			}
			return out
		}
		if coders == nil {
			coders = []string{}
		}
		v := codebookTreeJSON{File: corpus.CodebookFile, Name: cb.Name, Coders: coders, Themes: build(cb.Themes)}
		if len(counts.Unknown) > 0 {
			v.UnknownCodes = counts.Unknown
		}
		return writeJSON(opts.IO.Out, v)
	}
	if len(cb.Themes) == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "%s has no themes yet; add one with 'thematic codebook add --theme NAME'\n", corpus.CodebookFile)
		return nil
	}
	codebookPrintTree(opts.IO.Out, cb, counts, opts.IO.Color())
	themes, subs, codes := codebookSizes(cb)
	who := "no coders"
	if len(coders) > 0 {
		who = strings.Join(coders, ", ")
	}
	counted := total
	for _, k := range counts.Unknown {
		counted -= k
	}
	fmt.Fprintf(opts.IO.ErrOut, "%d %s, %d %s, %d %s; %d %s by %s\n",
		themes, codebookPlural(themes, "theme", "themes"), subs, codebookPlural(subs, "sub-theme", "sub-themes"),
		codes, codebookPlural(codes, "code", "codes"), counted, codebookPlural(counted, "coding", "codings"), who)
	return nil
}

// codebookPrintTree prints the tree as a table: the name indented by
// level, the id, and the counts right-aligned.
func codebookPrintTree(w io.Writer, cb *codebook.Codebook, counts analysis.CodebookCounts, color bool) {
	head := []string{"THEME / CODE", "ID", "CODINGS", "SOURCES", "CASES", "TOTAL CODINGS", "TOTAL SOURCES", "TOTAL CASES"}
	var rows [][]string
	var themeRow []bool
	cb.Walk(func(n *codebook.Node) bool {
		o, t := counts.Own[n.ID], counts.Total[n.ID]
		rows = append(rows, []string{strings.Repeat("  ", len(n.Path())-1) + n.Name, n.ID,
			fmt.Sprint(o.Codings), fmt.Sprint(o.Sources), fmt.Sprint(o.Cases),
			fmt.Sprint(t.Codings), fmt.Sprint(t.Sources), fmt.Sprint(t.Cases)})
		themeRow = append(themeRow, n.Level == codebook.LevelTheme)
		return true
	})
	width := make([]int, len(head))
	for _, r := range append([][]string{head}, rows...) {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	line := func(r []string, bold bool) {
		var b strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			switch {
			case i == 0:
				b.WriteString(style(bold, ansiBold, c) + pad + "  ")
			case i == 1:
				b.WriteString(c + pad + "  ")
			default: // counts, right-aligned
				b.WriteString(pad + c)
				if i < len(r)-1 {
					b.WriteString("  ")
				}
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(head, false)
	for i, r := range rows {
		line(r, color && themeRow[i])
	}
}

// ---- validate ----

// codebookProblemJSON is one problem in 'thematic codebook validate --json'.
type codebookProblemJSON struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Message string `json:"message"`
}

// codebookSpeakers lists the speaker names the project knows: those of the
// sources' sidecars and the names given roles in thematic.yaml.
func codebookSpeakers(p *corpus.Project) ([]string, int, error) {
	srcs, err := p.SourceInfos()
	if err != nil {
		return nil, 0, err
	}
	seen := map[string]bool{}
	var names []string
	addName := func(s string) {
		if k := strings.ToLower(strings.TrimSpace(s)); k != "" && !seen[k] {
			seen[k] = true
			names = append(names, strings.TrimSpace(s))
		}
	}
	for _, s := range srcs {
		for _, sp := range s.Speakers {
			addName(sp.Name)
		}
	}
	roleNames := make([]string, 0, len(p.Config.Roles))
	for name := range p.Config.Roles {
		roleNames = append(roleNames, name)
	}
	sort.Strings(roleNames)
	for _, name := range roleNames {
		addName(name)
	}
	return names, len(srcs), nil
}

func runCodebookValidate(opts *CodebookValidateOptions) error {
	p, err := opts.Project()
	if err != nil {
		return err
	}
	cb, probs, err := codebookRead(p)
	if err != nil {
		return err
	}
	speakers, nsrc, err := codebookSpeakers(p)
	switch {
	case err != nil:
		fmt.Fprintf(opts.IO.ErrOut, "warning: speakers in scopes not checked: %s\n", oneLine(err))
	case nsrc == 0:
		// Any name may be a speaker of a source still to be ingested.
		fmt.Fprintln(opts.IO.ErrOut, "note: no sources yet, so speaker names in scopes are not checked")
	default:
		probs = append(probs, cb.CheckScope(speakers)...)
	}
	sort.SliceStable(probs, func(i, j int) bool {
		if probs[i].Line != probs[j].Line {
			return probs[i].Line < probs[j].Line
		}
		return probs[i].Col < probs[j].Col
	})
	themes, subs, codes := codebookSizes(cb)
	if opts.JSON {
		list := make([]codebookProblemJSON, 0, len(probs))
		for _, pr := range probs {
			list = append(list, codebookProblemJSON{pr.File, pr.Line, pr.Col, pr.Msg})
		}
		err := writeJSON(opts.IO.Out, struct {
			File      string                `json:"file"`
			OK        bool                  `json:"ok"`
			Problems  []codebookProblemJSON `json:"problems"`
			Themes    int                   `json:"themes"`
			Subthemes int                   `json:"subthemes"`
			Codes     int                   `json:"codes"`
		}{corpus.CodebookFile, len(probs) == 0, list, themes, subs, codes})
		if err != nil {
			return err
		}
	} else {
		for _, pr := range probs {
			fmt.Fprintln(opts.IO.Out, oneLine(pr))
		}
	}
	if len(probs) > 0 {
		return fmt.Errorf("%d %s in %s", len(probs), codebookPlural(len(probs), "problem", "problems"), corpus.CodebookFile)
	}
	if !opts.JSON {
		fmt.Fprintf(opts.IO.Out, "%s: OK (%d %s, %d %s)\n", corpus.CodebookFile,
			themes, codebookPlural(themes, "theme", "themes"), codes, codebookPlural(codes, "code", "codes"))
	}
	return nil
}

// ---- changes ----

// codebookEdit runs an edit of the project's codebook under the project
// lock, refusing a codebook with problems.
func codebookEdit(project func() (*corpus.Project, error), edit func(p *corpus.Project, ed *codebook.Editor) error) error {
	p, err := project()
	if err != nil {
		return err
	}
	unlock, err := p.Lock(10 * time.Second)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(p.Path(corpus.CodebookFile)); err == nil {
		_, probs, err := codebookRead(p)
		if err != nil {
			return err
		}
		if len(probs) > 0 {
			return codebookProblemsError(probs, "before changing the codebook")
		}
	}
	path := p.Path(corpus.CodebookFile)
	ed, err := codebook.Edit(path)
	if err != nil {
		return codebookRelErr(err, path)
	}
	return codebookRelErr(edit(p, ed), path)
}

func runCodebookAdd(opts *CodebookAddOptions) error {
	if opts.Theme && strings.TrimSpace(opts.Definition) != "" {
		return errs.New("", 0, 0, "--definition is for codes; write a theme's definition in %s", corpus.CodebookFile)
	}
	return codebookEdit(opts.Project, func(p *corpus.Project, ed *codebook.Editor) error {
		before := map[string]bool{}
		for _, n := range ed.Codebook().Codes() {
			before[n.ID] = true
		}
		var id string
		var err error
		if opts.Theme {
			if opts.Under != "" {
				if par := ed.Codebook().Node(opts.Under); par != nil && par.Level != codebook.LevelTheme {
					return errs.New(corpus.CodebookFile, par.Line, par.Col, "--theme --under %s: %q is a %s; a sub-theme goes under a theme (leave out --theme to add a code)", opts.Under, par.ID, codebookLevel(par))
				}
			}
			if id, err = ed.AddTheme(opts.Name, opts.ID); err != nil {
				return err
			}
			if opts.Under != "" {
				if err := ed.Move(id, opts.Under); err != nil {
					return err
				}
			}
		} else if id, err = ed.AddCode(opts.Under, opts.Name, opts.ID, opts.Definition); err != nil {
			return err
		}
		if err := ed.Save(); err != nil {
			return err
		}
		cb := ed.Codebook()
		n := cb.Node(id)
		for _, m := range cb.Codes() {
			if m != n && !before[m.ID] {
				fmt.Fprintf(opts.IO.ErrOut, "Added %s %q (%s) to %s\n", codebookLevel(m), m.ID, m.Name, corpus.CodebookFile)
			}
		}
		where := ""
		if n.Parent != nil {
			where = " under " + codebookPath(n.Parent)
		}
		fmt.Fprintf(opts.IO.ErrOut, "Added %s %q (%s)%s to %s\n", codebookLevel(n), n.ID, n.Name, where, corpus.CodebookFile)
		fmt.Fprintln(opts.IO.Out, n.ID)
		return nil
	})
}

func runCodebookMove(opts *CodebookMoveOptions) error {
	switch {
	case opts.ToTop && opts.Under != "":
		return errs.New("", 0, 0, "give --under PARENT_ID or --to-top, not both")
	case !opts.ToTop && opts.Under == "":
		return errs.New("", 0, 0, "say where to move %s: --under PARENT_ID, or --to-top to make it a theme", opts.ID)
	}
	return codebookEdit(opts.Project, func(p *corpus.Project, ed *codebook.Editor) error {
		n := ed.Codebook().Node(opts.ID)
		var from, level string
		if n != nil {
			from, level = "the top", codebookLevel(n)
			if n.Parent != nil {
				from = codebookPath(n.Parent)
			}
		}
		if err := ed.Move(opts.ID, opts.Under); err != nil {
			return err
		}
		if err := ed.Save(); err != nil {
			return err
		}
		m := ed.Codebook().Node(opts.ID)
		to := "the top"
		if m.Parent != nil {
			to = codebookPath(m.Parent)
		}
		if from == to {
			fmt.Fprintf(opts.IO.ErrOut, "Nothing to do: %q (%s) is already under %s\n", m.ID, m.Name, to)
			return nil
		}
		msg := fmt.Sprintf("Moved %q (%s) from %s to %s", m.ID, m.Name, from, to)
		if l := codebookLevel(m); l != level {
			msg += "; it is now a " + l
		}
		fmt.Fprintln(opts.IO.ErrOut, msg)
		return nil
	})
}

// codebookHasCodings reports whether any coder has codings of code.
func codebookHasCodings(store analysis.Store, code string) (bool, error) {
	all, err := store.LoadAll()
	if err != nil {
		return false, err
	}
	for _, cs := range all {
		for _, c := range cs {
			if c.Code == code {
				return true, nil
			}
		}
	}
	return false, nil
}

// codebookCarried describes what Recode did, such as "5 codings carried
// (alice 3, bob 2)", or "" when there were none.
func codebookCarried(counts []analysis.RecodeCount, into string) string {
	total, joined := 0, 0
	var parts []string
	for _, c := range counts {
		total += c.Carried
		joined += c.Joined
		parts = append(parts, fmt.Sprintf("%s %d", c.Coder, c.Carried))
	}
	if total == 0 {
		return ""
	}
	s := fmt.Sprintf("%d %s carried to %q (%s)", total, codebookPlural(total, "coding", "codings"), into, strings.Join(parts, ", "))
	if joined > 0 {
		s += fmt.Sprintf(", %d of them joined to the same text already coded %q", joined, into)
	}
	return s
}

// codebookRecode carries codings from one id to another around saving the
// codebook (nil when it needs no saving), as analysis.Recode describes.
func codebookRecode(p *corpus.Project, from, to string, shift int, save func() error, after func(int, string) error) ([]analysis.RecodeCount, error) {
	r := analysis.Recode{
		Store:        analysis.Store{Dir: p.Path(corpus.CodingsDir)},
		IDs:          map[string]string{from: to},
		RuleShift:    map[string]int{from: shift},
		SaveCodebook: save,
		AfterWrite:   after,
	}
	counts, err := r.Run()
	if errors.Is(err, analysis.ErrRecodeUnfinished) {
		return counts, fmt.Errorf("%w; run the same command again to finish", err)
	}
	return counts, err
}

func runCodebookRename(opts *CodebookRenameOptions) error {
	if strings.TrimSpace(opts.NewName) == "" && opts.NewID == "" {
		return errs.New("", 0, 0, "give a NEW_NAME, a new id with --id, or both")
	}
	return codebookEdit(opts.Project, func(p *corpus.Project, ed *codebook.Editor) error {
		cb := ed.Codebook()
		store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
		if cb.Node(opts.ID) == nil && opts.NewID != "" && cb.Node(opts.NewID) != nil {
			// The codebook has the new id and not the old: a rename that was
			// stopped after saving the codebook. Finish carrying the codings.
			left, err := codebookHasCodings(store, opts.ID)
			if err != nil {
				return err
			}
			if left {
				if opts.NewName != "" {
					if _, err := ed.Rename(opts.NewID, opts.NewName, ""); err != nil {
						return err
					}
				}
				counts, err := codebookRecode(p, opts.ID, opts.NewID, 0, ed.Save, opts.afterWrite)
				if err != nil {
					return err
				}
				fmt.Fprintf(opts.IO.ErrOut, "Finished an interrupted rename of %q to %q: %s\n", opts.ID, opts.NewID, codebookCarried(counts, opts.NewID))
				return nil
			}
			if m := cb.Node(opts.NewID); opts.NewName == "" || m.Name == strings.TrimSpace(opts.NewName) {
				fmt.Fprintf(opts.IO.ErrOut, "Nothing to do: %q is renamed to %q already, and no codings of %q are left\n", opts.ID, opts.NewID, opts.ID)
				return nil
			}
		}
		n := cb.Node(opts.ID)
		var oldName string
		if n != nil {
			oldName = n.Name
		}
		changes, err := ed.Rename(opts.ID, opts.NewName, opts.NewID)
		if err != nil {
			return err
		}
		newID := opts.ID
		if to, ok := changes[opts.ID]; ok {
			newID = to
		}
		m := ed.Codebook().Node(newID)
		var what []string
		if m.Name != oldName {
			what = append(what, fmt.Sprintf("name %q -> %q", oldName, m.Name))
		}
		if newID != opts.ID {
			what = append(what, fmt.Sprintf("id -> %q", newID))
		}
		if len(what) == 0 {
			fmt.Fprintf(opts.IO.ErrOut, "Nothing to change: %q is named %q already\n", opts.ID, m.Name)
			return nil
		}
		msg := fmt.Sprintf("Renamed %s %q: %s", codebookLevel(m), opts.ID, strings.Join(what, ", "))
		if newID == opts.ID {
			if err := ed.Save(); err != nil {
				return err
			}
			fmt.Fprintln(opts.IO.ErrOut, msg)
			return nil
		}
		counts, err := codebookRecode(p, opts.ID, newID, 0, ed.Save, opts.afterWrite)
		if err != nil {
			return err
		}
		if c := codebookCarried(counts, newID); c != "" {
			msg += "; " + c
		}
		fmt.Fprintln(opts.IO.ErrOut, msg)
		return nil
	})
}

func runCodebookMerge(opts *CodebookMergeOptions) error {
	return codebookEdit(opts.Project, func(p *corpus.Project, ed *codebook.Editor) error {
		cb := ed.Codebook()
		from, into := cb.Node(opts.From), cb.Node(opts.Into)
		if from == nil && into != nil && opts.From != opts.Into {
			// FROM is gone and INTO is there: a merge that was stopped after
			// saving the codebook. Finish carrying the codings.
			left, err := codebookHasCodings(analysis.Store{Dir: p.Path(corpus.CodingsDir)}, opts.From)
			if err != nil {
				return err
			}
			if left {
				counts, err := codebookRecode(p, opts.From, opts.Into, 0, nil, opts.afterWrite)
				if err != nil {
					return err
				}
				fmt.Fprintf(opts.IO.ErrOut, "Finished an interrupted merge of %q into %q: %s\n", opts.From, opts.Into, codebookCarried(counts, opts.Into))
				return nil
			}
		}
		var shift, children, rules int
		var fromName string
		if from != nil && into != nil {
			shift, children, rules, fromName = len(into.Rules), len(from.Children), len(from.Rules), from.Name
		}
		changes, err := ed.Merge(opts.From, opts.Into)
		if err != nil {
			return err
		}
		counts, err := codebookRecode(p, opts.From, changes[opts.From], shift, ed.Save, opts.afterWrite)
		if err != nil {
			return err
		}
		m := ed.Codebook().Node(opts.Into)
		msg := fmt.Sprintf("Merged %q (%s) into %q (%s)", opts.From, fromName, m.ID, m.Name)
		if children > 0 {
			msg += fmt.Sprintf("; %d %s moved under it", children, codebookPlural(children, "node", "nodes"))
		}
		if rules > 0 {
			msg += fmt.Sprintf("; %d %s added", rules, codebookPlural(rules, "rule", "rules"))
		}
		if c := codebookCarried(counts, m.ID); c != "" {
			msg += "; " + c
		}
		fmt.Fprintln(opts.IO.ErrOut, msg)
		return nil
	})
}
