package export

import (
	"io"
	"path/filepath"
	"testing"

	"github.com/thematic-qda/thematic/analysis"
	"github.com/thematic-qda/thematic/corpus"
)

// benchStreamed is benchStudy as the command gives it: sources as
// metadata, each read when needed (from memory here, so that the numbers
// are the exports' own), and the codings streamed.
func benchStreamed(b *testing.B, nsrc, n int) *Study {
	whole := benchStudy(b, nsrc, n)
	full := map[string]*corpus.Source{}
	st := &Study{Codebook: whole.Codebook, Cases: whole.Cases, Citation: whole.Citation}
	for _, src := range whole.Sources {
		full[src.ID] = src
		meta := *src
		meta.Text, meta.Segments = "", nil
		st.Sources = append(st.Sources, &meta)
	}
	st.Read = func(id string, withText bool) (*corpus.Source, error) { return full[id], nil }
	cs := whole.Codings
	st.Each = func(fn func(c *analysis.Coding) error) error {
		for i := range cs {
			if err := fn(&cs[i]); err != nil {
				return err
			}
		}
		return nil
	}
	return st
}

// BenchmarkExport100k builds and writes each export of 100,000 codings of
// 200 sources (60 turns each), streamed as the command streams them: the
// extracts in every format, the matrix of every cell kind, co-occurrence,
// the codebook table and the REFI-QDA project. Workbooks go to a file, the
// other formats to io.Discard. For peak memory of one of them:
//
//	go test -c -o export.test ./export/
//	/usr/bin/time -v ./export.test -test.run '^$' -test.bench 'Export100k/extracts-xlsx' -test.benchtime 1x
func BenchmarkExport100k(b *testing.B) {
	st := benchStreamed(b, 200, 100000)
	dir := b.TempDir()
	write := func(b *testing.B, format string, d Document) {
		if format == FormatXLSX {
			if err := WriteDocument(filepath.Join(dir, "bench.xlsx"), format, d); err != nil {
				b.Fatal(err)
			}
			return
		}
		if err := EncodeDocument(io.Discard, format, d); err != nil {
			b.Fatal(err)
		}
	}
	run := func(name string, build func() (Document, error), format string) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d, err := build()
				if err != nil {
					b.Fatal(err)
				}
				write(b, format, d)
			}
			b.ReportMetric(100000, "codings/op")
		})
	}
	for _, format := range []string{FormatXLSX, FormatCSV, FormatJSON, FormatMarkdown} {
		run("extracts-"+format, func() (Document, error) { return BuildExtracts(st, ExtractOptions{}) }, format)
	}
	for _, cell := range []string{CellSegments, CellSources, CellWords, CellPercent, CellExtracts} {
		run("matrix-"+cell, func() (Document, error) {
			return BuildMatrix(st, MatrixOptions{Cols: "code", Cell: cell})
		}, FormatXLSX)
	}
	run("cooccurrence", func() (Document, error) { return BuildCooccurrence(st, CooccurrenceOptions{}) }, FormatXLSX)
	run("codebook", func() (Document, error) {
		ct := BuildCodebookTable(st)
		return ct, ct.Err()
	}, FormatXLSX)
	b.Run("qdpx", func(b *testing.B) {
		x := &RefiProject{Name: "bench", Codebook: st.Codebook, Sources: st.Sources, Cases: st.Cases,
			Each: st.Each, Read: st.Read, GUIDs: analysis.NewRefiGUIDs("bench")}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := WriteQDPX(io.Discard, x); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(100000, "codings/op")
	})
}
