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
	k.CTime = st.Ctim.Sec*1e9 + st.Ctim.Nsec
	return true
}

// readFile reads a whole file with the fewest system calls (os.ReadFile
// also sets the file up for the runtime's poller, which a regular file does
// not use: four more calls a file, which add up over thousands of sources).
func readFile(path string) ([]byte, error) { return readFileInto(path, nil) }

// readFileInto is readFile into buf when it has room.
func readFileInto(path string, buf []byte) ([]byte, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if int64(cap(buf)) < st.Size {
		buf = make([]byte, st.Size)
	}
	buf = buf[:st.Size]
	n := 0
	for n < len(buf) {
		m, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			break
		}
		n += m
	}
	return buf[:n], nil
}
