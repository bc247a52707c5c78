package data

import (
	"os"
	"path/filepath"
	"strings"
)

// resolvePath makes path absolute. When allowed is not empty the path, with
// symbolic links resolved, must lie inside allowed (also resolved), so a
// recipe cannot read files outside the folder its runner permits.
func resolvePath(path, allowed string) (string, error) {
	if path == "" {
		return "", fileErr("(empty path)", "give the dataset's folder or file", ErrNotFound, "no path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fileErr(path, "", err, "cannot make the path absolute")
	}
	if allowed == "" {
		return abs, nil
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", notFoundErr(path, err)
	}
	root, err := filepath.Abs(allowed)
	if err == nil {
		root, err = filepath.EvalSymlinks(root)
	}
	if err != nil {
		return "", fileErr(allowed, "", err, "cannot resolve the allowed data folder")
	}
	rel, err := filepath.Rel(root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(os.PathSeparator)) {
		return "", fileErr(path, "move the data inside "+root+" or change the allowed data folder",
			nil, "is outside the allowed data folder %s", root)
	}
	return real, nil
}
