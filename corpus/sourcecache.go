package corpus

import (
	"bytes"
	"encoding/gob"
	"errors"
	"hash/crc64"
	"io"
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
// truth: an entry is used only while its sidecar has the size, modification
// time and CRC-64 of its first and last 4 KiB recorded with it (the
// first 4 KiB hold the text's hash and the time of ingest).
const sourceInfoCacheFile = "sources.cache"

// sourceInfoCacheVersion changes with the layout of the entries.
const sourceInfoCacheVersion = 1

type sourceInfoEntry struct {
	Key  sidecarKey
	Info SourceInfo
}

type sourceInfoCacheData struct {
	Version int
	Entries map[string]sourceInfoEntry
}

type sidecarKey struct {
	Size, MTime int64
	CRC         uint64
}

var sidecarCRC = crc64.MakeTable(crc64.ECMA)

// sidecarKeyOf fingerprints a sidecar; a missing one is fs.ErrNotExist.
func sidecarKeyOf(path string) (sidecarKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return sidecarKey{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return sidecarKey{}, err
	}
	k := sidecarKey{Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
	const edge = 4 << 10
	var buf [edge]byte
	n, err := f.ReadAt(buf[:min(int64(edge), k.Size)], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return k, err
	}
	k.CRC = crc64.Update(0, sidecarCRC, buf[:n])
	if k.Size > edge {
		off := max(int64(edge), k.Size-edge)
		n, err := f.ReadAt(buf[:k.Size-off], off)
		if err != nil && !errors.Is(err, io.EOF) {
			return k, err
		}
		k.CRC = crc64.Update(k.CRC, sidecarCRC, buf[:n])
	}
	return k, nil
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
	keys := make([]sidecarKey, len(ids))
	fresh := make([]bool, len(ids))
	err = parallel(len(ids), runtime.GOMAXPROCS(0), func(i int) error {
		id := ids[i]
		k, err := sidecarKeyOf(p.Path(SourcesDir, id+".json"))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		keys[i] = k
		if e, ok := old.Entries[id]; ok && err == nil && e.Key == k {
			out[i] = e.Info
			return nil
		}
		src, err := p.Source(id, false)
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
