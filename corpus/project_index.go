package corpus

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"reflect"
	"runtime"
	"sort"
)

// IndexDir is where a project's search index lives.
func (p *Project) IndexDir() string { return p.Path(CacheDir, "index") }

// OpenIndex opens the project's search index and brings it up to date with
// the sources and cases.csv, rebuilding what is stale. Callers hold the lock
// while it may write. progress, if not nil, is called with the number of
// sources indexed so far and the number to index.
//
// Deciding what is stale reads no source: each source's sidecar is only
// looked at (size and modification time) and compared with what the index
// recorded, together with the source's row of cases.csv. Only sources that
// changed are read, one after the other while the index is updated, so
// memory holds a few sources at a time whatever the project's size.
func (p *Project) OpenIndex(progress func(done, total int)) (*Index, error) {
	items, _, err := p.indexSources()
	if err != nil {
		return nil, err
	}
	ix, err := OpenIndex(p.IndexDir(), p.Config)
	if err != nil {
		return nil, err
	}
	if _, err := ix.sync(items, progress); err != nil {
		ix.Close()
		return nil, err
	}
	return ix, nil
}

// indexSources describes the project's sources for Index.sync: a stamp of
// each sidecar and case row, and a loader that reads the source as
// IndexedSources gives it. It returns the cases read from cases.csv too.
func (p *Project) indexSources() ([]*syncSource, Cases, error) {
	ids, err := p.SourceIDs()
	if err != nil {
		return nil, nil, err
	}
	cases, err := ReadCases(p.Path(CasesFile))
	if err != nil {
		return nil, nil, err
	}
	caseRows := make(map[string]string, len(cases))
	for id, attrs := range cases {
		caseRows[id] = caseRowHash(attrs)
	}
	items := make([]*syncSource, len(ids))
	err = parallel(len(ids), runtime.GOMAXPROCS(0), func(i int) error {
		id := ids[i]
		fi, err := os.Stat(p.Path(SourcesDir, id+".json"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		it := &syncSource{id: id, rows: caseRows, load: func(withText bool) (*Source, error) {
			s, err := p.Source(id, withText)
			if err != nil {
				return nil, err
			}
			return IndexedSources([]*Source{s}, cases)[0], nil
		}}
		if err == nil {
			it.size, it.mtime, it.ino = fi.Size(), fi.ModTime().UnixNano(), fileNumber(fi)
		}
		items[i] = it
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return items, cases, nil
}

// fileNumber is a file's inode number where the system has one (read
// without naming a system's types, so that this builds everywhere), else 0.
func fileNumber(fi fs.FileInfo) uint64 {
	v := reflect.ValueOf(fi.Sys())
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return 0
	}
	f := v.FieldByName("Ino")
	if f.IsValid() && f.CanUint() {
		return f.Uint()
	}
	return 0
}

// caseRowHash identifies a row of cases.csv by its attributes.
func caseRowHash(attrs map[string]string) string {
	keys := sidecarKeys(attrs)
	kv := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		kv = append(kv, k, attrs[k])
	}
	data, _ := json.Marshal(kv)
	return HashText(string(data))
}

// IndexedSources returns copies of srcs whose attributes include their
// case's attributes, and whose hash covers those attributes too, so that an
// edit of cases.csv re-indexes the sources it touches.
func IndexedSources(srcs []*Source, cases Cases) []*Source {
	out := make([]*Source, len(srcs))
	for i, s := range srcs {
		c := *s
		c.Attrs = CaseAttrs(s, cases)
		keys := make([]string, 0, len(c.Attrs))
		for k := range c.Attrs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		meta, _ := json.Marshal([]any{s.SHA, s.Kind, s.Case, keys, c.Attrs, s.Speakers})
		c.SHA = HashText(string(meta))
		out[i] = &c
	}
	return out
}
