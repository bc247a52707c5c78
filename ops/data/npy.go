package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/qpipe/qpipe/internal/bounded"
)

// The .npy format (numpy's NEP 1): the magic "\x93NUMPY", a major and minor
// version byte, a little-endian header length (uint16 in version 1, uint32
// in 2 and 3), then a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (60000, 28, 28), }
// padded with spaces, then the raw elements in C order.

const npyHint = "save it with numpy.save from a C-ordered little-endian array"

// NpyArray is a decoded .npy file with its elements widened to float64.
type NpyArray struct {
	Descr string // numpy dtype string, e.g. "<f4", "|u1"
	Shape []int
	Data  []float64
}

// npyTypes are the element types read: size and decoder.
func npyDecoder(kind byte, size int) (func([]byte) float64, bool) {
	le := binary.LittleEndian
	switch {
	case kind == 'f' && size == 4:
		return func(b []byte) float64 { return float64(math.Float32frombits(le.Uint32(b))) }, true
	case kind == 'f' && size == 8:
		return func(b []byte) float64 { return math.Float64frombits(le.Uint64(b)) }, true
	case kind == 'u' && size == 1:
		return func(b []byte) float64 { return float64(b[0]) }, true
	case kind == 'i' && size == 1:
		return func(b []byte) float64 { return float64(int8(b[0])) }, true
	case kind == 'i' && size == 2:
		return func(b []byte) float64 { return float64(int16(le.Uint16(b))) }, true
	case kind == 'i' && size == 4:
		return func(b []byte) float64 { return float64(int32(le.Uint32(b))) }, true
	case kind == 'i' && size == 8:
		return func(b []byte) float64 { return float64(int64(le.Uint64(b))) }, true
	case kind == 'u' && size == 2:
		return func(b []byte) float64 { return float64(le.Uint16(b)) }, true
	case kind == 'u' && size == 4:
		return func(b []byte) float64 { return float64(le.Uint32(b)) }, true
	case kind == 'u' && size == 8:
		return func(b []byte) float64 { return float64(le.Uint64(b)) }, true
	}
	return nil, false
}

// ReadNpyFile reads a .npy file of floats or integers.
func ReadNpyFile(path string) (*NpyArray, error) {
	raw, err := bounded.ReadFile(path)
	if err != nil {
		return nil, notFoundErr(path, err)
	}
	a, err := decodeNpy(raw)
	if err != nil {
		return nil, fileErr(path, npyHint, nil, "%v", err)
	}
	return a, nil
}

var (
	npyDescrRE = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	npyOrderRE = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	npyShapeRE = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

func decodeNpy(raw []byte) (*NpyArray, error) {
	header, body, err := splitNpy(raw)
	if err != nil {
		return nil, err
	}
	descr, shape, err := parseNpyHeader(header)
	if err != nil {
		return nil, err
	}
	if descr[0] == '>' {
		return nil, fmt.Errorf("big-endian dtype %q is not supported", descr)
	}
	size, _ := strconv.Atoi(descr[2:])
	dec, ok := npyDecoder(descr[1], size)
	if !ok {
		return nil, fmt.Errorf("dtype %q is not supported (use float32, float64, uint8 or an integer type)", descr)
	}
	n, err := bounded.Numel(shape)
	if err != nil {
		return nil, fmt.Errorf("shape %v: %w", shape, err)
	}
	if need := bounded.Bytes(n, size); int64(len(body)) != need {
		return nil, fmt.Errorf("shape %v of %s needs %d data bytes, file has %d (truncated?)", shape, descr, need, len(body))
	}
	if err := bounded.Check(fmt.Sprintf("array %v", shape), bounded.Bytes(n, 8)); err != nil {
		return nil, err
	}
	data := make([]float64, n)
	for i := range data {
		data[i] = dec(body[i*size : (i+1)*size])
	}
	return &NpyArray{Descr: descr, Shape: shape, Data: data}, nil
}

// splitNpy checks the magic and version and separates header and body.
func splitNpy(raw []byte) (header string, body []byte, err error) {
	if len(raw) < 10 || !bytes.HasPrefix(raw, []byte("\x93NUMPY")) {
		return "", nil, fmt.Errorf("bad magic: not a .npy file")
	}
	major, off, hlen := raw[6], 10, 0
	switch major {
	case 1:
		hlen = int(binary.LittleEndian.Uint16(raw[8:10]))
	case 2, 3:
		if len(raw) < 12 {
			return "", nil, fmt.Errorf("truncated header")
		}
		hlen, off = int(binary.LittleEndian.Uint32(raw[8:12])), 12
	default:
		return "", nil, fmt.Errorf("unknown .npy version %d", major)
	}
	if off+hlen > len(raw) {
		return "", nil, fmt.Errorf("truncated header (%d bytes announced, %d present)", hlen, len(raw)-off)
	}
	return string(raw[off : off+hlen]), raw[off+hlen:], nil
}

func parseNpyHeader(h string) (descr string, shape []int, err error) {
	d, o, s := npyDescrRE.FindStringSubmatch(h), npyOrderRE.FindStringSubmatch(h), npyShapeRE.FindStringSubmatch(h)
	if d == nil || o == nil || s == nil {
		return "", nil, fmt.Errorf("malformed header %q", strings.TrimSpace(h))
	}
	if o[1] == "True" {
		return "", nil, fmt.Errorf("Fortran-ordered arrays are not supported (use numpy.ascontiguousarray)")
	}
	if len(d[1]) < 3 || !strings.ContainsRune("<>|=", rune(d[1][0])) {
		return "", nil, fmt.Errorf("unsupported dtype %q", d[1])
	}
	for _, part := range strings.Split(s[1], ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		v, err := strconv.Atoi(part)
		if err != nil || v < 0 {
			return "", nil, fmt.Errorf("malformed shape (%s)", s[1])
		}
		shape = append(shape, v)
	}
	descr = d[1]
	if descr[0] == '=' {
		descr = "<" + descr[1:]
	}
	return descr, shape, nil
}

// NpyOptions say how to read an image array.
type NpyOptions struct {
	// ChannelsLast reads a 4-d X as (N, H, W, C) instead of (N, C, H, W).
	ChannelsLast bool
	// Classes names the labels; when nil they are "0".."K-1" with K = max label + 1.
	Classes []string
}

// LoadNpy reads images from xPath and labels from yPath. X is (N, H, W)
// (one channel) or (N, C, H, W) (or (N, H, W, C) with ChannelsLast); uint8
// values are scaled by 1/255, float values must already lie in [0,1]. Y is
// (N,) of integers.
func LoadNpy(name, xPath, yPath string, opts NpyOptions) (*Dataset, error) {
	x, err := ReadNpyFile(xPath)
	if err != nil {
		return nil, err
	}
	y, err := ReadNpyFile(yPath)
	if err != nil {
		return nil, err
	}
	ds, err := npyImages(name, xPath, x, opts.ChannelsLast)
	if err != nil {
		return nil, err
	}
	if ds.Y, err = npyLabels(yPath, y, ds.Len()); err != nil {
		return nil, err
	}
	ds.Classes = opts.Classes
	if ds.Classes == nil {
		ds.Classes = numberedClasses(maxLabel(ds.Y) + 1)
	}
	if err := checkLabels(ds.Y, len(ds.Classes)); err != nil {
		return nil, fileErr(yPath, fmt.Sprintf("there are %d classes", len(ds.Classes)), nil, "%v", err)
	}
	return ds, nil
}

func maxLabel(y []int) int {
	m := 0
	for _, l := range y {
		m = max(m, l)
	}
	return m
}

func npyImages(name, path string, x *NpyArray, channelsLast bool) (*Dataset, error) {
	ds := &Dataset{Name: name}
	switch len(x.Shape) {
	case 3:
		ds.C, ds.H, ds.W = 1, x.Shape[1], x.Shape[2]
	case 4:
		ds.C, ds.H, ds.W = x.Shape[1], x.Shape[2], x.Shape[3]
		if channelsLast {
			ds.H, ds.W, ds.C = x.Shape[1], x.Shape[2], x.Shape[3]
		}
	default:
		return nil, fileErr(path, "images must be (N,H,W) or (N,C,H,W)", nil, "has shape %v", x.Shape)
	}
	if ds.C*ds.H*ds.W == 0 {
		return nil, fileErr(path, "images must have at least one pixel", nil, "has shape %v", x.Shape)
	}
	scale := 1.0
	if x.Descr[1:] == "u1" {
		scale = 1.0 / 255
	}
	ds.X = make([]float32, len(x.Data))
	for i, v := range x.Data {
		v *= scale
		if !(v >= 0 && v <= 1) {
			return nil, fileErr(path, "scale pixels to [0,1] or save them as uint8", nil,
				"element %d is %v, outside [0,1]", i, v)
		}
		ds.X[i] = float32(v)
	}
	if channelsLast && len(x.Shape) == 4 {
		ds.X = hwcToCHW(ds.X, x.Shape[0], ds.H, ds.W, ds.C)
	}
	ds.Y = make([]int, x.Shape[0]) // placeholder length for Len(); replaced by the labels
	return ds, nil
}

func npyLabels(path string, y *NpyArray, n int) ([]int, error) {
	if len(y.Shape) != 1 || y.Shape[0] != n {
		return nil, fileErr(path, "labels must be a 1-d integer array with one label per image", nil,
			"has shape %v for %d images", y.Shape, n)
	}
	if y.Descr[1] == 'f' {
		return nil, fileErr(path, "save labels as integers (e.g. y.astype(numpy.int64))", nil, "has float dtype %s", y.Descr)
	}
	out := make([]int, n)
	for i, v := range y.Data {
		out[i] = int(v)
		if v < 0 {
			return nil, fileErr(path, "labels must be 0..K-1", nil, "label %d of sample %d is negative", out[i], i)
		}
	}
	return out, nil
}

// hwcToCHW transposes n images from H×W×C to C×H×W.
func hwcToCHW(src []float32, n, h, w, c int) []float32 {
	out := make([]float32, len(src))
	s := h * w * c
	for i := 0; i < n; i++ {
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				for ch := 0; ch < c; ch++ {
					out[i*s+ch*h*w+y*w+x] = src[i*s+(y*w+x)*c+ch]
				}
			}
		}
	}
	return out
}
