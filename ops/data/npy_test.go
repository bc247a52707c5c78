package data

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadNpyFloatAndUint8Images(t *testing.T) {
	dir := t.TempDir()
	x := make([]float32, 2*3*2*2)
	for i := range x {
		x[i] = float32(i) / 23
	}
	xf := writeNpy(t, filepath.Join(dir, "xf.npy"), "<f4", []int{2, 3, 2, 2}, x)
	y := writeNpy(t, filepath.Join(dir, "y.npy"), "<i8", []int{2}, []int64{1, 4})
	ds, err := LoadNpy("n", xf, y, NpyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Shape() != [3]int{3, 2, 2} || ds.Y[1] != 4 || len(ds.Classes) != 5 || ds.X[13] != x[13] {
		t.Errorf("shape %v labels %v classes %d x[13]=%v", ds.Shape(), ds.Y, len(ds.Classes), ds.X[13])
	}

	u8 := writeNpy(t, filepath.Join(dir, "xu.npy"), "|u1", []int{2, 2, 3}, []uint8{0, 51, 102, 153, 204, 255, 1, 2, 3, 4, 5, 6})
	ds, err = LoadNpy("n", u8, y, NpyOptions{Classes: []string{"a", "b", "c", "d", "e"}})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Shape() != [3]int{1, 2, 3} || ds.X[1] != 0.2 || ds.X[5] != 1 || ds.Classes[4] != "e" {
		t.Errorf("uint8 image: shape %v x %v classes %v", ds.Shape(), ds.X[:6], ds.Classes)
	}
}

func TestLoadNpyChannelsLastTransposes(t *testing.T) {
	dir := t.TempDir()
	// one 1×2 image with 3 channels: pixel 0 = (r0,g0,b0), pixel 1 = (r1,g1,b1)
	hwc := []uint8{10, 20, 30, 11, 21, 31}
	x := writeNpy(t, filepath.Join(dir, "x_train.npy"), "|u1", []int{1, 1, 2, 3}, hwc)
	writeNpy(t, filepath.Join(dir, "y_train.npy"), "|u1", []int{1}, []uint8{0})
	s, err := Open("npy", Options{Path: dir, ChannelsLast: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{10, 11, 20, 21, 30, 31} // R plane, G plane, B plane
	for i, w := range want {
		if s.Train.X[i] != float32(w)/255 {
			t.Fatalf("CHW %v, want %v/255 (from %s)", s.Train.X, want, x)
		}
	}
}

func TestLoadNpyErrors(t *testing.T) {
	dir := t.TempDir()
	y := writeNpy(t, filepath.Join(dir, "y.npy"), "<i4", []int{2}, []int32{0, 1})
	cases := map[string]struct {
		make func() string
		want string
	}{
		"not npy": {func() string { return writeFile(t, filepath.Join(dir, "a.npy"), []byte("hello world, not numpy")) }, "bad magic"},
		"truncated": {func() string {
			p := writeNpy(t, filepath.Join(dir, "b.npy"), "<f4", []int{2, 2, 2}, make([]float32, 8))
			raw, _ := os.ReadFile(p)
			return writeFile(t, p, raw[:len(raw)-3])
		}, "needs 32 data bytes, file has 29"},
		"out of range": {func() string {
			return writeNpy(t, filepath.Join(dir, "c.npy"), "<f4", []int{2, 1, 1}, []float32{0.5, 1.5})
		}, "element 1 is 1.5, outside [0,1]"},
		"complex dtype": {func() string {
			return writeNpy(t, filepath.Join(dir, "d.npy"), "<c8", []int{2, 1, 1}, make([]float32, 4))
		}, `dtype "<c8" is not supported`},
		"wrong rank": {func() string {
			return writeNpy(t, filepath.Join(dir, "e.npy"), "<f4", []int{2, 1}, make([]float32, 2))
		}, "images must be (N,H,W) or (N,C,H,W)"},
		"big endian": {func() string {
			return writeNpy(t, filepath.Join(dir, "f.npy"), ">f4", []int{2, 1, 1}, make([]float32, 2))
		}, "big-endian"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := c.make()
			_, err := LoadNpy("n", p, y, NpyOptions{})
			wantErr(t, err, p, c.want)
		})
	}
	x := writeNpy(t, filepath.Join(dir, "x.npy"), "<f4", []int{2, 1, 1}, []float32{0, 1})
	yf := writeNpy(t, filepath.Join(dir, "yf.npy"), "<f4", []int{2}, []float32{0, 1})
	_, err := LoadNpy("n", x, yf, NpyOptions{})
	wantErr(t, err, yf, "float dtype")
	y3 := writeNpy(t, filepath.Join(dir, "y3.npy"), "<i4", []int{3}, []int32{0, 1, 2})
	_, err = LoadNpy("n", x, y3, NpyOptions{})
	wantErr(t, err, y3, "shape [3] for 2 images")
	_, err = LoadNpy("n", x, y, NpyOptions{Classes: []string{"only"}})
	wantErr(t, err, y, "label 1 of sample 1 is out of range [0,1)")
}
