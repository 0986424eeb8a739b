package corpus

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/thematic-qda/thematic/internal/fsx"
)

const (
	ingestTestInterview = "Interviewer: How did you start at the garden?\n\nParticipant: A neighbour showed me the compost bays. I didn’t know anyone.\n\nInterviewer: And now?\n\nParticipant: Now I know the café crowd. Zoë runs the rota.\n"
	ingestTestDiary     = "## 2025-03-04\n\nRain all day. Stayed in.\n\n## 2025-03-05\n\nWent to the plot; the beans are up!\n"
)

var ingestTestNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func ingestTestProject(t *testing.T) *Project {
	t.Helper()
	p, err := Init(filepath.Join(t.TempDir(), "study"), "study")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ingestWriteFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// projectFiles maps every file under sources/ and the project's cases.csv
// to its content.
func projectFiles(t *testing.T, p *Project) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(p.Path(SourcesDir), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out[filepath.Base(path)] = string(data)
		}
		return nil
	})
	if data, err := os.ReadFile(p.Path(CasesFile)); err == nil {
		out[CasesFile] = string(data)
	}
	return out
}

func stagingLeft(p *Project) bool {
	_, err := os.Stat(p.Path(CacheDir, ingestStagingDir))
	return err == nil
}

func TestIngestAddsUpdatesAndKeeps(t *testing.T) {
	p := ingestTestProject(t)
	dir := t.TempDir()
	iv := ingestWriteFile(t, dir, "in/P01-interview.txt", ingestTestInterview)
	ingestWriteFile(t, dir, "in/diaries/P01-diary.md", ingestTestDiary)
	ingestWriteFile(t, dir, "in/cases.csv", "case,site\nP01,Leeds\n")
	ingestWriteFile(t, dir, "in/README.md", "not a source")
	rep, err := p.Ingest([]string{filepath.Join(dir, "in")}, IngestOptions{Now: ingestTestNow})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"p01-interview", "p01-diary"}; !reflect.DeepEqual(rep.Added, want) || rep.Cases != 1 || len(rep.Skipped) != 1 {
		t.Errorf("report = %+v, want added %v, 1 case, README skipped", rep, want)
	}
	if stagingLeft(p) {
		t.Error("the staging folder is left after a successful ingest")
	}
	files := projectFiles(t, p)
	if files[CasesFile] != "case,site\nP01,Leeds\n" || len(files) != 5 {
		t.Errorf("project files: %v", mapKeys(files))
	}
	diary, err := p.Source("p01-diary", true)
	if err != nil {
		t.Fatal(err)
	}
	first, err := p.Source("p01-interview", true)
	if err != nil {
		t.Fatal(err)
	}
	if diary.Kind != KindDiary || diary.Number != 1 || diary.Case != "P01" || first.Kind != KindInterview || first.Number != 1 || first.Case != "P01" {
		t.Errorf("diary %s #%d case %q, interview %s #%d case %q", diary.Kind, diary.Number, diary.Case, first.Kind, first.Number, first.Case)
	}

	// Unchanged: nothing written.
	before := projectFiles(t, p)
	rep, err = p.Ingest([]string{filepath.Join(dir, "in")}, IngestOptions{Now: ingestTestNow.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unchanged) != 2 || len(rep.Added)+len(rep.Updated)+len(rep.Changed) != 0 {
		t.Errorf("re-ingest report = %+v", rep)
	}
	if after := projectFiles(t, p); !reflect.DeepEqual(before, after) {
		t.Error("an unchanged re-ingest rewrote files")
	}

	// Changed text: updated, the old hash kept, listed for re-anchoring.
	ingestWriteFile(t, dir, "in/P01-interview.txt", strings.Replace(ingestTestInterview, "And now?", "And how is it now?", 1))
	rep, err = p.Ingest([]string{iv}, IngestOptions{Now: ingestTestNow.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Updated, []string{"p01-interview"}) || !reflect.DeepEqual(rep.Changed, []string{"p01-interview"}) || rep.Previous != nil {
		t.Errorf("changed report = %+v", rep)
	}
	second, err := p.Source("p01-interview", true)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(second.PrevSHA, []string{first.SHA}) || second.Number != 1 || !strings.Contains(second.Text, "how is it now") {
		t.Errorf("after update: PrevSHA %v (want [%s]), number %d", second.PrevSHA, first.SHA, second.Number)
	}

	// Another kind, same text: a new number in that kind, nothing to re-anchor.
	rep, err = p.Ingest([]string{iv}, IngestOptions{Kind: KindNotes, Now: ingestTestNow.Add(3 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	third, _ := p.Source("p01-interview", false)
	if len(rep.Updated) != 1 || len(rep.Changed) != 0 || third.Kind != KindNotes || third.Number != 1 || !reflect.DeepEqual(third.PrevSHA, second.PrevSHA) {
		t.Errorf("kind change: report %+v, kind %s #%d, PrevSHA %v", rep, third.Kind, third.Number, third.PrevSHA)
	}
}

func mapKeys(m map[string]string) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// Ingest stages and moves files; SaveSource writes them in place. Both must
// write the same bytes.
func TestIngestWritesWhatSaveSourceWrites(t *testing.T) {
	p := ingestTestProject(t)
	dir := t.TempDir()
	ingestWriteFile(t, dir, "a/focus-group.txt", "Moderator: Welcome.\n\nAnn: Hi! <b>&</b>\n\nBo: Hello.\n\nAnn: Bye.\n")
	ingestWriteFile(t, dir, "a/P02.txt", ingestTestInterview)
	ingestWriteFile(t, dir, "a/journal.md", "---\ncase: P02\nwave: \"2\"\n---\n"+ingestTestDiary)
	if _, err := p.Ingest([]string{filepath.Join(dir, "a")}, IngestOptions{Now: ingestTestNow}); err != nil {
		t.Fatal(err)
	}
	q := ingestTestProject(t)
	ids, err := p.SourceIDs()
	if err != nil || len(ids) != 3 {
		t.Fatalf("ids %v, %v", ids, err)
	}
	for _, id := range ids {
		src, err := p.Source(id, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := q.SaveSource(src); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := projectFiles(t, p), projectFiles(t, q); !reflect.DeepEqual(got, want) {
		for name := range want {
			if got[name] != want[name] {
				t.Errorf("%s differs:\n got %q\nwant %q", name, got[name], want[name])
			}
		}
	}
}

func TestIngestBadFileLeavesProjectUntouched(t *testing.T) {
	p := ingestTestProject(t)
	dir := t.TempDir()
	a := ingestWriteFile(t, dir, "a.txt", ingestTestInterview)
	b := ingestWriteFile(t, dir, "b.txt", "P: short.\n")
	if _, err := p.Ingest([]string{a, b}, IngestOptions{Now: ingestTestNow}); err != nil {
		t.Fatal(err)
	}
	before := projectFiles(t, p)
	// A changed file, a new one and a bad one: nothing of it may land.
	ingestWriteFile(t, dir, "a.txt", ingestTestInterview+"\nInterviewer: Anything else?\n")
	c := ingestWriteFile(t, dir, "c.txt", ingestTestDiary)
	cases := ingestWriteFile(t, dir, "cases.csv", "case,site\nP09,York\n")
	for _, bad := range []struct{ name, content, want string }{
		{"z-empty.txt", " \n\t\n", "z-empty.txt: empty file"},
		{"z-binary.txt", "\x00\x01\x02binary", "z-binary.txt: binary file"},
		{"z-badfront.md", "---\ncase: [unclosed\n---\nText.\n", "z-badfront.md"},
	} {
		path := ingestWriteFile(t, dir, "bad/"+bad.name, bad.content)
		rep, err := p.Ingest([]string{a, c, cases, path}, IngestOptions{Now: ingestTestNow.Add(time.Hour)})
		if err == nil || !strings.Contains(err.Error(), bad.want) || rep != nil {
			t.Errorf("%s: err = %v (report %v), want %q", bad.name, err, rep, bad.want)
		}
		if after := projectFiles(t, p); !reflect.DeepEqual(before, after) {
			t.Errorf("%s: the failed ingest changed the project: %v", bad.name, mapKeys(after))
		}
		if stagingLeft(p) {
			t.Errorf("%s: the staging folder is left after a failed ingest", bad.name)
		}
	}
}

func TestIngestReportsTheFirstProblemInFileOrder(t *testing.T) {
	p := ingestTestProject(t)
	dir := t.TempDir()
	var paths []string
	for i := 0; i < 30; i++ {
		content := fmt.Sprintf("Interviewer: Question %d?\n\nParticipant: Answer %d.\n", i, i)
		switch i {
		case 7:
			content = ""
		case 20:
			content = "\x00\x00"
		}
		paths = append(paths, ingestWriteFile(t, dir, fmt.Sprintf("f%02d.txt", i), content))
	}
	for range 3 { // whichever worker finishes first
		_, err := p.Ingest(paths, IngestOptions{})
		if err == nil || !strings.Contains(err.Error(), "f07.txt: empty file") {
			t.Fatalf("err = %v, want f07.txt's", err)
		}
	}
	// Two files making one id: the later one is named.
	x1 := ingestWriteFile(t, dir, "one/x.txt", "P: one.\n")
	x2 := ingestWriteFile(t, dir, "two/x.txt", "P: two.\n")
	_, err := p.Ingest([]string{x2, x1}, IngestOptions{})
	if err == nil || !strings.Contains(err.Error(), `two/x.txt: source id "x" is also made from`) {
		t.Errorf("duplicate ids: err = %v", err)
	}
	if ids, _ := p.SourceIDs(); len(ids) != 0 {
		t.Errorf("failed ingests left sources %v", ids)
	}
}

func TestIngestProgress(t *testing.T) {
	p := ingestTestProject(t)
	dir := t.TempDir()
	for i := 0; i < 12; i++ {
		ingestWriteFile(t, dir, fmt.Sprintf("f%02d.txt", i), fmt.Sprintf("P: answer %d.\n", i))
	}
	var calls [][2]int
	_, err := p.Ingest([]string{dir}, IngestOptions{Progress: func(done, total int) { calls = append(calls, [2]int{done, total}) }})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range calls {
		if c != [2]int{i + 1, 12} {
			t.Fatalf("progress calls %v: want 1..12 of 12", calls)
		}
	}
	if len(calls) != 12 {
		t.Fatalf("%d progress calls, want 12", len(calls))
	}
}

// stageForTest converts a file and stages it as the ingest would.
func stageForTest(t *testing.T, p *Project, st *ingestStaging, path string, number int) *Source {
	t.Helper()
	in := &ingestRun{p: p, opts: IngestOptions{Now: ingestTestNow}}
	srcs, err := in.convertFile(path)
	if err != nil {
		t.Fatal(err)
	}
	srcs[0].Number = number
	if _, err := st.stageSource(nil, srcs[0]); err != nil {
		t.Fatal(err)
	}
	return srcs[0]
}

// An ingest that crashed after its commit mark, part-way through moving its
// files, is completed by the next one, which lists its changed sources for
// re-anchoring.
func TestIngestCompletesAnInterruptedIngest(t *testing.T) {
	p := ingestTestProject(t)
	dir := t.TempDir()
	a := ingestWriteFile(t, dir, "a.txt", ingestTestInterview)
	if _, err := p.Ingest([]string{a}, IngestOptions{Now: ingestTestNow}); err != nil {
		t.Fatal(err)
	}
	old, _ := p.Source("a", false)

	ingestWriteFile(t, dir, "a.txt", ingestTestInterview+"\nInterviewer: Thanks.\n")
	b := ingestWriteFile(t, dir, "b.txt", "P: a new one.\n")
	st, err := p.newStaging()
	if err != nil {
		t.Fatal(err)
	}
	changedA := stageForTest(t, p, st, a, 1)
	changedA.PrevSHA = []string{old.SHA}
	newB := stageForTest(t, p, st, b, 2)
	if err := st.stageCases([]byte("case,site\nP01,Leeds\n")); err != nil {
		t.Fatal(err)
	}
	if err := fsx.WriteFile(filepath.Join(st.dir, ingestCommitMark), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The crash: a's text moved, its sidecar not yet.
	if err := os.Rename(filepath.Join(st.dir, "a.txt"), p.Path(SourcesDir, "a.txt")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Source("a", true); err == nil {
		t.Fatal("the half-moved source reads without error; the test does not simulate what it should")
	}

	c := ingestWriteFile(t, dir, "c.txt", "P: another.\n")
	rep, err := p.Ingest([]string{c}, IngestOptions{Now: ingestTestNow})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Changed, []string{"a"}) || !reflect.DeepEqual(rep.Added, []string{"c"}) {
		t.Errorf("report = %+v, want a changed and c added", rep)
	}
	for _, want := range []*Source{changedA, newB} {
		got, err := p.Source(want.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if got.Text != want.Text || got.Number != want.Number {
			t.Errorf("%s after recovery: number %d, text %q", want.ID, got.Number, got.Text)
		}
	}
	if c, _ := p.Source("c", false); c.Number != 3 {
		t.Errorf("c has number %d, want 3 (after a and the recovered b)", c.Number)
	}
	if data, _ := os.ReadFile(p.Path(CasesFile)); string(data) != "case,site\nP01,Leeds\n" {
		t.Errorf("cases.csv = %q", data)
	}
	if stagingLeft(p) {
		t.Error("the staging folder is left after recovery")
	}
}

// A staging folder without a commit mark is an ingest that failed or
// crashed before deciding: the next ingest throws it away.
func TestIngestDiscardsUncommittedStaging(t *testing.T) {
	p := ingestTestProject(t)
	dir := t.TempDir()
	st, err := p.newStaging()
	if err != nil {
		t.Fatal(err)
	}
	stageForTest(t, p, st, ingestWriteFile(t, dir, "ghost.txt", "P: never ingested.\n"), 1)
	os.WriteFile(filepath.Join(st.dir, "half.json"), []byte(`{"id": "ha`), 0o644)
	rep, err := p.Ingest([]string{ingestWriteFile(t, dir, "real.txt", "P: real.\n")}, IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ids, _ := p.SourceIDs()
	if !reflect.DeepEqual(ids, []string{"real"}) || len(rep.Changed) != 0 || stagingLeft(p) {
		t.Errorf("sources %v, changed %v, staging left %v", ids, rep.Changed, stagingLeft(p))
	}
}

func TestMoveStaged(t *testing.T) {
	dir := t.TempDir()
	from, to := filepath.Join(dir, "from"), filepath.Join(dir, "to")
	os.WriteFile(from, []byte("new"), 0o644)
	os.WriteFile(to, []byte("old"), 0o644)
	if err := moveStaged(from, to); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(to); !bytes.Equal(data, []byte("new")) {
		t.Errorf("moved file holds %q", data)
	}
	if _, err := os.Stat(from); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("staged file still there: %v", err)
	}
	// Moved already: nothing to do, no error.
	if err := moveStaged(from, to); err != nil {
		t.Errorf("second move: %v", err)
	}
}

// When moving the staged files fails after the commit mark, the staging
// folder stays and the next ingest completes the move.
func TestIngestKeepsCommittedStagingWhenAMoveFails(t *testing.T) {
	p := ingestTestProject(t)
	dir := t.TempDir()
	a := ingestWriteFile(t, dir, "a.txt", ingestTestInterview)
	// A folder where a's text belongs: the move cannot replace it.
	if err := os.MkdirAll(p.Path(SourcesDir, "a.txt", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := p.Ingest([]string{a}, IngestOptions{})
	if err == nil || !strings.Contains(err.Error(), "the next ingest completes the move") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(p.Path(CacheDir, ingestStagingDir, ingestCommitMark)); err != nil {
		t.Fatalf("the committed staging folder is gone: %v", err)
	}
	os.RemoveAll(p.Path(SourcesDir, "a.txt"))
	rep, err := p.Ingest([]string{ingestWriteFile(t, dir, "b.txt", "P: b.\n")}, IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src, err := p.Source("a", true)
	if err != nil || src.Text != normalizeText(ingestTestInterview) || !reflect.DeepEqual(rep.Added, []string{"b"}) || stagingLeft(p) {
		t.Errorf("after completing: a = %v, %v; report %+v; staging left %v", src, err, rep, stagingLeft(p))
	}
}

// Files are read several at a time, yet decided in file order: new sources
// are numbered as the files are sorted, whatever finished first.
func TestIngestNumbersInFileOrder(t *testing.T) {
	p := ingestTestProject(t)
	dir := t.TempDir()
	var want []string
	for i := 0; i < 60; i++ {
		// Sizes vary so that conversions finish out of order.
		text := strings.Repeat(fmt.Sprintf("Participant: Answer %d. It went well.\n\n", i), 1+(i*7)%23)
		ingestWriteFile(t, dir, fmt.Sprintf("s%03d.txt", i), text)
		want = append(want, fmt.Sprintf("s%03d", i))
	}
	rep, err := p.Ingest([]string{dir}, IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Added, want) {
		t.Fatalf("added %v", rep.Added)
	}
	infos, err := p.SourceInfos()
	if err != nil {
		t.Fatal(err)
	}
	for i, info := range infos {
		if info.ID != want[i] || info.Number != i+1 {
			t.Errorf("source %d: %s number %d", i, info.ID, info.Number)
		}
	}
}
