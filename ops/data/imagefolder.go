package data

import (
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register decoders for image.Decode
	_ "image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/qpipe/qpipe/internal/bounded"
)

// ImageFolderOptions says what every image of a folder becomes.
type ImageFolderOptions struct {
	Height, Width int // target size; 0 means the size of the first image
	Channels      int // 1 (grayscale, ITU-R 601 luma) or 3 (RGB); 0 means 3
	Workers       int // decoding goroutines; 0 means GOMAXPROCS
}

func (o ImageFolderOptions) withDefaults() ImageFolderOptions {
	if o.Channels == 0 {
		o.Channels = 3
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}

// imageExts are the file types read; other files (README, .DS_Store) are skipped.
func isImageFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// LoadImageFolder reads dir/<class>/<image> files (PNG or JPEG): one
// sub-folder per class, class names sorted, files sorted by name within a
// class. Images are converted to opts.Channels and resized to
// opts.Height×opts.Width (tent filter; see resizePlane). Hidden entries
// and files that are not .png/.jpg/.jpeg are skipped.
func LoadImageFolder(name, dir string, opts ImageFolderOptions) (*Dataset, error) {
	opts = opts.withDefaults()
	if opts.Channels != 1 && opts.Channels != 3 {
		return nil, fmt.Errorf("data: image folder %s: channels=%d, want 1 or 3", dir, opts.Channels)
	}
	classes, files, labels, err := listImageFolder(dir)
	if err != nil {
		return nil, err
	}
	if opts.Height == 0 || opts.Width == 0 {
		if opts.Height, opts.Width, err = imageSize(files[0]); err != nil {
			return nil, err
		}
	}
	ds := &Dataset{Name: name, C: opts.Channels, H: opts.Height, W: opts.Width, Classes: classes, Y: labels}
	n, err := bounded.Elems(fmt.Sprintf("image folder %s: %d images of", dir, len(files)), []int{len(files), ds.C, ds.H, ds.W}, 4)
	if err != nil {
		return nil, err
	}
	ds.X = make([]float32, n)
	if err := decodeAll(ds, files, opts.Workers); err != nil {
		return nil, err
	}
	return ds, nil
}

// listImageFolder finds the classes and the image files of each.
func listImageFolder(dir string) (classes, files []string, labels []int, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, nil, notFoundErr(dir, err)
	}
	for _, e := range entries { // ReadDir sorts by name
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			classes = append(classes, e.Name())
		}
	}
	if len(classes) == 0 {
		return nil, nil, nil, fileErr(dir, "put each class's images in a sub-folder named after the class",
			ErrNotFound, "has no class sub-folders")
	}
	for label, class := range classes {
		found, err := classFiles(filepath.Join(dir, class))
		if err != nil {
			return nil, nil, nil, err
		}
		files = append(files, found...)
		for range found {
			labels = append(labels, label)
		}
	}
	return classes, files, labels, nil
}

func classFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, notFoundErr(dir, err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") && isImageFile(e.Name()) {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fileErr(dir, "add .png or .jpg images to it or remove the folder", nil,
			"class folder has no images")
	}
	return files, nil
}

func imageSize(path string) (h, w int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, notFoundErr(path, err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return 0, 0, fileErr(path, "the file is damaged or not a PNG/JPEG; replace or delete it", err, "cannot decode")
	}
	return cfg.Height, cfg.Width, nil
}

// decodeAll decodes files into ds.X with a pool of workers; the first
// error (by file order) is returned.
func decodeAll(ds *Dataset, files []string, workers int) error {
	errs := make([]error, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = decodeInto(ds.Sample(i), files[i], ds.C, ds.H, ds.W)
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// decodeInto decodes one image file and writes it, converted and resized,
// into dst (C×H×W).
func decodeInto(dst []float32, path string, c, h, w int) error {
	f, err := os.Open(path)
	if err != nil {
		return notFoundErr(path, err)
	}
	defer f.Close()
	if err := checkImageSize(f, path, c); err != nil {
		return err
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return fileErr(path, "the file is damaged or not a PNG/JPEG; replace or delete it", err, "cannot decode")
	}
	b := img.Bounds()
	chw := imageToCHW(img, c)
	copy(dst, resizeCHW(chw, c, b.Dy(), b.Dx(), h, w))
	return nil
}

// checkImageSize reads the image header and refuses an image whose
// decoded pixels (up to 8 bytes each, plus c float32 planes) exceed the
// memory budget: decoders allocate the declared size before reading the
// pixels, and a few compressed bytes can declare 100000×100000. It leaves
// f at its start.
func checkImageSize(f *os.File, path string, c int) error {
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return fileErr(path, "the file is damaged or not a PNG/JPEG; replace or delete it", err, "cannot decode")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fileErr(path, "", err, "cannot read")
	}
	if _, err := bounded.Elems("image", []int{cfg.Height, cfg.Width}, 8+4*c); err != nil {
		return fileErr(path, "resize it, or raise the budget", err, "declares %dx%d pixels", cfg.Width, cfg.Height)
	}
	return nil
}

// imageToCHW converts any image to c planes (1: gray, 3: RGB) in [0,1].
// Transparent pixels are composited over black.
func imageToCHW(img image.Image, c int) []float32 {
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	out := make([]float32, c*h*w)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			px := img.At(b.Min.X+x, b.Min.Y+y)
			if c == 1 {
				g := color.Gray16Model.Convert(px).(color.Gray16)
				out[y*w+x] = float32(g.Y) / 0xffff
				continue
			}
			r, g, bl, _ := px.RGBA()
			out[y*w+x] = float32(r) / 0xffff
			out[h*w+y*w+x] = float32(g) / 0xffff
			out[2*h*w+y*w+x] = float32(bl) / 0xffff
		}
	}
	return out
}
