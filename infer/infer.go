// Package infer serves what qpipe produced: it loads a checkpoint written
// by a recipe's `export checkpoint "name.safetensors"` (the weights and the
// name.json architecture beside them) and runs inference from Go, with
// gorgonia.org/tensor *tensor.Dense values in and out.
//
//	m, err := infer.Load("out/quickstart/quickstart.safetensors")
//	logits, err := m.Predict(images) // (N, C, H, W) float32 → (N, classes)
//	classes, err := m.Classify(images)
//
// A model runs on the engine `qpipe run` measures with `evaluate`: a float
// model as it is, a model after `quantize int8` (whose checkpoint holds the
// fake-quant form) on the integer engine, converted by the same function
// (compress.Deploy), so Predict gives the logits `evaluate accuracy`
// scores. Format says which. The engine is pure Go with assembly kernels;
// no cgo. A loaded model is frozen (ops.Freeze): its weights are a private
// snapshot, so the work that depends only on them (folded batch norms,
// Winograd weight transforms) is done once, not on every Predict.
//
// Predict takes images as the recipe's evaluation saw them: pixels in
// [0, 1], normalized with the data line's normalize= values if it had
// any (the checkpoint does not record them).
package infer

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"gorgonia.org/tensor"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	_ "github.com/qpipe/qpipe/ops/cpu" // the cpu backend
	"github.com/qpipe/qpipe/ops/modelio"
	"github.com/qpipe/qpipe/stdlib/compress"
)

// Format is how a loaded model stores and runs its numbers: "float32" or
// "int8" (more as qpipe learns low-bit formats).
type Format = compress.Format

// Model is a loaded checkpoint ready to run. Its methods may be called
// from several goroutines; calls run one at a time (one batch already
// uses every core).
type Model struct {
	path   string
	meta   modelio.Meta
	format Format
	net    *ops.Frozen

	mu  sync.Mutex
	ctx *ops.Context
}

// Load reads a checkpoint: path is the .safetensors file (or the .json
// architecture beside it). Every failure is an error naming the file. It
// runs on the CPU backend; LoadOn takes another.
func Load(path string) (*Model, error) { return LoadOn(path, nil) }

// LoadOn is Load running the model on be (ops.NewBackend("cuda") in a
// -tags cuda build, say); nil means the CPU.
func LoadOn(path string, be ops.Backend) (*Model, error) {
	weights := path
	if strings.EqualFold(filepath.Ext(path), ".json") {
		weights = strings.TrimSuffix(path, filepath.Ext(path)) + ".safetensors"
	}
	if strings.EqualFold(filepath.Ext(path), ".onnx") {
		return nil, fmt.Errorf("infer: %s: an ONNX file; infer loads qpipe checkpoints (export checkpoint \"name.safetensors\" in a recipe)", path)
	}
	m, meta, err := modelio.Load(weights)
	if err != nil {
		return nil, fmt.Errorf("infer: cannot load %s: %w", path, err)
	}
	format := compress.FormatOf(m)
	dep, err := compress.Deploy(m, source.Span{})
	if err != nil {
		return nil, fmt.Errorf("infer: %s: %w", path, err)
	}
	be, err = ops.OrDefault(be)
	if err != nil {
		return nil, err
	}
	net, err := ops.Freeze(dep.Model)
	if err != nil {
		return nil, fmt.Errorf("infer: %s: %w", path, err)
	}
	return &Model{path: path, meta: meta, format: format, net: net, ctx: ops.NewContext(be, ops.Options{})}, nil
}

// Path is the file the model was loaded from.
func (m *Model) Path() string { return m.path }

// Format is "float32", "int8", "log2" or "uniform": which engine Predict
// runs on (the low-bit formats on the integer engine, see compress.Deploy).
func (m *Model) Format() Format { return m.format }

// Input is the per-image shape (C, H, W) the model was built for; zeros
// when the checkpoint does not record it (Predict then takes any image size
// the graph accepts).
func (m *Model) Input() [3]int { return m.meta.Input }

// Classes is the number of outputs per image (0 when not recorded).
func (m *Model) Classes() int { return m.meta.Classes }

// Meta is the checkpoint's metadata: zoo name, input shape, classes and
// the free-form fields the run recorded.
func (m *Model) Meta() modelio.Meta { return m.meta }

// Predict runs a batch of images, (N, C, H, W) or one image (C, H, W), of
// float32 (float64 is converted) and returns the logits, (N, classes)
// float32, in a new tensor.
func (m *Model) Predict(x *tensor.Dense) (*tensor.Dense, error) {
	in, err := m.input(x)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	defer m.ctx.Reset()
	y, err := m.net.Forward1(m.ctx, in)
	if err != nil {
		return nil, fmt.Errorf("infer: %s: %w", m.path, err)
	}
	return tensor.New(tensor.WithShape(y.Shape...), tensor.WithBacking(append([]float32(nil), y.Data...))), nil
}

// Classify returns the top-1 class of each image of x (see Predict): the
// index of its largest logit, as `evaluate accuracy` counts it.
func (m *Model) Classify(x *tensor.Dense) ([]int, error) {
	y, err := m.Predict(x)
	if err != nil {
		return nil, err
	}
	return Top1(y)
}

// Top1 is the index of the largest value of each row of (N, K) logits.
func Top1(logits *tensor.Dense) ([]int, error) {
	t, err := fromDense(logits)
	if err != nil {
		return nil, fmt.Errorf("infer: Top1: %w", err)
	}
	if t.Dims() != 2 {
		return nil, fmt.Errorf("infer: Top1 takes (N, classes) logits, got shape %v", t.Shape)
	}
	return ops.Argmax(t), nil
}

// input checks x against the model's input and wraps it for the engine.
func (m *Model) input(x *tensor.Dense) (*ops.Tensor, error) {
	if x == nil {
		return nil, fmt.Errorf("infer: %s: Predict needs images, got nil", m.path)
	}
	t, err := fromDense(x)
	if err != nil {
		return nil, fmt.Errorf("infer: %s: %w", m.path, err)
	}
	if t.Dims() == 3 {
		t.Shape = append([]int{1}, t.Shape...)
	}
	want := m.meta.Input
	if t.Dims() != 4 {
		return nil, fmt.Errorf("infer: %s takes images (N, C, H, W) or (C, H, W), got shape %v", m.path, x.Shape())
	}
	if want[0] > 0 && (t.Shape[1] != want[0] || t.Shape[2] != want[1] || t.Shape[3] != want[2]) {
		return nil, fmt.Errorf("infer: %s takes images of shape (N, %d, %d, %d), got %v", m.path, want[0], want[1], want[2], x.Shape())
	}
	if t.Shape[0] == 0 {
		return nil, fmt.Errorf("infer: %s: empty batch", m.path)
	}
	return t, nil
}

// fromDense is d as an engine tensor: float32 data shared, float64
// converted; views are copied out first. gorgonia.org/tensor panics on
// some malformed values (an empty tensor's Data); that becomes an error.
func fromDense(d *tensor.Dense) (t *ops.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("cannot read the tensor (shape %v): %v", d.Shape(), r)
		}
	}()
	if d.Size() == 0 {
		return nil, fmt.Errorf("empty tensor (shape %v)", d.Shape())
	}
	if d.IsMaterializable() {
		md, ok := d.Materialize().(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("cannot read a %T", d.Materialize())
		}
		d = md
	}
	shape := append([]int(nil), d.Shape()...)
	switch data := d.Data().(type) {
	case []float32:
		return ops.FromData(data, shape...)
	case []float64:
		f := make([]float32, len(data))
		for i, v := range data {
			f[i] = float32(v)
		}
		return ops.FromData(f, shape...)
	default:
		return nil, fmt.Errorf("images must be float32 or float64, got %v", d.Dtype())
	}
}
