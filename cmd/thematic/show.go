package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/internal/errs"
)

// ShowOptions are the flags of 'thematic show'.
type ShowOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	Source  string
	Unit    string
	JSON    bool
}

func init() { register(newShowCmd) }

func newShowCmd(g *globals) *cobra.Command {
	opts := &ShowOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "show SOURCE",
		Short: "Print a source with its segment ids and line numbers",
		Long: `Print a source's text, one segment per block, each headed by its id (to use
with 'thematic code SOURCE:SEGMENT CODE'), its lines, speaker and time.`,
		Example: "  thematic show p01-wave1\n  thematic show --unit sentence p01-wave1\n  thematic show --json p01-wave1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Source = args[0]
			return runShow(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Unit, "unit", corpus.UnitParagraph, "segments to show: turn, paragraph or sentence")
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the source's metadata and segments (with their text) as JSON")
	return cmd
}

func checkUnit(u string) error {
	switch u {
	case corpus.UnitTurn, corpus.UnitParagraph, corpus.UnitSentence:
		return nil
	}
	return errs.New("", 0, 0, "--unit %q: use turn, paragraph or sentence", u)
}

func runShow(opts *ShowOptions) error {
	if err := checkUnit(opts.Unit); err != nil {
		return err
	}
	p, err := opts.Project()
	if err != nil {
		return err
	}
	src, err := p.Source(opts.Source, true)
	if err != nil {
		return err
	}
	text := []rune(src.Text)
	if opts.JSON {
		type seg struct {
			corpus.Segment
			Text string `json:"text"`
		}
		segs := make([]seg, 0, len(src.Segments))
		for _, s := range src.Segments {
			if s.Unit == opts.Unit {
				segs = append(segs, seg{s, string(text[s.Start:s.End])})
			}
		}
		out := *src
		out.Segments = nil
		return writeJSON(opts.IO.Out, struct {
			*corpus.Source
			Segments []seg `json:"segments"`
		}{&out, segs})
	}
	color := opts.IO.Color()
	w := opts.IO.Out
	fmt.Fprintf(w, "%s  %s  %s  case %s  %s\n\n", style(color, ansiBold, src.ID), src.Title, src.Kind, orDash(src.Case), formatAttrs(src.Attrs))
	for _, s := range src.Segments {
		if s.Unit != opts.Unit {
			continue
		}
		head := fmt.Sprintf("%s  L%d", s.ID, s.Line)
		if s.EndLine > s.Line {
			head = fmt.Sprintf("%s  L%d-%d", s.ID, s.Line, s.EndLine)
		}
		var who []string
		if s.Time != "" {
			who = append(who, "["+s.Time+"]")
		}
		if s.Date != "" {
			who = append(who, s.Date)
		}
		if s.Speaker != "" {
			who = append(who, s.Speaker+" ("+s.Role+")")
		}
		fmt.Fprintf(w, "%s  %s\n", style(color, ansiDim, head), strings.Join(who, " "))
		for _, line := range strings.Split(string(text[s.Start:s.End]), "\n") {
			fmt.Fprintf(w, "    %s\n", line)
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
