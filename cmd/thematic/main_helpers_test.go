package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/thematic-qda/thematic/corpus"
)

// mainTestIO returns streams writing to buffers, as when piped.
func mainTestIO() (*IOStreams, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: &bytes.Buffer{}, Out: out, ErrOut: errOut}, out, errOut
}

// mainTestProject makes a project in a temp folder and returns it with a
// function that opens it, as commands do.
func mainTestProject(t *testing.T) (*corpus.Project, func() (*corpus.Project, error)) {
	t.Helper()
	p, err := corpus.Init(filepath.Join(t.TempDir(), "study"), "test study")
	if err != nil {
		t.Fatal(err)
	}
	return p, func() (*corpus.Project, error) { return corpus.Open(p.Root) }
}

// mainWriteFile writes a file under dir and returns its path.
func mainWriteFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
