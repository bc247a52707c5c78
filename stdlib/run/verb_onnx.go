package run

import (
	"fmt"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/modelio"
	"github.com/qpipe/qpipe/ops/onnx"
	"github.com/qpipe/qpipe/stdlib/compress"
)

// loadONNX imports a PyTorch-exported ONNX file as the current model. The
// input shape comes from the file; the class count from one forward pass.
func loadONNX(env *Env, st *State, path string) (*Outcome, error) {
	shape, err := onnx.InputShapeOf(path)
	if err != nil {
		return nil, err
	}
	if len(shape) != 4 {
		return nil, fmt.Errorf("%s: input shape %v is not an image batch (N, C, H, W)", path, shape)
	}
	m, err := onnx.Import(path, onnx.ImportOptions{Backend: env.Backend})
	if err != nil {
		return nil, err
	}
	classes, err := outputWidth(env, m, shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	st.SetModel(m, modelio.Meta{Input: [3]int{shape[1], shape[2], shape[3]}, Classes: classes})
	st.TakeSnapshot("original")
	return modelOutcome(st), nil
}

// outputWidth runs one zero image through m and returns its logits' width.
func outputWidth(env *Env, m *ops.Model, shape []int) (int, error) {
	c := ops.NewContext(env.Backend, ops.Options{})
	defer c.Reset()
	x := ops.New(1, shape[1], shape[2], shape[3])
	logits, err := m.Forward1(c, x)
	if err != nil {
		return 0, err
	}
	if logits.Dims() != 2 {
		return 0, fmt.Errorf("the model's output has shape %v; classifiers give (batch, classes)", logits.Shape)
	}
	return logits.Shape[1], nil
}

// exportONNX writes the current model as ONNX: FP32, or QDQ where the
// model holds fake-quant nodes, with quantized weights in the form
// representation asks for (compress.ONNXForm: log2 weights dequantized by
// default, or int8 QDQ).
func exportONNX(env *Env, st *State, path, representation string) error {
	in := st.Meta.Input
	m := st.Model
	if len(m.FindKind(ops.OpFakeQuant, ops.OpLog2Quant)) > 0 {
		var err error
		if m, _, err = compress.ONNXForm(m, representation); err != nil {
			return err
		}
	}
	return onnx.Export(m, path, onnx.ExportOptions{InputShape: []int{1, in[0], in[1], in[2]}, Backend: env.Backend})
}
