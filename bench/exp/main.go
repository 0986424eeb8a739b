package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/thematic-qda/thematic/corpus"
)

type variant struct {
	name                      string
	store, vectors, docvalues bool
	kw                        bool
	workers                   int
	unsafe                    bool
	batch                     int
}

func mp(v variant) *mapping.IndexMappingImpl {
	im := bleve.NewIndexMapping()
	if err := im.AddCustomAnalyzer("thematic_text", map[string]any{"type": "thematic", "language": "en", "fold_accents": false}); err != nil {
		panic(err)
	}
	im.DefaultAnalyzer = keyword.Name
	im.DefaultField = "text"
	im.StoreDynamic = false
	im.IndexDynamic = true
	im.DocValuesDynamic = v.docvalues
	doc := bleve.NewDocumentStaticMapping()
	text := bleve.NewTextFieldMapping()
	text.Analyzer = "thematic_text"
	text.Store = v.store
	text.IncludeTermVectors = v.vectors
	text.IncludeInAll = false
	text.DocValues = false
	doc.AddFieldMappingsAt("text", text)
	if v.kw {
		for _, f := range []string{"source", "segment", "kind", "case", "speaker", "role"} {
			kw := bleve.NewKeywordFieldMapping()
			kw.Store = f == "source" || f == "segment"
			kw.IncludeTermVectors = false
			kw.IncludeInAll = false
			kw.DocValues = v.docvalues
			doc.AddFieldMappingsAt(f, kw)
		}
		start := bleve.NewNumericFieldMapping()
		start.Store = true
		start.Index = false
		start.IncludeInAll = false
		start.DocValues = false
		doc.AddFieldMappingsAt("start", start)
		order := bleve.NewKeywordFieldMapping()
		order.Store = false
		order.IncludeTermVectors = false
		order.IncludeInAll = false
		order.DocValues = v.docvalues
		doc.AddFieldMappingsAt("order", order)
		attr := bleve.NewDocumentMapping()
		attr.Dynamic = true
		attr.DefaultAnalyzer = keyword.Name
		doc.AddSubDocumentMapping("attr", attr)
	}
	doc.AddSubDocumentMapping("_all", bleve.NewDocumentDisabledMapping())
	im.DefaultMapping = doc
	return im
}

type d struct {
	id string
	m  map[string]any
}

func main() {
	p, err := corpus.Open(os.Args[1])
	if err != nil {
		panic(err)
	}
	srcs, err := p.Sources(true)
	if err != nil {
		panic(err)
	}
	var docs []d
	bytes := 0
	for _, s := range srcs {
		rs := []rune(s.Text)
		for _, g := range s.Segments {
			if g.Unit != corpus.UnitParagraph {
				continue
			}
			t := string(rs[g.Start:g.End])
			bytes += len(t)
			docs = append(docs, d{s.ID + "#" + g.ID, map[string]any{"text": t, "source": s.ID, "segment": g.ID, "start": float64(g.Start),
				"order": fmt.Sprintf("%s\x1f%010d", s.ID, g.Start), "kind": s.Kind, "case": s.Case, "speaker": g.Speaker, "role": g.Role,
				"attr": map[string]any{"site": "x", "gender": "y"}}})
		}
	}
	vs := []variant{
		{name: "nodv unsafe 2w", store: true, vectors: true, docvalues: false, kw: true, workers: 2, batch: 1000, unsafe: true},
		{name: "textonly unsafe 2w", store: true, vectors: true, docvalues: false, kw: false, workers: 2, batch: 1000, unsafe: true},
		{name: "nodv unsafe 2w", store: true, vectors: true, docvalues: false, kw: true, workers: 2, batch: 1000, unsafe: true},
		{name: "textonly unsafe 2w", store: true, vectors: true, docvalues: false, kw: false, workers: 2, batch: 1000, unsafe: true},
		{name: "textonly nostore 2w", store: false, vectors: true, docvalues: false, kw: false, workers: 2, batch: 1000, unsafe: true},
		{name: "nodv unsafe 3w", store: true, vectors: true, docvalues: false, kw: true, workers: 3, batch: 1000, unsafe: true},
		{name: "nodv unsafe 2w b300", store: true, vectors: true, docvalues: false, kw: true, workers: 2, batch: 300, unsafe: true},
	}
	for _, v := range vs {
		dir, _ := os.MkdirTemp("", "bx")
		path := filepath.Join(dir, "b")
		t0 := time.Now()
		cfg := map[string]any{}
		if v.unsafe {
			cfg["unsafe_batch"] = true
		}
		idx, err := bleve.NewUsing(path, mp(v), bleve.Config.DefaultIndexType, bleve.Config.DefaultKVStore, cfg)
		if err != nil {
			panic(err)
		}
		ch := make(chan []d)
		var wg sync.WaitGroup
		var last sync.WaitGroup
		for w := 0; w < v.workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for chunk := range ch {
					b := idx.NewBatch()
					for _, x := range chunk {
						if err := b.Index(x.id, x.m); err != nil {
							panic(err)
						}
					}
					if err := idx.Batch(b); err != nil {
						panic(err)
					}
				}
			}()
		}
		for i := 0; i < len(docs); i += v.batch {
			ch <- docs[i:min(len(docs), i+v.batch)]
		}
		close(ch)
		wg.Wait()
		if v.unsafe {
			// a final empty-ish batch with a persisted callback
			b := idx.NewBatch()
			b.SetInternal([]byte("k"), []byte("v"))
			last.Add(1)
			b.SetPersistedCallback(func(err error) { last.Done() })
			if err := idx.Batch(b); err != nil {
				panic(err)
			}
			last.Wait()
		}
		idx.Close()
		el := time.Since(t0)
		idx2, _ := bleve.Open(path)
		n, _ := idx2.DocCount()
		idx2.Close()
		var size int64
		filepath.Walk(path, func(_ string, fi os.FileInfo, _ error) error {
			if fi != nil && !fi.IsDir() {
				size += fi.Size()
			}
			return nil
		})
		fmt.Printf("%-26s %6.2fs %6.2f MB/s docs %d size %.1f MB\n", v.name, el.Seconds(), float64(bytes)/1e6/el.Seconds(), n, float64(size)/1e6)
		os.RemoveAll(dir)
	}
	_ = index.BatchCallback(nil)
}
