package corpus

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// wantInfos derives the infos from the sidecars themselves.
func wantInfos(t *testing.T, p *Project) []SourceInfo {
	t.Helper()
	srcs, err := p.Sources(false)
	if err != nil {
		t.Fatal(err)
	}
	var out []SourceInfo
	for _, s := range srcs {
		units := map[string]int{}
		for _, g := range s.Segments {
			units[g.Unit]++
		}
		c := *s
		c.Segments = nil
		out = append(out, SourceInfo{Source: c, Units: units})
	}
	return out
}

func sameInfos(t *testing.T, what string, got, want []SourceInfo) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d infos, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.Ingested.Equal(w.Ingested) {
			t.Fatalf("%s: %s ingested %v, want %v", what, g.ID, g.Ingested, w.Ingested)
		}
		g.Ingested, w.Ingested = time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("%s: info\n%+v\nwant\n%+v", what, g, w)
		}
	}
}

func TestSourceInfosFollowTheSidecars(t *testing.T) {
	dir := t.TempDir()
	p, err := Init(filepath.Join(dir, "study"), "study")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"P01-interview.txt": "I: How did it start?\n\nP: We met at the garden. It was cold.\n\nI: And then?\n\nP: Then we stayed.\n",
		"diary.md":          "## 2024-03-01\n\nPlanted beans. Tired.\n\n## 2024-03-02\n\nRain all day.\n",
	}
	write := func() {
		for name, text := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write()
	if _, err := p.Ingest([]string{filepath.Join(dir, "P01-interview.txt"), filepath.Join(dir, "diary.md")}, IngestOptions{Attrs: map[string]string{"site": "Leeds"}}); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < 2; round++ { // built, then read from the cache
		got, err := p.SourceInfos()
		if err != nil {
			t.Fatal(err)
		}
		sameInfos(t, "fresh", got, wantInfos(t, p))
	}
	if _, err := os.Stat(p.Path(CacheDir, sourceInfoCacheFile)); err != nil {
		t.Fatal("no cache written:", err)
	}

	// A changed source is read again.
	files["diary.md"] += "\n## 2024-03-03\n\nHarvest. Shared the beans with the committee.\n"
	write()
	if _, err := p.Ingest([]string{filepath.Join(dir, "diary.md")}, IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := p.SourceInfos()
	if err != nil {
		t.Fatal(err)
	}
	sameInfos(t, "after re-ingest", got, wantInfos(t, p))
	if got[0].Units[UnitTurn] != 3 {
		t.Fatalf("diary entries: %v", got[0].Units)
	}

	// A damaged cache is ignored; a removed source disappears.
	if err := os.WriteFile(p.Path(CacheDir, sourceInfoCacheFile), []byte("not gob"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.RemoveSource(got[0].ID); err != nil {
		t.Fatal(err)
	}
	got, err = p.SourceInfos()
	if err != nil {
		t.Fatal(err)
	}
	sameInfos(t, "after removal", got, wantInfos(t, p))
	if len(got) != 1 {
		t.Fatalf("%d sources after removing one of two", len(got))
	}

	// A broken sidecar is an error naming it, as with Sources.
	if err := os.WriteFile(p.Path(SourcesDir, got[0].ID+".json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, want := p.Sources(false)
	if _, err := p.SourceInfos(); err == nil || want == nil || err.Error() != want.Error() {
		t.Fatalf("broken sidecar: %v; Sources says %v", err, want)
	}
}
