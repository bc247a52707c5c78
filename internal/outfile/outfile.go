// Package outfile writes the files qpipe produces (exported models,
// checkpoints, reports, formatted recipes) so that a crash, a full disk or
// a hostile output folder cannot damage anything:
//
//   - Confine resolves a relative path inside a root by what it points to:
//     no absolute path, "..", or symbolic link (in any existing ancestor)
//     leads outside the root;
//   - Write puts the bytes in a temporary file in the final directory and
//     renames it over the target, so readers see the old file or the new
//     one, never half of one; the file gets mode 0666 less the umask, as
//     any other program's output;
//   - Replace does the same for a file edited in place (qpipe fmt -w):
//     through a symbolic link to its target, keeping the target's mode.
package outfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Confine returns root/rel after checking that rel is relative, does not
// climb out with "..", and that the deepest part of root/rel that exists
// resolves (symbolic links followed) inside root resolved the same way.
// Parts that do not exist yet are created later by MkdirAll under the
// checked ancestor, so they cannot lead out either; Write checks the final
// directory again just before it writes.
func Confine(root, rel string) (string, error) {
	if rel == "" {
		return "", fmt.Errorf("empty path; give a file name inside %s", root)
	}
	if filepath.IsAbs(rel) || filepath.VolumeName(rel) != "" {
		return "", fmt.Errorf("path %q is absolute; paths are relative to the output directory %s", rel, root)
	}
	clean := filepath.Clean(rel)
	if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("path %q is outside the output directory %s; write a path inside it", rel, root)
	}
	p := filepath.Join(root, clean)
	if err := Inside(root, filepath.Dir(p)); err != nil {
		return "", fmt.Errorf("path %q: %w", rel, err)
	}
	return p, nil
}

// Inside checks that dir, resolved through its deepest existing ancestor,
// lies inside root resolved the same way.
func Inside(root, dir string) error {
	r, err := resolveExisting(root)
	if err != nil {
		return err
	}
	d, err := resolveExisting(dir)
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(r, d)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return fmt.Errorf("%s leads outside the output directory %s (to %s, through a symbolic link); write inside it or remove the link", dir, root, d)
	}
	return nil
}

// resolveExisting makes p absolute, resolves the symbolic links of its
// deepest existing ancestor and appends the parts that do not exist yet.
func resolveExisting(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	var rest []string
	for cur := abs; ; cur = filepath.Dir(cur) {
		r, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(append([]string{r}, rest...)...), nil
		}
		if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(cur) == cur {
			return "", err
		}
		rest = append([]string{filepath.Base(cur)}, rest...)
	}
}

// Write writes b to path atomically: a temporary file beside it, synced,
// then renamed over it. The file's mode is 0666 less the umask.
func Write(path string, b []byte) error {
	return write(path, b, 0o666, false)
}

// Replace rewrites an existing file atomically, through a symbolic link to
// its target (the link stays a link), keeping the target's mode.
func Replace(path string, b []byte) error {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	st, err := os.Stat(target)
	if err != nil {
		return err
	}
	return write(target, b, st.Mode().Perm(), true)
}

func write(path string, b []byte, perm fs.FileMode, exact bool) error {
	tmp, err := createTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-", perm)
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer os.Remove(name) // a no-op after the rename
	if exact {
		if err := tmp.Chmod(perm); err != nil {
			tmp.Close()
			return err
		}
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(name, path)
}

// createTemp is os.CreateTemp with a mode (os.CreateTemp always uses 0600,
// which the umask cannot widen): O_EXCL with a random suffix, so the
// kernel applies the umask to perm.
func createTemp(dir, prefix string, perm fs.FileMode) (*os.File, error) {
	for range 100 {
		var r [6]byte
		rand.Read(r[:])
		f, err := os.OpenFile(filepath.Join(dir, prefix+hex.EncodeToString(r[:])), os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("cannot create a temporary file in %s", dir)
}
