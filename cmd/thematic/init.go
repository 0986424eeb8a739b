package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/corpus"
)

// InitOptions are the flags of 'thematic init'.
type InitOptions struct {
	IO   *IOStreams
	Dir  string
	Name string
}

func init() { register(newInitCmd) }

func newInitCmd(g *globals) *cobra.Command {
	opts := &InitOptions{IO: g.ios}
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Make a new project folder",
		Long: `Make a project folder: thematic.yaml (settings), codebook.yaml (a stub),
sources/, codings/, memos/ and the derived cache .thematic/ (git-ignored).`,
		Example: `  thematic init study
  thematic init --name "Growing together" .`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Dir = "."
			if g.Dir != "" {
				opts.Dir = g.Dir
			}
			if len(args) == 1 {
				opts.Dir = args[0]
			}
			return runInit(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "the study's name (default: the folder's name)")
	return cmd
}

func runInit(opts *InitOptions) error {
	p, err := corpus.Init(opts.Dir, opts.Name)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Made project %q in %s\n", p.Config.Name, p.Root)
	fmt.Fprintf(opts.IO.ErrOut, "Next: thematic -C %s ingest FILES...\n", opts.Dir)
	return nil
}
