package corpus

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
	index "github.com/blevesearch/bleve_index_api"
	"golang.org/x/text/unicode/norm"

	"github.com/thematic-qda/thematic/internal/errs"
)

// ixLabelRe finds a speaker label at the start of a paragraph of a fixture.
var ixLabelRe = regexp.MustCompile(`^(\p{L}[\p{L} ]{0,20}): `)

// handSource makes a Source by hand, without the readers or the
// segmenter: the text is brought to NFC, paragraphs are blank-line separated
// blocks, and a block starting with "Name: " is a turn of that speaker whose
// paragraph starts after the label. Each block becomes a turn (t1, t2...;
// e1, e2... without labels) holding one paragraph (t1.p1...). With inherit,
// paragraphs leave speaker and role to their turn.
func handSource(id, kind, caseID, text string, attrs map[string]string, inherit bool) *Source {
	text = strings.TrimRight(norm.NFC.String(text), "\n")
	s := &Source{ID: id, Kind: kind, Case: caseID, Attrs: attrs, Text: text, SHA: fakeTextHash(text)}
	pos := 0 // code points
	for k, block := range strings.Split(text, "\n\n") {
		n := len([]rune(block))
		speaker, role, prefix := "", "", "e"
		bodyStart := pos
		if m := ixLabelRe.FindStringSubmatch(block); m != nil {
			speaker, prefix = m[1], "t"
			role = RoleParticipant
			if speaker == "I" || speaker == "Interviewer" {
				role = RoleInterviewer
			}
			bodyStart += len([]rune(m[0]))
		}
		turn := Segment{ID: fmt.Sprintf("%s%d", prefix, k+1), Unit: UnitTurn, Start: pos, End: pos + n, Speaker: speaker, Role: role}
		para := Segment{ID: turn.ID + ".p1", Unit: UnitParagraph, Parent: turn.ID, Start: bodyStart, End: pos + n}
		if !inherit {
			para.Speaker, para.Role = speaker, role
		}
		s.Segments = append(s.Segments, turn, para)
		pos += n + 2
	}
	return s
}

// fakeTextHash is the text hash ingest gives a source, so that sources built
// here look like ingested ones.
func fakeTextHash(text string) string { return HashText(text) }

type ixFixture struct {
	id, kind, caseID, file string
	attrs                  map[string]string
	inherit                bool
}

var ixFixtures = []ixFixture{
	{"int01", KindInterview, "P01", "int01.txt", map[string]string{"site": "Leeds", "wave": "1"}, false},
	{"int02", KindInterview, "P02", "int02.txt", map[string]string{"site": "York", "wave": "1"}, true},
	{"diary01", KindDiary, "P01", "diary01.txt", map[string]string{"site": "Leeds"}, false},
	{"notes01", KindNotes, "", "notes01.nfd.txt", nil, false},
}

func loadSearchFixtures(t testing.TB) []*Source {
	t.Helper()
	var out []*Source
	for _, f := range ixFixtures {
		data, err := os.ReadFile(filepath.Join("testdata", "search", f.file))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, handSource(f.id, f.kind, f.caseID, string(data), f.attrs, f.inherit))
	}
	return out
}

// openSynced opens a fresh index in a temporary directory and syncs sources.
func openSynced(t testing.TB, cfg Config, sources []*Source) *Index {
	t.Helper()
	return openSyncedIn(t, t.TempDir(), cfg, sources)
}

func openSyncedIn(t testing.TB, dir string, cfg Config, sources []*Source) *Index {
	t.Helper()
	ix, err := OpenIndex(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	if _, err := ix.Sync(sources, nil); err != nil {
		t.Fatal(err)
	}
	return ix
}

// syncProgress records the progress a Sync reported (in sources).
type syncProgress struct{ calls, last, total int }

func (p *syncProgress) fn(done, total int) { p.calls++; p.last, p.total = done, total }

func countParagraphs(srcs ...*Source) int {
	n := 0
	for _, s := range srcs {
		for _, g := range s.Segments {
			if g.Unit == UnitParagraph {
				n++
			}
		}
	}
	return n
}

// hitIDs lists hits as "source#segment".
func hitIDs(hits []Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Source+"#"+h.Segment)
	}
	return out
}

func mustSearch(t *testing.T, ix *Index, req SearchRequest) []Hit {
	t.Helper()
	hits, total, err := ix.Search(req)
	if err != nil {
		t.Fatalf("Search(%+v): %v", req, err)
	}
	if req.Limit == 0 && total != len(hits) {
		t.Fatalf("Search(%+v): total %d but %d hits", req, total, len(hits))
	}
	return hits
}

func TestSyncIncremental(t *testing.T) {
	dir := t.TempDir()
	srcs := loadSearchFixtures(t)
	ix, err := OpenIndex(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { ix.Close() }()

	var p syncProgress
	changed, err := ix.Sync(srcs, p.fn)
	if err != nil || !changed {
		t.Fatalf("first Sync: changed=%v err=%v", changed, err)
	}
	if want := len(srcs); p.total != want || p.last != want {
		t.Fatalf("first Sync indexed %d of %d, want all %d sources", p.last, p.total, want)
	}
	if hits := mustSearch(t, ix, SearchRequest{Query: "supervision"}); len(hits) != 2 {
		t.Fatalf("supervision: %v", hitIDs(hits))
	}

	// Nothing changed: nothing to do.
	p = syncProgress{}
	if changed, err := ix.Sync(srcs, p.fn); err != nil || changed || p.calls != 0 {
		t.Fatalf("second Sync: changed=%v err=%v progress calls %d", changed, err, p.calls)
	}

	// diary01 changes, int02 goes away, int01 and notes01 stay as they were.
	diary := handSource("diary01", KindDiary, "P01",
		"15 March. Mentoring helped today.\n\n16 March. Quiet.\n\n17 March. More mentoring.", map[string]string{"site": "Leeds"}, false)
	next := []*Source{srcs[0], diary, srcs[3]}
	p = syncProgress{}
	changed, err = ix.Sync(next, p.fn)
	if err != nil || !changed {
		t.Fatalf("third Sync: changed=%v err=%v", changed, err)
	}
	if p.total != 1 {
		t.Errorf("third Sync indexed %d sources, want only the changed diary", p.total)
	}
	cases := []struct {
		q    string
		want []string
	}{
		{"supervision", nil}, // was in int02 and the old diary
		{"mentoring", []string{"diary01#e1.p1", "diary01#e3.p1"}},
		{"quiet", []string{"diary01#e2.p1"}},
		{"boundaries", []string{"int01#t3.p1", "int01#t4.p1"}},
		{"björn OR café", nil},
		{"résumé", []string{"notes01#e1.p1", "notes01#e2.p1"}},
	}
	for _, c := range cases {
		got := hitIDs(mustSearch(t, ix, SearchRequest{Query: c.q}))
		if !sameStrings(got, c.want) {
			t.Errorf("after incremental Sync, %q found %v, want %v", c.q, got, c.want)
		}
	}

	// The manifest survives a reopen: no work the next time.
	ix.Close()
	ix, err = OpenIndex(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if changed, err := ix.Sync(next, nil); err != nil || changed {
		t.Fatalf("Sync after reopen: changed=%v err=%v", changed, err)
	}
	// Attributes are indexed, so a change of attribute alone re-indexes.
	moved := *srcs[3]
	moved.Attrs = map[string]string{"site": "York"}
	p = syncProgress{}
	if changed, err := ix.Sync([]*Source{srcs[0], diary, &moved}, p.fn); err != nil || !changed || p.total != 1 {
		t.Fatalf("Sync after attribute change: changed=%v err=%v indexed %d", changed, err, p.total)
	}
	if got := hitIDs(mustSearch(t, ix, SearchRequest{Query: "résumé", Attrs: map[string]string{"site": "York"}})); len(got) != 2 {
		t.Errorf("résumé at York: %v", got)
	}
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, v := range m {
		if v != 0 {
			return false
		}
	}
	return true
}

func TestSyncSettingsChangeRebuilds(t *testing.T) {
	dir := t.TempDir()
	srcs := loadSearchFixtures(t)
	all := len(srcs)
	steps := []struct {
		cfg         Config
		wantChanged bool
		// "naive" finds int02 only without accent folding, and the
		// naïve paragraphs of int01 and notes01 too with it.
		wantNaive int
	}{
		{Config{Language: "en"}, true, 1},
		{Config{Language: ""}, false, 1}, // "" is English
		{Config{Language: "en", FoldAccents: true}, true, 3},
		{Config{Language: "fr", FoldAccents: true}, true, 3},
		{Config{Language: "fr", FoldAccents: true}, false, 3},
		{Config{Language: "en"}, true, 1},
	}
	for i, st := range steps {
		ix, err := OpenIndex(dir, st.cfg)
		if err != nil {
			t.Fatal(err)
		}
		var p syncProgress
		changed, err := ix.Sync(srcs, p.fn)
		if err != nil {
			t.Fatal(err)
		}
		if changed != st.wantChanged {
			t.Errorf("step %d %+v: changed=%v, want %v", i, st.cfg, changed, st.wantChanged)
		}
		if changed && p.total != all {
			t.Errorf("step %d: a settings change indexed %d sources, want all %d", i, p.total, all)
		}
		if got := mustSearch(t, ix, SearchRequest{Query: "naive"}); len(got) != st.wantNaive {
			t.Errorf("step %d %+v: naive found %v, want %d hits", i, st.cfg, hitIDs(got), st.wantNaive)
		}
		ix.Close()
	}
}

func TestDeletedIndexIsRebuilt(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, ".thematic", "index")
	srcs := loadSearchFixtures(t)
	for _, remove := range []string{dir, filepath.Join(dir, bleveDir), filepath.Join(dir, manifestFile)} {
		ix, err := OpenIndex(dir, Config{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ix.Sync(srcs, nil); err != nil {
			t.Fatal(err)
		}
		ix.Close()
		if err := os.RemoveAll(remove); err != nil {
			t.Fatal(err)
		}
		ix, err = OpenIndex(dir, Config{})
		if err != nil {
			t.Fatalf("reopen after removing %s: %v", remove, err)
		}
		changed, err := ix.Sync(srcs, nil)
		if err != nil || !changed {
			t.Fatalf("after removing %s: changed=%v err=%v", remove, changed, err)
		}
		if got := mustSearch(t, ix, SearchRequest{Query: "boundaries"}); len(got) != 3 {
			t.Errorf("after removing %s: boundaries found %v", remove, hitIDs(got))
		}
		ix.Close()
	}
}

func TestCorruptManifestRebuilds(t *testing.T) {
	dir := t.TempDir()
	srcs := loadSearchFixtures(t)
	ix, err := OpenIndex(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Sync(srcs, nil); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	for _, garbage := range []string{"{not json", `{"language":"en"}`, ""} {
		if err := os.WriteFile(filepath.Join(dir, manifestFile), []byte(garbage), 0o644); err != nil {
			t.Fatal(err)
		}
		ix, err := OpenIndex(dir, Config{})
		if err != nil {
			t.Fatal(err)
		}
		var p syncProgress
		if changed, err := ix.Sync(srcs, p.fn); err != nil || !changed || p.total != len(srcs) {
			t.Errorf("manifest %q: changed=%v err=%v indexed %d", garbage, changed, err, p.total)
		}
		ix.Close()
	}
}

// An interrupted Sync (here a progress callback that panics, as a crash
// would stop it) must leave the index marked stale, so that the next Sync
// rebuilds it — and the removed source must not survive the rebuild.
func TestInterruptedSyncIsDetected(t *testing.T) {
	dir := t.TempDir()
	srcs := loadSearchFixtures(t)
	ix, err := OpenIndex(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Sync(srcs, nil); err != nil {
		t.Fatal(err)
	}
	changedDiary := handSource("diary01", KindDiary, "P01", "20 March. Nothing about the usual things.", nil, false)
	next := []*Source{srcs[0], changedDiary, srcs[3]} // int02 removed
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the progress callback did not run")
			}
		}()
		ix.Sync(next, func(done, total int) { panic("interrupted") })
	}()
	ix.Close()

	ix, err = OpenIndex(dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	var p syncProgress
	changed, err := ix.Sync(next, p.fn)
	if err != nil || !changed {
		t.Fatalf("Sync after interruption: changed=%v err=%v", changed, err)
	}
	if want := len(next); p.total != want {
		t.Errorf("Sync after interruption indexed %d sources, want a rebuild of %d", p.total, want)
	}
	if got := mustSearch(t, ix, SearchRequest{Sources: []string{"int02"}}); len(got) != 0 {
		t.Errorf("removed source still indexed: %v", hitIDs(got))
	}
	if got := mustSearch(t, ix, SearchRequest{Query: "usual"}); len(got) != 1 {
		t.Errorf("changed diary not indexed: %v", hitIDs(got))
	}
}

func TestRebuild(t *testing.T) {
	srcs := loadSearchFixtures(t)
	ix := openSynced(t, Config{}, srcs)
	// A build stopped half-way leaves its temporary folder behind.
	stale := filepath.Join(ix.dir, "build-123")
	if err := os.MkdirAll(filepath.Join(stale, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	var p syncProgress
	if err := ix.Rebuild(srcs[:1], p.fn); err != nil {
		t.Fatal(err)
	}
	if p.total != 1 {
		t.Errorf("Rebuild indexed %d sources, want 1", p.total)
	}
	if got := mustSearch(t, ix, SearchRequest{}); len(got) != countParagraphs(srcs[0]) {
		t.Errorf("after Rebuild the index holds %d countParagraphs, want %d", len(got), countParagraphs(srcs[0]))
	}
	if changed, err := ix.Sync(srcs[:1], nil); err != nil || changed {
		t.Errorf("Sync after Rebuild: changed=%v err=%v", changed, err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a stopped build's folder survives a rebuild: %v", err)
	}
}

func TestSyncRejectsDamagedSources(t *testing.T) {
	good := handSource("a", KindNotes, "", "one\n\ntwo", nil, false)
	outside := handSource("b", KindNotes, "", "short", nil, false)
	outside.Segments[1].End = 99
	backwards := handSource("c", KindNotes, "", "short", nil, false)
	backwards.Segments[1].Start, backwards.Segments[1].End = 3, 1
	hash := handSource("d#1", KindNotes, "", "text", nil, false)
	cases := []struct {
		name string
		srcs []*Source
		want string
	}{
		{"duplicate", []*Source{good, good}, `two sources with id "a"`},
		{"outside", []*Source{good, outside}, "source b: segment e1.p1 spans 0-99 outside its text of 5 characters"},
		{"backwards", []*Source{backwards}, "source c: segment e1.p1 spans 3-1"},
		{"bad id", []*Source{hash}, `invalid source id "d#1"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ix, err := OpenIndex(t.TempDir(), Config{})
			if err != nil {
				t.Fatal(err)
			}
			defer ix.Close()
			_, err = ix.Sync(c.srcs, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Sync: %v, want an error containing %q", err, c.want)
			}
		})
	}
}

func TestOpenIndexUnknownLanguage(t *testing.T) {
	_, err := OpenIndex(t.TempDir(), Config{Language: "klingon"})
	var ie *errs.InputError
	if !errors.As(err, &ie) || ie.File != "thematic.yaml" || !strings.Contains(ie.Msg, `unsupported language "klingon"`) {
		t.Fatalf("OpenIndex: %v, want an input error naming thematic.yaml", err)
	}
}

// A second opener waits briefly for the lock and fails with a clear error,
// and never deletes the index in use, even when its settings differ.
func TestIndexInUse(t *testing.T) {
	defer func(old string) { openTimeout = old }(openTimeout)
	openTimeout = "100ms"
	dir := t.TempDir()
	srcs := loadSearchFixtures(t)
	ix := openSyncedIn(t, dir, Config{}, srcs)
	for _, cfg := range []Config{{}, {Language: "fr"}} {
		other, err := OpenIndex(dir, cfg)
		if err == nil {
			other.Close()
			t.Fatalf("second OpenIndex(%+v) succeeded", cfg)
		}
		if !strings.Contains(err.Error(), "in use by another process") {
			t.Errorf("second OpenIndex(%+v): %v", cfg, err)
		}
	}
	if got := mustSearch(t, ix, SearchRequest{Query: "boundaries"}); len(got) != 3 {
		t.Errorf("the first index lost its content: %v", hitIDs(got))
	}
}

func TestClosedIndex(t *testing.T) {
	ix, err := OpenIndex(t.TempDir(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := ix.Sync(nil, nil); err == nil {
		t.Error("Sync on a closed index succeeded")
	}
	if err := ix.Rebuild(nil, nil); err == nil {
		t.Error("Rebuild on a closed index succeeded")
	}
	if _, _, err := ix.Search(SearchRequest{}); err == nil {
		t.Error("Search on a closed index succeeded")
	}
}

func TestTurnsIndexedWithoutParagraphs(t *testing.T) {
	s := handSource("x", KindNotes, "", "Ann: alpha beta\n\nBob: gamma", nil, false)
	var turns []Segment
	for _, g := range s.Segments {
		if g.Unit == UnitTurn {
			turns = append(turns, g)
		}
	}
	s.Segments = turns
	ix := openSynced(t, Config{}, []*Source{s})
	hits := mustSearch(t, ix, SearchRequest{Query: "gamma"})
	if len(hits) != 1 || hits[0].Segment != "t2" || hits[0].SegStart != 17 {
		t.Fatalf("gamma: %+v", hits)
	}
}

// benchParagraphSources generates n paragraphs of 60 words each, over sources
// of 50 paragraphs. Words follow a Zipf distribution over a vocabulary of
// common function words, then topical words (with accents and curly
// apostrophes), then 3,000 made-up words, roughly as in interview talk.
func benchParagraphSources(n int) []*Source {
	vocab := strings.Fields(`the and i to a of it that was in you we they but so like know just my is
		parents said don’t how role works boundaries were hard keep support worker manager
		supervision naïve café messages evening weekend burnout kindness guilt limits family
		children school training colleagues trust listening time money housing stress sleep
		advice forms meeting group peer mentor helped useful again really think feel felt work`)
	syll := []string{"ka", "lo", "mi", "ne", "tra", "ve", "so", "ri", "pe", "du", "ga", "zo", "fe", "lu", "bi"}
	for i := 0; len(vocab) < 3000+80; i++ {
		vocab = append(vocab, syll[i%15]+syll[(i/15)%15]+syll[(i/225)%15])
	}
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(vocab)-1))
	var out []*Source
	for s := 0; s*50 < n; s++ {
		var b strings.Builder
		var starts, ends []int
		pos := 0
		for p := 0; p < 50 && s*50+p < n; p++ {
			if p > 0 {
				b.WriteString("\n\n")
				pos += 2
			}
			starts = append(starts, pos)
			for w := 0; w < 60; w++ {
				if w > 0 {
					b.WriteByte(' ')
					pos++
				}
				word := vocab[zipf.Uint64()]
				b.WriteString(word)
				pos += len([]rune(word))
			}
			b.WriteByte('.')
			pos++
			ends = append(ends, pos)
		}
		src := &Source{ID: fmt.Sprintf("s%04d", s), Kind: []string{KindInterview, KindDiary}[s%2],
			Case: fmt.Sprintf("P%02d", s%20), Text: b.String(), Attrs: map[string]string{"site": []string{"Leeds", "York", "Hull"}[s%3]}}
		for i := range starts {
			src.Segments = append(src.Segments, Segment{ID: fmt.Sprintf("t%d.p1", i+1), Unit: UnitParagraph,
				Start: starts[i], End: ends[i], Speaker: []string{"I", "Ann"}[i%2], Role: []string{RoleInterviewer, RoleParticipant}[i%2]})
		}
		out = append(out, src)
	}
	return out
}

// BenchmarkIndex indexes 10k generated paragraphs of about 60 words.
func BenchmarkIndex(b *testing.B) {
	srcs := benchParagraphSources(10000)
	size := 0
	for _, s := range srcs {
		size += len(s.Text)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	var disk int64
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		ix, err := OpenIndex(dir, Config{})
		if err != nil {
			b.Fatal(err)
		}
		if err := ix.Rebuild(srcs, nil); err != nil {
			b.Fatal(err)
		}
		ix.Close()
		disk = treeSize(b, dir)
	}
	b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "segments/s")
	b.ReportMetric(float64(disk)/1e6, "index-MB")
}

// BenchmarkSyncOneChanged updates a 10k-paragraph index for one changed
// source, as ingesting a corrected transcript does.
func BenchmarkSyncOneChanged(b *testing.B) {
	srcs := benchParagraphSources(10000)
	ix, err := OpenIndex(b.TempDir(), Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	if _, err := ix.Sync(srcs, nil); err != nil {
		b.Fatal(err)
	}
	variants := [2]*Source{srcs[7], nil}
	edited := *srcs[7]
	edited.Attrs = map[string]string{"site": "Elsewhere"}
	variants[1] = &edited
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		srcs[7] = variants[(i+1)%2]
		if changed, err := ix.Sync(srcs, nil); err != nil || !changed {
			b.Fatalf("Sync: changed=%v err=%v", changed, err)
		}
	}
}

func treeSize(tb testing.TB, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if info, err := d.Info(); err == nil && !d.IsDir() {
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestDocumentMatchesMapping checks that the documents made directly have
// the fields, options, values and analysis bleve's MapDocument gives for the
// same paragraph under the index mapping, but for attributes, which skip
// term vectors (nothing reads them).
func TestDocumentMatchesMapping(t *testing.T) {
	ix := openSynced(t, Config{FoldAccents: true}, nil)
	dm, err := ix.docMaker()
	if err != nil {
		t.Fatal(err)
	}
	text := "Ann: hello\n\nZoë’s café — don’t know, naïve garden."
	src := &Source{ID: "s1", Kind: KindInterview, Case: "P01", Text: text, SHA: HashText(text),
		Attrs: map[string]string{"site": "Leeds", "wave": "2", "": "x", "a.b": "y", "empty": ""},
		Segments: []Segment{
			{ID: "t2", Unit: UnitTurn, Start: 12, End: 50, Speaker: "Ann", Role: RoleParticipant},
			{ID: "t2.p1", Unit: UnitParagraph, Parent: "t2", Start: 12, End: 50},
		}}
	p, err := prepareSource(src)
	if err != nil {
		t.Fatal(err)
	}
	d := p.docs()[0]
	if d.id != "s1#t2.p1" || d.speaker != "Ann" || d.text != "Zoë’s café — don’t know, naïve garden." {
		t.Fatalf("document %+v", d)
	}
	fields := map[string]any{
		fieldText: d.text, fieldSource: d.source, fieldSegment: d.segment, fieldKind: d.kind, fieldCase: d.caseID,
		fieldSpeaker: d.speaker, fieldRole: d.role, fieldLoc: encodeLoc(d.start, d.end, d.text),
		fieldOrder: orderKey(d.source, d.start), fieldAttr: map[string]any{"site": "Leeds", "wave": "2"},
	}
	want := document.NewDocument(d.id)
	if err := ix.mapping().MapDocument(want, fields); err != nil {
		t.Fatal(err)
	}
	describe := func(doc *document.Document) []string {
		var out []string
		doc.VisitFields(func(f index.Field) {
			opts := f.Options()
			if strings.HasPrefix(f.Name(), fieldAttr+".") {
				opts &^= index.IncludeTermVectors
			}
			var terms []string
			if opts.IsIndexed() {
				f.Analyze()
				for term, tf := range f.AnalyzedTokenFrequencies() {
					terms = append(terms, fmt.Sprintf("%s x%d", term, tf.Frequency()))
					if opts.IncludeTermVectors() {
						for _, l := range tf.Locations {
							terms = append(terms, fmt.Sprintf("%s@%d:%d-%d", term, l.Position, l.Start, l.End))
						}
					}
				}
				sort.Strings(terms)
			}
			out = append(out, fmt.Sprintf("%s opts=%d value=%q terms=%v", f.Name(), opts, f.Value(), terms))
		})
		sort.Strings(out)
		return out
	}
	got, exp := describe(dm.document(d)), describe(want)
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		t.Errorf("documents differ\ngot:\n  %s\nMapDocument:\n  %s", strings.Join(got, "\n  "), strings.Join(exp, "\n  "))
	}
}

// TestBuildInGroups builds with small segments merged in several rounds
// and checks that the index holds every paragraph in source, then position,
// order: the order its tie-breaking relies on.
func TestBuildInGroups(t *testing.T) {
	defer func(b, f int) { buildBatch, mergeFanIn = b, f }(buildBatch, mergeFanIn)
	buildBatch, mergeFanIn = 7, 3
	srcs := benchParagraphSources(400)
	ix := openSynced(t, Config{}, srcs)
	if !ix.man.Ordered {
		t.Fatal("a full build is not marked ordered")
	}
	all := mustSearch(t, ix, SearchRequest{})
	if len(all) != 400 {
		t.Fatalf("the index holds %d paragraphs, want 400", len(all))
	}
	// Documents in index order: a match-all query scores them all alike,
	// and bleve keeps index order among equal scores.
	res, err := ix.idx.Search(bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), 400, 0, false))
	if err != nil {
		t.Fatal(err)
	}
	var prev string
	for i, h := range res.Hits {
		src, seg, _ := strings.Cut(h.ID, "#")
		var n int
		fmt.Sscanf(seg, "t%d.p1", &n)
		key := fmt.Sprintf("%s %06d", src, n)
		if i > 0 && key <= prev {
			t.Fatalf("document %d is %s after %s: not in source, position order", i, h.ID, prev)
		}
		prev = key
	}
	if got := mustSearch(t, ix, SearchRequest{Query: "burnout"}); len(got) == 0 {
		t.Error("burnout: no hits after a build in groups")
	}
}

// After an incremental update the index's order is no longer source then
// position, and a Limit must still pick the ties by source and position.
func TestSearchOrderAfterUpdate(t *testing.T) {
	var srcs []*Source
	for _, id := range []string{"s3", "s5", "s4"} {
		srcs = append(srcs, handSource(id, KindNotes, "", strings.Repeat("alpha beta gamma\n\n", 30), nil, false))
	}
	ix := openSynced(t, Config{}, srcs)
	// Added later, but first by id.
	more := append(srcs, handSource("s1", KindNotes, "", strings.Repeat("alpha beta gamma\n\n", 30), nil, false),
		handSource("s2", KindNotes, "", strings.Repeat("alpha beta gamma\n\n", 30), nil, false))
	if _, err := ix.Sync(more, nil); err != nil {
		t.Fatal(err)
	}
	if ix.man.Ordered {
		t.Fatal("an index with documents added is still marked ordered")
	}
	all := mustSearch(t, ix, SearchRequest{Query: "alpha"})
	for _, limit := range []int{1, 5, 31, 100} {
		hits := mustSearch(t, ix, SearchRequest{Query: "alpha", Limit: limit})
		if fmt.Sprint(hitIDs(hits)) != fmt.Sprint(hitIDs(all[:limit])) {
			t.Errorf("Limit %d: %v, want %v", limit, hitIDs(hits), hitIDs(all[:limit]))
		}
	}
	if all[0].Source != "s1" {
		t.Errorf("first tie is %s, want s1", all[0].Source)
	}
}
