package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/corpus"
)

// ReindexOptions are the flags of 'thematic reindex'.
type ReindexOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
}

func init() { register(newReindexCmd) }

func newReindexCmd(g *globals) *cobra.Command {
	opts := &ReindexOptions{IO: g.ios, Project: g.project}
	return &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the search index from the sources",
		Long: `Delete and rebuild the search index in .thematic/. The index is derived from
sources/ and is brought up to date automatically when needed; this forces a
full rebuild.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runReindex(opts) },
	}
}

func runReindex(opts *ReindexOptions) error {
	p, err := opts.Project()
	if err != nil {
		return err
	}
	unlock, err := p.Lock(30 * time.Second)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.RemoveAll(p.IndexDir()); err != nil {
		return err
	}
	start := time.Now()
	report, done := progress(opts.IO, "indexing")
	ix, err := p.OpenIndex(report)
	done()
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "Rebuilt the index in %.1fs\n", time.Since(start).Seconds())
	return ix.Close()
}
