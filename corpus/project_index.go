package corpus

import (
	"encoding/json"
	"sort"
)

// IndexDir is where a project's search index lives.
func (p *Project) IndexDir() string { return p.Path(CacheDir, "index") }

// OpenIndex opens the project's search index and brings it up to date with
// the sources and cases.csv, rebuilding what is stale. Callers hold the lock
// while it may write.
func (p *Project) OpenIndex(progress func(done, total int)) (*Index, error) {
	srcs, err := p.Sources(true)
	if err != nil {
		return nil, err
	}
	cases, err := ReadCases(p.Path(CasesFile))
	if err != nil {
		return nil, err
	}
	ix, err := OpenIndex(p.IndexDir(), p.Config)
	if err != nil {
		return nil, err
	}
	if _, err := ix.Sync(IndexedSources(srcs, cases), progress); err != nil {
		ix.Close()
		return nil, err
	}
	return ix, nil
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
