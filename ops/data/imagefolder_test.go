package data

import (
	"errors"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadImageFolderSortsClassesAndConvertsPixels(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "zebra", "b.png"), gradientImage(8, 4, 200))
	writePNG(t, filepath.Join(dir, "zebra", "a.png"), gradientImage(8, 4, 100))
	writePNG(t, filepath.Join(dir, "apple", "x.PNG"), gradientImage(8, 4, 0))
	writeFile(t, filepath.Join(dir, "apple", "notes.txt"), []byte("ignored"))
	writeFile(t, filepath.Join(dir, ".hidden", "y.png"), []byte("ignored"))

	ds, err := LoadImageFolder("f", dir, ImageFolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Classes) != 2 || ds.Classes[0] != "apple" || ds.Classes[1] != "zebra" {
		t.Fatalf("classes %v, want [apple zebra]", ds.Classes)
	}
	if ds.Len() != 3 || ds.Shape() != [3]int{3, 4, 8} {
		t.Fatalf("%d samples of %v, want 3 of [3 4 8]", ds.Len(), ds.Shape())
	}
	if ds.Y[0] != 0 || ds.Y[1] != 1 || ds.Y[2] != 1 {
		t.Errorf("labels %v, want [0 1 1]", ds.Y)
	}
	// zebra/a.png sorts before b.png: its blue plane is 100/255
	if b := ds.Sample(1)[2*32]; !near(float64(b), 100.0/255, 1e-6) {
		t.Errorf("blue of zebra/a.png = %v, want %v", b, 100.0/255)
	}
	if r := ds.Sample(0)[7]; r != 1 { // red ramp reaches 255 at x=7
		t.Errorf("red at x=7 = %v, want 1", r)
	}
}

func TestLoadImageFolderResizesAndConvertsToGray(t *testing.T) {
	dir := t.TempDir()
	gray := image.NewGray(image.Rect(0, 0, 16, 16))
	for i := range gray.Pix {
		gray.Pix[i] = 128
	}
	writeJPEG(t, filepath.Join(dir, "a", "g.jpg"), gray)
	rgb := image.NewRGBA(image.Rect(0, 0, 10, 6))
	for y := range 6 {
		for x := range 10 {
			rgb.Set(x, y, color.RGBA{255, 0, 0, 255})
		}
	}
	writePNG(t, filepath.Join(dir, "b", "r.png"), rgb)

	ds, err := LoadImageFolder("f", dir, ImageFolderOptions{Height: 8, Width: 8, Channels: 1})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Shape() != [3]int{1, 8, 8} {
		t.Fatalf("shape %v", ds.Shape())
	}
	for _, v := range ds.Sample(0) { // flat gray 128 survives JPEG and a 2x shrink
		if !near(float64(v), 128.0/255, 2.0/255) {
			t.Fatalf("gray pixel %v, want about %v", v, 128.0/255)
		}
	}
	for _, v := range ds.Sample(1) { // pure red -> ITU-R 601 luma 0.299
		if !near(float64(v), 0.299, 0.002) {
			t.Fatalf("luma of red %v, want 0.299", v)
		}
	}
}

func TestLoadImageFolderErrors(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "a", "ok.png"), gradientImage(4, 4, 0))
	bad := writeFile(t, filepath.Join(dir, "a", "broken.png"), []byte("\x89PNG\r\n\x1a\nnot really"))
	_, err := LoadImageFolder("f", dir, ImageFolderOptions{})
	wantErr(t, err, bad, "cannot decode", "replace or delete it")

	os.Remove(bad)
	os.MkdirAll(filepath.Join(dir, "empty"), 0o755)
	_, err = LoadImageFolder("f", dir, ImageFolderOptions{})
	wantErr(t, err, filepath.Join(dir, "empty"), "class folder has no images")

	_, err = LoadImageFolder("f", t.TempDir(), ImageFolderOptions{})
	wantErr(t, err, "has no class sub-folders")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("%v does not wrap ErrNotFound", err)
	}
	_, err = LoadImageFolder("f", dir, ImageFolderOptions{Channels: 2})
	wantErr(t, err, "channels=2, want 1 or 3")
}

func TestOpenImageFolderTrainTestAndAllowedDir(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "pets")
	for _, split := range []string{"train", "test"} {
		for _, class := range []string{"cat", "dog"} {
			writePNG(t, filepath.Join(dir, split, class, "1.png"), gradientImage(6, 6, 10))
			writePNG(t, filepath.Join(dir, split, class, "2.png"), gradientImage(12, 12, 20))
		}
	}
	s, err := Open("imagefolder", Options{Path: dir, Height: 6, Width: 6, AllowedDir: root})
	if err != nil {
		t.Fatal(err)
	}
	if s.Train.Len() != 4 || s.Test.Len() != 4 || s.Test.Shape() != [3]int{3, 6, 6} {
		t.Errorf("train %d test %d shape %v", s.Train.Len(), s.Test.Len(), s.Test.Shape())
	}
	_, err = Open("imagefolder", Options{Path: dir, AllowedDir: filepath.Join(root, "elsewhere")})
	wantErr(t, err, "elsewhere")
	os.MkdirAll(filepath.Join(root, "elsewhere"), 0o755)
	_, err = Open("imagefolder", Options{Path: filepath.Join(root, "elsewhere", ".."), AllowedDir: filepath.Join(root, "elsewhere")})
	wantErr(t, err, "is outside the allowed data folder")
	link := filepath.Join(root, "elsewhere", "link")
	if os.Symlink(dir, link) == nil {
		_, err = Open("imagefolder", Options{Path: link, AllowedDir: filepath.Join(root, "elsewhere")})
		wantErr(t, err, "is outside the allowed data folder")
	}

	os.RemoveAll(filepath.Join(dir, "test", "dog"))
	writePNG(t, filepath.Join(dir, "test", "emu", "1.png"), gradientImage(6, 6, 10))
	_, err = Open("imagefolder", Options{Path: dir})
	wantErr(t, err, "has classes [cat emu], train has [cat dog]")
}
