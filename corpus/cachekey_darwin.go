package corpus

import (
	"os"
	"syscall"
)

// statKey fills in the inode and change time of a file's key.
func statKey(fi os.FileInfo, k *fileKey) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	k.Ino = st.Ino
	k.CTime = st.Ctimespec.Sec*1e9 + st.Ctimespec.Nsec
	return true
}

// readFile reads a whole file.
func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

// readFileInto reads a whole file (into a new buffer).
func readFileInto(path string, _ []byte) ([]byte, error) { return os.ReadFile(path) }
