package data

import (
	"errors"
	"fmt"
)

// ErrNotFound is wrapped by every error that means "the dataset's files are
// not on this machine"; test for it with errors.Is.
var ErrNotFound = errors.New("dataset not found")

// FileError is a problem with one file: which file, what is wrong with it,
// and what the user can do about it.
type FileError struct {
	Path string
	Msg  string // what is wrong, e.g. "bad magic number 0x00000802, want 0x00000803"
	Hint string // what to do, e.g. "re-download the file"; may be empty
	Err  error  // underlying error, if any
}

func (e *FileError) Error() string {
	s := fmt.Sprintf("data: %s: %s", e.Path, e.Msg)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

func (e *FileError) Unwrap() error { return e.Err }

func fileErr(path, hint string, err error, format string, args ...any) *FileError {
	return &FileError{Path: path, Msg: fmt.Sprintf(format, args...), Hint: hint, Err: err}
}
