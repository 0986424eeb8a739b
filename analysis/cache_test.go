package analysis

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// cacheCodings makes codings of several codes with everything a coding can
// carry: memos, orphans, non-ASCII quotes, times with nanoseconds and before
// 1970.
func cacheCodings(t testing.TB, n int) []Coding {
	text := strings.Repeat("Résumé: we met at the allotment, «naïve» 😀 and tired.\n", 40)
	x := NewTextIndex(text)
	rng := rand.New(rand.NewPCG(1, 2))
	var cs []Coding
	for i := 0; i < n; i++ {
		start := rng.IntN(x.Len() - 30)
		tm := time.Date(1960+rng.IntN(80), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), 0, 0, rng.IntN(1e9), time.UTC)
		c, err := x.NewCoding(fmt.Sprintf("s%d", rng.IntN(5)), start, start+1+rng.IntN(29), fmt.Sprintf("code%d", rng.IntN(7)), "alice", OriginManual, tm)
		if err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			c.Memo = "a memo\nwith \"quotes\" and é"
		}
		if i%7 == 0 {
			c.Orphan = true
		}
		if i%3 == 0 {
			c.Segment = "t1.p1"
		}
		cs = append(cs, c)
	}
	return cs
}

func newTestCache(t *testing.T, cs []Coding) (CodingsCache, Store) {
	dir := t.TempDir()
	st := Store{Dir: filepath.Join(dir, "codings")}
	if cs != nil {
		if err := st.Save("alice", cs); err != nil {
			t.Fatal(err)
		}
	}
	return CodingsCache{Store: st, Dir: filepath.Join(dir, "cache")}, st
}

func TestCodingsCacheMatchesStore(t *testing.T) {
	cc, st := newTestCache(t, cacheCodings(t, 500))
	want, err := st.Load("alice")
	if err != nil {
		t.Fatal(err)
	}
	// The first call builds the cache, the second reads it.
	for round := 0; round < 2; round++ {
		got, err := cc.Load("alice", nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: cache gives %d codings differing from the store's %d", round, len(got), len(want))
		}
		if _, err := os.Stat(filepath.Join(cc.Dir, "alice.cache")); err != nil {
			t.Fatalf("round %d: no cache file: %v", round, err)
		}
	}
	sum, err := cc.Summary("alice")
	if err != nil {
		t.Fatal(err)
	}
	orphans, perCode := 0, map[string]int{}
	for _, c := range want {
		if c.Orphan {
			orphans++
		}
		perCode[c.Code]++
	}
	if sum.Codings != len(want) || sum.Orphans != orphans || !reflect.DeepEqual(sum.Codes, perCode) {
		t.Fatalf("summary %+v; want %d codings, %d orphans, %v", sum, len(want), orphans, perCode)
	}
}

func TestCodingsCacheFiltersByCode(t *testing.T) {
	cc, st := newTestCache(t, cacheCodings(t, 300))
	all, _ := st.Load("alice")
	keep := map[string]bool{"code1": true, "code4": true}
	var want []Coding
	for _, c := range all {
		if keep[c.Code] {
			want = append(want, c)
		}
	}
	got, err := cc.Load("alice", func(code string) bool { return keep[code] })
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %d codings of code1 and code4, want %d in file order", len(got), len(want))
	}
	none, err := cc.Load("alice", func(string) bool { return false })
	if err != nil || none != nil {
		t.Fatalf("keeping no code gave %d codings, %v", len(none), err)
	}
}

// An edit that keeps the size and the modification time is still seen.
func TestCodingsCacheSeesEditsKeepingSizeAndTime(t *testing.T) {
	cc, st := newTestCache(t, cacheCodings(t, 50))
	if _, err := cc.Load("alice", nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(st.Dir, "alice.jsonl")
	fi, _ := os.Stat(path)
	data, _ := os.ReadFile(path)
	edited := strings.Replace(string(data), `"code3"`, `"code9"`, 1)
	if edited == string(data) {
		t.Fatal("nothing to edit")
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	sum, err := cc.Summary("alice")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Codes["code9"] != 1 {
		t.Fatalf("the cache missed the edit: %v", sum.Codes)
	}
}

func TestCodingsCacheRebuildsDamagedCache(t *testing.T) {
	cc, st := newTestCache(t, cacheCodings(t, 80))
	want, _ := st.Load("alice")
	if _, err := cc.Load("alice", nil); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(cc.Dir, "alice.cache")
	for name, damage := range map[string]func([]byte) []byte{
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
		"empty":     func([]byte) []byte { return nil },
		"garbage":   func(b []byte) []byte { return []byte(strings.Repeat("x", len(b))) },
		"magic":     func(b []byte) []byte { c := append([]byte{}, b...); c[3] ^= 0xff; return c },
		"records":   func(b []byte) []byte { c := append([]byte{}, b...); c[len(cacheMagic)+3] ^= 0xff; return c },
		"middle":    func(b []byte) []byte { c := append([]byte{}, b...); c[len(c)/2] ^= 0x01; return c },
		"trailer":   func(b []byte) []byte { c := append([]byte{}, b...); c[len(c)-2] = 0xff; return c },
		"index":     func(b []byte) []byte { c := append([]byte{}, b...); c[len(c)-trailerSize-40] ^= 0x10; return c },
	} {
		data, _ := os.ReadFile(cache)
		if err := os.WriteFile(cache, damage(data), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := cc.Load("alice", nil)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s cache: %d codings, %v", name, len(got), err)
		}
	}
}

func TestCodingsCacheReportsFileErrorsAsLoad(t *testing.T) {
	cc, st := newTestCache(t, nil)
	if err := os.MkdirAll(st.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(st.Dir, "bob.jsonl"), []byte("{\"id\": \"x\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, want := st.Load("bob")
	_, got := cc.Load("bob", nil)
	if want == nil || got == nil || got.Error() != want.Error() {
		t.Fatalf("cache error %v; store error %v", got, want)
	}
	if _, err := os.Stat(filepath.Join(cc.Dir, "bob.cache")); err == nil {
		t.Fatal("a cache was written for a broken file")
	}
	// A coder without a file has nothing, and no cache.
	sum, err := cc.Summary("carol")
	if err != nil || sum.Codings != 0 {
		t.Fatalf("missing coder: %+v, %v", sum, err)
	}
	if _, err := cc.Summary("Bad Name"); err == nil {
		t.Fatal("an invalid coder name was accepted")
	}
}

// cacheProject makes a project-like folder (a thematic.yaml beside codings/)
// so that Store.Save keeps the cache in .thematic/codings.
func cacheProject(t *testing.T) Store {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "thematic.yaml"), []byte("name: t\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return Store{Dir: filepath.Join(root, "codings")}
}

// spreadCodings makes codings over several sources and codes, with the
// same spans coded with several codes, as autocoding and people do.
func spreadCodings(t testing.TB, n int, coder string) []Coding {
	text := strings.Repeat("Résumé: we met at the allotment, «naïve» 😀 and tired.\n", 40)
	x := NewTextIndex(text)
	rng := rand.New(rand.NewPCG(3, 4))
	var cs []Coding
	for i := 0; i < n; i++ {
		start := rng.IntN(x.Len() - 30)
		end := start + 1 + rng.IntN(29)
		tm := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		if i%4 == 0 {
			tm = tm.Add(time.Duration(rng.IntN(1e6)) * time.Millisecond)
		}
		for k := 0; k <= i%3; k++ {
			c, err := x.NewCoding(fmt.Sprintf("src-%02d", rng.IntN(12)), start, end, fmt.Sprintf("code%d", rng.IntN(9)), coder, OriginManual, tm)
			if err != nil {
				t.Fatal(err)
			}
			if i%6 == 0 {
				c.Segment = fmt.Sprintf("t%d.p1", i%5)
				c.Origin = "rule:x/1"
			}
			if i%11 == 0 {
				c.Memo = "why: «this»"
			}
			c.Orphan = i%13 == 0
			cs = append(cs, c)
		}
	}
	return cs
}

func TestSaveWritesTheCache(t *testing.T) {
	st := cacheProject(t)
	if st.CacheDir() == "" {
		t.Fatal("a project's store has no cache folder")
	}
	if (Store{Dir: t.TempDir()}).CacheDir() != "" {
		t.Fatal("a folder outside a project got a cache folder")
	}
	in := spreadCodings(t, 400, "alice")
	if err := st.Save("alice", in); err != nil {
		t.Fatal(err)
	}
	want, err := st.Load("alice")
	if err != nil {
		t.Fatal(err)
	}
	// The cache Save wrote is current: it opens as it is.
	key, _, err := keyOf(st.path("alice"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(st.CacheDir(), "alice.cache"))
	if err != nil {
		t.Fatal("no cache after Save:", err)
	}
	defer f.Close()
	state, err := readCache(f, key)
	if err != nil {
		t.Fatal("the cache Save wrote is not current:", err)
	}
	state.f = f
	got, err := state.read("alice", allBlocks(t, state))
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("the cache Save wrote gives %d codings (%v), the file %d", len(got), err, len(want))
	}
	// Update keeps it current too.
	err = st.Update("alice", func(cs []Coding) ([]Coding, error) { return cs[:len(cs)/2], nil })
	if err != nil {
		t.Fatal(err)
	}
	cc := CodingsCache{Store: st}
	want, _ = st.Load("alice")
	if got, err := cc.Load("alice", nil); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after Update: %d codings (%v), want %d", len(got), err, len(want))
	}
}

// allBlocks is every block of a cache.
func allBlocks(t *testing.T, st *cacheState) []cacheBlock {
	t.Helper()
	if err := st.index(); err != nil {
		t.Fatal(err)
	}
	var all []cacheBlock
	for g := range st.groups {
		st.blocks(g, func(b cacheBlock) bool { all = append(all, b); return true })
	}
	return all
}

// Codings whose strings are not valid UTF-8 are saved with U+FFFD: the
// cache must say what the file says, not what was in memory.
func TestSaveCacheOfInvalidUTF8(t *testing.T) {
	st := cacheProject(t)
	in := spreadCodings(t, 20, "alice")
	in[3].Memo = "bad \xff byte"
	if err := st.Save("alice", in); err != nil {
		t.Fatal(err)
	}
	want, err := st.Load("alice")
	if err != nil {
		t.Fatal(err)
	}
	got, err := CodingsCache{Store: st}.Load("alice", nil)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("cache %d codings (%v), file %d", len(got), err, len(want))
	}
	if !slices.ContainsFunc(got, func(c Coding) bool { return c.Memo == "bad \ufffd byte" }) {
		t.Fatal("the memo did not come back as the file has it")
	}
}

func TestCodingsCacheSelectsBySourceAndCode(t *testing.T) {
	st := cacheProject(t)
	if err := st.Save("alice", spreadCodings(t, 600, "alice")); err != nil {
		t.Fatal(err)
	}
	all, err := st.Load("alice")
	if err != nil {
		t.Fatal(err)
	}
	// Built by Save, and built from the file.
	for round := 0; round < 2; round++ {
		if round == 1 {
			os.Remove(filepath.Join(st.CacheDir(), "alice.cache"))
		}
		cc, err := CodingsCache{Store: st}.Open("alice")
		if err != nil {
			t.Fatal(err)
		}
		filters := []struct {
			name         string
			code, source func(string) bool
		}{
			{"all", nil, nil},
			{"one code", func(c string) bool { return c == "code3" }, nil},
			{"one source", nil, func(s string) bool { return s == "src-07" }},
			{"both", func(c string) bool { return c != "code1" }, func(s string) bool { return s < "src-05" }},
			{"none", func(string) bool { return false }, nil},
			{"unknown source", nil, func(s string) bool { return s == "nowhere" }},
		}
		for _, f := range filters {
			var want []Coding
			for _, c := range all {
				if (f.code == nil || f.code(c.Code)) && (f.source == nil || f.source(c.Source)) {
					want = append(want, c)
				}
			}
			got, err := cc.Select(f.code, f.source)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, %s: %d codings (%v), want %d in file order", round, f.name, len(got), err, len(want))
			}
		}
		counts := map[[2]string]int{}
		var sources []string
		for _, c := range all {
			counts[[2]string{c.Code, c.Source}]++
			if !slices.Contains(sources, c.Source) {
				sources = append(sources, c.Source)
			}
		}
		slices.Sort(sources)
		for _, id := range append(sources, "nowhere") {
			var want []Coding
			for _, c := range all {
				if c.Source == id {
					want = append(want, c)
				}
			}
			got, err := cc.Source(id)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("Source(%s): %d codings (%v), want %d", id, len(got), err, len(want))
			}
			var scanned []string
			err = cc.Scan(id, func(c *Coding) error {
				scanned = append(scanned, c.ID+c.Quote+c.Code)
				return nil
			})
			var wantIDs []string
			for _, c := range want {
				wantIDs = append(wantIDs, c.ID+c.Quote+c.Code)
			}
			slices.Sort(scanned)
			slices.Sort(wantIDs)
			if err != nil || !slices.Equal(scanned, wantIDs) {
				t.Fatalf("Scan(%s): %d codings (%v), want %d", id, len(scanned), err, len(wantIDs))
			}
		}
		got, err := cc.Counts()
		if err != nil {
			t.Fatal(err)
		}
		gotCounts := map[[2]string]int{}
		pairs := 0
		for k := range got {
			gotCounts[[2]string{k.Code, k.Source}] += k.Codings
			pairs++
		}
		if !reflect.DeepEqual(gotCounts, counts) || pairs != len(counts) {
			t.Fatalf("counts %v, want %v", gotCounts, counts)
		}
		if got, err := cc.Sources(); err != nil || !slices.Equal(got, sources) {
			t.Fatalf("sources %v, want %v", got, sources)
		}
		stop := errors.New("stop")
		n := 0
		if err := cc.Scan("src-03", func(*Coding) error { n++; return stop }); err != stop || n != 1 {
			t.Fatalf("Scan did not stop: %v after %d", err, n)
		}
		cc.Close()
	}
}

// A file edited by hand need not be in canonical order: codings of a source
// may come back after others, and the cache keeps the file's order.
func TestCodingsCacheOfUnsortedFile(t *testing.T) {
	st := cacheProject(t)
	cs := spreadCodings(t, 60, "alice")
	rand.New(rand.NewPCG(5, 6)).Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	var buf strings.Builder
	seen := map[string]bool{}
	for i := range cs {
		if seen[cs[i].ID] {
			continue
		}
		seen[cs[i].ID] = true
		buf.Write(appendCoding(nil, &cs[i], cs[i].ID))
		buf.WriteByte('\n')
	}
	os.MkdirAll(st.Dir, 0o755)
	if err := os.WriteFile(st.path("alice"), []byte(buf.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := st.Load("alice")
	if err != nil {
		t.Fatal(err)
	}
	cc, err := CodingsCache{Store: st}.Open("alice")
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if got, err := cc.Select(nil, nil); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("all: %d codings (%v), want %d in file order", len(got), err, len(want))
	}
	var src7 []Coding
	for _, c := range want {
		if c.Source == "src-07" {
			src7 = append(src7, c)
		}
	}
	if got, err := cc.Source("src-07"); err != nil || len(src7) == 0 || !reflect.DeepEqual(got, src7) {
		t.Fatalf("one source: %d codings (%v), want %d in file order", len(got), err, len(src7))
	}
	counts, err := cc.Counts()
	if err != nil {
		t.Fatal(err)
	}
	got, wantCounts := map[[2]string]int{}, map[[2]string]int{}
	for k := range counts {
		got[[2]string{k.Code, k.Source}] += k.Codings
	}
	for _, c := range want {
		wantCounts[[2]string{c.Code, c.Source}]++
	}
	if !reflect.DeepEqual(got, wantCounts) {
		t.Fatalf("counts %v, want %v", got, wantCounts)
	}
}

// A cache built from a file read in many pieces (whose buffers are reused)
// must not keep strings from a reused buffer.
func TestCodingsCacheBuiltFromManyPieces(t *testing.T) {
	defer func(n int) { scanChunk = n }(scanChunk)
	scanChunk = 4 << 10
	st := cacheProject(t)
	st.Cache = filepath.Join(t.TempDir(), "elsewhere")
	if err := st.Save("alice", spreadCodings(t, 900, "alice")); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(st.Cache) // built from the file, not by Save
	want, err := st.Load("alice")
	if err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ {
		got, err := CodingsCache{Store: st}.Load("alice", nil)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d: %d codings (%v), want %d", round, len(got), err, len(want))
		}
	}
	sum, _ := CodingsCache{Store: st}.Summary("alice")
	perCode := map[string]int{}
	for _, c := range want {
		perCode[c.Code]++
	}
	if !reflect.DeepEqual(sum.Codes, perCode) {
		t.Fatalf("summary %v, want %v", sum.Codes, perCode)
	}
}

func TestCodingsCacheReportsDuplicateIDsAsLoad(t *testing.T) {
	st := cacheProject(t)
	os.MkdirAll(st.Dir, 0o755)
	line := `{"id":"a1","source":"s","start":0,"end":3,"quote":"abc","code":"c","coder":"alice","origin":"manual","time":"2026-03-01T14:05:00Z"}`
	os.WriteFile(st.path("alice"), []byte(line+"\n"+strings.Replace(line, `"c"`, `"d"`, 1)+"\n"), 0o644)
	_, want := st.Load("alice")
	_, got := CodingsCache{Store: st}.Open("alice")
	if want == nil || got == nil || got.Error() != want.Error() {
		t.Fatalf("cache error %v; store error %v", got, want)
	}
}

// Many goroutines reading one open cache, while it is found damaged and
// built again, get the right codings.
func TestCodingsCacheConcurrentReads(t *testing.T) {
	st := cacheProject(t)
	if err := st.Save("alice", spreadCodings(t, 300, "alice")); err != nil {
		t.Fatal(err)
	}
	all, _ := st.Load("alice")
	cc, err := CodingsCache{Store: st}.Open("alice")
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	// Damage a block of the open file.
	path := filepath.Join(st.CacheDir(), "alice.cache")
	data, _ := os.ReadFile(path)
	data[len(cacheMagic)+5] ^= 0x20
	f, _ := os.OpenFile(path, os.O_WRONLY, 0)
	f.WriteAt(data[len(cacheMagic)+5:len(cacheMagic)+6], int64(len(cacheMagic)+5))
	f.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			id := fmt.Sprintf("src-%02d", g)
			var want []Coding
			for _, c := range all {
				if c.Source == id {
					want = append(want, c)
				}
			}
			got, err := cc.Source(id)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: %d codings (%v), want %d", id, len(got), err, len(want))
			}
		})
	}
	wg.Wait()
}

func TestCountCodeSourcesAgreesWithCountCodes(t *testing.T) {
	cb := opsTestParse(t, opsTestCodebook)
	rng := rand.New(rand.NewPCG(11, 12))
	codes := []string{"place", "arriving", "welcome", "tools", "growing", "plots", "ghost", "gone"}
	cases := map[string]string{"s1": "P1", "s2": "P1", "s3": "P2", "s5": "P3"}
	caseOf := func(s string) string { return cases[s] }
	for round := 0; round < 50; round++ {
		var cs []Coding
		for range rng.IntN(40) {
			start := rng.IntN(20)
			cs = append(cs, opsTestCoding(fmt.Sprintf("s%d", 1+rng.IntN(6)), start, start+1+rng.IntN(5), codes[rng.IntN(len(codes))], "alice"))
		}
		n := map[[2]string]int{}
		for _, c := range cs {
			n[[2]string{c.Code, c.Source}]++
		}
		var counts []CodeSourceCount
		for k, v := range n {
			counts = append(counts, CodeSourceCount{Code: k[0], Source: k[1], Codings: v})
		}
		for _, of := range []func(string) string{caseOf, nil} {
			want := CountCodes(cb, cs, of)
			got := CountCodeSources(cb, slices.Values(counts), of)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d:\n got %+v\nwant %+v", round, got, want)
			}
		}
	}
}

// BenchmarkCodingsCache1M compares reading 1M codings from the cache with
// parsing the jsonl (BenchmarkLoad1M), and reading one code's share, one
// source's, and the counts of every code in every source.
func BenchmarkCodingsCache1M(b *testing.B) {
	cs, data := bigCodings(b)
	dir := b.TempDir()
	st := Store{Dir: filepath.Join(dir, "codings"), Cache: filepath.Join(dir, "cache")}
	if err := st.Save("alice", cs); err != nil {
		b.Fatal(err)
	}
	cc := CodingsCache{Store: st}
	b.Run("summary", func(b *testing.B) {
		for b.Loop() {
			if s, err := cc.Summary("alice"); err != nil || s.Codings != len(cs) {
				b.Fatal(err)
			}
		}
	})
	b.Run("all", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if got, err := cc.Load("alice", nil); err != nil || len(got) != len(cs) {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-code", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := cc.Load("alice", func(c string) bool { return c == "code-07" }); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-source", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			o, err := cc.Open("alice")
			if err != nil {
				b.Fatal(err)
			}
			if got, err := o.Source("interview-007"); err != nil || len(got) == 0 {
				b.Fatal(err)
			}
			o.Close()
		}
	})
	b.Run("counts", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			o, err := cc.Open("alice")
			if err != nil {
				b.Fatal(err)
			}
			got, err := o.Counts()
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for k := range got {
				n += k.Codings
			}
			if n != len(cs) {
				b.Fatal(n)
			}
			o.Close()
		}
	})
	b.Run("build", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			os.Remove(filepath.Join(st.Cache, "alice.cache"))
			if _, err := cc.Summary("alice"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
