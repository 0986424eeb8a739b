package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis"
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
	ids, err := p.SourceIDs()
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return errs.New("", 0, 0, "no sources yet; add some with 'thematic ingest'")
	}
	sc := suggest.NewUncodedScan(opts.Unit, opts.Roles)
	err = uncodedCodings(p, opts.Coders, func(cs []analysis.Coding) error {
		sc.Cover(cs)
		return nil
	})
	if err != nil {
		return err
	}
	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		return err
	}
	// The sources are read one at a time and each uncoded segment written
	// as it is found: the listing of a large corpus is long.
	bw := bufio.NewWriter(opts.IO.Out)
	if opts.JSON {
		bw.WriteString("{\n  \"segments\": [")
	}
	n := 0
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	enc.SetIndent("    ", "  ")
	color := opts.IO.Color()
	err = uncodedSources(p, ids, func(src *corpus.Source) error {
		return sc.Source(src, func(u *suggest.UncodedSegment) error {
			n++
			switch {
			case opts.JSON:
				js.Reset()
				if err := enc.Encode(u); err != nil {
					return err
				}
				if n > 1 {
					bw.WriteByte(',')
				}
				bw.WriteString("\n    ")
				bw.Write(bytes.TrimSuffix(js.Bytes(), []byte("\n")))
			case !opts.Summary:
				where := fmt.Sprintf("%s:%s L%d %s", u.Source, u.Segment, u.Line, corpus.Citation(p.Config.Citation, src, corpus.CaseAttrs(src, cases)))
				if u.Speaker != "" {
					where += " " + u.Speaker
				}
				fmt.Fprintf(bw, "%s\n    %s\n", style(color, ansiDim, where), suggestShorten(u.Text, 200))
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	rep := sc.Report()
	if opts.JSON {
		// The rest of the report as writeJSON writes it, after the segments.
		js.Reset()
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			BySource []suggest.Share `json:"by_source"`
			ByCase   []suggest.Share `json:"by_case"`
			Total    suggest.Share   `json:"total"`
		}{rep.BySource, rep.ByCase, rep.Total}); err != nil {
			return err
		}
		if n > 0 {
			bw.WriteString("\n  ")
		}
		bw.WriteString("],\n")
		bw.Write(bytes.TrimPrefix(js.Bytes(), []byte("{\n")))
		return bw.Flush()
	}
	if !opts.Summary && n > 0 {
		fmt.Fprintln(bw)
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	w := opts.IO.Out
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

// uncodedCodings hands fn the codings of the given coders (all when none
// are named), a batch at a time; a coder without a file is an error naming
// the coders there are.
func uncodedCodings(p *corpus.Project, coders []string, fn func([]analysis.Coding) error) error {
	have, err := analysis.Store{Dir: p.Path(corpus.CodingsDir)}.Coders()
	if err != nil {
		return err
	}
	if len(coders) == 0 {
		coders = have
	}
	for _, c := range coders {
		if !slices.Contains(have, c) {
			return errs.New("", 0, 0, "no coder %q (coders: %s)", c, orDash(strings.Join(have, ", ")))
		}
	}
	for _, c := range coders {
		if err := agreeEachBatch(p, c, nil, fn); err != nil {
			return err
		}
	}
	return nil
}

// uncodedSources calls fn with each source of ids, in order, with its text
// and segments, reading a few ahead on other goroutines; only those few
// are in memory at once.
func uncodedSources(p *corpus.Project, ids []string, fn func(*corpus.Source) error) error {
	return corpus.ReadAhead(len(ids), func(i int) (*corpus.Source, error) { return p.Source(ids[i], true) },
		func(_ int, src *corpus.Source) error { return fn(src) })
}
