//go:build !linux && !darwin

package corpus

import "os"

// statKey reports that the system gives no inode and change time: the key
// reads the file's edges instead.
func statKey(os.FileInfo, *fileKey) bool { return false }

// readFile reads a whole file.
func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

// readFileInto reads a whole file (into a new buffer).
func readFileInto(path string, _ []byte) ([]byte, error) { return os.ReadFile(path) }
