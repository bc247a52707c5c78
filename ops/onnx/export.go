package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"

	"github.com/qpipe/qpipe/internal/outfile"
)

// ExportOpset is the default-domain opset Export writes (LayerNormalization
// needs 17; ONNX Runtime 1.14+ runs it).
const ExportOpset = 17

// ExportOptions configure Export.
type ExportOptions struct {
	// InputShape is the input's shape (batch first), used to trace the
	// model once for the shapes the export needs. Required.
	InputShape []int
	// FixedBatch writes the batch dimension as a number; by default it is
	// the symbolic dimension "batch".
	FixedBatch bool
	// ProducerVersion is recorded in the file (default "qpipe").
	ProducerVersion string
	// Backend runs the shape trace; nil means ops.OrDefault's.
	Backend ops.Backend
}

// exporter builds one GraphProto.
type exporter struct {
	m       *ops.Model
	g       *onnxpb.GraphProto
	shapes  map[int][]int     // node ID → output shape on the probe input
	names   map[int]string    // node ID → ONNX value name
	used    map[string]bool   // ONNX names taken
	qweight map[int]*qWeight  // fake-quantized constant weights, emitted by their reader
	consts  map[string]string // param name (+layout) → initializer name
	// actScale holds the scales of exported activation quantizers (node ID).
	actScale map[int][]float32
}

// Export writes m as an ONNX model (opset 17): FP32 graphs, and fake_quant
// nodes as QuantizeLinear/DequantizeLinear pairs (see the package doc).
// A node kind with no ONNX form is an error naming the node.
func Export(m *ops.Model, path string, o ExportOptions) error {
	b, err := Marshal(m, o)
	if err != nil {
		return err
	}
	if err := outfile.Write(path, b); err != nil {
		return fmt.Errorf("onnx: export: %w", err)
	}
	return nil
}

// Marshal returns the bytes Export writes.
func Marshal(m *ops.Model, o ExportOptions) ([]byte, error) {
	mp, err := ExportProto(m, o)
	if err != nil {
		return nil, err
	}
	b, err := proto.Marshal(mp)
	if err != nil {
		return nil, fmt.Errorf("onnx: export %s: %w", m.Name, err)
	}
	return b, nil
}

// ExportProto builds the ONNX model proto of m without writing it.
func ExportProto(m *ops.Model, o ExportOptions) (*onnxpb.ModelProto, error) {
	if len(m.Inputs) != 1 {
		return nil, fmt.Errorf("onnx: export %s: models with %d inputs are not supported (one input)", m.Name, len(m.Inputs))
	}
	if len(o.InputShape) == 0 {
		return nil, fmt.Errorf("onnx: export %s: ExportOptions.InputShape is required", m.Name)
	}
	shapes, err := traceShapes(o.Backend, m, o.InputShape)
	if err != nil {
		return nil, fmt.Errorf("onnx: export %s: tracing shapes: %w", m.Name, err)
	}
	e := &exporter{m: m, g: &onnxpb.GraphProto{Name: ptr(m.Name)}, shapes: shapes, names: map[int]string{},
		used: map[string]bool{}, qweight: map[int]*qWeight{}, consts: map[string]string{}, actScale: map[int][]float32{}}
	if err := e.graph(o); err != nil {
		return nil, fmt.Errorf("onnx: export %s: %w", m.Name, err)
	}
	pv := o.ProducerVersion
	if pv == "" {
		pv = "qpipe"
	}
	return &onnxpb.ModelProto{
		IrVersion:       ptr(int64(8)),
		ProducerName:    ptr("qpipe"),
		ProducerVersion: ptr(pv),
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: ptr(""), Version: ptr(int64(ExportOpset))}},
		Graph:           e.g,
	}, nil
}

// traceShapes runs m once on zeros of the input shape and records every
// node's output shape.
func traceShapes(be ops.Backend, m *ops.Model, shape []int) (map[int][]int, error) {
	be, err := ops.OrDefault(be)
	if err != nil {
		return nil, err
	}
	shapes := map[int][]int{m.Inputs[0]: append([]int{}, shape...)}
	hook := func(n *ops.Node, _ []*ops.Tensor, out *ops.Tensor) {
		shapes[n.ID] = append([]int{}, out.Shape...)
	}
	_, err = m.ForwardObserved(ops.NewContext(be, ops.Options{}), hook, probeInput(shape))
	return shapes, err
}

func (e *exporter) graph(o ExportOptions) error {
	in := e.m.Node(e.m.Inputs[0])
	e.names[in.ID] = e.unique(sanitize(in.Name))
	e.g.Input = []*onnxpb.ValueInfoProto{valueInfo(e.names[in.ID], e.shapes[in.ID], !o.FixedBatch)}
	for _, n := range e.m.Nodes {
		if n.Kind == ops.OpInput {
			continue
		}
		if err := e.node(n); err != nil {
			return fmt.Errorf("node %s (%s): %w", n.Name, n.Kind, err)
		}
	}
	for i, id := range e.m.Outputs {
		name := "output"
		if len(e.m.Outputs) > 1 {
			name = fmt.Sprintf("output_%d", i)
		}
		src, err := e.input(id)
		if err != nil {
			return err
		}
		e.add("Identity", []string{src}, []string{name})
		e.g.Output = append(e.g.Output, valueInfo(name, e.shapes[id], !o.FixedBatch))
	}
	return nil
}

func valueInfo(name string, shape []int, dynBatch bool) *onnxpb.ValueInfoProto {
	dims := make([]*onnxpb.TensorShapeProto_Dimension, len(shape))
	for i, d := range shape {
		if i == 0 && dynBatch {
			dims[i] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}}
		} else {
			dims[i] = &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}}
		}
	}
	return &onnxpb.ValueInfoProto{Name: ptr(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: ptr(int32(onnxpb.TensorProto_FLOAT)), Shape: &onnxpb.TensorShapeProto{Dim: dims}}}}}
}

func (e *exporter) unique(name string) string {
	if name == "" {
		name = "v"
	}
	return uniqueName(e.used, name)
}

// add appends an ONNX node and returns its first output.
func (e *exporter) add(op string, inputs, outputs []string, attrs ...*onnxpb.AttributeProto) string {
	e.g.Node = append(e.g.Node, &onnxpb.NodeProto{Name: ptr(e.unique("node_" + outputs[0])), OpType: ptr(op),
		Input: inputs, Output: outputs, Attribute: attrs})
	return outputs[0]
}

// op appends a node with one fresh output named after hint.
func (e *exporter) op(op, hint string, inputs []string, attrs ...*onnxpb.AttributeProto) string {
	return e.add(op, inputs, []string{e.unique(hint)}, attrs...)
}

// input returns the ONNX value name of node id's output.
func (e *exporter) input(id int) (string, error) {
	if name, ok := e.names[id]; ok {
		return name, nil
	}
	if qw := e.qweight[id]; qw != nil {
		name := e.dequantWeight(qw, false)
		e.names[id] = name
		return name, nil
	}
	if n := e.m.Node(id); n != nil && n.Kind == ops.OpParam {
		name, _, err := e.param(n.Params["value"], false)
		e.names[id] = name
		return name, err
	}
	return "", fmt.Errorf("node %d has no ONNX value (unsupported producer)", id)
}

// initializer adds a float32 tensor and returns its name.
func (e *exporter) initializer(hint string, shape []int, data []float32) string {
	name := e.unique(sanitize(hint))
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	e.g.Initializer = append(e.g.Initializer, &onnxpb.TensorProto{Name: ptr(name), Dims: dims64(shape),
		DataType: ptr(int32(onnxpb.TensorProto_FLOAT)), RawData: raw})
	return name
}

// initInts adds an int64 tensor (shapes, axes) and returns its name.
func (e *exporter) initInts(hint string, vals []int) string {
	name := e.unique(sanitize(hint))
	raw := make([]byte, 8*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(int64(v)))
	}
	e.g.Initializer = append(e.g.Initializer, &onnxpb.TensorProto{Name: ptr(name), Dims: []int64{int64(len(vals))},
		DataType: ptr(int32(onnxpb.TensorProto_INT64)), RawData: raw})
	return name
}

// initScalarInt adds a 0-D int64 tensor (a Gather index).
func (e *exporter) initScalarInt(hint string, v int) string {
	name := e.unique(sanitize(hint))
	raw := make([]byte, 8)
	binary.LittleEndian.PutUint64(raw, uint64(int64(v)))
	e.g.Initializer = append(e.g.Initializer, &onnxpb.TensorProto{Name: ptr(name), Dims: []int64{},
		DataType: ptr(int32(onnxpb.TensorProto_INT64)), RawData: raw})
	return name
}

func (e *exporter) scalar(hint string, v float32) string {
	return e.initializer(hint, []int{}, []float32{v})
}

func dims64(shape []int) []int64 {
	out := make([]int64, len(shape))
	for i, d := range shape {
		out[i] = int64(d)
	}
	return out
}

// param returns the initializer for a parameter, transposed (2-D) when
// asked; each layout is written once.
func (e *exporter) param(name string, transpose bool) (string, []int, error) {
	p := e.m.Param(name)
	if p == nil {
		return "", nil, fmt.Errorf("parameter %q missing", name)
	}
	shape, data := p.Value.Shape, p.Value.Data
	if transpose {
		if len(shape) != 2 {
			return "", nil, fmt.Errorf("parameter %q: want a matrix, got %v", name, shape)
		}
		shape, data = []int{shape[1], shape[0]}, transpose2(data, shape[0], shape[1])
	}
	key := fmt.Sprint(name, transpose)
	if n, ok := e.consts[key]; ok {
		return n, shape, nil
	}
	n := e.initializer(name+map[bool]string{true: "_t", false: ""}[transpose], shape, data)
	e.consts[key] = n
	return n, shape, nil
}

func transpose2(data []float32, rows, cols int) []float32 {
	out := make([]float32, len(data))
	for r := range rows {
		for c := range cols {
			out[c*rows+r] = data[r*cols+c]
		}
	}
	return out
}

func attrI(name string, v int) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: ptr(name), Type: onnxpb.AttributeProto_INT.Enum(), I: ptr(int64(v))}
}

func attrF(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: ptr(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: ptr(v)}
}

func attrIs(name string, v []int) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: ptr(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: dims64(v)}
}
