package suggest

import (
	"cmp"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// maxIterations bounds the k-means rounds; they usually settle in far fewer.
const maxIterations = 40

// sparse is a document's TF-IDF vector: term columns in increasing order
// with their weights, of unit length.
type sparse struct {
	idx []int32
	val []float64
}

// termCount is a term's count in a document.
type termCount struct {
	term uint32 // stem id
	n    int32
}

// clusters groups the uncoded segments (e.docs) that share vocabulary.
// Each segment becomes a TF-IDF vector of its content words, weighted
// (1 + ln tf) ln(N/df) and of unit length. Words are left out when they are
// in fewer than two segments, when (among ten or more segments) they are in
// more than half of them, and when the participants use them no more often
// than the reference does ("use", "next"). Spherical k-means (cosine
// similarity, with a k-means++ start drawn from a PCG generator seeded by
// Options.Seed) groups the vectors. Each cluster is summarised by the words
// most key to it against the other segments (Keyness). It returns the
// clusters, best first, the number of segments clustered and the number
// left out for want of words.
func (e *engine) clusters() (out []Suggestion, clustered, unclustered int) {
	out = []Suggestion{}
	nd := len(e.docs)
	if nd == 0 {
		return out, 0, 0
	}
	docTerms := e.docTerms()
	df := map[uint32]int{}
	for _, ts := range docTerms {
		for _, t := range ts {
			df[t.term]++
		}
	}
	col := map[uint32]int32{}
	var cols []uint32
	for _, ts := range docTerms {
		for _, t := range ts {
			d := df[t.term]
			if _, ok := col[t.term]; ok || d < 2 || (nd >= 10 && 2*d > nd) || !e.keyWord(t.term) {
				continue
			}
			col[t.term] = int32(len(cols))
			cols = append(cols, t.term)
		}
	}
	var act []int // documents with a vector
	vecs := make([]sparse, nd)
	for d, ts := range docTerms {
		var v sparse
		norm := 0.0
		for _, t := range ts { // ts is sorted by term id; columns follow first sight
			c, ok := col[t.term]
			if !ok {
				continue
			}
			w := (1 + math.Log(float64(t.n))) * math.Log(float64(nd)/float64(df[t.term]))
			v.idx = append(v.idx, c)
			v.val = append(v.val, w)
			norm += w * w
		}
		if norm == 0 {
			continue
		}
		norm = math.Sqrt(norm)
		for i := range v.val {
			v.val[i] /= norm
		}
		vecs[d] = v
		act = append(act, d)
	}
	unclustered = nd - len(act)
	m := len(act)
	if m < 2 {
		return out, 0, unclustered
	}
	k := e.opts.Clusters
	if k == 0 {
		k = int(math.Round(math.Sqrt(float64(m) / 2)))
		k = min(max(k, 2), MaxClusters)
	}
	k = min(k, m)
	assign, sims := kmeans(vecs, act, len(cols), k, e.opts.Seed)

	// summaries
	total := map[uint32]float64{}
	totalN := 0.0
	for _, d := range act {
		for _, t := range docTerms[d] {
			if _, ok := col[t.term]; ok {
				total[t.term] += float64(t.n)
				totalN += float64(t.n)
			}
		}
	}
	best := e.bestSurfaces()
	for c := 0; c < k; c++ {
		var members []int // positions in act
		for j := range act {
			if assign[j] == c {
				members = append(members, j)
			}
		}
		if len(members) == 0 {
			continue
		}
		in := map[uint32]float64{}
		inN, sum := 0.0, 0.0
		for _, j := range members {
			sum += sims[j]
			for _, t := range docTerms[act[j]] {
				if _, ok := col[t.term]; ok {
					in[t.term] += float64(t.n)
					inN += float64(t.n)
				}
			}
		}
		type kt struct {
			term uint32
			g    float64
		}
		var kts []kt
		for t, a := range in {
			g := Keyness(a, total[t]-a, inN, totalN-inN)
			if totalN-inN == 0 {
				g = a // one cluster holds everything: frequency
			}
			if g > 0 {
				kts = append(kts, kt{t, g})
			}
		}
		slices.SortFunc(kts, func(a, b kt) int {
			return cmp.Or(cmp.Compare(b.g, a.g), cmp.Compare(e.v.stems[a.term], e.v.stems[b.term]))
		})
		var words []string
		for _, x := range kts {
			if len(words) == 6 {
				break
			}
			words = append(words, best[x.term])
		}
		label := strings.Join(words[:min(3, len(words))], ", ")
		if label == "" {
			label = "(no distinctive words)"
		}
		// extracts: the members nearest the centre, one per case first
		order := slices.Clone(members)
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sims[b], sims[a]) })
		var picked []int
		seen := map[int32]bool{}
		for _, j := range order {
			if len(picked) == e.opts.Extracts {
				break
			}
			if cas := e.docCase(act[j]); !seen[cas] {
				seen[cas] = true
				picked = append(picked, j)
			}
		}
		for _, j := range order {
			if len(picked) == e.opts.Extracts {
				break
			}
			if !slices.Contains(picked, j) {
				picked = append(picked, j)
			}
		}
		s := Suggestion{Kind: KindCluster, Label: label, Words: words, Score: round(sum),
			Keyness: round(sum / float64(len(members))), Count: len(members)}
		for _, j := range picked {
			r := e.docs[act[j]]
			s.Extracts = append(s.Extracts, e.extract(r.src, r.seg))
		}
		s.Cases, s.Sources = e.casesOf(func(yield func(int32)) {
			for _, j := range members {
				yield(e.docs[act[j]].src)
			}
		})
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b Suggestion) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.Label, b.Label))
	})
	return out, m, unclustered
}

// docTerms counts the content words of each cluster document, sorted by
// term id. A document's sentences are consecutive units.
func (e *engine) docTerms() [][]termCount {
	out := make([][]termCount, len(e.docs))
	var buf []uint32
	flush := func(d int32) {
		slices.Sort(buf)
		var ts []termCount
		for i := 0; i < len(buf); {
			j := i
			for j < len(buf) && buf[j] == buf[i] {
				j++
			}
			ts = append(ts, termCount{buf[i], int32(j - i)})
			i = j
		}
		out[d] = append(out[d], ts...)
		buf = buf[:0]
	}
	cur := int32(-1)
	for ui, u := range e.units {
		if u.doc != cur {
			if cur >= 0 {
				flush(cur)
			}
			cur = u.doc
		}
		if u.doc < 0 {
			continue
		}
		e.unitTokens(ui)
		for _, id := range e.toks {
			if id != 0 {
				if s := e.v.stemOf[id]; !e.v.stop[s] {
					buf = append(buf, s)
				}
			}
		}
	}
	if cur >= 0 {
		flush(cur)
	}
	return out
}

// docCase returns the case index of a cluster document.
func (e *engine) docCase(d int) int32 {
	return int32(slices.Index(e.caseNames, caseKey(e.srcs[e.docs[d].src])))
}

// bestSurfaces returns, for each stem, its commonest spelling.
func (e *engine) bestSurfaces() []string {
	best := make([]string, len(e.v.stems))
	bn := make([]int32, len(e.v.stems))
	for id := 1; id < len(e.v.surf) && id < len(e.surfCount); id++ {
		s := e.v.stemOf[id]
		n := e.surfCount[id]
		if n > bn[s] || (n == bn[s] && e.v.surf[id] < best[s]) {
			best[s], bn[s] = e.v.surf[id], n
		}
	}
	return best
}

// restarts is how many times k-means starts afresh for m vectors; the
// grouping with the highest total similarity wins. Lloyd's rounds can
// settle on a poor grouping from an unlucky start, and restarts are cheap
// on the few thousand segments of a typical study.
func restarts(m int) int {
	switch {
	case m <= 2000:
		return 8
	case m <= 20000:
		return 2
	}
	return 1
}

// kmeans clusters the vectors vecs[act[j]] into k groups by cosine
// similarity, keeping the best of several seeded starts, and returns each
// one's group and its similarity to the group's centre. dims is the number
// of columns.
func kmeans(vecs []sparse, act []int, dims, k int, seed uint64) (assign []int, sims []float64) {
	rng := rand.New(rand.NewPCG(seed, seed^0x5851F42D4C957F2D))
	best := math.Inf(-1)
	for r := restarts(len(act)); r > 0; r-- {
		a, s := kmeansOnce(vecs, act, dims, k, rng)
		total := 0.0
		for _, x := range s {
			total += x
		}
		if total > best+1e-9 {
			best, assign, sims = total, a, s
		}
	}
	return assign, sims
}

// kmeansOnce runs k-means++ and Lloyd's rounds once.
func kmeansOnce(vecs []sparse, act []int, dims, k int, rng *rand.Rand) (assign []int, sims []float64) {
	m := len(act)
	cent := make([][]float64, 0, k)
	vec := func(j int) sparse { return vecs[act[j]] }
	dense := func(v sparse) []float64 {
		c := make([]float64, dims)
		for i, x := range v.idx {
			c[x] = v.val[i]
		}
		return c
	}
	dot := func(v sparse, c []float64) float64 {
		s := 0.0
		for i, x := range v.idx {
			s += v.val[i] * c[x]
		}
		return s
	}
	// k-means++: each next centre is drawn with probability proportional
	// to the squared distance (1 - similarity) to the nearest centre so far.
	near := make([]float64, m)
	first := rng.IntN(m)
	cent = append(cent, dense(vec(first)))
	for j := range near {
		near[j] = dot(vec(j), cent[0])
	}
	for len(cent) < k {
		total := 0.0
		for _, s := range near {
			d := 1 - s
			total += d * d
		}
		if total <= 1e-12 {
			break // every vector is on a centre already
		}
		r := rng.Float64() * total
		pick := m - 1
		for j, s := range near {
			d := 1 - s
			r -= d * d
			if r < 0 {
				pick = j
				break
			}
		}
		c := dense(vec(pick))
		cent = append(cent, c)
		for j := range near {
			near[j] = math.Max(near[j], dot(vec(j), c))
		}
	}
	k = len(cent)
	assign = make([]int, m)
	sims = make([]float64, m)
	for j := range assign {
		assign[j] = -1
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), m/1000))
	for iter := 0; iter < maxIterations; iter++ {
		// each vector to its nearest centre; the vectors are split between
		// the CPUs, each writing only its own part
		moved := make([]int, workers)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for j := w * m / workers; j < (w+1)*m/workers; j++ {
					bc, bs := 0, math.Inf(-1)
					for c := range cent {
						if s := dot(vec(j), cent[c]); s > bs {
							bc, bs = c, s
						}
					}
					if assign[j] != bc {
						assign[j] = bc
						moved[w]++
					}
					sims[j] = bs
				}
			}(w)
		}
		wg.Wait()
		changed := 0
		for _, n := range moved {
			changed += n
		}
		// settled: nothing moved, or (on many vectors) one in a thousand
		if changed == 0 || (iter > 0 && changed*1000 <= m) {
			break
		}
		// an empty group takes the vector farthest from its own centre
		size := make([]int, k)
		for _, c := range assign {
			size[c]++
		}
		for c := 0; c < k; c++ {
			if size[c] > 0 {
				continue
			}
			worst := -1
			for j := 0; j < m; j++ {
				if size[assign[j]] > 1 && (worst < 0 || sims[j] < sims[worst]) {
					worst = j
				}
			}
			if worst < 0 {
				break
			}
			size[assign[worst]]--
			assign[worst] = c
			size[c]++
		}
		for c := range cent {
			clear(cent[c])
		}
		for j := 0; j < m; j++ {
			v, c := vec(j), cent[assign[j]]
			for i, x := range v.idx {
				c[x] += v.val[i]
			}
		}
		for c := range cent {
			n := 0.0
			for _, x := range cent[c] {
				n += x * x
			}
			if n > 0 {
				n = math.Sqrt(n)
				for i := range cent[c] {
					cent[c][i] /= n
				}
			}
		}
	}
	// final similarities to the final centres
	for j := 0; j < m; j++ {
		sims[j] = dot(vec(j), cent[assign[j]])
	}
	return assign, sims
}
