// Command thematic is a command-line tool for thematic analysis of interview
// transcripts and diaries: ingest, search, code with a YAML codebook, check
// agreement between coders and export quote tables and matrices.
package main

import (
	"os"
	"runtime/debug"
)

// softMemoryLimit is the heap size past which the garbage collector works
// harder rather than letting the heap double: the commands keep their live
// data well under it, and without it Go's default lets a 1.1 GB live heap
// reach 2.2 GB before collecting. GOMEMLIMIT, when set, wins.
const softMemoryLimit = 1536 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
	os.Exit(Main(os.Args[1:], SystemStreams()))
}
