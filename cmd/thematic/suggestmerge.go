package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis/suggest"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// AcceptSuggestionsOptions are the flags of 'thematic accept-suggestions'.
// The issue asked for 'thematic codebook merge FILE', but 'codebook merge'
// already merges two codes; a command of its own keeps the two apart.
type AcceptSuggestionsOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	File    string
	Under   string
	DryRun  bool
	JSON    bool
}

func init() { register(newAcceptSuggestionsCmd) }

func newAcceptSuggestionsCmd(g *globals) *cobra.Command {
	opts := &AcceptSuggestionsOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "accept-suggestions FILE",
		Short: "Add the suggestions kept in a suggestions file to the codebook",
		Long: `Add to codebook.yaml every suggestion marked keep: true in a file written by
'thematic suggest --out FILE', as a code with the name and definition given
there and its words as a first rule (single words as a words rule, phrases
as phrase rules). The rest of the codebook, comments included, stays as it
was written.

A code goes under the theme or sub-theme named by its "under" (an id, or a
name), else the file's "under", else --under, else the theme
"Uncategorised"; a name no theme or sub-theme has makes a new theme. Either
every kept suggestion is added or, on a problem, none is.`,
		Example: `  thematic suggest --out suggestions.yaml
  # edit suggestions.yaml: keep: true, names, definitions, words, under
  thematic accept-suggestions suggestions.yaml
  thematic accept-suggestions --under "Emerging codes" --dry-run suggestions.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return runAcceptSuggestions(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Under, "under", "", "theme or sub-theme (id or name) for suggestions that name none")
	f.BoolVar(&opts.DryRun, "dry-run", false, "show what would be added; change nothing")
	f.BoolVar(&opts.JSON, "json", false, "print the codes added as JSON")
	return cmd
}

func runAcceptSuggestions(opts *AcceptSuggestionsOptions) error {
	p, err := opts.Project()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(opts.File)
	if errors.Is(err, fs.ErrNotExist) {
		return errs.New(opts.File, 0, 0, "no such file; make one with 'thematic suggest --out %s'", opts.File)
	}
	if err != nil {
		return err
	}
	file, err := suggest.ParseFile(opts.File, data)
	if err != nil {
		return err
	}
	unlock, err := p.Lock(10 * time.Second)
	if err != nil {
		return err
	}
	defer unlock()
	ed, err := codebook.Edit(p.Path(corpus.CodebookFile))
	if err != nil {
		return err
	}
	added, err := suggest.Accept(ed, file, opts.File, opts.Under)
	if err != nil {
		return err
	}
	if !opts.DryRun {
		if err := ed.Save(); err != nil {
			return err
		}
	}
	if opts.JSON {
		if added == nil {
			added = []suggest.Added{}
		}
		return writeJSON(opts.IO.Out, added)
	}
	for _, a := range added {
		fmt.Fprintf(opts.IO.Out, "%s\t%s\tunder %s", a.ID, a.Name, a.Parent)
		if len(a.Words) > 0 {
			fmt.Fprintf(opts.IO.Out, "\twords: %q", a.Words)
		}
		fmt.Fprintln(opts.IO.Out)
	}
	switch {
	case len(added) == 0:
		fmt.Fprintf(opts.IO.ErrOut, "nothing kept in %s: set keep: true on the suggestions to add\n", opts.File)
	case opts.DryRun:
		fmt.Fprintf(opts.IO.ErrOut, "would add %d codes to %s (dry run: nothing changed)\n", len(added), corpus.CodebookFile)
	default:
		fmt.Fprintf(opts.IO.ErrOut, "added %d codes to %s; run 'thematic autocode' to apply their rules\n", len(added), corpus.CodebookFile)
	}
	return nil
}
