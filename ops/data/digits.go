package data

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The UCI optical recognition of handwritten digits test set as shipped by
// scikit-learn: digits.csv.gz, 1797 rows of 64 pixel counts (0..16, an 8×8
// image row by row) and the digit.

const (
	digitsFile    = "digits.csv.gz"
	digitsSHA256  = "6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8" // decompressed CSV
	digitsRows    = 1797
	digitsSide    = 8
	digitsMax     = 16
	digitsInner   = 20 // upsampled digit size, MNIST's 20×20 box
	digitsOuter   = 28 // MNIST frame
	digitsHint    = "run `apt-get install --no-install-recommends python3-sklearn`, or put sklearn's digits.csv.gz in $" + EnvDataDir + "/digits"
	digitSplitKey = 0xd161 // fixed seed of the train/test carving
)

// DigitsTestFraction is the share of the 1797 digits put in the test split
// (359 images), chosen once with a fixed seed so every run agrees.
const DigitsTestFraction = 0.2

// digitsCandidates are the folders searched for digits.csv.gz after the
// data dir: Debian's python3-sklearn, then common pip locations.
func digitsCandidates() []string {
	dirs := []string{"/usr/lib/python3/dist-packages/sklearn/datasets/data"}
	for _, pattern := range []string{
		"/usr/lib/python3*/site-packages/sklearn/datasets/data",
		"/usr/local/lib/python3*/dist-packages/sklearn/datasets/data",
		"/usr/local/lib/python3*/site-packages/sklearn/datasets/data",
	} {
		m, _ := filepath.Glob(pattern)
		dirs = append(dirs, m...)
	}
	return dirs
}

func openDigits(opts Options) (*Splits, error) {
	dir, err := opts.dataDir()
	if err != nil {
		return nil, err
	}
	return openDigitsFrom(append([]string{filepath.Join(dir, "digits")}, digitsCandidates()...))
}

func openDigitsFrom(candidates []string) (*Splits, error) {
	for _, d := range candidates {
		if path, ok := findFile(d, strings.TrimSuffix(digitsFile, ".gz")); ok {
			return loadDigits(path)
		}
	}
	return nil, fmt.Errorf("data: digits (%s) not found in %s: %w (%s)",
		digitsFile, strings.Join(candidates, ", "), ErrNotFound, digitsHint)
}

// loadDigits reads and verifies digits.csv(.gz) and returns its fixed
// train/test split, each image upsampled into MNIST's 1×28×28 framing.
func loadDigits(path string) (*Splits, error) {
	dir, base := filepath.Split(path)
	if err := verifyFile(dir, pinnedFile{strings.TrimSuffix(base, ".gz"), digitsSHA256}); err != nil {
		return nil, err
	}
	all, err := readDigitsCSV(path)
	if err != nil {
		return nil, err
	}
	train, test, err := all.Split(DigitsTestFraction, digitSplitKey)
	if err != nil {
		return nil, err
	}
	train.Name, test.Name = "digits/train", "digits/test"
	return &Splits{Train: train, Test: test}, nil
}

func readDigitsCSV(path string) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, notFoundErr(path, err)
	}
	defer f.Close()
	r, closer, err := maybeGunzip(f)
	if err != nil {
		return nil, fileErr(path, digitsHint, err, "cannot open gzip stream")
	}
	defer closer()
	ds := &Dataset{Name: "digits", C: 1, H: digitsOuter, W: digitsOuter, Classes: numberedClasses(10)}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		img, label, err := parseDigitRow(sc.Text())
		if err != nil {
			return nil, fileErr(fmt.Sprintf("%s:%d", path, line), digitsHint, nil, "%v", err)
		}
		ds.X = append(ds.X, frameDigit(img)...)
		ds.Y = append(ds.Y, label)
	}
	if err := sc.Err(); err != nil {
		return nil, fileErr(path, digitsHint, err, "cannot read")
	}
	if ds.Len() != digitsRows {
		return nil, fileErr(path, digitsHint, nil, "has %d rows, want %d", ds.Len(), digitsRows)
	}
	return ds, nil
}

// parseDigitRow reads 64 values in 0..16 and a label in 0..9.
func parseDigitRow(row string) ([]float32, int, error) {
	fields := strings.Split(strings.TrimSpace(row), ",")
	if len(fields) != digitsSide*digitsSide+1 {
		return nil, 0, fmt.Errorf("has %d fields, want %d", len(fields), digitsSide*digitsSide+1)
	}
	vals := make([]int, len(fields))
	for i, s := range fields {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || v != float64(int(v)) {
			return nil, 0, fmt.Errorf("field %d %q is not an integer", i+1, s)
		}
		vals[i] = int(v)
	}
	img := make([]float32, digitsSide*digitsSide)
	for i, v := range vals[:len(img)] {
		if v < 0 || v > digitsMax {
			return nil, 0, fmt.Errorf("pixel %d is %d, outside 0..%d", i, v, digitsMax)
		}
		img[i] = float32(v) / digitsMax
	}
	label := vals[len(img)]
	if label < 0 || label > 9 {
		return nil, 0, fmt.Errorf("label %d is out of range [0,10)", label)
	}
	return img, label, nil
}

// frameDigit upsamples an 8×8 digit bilinearly to 20×20 and centres it in a
// black 28×28 frame, as MNIST frames its digits.
func frameDigit(img []float32) []float32 {
	inner := resizePlane(img, digitsSide, digitsSide, digitsInner, digitsInner)
	out := make([]float32, digitsOuter*digitsOuter)
	off := (digitsOuter - digitsInner) / 2
	for y := 0; y < digitsInner; y++ {
		for x := 0; x < digitsInner; x++ {
			out[(y+off)*digitsOuter+x+off] = min(max(inner[y*digitsInner+x], 0), 1)
		}
	}
	return out
}
