package analysis

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
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
		"header":    func(b []byte) []byte { c := append([]byte{}, b...); c[len(cacheMagic)+3] ^= 0xff; return c },
		"records":   func(b []byte) []byte { c := append([]byte{}, b...); c[len(c)-2] = 0xff; return c },
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

// BenchmarkCodingsCache1M compares reading 1M codings from the cache with
// parsing the jsonl (BenchmarkLoad1M), and reading one code's share.
func BenchmarkCodingsCache1M(b *testing.B) {
	cs, data := bigCodings(b)
	dir := b.TempDir()
	st := Store{Dir: filepath.Join(dir, "codings")}
	if err := st.Save("alice", cs); err != nil {
		b.Fatal(err)
	}
	cc := CodingsCache{Store: st, Dir: filepath.Join(dir, "cache")}
	if _, err := cc.Summary("alice"); err != nil {
		b.Fatal(err)
	}
	b.Run("summary", func(b *testing.B) {
		for b.Loop() {
			if s, err := cc.Summary("alice"); err != nil || s.Codings != len(cs) {
				b.Fatal(err)
			}
		}
	})
	b.Run("all", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if got, err := cc.Load("alice", nil); err != nil || len(got) != len(cs) {
				b.Fatal(err)
			}
		}
	})
	b.Run("one-code", func(b *testing.B) {
		for b.Loop() {
			if _, err := cc.Load("alice", func(c string) bool { return c == "code-07" }); err != nil {
				b.Fatal(err)
			}
		}
	})
}
