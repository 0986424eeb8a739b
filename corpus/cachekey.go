package corpus

import (
	"errors"
	"hash/crc64"
	"io"
	"os"
)

// fileKey identifies a version of a file for the caches in .thematic/
// without reading it where the system allows: its size, its modification
// time, and on Linux and macOS its inode and change time. No edit keeps all
// four: the change time cannot be set back, and a file replaced by a rename
// (as thematic and most editors write) is a new inode. Elsewhere the key
// holds a CRC-64 of the file's first and last 4 KiB instead.
type fileKey struct {
	Size, MTime, CTime int64
	Ino, CRC           uint64
}

// fileKeyOf returns the key of the file at path.
func fileKeyOf(path string) (fileKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileKey{}, err
	}
	k := fileKey{Size: fi.Size(), MTime: fi.ModTime().UnixNano()}
	if statKey(fi, &k) {
		return k, nil
	}
	k.CRC, err = edgesCRC(path, k.Size)
	return k, err
}

var edgeCRCTable = crc64.MakeTable(crc64.ECMA)

// edgesCRC is a CRC-64 of the first and last 4 KiB of a file of size bytes.
func edgesCRC(path string, size int64) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	const edge = 4 << 10
	var buf [edge]byte
	n, err := f.ReadAt(buf[:min(int64(edge), size)], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	crc := crc64.Update(0, edgeCRCTable, buf[:n])
	if size > edge {
		off := max(int64(edge), size-edge)
		n, err := f.ReadAt(buf[:size-off], off)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		crc = crc64.Update(crc, edgeCRCTable, buf[:n])
	}
	return crc, nil
}
