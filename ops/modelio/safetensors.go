package modelio

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/qpipe/qpipe/internal/bounded"
	"github.com/qpipe/qpipe/ops"

	"github.com/qpipe/qpipe/internal/outfile"
)

// The safetensors layout (https://github.com/huggingface/safetensors):
//
//	8 bytes    N, little-endian uint64: the header length
//	N bytes    JSON object: name → {"dtype", "shape", "data_offsets": [begin, end]}
//	           plus an optional "__metadata__": {string: string}
//	the rest   the byte buffer; offsets are relative to its start
//
// Tensors are row-major, little-endian. qpipe writes F32 only, in the
// order given (U8 for packed integer codes), packed without gaps, and pads the header with spaces to a
// multiple of 8 bytes as the reference writer does.

// maxHeader bounds the JSON header, as the reference reader does (100 MB).
const maxHeader = 100 << 20

// Tensor is a named tensor to write or one that was read: F32 values in
// Data, or, for packed integer codes (dtype U8), bytes in U8.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
	U8    []byte
}

// dtype and byte size of a tensor to write.
func (t Tensor) dtype() (string, int, int) {
	if t.U8 != nil {
		return "U8", len(t.U8), len(t.U8)
	}
	return "F32", len(t.Data), 4 * len(t.Data)
}

type headerEntry struct {
	DType   string `json:"dtype"`
	Shape   []int  `json:"shape"`
	Offsets [2]int `json:"data_offsets"`
}

// EncodeSafetensors returns the safetensors bytes of tensors with the
// given metadata (may be nil).
func EncodeSafetensors(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	off := 0
	for _, t := range tensors {
		if _, dup := header[t.Name]; dup || t.Name == "__metadata__" || t.Name == "" {
			return nil, fmt.Errorf("tensor name %q is empty, reserved or repeated", t.Name)
		}
		dt, n, size := t.dtype()
		if ops.Numel(t.Shape) != n {
			return nil, fmt.Errorf("tensor %q: %d values for shape %v", t.Name, n, t.Shape)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = headerEntry{DType: dt, Shape: shape, Offsets: [2]int{off, off + size}}
		off += size
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	out := make([]byte, 8+len(hj)+off)
	binary.LittleEndian.PutUint64(out, uint64(len(hj)))
	copy(out[8:], hj)
	p := out[8+len(hj):]
	for _, t := range tensors {
		p = p[copy(p, t.U8):]
		for _, v := range t.Data {
			binary.LittleEndian.PutUint32(p, math.Float32bits(v))
			p = p[4:]
		}
	}
	return out, nil
}

// WriteSafetensors writes tensors to path atomically.
func WriteSafetensors(path string, tensors []Tensor, metadata map[string]string) error {
	b, err := EncodeSafetensors(tensors, metadata)
	if err != nil {
		return fmt.Errorf("modelio: %s: %w", path, err)
	}
	return writeAtomic(path, b)
}

// File is a parsed safetensors file: its tensors by name (F32 only), their
// order in the file, and the metadata.
type File struct {
	Path     string
	Tensors  map[string]Tensor
	Order    []string // names by data offset
	Metadata map[string]string
}

// ReadSafetensors reads and checks a whole safetensors file.
func ReadSafetensors(path string) (*File, error) {
	b, err := bounded.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("modelio: %w", err)
	}
	f, err := DecodeSafetensors(b)
	if err != nil {
		return nil, fmt.Errorf("modelio: %s: %w", path, err)
	}
	f.Path = path
	return f, nil
}

// DecodeSafetensors parses safetensors bytes, checking the header length,
// the JSON, every entry's dtype, shape and offsets (inside the buffer,
// sized for the shape, not overlapping) and that the buffer has no bytes
// beyond the last tensor.
func DecodeSafetensors(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("truncated: %d bytes, shorter than the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeader || n > uint64(len(b)-8) {
		return nil, fmt.Errorf("bad header: header length %d does not fit in a %d-byte file (truncated or not safetensors)", n, len(b))
	}
	raw := map[string]json.RawMessage{}
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return nil, fmt.Errorf("bad header: %v", err)
	}
	f := &File{Tensors: map[string]Tensor{}}
	if md, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(md, &f.Metadata); err != nil {
			return nil, fmt.Errorf("bad header: __metadata__ must map strings to strings: %v", err)
		}
		delete(raw, "__metadata__")
	}
	buf := b[8+n:]
	entries, err := parseEntries(raw, len(buf))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		f.Order = append(f.Order, e.name)
		raw := buf[e.Offsets[0]:e.Offsets[1]]
		if e.DType == "U8" {
			f.Tensors[e.name] = Tensor{Name: e.name, Shape: e.Shape, U8: append([]byte{}, raw...)}
			continue
		}
		f.Tensors[e.name] = Tensor{Name: e.name, Shape: e.Shape, Data: decodeF32(raw)}
	}
	return f, nil
}

type namedEntry struct {
	name string
	headerEntry
}

// parseEntries decodes and checks every tensor entry against a buffer of
// size bytes, returning them sorted by offset.
func parseEntries(raw map[string]json.RawMessage, size int) ([]namedEntry, error) {
	var entries []namedEntry
	for name, r := range raw {
		var e headerEntry
		if err := json.Unmarshal(r, &e); err != nil {
			return nil, fmt.Errorf("bad header: tensor %q: %v", name, err)
		}
		if err := checkEntry(name, e); err != nil {
			return nil, err
		}
		entries = append(entries, namedEntry{name, e})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Offsets[0] < entries[j].Offsets[0] })
	end := 0
	for _, e := range entries {
		if e.Offsets[0] != end {
			return nil, fmt.Errorf("bad header: tensor %q starts at byte %d, expected %d (overlapping or gapped offsets)", e.name, e.Offsets[0], end)
		}
		end = e.Offsets[1]
	}
	if end > size {
		last := entries[len(entries)-1]
		return nil, fmt.Errorf("truncated: tensor %q ends at byte %d of the data, but the file holds %d data bytes", last.name, end, size)
	}
	if end < size {
		return nil, fmt.Errorf("bad file: %d bytes follow the last tensor", size-end)
	}
	return entries, nil
}

func checkEntry(name string, e headerEntry) error {
	width := map[string]int{"F32": 4, "U8": 1}[e.DType]
	if width == 0 {
		return fmt.Errorf("dtype mismatch: tensor %q is %q, qpipe reads F32 (and U8 packed codes) only", name, e.DType)
	}
	n, err := bounded.Numel(e.Shape)
	if err != nil {
		return fmt.Errorf("bad header: tensor %q has bad shape %v: %v", name, e.Shape, err)
	}
	if need := bounded.Bytes(n, width); e.Offsets[0] < 0 || int64(e.Offsets[1]-e.Offsets[0]) != need {
		return fmt.Errorf("bad header: tensor %q of shape %v needs %d bytes, its offsets %v span %d",
			name, e.Shape, need, e.Offsets, e.Offsets[1]-e.Offsets[0])
	}
	return nil
}

func decodeF32(b []byte) []float32 {
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// writeAtomic writes b to a temporary file beside path, syncs it and
// renames it over path, so readers see the old file or the new one.
func writeAtomic(path string, b []byte) error {
	if err := outfile.Write(path, b); err != nil {
		return fmt.Errorf("modelio: %w", err)
	}
	return nil
}
