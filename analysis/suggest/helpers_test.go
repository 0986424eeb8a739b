package suggest

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/thematic-qda/thematic/codebook"
	"github.com/thematic-qda/thematic/corpus"
	"github.com/thematic-qda/thematic/examples"
)

// exampleProject ingests the example study into a temporary project the way
// 'thematic demo' does, without its codebook (it is returned apart), and
// returns the project with its sources.
func exampleProject(t testing.TB) (*corpus.Project, []*corpus.Source, *codebook.Codebook) {
	t.Helper()
	dir := t.TempDir()
	input := filepath.Join(dir, "input")
	err := fs.WalkDir(examples.Study, examples.StudyDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(input, strings.TrimPrefix(strings.TrimPrefix(path, examples.StudyDir), "/"))
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := fs.ReadFile(examples.Study, path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := corpus.Init(filepath.Join(dir, "project"), "Growing together")
	if err != nil {
		t.Fatal(err)
	}
	cfg := p.Path(corpus.ConfigFile)
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Replace(data, []byte("roles: {}"), []byte("roles:\n  Ruth Kerr: interviewer\n  Ruth: interviewer"), 1)
	if err := os.WriteFile(cfg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if p, err = corpus.Open(p.Root); err != nil {
		t.Fatal(err)
	}
	in := func(elem ...string) string { return filepath.Join(append([]string{input}, elem...)...) }
	steps := []struct {
		path  string
		kind  string
		attrs map[string]string
	}{
		{in("cases.csv"), "", nil},
		{in("interviews", "wave1"), corpus.KindInterview, nil},
		{in("interviews", "wave2"), corpus.KindInterview, map[string]string{"wave": "2"}},
		{in("interviews", "wave3"), corpus.KindInterview, map[string]string{"wave": "3"}},
		{in("diaries"), corpus.KindDiary, nil},
	}
	for _, s := range steps {
		if _, err := p.Ingest([]string{s.path}, corpus.IngestOptions{Kind: s.kind, Attrs: s.attrs}); err != nil {
			t.Fatal(err)
		}
	}
	srcs, err := p.Sources(true)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := codebook.Load(in("codebook.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p, srcs, cb
}

func testAnalyzer(t testing.TB) *corpus.Analyzer {
	t.Helper()
	an, err := corpus.NewAnalyzer("en", false)
	if err != nil {
		t.Fatal(err)
	}
	return an
}

func corpusAnalyzer(lang string) (*corpus.Analyzer, error) { return corpus.NewAnalyzer(lang, false) }

// toySource makes a source from text the way ingest segments it.
func toySource(id, kind, cas string, number int, text string) *corpus.Source {
	segs, speakers := corpus.Segments(corpus.Document{Text: text}, kind, nil)
	return &corpus.Source{ID: id, Kind: kind, Case: cas, Number: number, Text: text, Segments: segs, Speakers: speakers}
}
