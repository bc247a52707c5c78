package run

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/qpipe/qpipe/internal/bounded"
)

// The step store keeps what a finished plan node left behind under the
// node's chained key (planner/keys.go): the state after the node (models,
// snapshots, dataset binding, metrics) and the node's report entry. A run
// that meets a node whose key is in the store takes the entry instead of
// executing the node (status "cached").
//
// Layout under the store's folder:
//
//	entries/<key>.json      one finished node: report entry, state, and the
//	                        SHA-256 of every blob it names
//	blobs/<sha>.safetensors models by content (with their .json
//	                        architecture), shared by the entries
//
// Every file is written to a temporary name in its folder, synced and
// renamed, and an entry only after its blobs, so a process killed at any
// moment leaves either a whole entry or none; temporary leftovers are
// removed by GC. Reading an entry re-hashes its blobs: a damaged entry is
// reported (CorruptError), deleted, and its node executed again.

// StoreEnv is the variable that names the store's folder.
const StoreEnv = "QPIPE_CACHE"

// DefaultStoreMax bounds the store after every run unless told otherwise.
const DefaultStoreMax = 20 << 30

// Store is a content-addressed step store in a folder.
type Store struct {
	Dir string
	// verified remembers blobs already hashed in this process.
	verified map[string]bool
}

// DefaultStoreDir is $QPIPE_CACHE, else the user cache folder's
// qpipe/steps.
func DefaultStoreDir() (string, error) {
	if d := os.Getenv(StoreEnv); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no step store folder: set %s (%v)", StoreEnv, err)
	}
	return filepath.Join(base, "qpipe", "steps"), nil
}

// OpenStore opens (creating) the store in dir.
func OpenStore(dir string) (*Store, error) {
	for _, sub := range []string{"entries", "blobs"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("step store %s: %w", dir, unwrapPath(err))
		}
	}
	return &Store{Dir: dir, verified: map[string]bool{}}, nil
}

// Entry is one finished node in the store.
type Entry struct {
	Key  string `json:"key"`
	Node string `json:"node"`
	Verb string `json:"verb"`
	// Recipe is the recipe that computed it, for `qpipe cache ls`.
	Recipe  string             `json:"recipe"`
	Seconds float64            `json:"seconds"`
	Summary string             `json:"summary,omitempty"`
	Metrics map[string]float64 `json:"metrics"`
	// Series are the node's curves and tables (report.html).
	Series *Series   `json:"series,omitempty"`
	State  stateFile `json:"state"`
	// Files maps each blob the state names (relative to the store) to
	// its SHA-256.
	Files map[string]string `json:"files"`
}

// CorruptError is a store entry that cannot be trusted.
type CorruptError struct {
	Key, Path string
	Err       error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("step store entry %s is damaged (%v); it was removed and the step runs again", e.Path, e.Err)
}

func (s *Store) entryPath(key string) string {
	return filepath.Join(s.Dir, "entries", key+".json")
}

// Get reads the entry under key and checks its blobs. It returns
// (nil, nil) when there is none, and a *CorruptError (after removing the
// entry) when it is damaged.
func (s *Store) Get(key string) (*Entry, error) {
	path := s.entryPath(key)
	b, err := bounded.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil || e.Key != key {
		if err == nil {
			err = fmt.Errorf("it holds key %q", e.Key)
		}
		return nil, s.corrupt(key, err)
	}
	for rel, sum := range e.Files {
		if err := s.verify(rel, sum); err != nil {
			return nil, s.corrupt(key, err)
		}
	}
	now := time.Now()
	_ = os.Chtimes(path, now, now) // recency for GC
	return &e, nil
}

func (s *Store) corrupt(key string, err error) error {
	path := s.entryPath(key)
	os.Remove(path)
	return &CorruptError{Key: key, Path: path, Err: err}
}

// verify re-hashes a blob once per process.
func (s *Store) verify(rel, sum string) error {
	if s.verified[rel] {
		return nil
	}
	got, err := fileSum(filepath.Join(s.Dir, rel))
	if err != nil {
		return err
	}
	if got != sum {
		return fmt.Errorf("%s has SHA-256 %s, want %s", rel, got[:12], sum[:12])
	}
	s.verified[rel] = true
	return nil
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", unwrapPath(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Put stores st and the node's report entry under key. Blobs go first,
// the entry last.
func (s *Store) Put(e *Entry, st *State) error {
	sf, files, err := encodeState(s.Dir, "blobs", st)
	if err != nil {
		return err
	}
	e.State, e.Files = sf, map[string]string{}
	for _, rel := range files {
		sum, err := fileSum(filepath.Join(s.Dir, rel))
		if err != nil {
			return err
		}
		e.Files[rel] = sum
		s.verified[rel] = true
	}
	b, err := json.MarshalIndent(e, "", " ")
	if err != nil {
		return err
	}
	return writeAtomic(s.entryPath(e.Key), append(b, '\n'))
}

// Load rebuilds the state an entry holds, reopening its dataset.
func (s *Store) Load(env *Env, e *Entry) (*State, error) {
	return decodeState(env, s.Dir, e.State)
}

// Path is the file of the entry under key.
func (s *Store) Path(key string) string { return s.entryPath(key) }

// EntryInfo is one entry as `qpipe cache ls` lists it.
type EntryInfo struct {
	Key, Node, Verb, Recipe string
	// Bytes counts the entry and the blobs only it names.
	Bytes   int64
	ModTime time.Time
}

// List reads every entry, newest first; unreadable entries are listed
// with Verb "?".
func (s *Store) List() ([]EntryInfo, error) {
	names, err := filepath.Glob(filepath.Join(s.Dir, "entries", "*.json"))
	if err != nil {
		return nil, err
	}
	refs := map[string]int{}
	var out []EntryInfo
	var files [][]string
	for _, path := range names {
		info, blobs := s.describe(path)
		for _, b := range blobs {
			refs[b]++
		}
		out = append(out, info)
		files = append(files, blobs)
	}
	for i := range out {
		for _, b := range files[i] {
			if refs[b] == 1 {
				out[i].Bytes += fileSize(filepath.Join(s.Dir, b))
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ModTime.After(out[j].ModTime) })
	return out, nil
}

// describe reads an entry file for List and GC: its facts and blobs.
func (s *Store) describe(path string) (EntryInfo, []string) {
	info := EntryInfo{Key: strings.TrimSuffix(filepath.Base(path), ".json"), Verb: "?"}
	if fi, err := os.Stat(path); err == nil {
		info.Bytes, info.ModTime = fi.Size(), fi.ModTime()
	}
	b, err := bounded.ReadFile(path)
	var e Entry
	if err != nil || json.Unmarshal(b, &e) != nil {
		return info, nil
	}
	info.Node, info.Verb, info.Recipe = e.Node, e.Verb, e.Recipe
	var blobs []string
	for rel := range e.Files {
		blobs = append(blobs, rel)
	}
	return info, blobs
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Size is the bytes the store's files take.
func (s *Store) Size() (int64, error) {
	var n int64
	err := filepath.WalkDir(s.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n += fileSize(path)
		return nil
	})
	return n, err
}
