package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

// UncodeOptions are the flags of 'thematic uncode'.
type UncodeOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	CodeSelection
	Code  string
	Coder string
	Exact bool
	JSON  bool
	// Getenv reads the environment ($THEMATIC_CODER); os.Getenv when nil.
	Getenv func(string) string
}

func init() { register(newUncodeCmd) }

func newUncodeCmd(g *globals) *cobra.Command {
	opts := &UncodeOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "uncode SOURCE[:SEGMENT] CODE",
		Short: "Remove a coder's codings of a code from a segment, lines, a quote or a span",
		Long: `Remove the coder's codings of CODE that overlap the text selected (as for
'thematic code': SOURCE:SEGMENT, --lines, --match or --span), or with
--exact only those covering exactly that text. Other coders' codings and
other codes are never touched. Prints what was removed and how many.

Orphaned codings (whose words were lost when their source changed) are
left alone: their positions no longer mean anything in the new text.`,
		Example: `  thematic uncode p01-wave1:t8.p1 welcome
  thematic uncode p01-wave1 welcome --lines 15-17 --coder bob
  thematic uncode p01-wave1 welcome --match "showed me round" --exact`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Target, opts.Code = args[0], args[1]
			return runUncode(opts)
		},
	}
	codeSelectionFlags(cmd, &opts.CodeSelection)
	f := cmd.Flags()
	f.StringVar(&opts.Coder, "coder", "", "whose codings (default: $THEMATIC_CODER, then coder: in thematic.yaml)")
	f.BoolVar(&opts.Exact, "exact", false, "remove only codings of exactly the selected text")
	f.BoolVar(&opts.JSON, "json", false, "print the removed codings as JSON")
	return cmd
}

func runUncode(opts *UncodeOptions) error {
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
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	var removed []analysis.Coding
	err = store.Update(coder, func(cs []analysis.Coding) ([]analysis.Coding, error) {
		keep := cs[:0:0]
		for _, c := range cs {
			hit := !c.Orphan && c.Source == src.ID && c.Code == opts.Code
			if opts.Exact {
				hit = hit && c.Start == sel.start && c.End == sel.end
			} else {
				hit = hit && c.Start < sel.end && sel.start < c.End
			}
			if hit {
				removed = append(removed, c)
			} else {
				keep = append(keep, c)
			}
		}
		if len(removed) == 0 {
			return nil, errUncodeNothing
		}
		return keep, nil
	})
	if err != nil && err != errUncodeNothing {
		return err
	}
	if opts.JSON {
		if removed == nil {
			removed = []analysis.Coding{}
		}
		return writeJSON(opts.IO.Out, struct {
			Removed []analysis.Coding `json:"removed"`
		}{removed})
	}
	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		return err
	}
	citation := corpus.Citation(p.Config.Citation, src, corpus.CaseAttrs(src, cases))
	text := []rune(src.Text)
	for _, c := range removed {
		codePrintCoding(opts.IO, "removed", c, citation, text)
	}
	how := "overlapping"
	if opts.Exact {
		how = "of exactly"
	}
	switch len(removed) {
	case 0:
		fmt.Fprintf(opts.IO.ErrOut, "Removed nothing: %s has no codings of %s in %s %s %d-%d\n", coder, opts.Code, src.ID, how, sel.start, sel.end)
	case 1:
		fmt.Fprintf(opts.IO.ErrOut, "Removed 1 coding of %s by %s\n", opts.Code, coder)
	default:
		fmt.Fprintf(opts.IO.ErrOut, "Removed %d codings of %s by %s\n", len(removed), opts.Code, coder)
	}
	return nil
}

// errUncodeNothing stops Store.Update from rewriting a file it would not
// change.
var errUncodeNothing = fmt.Errorf("nothing to remove")
