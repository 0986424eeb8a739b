package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
)

// StatusOptions are the flags of 'thematic status'.
type StatusOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	JSON    bool
}

func init() { register(newStatusCmd) }

func newStatusCmd(g *globals) *cobra.Command {
	opts := &StatusOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Summarise the project: sources, codebook, codings, orphans",
		Example: "  thematic status\n  thematic status --json",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return runStatus(opts) },
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

// projectStatus is what 'thematic status' reports.
type projectStatus struct {
	Name     string         `json:"name"`
	Root     string         `json:"root"`
	Sources  int            `json:"sources"`
	Kinds    map[string]int `json:"kinds"`
	Cases    int            `json:"cases"`
	Words    int            `json:"words"`
	Segments map[string]int `json:"segments"`
	Codebook struct {
		Themes    int    `json:"themes"`
		Subthemes int    `json:"subthemes"`
		Codes     int    `json:"codes"`
		Problem   string `json:"problem,omitempty"`
	} `json:"codebook"`
	Coders   map[string]int `json:"codings"`
	Orphaned map[string]int `json:"orphaned"`
	Problems []string       `json:"problems,omitempty"`
}

func runStatus(opts *StatusOptions) error {
	p, err := opts.Project()
	if err != nil {
		return err
	}
	st := projectStatus{Name: p.Config.Name, Root: p.Root, Kinds: map[string]int{}, Segments: map[string]int{},
		Coders: map[string]int{}, Orphaned: map[string]int{}}
	// Summaries and counts come from caches in .thematic/ (checked against
	// the sidecars and codings files), so status stays quick on large
	// projects.
	srcs, err := p.SourceInfos()
	if err != nil {
		return err
	}
	cases := map[string]bool{}
	for _, s := range srcs {
		st.Sources++
		st.Kinds[s.Kind]++
		st.Words += s.Words
		if s.Case != "" {
			cases[s.Case] = true
		}
		for unit, n := range s.Units {
			st.Segments[unit] += n
		}
	}
	st.Cases = len(cases)
	if cb, err := codebook.Load(p.Path(corpus.CodebookFile)); err != nil {
		st.Codebook.Problem = oneLine(err)
		st.Problems = append(st.Problems, oneLine(err))
	} else {
		cb.Walk(func(n *codebook.Node) bool {
			switch n.Level {
			case codebook.LevelTheme:
				st.Codebook.Themes++
			case codebook.LevelSubtheme:
				st.Codebook.Subthemes++
			default:
				st.Codebook.Codes++
			}
			return true
		})
	}
	if err := statusCodings(p, &st); err != nil {
		st.Problems = append(st.Problems, oneLine(err))
	}
	if opts.JSON {
		return writeJSON(opts.IO.Out, st)
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "Project   %s (%s)\n", st.Name, st.Root)
	fmt.Fprintf(w, "Sources   %d (%s); %d cases; %d words\n", st.Sources, countsText(st.Kinds), st.Cases, st.Words)
	fmt.Fprintf(w, "Segments  %d turns, %d paragraphs, %d sentences\n", st.Segments[corpus.UnitTurn], st.Segments[corpus.UnitParagraph], st.Segments[corpus.UnitSentence])
	if st.Codebook.Problem != "" {
		fmt.Fprintf(w, "Codebook  invalid: %s\n", st.Codebook.Problem)
	} else {
		fmt.Fprintf(w, "Codebook  %d themes, %d sub-themes, %d codes\n", st.Codebook.Themes, st.Codebook.Subthemes, st.Codebook.Codes)
	}
	fmt.Fprintf(w, "Codings   %s\n", orDash(countsText(st.Coders)))
	if len(st.Orphaned) > 0 {
		fmt.Fprintf(w, "Orphaned  %s (their text changed; see 'thematic doctor')\n", countsText(st.Orphaned))
	}
	for _, prob := range st.Problems {
		fmt.Fprintf(w, "Problem   %s\n", prob)
	}
	return nil
}

// statusCodings counts every coder's codings and orphans. As with
// Store.LoadAll, a problem in any coder's file is returned and no coder is
// counted.
func statusCodings(p *corpus.Project, st *projectStatus) error {
	cc := analysis.CodingsCache{Store: analysis.Store{Dir: p.Path(corpus.CodingsDir)}, Dir: p.Path(corpus.CacheDir, "codings")}
	coders, err := cc.Store.Coders()
	if err != nil {
		return err
	}
	sums := make([]analysis.CoderSummary, len(coders))
	for i, coder := range coders {
		if sums[i], err = cc.Summary(coder); err != nil {
			return err
		}
	}
	for i, coder := range coders {
		st.Coders[coder] = sums[i].Codings
		if sums[i].Orphans > 0 {
			st.Orphaned[coder] = sums[i].Orphans
		}
	}
	return nil
}

// countsText prints "a 3, b 1" in key order.
func countsText(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
