package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/corpus"
)

// SourcesOptions are the flags of 'thematic sources'.
type SourcesOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	JSON    bool
}

func init() { register(newSourcesCmd) }

func newSourcesCmd(g *globals) *cobra.Command {
	opts := &SourcesOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:     "sources",
		Short:   "List the project's sources",
		Example: "  thematic sources\n  thematic sources --json",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return runSources(opts) },
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

// sourceRow is one source as listed.
type sourceRow struct {
	ID       string            `json:"id"`
	Kind     string            `json:"kind"`
	Number   int               `json:"number"`
	Citation string            `json:"citation"`
	Case     string            `json:"case"`
	Format   string            `json:"format"`
	Turns    int               `json:"turns"`
	Words    int               `json:"words"`
	Speakers []corpus.Speaker  `json:"speakers"`
	Attrs    map[string]string `json:"attributes"`
	Path     string            `json:"original_path"`
}

func runSources(opts *SourcesOptions) error {
	p, err := opts.Project()
	if err != nil {
		return err
	}
	srcs, err := p.SourceInfos()
	if err != nil {
		return err
	}
	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		return err
	}
	rows := make([]sourceRow, 0, len(srcs))
	for i := range srcs {
		s := &srcs[i].Source
		attrs := corpus.CaseAttrs(s, cases)
		turns := srcs[i].Units[corpus.UnitTurn]
		rows = append(rows, sourceRow{s.ID, s.Kind, s.Number, corpus.Citation(p.Config.Citation, s, attrs), s.Case, s.Format, turns, s.Words, s.Speakers, attrs, s.OrigPath})
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, rows)
	}
	tw := newTable(opts.IO.Out)
	fmt.Fprintln(tw, "ID\tCITATION\tCASE\tFORMAT\tTURNS\tWORDS\tATTRIBUTES")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", r.ID, r.Citation, r.Case, r.Format, r.Turns, r.Words, formatAttrs(r.Attrs))
	}
	return tw.Flush()
}
