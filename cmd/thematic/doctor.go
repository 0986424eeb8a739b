package main

import (
	"cmp"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
	cbPath := p.Path(corpus.CodebookFile)
	var cb *codebook.Codebook
	var cbFound []doctorFinding
	if data, err := os.ReadFile(cbPath); err != nil {
		cbFound = append(cbFound, doctorFinding{"codebook", corpus.CodebookFile, oneLine(err)})
	} else {
		parsed, problems := codebook.Parse(cbPath, data)
		for _, pr := range problems {
			cbFound = append(cbFound, doctorFinding{"codebook", corpus.CodebookFile, oneLine(pr)})
		}
		if len(problems) == 0 {
			cb = parsed
		}
	}
	// Codings come from the codings cache (checked against the files), a
	// source at a time, so that a project of any size is checked in
	// bounded memory.
	store := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	coders, err := store.Coders()
	if err != nil {
		return err
	}
	cache := analysis.CodingsCache{Store: store}
	var good []string // coders whose file reads
	var coderFound []doctorFinding
	for _, coder := range coders {
		cc, err := cache.Open(coder)
		if err != nil {
			coderFound = append(coderFound, doctorFinding{"coding", coder, oneLine(err)})
			continue
		}
		cc.Close()
		good = append(good, coder)
	}
	check := &doctorCheck{coders: good}
	if cb != nil {
		check.known = map[string]bool{}
		cb.Walk(func(n *codebook.Node) bool {
			check.known[n.ID] = true
			return true
		})
	}
	srcFound, codingFound, err := check.run(p, cache, ids)
	if err != nil {
		return err
	}
	found = append(found, srcFound...)
	found = append(found, cbFound...)
	// In the order of the coders, as Store.Load gave them before: a file's
	// error, or its codings' problems in canonical order.
	for _, coder := range coders {
		for _, f := range coderFound {
			if f.Where == coder {
				found = append(found, f)
			}
		}
		for _, f := range codingFound {
			if f.coder == coder {
				found = append(found, f.doctorFinding)
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

// doctorCheck checks the sources' texts and the codings on them.
type doctorCheck struct {
	known  map[string]bool // the codebook's ids; nil when it did not parse
	coders []string
	// The last code looked up: codings come a code at a time. Each worker
	// has a copy.
	lastCode  string
	lastKnown bool
}

// doctorCodingFinding is a problem with a coding, with what orders it.
type doctorCodingFinding struct {
	doctorFinding
	coder              string
	source             string
	start, end, serial int
}

// run checks every source's text against its sidecar and every coding of
// the coders against the texts and the codebook, the sources on every core
// and each source's codings as one block from the cache. It returns the
// sources' problems in id order and the codings' problems.
func (dc *doctorCheck) run(p *corpus.Project, cache analysis.CodingsCache, ids []string) ([]doctorFinding, []doctorCodingFinding, error) {
	type result struct {
		source  *doctorFinding
		codings []doctorCodingFinding
	}
	results := make([]result, len(ids))
	inProject := make(map[string]bool, len(ids))
	for _, id := range ids {
		inProject[id] = true
	}
	// The texts' hashes come from the source infos (one cached file) when
	// every sidecar reads; otherwise each source is read on its own, and
	// the ones that fail are reported.
	infos := map[string]*corpus.SourceInfo{}
	if all, err := p.SourceInfos(); err == nil {
		for i := range all {
			infos[all[i].ID] = &all[i]
		}
	}
	// One handle per coder, shared by the workers.
	handles, err := dc.open(cache)
	defer func() {
		for _, h := range handles {
			h.Close()
		}
	}()
	if err != nil {
		return nil, nil, err
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), len(ids)))
	var next atomic.Int64
	errc := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			wc := *dc
			texts := p.TextReader()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ids) {
					return
				}
				id := ids[i]
				var ti *analysis.TextIndex
				read := p.SourceText
				if info := infos[id]; info != nil {
					read = func(string) (string, error) { return texts.Read(info) }
				}
				if text, err := read(id); err != nil {
					results[i].source = &doctorFinding{"source", id, oneLine(err)}
				} else {
					ti = analysis.NewTextIndex(text)
				}
				for _, h := range handles {
					err := h.Scan(id, func(c *analysis.Coding) error {
						results[i].codings = wc.checkCoding(results[i].codings, c, ti)
						return nil
					})
					if err != nil {
						errc <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, nil, err
	}
	var srcFound []doctorFinding
	var codingFound []doctorCodingFinding
	for _, r := range results {
		if r.source != nil {
			srcFound = append(srcFound, *r.source)
		}
		codingFound = append(codingFound, r.codings...)
	}
	// Codings of sources that are not in the project.
	cs, err := dc.codingsOf(handles, func(s string) bool { return !inProject[s] })
	if err != nil {
		return nil, nil, err
	}
	codingFound = append(codingFound, dc.checkCodings(cs, nil)...)
	coderRank := map[string]int{}
	for i, c := range dc.coders {
		coderRank[c] = i
	}
	slices.SortStableFunc(codingFound, func(a, b doctorCodingFinding) int {
		return cmp.Or(cmp.Compare(coderRank[a.coder], coderRank[b.coder]), strings.Compare(a.source, b.source),
			cmp.Compare(a.start, b.start), cmp.Compare(a.end, b.end), cmp.Compare(a.serial, b.serial))
	})
	return srcFound, codingFound, nil
}

func (dc *doctorCheck) open(cache analysis.CodingsCache) ([]*analysis.CachedCodings, error) {
	var hs []*analysis.CachedCodings
	for _, coder := range dc.coders {
		h, err := cache.Open(coder)
		if err != nil {
			return hs, err
		}
		hs = append(hs, h)
	}
	return hs, nil
}

// codingsOf returns every coder's codings of the sources keep accepts.
func (dc *doctorCheck) codingsOf(handles []*analysis.CachedCodings, keep func(string) bool) ([]analysis.Coding, error) {
	var all []analysis.Coding
	for _, h := range handles {
		cs, err := h.Select(nil, keep)
		if err != nil {
			return nil, err
		}
		all = append(all, cs...)
	}
	return all, nil
}

// checkCodings checks codings against their source's text (nil: the source
// is not in the project) and the codebook.
func (dc *doctorCheck) checkCodings(cs []analysis.Coding, ti *analysis.TextIndex) []doctorCodingFinding {
	var out []doctorCodingFinding
	for i := range cs {
		out = dc.checkCoding(out, &cs[i], ti)
	}
	return out
}

// checkCoding appends the problems of one coding to out. Nothing of c is
// kept: its strings may be reused after the call.
func (dc *doctorCheck) checkCoding(out []doctorCodingFinding, c *analysis.Coding, ti *analysis.TextIndex) []doctorCodingFinding {
	switch {
	case ti == nil:
		out = doctorAdd(out, c, "coding", "source %q is not in the project (removed?); code %s, quote %q", c.Source, c.Code, clip(c.Quote, 60))
	case c.Orphan:
		out = doctorAdd(out, c, "orphan", "quote %q was not found again after the source changed; recode it or remove it with 'thematic uncode'", clip(c.Quote, 60))
	case ti.Slice(c.Start, c.End) != c.Quote:
		out = doctorAdd(out, c, "coding", "offsets no longer slice the quote %q; re-ingest the source to re-anchor", clip(c.Quote, 60))
	}
	if dc.known != nil && c.Code != dc.lastCode {
		dc.lastCode, dc.lastKnown = strings.Clone(c.Code), dc.known[c.Code]
	}
	if dc.known != nil && !dc.lastKnown {
		out = doctorAdd(out, c, "coding", "code %q is not in the codebook", c.Code)
	}
	return out
}

// doctorAdd appends a problem with coding c.
func doctorAdd(out []doctorCodingFinding, c *analysis.Coding, what, format string, args ...any) []doctorCodingFinding {
	return append(out, doctorCodingFinding{
		doctorFinding: doctorFinding{what, fmt.Sprintf("%s %s [%d,%d)", c.Coder, c.Source, c.Start, c.End), fmt.Sprintf(format, args...)},
		coder:         strings.Clone(c.Coder), source: strings.Clone(c.Source), start: c.Start, end: c.End, serial: len(out),
	})
}

// clip shortens s to n code points with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
