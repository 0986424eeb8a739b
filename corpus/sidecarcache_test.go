package corpus

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// cacheProject ingests a few sources of different kinds: an interview with
// speakers and non-ASCII text, a diary with dated entries, and a subtitle
// file with timestamps.
func cacheProject(t *testing.T) *Project {
	t.Helper()
	dir := t.TempDir()
	p, err := Init(filepath.Join(dir, "study"), "study")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"P01-interview.txt": "I: How did it start, Zoë?\n\nP: We met at the café. It was cold.\nVery cold.\n\nI: And then?\n\nP: Then we stayed. 😀 Really.\n",
		"diary.md":          "## 2024-03-01\n\nPlanted beans. Tired.\n\n## 2024-03-02\n\nRain all day.\n",
		"talk.vtt":          "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Ann>Hello there.\n\n00:00:04.000 --> 00:00:06.000\n<v Bo>Hi. How are you?\n",
	}
	var paths []string
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	slices.Sort(paths)
	if _, err := p.Ingest(paths, IngestOptions{Attrs: map[string]string{"site": "Leeds"}}); err != nil {
		t.Fatal(err)
	}
	return p
}

// sidecarSource decodes a source's sidecar with encoding/json alone: the
// reference the cache must agree with.
func sidecarSource(t *testing.T, p *Project, id string, withText bool) *Source {
	t.Helper()
	data, err := os.ReadFile(p.Path(SourcesDir, id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var src Source
	if err := json.Unmarshal(data, &src); err != nil {
		t.Fatal(err)
	}
	if withText {
		text, err := os.ReadFile(p.Path(SourcesDir, id+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		src.Text = string(text)
	}
	return &src
}

func sameSource(t *testing.T, what string, got, want *Source) {
	t.Helper()
	if !got.Ingested.Equal(want.Ingested) {
		t.Fatalf("%s: %s ingested %v, want %v", what, want.ID, got.Ingested, want.Ingested)
	}
	g, w := *got, *want
	g.Ingested, w.Ingested = time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("%s: source\n%+v\nwant\n%+v", what, g, w)
	}
}

func TestSourceCacheAgreesWithSidecars(t *testing.T) {
	p := cacheProject(t)
	ids, err := p.SourceIDs()
	if err != nil || len(ids) != 3 {
		t.Fatalf("ids %v, %v", ids, err)
	}
	for _, id := range ids {
		// The entry is made by the first read, read by the second; then it
		// is removed and made again.
		for round, prepare := range []func(){func() {}, func() { os.Remove(p.sourceCachePath(id)) }, func() {}} {
			prepare()
			for _, withText := range []bool{false, true} {
				got, err := p.Source(id, withText)
				if err != nil {
					t.Fatal(err)
				}
				sameSource(t, fmt.Sprintf("%s round %d text %v", id, round, withText), got, sidecarSource(t, p, id, withText))
			}
			if _, err := os.Stat(p.sourceCachePath(id)); err != nil {
				t.Fatalf("%s round %d: no cache entry: %v", id, round, err)
			}
		}
	}
}

// A sidecar edited by hand (here: a speaker renamed, keeping the size) is
// read again; so is a text edited after its entry was made.
func TestSourceCacheFollowsEdits(t *testing.T) {
	p := cacheProject(t)
	id := "p01-interview"
	if _, err := p.Source(id, false); err != nil {
		t.Fatal(err)
	}
	path := p.Path(SourcesDir, id+".json")
	data, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	edited := strings.ReplaceAll(string(data), `"speaker": "P"`, `"speaker": "Q"`) // the same size
	if edited == string(data) {
		t.Fatalf("nothing to edit in %s", data)
	}
	os.WriteFile(path, []byte(edited), 0o644)
	os.Chtimes(path, fi.ModTime(), fi.ModTime())
	got, err := p.Source(id, false)
	if err != nil {
		t.Fatal(err)
	}
	sameSource(t, "edited sidecar", got, sidecarSource(t, p, id, false))
	if got.Segments[len(got.Segments)-1].Speaker != "Q" {
		t.Fatalf("edit not seen: %+v", got.Segments[len(got.Segments)-1])
	}

	// A text changed behind the sidecar's back is refused, cache or not.
	txt := p.Path(SourcesDir, id+".txt")
	os.WriteFile(txt, []byte("something else entirely\n"), 0o644)
	if _, err := p.Source(id, true); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("changed text: err = %v", err)
	}
	if _, err := p.Layout(id); err == nil {
		t.Fatal("a layout of a changed text")
	}
	if _, err := p.Source(id, false); err != nil {
		t.Fatalf("the sidecar alone is still readable: %v", err)
	}
}

func TestSourceCacheRebuildsDamagedEntries(t *testing.T) {
	p := cacheProject(t)
	id := "diary"
	want := sidecarSource(t, p, id, true)
	if _, err := p.Source(id, false); err != nil { // makes the entry
		t.Fatal(err)
	}
	entry := p.sourceCachePath(id)
	good, err := os.ReadFile(entry)
	if err != nil {
		t.Fatal(err)
	}
	for name, damage := range map[string]func([]byte) []byte{
		"empty":     func([]byte) []byte { return nil },
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
		"flipped":   func(b []byte) []byte { c := slices.Clone(b); c[len(c)-3] ^= 0x40; return c },
		"version":   func(b []byte) []byte { c := slices.Clone(b); c[len(sourceCacheMagic)]++; return c },
		"garbage":   func(b []byte) []byte { return []byte(strings.Repeat("x", len(b))) },
	} {
		os.WriteFile(entry, damage(good), 0o644)
		got, err := p.Source(id, true)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sameSource(t, name, got, want)
		if l, err := p.Layout(id); err != nil || l.Len() != len([]rune(want.Text)) {
			t.Fatalf("%s: layout %v", name, err)
		}
	}
}

// Every byte of an entry damaged in turn: the CRC refuses it; and with the
// CRC made to match, decoding still never panics or runs away.
func TestSourceCacheDecodeNeverTrustsDamage(t *testing.T) {
	p := cacheProject(t)
	id := "p01-interview"
	src := sidecarSource(t, p, id, true)
	sk, tk, _ := p.sourceKeys(id)
	good := encodeSourceCache(src, src.Text, sk, tk)
	for i := range good {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b := slices.Clone(good)
			b[i] ^= x
			if src, err := decodeSourceCache(b, sk, tk, true); err == nil {
				t.Fatalf("byte %d ^ %#x accepted: %+v", i, x, src)
			}
			head := len(sourceCacheMagic) + 5
			if i >= head {
				binary.LittleEndian.PutUint32(b[head-4:], crc32.Checksum(b[head:], castagnoli))
				decodeSourceCache(b, sk, tk, true)
				decodeLayout(b, sk, tk)
			}
		}
	}
}

func TestLayoutLinesAndPlaces(t *testing.T) {
	p := cacheProject(t)
	for _, id := range []string{"p01-interview", "diary", "talk"} {
		src := sidecarSource(t, p, id, true)
		runes := []rune(src.Text)
		for round := 0; round < 2; round++ { // from the entry, then made again
			if round == 1 {
				os.Remove(p.sourceCachePath(id))
			}
			l, err := p.Layout(id)
			if err != nil {
				t.Fatal(err)
			}
			if l.Len() != len(runes) {
				t.Fatalf("%s: length %d, want %d", id, l.Len(), len(runes))
			}
			for start := -1; start <= len(runes)+1; start++ {
				wantLine := 1 + strings.Count(string(runes[:min(max(start, 0), len(runes))]), "\n")
				if got := l.Line(start); got != wantLine {
					t.Fatalf("%s: line of %d is %d, want %d", id, start, got, wantLine)
				}
				for _, n := range []int{1, 5, 40} {
					wantSp, wantSeg := placeLinear(src.Segments, min(max(start, 0), len(runes)), min(start+n, len(runes)))
					sp, seg := l.Place(start, start+n)
					if sp != wantSp || seg != wantSeg {
						t.Fatalf("%s: place of %d-%d is %q %q, want %q %q", id, start, start+n, sp, seg, wantSp, wantSeg)
					}
				}
			}
		}
	}
}

// placeLinear is the plain walk over every segment that Layout.Place
// replaces: the speaker of the first segment holding start that has one, and
// the smallest segment holding [start, end), the later one on a tie.
func placeLinear(segs []Segment, start, end int) (speaker, segment string) {
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
func nestedSegments(rng *rand.Rand) []Segment {
	var segs []Segment
	pos := 0
	for t := 1; t <= 1+rng.IntN(6); t++ {
		pos += rng.IntN(3)
		ts := pos
		turn := len(segs)
		speaker := []string{"", "Ann", "Bo"}[rng.IntN(3)]
		segs = append(segs, Segment{ID: fmt.Sprintf("t%d", t), Unit: UnitTurn, Start: ts, Speaker: speaker})
		for p := 1; p <= 1+rng.IntN(3); p++ {
			pos += rng.IntN(2)
			ps := pos
			para := len(segs)
			segs = append(segs, Segment{ID: fmt.Sprintf("t%d.p%d", t, p), Unit: UnitParagraph, Parent: segs[turn].ID, Start: ps, Speaker: []string{"", speaker}[rng.IntN(2)]})
			for k := 1; k <= 1+rng.IntN(4); k++ {
				ss := pos
				pos += rng.IntN(8)
				segs = append(segs, Segment{ID: fmt.Sprintf("t%d.p%d.s%d", t, p, k), Unit: UnitSentence, Parent: segs[para].ID, Start: ss, End: pos})
			}
			segs[para].End = pos
		}
		segs[turn].End = pos
	}
	return segs
}

// Layout.Place, which looks only at the segments that can hold a position,
// agrees with the walk over all of them, for segments in order and not, as
// built from a source and as read back from an entry.
func TestLayoutPlaceMatchesLinearWalk(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	for round := 0; round < 300; round++ {
		segs := nestedSegments(rng)
		if round%10 == 0 {
			rng.Shuffle(len(segs), func(i, j int) { segs[i], segs[j] = segs[j], segs[i] })
		}
		last := segs[len(segs)-1].End + 3
		for _, end := range segs {
			last = max(last, end.End+3)
		}
		src := &Source{ID: "s", Segments: segs}
		text := strings.Repeat("x", last)
		built, err := layoutOf(src, text)
		if err != nil {
			t.Fatal(err)
		}
		sk := fileKey{Size: 1, MTime: 2, CTime: 3, Ino: 4}
		decoded, err := decodeLayout(encodeSourceCache(src, text, sk, sk), sk, sk)
		if err != nil {
			t.Fatal(err)
		}
		for q := 0; q < 50; q++ {
			start := rng.IntN(last + 1)
			end := min(start+rng.IntN(10), last)
			wantSp, wantSeg := placeLinear(segs, start, end)
			for name, l := range map[string]*Layout{"built": built, "decoded": decoded} {
				if sp, seg := l.Place(start, end); sp != wantSp || seg != wantSeg {
					t.Fatalf("%s, round %d, span %d-%d: got %q %q, want %q %q\n%+v", name, round, start, end, sp, seg, wantSp, wantSeg, segs)
				}
			}
		}
	}
}

func TestEachSourceInOrderAndStops(t *testing.T) {
	p := cacheProject(t)
	ids, _ := p.SourceIDs()
	var got []string
	err := p.EachSource(true, func(s *Source) error {
		if s.Text == "" || len(s.Segments) == 0 {
			t.Errorf("%s: no text or segments", s.ID)
		}
		sameSource(t, "each", s, sidecarSource(t, p, s.ID, true))
		got = append(got, s.ID)
		return nil
	})
	if err != nil || !slices.Equal(got, ids) {
		t.Fatalf("EachSource gave %v, %v; want %v", got, err, ids)
	}
	stop := fmt.Errorf("stop")
	n := 0
	if err := p.EachSource(false, func(*Source) error { n++; return stop }); err != stop || n != 1 {
		t.Fatalf("stopping: %v after %d", err, n)
	}
	// A source that cannot be read stops the walk with its error.
	os.WriteFile(p.Path(SourcesDir, ids[1]+".json"), []byte("{"), 0o644)
	got = nil
	err = p.EachSource(false, func(s *Source) error { got = append(got, s.ID); return nil })
	if err == nil || !strings.Contains(err.Error(), "broken sidecar") || !slices.Equal(got, ids[:1]) {
		t.Fatalf("broken sidecar: %v after %v", err, got)
	}
}

// BenchmarkSourceCache compares reading a source of 2,000 segments through
// its cache entry with decoding its sidecar.
func BenchmarkSourceCache(b *testing.B) {
	dir := b.TempDir()
	p, err := Init(filepath.Join(dir, "study"), "study")
	if err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for i := range 500 {
		fmt.Fprintf(&sb, "%s: Well, I think the garden was the first place. We met there in spring. It rained.\n\n", []string{"I", "P"}[i%2])
	}
	path := filepath.Join(dir, "long.txt")
	os.WriteFile(path, []byte(sb.String()), 0o644)
	if _, err := p.Ingest([]string{path}, IngestOptions{}); err != nil {
		b.Fatal(err)
	}
	b.Run("cache", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Source("long", false); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sidecar", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.readSidecar("long"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("layout", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Layout("long"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// ReadAhead hands the loads out in order, never more than a few ahead of
// the caller, and returns the first error in order of i, of load or fn.
func TestReadAhead(t *testing.T) {
	const n = 50
	var mu sync.Mutex
	loaded, handed := 0, 0
	maxAhead := 0
	load := func(fail int) func(i int) (*Source, error) {
		return func(i int) (*Source, error) {
			mu.Lock()
			loaded++
			maxAhead = max(maxAhead, loaded-handed)
			mu.Unlock()
			if i == fail || i == fail+3 {
				return nil, fmt.Errorf("load %d", i)
			}
			return &Source{ID: fmt.Sprint(i)}, nil
		}
	}
	var got []string
	err := ReadAhead(n, load(-10), func(i int, src *Source) error {
		mu.Lock()
		handed++
		mu.Unlock()
		if src.ID != fmt.Sprint(i) {
			t.Errorf("fn(%d) got source %s", i, src.ID)
		}
		got = append(got, src.ID)
		return nil
	})
	if err != nil || len(got) != n {
		t.Fatalf("err %v, %d sources", err, len(got))
	}
	if limit := runtime.GOMAXPROCS(0) + 2; maxAhead > limit {
		t.Errorf("%d loads ahead of the caller, want at most %d", maxAhead, limit)
	}
	loaded, handed, got = 0, 0, nil
	err = ReadAhead(n, load(7), func(i int, src *Source) error { got = append(got, src.ID); return nil })
	if err == nil || err.Error() != "load 7" || len(got) != 7 {
		t.Errorf("err %v after %d sources, want load 7's after 7", err, len(got))
	}
	if loaded >= n {
		t.Errorf("all %d sources were loaded after the error", loaded)
	}
	stop := fmt.Errorf("stop")
	err = ReadAhead(n, load(-10), func(i int, src *Source) error {
		if i == 4 {
			return stop
		}
		return nil
	})
	if err != stop {
		t.Errorf("err %v, want fn's", err)
	}
}
