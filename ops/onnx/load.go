package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/qpipe/qpipe/internal/bounded"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

// Supported default-domain opset range on import: every listed op at
// opsets FullImportOpset-MaxImportOpset; below, down to MinImportOpset,
// only the ops whose definition has not changed since opset 1
// (sinceOpset1; the others' early forms had other attributes, such as
// consumed_inputs and broadcast).
const (
	MinImportOpset  = 1
	FullImportOpset = 6
	MaxImportOpset  = 17
)

// sinceOpset1 are the listed ops defined once, at opset 1, and unchanged
// through opset 17.
var sinceOpset1 = map[string]bool{"GlobalAveragePool": true, "GlobalMaxPool": true, "Softplus": true, "Not": true}

// readModel parses an .onnx file and checks its default-domain opset.
func readModel(path string) (*onnxpb.ModelProto, error) {
	b, err := bounded.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	mp := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(b, mp); err != nil {
		return nil, fmt.Errorf("onnx: %s is not an ONNX model: %v", path, err)
	}
	if mp.GetGraph() == nil {
		return nil, fmt.Errorf("onnx: %s has no graph (not an ONNX model?)", path)
	}
	v := opsetOf(mp)
	if v < MinImportOpset || v > MaxImportOpset {
		return nil, fmt.Errorf("onnx: %s uses opset %d; import supports opsets %d-%d (%d-%d for the ops changed since opset 1; re-export with torch.onnx.export(..., opset_version=17))",
			path, v, MinImportOpset, MaxImportOpset, FullImportOpset, MaxImportOpset)
	}
	return mp, nil
}

// opsetOf returns the default ("" or "ai.onnx") domain's opset version.
func opsetOf(mp *onnxpb.ModelProto) int {
	for _, o := range mp.GetOpsetImport() {
		if d := o.GetDomain(); d == "" || d == "ai.onnx" {
			return int(o.GetVersion())
		}
	}
	return 0
}

// tensorData decodes an initializer or Constant tensor into a konst. dir
// is the model's folder: external data must lie inside it. The declared
// dims are checked (no overflow, within the memory budget) and the data's
// byte count against them before anything is allocated.
func tensorData(t *onnxpb.TensorProto, dir string) (*konst, error) {
	what := fmt.Sprintf("tensor %q", t.GetName())
	n, err := bounded.Numel(t.GetDims())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	shape := make([]int, len(t.GetDims()))
	for i, d := range t.GetDims() {
		shape[i] = int(d)
	}
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	size := elemSize(dt)
	if size == 0 {
		return nil, fmt.Errorf("%s: unsupported data type %s", what, dt)
	}
	raw := t.GetRawData()
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		if raw, err = externalData(t, dir, bounded.Bytes(n, size)); err != nil {
			return nil, err
		}
	}
	if err := checkCount(t, raw, n, size); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := bounded.Check(fmt.Sprintf("%s %v", what, t.GetDims()), bounded.Bytes(n, 8)); err != nil {
		return nil, err // konst holds float64
	}
	k := &konst{shape: shape, data: make([]float64, n)}
	if err := decodeData(t, raw, k); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return k, nil
}

// elemSize is the byte size of the data types import reads (0: unsupported).
func elemSize(dt onnxpb.TensorProto_DataType) int {
	switch dt {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_INT32, onnxpb.TensorProto_UINT32:
		return 4
	case onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_INT64, onnxpb.TensorProto_UINT64:
		return 8
	case onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16, onnxpb.TensorProto_INT16, onnxpb.TensorProto_UINT16:
		return 2
	case onnxpb.TensorProto_INT8, onnxpb.TensorProto_UINT8, onnxpb.TensorProto_BOOL:
		return 1
	}
	return 0
}

// isFloatType reports whether dt holds floating-point values.
func isFloatType(dt onnxpb.TensorProto_DataType) bool {
	switch dt {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		return true
	}
	return false
}

// checkCount compares the data present (raw bytes or typed values) with
// the n elements the dims declare, before the konst is allocated.
func checkCount(t *onnxpb.TensorProto, raw []byte, n, size int) error {
	if raw != nil || t.RawData != nil || t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		if int64(len(raw)) != bounded.Bytes(n, size) {
			return fmt.Errorf("has %d bytes of data, its dims %v need %d (truncated or crafted file; export the model again)", len(raw), t.GetDims(), bounded.Bytes(n, size))
		}
		return nil
	}
	have := 0
	switch onnxpb.TensorProto_DataType(t.GetDataType()) {
	case onnxpb.TensorProto_FLOAT:
		have = len(t.GetFloatData())
	case onnxpb.TensorProto_DOUBLE:
		have = len(t.GetDoubleData())
	case onnxpb.TensorProto_INT64:
		have = len(t.GetInt64Data())
	case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
		have = len(t.GetUint64Data())
	default:
		have = len(t.GetInt32Data())
	}
	if have != n {
		return fmt.Errorf("has %d values, its dims %v need %d", have, t.GetDims(), n)
	}
	return nil
}

// decodeData fills k from raw bytes (little-endian) or the typed fields.
func decodeData(t *onnxpb.TensorProto, raw []byte, k *konst) error {
	n := len(k.data)
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	size := elemSize(dt)
	if size == 0 {
		return fmt.Errorf("unsupported data type %s", dt)
	}
	k.isInt = !isFloatType(dt)
	if raw != nil || t.RawData != nil || t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		if len(raw) != n*size {
			return fmt.Errorf("has %d bytes of data, want %d", len(raw), n*size)
		}
		for i := range n {
			k.data[i] = rawValue(dt, raw[i*size:])
		}
		return nil
	}
	var vals []float64
	switch dt {
	case onnxpb.TensorProto_FLOAT:
		for _, v := range t.GetFloatData() {
			vals = append(vals, float64(v))
		}
	case onnxpb.TensorProto_DOUBLE:
		vals = t.GetDoubleData()
	case onnxpb.TensorProto_INT64:
		for _, v := range t.GetInt64Data() {
			vals = append(vals, float64(v))
		}
	case onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64:
		for _, v := range t.GetUint64Data() {
			vals = append(vals, float64(v))
		}
	case onnxpb.TensorProto_FLOAT16: // the bits, in int32_data
		for _, v := range t.GetInt32Data() {
			vals = append(vals, halfToFloat(uint16(v)))
		}
	case onnxpb.TensorProto_BFLOAT16:
		for _, v := range t.GetInt32Data() {
			vals = append(vals, float64(math.Float32frombits(uint32(v)<<16)))
		}
	default:
		for _, v := range t.GetInt32Data() {
			vals = append(vals, float64(v))
		}
	}
	if len(vals) != n {
		return fmt.Errorf("has %d values, want %d", len(vals), n)
	}
	copy(k.data, vals)
	return nil
}

func rawValue(dt onnxpb.TensorProto_DataType, b []byte) float64 {
	switch dt {
	case onnxpb.TensorProto_FLOAT:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
	case onnxpb.TensorProto_DOUBLE:
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	case onnxpb.TensorProto_INT64:
		return float64(int64(binary.LittleEndian.Uint64(b)))
	case onnxpb.TensorProto_INT32:
		return float64(int32(binary.LittleEndian.Uint32(b)))
	case onnxpb.TensorProto_UINT64:
		return float64(binary.LittleEndian.Uint64(b))
	case onnxpb.TensorProto_UINT32:
		return float64(binary.LittleEndian.Uint32(b))
	case onnxpb.TensorProto_INT16:
		return float64(int16(binary.LittleEndian.Uint16(b)))
	case onnxpb.TensorProto_UINT16:
		return float64(binary.LittleEndian.Uint16(b))
	case onnxpb.TensorProto_FLOAT16:
		return halfToFloat(binary.LittleEndian.Uint16(b))
	case onnxpb.TensorProto_BFLOAT16: // the upper half of a float32
		return float64(math.Float32frombits(uint32(binary.LittleEndian.Uint16(b)) << 16))
	case onnxpb.TensorProto_INT8:
		return float64(int8(b[0]))
	default: // uint8, bool
		return float64(b[0])
	}
}

// halfToFloat decodes IEEE 754 binary16 bits (exact in float64).
func halfToFloat(h uint16) float64 {
	sign, exp, frac := 1.0, int(h>>10&0x1f), float64(h&0x3ff)
	if h&0x8000 != 0 {
		sign = -1
	}
	switch exp {
	case 0: // zero, subnormal
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * math.Ldexp(1024+frac, exp-25)
}

// roundHalf rounds v to the nearest binary16 value (ties to even), as a
// cast to float16 does; beyond the largest finite half it is ±Inf.
func roundHalf(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v == 0 {
		return v
	}
	_, e := math.Frexp(math.Abs(v))       // |v| = m·2^e, m in [0.5, 1)
	step := math.Ldexp(1, max(e-11, -24)) // 10 fraction bits; subnormal step 2^-24
	r := math.RoundToEven(v/step) * step
	if math.Abs(r) > 65504 {
		return math.Copysign(math.Inf(1), v)
	}
	return r
}

// externalData reads a tensor stored beside the model: want bytes (what
// the dims need; -1 if that overflows). The location must resolve
// (symbolic links included) to a file inside the model's folder, and the
// offset and length must lie inside that file before a byte is allocated.
func externalData(t *onnxpb.TensorProto, dir string, want int64) ([]byte, error) {
	var loc string
	var off, length int64 = 0, -1
	for _, e := range t.GetExternalData() {
		v, err := strconv.ParseInt(e.GetValue(), 10, 64)
		switch e.GetKey() {
		case "location":
			loc = e.GetValue()
			err = nil
		case "offset":
			off = v
		case "length":
			length = v
		default:
			err = nil
		}
		if err != nil {
			return nil, fmt.Errorf("tensor %q: external data %s: %v", t.GetName(), e.GetKey(), err)
		}
	}
	if length < 0 {
		length = want
	}
	if length != want {
		return nil, fmt.Errorf("tensor %q: external data length %d, its dims %v need %d bytes", t.GetName(), length, t.GetDims(), want)
	}
	path, err := insideDir(dir, loc)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	return bounded.Section(fmt.Sprintf("tensor %q: external data", t.GetName()), path, off, length)
}

// insideDir resolves loc relative to dir and refuses anything outside dir
// (absolute paths, "..", symbolic links leading out).
func insideDir(dir, loc string) (string, error) {
	if loc == "" || filepath.IsAbs(loc) {
		return "", fmt.Errorf("external data location %q must be a relative path inside the model's folder", loc)
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("external data: %w", err)
	}
	p, err := filepath.EvalSymlinks(filepath.Join(dir, loc))
	if err != nil {
		return "", fmt.Errorf("external data %q: %w", loc, err)
	}
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("external data %q lies outside the model's folder %s", loc, dir)
	}
	return p, nil
}
