package data

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

// writeCIFAR10 writes five train batches of 2 records and a test batch of 3
// in dir/cifar-10-batches-bin; record labels are (batch*2 + i) mod 10.
func writeCIFAR10(t *testing.T, dir string, meta bool) string {
	bin := filepath.Join(dir, "cifar-10-batches-bin")
	for b := 1; b <= 5; b++ {
		writeFile(t, filepath.Join(bin, fmt.Sprintf("data_batch_%d.bin", b)),
			cifarRecords(2, func(i int) []byte { return []byte{byte((b*2 + i) % 10)} }))
	}
	writeFile(t, filepath.Join(bin, "test_batch.bin"), cifarRecords(3, func(i int) []byte { return []byte{byte(9 - i)} }))
	if meta {
		writeFile(t, filepath.Join(bin, "batches.meta.txt"),
			[]byte("a0\na1\na2\na3\na4\na5\na6\na7\na8\na9\n\n"))
	}
	return bin
}

func TestLoadCIFAR10ReadsBatchesInOrderChannelsFirst(t *testing.T) {
	dir := t.TempDir()
	writeCIFAR10(t, dir, true)
	s, err := Open("cifar-10", Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	if s.Train.Len() != 10 || s.Test.Len() != 3 || s.Train.Shape() != [3]int{3, 32, 32} {
		t.Fatalf("train %d, test %d, shape %v", s.Train.Len(), s.Test.Len(), s.Train.Shape())
	}
	wantY := []int{2, 3, 4, 5, 6, 7, 8, 9, 0, 1} // batches 1..5 in order
	for i, y := range wantY {
		if s.Train.Y[i] != y {
			t.Fatalf("train labels %v, want %v", s.Train.Y, wantY)
		}
	}
	if s.Train.Classes[3] != "a3" || len(s.Train.Classes) != 10 {
		t.Errorf("classes %v, want a0..a9 from batches.meta.txt", s.Train.Classes)
	}
	// test record 1, green plane (offset 1024), pixel (y=2,x=5): byte (1 + 1024+2*32+5) mod 251
	want := float32((1+1024+2*32+5)%251) / 255
	if got := s.Test.Sample(1)[1024+2*32+5]; got != want {
		t.Errorf("green pixel = %v, want %v", got, want)
	}
}

func TestLoadCIFAR10DefaultClassNamesAndErrors(t *testing.T) {
	dir := t.TempDir()
	bin := writeCIFAR10(t, dir, false)
	s, err := LoadCIFAR10(bin)
	if err != nil {
		t.Fatal(err)
	}
	if s.Train.Classes[0] != "airplane" || s.Train.Classes[9] != "truck" {
		t.Errorf("default classes %v", s.Train.Classes)
	}

	writeFile(t, filepath.Join(bin, "data_batch_3.bin"), cifarRecords(2, func(int) []byte { return []byte{1} })[:5000])
	_, err = LoadCIFAR10(bin)
	wantErr(t, err, "data_batch_3.bin", "not a whole number of 3073-byte records")

	writeFile(t, filepath.Join(bin, "data_batch_3.bin"), cifarRecords(2, func(int) []byte { return []byte{10} }))
	_, err = LoadCIFAR10(bin)
	wantErr(t, err, "data_batch_3.bin", "label 10 of sample 0 is out of range [0,10)")

	_, err = LoadCIFAR10(t.TempDir())
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("empty folder: %v, want ErrNotFound", err)
	}
	wantErr(t, err, "data_batch_1.bin", "cifar.html")

	writeFile(t, filepath.Join(bin, "batches.meta.txt"), []byte("a\nb\n"))
	_, err = LoadCIFAR10(bin)
	wantErr(t, err, "batches.meta.txt", "has 2 class names, want 10")
}

func TestLoadCIFAR100FineAndCoarseLabels(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cifar-100-binary")
	lab := func(i int) []byte { return []byte{byte(i % 20), byte(i*7 + 50)} }
	writeFile(t, filepath.Join(dir, "train.bin"), cifarRecords(4, lab))
	writeFile(t, filepath.Join(dir, "test.bin"), cifarRecords(2, lab))
	fine, err := Open("cifar100", Options{Path: filepath.Dir(dir)})
	if err != nil {
		t.Fatal(err)
	}
	coarse, err := Open("cifar100", Options{Path: dir, Coarse: true})
	if err != nil {
		t.Fatal(err)
	}
	if fine.Train.Y[3] != 71 || coarse.Train.Y[3] != 3 {
		t.Errorf("sample 3: fine %d (want 71), coarse %d (want 3)", fine.Train.Y[3], coarse.Train.Y[3])
	}
	if len(fine.Train.Classes) != 100 || len(coarse.Test.Classes) != 20 {
		t.Errorf("class counts %d, %d", len(fine.Train.Classes), len(coarse.Test.Classes))
	}
	// a CIFAR-10 style 3073-byte record file is not CIFAR-100
	writeFile(t, filepath.Join(dir, "test.bin"), cifarRecords(2, func(int) []byte { return []byte{1} }))
	_, err = LoadCIFAR100(dir, false)
	wantErr(t, err, "test.bin", "3074-byte records")
}
