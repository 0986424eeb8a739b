package main

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

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
	// Each group is written as it is counted, a word or phrase at a time:
	// neither the groups nor a group's list are held. The live heap is
	// mostly the counting tables, which hold no pointers, so a collection
	// costs little however large they grow: collect when the heap has grown
	// by half rather than doubled (L: 780 -> 640 MB peak, for the same
	// CPU).
	defer debug.SetGCPercent(debug.SetGCPercent(wordsGCPercent))
	wc := suggest.NewWordCounter(wopts)
	count := func(group func(name string) error) error {
		k := 0
		return wordsEachSource(p, ids, func(src *corpus.Source) error {
			if err := wc.Add(src); err != nil {
				return err
			}
			k++
			if k == len(members) || members[k].group != members[k-1].group {
				return group(members[k-1].group)
			}
			return nil
		})
	}
	switch {
	case opts.JSON:
		return wordsJSON(opts.IO.Out, wc, count)
	case opts.CSV != "":
		if err := export.WriteCSV(opts.CSV, wordsTable(wc, count), export.CSVOptions{}); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.ErrOut, "wrote %s\n", opts.CSV)
		return nil
	}
	w := bufio.NewWriter(opts.IO.Out)
	color := opts.IO.Color()
	var tab wordsTextTable
	n := 0
	err = count(func(name string) error {
		if n > 0 {
			fmt.Fprintln(w)
		}
		n++
		title := name
		if opts.By != "" {
			title = opts.By + " " + name
		}
		fmt.Fprintf(w, "%s  (%d words)\n", style(color, ansiBold, title), wc.Words())
		tab.reset("WORD")
		err := wc.GroupEach(func(phrase bool, f suggest.Freq) error {
			if phrase && tab.head == "WORD" {
				tab.flush(w)
				tab.reset("PHRASE")
			}
			tab.row(&f)
			return nil
		})
		if err != nil {
			return err
		}
		tab.flush(w)
		return nil
	})
	if err != nil {
		return err
	}
	return w.Flush()
}

// wordsGCPercent is the garbage collector's target while words are counted.
const wordsGCPercent = 50

// wordsEachSource calls fn with each source of ids, in order, with its text
// and segments. The sources are read ahead on another goroutine, a few at
// most, each text into a buffer used again for a later one: fn must not
// keep a source or its text.
func wordsEachSource(p *corpus.Project, ids []string, fn func(*corpus.Source) error) error {
	type slot struct {
		texts *corpus.TextReader
		src   *corpus.Source
		err   error
	}
	const ahead = 3
	free, full := make(chan *slot, ahead), make(chan *slot, ahead)
	for range ahead {
		free <- &slot{texts: p.TextReader()}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(full)
		for _, id := range ids {
			var s *slot
			select {
			case s = <-free:
			case <-quit:
				return
			}
			s.src, s.err = p.Source(id, false)
			if s.err == nil {
				s.src.Text, s.err = s.texts.Read(&corpus.SourceInfo{Source: corpus.Source{ID: id, SHA: s.src.SHA}})
			}
			full <- s // never blocks: there are no more slots than room
		}
	})
	defer wg.Wait()
	defer close(quit)
	for s := range full {
		err := s.err
		if err == nil {
			err = fn(s.src)
		}
		if err != nil {
			return err
		}
		s.src = nil
		free <- s
	}
	return nil
}

// wordsJSON writes the groups as a JSON array, as writeJSON writes a
// []suggest.WordGroup, a group and a word at a time.
func wordsJSON(out io.Writer, wc *suggest.WordCounter, count func(func(string) error) error) error {
	js := newJSONStream(out)
	groups := js.openArray(0)
	err := count(func(name string) error {
		// A group is written field by field: its lists grow as it is read.
		if groups.n > 0 {
			js.w.WriteByte(',')
		}
		groups.n++
		js.w.WriteString("\n  {\n    \"group\": ")
		if err := js.value(name, 2); err != nil {
			return err
		}
		fmt.Fprintf(js.w, ",\n    \"words\": %d,\n    \"words_list\": ", wc.Words())
		list, phrases := js.openArray(2), false
		err := wc.GroupEach(func(phrase bool, f suggest.Freq) error {
			if phrase && !phrases {
				list.close()
				js.w.WriteString(",\n    \"phrases\": ")
				list, phrases = js.openArray(2), true
			}
			return list.add(&f)
		})
		if err != nil {
			return err
		}
		if !phrases {
			list.close()
			js.w.WriteString(",\n    \"phrases\": ")
			list = js.openArray(2)
		}
		list.close()
		js.w.WriteString("\n  }")
		return nil
	})
	if err != nil {
		return err
	}
	groups.close()
	js.w.WriteByte('\n')
	return js.flush()
}

// wordsTextTable is one table of the listing (words or phrases), held
// compactly until it is written: it aligns its columns as newTable does.
type wordsTextTable struct {
	head  string
	cells []byte
	ends  []int32 // where each cell ends in cells, six to a row
	width [5]int  // of the aligned columns, in code points
}

func (t *wordsTextTable) reset(head string) {
	t.head, t.cells, t.ends, t.width = head, t.cells[:0], t.ends[:0], [5]int{}
	t.add("  "+head, "COUNT", "PER 1000", "SOURCES", "CASES", "FORMS")
}

// add adds a row of six cells (the last is not aligned).
func (t *wordsTextTable) add(cells ...string) {
	for k, c := range cells {
		t.cells = append(t.cells, c...)
		t.ends = append(t.ends, int32(len(t.cells)))
		if k < len(t.width) {
			t.width[k] = max(t.width[k], utf8.RuneCountInString(c))
		}
	}
}

func (t *wordsTextTable) row(f *suggest.Freq) {
	t.add("  "+f.Term, strconv.Itoa(f.Count), strconv.FormatFloat(f.PerThousand, 'f', 1, 64),
		strconv.Itoa(f.Sources), strconv.Itoa(f.Cases), strings.Join(f.Forms, ", "))
}

// flush writes the table unless it has no rows (an error writing stays
// with w, for its Flush).
func (t *wordsTextTable) flush(w *bufio.Writer) {
	if len(t.ends) <= 6 {
		return
	}
	from := int32(0)
	for k, end := range t.ends {
		c := t.cells[from:end]
		from = end
		w.Write(c)
		if col := k % 6; col < 5 {
			for range t.width[col] + 2 - utf8.RuneCount(c) {
				w.WriteByte(' ')
			}
		} else {
			w.WriteByte('\n')
		}
	}
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

// wordsTable is the frequencies as one table, counted as it is written.
func wordsTable(wc *suggest.WordCounter, count func(func(string) error) error) export.Table {
	return export.Table{
		Columns: []export.Column{
			{Title: "group"}, {Title: "kind"}, {Title: "term"}, {Title: "count", Number: true},
			{Title: "per_1000", Number: true}, {Title: "sources", Number: true}, {Title: "cases", Number: true},
			{Title: "forms"}, {Title: "group_words", Number: true},
		},
		Rows: func(emit func(row []any) error) error {
			return count(func(name string) error {
				return wc.GroupEach(func(phrase bool, f suggest.Freq) error {
					kind := "word"
					if phrase {
						kind = "phrase"
					}
					return emit([]any{name, kind, f.Term, f.Count, f.PerThousand, f.Sources, f.Cases, strings.Join(f.Forms, "; "), wc.Words()})
				})
			})
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
		js := newJSONStream(opts.IO.Out)
		a := js.openArray(0)
		if err := each(func(c *suggest.Concordance) error { return a.add(c) }); err != nil {
			return err
		}
		a.close()
		js.w.WriteByte('\n')
		return js.flush()
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
