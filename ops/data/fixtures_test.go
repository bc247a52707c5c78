package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fixture writers: every test builds its small input files in t.TempDir().

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// idxImages is n h×w images whose pixel (i, y, x) is (i*7 + y*3 + x) mod 256.
func idxImages(n, h, w int) []byte {
	b := make([]byte, n*h*w)
	for i := range n {
		for y := range h {
			for x := range w {
				b[(i*h+y)*w+x] = byte((i*7 + y*3 + x) % 256)
			}
		}
	}
	return b
}

// writeIDXPair writes prefix-images-idx3-ubyte[.gz] and the labels file.
func writeIDXPair(t *testing.T, dir, prefix string, n, h, w int, labels []byte, gz bool) (string, string) {
	t.Helper()
	img := EncodeIDX([]int{n, h, w}, idxImages(n, h, w))
	lab := EncodeIDX([]int{len(labels)}, labels)
	ext := ""
	if gz {
		img, lab, ext = gzipBytes(t, img), gzipBytes(t, lab), ".gz"
	}
	return writeFile(t, filepath.Join(dir, prefix+"-images-idx3-ubyte"+ext), img),
		writeFile(t, filepath.Join(dir, prefix+"-labels-idx1-ubyte"+ext), lab)
}

// cifarRecords builds n records; record i has labels lab(i) and pixel j =
// (i + j) mod 251.
func cifarRecords(n int, lab func(i int) []byte) []byte {
	var out []byte
	for i := range n {
		out = append(out, lab(i)...)
		for j := range cifarPixels {
			out = append(out, byte((i+j)%251))
		}
	}
	return out
}

// writeNpy writes an array in .npy version 1 format.
func writeNpy(t *testing.T, path, descr string, shape []int, data any) string {
	t.Helper()
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tuple)
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	var buf bytes.Buffer
	buf.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&buf, binary.LittleEndian, uint16(len(header)))
	buf.WriteString(header)
	if err := binary.Write(&buf, binary.LittleEndian, data); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, path, buf.Bytes())
}

// gradientImage is a w×h RGB image with R = x ramp, G = y ramp, B = const.
func gradientImage(w, h int, b uint8) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / max(w-1, 1)), uint8(y * 255 / max(h-1, 1)), b, 255})
		}
	}
	return img
}

func writePNG(t *testing.T, path string, img image.Image) string {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, path, buf.Bytes())
}

func writeJPEG(t *testing.T, path string, img image.Image) string {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, path, buf.Bytes())
}

// wantErr fails unless err is non-nil and its message holds every part.
func wantErr(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one mentioning %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// synthetic is an n-sample dataset with distinct, textured images.
func synthetic(n, c, h, w, classes int) *Dataset {
	ds := &Dataset{Name: "synthetic", C: c, H: h, W: w, Classes: numberedClasses(classes)}
	ds.X = make([]float32, n*c*h*w)
	for i := range ds.X {
		ds.X[i] = float32((i*37)%101) / 100
	}
	ds.Y = make([]int, n)
	for i := range ds.Y {
		ds.Y[i] = i % classes
	}
	return ds
}
