//go:build !unix

package fsx

import "os"

// On systems without flock the lock is advisory only within this process.
func lockFile(f *os.File) error { return nil }

func unlockFile(f *os.File) {}
