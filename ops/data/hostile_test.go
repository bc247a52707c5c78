package data

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/qpipe/qpipe/internal/bounded"
)

// npyBytes is a version-1 .npy file with the given header dict and body.
func npyBytes(dict string, body []byte) []byte {
	header := dict + "\n"
	var buf bytes.Buffer
	buf.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&buf, binary.LittleEndian, uint16(len(header)))
	buf.WriteString(header)
	buf.Write(body)
	return buf.Bytes()
}

func TestNpyRefusesCraftedShapes(t *testing.T) {
	for shape, want := range map[string]string{
		"(4294967296, 4294967296)": "overflows",
		"(1099511627776,)":         "needs 4398046511104 data bytes, file has 16",
		"(1099511627776, 0, 28)":   "", // no pixels: refused by LoadNpy, not here
	} {
		a, err := decodeNpy(npyBytes(fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shape), make([]byte, 16)))
		if want == "" {
			if err == nil {
				t.Errorf("%s: decoded %v from 16 bytes", shape, a.Shape)
			}
			continue
		}
		wantErr(t, err, want)
	}
	dir := t.TempDir()
	x := writeFile(t, filepath.Join(dir, "x.npy"), npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 0, 28), }", nil))
	y := writeNpy(t, filepath.Join(dir, "y.npy"), "<i8", []int{1}, []int64{0})
	_, err := LoadNpy("n", x, y, NpyOptions{})
	wantErr(t, err, "x.npy", "at least one pixel")
}

func TestIDXShortDataAllocatesOnlyWhatArrives(t *testing.T) {
	// a 16-byte header promising 2^31 bytes used to allocate them first
	hdr := EncodeIDX([]int{32768, 256, 256}, nil)
	_, err := ReadIDX(bytes.NewReader(hdr), 3)
	wantErr(t, err, "truncated: header [32768 256 256] promises 2147483648 bytes of data, found 0")
	defer bounded.SetBudget(bounded.SetBudget(1000))
	_, err = ReadIDX(bytes.NewReader(EncodeIDX([]int{2, 32, 32}, make([]byte, 2048))), 3)
	if !errors.Is(err, bounded.ErrTooLarge) {
		t.Fatalf("2048 bytes over a 1000-byte budget: %v", err)
	}
}

// hugePNG is a valid PNG whose header declares w×h pixels, with the pixel
// data of a 1×1 image.
func hugePNG(t *testing.T, w, h uint32) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	ihdr := b[8+8 : 8+8+13] // after the signature, length and "IHDR"
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	binary.BigEndian.PutUint32(b[8+8+13:], crc32.ChecksumIEEE(b[8+4:8+8+13]))
	return b
}

func TestImageFolderRefusesDeclaredGiantImage(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a"), 0o755)
	writePNG(t, filepath.Join(dir, "a", "ok.png"), gradientImage(4, 4, 1))
	writeFile(t, filepath.Join(dir, "a", "zz.png"), hugePNG(t, 1<<20, 1<<20))
	_, err := LoadImageFolder("f", dir, ImageFolderOptions{Height: 4, Width: 4})
	wantErr(t, err, "zz.png", "declares 1048576x1048576 pixels", "memory budget")
}

func TestCIFARAndNpyRespectBudget(t *testing.T) {
	dir := t.TempDir()
	x := writeNpy(t, filepath.Join(dir, "x.npy"), "|u1", []int{4, 8, 8}, make([]uint8, 256))
	defer bounded.SetBudget(bounded.SetBudget(200))
	if _, err := ReadNpyFile(x); !errors.Is(err, bounded.ErrTooLarge) {
		t.Fatalf("npy over budget: %v", err)
	}
	p := writeFile(t, filepath.Join(dir, "test_batch.bin"), cifarRecords(1, func(int) []byte { return []byte{0} }))
	if _, err := readCIFARFile("c", p, cifarRecord{labelBytes: 1, classes: cifar10Classes()}); !errors.Is(err, bounded.ErrTooLarge) {
		t.Fatalf("cifar over budget: %v", err)
	}
}

// FuzzNpy feeds arbitrary bytes to the .npy decoder: an array or an error,
// never a panic, and an array's data matches its shape.
func FuzzNpy(f *testing.F) {
	f.Add(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", make([]byte, 16)))
	f.Add(npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", []byte{1, 2, 3}))
	f.Add(npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := decodeNpy(b)
		if err != nil {
			return
		}
		if n, err := bounded.Numel(a.Shape); err != nil || n != len(a.Data) {
			t.Fatalf("shape %v with %d values", a.Shape, len(a.Data))
		}
	})
}

// FuzzIDX feeds arbitrary bytes to the IDX decoder (3 dimensions, as image
// files): an array or an error, and an array's data matches its dims.
func FuzzIDX(f *testing.F) {
	f.Add(EncodeIDX([]int{2, 2, 2}, make([]byte, 8)))
	f.Add(EncodeIDX([]int{32768, 256, 256}, nil))
	f.Add([]byte{0, 0, 8, 3})
	defer bounded.SetBudget(bounded.SetBudget(64 << 20))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ReadIDX(bytes.NewReader(b), 3)
		if err != nil {
			return
		}
		if n, _ := bounded.Numel(a.Dims); n != len(a.Data) {
			t.Fatalf("dims %v with %d bytes", a.Dims, len(a.Data))
		}
	})
}
