package corpus

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// indexProject makes a project with n small interviews ingested, and the
// sidecars' times set in the past, as they are once ingest is long done.
func indexProject(t testing.TB, n int) *Project {
	t.Helper()
	dir := t.TempDir()
	p, err := Init(filepath.Join(dir, "study"), "study")
	if err != nil {
		t.Fatal(err)
	}
	docs := filepath.Join(dir, "docs")
	if err := os.MkdirAll(docs, 0o755); err != nil {
		t.Fatal(err)
	}
	// Known cases, so that ingest gives each source its case.
	rows := "case\n"
	for i := 0; i < n; i++ {
		rows += fmt.Sprintf("P%02d\n", i)
	}
	if err := os.WriteFile(p.Path(CasesFile), []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		text := fmt.Sprintf("Interviewer: How was week %d?\n\nP%02d: The allotment was hard, boundaries again.\n\nThe compost is fine.\n", i, i)
		if err := os.WriteFile(filepath.Join(docs, fmt.Sprintf("P%02d-int.txt", i)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.Ingest([]string{docs}, IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	ageSidecars(t, p)
	return p
}

// ageSidecars sets every sidecar's time an hour back, out of the window in
// which a stamp is not trusted.
func ageSidecars(t testing.TB, p *Project) {
	t.Helper()
	ids, err := p.SourceIDs()
	if err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	for _, id := range ids {
		if err := os.Chtimes(p.Path(SourcesDir, id+".json"), old, old); err != nil {
			t.Fatal(err)
		}
	}
}

func openProjectIndex(t *testing.T, p *Project) (*Index, syncProgress) {
	t.Helper()
	var pr syncProgress
	ix, err := p.OpenIndex(pr.fn)
	if err != nil {
		t.Fatal(err)
	}
	return ix, pr
}

// An up-to-date project index is opened without reading any source: here a
// text that no longer matches its sidecar would fail to load, and goes
// unnoticed until its sidecar or its case's row changes.
func TestProjectIndexReadsOnlyChangedSources(t *testing.T) {
	p := indexProject(t, 3)
	ix, pr := openProjectIndex(t, p)
	if pr.total != 3 {
		t.Fatalf("first open indexed %d sources, want 3", pr.total)
	}
	if hits := mustSearch(t, ix, SearchRequest{Query: "allotment"}); len(hits) != 3 {
		t.Fatalf("allotment: %v", hitIDs(hits))
	}
	ix.Close()

	// Damage a text: loading it would now fail.
	txt := p.Path(SourcesDir, "p01-int.txt")
	if err := os.WriteFile(txt, []byte("not the text the sidecar hashed"), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, pr = openProjectIndex(t, p)
	if pr.calls != 0 {
		t.Errorf("an unchanged project re-indexed %d sources", pr.total)
	}
	ix.Close()

	if st := ix.man.Stamps["p01-int"]; st.Ino == 0 {
		t.Logf("no file numbers here: stamps are size and time only")
	}
	// A sidecar rewritten with the same content (its time changed) is read
	// without its text, found unchanged and not re-indexed.
	side := p.Path(SourcesDir, "p01-int.json")
	older := time.Now().Add(-30 * time.Minute)
	if err := os.Chtimes(side, older, older); err != nil {
		t.Fatal(err)
	}
	ix, pr = openProjectIndex(t, p)
	if pr.calls != 0 {
		t.Errorf("a touched sidecar re-indexed %d sources", pr.total)
	}
	ix.Close()

	// A new row in cases.csv for the damaged source's case changes its
	// attributes: it must be re-indexed, so its text is read, and the
	// damage is reported.
	if err := os.WriteFile(p.Path(CasesFile), []byte("case,site\nP00,\nP01,Leeds\nP02,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if ix, err := p.OpenIndex(nil); err == nil {
		ix.Close()
		t.Fatal("re-indexing a source with a damaged text succeeded")
	} else if !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("re-indexing a damaged source: %v", err)
	}
}

// Case attributes and removed sources reach the index; sources of other
// cases are not re-indexed when a row changes.
func TestProjectIndexFollowsCasesAndRemovals(t *testing.T) {
	p := indexProject(t, 3)
	ix, _ := openProjectIndex(t, p)
	ix.Close()
	if err := os.WriteFile(p.Path(CasesFile), []byte("case,site\nP00,\nP01,\nP02,York\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, pr := openProjectIndex(t, p)
	if pr.total != 1 {
		t.Errorf("a new row for P02 re-indexed %d sources, want 1", pr.total)
	}
	if hits := mustSearch(t, ix, SearchRequest{Query: "compost", Attrs: map[string]string{"site": "York"}}); len(hits) != 1 || hits[0].Source != "p02-int" {
		t.Errorf("compost at York: %v", hitIDs(hits))
	}
	ix.Close()

	if err := p.RemoveSource("p00-int"); err != nil {
		t.Fatal(err)
	}
	ix, _ = openProjectIndex(t, p)
	defer ix.Close()
	if hits := mustSearch(t, ix, SearchRequest{Sources: []string{"p00-int"}}); len(hits) != 0 {
		t.Errorf("removed source still indexed: %v", hitIDs(hits))
	}
	if _, ok := ix.man.Stamps["p00-int"]; ok {
		t.Error("removed source keeps its stamp")
	}
}

// A sidecar written just now carries no stamp: a second write within the
// same tick of the file system's clock would keep its time. (Whole seconds
// stand for a clock of seconds.)
func TestProjectIndexRecentSidecarIsHashedAgain(t *testing.T) {
	p := indexProject(t, 1)
	now := time.Now().Truncate(time.Second)
	side := p.Path(SourcesDir, "p00-int.json")
	if err := os.Chtimes(side, now, now); err != nil {
		t.Fatal(err)
	}
	ix, _ := openProjectIndex(t, p)
	defer ix.Close()
	if st, ok := ix.man.Stamps["p00-int"]; ok {
		t.Errorf("a sidecar written just now got the stamp %+v", st)
	}
}

func TestProjectIndexDamagedSidecar(t *testing.T) {
	p := indexProject(t, 2)
	if err := os.WriteFile(p.Path(SourcesDir, "p01-int.json"), []byte("{broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	ix, err := p.OpenIndex(nil)
	if err == nil {
		ix.Close()
		t.Fatal("a broken sidecar was indexed")
	}
	if !strings.Contains(err.Error(), "p01-int.json") {
		t.Errorf("broken sidecar: %v, want an error naming it", err)
	}
}

// BenchmarkOpenProjectIndex opens the index of an up-to-date project of
// 300 sources, as every search does.
func BenchmarkOpenProjectIndex(b *testing.B) {
	p := indexProject(b, 300)
	ix, err := p.OpenIndex(nil)
	if err != nil {
		b.Fatal(err)
	}
	ix.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix, err := p.OpenIndex(nil)
		if err != nil {
			b.Fatal(err)
		}
		ix.Close()
	}
}

// TestIndexCurrent checks Project.IndexCurrent against Index.Current: the
// sources indexed as they are on disk are current, whether judged by their
// stamps or by their hashes, and a source whose sidecar or case row changed
// after indexing is not.
func TestIndexCurrent(t *testing.T) {
	p := indexProject(t, 3)
	ix, err := p.OpenIndex(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if len(ix.man.Stamps) != 3 {
		t.Fatalf("the index stamped %d sources, want 3 (the test needs the stamped path)", len(ix.man.Stamps))
	}
	current, err := p.IndexCurrent(ix)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := ReadCases(p.Path(CasesFile))
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := p.SourceIDs()
	for _, id := range ids {
		src, err := p.Source(id, true)
		if err != nil {
			t.Fatal(err)
		}
		if !current(src) || !ix.Current(IndexedSources([]*Source{src}, cases)[0]) {
			t.Errorf("%s: IndexCurrent %v, Current %v; want both true", id, current(src),
				ix.Current(IndexedSources([]*Source{src}, cases)[0]))
		}
	}

	// A stamped source whose paragraph starts glued to its label is not
	// current: the boundaries are checked on the text even when the stamp
	// vouches for the sidecar.
	src, err := p.Source(ids[0], true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range src.Segments {
		if g := &src.Segments[i]; g.Unit == UnitParagraph && g.Start > 0 {
			g.Start++ // inside the first word
			break
		}
	}
	if current(src) {
		t.Error("a paragraph starting inside a word was judged current")
	}

	// Case rows changed after indexing: the stamps no longer hold, the
	// hashes (which cover the case's attributes) differ. The index is
	// brought up to date for every case but P01, so only P01 is stale.
	if err := os.WriteFile(p.Path(CasesFile), []byte("case,wave\nP00,1\nP01,1\nP02,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	if ix, err = p.OpenIndex(nil); err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := os.WriteFile(p.Path(CasesFile), []byte("case,wave\nP00,1\nP01,2\nP02,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	current, err = p.IndexCurrent(ix)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		src, err := p.Source(id, true)
		if err != nil {
			t.Fatal(err)
		}
		if want := src.Case != "P01"; current(src) != want {
			t.Errorf("after the case row of P01 changed: %s current = %v, want %v", id, current(src), want)
		}
	}
}
