package run

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// GCResult is what GC removed.
type GCResult struct {
	Entries, Blobs, Temps int
	Freed, Left           int64
}

// GC bounds the store to maxBytes: it removes temporary files a killed
// process left, then the least recently used entries until the rest fit,
// then every blob no remaining entry names.
func (s *Store) GC(maxBytes int64) (GCResult, error) {
	var r GCResult
	before, err := s.Size()
	if err != nil {
		return r, err
	}
	r.Temps = s.removeTemps()
	infos, err := s.List()
	if err != nil {
		return r, err
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].ModTime.Before(infos[j].ModTime) })
	size, _ := s.Size()
	for _, in := range infos {
		if size <= maxBytes {
			break
		}
		if os.Remove(s.entryPath(in.Key)) == nil {
			r.Entries++
			size -= in.Bytes
		}
	}
	r.Blobs = s.removeOrphans()
	r.Left, _ = s.Size()
	r.Freed = before - r.Left
	return r, nil
}

// removeTemps deletes the temporary files of interrupted writes.
func (s *Store) removeTemps() int {
	n := 0
	_ = filepath.WalkDir(s.Dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), ".") && strings.Contains(d.Name(), ".tmp") {
			if os.Remove(path) == nil {
				n++
			}
		}
		return nil
	})
	return n
}

// removeOrphans deletes blobs that no entry names.
func (s *Store) removeOrphans() int {
	names, _ := filepath.Glob(filepath.Join(s.Dir, "entries", "*.json"))
	used := map[string]bool{}
	for _, path := range names {
		_, blobs := s.describe(path)
		for _, b := range blobs {
			used[filepath.Base(b)] = true
		}
	}
	blobs, _ := os.ReadDir(filepath.Join(s.Dir, "blobs"))
	n := 0
	for _, b := range blobs {
		if !used[b.Name()] && os.Remove(filepath.Join(s.Dir, "blobs", b.Name())) == nil {
			n++
			delete(s.verified, filepath.Join("blobs", b.Name()))
		}
	}
	return n
}
