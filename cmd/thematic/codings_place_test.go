package main

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/thematic-qda/thematic/corpus"
)

// placeLinear is the plain walk over every segment that codingsSegIndex
// replaces: the speaker of the first segment holding start that has one, and
// the smallest segment holding [start, end), the later one on a tie.
func placeLinear(segs []corpus.Segment, start, end int) (speaker, segment string) {
	size := -1
	for _, g := range segs {
		if g.Start <= start && start < g.End && speaker == "" {
			speaker = g.Speaker
		}
		if g.Start <= start && end <= g.End && (size < 0 || g.End-g.Start <= size) {
			segment, size = g.ID, g.End-g.Start
		}
	}
	return speaker, segment
}

// nestedSegments makes turns holding paragraphs holding sentences, with
// gaps, empty speakers and zero-length segments, parents first.
func nestedSegments(rng *rand.Rand) []corpus.Segment {
	var segs []corpus.Segment
	pos := 0
	for t := 1; t <= 1+rng.IntN(6); t++ {
		pos += rng.IntN(3)
		ts := pos
		turn := len(segs)
		speaker := []string{"", "Ann", "Bo"}[rng.IntN(3)]
		segs = append(segs, corpus.Segment{ID: fmt.Sprintf("t%d", t), Unit: corpus.UnitTurn, Start: ts, Speaker: speaker})
		for p := 1; p <= 1+rng.IntN(3); p++ {
			pos += rng.IntN(2)
			ps := pos
			para := len(segs)
			segs = append(segs, corpus.Segment{ID: fmt.Sprintf("t%d.p%d", t, p), Unit: corpus.UnitParagraph, Start: ps, Speaker: []string{"", speaker}[rng.IntN(2)]})
			for k := 1; k <= 1+rng.IntN(4); k++ {
				ss := pos
				pos += rng.IntN(8)
				segs = append(segs, corpus.Segment{ID: fmt.Sprintf("t%d.p%d.s%d", t, p, k), Unit: corpus.UnitSentence, Start: ss, End: pos})
			}
			segs[para].End = pos
		}
		segs[turn].End = pos
	}
	return segs
}

func TestCodingsSegIndexMatchesLinearWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	for round := 0; round < 300; round++ {
		segs := nestedSegments(rng)
		if round%10 == 0 {
			// Out of order: the index must fall back to the walk.
			rng.Shuffle(len(segs), func(i, j int) { segs[i], segs[j] = segs[j], segs[i] })
		}
		x := newCodingsSegIndex(segs)
		last := segs[len(segs)-1].End + 3
		for q := 0; q < 50; q++ {
			start := rng.IntN(last + 1)
			end := start + rng.IntN(10)
			wantSp, wantSeg := placeLinear(segs, start, end)
			gotSp, gotSeg := placeLinear(x.around(start), start, end)
			if gotSp != wantSp || gotSeg != wantSeg {
				t.Fatalf("round %d, span %d-%d: got %q %q, want %q %q\n%+v", round, start, end, gotSp, gotSeg, wantSp, wantSeg, segs)
			}
		}
	}
}
