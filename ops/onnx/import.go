package onnx

import (
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"github.com/qpipe/qpipe/internal/bounded"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/onnx/onnxpb"
)

// ImportOptions configure Import.
type ImportOptions struct {
	// Name is the model's name; empty means the file's base name.
	Name string
	// InputShape fixes the input shape (batch first). Empty means the
	// shape the file declares; a symbolic batch dimension stays dynamic
	// either way, other symbolic dimensions must be given here.
	InputShape []int
	// Backend evaluates nodes to learn shapes; nil means ops.OrDefault's.
	Backend ops.Backend
	// FixedBatch keeps a static batch as the file declares it instead of
	// making it symbolic (see BatchMode).
	FixedBatch bool
}

// value is an ONNX tensor during import: a constant (k) or the output of
// a qpipe node with its value on the probe input (t, which gives shapes).
// pad is a pending zero padding (top, left, bottom, right) of a Pad that
// only a following Conv or AveragePool may absorb.
type value struct {
	k    *konst
	node *ops.Node
	t    *ops.Tensor
	pad  []int
}

func (v *value) shape() []int {
	if v.k != nil {
		return v.k.shape
	}
	return v.t.Shape
}

// importer is one pass over an ONNX graph at a fixed probe batch size.
type importer struct {
	graph   *onnxpb.GraphProto
	dir     string
	opset   int
	m       *ops.Model
	c       *ops.Context
	vals    map[string]*value
	names   map[string]bool
	params  map[*konst]*ops.Node // constants already bound to param nodes
	inits   map[string]bool      // names of initializers
	pnames  map[*konst]string    // initializer name of a constant
	consts  map[string]*konst    // Constant node outputs, for pattern matching
	shapes  map[int][]int        // node ID → probe output shape
	batchOf int
	baked   int // a static-batch graph's own batch, when probed at another (0: not rebatching)
}

// Import reads an ONNX model (opsets 6-17, as torch.onnx.export writes
// them; 1-5 for the ops unchanged since opset 1) into a qpipe model. Shape subgraphs are folded for the input
// shape; decomposed GELU (erf and tanh forms) and LayerNorm become gelu,
// gelu_tanh and layernorm nodes, MatMul/Gemm with constant weights linear
// nodes. A symbolic batch dimension stays dynamic: the graph is traced at
// two batch sizes and reshapes whose target depends on the batch get -1
// there; a static batch is made symbolic where the graph allows (see
// ImportReport). Errors name the ONNX node and its op type.
func Import(path string, o ImportOptions) (*ops.Model, error) {
	m, _, err := ImportReport(path, o)
	return m, err
}

// ImportReport is Import that also says how the batch dimension was
// handled (see BatchMode).
func ImportReport(path string, o ImportOptions) (*ops.Model, BatchMode, error) {
	mp, err := readModel(path)
	if err != nil {
		return nil, 0, err
	}
	if o.Name == "" {
		o.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	shapes, dynBatch, err := inputShapes(mp.GetGraph(), o.InputShape)
	if err != nil {
		return nil, 0, fmt.Errorf("onnx: %s: %w", path, err)
	}
	m, mode, err := importBatched(o.Backend, mp, filepath.Dir(path), o.Name, shapes, dynBatch, o.FixedBatch)
	if err != nil {
		return nil, 0, fmt.Errorf("onnx: %s: %w", path, err)
	}
	return m, mode, nil
}

// inputShape returns the single graph input's shape and whether its batch
// dimension is symbolic.
func inputShape(g *onnxpb.GraphProto, given []int) ([]int, bool, error) {
	shapes, dyn, err := inputShapes(g, given)
	if err != nil {
		return nil, false, err
	}
	if len(shapes) != 1 {
		return nil, false, fmt.Errorf("the graph has %d inputs; a classifier has one", len(shapes))
	}
	return shapes[0], dyn, nil
}

// inputShapes returns the graph inputs' shapes, whether their batch
// dimension is symbolic (any of them), and checks that they are float.
// given fixes the shape of a single input.
func inputShapes(g *onnxpb.GraphProto, given []int) ([][]int, bool, error) {
	ins := graphInputs(g)
	if len(ins) == 0 {
		return nil, false, fmt.Errorf("the graph has no inputs")
	}
	if len(given) > 0 && len(ins) != 1 {
		return nil, false, fmt.Errorf("InputShape given for a graph with %d inputs", len(ins))
	}
	var shapes [][]int
	anyDyn := false
	for _, in := range ins {
		shape, dyn, err := oneInputShape(in, given)
		if err != nil {
			return nil, false, err
		}
		shapes = append(shapes, shape)
		anyDyn = anyDyn || dyn
	}
	return shapes, anyDyn, nil
}

func oneInputShape(in *onnxpb.ValueInfoProto, given []int) ([]int, bool, error) {
	tt := in.GetType().GetTensorType()
	if tt.GetElemType() != int32(onnxpb.TensorProto_FLOAT) {
		return nil, false, fmt.Errorf("input %q is %s; qpipe computes in float32", in.GetName(), onnxpb.TensorProto_DataType(tt.GetElemType()))
	}
	dims := tt.GetShape().GetDim()
	if len(dims) == 0 && len(given) == 0 {
		return nil, false, fmt.Errorf("input %q has no shape; import needs (batch, ...) (export with a sample input of the real shape)", in.GetName())
	}
	dyn := len(dims) > 0 && dims[0].GetDimParam() != "" || len(dims) > 0 && dims[0].GetDimValue() <= 0
	if len(given) > 0 {
		if len(given) != len(dims) && len(dims) > 0 {
			return nil, false, fmt.Errorf("input %q has rank %d, InputShape %v", in.GetName(), len(dims), given)
		}
		return given, dyn, nil
	}
	shape := make([]int, len(dims))
	for i, d := range dims {
		shape[i] = int(d.GetDimValue())
		if i > 0 && shape[i] <= 0 {
			return nil, false, fmt.Errorf("input %q dimension %d is symbolic (%q): give ImportOptions.InputShape", in.GetName(), i, d.GetDimParam())
		}
	}
	if err := checkProbe(in.GetName(), shape); err != nil {
		return nil, false, err
	}
	return shape, dyn, nil
}

// checkProbe refuses an input shape whose probe tensor (batch 3 when the
// batch is symbolic) overflows or exceeds the memory budget.
func checkProbe(name string, shape []int) error {
	probe := append([]int{}, shape...)
	if len(probe) > 0 {
		probe[0] = max(probe[0], 3)
	}
	_, err := bounded.Elems(fmt.Sprintf("input %q", name), probe, 4)
	return err
}

// graphInputs lists the graph inputs that are not initializers (older
// exporters list initializers as inputs too).
func graphInputs(g *onnxpb.GraphProto) []*onnxpb.ValueInfoProto {
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	var out []*onnxpb.ValueInfoProto
	for _, in := range g.GetInput() {
		if !inits[in.GetName()] {
			out = append(out, in)
		}
	}
	return out
}

// importPass converts the graph once, probing with the given batch size
// (rebatch: a static-batch graph probed at another batch than its own).
func importPass(be ops.Backend, mp *onnxpb.ModelProto, dir, name string, shapes [][]int, batch int, dynBatch, rebatch bool, inits initCache) (*ops.Model, error) {
	im, err := convertGraph(be, mp, dir, name, shapes, batch, dynBatch, rebatch, inits)
	if err != nil {
		return nil, err
	}
	return im.finish()
}

// convertGraph runs every node's converter; the graph outputs' values are
// then in im.vals (constants where the graph folds).
func convertGraph(be ops.Backend, mp *onnxpb.ModelProto, dir, name string, shapes [][]int, batch int, dynBatch, rebatch bool, inits initCache) (*importer, error) {
	be, err := ops.OrDefault(be)
	if err != nil {
		return nil, err
	}
	g := mp.GetGraph()
	im := &importer{graph: g, dir: dir, opset: opsetOf(mp), m: ops.NewModel(name), c: ops.NewContext(be, ops.Options{}),
		vals: map[string]*value{}, names: map[string]bool{}, params: map[*konst]*ops.Node{},
		inits: map[string]bool{}, shapes: map[int][]int{}, pnames: map[*konst]string{}, batchOf: batch}
	if err := im.loadInitializers(inits); err != nil {
		return nil, err
	}
	for i, in := range graphInputs(g) {
		probe := append([]int{}, shapes[i]...)
		if rebatch && len(probe) > 0 {
			im.baked = probe[0]
		}
		if len(probe) > 0 && (dynBatch || rebatch || probe[0] <= 0) {
			probe[0] = batch
		}
		node := im.m.AddNode(&ops.Node{Kind: ops.OpInput, Name: in.GetName()})
		im.m.Inputs = append(im.m.Inputs, node.ID)
		im.shapes[node.ID] = probe
		im.vals[in.GetName()] = &value{node: node, t: probeInput(probe)}
	}
	var outs []string
	for _, o := range g.GetOutput() {
		outs = append(outs, o.GetName())
	}
	if err := im.scanConstants(); err != nil {
		return nil, err
	}
	nodes, err := fusePatterns(g.GetNode(), outs, im.constOf)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if err := im.convert(n); err != nil {
			return nil, err
		}
	}
	return im, nil
}

// probeInput is a deterministic, non-constant input for shape probing.
func probeInput(shape []int) *ops.Tensor {
	t := ops.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32((i*7919)%97)/97 - 0.5
	}
	return t
}

// initCache holds the decoded initializers across the passes of one
// import (each is decoded once; the file's bytes are dropped after).
type initCache map[string]*konst

func (im *importer) loadInitializers(cache initCache) error {
	for _, t := range im.graph.GetInitializer() {
		k := cache[t.GetName()]
		if k == nil {
			var err error
			if k, err = tensorData(t, im.dir); err != nil {
				return err
			}
			if cache != nil {
				cache[t.GetName()] = k
				t.RawData, t.FloatData = nil, nil // decoded: free the file's copy
			}
		}
		im.vals[t.GetName()] = &value{k: k}
		im.inits[t.GetName()] = true
		im.pnames[k] = t.GetName()
	}
	return nil
}

// scanConstants decodes the Constant nodes' values for pattern matching.
func (im *importer) scanConstants() error {
	im.consts = map[string]*konst{}
	for _, n := range im.graph.GetNode() {
		if !is(n, "Constant") || len(n.GetOutput()) != 1 {
			continue
		}
		v, err := convConstant(im, n, nil)
		if err != nil {
			return nodeErr(n, err)
		}
		im.consts[n.GetOutput()[0]] = v[0].k
	}
	return nil
}

// constOf returns the constant behind an ONNX value name known before
// conversion (initializers and Constant nodes), for pattern matching.
func (im *importer) constOf(name string) *konst {
	if v := im.vals[name]; v != nil {
		return v.k
	}
	return im.consts[name]
}

// convert runs one ONNX node's converter and records its outputs.
func (im *importer) convert(n *onnxpb.NodeProto) error {
	in := make([]*value, len(n.GetInput()))
	for i, name := range n.GetInput() {
		if name == "" {
			continue // omitted optional input
		}
		if in[i] = im.vals[name]; in[i] == nil {
			return nodeErr(n, fmt.Errorf("input %q is not produced by an earlier node", name))
		}
		if in[i].pad != nil && !absorbsPad(n) {
			v, err := im.materializePad(n, in[i])
			if err != nil {
				return nodeErr(n, err)
			}
			in[i] = v
		}
	}
	conv, ok := converters[convKey(n)]
	if !ok {
		return nodeErr(n, fmt.Errorf("unsupported op (supported: %s)", supportedList()))
	}
	if im.opset < FullImportOpset && !sinceOpset1[convKey(n)] && n.GetDomain() != fusedDomain {
		return nodeErr(n, fmt.Errorf("opset %d: import reads this op from opset %d on (its earlier form had other attributes); re-export with torch.onnx.export(..., opset_version=17)",
			im.opset, FullImportOpset))
	}
	outs, err := runConverter(conv, im, n, in)
	if err != nil {
		return nodeErr(n, err)
	}
	for i, name := range n.GetOutput() {
		if i < len(outs) && name != "" {
			im.vals[name] = outs[i]
		}
	}
	return nil
}

func convKey(n *onnxpb.NodeProto) string {
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return d + "." + n.GetOpType()
	}
	return n.GetOpType()
}

// nodeErr names the ONNX node and its op type.
func nodeErr(n *onnxpb.NodeProto, err error) error {
	name := n.GetName()
	if name == "" && len(n.GetOutput()) > 0 {
		name = "→" + n.GetOutput()[0]
	}
	return fmt.Errorf("node %q (%s): %w", name, n.GetOpType(), err)
}

// finish sets the outputs, removes dead nodes and validates.
func (im *importer) finish() (*ops.Model, error) {
	for _, o := range im.graph.GetOutput() {
		v := im.vals[o.GetName()]
		if v == nil {
			return nil, fmt.Errorf("graph output %q is not produced by any node", o.GetName())
		}
		if v.node == nil {
			n, err := im.dyn(v, o.GetName())
			if err != nil {
				return nil, err
			}
			v = n
		}
		if v.pad != nil { // a Pad that no Conv absorbed
			p, err := im.materializePad(&onnxpb.NodeProto{Name: ptr(o.GetName() + "/Pad")}, v)
			if err != nil {
				return nil, err
			}
			v = p
		}
		im.m.Outputs = append(im.m.Outputs, v.node.ID)
	}
	foldRolls(im.m, im.shapes)
	if err := foldBatchNorms(im.m); err != nil {
		return nil, err
	}
	pruneDead(im.m)
	return im.m, im.m.Validate()
}

// emit adds a qpipe node reading the given values (constants become param
// nodes) and evaluates it on the probe input.
func (im *importer) emit(on *onnxpb.NodeProto, kind ops.OpKind, attrs ops.Attrs, params map[string]string, ins ...*value) (*value, error) {
	n := &ops.Node{Kind: kind, Name: im.nodeName(on, kind), Attrs: attrs, Params: params}
	tensors := make([]*ops.Tensor, len(ins))
	for i, v := range ins {
		d, err := im.dyn(v, on.GetName())
		if err != nil {
			return nil, err
		}
		n.Inputs = append(n.Inputs, d.node.ID)
		tensors[i] = d.t
	}
	t, err := im.eval(n, tensors)
	if err != nil {
		return nil, err
	}
	im.m.AddNode(n)
	im.shapes[n.ID] = t.Shape
	return &value{node: n, t: t}, nil
}

// dyn returns v as a node's output, binding a constant to a param node.
func (im *importer) dyn(v *value, hint string) (*value, error) {
	if v.node != nil {
		return v, nil
	}
	if pn := im.params[v.k]; pn != nil {
		return &value{node: pn, t: v.k.tensor()}, nil
	}
	if v.k.isInt {
		return nil, fmt.Errorf("integer tensor used as data (only shape computations may use integers)")
	}
	name, trainable := im.pnames[v.k], true
	if name == "" {
		name, trainable = "const."+sanitize(hint), false
	}
	pname := im.addParam(sanitize(name), v.k.tensor(), trainable)
	pn := im.m.AddNode(&ops.Node{Kind: ops.OpParam, Name: im.unique(pname), Params: map[string]string{"value": pname}})
	im.params[v.k] = pn
	return &value{node: pn, t: v.k.tensor()}, nil
}

// addParam adds a parameter under a free name derived from name.
func (im *importer) addParam(name string, t *ops.Tensor, trainable bool) string {
	base, i := name, 1
	for im.m.Param(name) != nil {
		name = fmt.Sprintf("%s_%d", base, i)
		i++
	}
	if _, err := im.m.AddParam(name, t, trainable); err != nil {
		panic(err) // unreachable: the name is free
	}
	return name
}

// eval runs node n alone on the probe values of its inputs.
func (im *importer) eval(n *ops.Node, ins []*ops.Tensor) (*ops.Tensor, error) {
	sm := ops.NewModel("probe")
	cp := *n
	cp.Inputs = nil
	for i := range ins {
		in := sm.AddNode(&ops.Node{Kind: ops.OpInput, Name: fmt.Sprint("in", i)})
		sm.Inputs = append(sm.Inputs, in.ID)
		cp.Inputs = append(cp.Inputs, in.ID)
	}
	for _, p := range n.Params {
		if _, err := sm.AddParam(p, im.m.Param(p).Value, false); err != nil {
			return nil, err
		}
	}
	out := sm.AddNode(&cp)
	sm.Outputs = []int{out.ID}
	return sm.Forward1(im.c, ins...)
}

var nonName = regexp.MustCompile(`[^A-Za-z0-9_.]+`)

func sanitize(s string) string {
	return strings.Trim(nonName.ReplaceAllString(s, "_"), "_.")
}

// modulePath turns PyTorch's scoped node name ("/blocks/blocks.0/mlp/fc1/MatMul")
// into the module path ("blocks.0.mlp.fc1") and the op part ("MatMul").
func modulePath(onnxName string) (module, op string) {
	segs := strings.Split(strings.Trim(onnxName, "/"), "/")
	op = segs[len(segs)-1]
	var path []string
	for _, s := range segs[:len(segs)-1] {
		if s == "" {
			continue
		}
		if len(path) > 0 && strings.HasPrefix(s, strings.Join(path, ".")+".") {
			path = strings.Split(s, ".")
			continue
		}
		path = append(path, s)
	}
	return strings.Join(path, "."), op
}

// nodeName is the module path of an ONNX node, made unique: the first
// node of a module gets the path, later ones path.op ("blocks.0.attn.softmax").
func (im *importer) nodeName(on *onnxpb.NodeProto, kind ops.OpKind) string {
	module, op := modulePath(on.GetName())
	op = strings.ToLower(sanitize(op))
	if op == "" {
		op = string(kind)
	}
	if module == "" {
		return im.unique(op)
	}
	if moduleKinds[kind] && !im.names[module] {
		im.names[module] = true
		return module
	}
	return im.unique(module + "." + op)
}

// moduleKinds are the kinds that make up a whole PyTorch module (nn.Linear,
// nn.GELU...), so their node takes the module's path as its name.
var moduleKinds = map[ops.OpKind]bool{
	ops.OpLinear: true, ops.OpConv2d: true, ops.OpLayerNorm: true, ops.OpBatchNorm: true, ops.OpGELU: true,
	ops.OpGELUTanh: true, ops.OpReLU: true, ops.OpTanh: true, ops.OpSigmoid: true, ops.OpMaxPool2d: true,
	ops.OpAvgPool2d: true, ops.OpGlobalAvgPool: true, ops.OpSoftmax: true, ops.OpHardswish: true,
	ops.OpHardSigmoid: true, ops.OpClip: true, ops.OpSiLU: true,
}

func (im *importer) unique(name string) string { return uniqueName(im.names, name) }

// uniqueName returns name, or name_1, name_2, ... the first not in used,
// and marks it used (node names on import, value names on export).
func uniqueName(used map[string]bool, name string) string {
	base, i := name, 1
	for used[name] {
		name = fmt.Sprintf("%s_%d", base, i)
		i++
	}
	used[name] = true
	return name
}

// runConverter runs one converter on a node that comes from an untrusted
// file. Converters index the inputs their op's schema requires; a crafted
// node with fewer inputs (or an omitted one the op needs) must be a
// located error, not a crash, so a runtime error inside a converter is
// reported as a malformed node.
func runConverter(conv convFunc, im *importer, n *onnxpb.NodeProto, in []*value) (outs []*value, err error) {
	defer func() {
		if r := recover(); r != nil {
			re, ok := r.(runtime.Error)
			if !ok {
				panic(r)
			}
			outs, err = nil, fmt.Errorf("malformed node: %d inputs, %d outputs do not fit %s (%v)",
				len(n.GetInput()), len(n.GetOutput()), n.GetOpType(), re)
		}
	}()
	return conv(im, n, in)
}
