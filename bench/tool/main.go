// Command tool is the Go side of bench/run: the steps of the benchmark that
// are not thematic commands.
//
//	tool segments PROJECT OUT        paragraph segments for sqlite3 .import (ASCII mode)
//	tool coder PROJECT FROM TO KEEP EXTRA SEED
//	                                 a second coder: FROM's codings kept with
//	                                 probability KEEP, plus EXTRA x as many
//	                                 sentence codings with random codes
//	tool sample PROJECT FROM TO N    every k-th coding of FROM, N in all
//	tool search PROJECT WORDS N SEED time N queries against the index, in process
//	tool count PROJECT CODER         number of codings of a coder
//
// Everything is deterministic for its seed.
package main

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: tool segments|coder|sample|search|count ..."))
	}
	args := os.Args[2:]
	var err error
	switch os.Args[1] {
	case "segments":
		err = need(args, 2, func() error { return segments(args[0], args[1]) })
	case "coder":
		err = need(args, 6, func() error {
			return coder(args[0], args[1], args[2], atof(args[3]), atof(args[4]), int64(atoi(args[5])))
		})
	case "sample":
		err = need(args, 4, func() error { return sample(args[0], args[1], args[2], atoi(args[3])) })
	case "search":
		err = need(args, 4, func() error { return searchBench(args[0], args[1], atoi(args[2]), int64(atoi(args[3]))) })
	case "count":
		err = need(args, 2, func() error {
			cs, err := analysis.Store{Dir: mustOpen(args[0]).Path(corpus.CodingsDir)}.Load(args[1])
			fmt.Println(len(cs))
			return err
		})
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func need(args []string, n int, f func() error) error {
	if len(args) != n {
		return fmt.Errorf("%s needs %d arguments", os.Args[1], n)
	}
	return f()
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fail(err)
	}
	return n
}

func atof(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		fail(err)
	}
	return f
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench tool:", err)
	os.Exit(1)
}

func mustOpen(dir string) *corpus.Project {
	p, err := corpus.Open(dir)
	if err != nil {
		fail(err)
	}
	return p
}

// segments writes the segments the index holds (paragraphs, or turns where a
// source has no paragraphs) as source, segment and text, in sqlite3's ASCII
// mode: fields end in 0x1f, records in 0x1e.
func segments(dir, out string) error {
	p := mustOpen(dir)
	ids, err := p.SourceIDs()
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	clean := strings.NewReplacer("\x1e", " ", "\x1f", " ")
	for _, id := range ids {
		src, err := p.Source(id, true)
		if err != nil {
			return err
		}
		rs := []rune(src.Text)
		var paras, turns []corpus.Segment
		for _, g := range src.Segments {
			switch g.Unit {
			case corpus.UnitParagraph:
				paras = append(paras, g)
			case corpus.UnitTurn:
				turns = append(turns, g)
			}
		}
		if len(paras) == 0 {
			paras = turns
		}
		for _, g := range paras {
			fmt.Fprintf(w, "%s\x1f%s\x1f%s\x1e", src.ID, g.ID, clean.Replace(string(rs[g.Start:g.End])))
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// coder writes coder to: each coding of from kept with probability keep
// (as the same span and code), and extra x len(from) codings of random
// sentences with random codes of from.
func coder(dir, from, to string, keep, extra float64, seed int64) error {
	p := mustOpen(dir)
	st := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	cs, err := st.Load(from)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewSource(seed))
	codeSet := map[string]bool{}
	for _, c := range cs {
		codeSet[c.Code] = true
	}
	codes := make([]string, 0, len(codeSet))
	for c := range codeSet {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	if len(codes) == 0 {
		return fmt.Errorf("coder %s has no codings", from)
	}
	ids, err := p.SourceIDs()
	if err != nil {
		return err
	}
	perSource := map[string][]analysis.Coding{}
	for _, c := range cs {
		perSource[c.Source] = append(perSource[c.Source], c)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var out []analysis.Coding
	addsPerSource := int(extra * float64(len(cs)) / float64(len(ids)))
	for _, id := range ids {
		src, err := p.Source(id, true)
		if err != nil {
			return err
		}
		ti := analysis.NewTextIndex(src.Text)
		mine := perSource[id]
		for _, c := range mine {
			if rng.Float64() >= keep {
				continue
			}
			nc, err := ti.NewCoding(id, c.Start, c.End, c.Code, to, analysis.OriginManual, now)
			if err != nil {
				return err
			}
			nc.Segment = c.Segment
			out = append(out, nc)
		}
		var sents []corpus.Segment
		for _, g := range src.Segments {
			if g.Unit == corpus.UnitSentence {
				sents = append(sents, g)
			}
		}
		for k := 0; k < addsPerSource && len(sents) > 0; k++ {
			g := sents[rng.Intn(len(sents))]
			nc, err := ti.NewCoding(id, g.Start, g.End, codes[rng.Intn(len(codes))], to, analysis.OriginManual, now)
			if err != nil {
				return err
			}
			nc.Segment = g.ID
			out = append(out, nc)
		}
	}
	return st.Save(to, out)
}

// sample writes n codings of from, evenly spread, as coder to.
func sample(dir, from, to string, n int) error {
	p := mustOpen(dir)
	st := analysis.Store{Dir: p.Path(corpus.CodingsDir)}
	cs, err := st.Load(from)
	if err != nil {
		return err
	}
	if n > len(cs) {
		n = len(cs)
	}
	out := make([]analysis.Coding, 0, n)
	for i := 0; i < n; i++ {
		c := cs[int(int64(i)*int64(len(cs))/int64(n))]
		c.Coder = to
		c.ID = analysis.CodingID(c.Source, c.Start, c.End, c.Code, to)
		out = append(out, c)
	}
	return st.Save(to, out)
}

// searchBench times n queries against the project's index (already built):
// match (one word), boolean (+a +b, a -b with a role filter) and phrase
// (two words found next to each other in the text), in the proportions
// 2:2:1, with a limit of 20 hits as 'thematic search' has by default. It
// prints p50, p95 and max per kind, in milliseconds.
func searchBench(dir, wordsFile string, n int, seed int64) error {
	p := mustOpen(dir)
	data, err := os.ReadFile(wordsFile)
	if err != nil {
		return err
	}
	words := strings.Fields(string(data))
	if len(words) < 2 {
		return fmt.Errorf("%s: too few words", wordsFile)
	}
	rng := rand.New(rand.NewSource(seed))
	// Phrases: adjacent words from random paragraphs of a few sources.
	ids, err := p.SourceIDs()
	if err != nil {
		return err
	}
	var phrases []string
	for len(phrases) < n/5+1 {
		src, err := p.Source(ids[rng.Intn(len(ids))], true)
		if err != nil {
			return err
		}
		for k := 0; k < 10 && len(phrases) < n/5+1; k++ {
			ws := strings.FieldsFunc(src.Text, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '\'')
			})
			if len(ws) < 3 {
				break
			}
			i := rng.Intn(len(ws) - 1)
			phrases = append(phrases, `"`+strings.ToLower(ws[i]+" "+ws[i+1])+`"`)
		}
	}
	type q struct {
		kind string
		req  corpus.SearchRequest
	}
	var qs []q
	for i := 0; i < n; i++ {
		w1, w2 := words[rng.Intn(len(words))], words[rng.Intn(len(words))]
		switch i % 5 {
		case 0, 1:
			qs = append(qs, q{"match", corpus.SearchRequest{Query: w1, Limit: 20}})
		case 2:
			qs = append(qs, q{"boolean", corpus.SearchRequest{Query: "+" + w1 + " +" + w2, Limit: 20}})
		case 3:
			qs = append(qs, q{"boolean", corpus.SearchRequest{Query: w1 + " -" + w2, Roles: []string{corpus.RoleParticipant}, Limit: 20}})
		case 4:
			qs = append(qs, q{"phrase", corpus.SearchRequest{Query: phrases[i/5], Limit: 20}})
		}
	}
	t0 := time.Now()
	ix, err := corpus.OpenIndex(p.IndexDir(), p.Config)
	if err != nil {
		return err
	}
	defer ix.Close()
	open := time.Since(t0)
	// The first query pays for loading the index's segments: timed apart.
	t0 = time.Now()
	if _, _, err := ix.Search(corpus.SearchRequest{Query: words[0], Limit: 20}); err != nil {
		return err
	}
	first := time.Since(t0)
	times := map[string][]float64{}
	hits := map[string]int{}
	for _, q := range qs {
		t := time.Now()
		_, total, err := ix.Search(q.req)
		if err != nil {
			return fmt.Errorf("%s: %w", q.req.Query, err)
		}
		ms := float64(time.Since(t).Microseconds()) / 1000
		times[q.kind] = append(times[q.kind], ms)
		times["all"] = append(times["all"], ms)
		hits[q.kind] += total
		hits["all"] += total
	}
	fmt.Printf("open %.1f first %.1f\n", float64(open.Microseconds())/1000, float64(first.Microseconds())/1000)
	for _, k := range []string{"match", "boolean", "phrase", "all"} {
		ts := times[k]
		sort.Float64s(ts)
		if len(ts) == 0 {
			continue
		}
		fmt.Printf("%s %d %.2f %.2f %.2f %d\n", k, len(ts), pct(ts, 50), pct(ts, 95), ts[len(ts)-1], hits[k]/max(1, len(ts)))
	}
	return nil
}

// pct is the p-th percentile of sorted values (nearest rank).
func pct(sorted []float64, p float64) float64 {
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
