package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/corpus"
)

// SearchOptions are the flags of 'thematic search'.
type SearchOptions struct {
	IO       *IOStreams
	Project  func() (*corpus.Project, error)
	Query    string
	Kinds    []string
	Cases    []string
	Speakers []string
	Roles    []string
	Sources  []string
	Attrs    []string
	Limit    int
	Context  int
	JSON     bool
}

func init() { register(newSearchCmd) }

func newSearchCmd(g *globals) *cobra.Command {
	opts := &SearchOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "search QUERY",
		Short: "Search the sources, with keyword-in-context",
		Long: `Search paragraphs of the sources with bleve's query-string syntax:
  words          any of them (ranked)      "a phrase"     the words in order
  +must -not     required and excluded     garden*        wildcard
  grow~1         fuzzy, one edit away      speaker:Ana    a field

Words are matched as analysed for the project's language (stemming; curly and
straight apostrophes alike; accents folded if thematic.yaml says so). Each hit
prints a citation and the match in context; --json gives the exact code-point
offsets of every matched word in the source text.`,
		Example: `  thematic search shed
  thematic search '"on my own" +plot' --role participant
  thematic search --attr wave=3 --case P02 harvest
  thematic search --json --limit 5 compost`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Query = strings.Join(args, " ")
			return runSearch(opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Kinds, "kind", nil, "only sources of these kinds")
	f.StringSliceVar(&opts.Cases, "case", nil, "only these cases")
	f.StringSliceVar(&opts.Speakers, "speaker", nil, "only these speakers")
	f.StringSliceVar(&opts.Roles, "role", nil, "only these roles (interviewer, participant, other)")
	f.StringSliceVar(&opts.Sources, "source", nil, "only these sources")
	f.StringArrayVar(&opts.Attrs, "attr", nil, "only sources with attribute `key=value` (repeatable)")
	f.IntVar(&opts.Limit, "limit", 20, "at most this many hits (0: all)")
	f.IntVar(&opts.Context, "context", 40, "characters of context either side")
	f.BoolVar(&opts.JSON, "json", false, "print hits as JSON")
	return cmd
}

// searchHit is one hit as printed by --json.
type searchHit struct {
	Source   string        `json:"source"`
	Segment  string        `json:"segment"`
	Citation string        `json:"citation"`
	Case     string        `json:"case,omitempty"`
	Speaker  string        `json:"speaker,omitempty"`
	Line     int           `json:"line"`
	Start    int           `json:"start"`
	End      int           `json:"end"`
	Text     string        `json:"text"`
	Matches  []corpus.Span `json:"matches"`
	Score    float64       `json:"score"`
}

func runSearch(opts *SearchOptions) error {
	p, err := opts.Project()
	if err != nil {
		return err
	}
	attrs, err := parseAttrs("--attr", opts.Attrs)
	if err != nil {
		return err
	}
	unlock, err := p.Lock(30 * time.Second)
	if err != nil {
		return err
	}
	report, done := progress(opts.IO, "indexing")
	ix, err := p.OpenIndex(report)
	done()
	unlock()
	if err != nil {
		return err
	}
	defer ix.Close()
	hits, total, err := ix.Search(corpus.SearchRequest{
		Query: opts.Query, Kinds: opts.Kinds, Cases: opts.Cases, Speakers: opts.Speakers,
		Roles: opts.Roles, Sources: opts.Sources, Attrs: attrs, Limit: opts.Limit,
	})
	if err != nil {
		return err
	}
	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		return err
	}
	// Each source of the hits is read once (sidecar and text), one at a
	// time, so that --limit 0 over a large project holds the hits' texts
	// but never all the sources.
	order := make([]int, len(hits))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return hits[order[a]].Source < hits[order[b]].Source })
	out := make([]searchHit, len(hits))
	var src *corpus.Source
	for _, i := range order {
		h := hits[i]
		if src == nil || src.ID != h.Source {
			if src, err = p.Source(h.Source, true); err != nil {
				return err
			}
		}
		seg := findSegment(src, h.Segment)
		out[i] = searchHit{
			Source: h.Source, Segment: h.Segment,
			Citation: corpus.Citation(p.Config.Citation, src, corpus.CaseAttrs(src, cases)),
			Case:     src.Case, Speaker: seg.Speaker, Line: seg.Line,
			Start: h.SegStart, End: h.SegEnd, Text: searchSpan(src.Text, h.SegStart, h.SegEnd),
			Matches: h.Matches, Score: h.Score,
		}
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, struct {
			Query string      `json:"query"`
			Total int         `json:"total"`
			Hits  []searchHit `json:"hits"`
		}{opts.Query, total, out})
	}
	color := opts.IO.Color()
	for _, h := range out {
		m := corpus.Span{Start: h.Start, End: h.Start}
		if len(h.Matches) > 0 {
			m = h.Matches[0]
		}
		// Context stays inside the hit's segment: a neighbouring turn's label
		// is not context.
		left, match, right := corpus.KWIC(h.Text, corpus.Span{Start: m.Start - h.Start, End: m.End - h.Start}, opts.Context)
		where := fmt.Sprintf("%s:%s L%d %s", h.Source, h.Segment, h.Line, h.Citation)
		if h.Speaker != "" {
			where += " " + h.Speaker
		}
		fmt.Fprintf(opts.IO.Out, "%s\n    %s%s%s\n", style(color, ansiDim, where), left, style(color, ansiMatch, match), right)
	}
	fmt.Fprintf(opts.IO.ErrOut, "%d of %d hits\n", len(out), total)
	return nil
}

// searchSpan returns the code points [start, end) of text, clamped to it,
// without converting the whole text.
func searchSpan(text string, start, end int) string {
	cp, from := 0, len(text)
	for i := range text {
		if cp == start {
			from = i
		}
		if cp == end {
			return text[min(from, i):i]
		}
		cp++
	}
	if cp == start {
		from = len(text)
	}
	return text[min(from, len(text)):]
}

// findSegment returns the segment with id, or a zero segment.
func findSegment(src *corpus.Source, id string) corpus.Segment {
	for _, s := range src.Segments {
		if s.ID == id {
			return s
		}
	}
	return corpus.Segment{}
}
