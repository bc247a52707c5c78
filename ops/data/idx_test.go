package data

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

func TestLoadIDXPlainAndGzipDecodeTheSamePixels(t *testing.T) {
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		labels := []byte{3, 1, 4, 1, 5}
		img, lab := writeIDXPair(t, dir, "train", 5, 4, 6, labels, gz)
		ds, err := LoadIDX("t", img, lab, numberedClasses(10))
		if err != nil {
			t.Fatal(err)
		}
		if ds.Len() != 5 || ds.Shape() != [3]int{1, 4, 6} {
			t.Fatalf("gz=%v: got %d samples of %v", gz, ds.Len(), ds.Shape())
		}
		// sample 2, pixel (y=3, x=5) = (2*7 + 3*3 + 5) = 28 -> 28/255
		if got := ds.Sample(2)[3*6+5]; got != 28.0/255 {
			t.Errorf("gz=%v: pixel = %v, want %v", gz, got, 28.0/255)
		}
		if ds.Y[4] != 5 || ds.Y[0] != 3 {
			t.Errorf("gz=%v: labels %v", gz, ds.Y)
		}
		if err := ds.Validate(); err != nil {
			t.Error(err)
		}
	}
}

func TestReadIDXRejectsBadInput(t *testing.T) {
	good := EncodeIDX([]int{2, 3, 3}, idxImages(2, 3, 3))
	cases := map[string]struct {
		data []byte
		ndim int
		want string
	}{
		"labels read as images": {EncodeIDX([]int{2}, []byte{1, 2}), 3, "bad magic number 0x00000801, want 0x00000803"},
		"float element type":    {append([]byte{0, 0, 0x0d, 3}, good[4:]...), 3, "bad magic number 0x00000d03"},
		"truncated data":        {good[:len(good)-1], 3, "truncated: header [2 3 3] promises 18 bytes of data, found 17"},
		"truncated header":      {good[:9], 3, "truncated header"},
		"empty":                 {nil, 3, "truncated header"},
		"zero dimension":        {EncodeIDX([]int{0, 3, 3}, nil), 3, "implausible dimensions"},
		"trailing bytes":        {append(append([]byte{}, good...), 9), 3, "trailing bytes"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ReadIDX(bytes.NewReader(c.data), c.ndim)
			wantErr(t, err, c.want)
		})
	}
}

func TestLoadIDXErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	img, lab := writeIDXPair(t, dir, "train", 3, 2, 2, []byte{0, 1, 12}, true)
	_, err := LoadIDX("t", img, lab, numberedClasses(10))
	wantErr(t, err, lab, "label 12 of sample 2 is out of range [0,10)", "10 classes")

	img, lab = writeIDXPair(t, dir, "short", 3, 2, 2, []byte{0, 1}, false)
	_, err = LoadIDX("t", img, lab, numberedClasses(10))
	wantErr(t, err, lab, "2 labels for 3 images")

	corrupt := writeFile(t, filepath.Join(dir, "x-images-idx3-ubyte.gz"), []byte{0x1f, 0x8b, 1, 2, 3})
	_, err = ReadIDXFile(corrupt, 3)
	wantErr(t, err, corrupt, "download it again")

	missing := filepath.Join(dir, "nope.gz")
	_, err = ReadIDXFile(missing, 3)
	wantErr(t, err, missing, "no such file")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file error %v does not wrap ErrNotFound", err)
	}
}

func TestOpenIDXFolderReadsMNISTNamedFiles(t *testing.T) {
	dir := t.TempDir()
	writeIDXPair(t, dir, "train", 6, 5, 5, []byte{0, 1, 2, 0, 1, 2}, true)
	writeIDXPair(t, dir, "t10k", 3, 5, 5, []byte{2, 1, 0}, false)
	s, err := Open("idx", Options{Path: dir, ValSplit: 0.5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if s.Train.Len() != 3 || s.Validation.Len() != 3 || s.Test.Len() != 3 {
		t.Fatalf("split sizes %d/%d/%d, want 3/3/3", s.Train.Len(), s.Validation.Len(), s.Test.Len())
	}
	if len(s.Train.Classes) != 3 || len(s.Test.Classes) != 3 {
		t.Errorf("classes %v / %v, want 3 numbered classes", s.Train.Classes, s.Test.Classes)
	}
	_, err = Open("idx", Options{Path: t.TempDir()})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("empty folder: %v, want ErrNotFound", err)
	}
}
