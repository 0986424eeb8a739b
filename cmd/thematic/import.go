package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

func init() { register(newImportCmd) }

func newImportCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import codings made elsewhere",
	}
	cmd.AddCommand(newImportQuotesCmd(g))
	return cmd
}

// ImportQuotesOptions are the flags of 'thematic import quotes'.
type ImportQuotesOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	File    string
	Coder   string
	Replace bool
}

func newImportQuotesCmd(g *globals) *cobra.Command {
	opts := &ImportQuotesOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "quotes FILE.csv",
		Short: "Import a coder's codings listed as exact quotes in a CSV",
		Long: `Read a CSV with the columns source, code and quote (and optionally memo),
as a co-author coding in a spreadsheet would list them, and add them as
codings of --coder. Each quote must occur exactly once in its source (text
as 'thematic show' prints it). Every row is checked first: one bad row and
nothing is written. With --replace the coder's earlier codings are replaced.`,
		Example: "  thematic import quotes --coder bob second-coder.csv",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.File = args[0]
			return runImportQuotes(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Coder, "coder", "", "the coder whose codings these are (required)")
	cmd.Flags().BoolVar(&opts.Replace, "replace", false, "replace the coder's existing codings instead of adding to them")
	return cmd
}

func runImportQuotes(opts *ImportQuotesOptions) error {
	if opts.Coder == "" {
		return errs.New("", 0, 0, "--coder is required")
	}
	if opts.Coder == analysis.AutoCoder {
		return errs.New("", 0, 0, "coder %q belongs to 'thematic autocode'", analysis.AutoCoder)
	}
	if err := analysis.ValidCoderName(opts.Coder); err != nil {
		return err
	}
	p, err := opts.Project()
	if err != nil {
		return err
	}
	f, err := os.Open(opts.File)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := analysis.ReadQuotes(opts.File, f)
	if err != nil {
		return err
	}
	cb, err := codebook.Load(p.Path(corpus.CodebookFile))
	if err != nil {
		return err
	}
	unlock, err := p.Lock(10 * time.Second)
	if err != nil {
		return err
	}
	defer unlock()
	srcs, err := p.Sources(true)
	if err != nil {
		return err
	}
	byID := map[string]*corpus.Source{}
	for _, s := range srcs {
		byID[s.ID] = s
	}
	known := func(code string) bool { return cb.Node(code) != nil }
	cs, err := analysis.CodeQuotes(opts.File, rows, byID, known, opts.Coder, analysis.OriginManual, time.Now().UTC())
	if err != nil {
		return err
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	err = store.Update(opts.Coder, func(old []analysis.Coding) ([]analysis.Coding, error) {
		if opts.Replace {
			old = nil
		}
		return append(old, cs...), nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Imported %d codings of %s from %s\n", len(cs), opts.Coder, opts.File)
	return nil
}
