package data

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/qpipe/qpipe/internal/bounded"
)

// CIFAR binary batches (https://www.cs.toronto.edu/~kriz/cifar.html): fixed
// records of label byte(s) then 3072 pixel bytes, the 1024 red values
// first, then green, then blue, each plane row-major 32×32 — already the
// channels-first layout Dataset uses.
//
//	CIFAR-10  (cifar-10-batches-bin/):  data_batch_1..5.bin, test_batch.bin,
//	          batches.meta.txt; record = <label><3072 pixels>
//	CIFAR-100 (cifar-100-binary/):      train.bin, test.bin,
//	          coarse_label_names.txt, fine_label_names.txt;
//	          record = <coarse label><fine label><3072 pixels>

const (
	cifarSide   = 32
	cifarPixels = 3 * cifarSide * cifarSide
	cifarHint   = "download the binary version from https://www.cs.toronto.edu/~kriz/cifar.html and point the path at the extracted folder"
)

// cifar10Classes are the class names used when batches.meta.txt is absent.
func cifar10Classes() []string {
	return []string{"airplane", "automobile", "bird", "cat", "deer",
		"dog", "frog", "horse", "ship", "truck"}
}

// LoadCIFAR10 reads the CIFAR-10 binary batches in dir (or in
// dir/cifar-10-batches-bin): all five data batches form Train, test_batch.bin
// forms Test. Class names come from batches.meta.txt when present.
func LoadCIFAR10(dir string) (*Splits, error) {
	dir = descend(dir, "cifar-10-batches-bin", "data_batch_1.bin")
	classes, err := readNames(filepath.Join(dir, "batches.meta.txt"), 10)
	if err != nil {
		return nil, err
	}
	if classes == nil {
		classes = cifar10Classes()
	}
	var trainFiles []string
	for i := 1; i <= 5; i++ {
		trainFiles = append(trainFiles, filepath.Join(dir, fmt.Sprintf("data_batch_%d.bin", i)))
	}
	rec := cifarRecord{labelBytes: 1, labelIndex: 0, classes: classes}
	return loadCIFARSplits("cifar10", rec, trainFiles, filepath.Join(dir, "test_batch.bin"))
}

// LoadCIFAR100 reads the CIFAR-100 binary files train.bin and test.bin in dir
// (or in dir/cifar-100-binary). Labels are the 100 fine classes, or the 20
// coarse superclasses when coarse is set. Names come from
// fine_label_names.txt / coarse_label_names.txt when present.
func LoadCIFAR100(dir string, coarse bool) (*Splits, error) {
	dir = descend(dir, "cifar-100-binary", "train.bin")
	rec := cifarRecord{labelBytes: 2, labelIndex: 1}
	nclass, namesFile, name := 100, "fine_label_names.txt", "cifar100"
	if coarse {
		rec.labelIndex, nclass, namesFile, name = 0, 20, "coarse_label_names.txt", "cifar100-coarse"
	}
	classes, err := readNames(filepath.Join(dir, namesFile), nclass)
	if err != nil {
		return nil, err
	}
	if classes == nil {
		classes = numberedClasses(nclass)
	}
	rec.classes = classes
	return loadCIFARSplits(name, rec, []string{filepath.Join(dir, "train.bin")}, filepath.Join(dir, "test.bin"))
}

// descend returns dir/sub when dir itself lacks probe but dir/sub has it.
func descend(dir, sub, probe string) string {
	if _, err := os.Stat(filepath.Join(dir, probe)); err == nil {
		return dir
	}
	if _, err := os.Stat(filepath.Join(dir, sub, probe)); err == nil {
		return filepath.Join(dir, sub)
	}
	return dir
}

func numberedClasses(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	return names
}

// readNames reads one class name per non-empty line; a missing file gives
// nil names and no error, a file with a count other than want (unless want
// is negative) is an error.
func readNames(path string, want int) ([]string, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fileErr(path, "", err, "cannot open")
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			names = append(names, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fileErr(path, "", err, "cannot read")
	}
	if want >= 0 && len(names) != want {
		return nil, fileErr(path, "it must list one class name per line", nil,
			"has %d class names, want %d", len(names), want)
	}
	return names, nil
}

type cifarRecord struct {
	labelBytes int // 1 for CIFAR-10, 2 for CIFAR-100
	labelIndex int // which label byte is used
	classes    []string
}

func (r cifarRecord) size() int { return r.labelBytes + cifarPixels }

func loadCIFARSplits(name string, rec cifarRecord, trainFiles []string, testFile string) (*Splits, error) {
	var parts []*Dataset
	for _, f := range trainFiles {
		ds, err := readCIFARFile(name+"/train", f, rec)
		if err != nil {
			return nil, err
		}
		parts = append(parts, ds)
	}
	train, err := Concat(name+"/train", parts...)
	if err != nil {
		return nil, err
	}
	test, err := readCIFARFile(name+"/test", testFile, rec)
	if err != nil {
		return nil, err
	}
	return &Splits{Train: train, Test: test}, nil
}

// readCIFARFile decodes one binary batch file.
func readCIFARFile(name, path string, rec cifarRecord) (*Dataset, error) {
	raw, err := bounded.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fileErr(path, cifarHint, ErrNotFound, "no such file")
		}
		return nil, fileErr(path, "", err, "cannot read")
	}
	if len(raw) == 0 || len(raw)%rec.size() != 0 {
		return nil, fileErr(path, "the file is truncated or is not a CIFAR binary batch; "+cifarHint, nil,
			"size %d bytes is not a whole number of %d-byte records", len(raw), rec.size())
	}
	n := len(raw) / rec.size()
	if err := bounded.Check(fmt.Sprintf("CIFAR batch of %d images", n), bounded.Bytes(n, 4*cifarPixels+8)); err != nil {
		return nil, fileErr(path, "", err, "cannot load")
	}
	ds := &Dataset{Name: name, C: 3, H: cifarSide, W: cifarSide, Classes: rec.classes,
		X: make([]float32, n*cifarPixels), Y: make([]int, n)}
	for i := 0; i < n; i++ {
		r := raw[i*rec.size() : (i+1)*rec.size()]
		ds.Y[i] = int(r[rec.labelIndex])
		for j, b := range r[rec.labelBytes:] {
			ds.X[i*cifarPixels+j] = float32(b) / 255
		}
	}
	if err := checkLabels(ds.Y, len(rec.classes)); err != nil {
		return nil, fileErr(path, "the file is not a batch of this CIFAR variant; "+cifarHint, nil, "%v", err)
	}
	return ds, nil
}
