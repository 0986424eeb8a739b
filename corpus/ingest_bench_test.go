package corpus

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/thematic-qda/thematic/internal/gencorpus"
)

// benchCorpus writes n generated documents of about words words each (three
// interviews to one diary, as the benchmark corpora have) into a folder and
// returns it with the total number of bytes.
func benchCorpus(b *testing.B, n, words int) (dir string, size int64) {
	b.Helper()
	dir = b.TempDir()
	g := gencorpus.New(gencorpus.Options{Seed: 7, Sources: n, Words: words, Rules: 1})
	for i := 0; i < n; i++ {
		d := g.Doc(i)
		if err := os.WriteFile(filepath.Join(dir, d.Name), []byte(d.Text), 0o644); err != nil {
			b.Fatal(err)
		}
		size += int64(len(d.Text))
	}
	return dir, size
}

// BenchmarkIngest ingests 40 generated documents (about 2.5 MB) into a new
// project: reading, segmenting, staging and moving into sources/.
func BenchmarkIngest(b *testing.B) {
	dir, size := benchCorpus(b, 40, 10000)
	b.SetBytes(size)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		p, err := Init(b.TempDir(), "bench")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Ingest([]string{dir}, IngestOptions{Now: time.Unix(0, 0).UTC()}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIngestUnchanged re-ingests the same 40 documents into a project
// that already holds them: nothing is written.
func BenchmarkIngestUnchanged(b *testing.B) {
	dir, size := benchCorpus(b, 40, 10000)
	p, err := Init(b.TempDir(), "bench")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Ingest([]string{dir}, IngestOptions{}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	defer reportCPU(b)()
	for b.Loop() {
		rep, err := p.Ingest([]string{dir}, IngestOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(rep.Unchanged) != 40 {
			b.Fatalf("%d unchanged, want 40", len(rep.Unchanged))
		}
	}
}

// BenchmarkNewSource is the CPU work of ingest for one 10,000-word
// document of each kind, without any file system access.
func BenchmarkNewSource(b *testing.B) {
	g := gencorpus.New(gencorpus.Options{Seed: 7, Sources: 4, Words: 10000, Rules: 1})
	p := &Project{}
	for _, i := range []int{0, 3} {
		d := g.Doc(i)
		data := []byte(d.Text)
		b.Run(d.Kind, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			defer reportCPU(b)()
			for b.Loop() {
				docs, err := Read(d.Name, data, ReadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.newSource(d.Name, docs[0], IngestOptions{}, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDetectEntries finds the entries of a generated 100,000-word diary.
func BenchmarkDetectEntries(b *testing.B) {
	g := gencorpus.New(gencorpus.Options{Seed: 7, Sources: 4, Words: 100000, Rules: 1})
	text := g.Doc(3).Text
	b.SetBytes(int64(len(text)))
	defer reportCPU(b)()
	for b.Loop() {
		DetectTurns(text, KindDiary)
	}
}

// BenchmarkCountWords counts the words of about 1 MB of transcript.
func BenchmarkCountWords(b *testing.B) {
	text := benchTranscript(b)
	b.SetBytes(int64(len(text)))
	defer reportCPU(b)()
	for b.Loop() {
		CountWords(text)
	}
}
