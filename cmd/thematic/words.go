package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/thematic-qda/thematic/analysis/suggest"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/export"
	"github.com/thematic-qda/thematic/internal/errs"
)

// WordsOptions are the flags of 'thematic words'.
type WordsOptions struct {
	IO      *IOStreams
	Project func() (*corpus.Project, error)
	By      string // "", case, kind, source or attr:NAME
	KWIC    string
	Top     int
	Roles   []string
	Context int
	JSON    bool
	CSV     string
}

func init() { register(newWordsCmd) }

func newWordsCmd(g *globals) *cobra.Command {
	opts := &WordsOptions{IO: g.ios, Project: g.project}
	cmd := &cobra.Command{
		Use:   "words",
		Short: "Word and phrase frequencies per group, and keyword in context",
		Long: `Count the words and phrases of the sources, with stop words left out (the
language's, and for English the fillers of speech such as "um", "yeah",
"like", "kind of"). Words are counted as search analyses them, so "slug" and
"slugs" are one word; its spellings are listed. A phrase is two or three
words that are not stop words, one after the other with only spaces between.
Counts are per group with --by: case, kind, source or attr:NAME (an attribute
of the case in cases.csv or of the source; "-" when missing).

With --kwic, print every occurrence of a word or phrase in its context
instead: words match as analysed ("slug" finds "slugs"), stop words as
written ("on my own"), and * or ? are wildcards ("garden*").`,
		Example: `  thematic words
  thematic words --by case --top 10
  thematic words --by attr:site --csv words.csv
  thematic words --kwic "watering rota"
  thematic words --kwic 'slug*' --roles participant --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runWords(opts) },
	}
	f := cmd.Flags()
	f.StringVar(&opts.By, "by", "", "count per group: case, kind, source or attr:`NAME`")
	f.StringVar(&opts.KWIC, "kwic", "", "show `TERM` (a word or phrase) in context instead of counting")
	f.IntVar(&opts.Top, "top", 20, "words and phrases per group (0: all)")
	f.StringSliceVar(&opts.Roles, "roles", nil, "only speakers with these roles (default: everyone)")
	f.IntVar(&opts.Context, "context", 40, "with --kwic, characters of context either side")
	f.BoolVar(&opts.JSON, "json", false, "print as JSON")
	f.StringVar(&opts.CSV, "csv", "", "write a CSV `FILE` (UTF-8 with BOM, for Excel)")
	return cmd
}

func runWords(opts *WordsOptions) error {
	if opts.JSON && opts.CSV != "" {
		return errs.New("", 0, 0, "--json and --csv: choose one")
	}
	if opts.Top < 0 {
		return errs.New("", 0, 0, "--top %d: give 0 (all) or more", opts.Top)
	}
	if err := suggestCheckRoles(opts.Roles); err != nil {
		return err
	}
	group, err := wordsGroupBy(opts.By)
	if err != nil {
		return err
	}
	p, err := opts.Project()
	if err != nil {
		return err
	}
	// The sources' metadata now, their text one source at a time.
	infos, err := p.SourceInfos()
	if err != nil {
		return err
	}
	cases, err := corpus.ReadCases(p.Path(corpus.CasesFile))
	if err != nil {
		return err
	}
	an, err := corpus.NewAnalyzer(p.Config.Language, p.Config.FoldAccents)
	if err != nil {
		return err
	}
	wopts := suggest.WordsOptions{
		Analyzer: an, Roles: opts.Roles, Top: opts.Top, Width: opts.Context,
		Cite: func(s *corpus.Source) string {
			return corpus.Citation(p.Config.Citation, s, corpus.CaseAttrs(s, cases))
		},
	}
	if opts.KWIC != "" {
		return wordsKWIC(opts, p, infos, wopts)
	}
	// A group at a time, each group's sources by case, as the counter
	// wants them: only one group's counts are held.
	type member struct{ id, group, cas string }
	members := make([]member, len(infos))
	for i := range infos {
		s := &infos[i].Source
		m := member{id: s.ID, group: "all", cas: s.Case}
		if group != nil {
			m.group = group(s, corpus.CaseAttrs(s, cases))
		}
		if m.cas == "" {
			m.cas = s.ID
		}
		members[i] = m
	}
	slices.SortStableFunc(members, func(a, b member) int { return cmp.Or(cmp.Compare(a.group, b.group), cmp.Compare(a.cas, b.cas)) })
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.id
	}
	wc := suggest.NewWordCounter(wopts)
	groups := []suggest.WordGroup{}
	k := 0
	err = uncodedSources(p, ids, func(src *corpus.Source) error {
		if err := wc.Add(src); err != nil {
			return err
		}
		if k == len(members)-1 || members[k+1].group != members[k].group {
			groups = append(groups, wc.Group(members[k].group))
		}
		k++
		return nil
	})
	if err != nil {
		return err
	}
	switch {
	case opts.JSON:
		return writeJSON(opts.IO.Out, groups)
	case opts.CSV != "":
		if err := export.WriteCSV(opts.CSV, wordsTable(groups), export.CSVOptions{}); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "wrote %s\n", opts.CSV)
		return nil
	}
	w := opts.IO.Out
	color := opts.IO.Color()
	for i, g := range groups {
		if i > 0 {
			fmt.Fprintln(w)
		}
		title := g.Group
		if opts.By != "" {
			title = opts.By + " " + g.Group
		}
		fmt.Fprintf(w, "%s  (%d words)\n", style(color, ansiBold, title), g.Words)
		for _, part := range []struct {
			head string
			fs   []suggest.Freq
		}{{"WORD", g.Terms}, {"PHRASE", g.Phrases}} {
			if len(part.fs) == 0 {
				continue
			}
			tw := newTable(w)
			fmt.Fprintf(tw, "  %s\tCOUNT\tPER 1000\tSOURCES\tCASES\tFORMS\n", part.head)
			for _, f := range part.fs {
				fmt.Fprintf(tw, "  %s\t%d\t%.1f\t%d\t%d\t%s\n", f.Term, f.Count, f.PerThousand, f.Sources, f.Cases, strings.Join(f.Forms, ", "))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// wordsGroupBy returns the grouping of --by, or nil for none.
func wordsGroupBy(by string) (func(*corpus.Source, map[string]string) string, error) {
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	switch {
	case by == "":
		return nil, nil
	case by == "case":
		return func(s *corpus.Source, _ map[string]string) string { return dash(s.Case) }, nil
	case by == "kind":
		return func(s *corpus.Source, _ map[string]string) string { return s.Kind }, nil
	case by == "source":
		return func(s *corpus.Source, _ map[string]string) string { return s.ID }, nil
	case strings.HasPrefix(by, "attr:") && strings.TrimSpace(by[len("attr:"):]) != "":
		name := strings.TrimSpace(by[len("attr:"):])
		return func(_ *corpus.Source, attrs map[string]string) string { return dash(attrs[name]) }, nil
	}
	return nil, errs.New("", 0, 0, "--by %q: use case, kind, source or attr:NAME", by)
}

// wordsTable is the frequencies as one table.
func wordsTable(groups []suggest.WordGroup) export.Table {
	return export.Table{
		Columns: []export.Column{
			{Title: "group"}, {Title: "kind"}, {Title: "term"}, {Title: "count", Number: true},
			{Title: "per_1000", Number: true}, {Title: "sources", Number: true}, {Title: "cases", Number: true},
			{Title: "forms"}, {Title: "group_words", Number: true},
		},
		Rows: func(emit func(row []any) error) error {
			for _, g := range groups {
				for _, part := range []struct {
					kind string
					fs   []suggest.Freq
				}{{"word", g.Terms}, {"phrase", g.Phrases}} {
					for _, f := range part.fs {
						if err := emit([]any{g.Group, part.kind, f.Term, f.Count, f.PerThousand, f.Sources, f.Cases, strings.Join(f.Forms, "; "), g.Words}); err != nil {
							return err
						}
					}
				}
			}
			return nil
		},
	}
}

// wordsKWIC is 'thematic words --kwic': the lines are written as they are
// found, a source at a time.
func wordsKWIC(opts *WordsOptions, p *corpus.Project, infos []corpus.SourceInfo, wopts suggest.WordsOptions) error {
	m, err := suggest.NewKWICMatcher(opts.KWIC, wopts)
	if err != nil {
		return err
	}
	ids := make([]string, len(infos))
	for i := range infos {
		ids[i] = infos[i].ID
	}
	each := func(fn func(*suggest.Concordance) error) error {
		return uncodedSources(p, ids, func(src *corpus.Source) error { return m.Source(src, fn) })
	}
	switch {
	case opts.JSON:
		bw := bufio.NewWriter(opts.IO.Out)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("  ", "  ")
		bw.WriteByte('[')
		n := 0
		err := each(func(c *suggest.Concordance) error {
			buf.Reset()
			if err := enc.Encode(c); err != nil {
				return err
			}
			if n > 0 {
				bw.WriteByte(',')
			}
			n++
			bw.WriteString("\n  ")
			_, err := bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
			return err
		})
		if err != nil {
			return err
		}
		if n > 0 {
			bw.WriteByte('\n')
		}
		bw.WriteString("]\n")
		return bw.Flush()
	case opts.CSV != "":
		t := export.Table{
			Columns: []export.Column{{Title: "source"}, {Title: "segment"}, {Title: "citation"}, {Title: "case"},
				{Title: "speaker"}, {Title: "line", Number: true}, {Title: "start", Number: true}, {Title: "end", Number: true},
				{Title: "left"}, {Title: "match"}, {Title: "right"}},
			Rows: func(emit func(row []any) error) error {
				return each(func(c *suggest.Concordance) error {
					return emit([]any{c.Source, c.Segment, c.Citation, c.Case, c.Speaker, c.Line, c.Start, c.End, c.Left, c.Match, c.Right})
				})
			},
		}
		if err := export.WriteCSV(opts.CSV, t, export.CSVOptions{}); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "wrote %s\n", opts.CSV)
		return nil
	}
	color := opts.IO.Color()
	bw := bufio.NewWriter(opts.IO.Out)
	n := 0
	err = each(func(c *suggest.Concordance) error {
		n++
		where := fmt.Sprintf("%s:%s L%d %s", c.Source, c.Segment, c.Line, c.Citation)
		if c.Speaker != "" {
			where += " " + c.Speaker
		}
		_, err := fmt.Fprintf(bw, "%s\n    %s%s%s\n", style(color, ansiDim, where), c.Left, style(color, ansiMatch, c.Match), c.Right)
		return err
	})
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "%d occurrences of %q\n", n, opts.KWIC)
	return nil
}
