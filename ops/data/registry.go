package data

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/qpipe/qpipe/internal/spell"
)

// Opener loads a dataset's splits. Registry.Open carves the validation split
// afterwards, so openers ignore Options.ValSplit.
type Opener func(opts Options) (*Splits, error)

// Registry maps dataset names to openers. Lookup ignores case, '-' and '_',
// so "Fashion_MNIST" finds "fashion-mnist".
type Registry struct {
	entries map[string]entry
}

type entry struct {
	name string
	doc  string
	open Opener
}

// NewRegistry returns a registry holding the built-in datasets.
func NewRegistry() *Registry {
	r := &Registry{entries: map[string]entry{}}
	for _, e := range builtins() {
		r.entries[key(e.name)] = e
	}
	return r
}

func builtins() []entry {
	return []entry{
		{"mnist", "MNIST handwritten digits, 60000 train / 10000 test, 1×28×28", openMNIST},
		{"fashion-mnist", "Fashion-MNIST (Debian dataset-fashion-mnist), 60000/10000, 1×28×28", openFashion},
		{"digits", "UCI handwritten digits from scikit-learn, 1797 images upsampled to 1×28×28", openDigits},
		{"cifar10", "CIFAR-10 binary batches at Path, 50000/10000, 3×32×32", openCIFAR10},
		{"cifar100", "CIFAR-100 binary files at Path (Coarse for the 20 superclasses), 3×32×32", openCIFAR100},
		{"imagefolder", "PNG/JPEG images at Path/<class>/ (or Path/train/<class>/ and Path/test/<class>/)", openImageFolder},
		{"idx", "IDX files at Path named like MNIST's (train-images-idx3-ubyte[.gz], ...)", openIDXFolder},
		{"npy", "x_train.npy, y_train.npy [, x_test.npy, y_test.npy, classes.txt] at Path", openNpyFolder},
	}
}

func key(name string) string {
	return strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(name))
}

// Register adds or replaces a dataset.
func (r *Registry) Register(name, doc string, open Opener) {
	r.entries[key(name)] = entry{name, doc, open}
}

// Names lists the registered datasets, sorted.
func (r *Registry) Names() []string {
	var names []string
	for _, e := range r.entries {
		names = append(names, e.name)
	}
	sort.Strings(names)
	return names
}

// Doc is a one-line description of a dataset ("" when unknown).
func (r *Registry) Doc(name string) string { return r.entries[key(name)].doc }

// Open loads the named dataset and, when opts.ValSplit > 0, carves the
// validation split from its training set with opts.Seed.
func (r *Registry) Open(name string, opts Options) (*Splits, error) {
	e, ok := r.entries[key(name)]
	if !ok {
		return nil, r.unknown(name)
	}
	s, err := e.open(opts)
	if err != nil {
		return nil, err
	}
	if opts.ValSplit > 0 {
		train, val, err := s.Train.Split(opts.ValSplit, opts.Seed)
		if err != nil {
			return nil, err
		}
		s = &Splits{Train: train, Validation: val, Test: s.Test}
	}
	return s, nil
}

func (r *Registry) unknown(name string) error {
	msg := fmt.Sprintf("data: unknown dataset %q; known datasets: %s", name, strings.Join(r.Names(), ", "))
	if near := spell.Nearest(name, r.Names()); near != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", near)
	}
	return fmt.Errorf("%s", msg)
}

// Open loads a dataset from the built-in registry.
func Open(name string, opts Options) (*Splits, error) { return NewRegistry().Open(name, opts) }

func openCIFAR10(opts Options) (*Splits, error) {
	dir, err := resolvePath(opts.Path, opts.AllowedDir)
	if err != nil {
		return nil, err
	}
	return LoadCIFAR10(dir)
}

func openCIFAR100(opts Options) (*Splits, error) {
	dir, err := resolvePath(opts.Path, opts.AllowedDir)
	if err != nil {
		return nil, err
	}
	return LoadCIFAR100(dir, opts.Coarse)
}

// openImageFolder uses Path/train and Path/test (or Path/val) when Path/train
// exists, otherwise Path itself as the training set with no test split.
func openImageFolder(opts Options) (*Splits, error) {
	dir, err := resolvePath(opts.Path, opts.AllowedDir)
	if err != nil {
		return nil, err
	}
	io := ImageFolderOptions{Height: opts.Height, Width: opts.Width, Channels: opts.Channels}
	name := "imagefolder:" + filepath.Base(dir)
	if !isDir(filepath.Join(dir, "train")) {
		train, err := LoadImageFolder(name, dir, io)
		return &Splits{Train: train}, err
	}
	train, err := LoadImageFolder(name+"/train", filepath.Join(dir, "train"), io)
	if err != nil {
		return nil, err
	}
	s := &Splits{Train: train}
	io.Height, io.Width = train.H, train.W // test images follow the training shape
	for _, sub := range []string{"test", "val"} {
		if isDir(filepath.Join(dir, sub)) {
			if s.Test, err = LoadImageFolder(name+"/"+sub, filepath.Join(dir, sub), io); err != nil {
				return nil, err
			}
			return s, sameClasses(s.Train, s.Test, filepath.Join(dir, sub))
		}
	}
	return s, nil
}

func sameClasses(train, test *Dataset, testDir string) error {
	if strings.Join(train.Classes, "\x00") != strings.Join(test.Classes, "\x00") {
		return fileErr(testDir, "give the test folder the same class sub-folders as train", nil,
			"has classes %v, train has %v", test.Classes, train.Classes)
	}
	return nil
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// openIDXFolder reads MNIST-named IDX files; the test pair is optional and
// the classes are "0".."K-1" with K the largest label + 1 over both splits.
func openIDXFolder(opts Options) (*Splits, error) {
	dir, err := resolvePath(opts.Path, opts.AllowedDir)
	if err != nil {
		return nil, err
	}
	s := &Splits{}
	for _, part := range []struct {
		prefix string
		dst    **Dataset
	}{{"train", &s.Train}, {"t10k", &s.Test}} {
		img, okI := findFile(dir, part.prefix+"-images-idx3-ubyte")
		lab, okL := findFile(dir, part.prefix+"-labels-idx1-ubyte")
		if !okI || !okL {
			if part.prefix == "train" {
				return nil, fileErr(filepath.Join(dir, "train-images-idx3-ubyte[.gz]"),
					"name the files like MNIST's: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-...", ErrNotFound, "missing")
			}
			continue
		}
		if *part.dst, err = LoadIDX("idx:"+filepath.Base(dir)+"/"+part.prefix, img, lab, numberedClasses(256)); err != nil {
			return nil, err
		}
	}
	shrinkClasses(s)
	return s, nil
}

// shrinkClasses trims numbered class lists to the labels actually used.
func shrinkClasses(s *Splits) {
	k := maxLabel(s.Train.Y) + 1
	if s.Test != nil {
		k = max(k, maxLabel(s.Test.Y)+1)
	}
	s.Train.Classes = s.Train.Classes[:k]
	if s.Test != nil {
		s.Test.Classes = s.Train.Classes
	}
}

// openNpyFolder reads x_train.npy/y_train.npy and, when present,
// x_test.npy/y_test.npy and classes.txt (one name per line).
func openNpyFolder(opts Options) (*Splits, error) {
	dir, err := resolvePath(opts.Path, opts.AllowedDir)
	if err != nil {
		return nil, err
	}
	no := NpyOptions{ChannelsLast: opts.ChannelsLast}
	if names, err := readNames(filepath.Join(dir, "classes.txt"), -1); err != nil {
		return nil, err
	} else {
		no.Classes = names
	}
	name := "npy:" + filepath.Base(dir)
	train, err := LoadNpy(name+"/train", filepath.Join(dir, "x_train.npy"), filepath.Join(dir, "y_train.npy"), no)
	if err != nil {
		return nil, err
	}
	s := &Splits{Train: train}
	if _, err := os.Stat(filepath.Join(dir, "x_test.npy")); err == nil {
		if no.Classes == nil {
			no.Classes = train.Classes
		}
		if s.Test, err = LoadNpy(name+"/test", filepath.Join(dir, "x_test.npy"), filepath.Join(dir, "y_test.npy"), no); err != nil {
			return nil, err
		}
	}
	return s, nil
}
