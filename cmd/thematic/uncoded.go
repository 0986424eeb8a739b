package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis/suggest"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// UncodedOptions are the flags of 'thematic uncoded'.
type UncodedOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	Coders  []string
	Unit    string
	Roles   []string
	Summary bool
	JSON    bool
}

func init() { register(newUncodedCmd) }

func newUncodedCmd(g *globals) *cobra.Command {
	opts := &UncodedOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "uncoded",
		Short: "List the segments no code covers, with the share uncoded per source and case",
		Long: `List the segments (sentences by default) that no coding touches, then the
share of segments and of words left uncoded per source, per case and in all.
A segment counts as coded when any coding of the chosen coders (all coders
by default) overlaps it, however little; orphaned codings do not count.
Only the words of speakers with the given roles are considered (participants
by default).

To read what the uncoded text is about, try 'thematic suggest --uncoded'.`,
		Example: `  thematic uncoded
  thematic uncoded --coder alice --unit paragraph
  thematic uncoded --roles participant,interviewer --summary
  thematic uncoded --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runUncoded(opts) },
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Coders, "coder", nil, "codings of these coders count (default: every coder's)")
	f.StringVar(&opts.Unit, "unit", corpus.UnitSentence, "segments: turn, paragraph or sentence")
	f.StringSliceVar(&opts.Roles, "roles", []string{corpus.RoleParticipant}, "only speakers with these roles")
	f.BoolVar(&opts.Summary, "summary", false, "print only the shares, not the segments")
	f.BoolVar(&opts.JSON, "json", false, "print the segments and shares as JSON")
	return cmd
}

func runUncoded(opts *UncodedOptions) error {
	if err := checkUnit(opts.Unit); err != nil {
		return err
	}
	if err := suggestCheckRoles(opts.Roles); err != nil {
		return err
	}
	p, err := opts.Project()
	if err != nil {
		return err
	}
	srcs, err := p.Sources(true)
	if err != nil {
		return err
	}
	if len(srcs) == 0 {
		return errs.New("", 0, 0, "no sources yet; add some with 'thematic ingest'")
	}
	codings, err := suggestLoadCodings(p, opts.Coders)
	if err != nil {
		return err
	}
	rep := suggest.Uncoded(srcs, codings, opts.Unit, opts.Roles)
	if opts.JSON {
		return writeJSON(opts.IO.Out, rep)
	}
	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		return err
	}
	byID := map[string]*corpus.Source{}
	for _, s := range srcs {
		byID[s.ID] = s
	}
	w := opts.IO.Out
	color := opts.IO.Color()
	if !opts.Summary {
		for _, u := range rep.Segments {
			src := byID[u.Source]
			where := fmt.Sprintf("%s:%s L%d %s", u.Source, u.Segment, u.Line, corpus.Citation(p.Config.Citation, src, corpus.CaseAttrs(src, cases)))
			if u.Speaker != "" {
				where += " " + u.Speaker
			}
			fmt.Fprintf(w, "%s\n    %s\n", style(color, ansiDim, where), suggestShorten(u.Text, 200))
		}
		if len(rep.Segments) > 0 {
			fmt.Fprintln(w)
		}
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "\tSEGMENTS\tUNCODED\t%\tWORDS\tUNCODED\t%")
	row := func(label string, s suggest.Share) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%d\t%d\t%.1f\n", label, s.Segments, s.Uncoded, s.Percent(), s.Words, s.UncodedWords, s.WordsPercent())
	}
	for _, s := range rep.BySource {
		row("source "+s.Key, s)
	}
	for _, s := range rep.ByCase {
		row("case "+s.Key, s)
	}
	row("all", rep.Total)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "%d of %d %ss uncoded (%.1f%%)\n", rep.Total.Uncoded, rep.Total.Segments, opts.Unit, rep.Total.Percent())
	return nil
}
