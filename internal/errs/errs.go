// Package errs holds the error type for problems in a user's input, kept apart
// from bugs: an InputError is printed as one line naming the file and, where
// known, the line and column, and makes the command exit with status 1.
package errs

import "fmt"

// InputError is a problem in something the user gave: a file, a flag, a query.
type InputError struct {
	File string // path as the user knows it; may be empty
	Line int    // 1-based; 0 when unknown
	Col  int    // 1-based; 0 when unknown
	Msg  string // what is wrong, and where possible what to do
}

// Error formats the error as FILE:LINE:COL: MSG, leaving out what is unknown.
func (e *InputError) Error() string {
	switch {
	case e.File == "":
		return e.Msg
	case e.Line == 0:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	case e.Col == 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	default:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
}

// New returns an InputError for file at line and column (0 when unknown).
func New(file string, line, col int, format string, args ...any) *InputError {
	return &InputError{File: file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}
