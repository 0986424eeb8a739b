// Command thematic is a command-line tool for thematic analysis of interview
// transcripts and diaries: ingest, search, code with a YAML codebook, check
// agreement between coders and export quote tables and matrices.
package main

import (
	"os"
)

func main() {
	os.Exit(Main(os.Args[1:], SystemStreams()))
}
