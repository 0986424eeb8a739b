package corpus

import (
	"bytes"
	"encoding/gob"
	"errors"
	"io/fs"
	"os"
	"runtime"

	"github.com/thematic-qda/thematic/internal/fsx"
)

// SourceInfo is what listings need of a source: its sidecar without the
// segments, and how many segments of each unit it has.
type SourceInfo struct {
	Source                // Segments and Text are left empty
	Units  map[string]int // unit -> number of segments
}

// sourceInfoCache is the file, in .thematic/, that keeps every source's
// SourceInfo so that listings need not read the sidecars (which hold every
// segment and are several times the size of the texts). Sidecars stay the
// truth: an entry is used only while its sidecar has the key recorded with
// it (see fileKey).
const sourceInfoCacheFile = "sources.cache"

// sourceInfoCacheVersion changes with the layout of the entries.
const sourceInfoCacheVersion = 2

type sourceInfoEntry struct {
	Key  fileKey
	Info SourceInfo
}

type sourceInfoCacheData struct {
	Version int
	Entries map[string]sourceInfoEntry
}

// SourceInfos returns every source's metadata and segment counts, in id
// order, reading only the sidecars that changed since the last call (the
// others come from a cache in .thematic/). A sidecar that cannot be read is
// an error, as with Sources.
func (p *Project) SourceInfos() ([]SourceInfo, error) {
	ids, err := p.SourceIDs()
	if err != nil {
		return nil, err
	}
	cachePath := p.Path(CacheDir, sourceInfoCacheFile)
	old := sourceInfoCacheData{}
	if data, err := os.ReadFile(cachePath); err == nil {
		if gob.NewDecoder(bytes.NewReader(data)).Decode(&old) != nil || old.Version != sourceInfoCacheVersion {
			old = sourceInfoCacheData{}
		}
	}
	out := make([]SourceInfo, len(ids))
	keys := make([]fileKey, len(ids))
	fresh := make([]bool, len(ids))
	err = parallel(len(ids), runtime.GOMAXPROCS(0), func(i int) error {
		id := ids[i]
		k, err := fileKeyOf(p.Path(SourcesDir, id+".json"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		keys[i] = k
		if e, ok := old.Entries[id]; ok && err == nil && e.Key == k {
			out[i] = e.Info
			return nil
		}
		src, _, err := p.loadSource(id, false, true)
		if err != nil {
			return err
		}
		out[i] = infoOf(src)
		fresh[i] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	changed := len(old.Entries) != len(ids)
	for _, f := range fresh {
		changed = changed || f
	}
	if changed {
		next := sourceInfoCacheData{Version: sourceInfoCacheVersion, Entries: make(map[string]sourceInfoEntry, len(ids))}
		for i, id := range ids {
			next.Entries[id] = sourceInfoEntry{Key: keys[i], Info: out[i]}
		}
		var buf bytes.Buffer
		// The cache is derived: failing to write it only costs time.
		if gob.NewEncoder(&buf).Encode(next) == nil {
			if err := os.MkdirAll(p.Path(CacheDir), 0o755); err == nil {
				_ = fsx.WriteFile(cachePath, buf.Bytes(), 0o644)
			}
		}
	}
	return out, nil
}

// infoOf summarises a source read from its sidecar.
func infoOf(src *Source) SourceInfo {
	info := SourceInfo{Source: *src, Units: map[string]int{}}
	for _, g := range src.Segments {
		info.Units[g.Unit]++
	}
	info.Segments = nil
	info.Text = ""
	return info
}
