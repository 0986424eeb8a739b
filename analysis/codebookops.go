package analysis

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/thematic-qda/thematic/codebook"
)

// CodeCount is how much coded data a codebook node holds.
type CodeCount struct {
	Codings int `json:"codings"` // codings: one coder's code on one span
	Sources int `json:"sources"` // distinct sources among those codings
	Cases   int `json:"cases"`   // distinct cases of those sources
}

// CodebookCounts holds the counts of every node of a codebook, by node id.
type CodebookCounts struct {
	Own   map[string]CodeCount // the node's own codings
	Total map[string]CodeCount // the codings of the node and of every node below it
	// Unknown counts codings whose code is not in the codebook, by code id.
	Unknown map[string]int
}

// CountCodes counts the codings cs for every node of cb: for each node its
// own codings and, as totals, those of the node and all its descendants,
// with the distinct sources and cases they fall in. caseOf gives a source's
// case, "" when it has none (such sources count for no case); nil means no
// cases are known.
func CountCodes(cb *codebook.Codebook, cs []Coding, caseOf func(source string) string) CodebookCounts {
	// Sources and cases are numbered once, so the per-node sets hold small
	// integers rather than strings.
	type tally struct {
		codings        int
		sources, cases map[int32]struct{}
	}
	add := func(t *tally, src, kase int32) {
		if t.sources == nil {
			t.sources, t.cases = map[int32]struct{}{}, map[int32]struct{}{}
		}
		t.codings++
		t.sources[src] = struct{}{}
		if kase >= 0 {
			t.cases[kase] = struct{}{}
		}
	}
	nodes := cb.Codes()
	own := make(map[string]*tally, len(nodes))
	total := make(map[string]*tally, len(nodes))
	for _, n := range nodes {
		own[n.ID], total[n.ID] = &tally{}, &tally{}
	}
	type place struct{ src, kase int32 }
	places := map[string]place{}
	caseNum := map[string]int32{}
	res := CodebookCounts{Unknown: map[string]int{}}
	for i := range cs {
		c := &cs[i]
		n := cb.Node(c.Code)
		if n == nil {
			res.Unknown[c.Code]++
			continue
		}
		pl, ok := places[c.Source]
		if !ok {
			pl = place{int32(len(places)), -1}
			if caseOf != nil {
				if k := caseOf(c.Source); k != "" {
					num, ok := caseNum[k]
					if !ok {
						num = int32(len(caseNum))
						caseNum[k] = num
					}
					pl.kase = num
				}
			}
			places[c.Source] = pl
		}
		add(own[n.ID], pl.src, pl.kase)
		for m := n; m != nil; m = m.Parent {
			add(total[m.ID], pl.src, pl.kase)
		}
	}
	count := func(t *tally) CodeCount {
		return CodeCount{Codings: t.codings, Sources: len(t.sources), Cases: len(t.cases)}
	}
	res.Own = make(map[string]CodeCount, len(nodes))
	res.Total = make(map[string]CodeCount, len(nodes))
	for _, n := range nodes {
		res.Own[n.ID], res.Total[n.ID] = count(own[n.ID]), count(total[n.ID])
	}
	return res
}

// Recode carries the codings of every coder from old code ids to new ones
// when codes are renamed or merged, together with the change to the
// codebook, so that no coding is ever left without its code in the
// codebook, even when the process dies between two writes. It runs in
// three steps:
//
//  1. Expand: beside each coding of an old id, every coder's file gets a
//     copy under the new id (each file written atomically). A coding that
//     the coder already has under the new id is not copied; the old
//     coding's memo is added to it. Every file is read and checked before
//     the first is written; if a write fails, the files written are put
//     back and nothing has changed.
//  2. SaveCodebook writes the codebook with the change (one atomic write);
//     if it fails, the files of step 1 are put back.
//  3. Contract: the codings of the old ids are removed from every file, and
//     each copy takes the id its original would have under the new code.
//
// Before step 2 every coding keeps its old code, which the codebook still
// has; from step 2 on every coding has a copy under the new code, which the
// codebook now has. A crash leaves at most some duplicate codings of an id
// the codebook lacks ('thematic doctor' lists them), and running Recode
// again with the same IDs finishes the work: step 1 adds nothing twice,
// and with SaveCodebook nil (the codebook already changed) step 3 carries
// whatever is left.
//
// The caller holds the project lock throughout.
type Recode struct {
	Store Store
	// IDs maps each old code id to its new one. A new id may not also be an
	// old one.
	IDs map[string]string
	// RuleShift is added to the rule number of "rule:<old id>/<n>" origins
	// (the codings of coder "auto"), which become "rule:<new id>/<n+shift>":
	// a merge appends the old code's rules after the new code's own.
	RuleShift map[string]int
	// SaveCodebook writes the changed codebook (step 2); nil when the
	// codebook has the change already.
	SaveCodebook func() error
	// AfterWrite, when set, is called after each file is written, with the
	// step (1, 2 or 3) and the file ("codings/alice.jsonl", or "" for the
	// codebook). An error stops Recode there, leaving the files as a crash
	// at that point would.
	AfterWrite func(step int, file string) error
}

// RecodeCount says what Recode did to one coder's codings.
type RecodeCount struct {
	Coder   string `json:"coder"`
	Carried int    `json:"carried"` // codings moved to a new id
	Joined  int    `json:"joined"`  // of those, codings the coder had under the new id already
}

// ErrRecodeUnfinished is wrapped by the error Recode returns when the
// codebook was changed but some codings could not be carried yet; running
// Recode again with SaveCodebook nil finishes the work.
var ErrRecodeUnfinished = errors.New("the codebook is changed but some codings still have the old code")

// Run carries the codings, as described at Recode, and returns per coder
// (in name order) how many codings it carried, leaving out coders with
// none.
func (r Recode) Run() ([]RecodeCount, error) {
	for from, to := range r.IDs {
		if from == "" || to == "" || from == to {
			return nil, fmt.Errorf("recode: cannot carry codings from %q to %q", from, to)
		}
		if _, chained := r.IDs[to]; chained {
			return nil, fmt.Errorf("recode: %q is both an old and a new id", to)
		}
	}
	coders, err := r.Store.Coders()
	if err != nil {
		return nil, err
	}
	loaded := make([][]Coding, len(coders))
	for i, coder := range coders {
		if loaded[i], err = r.Store.Load(coder); err != nil {
			return nil, err
		}
	}
	after := func(step int, file string) error {
		if r.AfterWrite == nil {
			return nil
		}
		return r.AfterWrite(step, file)
	}

	// Step 1: expand.
	var written []int // coders whose files step 1 wrote
	restore := func(cause error) error {
		for _, i := range written {
			if err := r.Store.Save(coders[i], loaded[i]); err != nil {
				return fmt.Errorf("%w; and putting back %s failed too (%v): it holds codings of both the old and new ids", cause, r.Store.display(coders[i]), err)
			}
		}
		return cause
	}
	var counts []RecodeCount
	for i, coder := range coders {
		cs, n, changed := r.expand(loaded[i])
		if n.Carried == 0 {
			continue
		}
		n.Coder = coder
		counts = append(counts, n)
		if !changed {
			continue // step 1 of an earlier run that did not finish did this
		}
		if err := r.Store.Save(coder, cs); err != nil {
			return nil, restore(err)
		}
		written = append(written, i)
		if err := after(1, r.Store.display(coder)); err != nil {
			return nil, err
		}
	}

	// Step 2: the codebook.
	if r.SaveCodebook != nil {
		if err := r.SaveCodebook(); err != nil {
			return nil, restore(err)
		}
		if err := after(2, ""); err != nil {
			return nil, err
		}
	}

	// Step 3: contract. Files are read again: step 1 wrote them, and Save
	// may have given a copy a new id.
	var unfinished []string
	for _, coder := range coders {
		cs, err := r.Store.Load(coder)
		if err == nil {
			var changed bool
			if cs, changed = r.contract(cs); changed {
				err = r.Store.Save(coder, cs)
			} else {
				continue
			}
		}
		if err != nil {
			unfinished = append(unfinished, fmt.Sprintf("%s (%v)", r.Store.display(coder), err))
			continue
		}
		if err := after(3, r.Store.display(coder)); err != nil {
			return nil, err
		}
	}
	if len(unfinished) > 0 {
		return counts, fmt.Errorf("%w: %s", ErrRecodeUnfinished, strings.Join(unfinished, "; "))
	}
	return counts, nil
}

// recodeKey identifies a coding within one coder's file, as Save does.
type recodeKey struct {
	source     string
	start, end int
	code       string
	orphan     bool
}

func recodeKeyOf(c *Coding) recodeKey { return recodeKey{c.Source, c.Start, c.End, c.Code, c.Orphan} }

// carry returns c under its new code, with its origin and, when it had the
// id NewCoding gives, its id following the code.
func (r Recode) carry(c Coding) Coding {
	old, to := c.Code, r.IDs[c.Code]
	if c.ID == CodingID(c.Source, c.Start, c.End, old, c.Coder) {
		c.ID = CodingID(c.Source, c.Start, c.End, to, c.Coder)
	}
	c.Code = to
	if rest, ok := strings.CutPrefix(c.Origin, "rule:"+old+"/"); ok {
		if k, err := strconv.Atoi(rest); err == nil {
			c.Origin = "rule:" + to + "/" + strconv.Itoa(k+r.RuleShift[old])
		}
	}
	return c
}

// recodeSameButID reports whether a and b differ at most in their ids.
func recodeSameButID(a, b Coding) bool {
	if !a.Time.Equal(b.Time) {
		return false
	}
	a.ID, a.Time = b.ID, b.Time
	return a == b
}

// recodeJoinMemo adds memo to have unless have holds it already.
func recodeJoinMemo(have, memo string) string {
	switch {
	case memo == "" || strings.Contains(have, memo):
		return have
	case have == "":
		return memo
	}
	return have + "\n" + memo
}

// expand is step 1 for one coder's codings: it returns cs (not changed)
// with a copy of each coding of an old id under its new id, or with the old
// coding's memo joined to the coding that has the new id there already.
func (r Recode) expand(cs []Coding) (out []Coding, n RecodeCount, changed bool) {
	at := map[recodeKey]int{}
	for i := range cs {
		if _, old := r.IDs[cs[i].Code]; !old {
			at[recodeKeyOf(&cs[i])] = i
		}
	}
	out = slices.Clone(cs)
	for i := range cs {
		if _, old := r.IDs[cs[i].Code]; !old {
			continue
		}
		n.Carried++
		cp := r.carry(cs[i])
		k := recodeKeyOf(&cp)
		j, have := at[k]
		switch {
		case !have:
			at[k] = len(out)
			out = append(out, cp)
			changed = true
		case recodeSameButID(out[j], cp):
			// copied by an earlier run that did not finish
		default:
			n.Joined++
			if m := recodeJoinMemo(out[j].Memo, cs[i].Memo); m != out[j].Memo {
				out[j].Memo, changed = m, true
			}
		}
	}
	return out, n, changed
}

// contract is step 3 for one coder's codings: the codings of old ids go,
// each copy takes its carried id, and a coding of an old id without a copy
// (step 1 never ran for it) is carried in place.
func (r Recode) contract(cs []Coding) ([]Coding, bool) {
	at := map[recodeKey]int{}
	for i := range cs {
		if _, old := r.IDs[cs[i].Code]; !old {
			at[recodeKeyOf(&cs[i])] = i
		}
	}
	out := make([]Coding, 0, len(cs))
	changed := false
	fix := map[recodeKey]string{} // copies whose id changes
	for i := range cs {
		if _, old := r.IDs[cs[i].Code]; !old {
			out = append(out, cs[i])
			continue
		}
		changed = true
		cp := r.carry(cs[i])
		k := recodeKeyOf(&cp)
		j, have := at[k]
		switch {
		case !have:
			out = append(out, cp)
		case recodeSameButID(cs[j], cp) && cs[j].ID != cp.ID:
			fix[k] = cp.ID
		}
	}
	if !changed {
		return cs, false
	}
	for i := range out {
		if id, ok := fix[recodeKeyOf(&out[i])]; ok {
			out[i].ID = id
		}
	}
	return out, true
}
