package main

import (
	"io"
	"os"

	"golang.org/x/term"
)

// IOStreams carries a command's input and outputs and whether each output
// is a terminal, so that colour and progress bars can be tested.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer // data
	ErrOut io.Writer // progress and messages
	OutTTY bool
	ErrTTY bool
}

// SystemStreams are the process's standard streams.
func SystemStreams() *IOStreams {
	return &IOStreams{
		In:     os.Stdin,
		Out:    os.Stdout,
		ErrOut: os.Stderr,
		OutTTY: isTerminal(os.Stdout),
		ErrTTY: isTerminal(os.Stderr),
	}
}

func isTerminal(f *os.File) bool {
	if os.Getenv("TERM") == "dumb" {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

// Color reports whether stdout should carry ANSI colour.
func (s *IOStreams) Color() bool {
	return s.OutTTY && os.Getenv("NO_COLOR") == ""
}
