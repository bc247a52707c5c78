package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/qpipe/qpipe/internal/bounded"
)

// The IDX format (LeCun's MNIST files): a 4-byte magic 0x0000TTDD, TT the
// element type (0x08 = unsigned byte, the only one image datasets use), DD
// the number of dimensions; then DD big-endian uint32 sizes; then the
// elements, row-major. Images are idx3 (N, H, W), labels idx1 (N).

const (
	idxUbyte     = 0x08
	maxIDXElems  = 1 << 31 // refuse absurd headers before allocating
	idxFixHint   = "the file is damaged or is not an IDX file; download it again"
	gzipMagic0   = 0x1f
	gzipMagic1   = 0x8b
	idxImageDims = 3
	idxLabelDims = 1
)

// IDXArray is a decoded IDX file of unsigned bytes.
type IDXArray struct {
	Dims []int
	Data []byte
}

// ReadIDXFile reads an IDX file of unsigned bytes, gzipped or not (detected
// from the content, not the name), expecting ndim dimensions.
func ReadIDXFile(path string, ndim int) (*IDXArray, error) {
	return readIDXFile(path, ndim, "")
}

// readIDXFile is ReadIDXFile that, when wantSHA is set, also checks the
// SHA-256 of the decompressed content in the same pass.
func readIDXFile(path string, ndim int, wantSHA string) (*IDXArray, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, notFoundErr(path, err)
	}
	defer f.Close()
	r, closer, err := maybeGunzip(f)
	if err != nil {
		return nil, fileErr(path, idxFixHint, err, "cannot open gzip stream")
	}
	defer closer()
	h := sha256.New()
	a, err := ReadIDX(io.TeeReader(r, h), ndim)
	if got := hex.EncodeToString(h.Sum(nil)); wantSHA != "" && got != wantSHA {
		return nil, checksumErr(path, got, wantSHA)
	}
	if err != nil {
		return nil, fileErr(path, idxFixHint, nil, "%v", err)
	}
	return a, nil
}

func notFoundErr(path string, err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return fileErr(path, "check the path", ErrNotFound, "no such file")
	}
	return fileErr(path, "", err, "cannot open")
}

// maybeGunzip wraps r in a gzip reader when it starts with the gzip magic.
func maybeGunzip(f io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(f, 1<<16)
	head, _ := br.Peek(2)
	if len(head) < 2 || head[0] != gzipMagic0 || head[1] != gzipMagic1 {
		return br, func() {}, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, nil, err
	}
	return zr, func() { zr.Close() }, nil
}

// ReadIDX decodes an IDX stream of unsigned bytes with ndim dimensions. Its
// errors say which check failed; ReadIDXFile adds the file name.
func ReadIDX(r io.Reader, ndim int) (*IDXArray, error) {
	var magic uint32
	if err := binary.Read(r, binary.BigEndian, &magic); err != nil {
		return nil, fmt.Errorf("truncated header (%v)", err)
	}
	if magic>>16 != 0 || (magic>>8)&0xff != idxUbyte || int(magic&0xff) != ndim {
		return nil, fmt.Errorf("bad magic number 0x%08x, want 0x%08x (unsigned bytes, %d dimensions)",
			magic, idxUbyte<<8|ndim, ndim)
	}
	dims, n, err := readIDXDims(r, ndim)
	if err != nil {
		return nil, err
	}
	data, err := bounded.ReadN(fmt.Sprintf("IDX data %v", dims), r, int64(n))
	var short *bounded.ShortError
	if errors.As(err, &short) {
		return nil, fmt.Errorf("truncated: header %v promises %d bytes of data, found %d", dims, n, short.Got)
	}
	if err != nil {
		return nil, err
	}
	if extra, _ := io.Copy(io.Discard, io.LimitReader(r, 1)); extra > 0 {
		return nil, fmt.Errorf("trailing bytes after the %d bytes of data that header %v promises", n, dims)
	}
	return &IDXArray{Dims: dims, Data: data}, nil
}

func readIDXDims(r io.Reader, ndim int) ([]int, int, error) {
	raw := make([]uint32, ndim)
	if err := binary.Read(r, binary.BigEndian, raw); err != nil {
		return nil, 0, fmt.Errorf("truncated header: cannot read %d dimension sizes (%v)", ndim, err)
	}
	dims, n := make([]int, ndim), 1
	for i, d := range raw {
		if d == 0 || uint64(n)*uint64(d) > maxIDXElems {
			return nil, 0, fmt.Errorf("implausible dimensions %v", raw)
		}
		dims[i] = int(d)
		n *= int(d)
	}
	return dims, n, nil
}

// LoadIDX reads an idx3 image file and an idx1 label file (each gzipped or
// plain) into a single-channel Dataset. classes names the labels; every
// label must be below len(classes).
func LoadIDX(name, imagesPath, labelsPath string, classes []string) (*Dataset, error) {
	return loadIDXPair(name, imagesPath, labelsPath, classes, "", "")
}

// loadIDXPair is LoadIDX, checking pinned content checksums when given.
func loadIDXPair(name, imagesPath, labelsPath string, classes []string, imagesSHA, labelsSHA string) (*Dataset, error) {
	img, err := readIDXFile(imagesPath, idxImageDims, imagesSHA)
	if err != nil {
		return nil, err
	}
	lab, err := readIDXFile(labelsPath, idxLabelDims, labelsSHA)
	if err != nil {
		return nil, err
	}
	if img.Dims[0] != lab.Dims[0] {
		return nil, fileErr(labelsPath, "use the label file that belongs to "+imagesPath, nil,
			"%d labels for %d images", lab.Dims[0], img.Dims[0])
	}
	ds := &Dataset{Name: name, C: 1, H: img.Dims[1], W: img.Dims[2], Classes: classes}
	ds.X = bytesToUnit(img.Data)
	ds.Y = make([]int, lab.Dims[0])
	for i, b := range lab.Data {
		ds.Y[i] = int(b)
	}
	if err := checkLabels(ds.Y, len(classes)); err != nil {
		return nil, fileErr(labelsPath, fmt.Sprintf("this dataset has %d classes", len(classes)), nil, "%v", err)
	}
	return ds, nil
}

// bytesToUnit maps bytes 0..255 to float32 0..1.
func bytesToUnit(b []byte) []float32 {
	out := make([]float32, len(b))
	for i, v := range b {
		out[i] = float32(v) / 255
	}
	return out
}

// EncodeIDX writes bytes with the given dims as an IDX stream (used by tests
// and by tools that export datasets).
func EncodeIDX(dims []int, data []byte) []byte {
	var buf bytes.Buffer
	binary.Write(&buf, binary.BigEndian, uint32(idxUbyte<<8|len(dims)))
	for _, d := range dims {
		binary.Write(&buf, binary.BigEndian, uint32(d))
	}
	buf.Write(data)
	return buf.Bytes()
}
