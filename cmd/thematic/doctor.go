package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
)

// DoctorOptions are the flags of 'thematic doctor'.
type DoctorOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	JSON    bool
}

func init() { register(newDoctorCmd) }

func newDoctorCmd(g *globals) *cobra.Command {
	opts := &DoctorOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the project: texts, codings, codebook and index",
		Long: `Check everything that can go wrong in a project and say what to do:
- each source's text matches the hash in its sidecar;
- the codebook parses (every problem, with its line and column);
- every coding lies on a known source, its offsets slice exactly its quote,
  and its code is in the codebook; orphaned codings (text changed and the
  quote not found again) are listed;
- the search index is brought up to date (it is derived, so this repairs it).
Exits with status 1 when a problem is found.`,
		Example: "  thematic doctor\n  thematic doctor --json",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return runDoctor(opts) },
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the findings as JSON")
	return cmd
}

// doctorFinding is one problem found.
type doctorFinding struct {
	What  string `json:"what"` // source, codebook, coding, orphan, index
	Where string `json:"where"`
	Msg   string `json:"message"`
}

func runDoctor(opts *DoctorOptions) error {
	p, err := opts.Project()
	if err != nil {
		return err
	}
	var found []doctorFinding
	add := func(what, where, format string, args ...any) {
		found = append(found, doctorFinding{what, where, fmt.Sprintf(format, args...)})
	}
	ids, err := p.SourceIDs()
	if err != nil {
		return err
	}
	texts := map[string]*analysis.TextIndex{}
	for _, id := range ids {
		src, err := p.Source(id, true)
		if err != nil {
			add("source", id, "%s", oneLine(err))
			continue
		}
		texts[id] = analysis.NewTextIndex(src.Text)
	}
	cbPath := p.Path(corpus.CodebookFile)
	var cb *codebook.Codebook
	if data, err := os.ReadFile(cbPath); err != nil {
		add("codebook", corpus.CodebookFile, "%s", oneLine(err))
	} else {
		parsed, problems := codebook.Parse(cbPath, data)
		for _, pr := range problems {
			add("codebook", corpus.CodebookFile, "%s", oneLine(pr))
		}
		if len(problems) == 0 {
			cb = parsed
		}
	}
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	coders, err := store.Coders()
	if err != nil {
		return err
	}
	for _, coder := range coders {
		cs, err := store.Load(coder)
		if err != nil {
			add("coding", coder, "%s", oneLine(err))
			continue
		}
		for _, c := range cs {
			where := fmt.Sprintf("%s %s [%d,%d)", coder, c.Source, c.Start, c.End)
			ti := texts[c.Source]
			switch {
			case ti == nil:
				add("coding", where, "source %q is not in the project (removed?); code %s, quote %q", c.Source, c.Code, clip(c.Quote, 60))
			case c.Orphan:
				add("orphan", where, "quote %q was not found again after the source changed; recode it or remove it with 'thematic uncode'", clip(c.Quote, 60))
			case ti.Slice(c.Start, c.End) != c.Quote:
				add("coding", where, "offsets no longer slice the quote %q; re-ingest the source to re-anchor", clip(c.Quote, 60))
			}
			if cb != nil && cb.Node(c.Code) == nil {
				add("coding", where, "code %q is not in the codebook", c.Code)
			}
		}
	}
	if unlock, err := p.Lock(30 * time.Second); err != nil {
		add("index", corpus.CacheDir, "%s", oneLine(err))
	} else {
		start := time.Now()
		ix, err := p.OpenIndex(nil)
		if err != nil {
			add("index", corpus.CacheDir, "%s", oneLine(err))
		} else {
			ix.Close()
			fmt.Fprintf(opts.IO.ErrOut, "Index up to date (%.1fs)\n", time.Since(start).Seconds())
		}
		unlock()
	}
	if opts.JSON {
		if err := writeJSON(opts.IO.Out, found); err != nil {
			return err
		}
	} else {
		for _, f := range found {
			fmt.Fprintf(opts.IO.Out, "%s\t%s\t%s\n", f.What, f.Where, f.Msg)
		}
	}
	if len(found) > 0 {
		return fmt.Errorf("%d problems found", len(found))
	}
	fmt.Fprintln(opts.IO.ErrOut, "No problems found")
	return nil
}

// clip shortens s to n code points with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
