package bounded

import (
	"fmt"
	"io"
	"os"
)

// ReadFile reads a whole file after checking its size against the budget.
// It refuses directories and devices (a FIFO or /dev/zero would never end)
// and reads no more than the size it saw, so a file growing underneath
// cannot push it over the budget.
func ReadFile(path string) ([]byte, error) {
	f, size, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := Check(fmt.Sprintf("file %s", path), size); err != nil {
		return nil, err
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%s: %w (did it shrink while being read?)", path, err)
	}
	return b, nil
}

// Open opens a regular file for reading and returns its size.
func Open(path string) (*os.File, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, fmt.Errorf("%s is not a regular file (%s)", path, st.Mode().Type())
	}
	return f, st.Size(), nil
}

// Section reads length bytes at off from the file at path, checking that
// the file holds them and that they fit the budget before allocating.
// what names the data in errors (e.g. `tensor "w" external data`).
func Section(what, path string, off, length int64) ([]byte, error) {
	f, size, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if off < 0 || length < 0 {
		return nil, fmt.Errorf("%s: offset %d and length %d must not be negative", what, off, length)
	}
	if off > size || length > size-off {
		return nil, &TooLargeError{What: fmt.Sprintf("%s (%s, offset %d, length %d)", what, path, off, length),
			Need: length, Limit: max(size-off, 0), File: true}
	}
	if err := Check(what, length); err != nil {
		return nil, err
	}
	b := make([]byte, length)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", what, path, err)
	}
	return b, nil
}

// ShortError is a stream that ended before the bytes its header promised;
// it wraps io.ErrUnexpectedEOF.
type ShortError struct {
	What      string
	Want, Got int64
}

func (e *ShortError) Error() string {
	return fmt.Sprintf("%s: %v: %d bytes promised, %d present", e.What, io.ErrUnexpectedEOF, e.Want, e.Got)
}

func (e *ShortError) Unwrap() error { return io.ErrUnexpectedEOF }

// ReadN reads exactly n bytes from a stream whose length is unknown (a
// gzip stream, a pipe). It checks n against the budget, then allocates only
// as data arrives — in pieces that double from 1 MiB up to 16 MiB, copied
// once into the result at the end — so a header promising more than the
// stream holds costs at most twice what the stream holds, and an honest
// stream is copied once (a growing bytes.Buffer copied and cleared a 47 MB
// MNIST file about twice over). A short stream is an io.ErrUnexpectedEOF
// with the count found.
func ReadN(what string, r io.Reader, n int64) ([]byte, error) {
	if err := Check(what, n); err != nil {
		return nil, err
	}
	var pieces [][]byte
	got, size := int64(0), int64(1<<20)
	for got < n {
		p := make([]byte, min(size, n-got))
		k, err := io.ReadFull(r, p)
		got += int64(k)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, &ShortError{What: what, Want: n, Got: got}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		pieces = append(pieces, p)
		size = min(2*size, 16<<20)
	}
	if len(pieces) == 1 {
		return pieces[0], nil
	}
	out := make([]byte, 0, n)
	for _, p := range pieces {
		out = append(out, p...)
	}
	return out, nil
}
