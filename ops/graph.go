package ops

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/qpipe/qpipe/lang/source"
)

// OpKind is a model node's operation, from a small closed set. Verbs
// rewrite models by changing kinds (gelu → relu) and inserting nodes
// (fake_quant); the executor gives each kind its meaning (see exec.go).
type OpKind string

// Node kinds. Inputs and parameter roles per kind are documented on
// kindSpecs in exec.go.
const (
	OpInput           OpKind = "input"
	OpParam           OpKind = "param"
	OpLinear          OpKind = "linear"
	OpConv2d          OpKind = "conv2d"
	OpMatMul          OpKind = "matmul"
	OpBatchNorm       OpKind = "batchnorm"
	OpLayerNorm       OpKind = "layernorm"
	OpReLU            OpKind = "relu"
	OpGELU            OpKind = "gelu"
	OpGELUTanh        OpKind = "gelu_tanh"
	OpSiLU            OpKind = "silu"
	OpHardswish       OpKind = "hardswish"
	OpTanh            OpKind = "tanh"
	OpSigmoid         OpKind = "sigmoid"
	OpIdentity        OpKind = "identity"
	OpMaxPool2d       OpKind = "maxpool2d"
	OpAvgPool2d       OpKind = "avgpool2d"
	OpGlobalAvgPool   OpKind = "global_avgpool"
	OpAdd             OpKind = "add"
	OpSub             OpKind = "sub"
	OpMul             OpKind = "mul"
	OpDiv             OpKind = "div"
	OpScale           OpKind = "scale"
	OpSum             OpKind = "sum"
	OpMean            OpKind = "mean"
	OpSoftmax         OpKind = "softmax"
	OpLogSoftmax      OpKind = "log_softmax"
	OpReshape         OpKind = "reshape"
	OpFlatten         OpKind = "flatten"
	OpPermute         OpKind = "permute"
	OpConcat          OpKind = "concat"
	OpSlice           OpKind = "slice"
	OpRoll            OpKind = "roll"
	OpWindowPartition OpKind = "window_partition"
	OpWindowReverse   OpKind = "window_reverse"
	OpAttention       OpKind = "attention"
	OpExpandBatch     OpKind = "expand_batch"
	OpDropout         OpKind = "dropout"
	OpFakeQuant       OpKind = "fake_quant"
	OpLog2Quant       OpKind = "log2_quant"
	OpQLinear         OpKind = "qlinear"
	OpQConv2d         OpKind = "qconv2d"
)

// Activation kinds that a replace verb may swap for one another.
var ActivationKinds = []OpKind{OpReLU, OpGELU, OpGELUTanh, OpSiLU, OpHardswish, OpTanh, OpSigmoid, OpIdentity}

// IsActivation reports whether k is an elementwise activation.
func IsActivation(k OpKind) bool {
	for _, a := range ActivationKinds {
		if a == k {
			return true
		}
	}
	return false
}

// Attrs are a node's static arguments; each kind reads the fields it
// documents and ignores the rest. The zero value of a field is its default.
type Attrs struct {
	Kernel   []int `json:"kernel,omitempty"`   // pooling window (kh, kw)
	Stride   []int `json:"stride,omitempty"`   // conv/pool stride (sh, sw)
	Padding  []int `json:"padding,omitempty"`  // conv/pool padding (ph, pw)
	Dilation []int `json:"dilation,omitempty"` // conv dilation
	Groups   int   `json:"groups,omitempty"`   // conv groups

	Shape    []int `json:"shape,omitempty"`     // reshape target (-1 allowed)
	Perm     []int `json:"perm,omitempty"`      // permute order
	Axis     int   `json:"axis,omitempty"`      // concat/slice/softmax/flatten/fake-quant channel axis
	Axes     []int `json:"axes,omitempty"`      // sum/mean/roll axes
	KeepDims bool  `json:"keep_dims,omitempty"` // sum/mean
	Start    int   `json:"start,omitempty"`     // slice
	End      int   `json:"end,omitempty"`       // slice (0 means to the end)
	Step     int   `json:"step,omitempty"`      // slice (0 means 1)
	Shifts   []int `json:"shifts,omitempty"`    // roll

	Window     int     `json:"window,omitempty"`     // window partition/reverse, windowed attention
	Resolution []int   `json:"resolution,omitempty"` // (H, W) of the token map (window reverse, shifted-window mask)
	ShiftSize  int     `json:"shift_size,omitempty"` // Swin's cyclic shift (attention mask)
	Heads      int     `json:"heads,omitempty"`      // attention heads
	Scale      float32 `json:"scale,omitempty"`      // scale op factor; attention score scale (0: 1/sqrt(d))
	Eps        float32 `json:"eps,omitempty"`        // norms (0: 1e-5)
	Momentum   float32 `json:"momentum,omitempty"`   // batch norm (0: 0.1)
	P          float32 `json:"p,omitempty"`          // dropout probability
	CountPad   bool    `json:"count_pad,omitempty"`  // avgpool: divide by the whole window
	TransA     bool    `json:"trans_a,omitempty"`    // matmul
	TransB     bool    `json:"trans_b,omitempty"`    // matmul
	FusedReLU  bool    `json:"fused_relu,omitempty"` // qlinear/qconv2d: ReLU in the integer epilogue; add (after ConvertInt8): ReLU of the sum
	QMin       float32 `json:"qmin,omitempty"`       // fake-quant integer range
	QMax       float32 `json:"qmax,omitempty"`       // fake-quant integer range
	Bits       int     `json:"bits,omitempty"`       // informational: code width
	LSQ        bool    `json:"lsq,omitempty"`        // fake-quant: learnable scale
	GradScale  float32 `json:"grad_scale,omitempty"` // fake-quant LSQ gradient scale (0: LSQ default)
	Beta       float32 `json:"beta,omitempty"`       // log2_quant: prune |w| < Beta·std(W); hardsigmoid: offset
	InScale    float32 `json:"in_scale,omitempty"`   // qlinear/qconv2d: activation scale
	OutScale   float32 `json:"out_scale,omitempty"`  // qlinear/qconv2d: requantize scale (0: float output); add: int8 output scale
	Tag        string  `json:"tag,omitempty"`        // free-form note a verb leaves (e.g. "weight", "input")

	Lo       float32 `json:"lo,omitempty"`        // clip lower bound
	Hi       float32 `json:"hi,omitempty"`        // clip upper bound
	Alpha    float32 `json:"alpha,omitempty"`     // hardsigmoid slope
	Pads     []int   `json:"pads,omitempty"`      // pad: begins of every axis, then ends
	PadValue float32 `json:"pad_value,omitempty"` // pad fill value
	PadMode  string  `json:"pad_mode,omitempty"`  // pad: "" or "constant", "edge", "reflect"
}

// Node is one operation of a model graph.
type Node struct {
	ID     int               `json:"id"`
	Kind   OpKind            `json:"kind"`
	Name   string            `json:"name"`             // module path, e.g. "stages.0.blocks.1.mlp.act"
	Inputs []int             `json:"inputs,omitempty"` // IDs of producer nodes
	Attrs  Attrs             `json:"attrs"`
	Params map[string]string `json:"params,omitempty"` // role ("weight", "bias", ...) → parameter name
	Span   source.Span       `json:"span"`             // recipe statement that created or last rewrote it
}

// Param is a named model tensor: a trainable weight or a buffer such as a
// batch norm's running mean (Trainable false).
type Param struct {
	Name      string
	Value     *Tensor
	Trainable bool

	mask []bool // pruning mask (see mask.go); nil: every element free
}

// Grad returns the parameter's accumulated gradient (nil before the first
// backward pass).
func (p *Param) Grad() *Tensor { return p.Value.grad }

// Model is a graph of nodes in topological order plus its parameters.
// Verbs rewrite it in place; Clone snapshots it.
type Model struct {
	Name    string
	Nodes   []*Node
	Inputs  []int // IDs of the input nodes, in argument order
	Outputs []int // IDs of the nodes whose values Forward returns

	params []*Param
	byName map[string]*Param
	nextID int

	cacheMu sync.Mutex
	cache   map[string]any // derived constants (masks, packed int8 weights)

	steps atomic.Pointer[stepPlan] // the forward's wiring, checked per forward (see stepPlan)
}

// NewModel returns an empty model.
func NewModel(name string) *Model {
	return &Model{Name: name, byName: map[string]*Param{}}
}

// AddNode appends n (its ID is assigned) and returns it. Its inputs must
// already be in the model.
func (m *Model) AddNode(n *Node) *Node {
	n.ID = m.nextID
	m.nextID++
	m.Nodes = append(m.Nodes, n)
	m.invalidate()
	return n
}

// Node returns the node with the given ID, or nil.
func (m *Model) Node(id int) *Node {
	for _, n := range m.Nodes {
		if n.ID == id {
			return n
		}
	}
	return nil
}

// NodeByName returns the first node with exactly this name, or nil.
func (m *Model) NodeByName(name string) *Node {
	for _, n := range m.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// AddParam adds a named tensor; a duplicate name is an error.
func (m *Model) AddParam(name string, value *Tensor, trainable bool) (*Param, error) {
	if _, dup := m.byName[name]; dup {
		return nil, fmt.Errorf("ops: parameter %q already exists", name)
	}
	value.leaf = true
	p := &Param{Name: name, Value: value, Trainable: trainable}
	m.params = append(m.params, p)
	m.byName[name] = p
	return p, nil
}

// Param returns the parameter with this name, or nil.
func (m *Model) Param(name string) *Param { return m.byName[name] }

// Params lists all parameters and buffers in creation order: the order
// checkpoints are saved in.
func (m *Model) Params() []*Param { return m.params }

// Trainable lists the parameters an optimizer updates.
func (m *Model) Trainable() []*Param {
	var out []*Param
	for _, p := range m.params {
		if p.Trainable {
			out = append(out, p)
		}
	}
	return out
}

// SetParam replaces a parameter's values (loading a checkpoint); the shape
// must match.
func (m *Model) SetParam(name string, value *Tensor) error {
	p := m.byName[name]
	if p == nil {
		return fmt.Errorf("ops: model %s has no parameter %q", m.Name, name)
	}
	if !SameShape(p.Value.Shape, value.Shape) {
		return fmt.Errorf("ops: parameter %q has shape %v, got %v", name, p.Value.Shape, value.Shape)
	}
	copy(p.Value.Data, value.Data)
	p.ApplyMask()
	m.invalidate()
	return nil
}

// RemoveParam deletes a parameter no node refers to any more.
func (m *Model) RemoveParam(name string) error {
	for _, n := range m.Nodes {
		for _, pn := range n.Params {
			if pn == name {
				return fmt.Errorf("ops: parameter %q is still used by node %s", name, n.Name)
			}
		}
	}
	if m.byName[name] == nil {
		return fmt.Errorf("ops: no parameter %q", name)
	}
	delete(m.byName, name)
	for i, p := range m.params {
		if p.Name == name {
			m.params = append(m.params[:i], m.params[i+1:]...)
			break
		}
	}
	return nil
}

// ZeroGrad clears every parameter gradient.
func (m *Model) ZeroGrad() {
	for _, p := range m.params {
		p.Value.ZeroGrad()
	}
}

// ParamCount is the number of trainable scalars.
func (m *Model) ParamCount() int {
	n := 0
	for _, p := range m.params {
		if p.Trainable {
			n += p.Value.Numel()
		}
	}
	return n
}

// ParamBytes is the float32 storage of all parameters and buffers.
func (m *Model) ParamBytes() int {
	n := 0
	for _, p := range m.params {
		n += 4 * p.Value.Numel()
	}
	return n
}

// ParamShape describes a parameter for listings and JSON.
type ParamShape struct {
	Name      string `json:"name"`
	Shape     []int  `json:"shape"`
	Trainable bool   `json:"trainable"`
}

// ParamShapes lists parameter names and shapes in order.
func (m *Model) ParamShapes() []ParamShape {
	out := make([]ParamShape, len(m.params))
	for i, p := range m.params {
		out[i] = ParamShape{Name: p.Name, Shape: append([]int(nil), p.Value.Shape...), Trainable: p.Trainable}
	}
	return out
}

// FindKind returns the nodes of any of the given kinds, in graph order.
func (m *Model) FindKind(kinds ...OpKind) []*Node {
	var out []*Node
	for _, n := range m.Nodes {
		for _, k := range kinds {
			if n.Kind == k {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

// Match returns the nodes whose name matches the glob pattern (see
// MatchName), in graph order.
func (m *Model) Match(pattern string) []*Node {
	re, err := CompileGlob(pattern)
	if err != nil {
		return nil
	}
	var out []*Node
	for _, n := range m.Nodes {
		if re.MatchString(n.Name) {
			out = append(out, n)
		}
	}
	return out
}

// Select returns the nodes of one of kinds (any kind when empty) whose name
// matches pattern ("" matches all).
func (m *Model) Select(pattern string, kinds ...OpKind) []*Node {
	re, err := CompileGlob(pattern)
	if err != nil {
		return nil
	}
	var out []*Node
	for _, n := range m.Nodes {
		if (pattern == "" || re.MatchString(n.Name)) && (len(kinds) == 0 || hasKind(kinds, n.Kind)) {
			out = append(out, n)
		}
	}
	return out
}

func hasKind(kinds []OpKind, k OpKind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Consumers returns the nodes that read n's output.
func (m *Model) Consumers(n *Node) []*Node {
	var out []*Node
	for _, c := range m.Nodes {
		for _, in := range c.Inputs {
			if in == n.ID {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// ReplaceKind changes n's kind (e.g. gelu → relu) and records the rewriting
// statement's span.
func (m *Model) ReplaceKind(n *Node, kind OpKind, span source.Span) {
	n.Kind = kind
	n.Span = span
	m.invalidate()
}

// SetSpan sets the span of every node (a model statement created them all).
func (m *Model) SetSpan(span source.Span) {
	for _, n := range m.Nodes {
		n.Span = span
	}
}

func (m *Model) index(id int) int {
	for i, n := range m.Nodes {
		if n.ID == id {
			return i
		}
	}
	return -1
}

func (m *Model) insertAt(pos int, n *Node) *Node {
	n.ID = m.nextID
	m.nextID++
	m.Nodes = append(m.Nodes, nil)
	copy(m.Nodes[pos+1:], m.Nodes[pos:])
	m.Nodes[pos] = n
	m.invalidate()
	return n
}

// InsertAfter places n after target so that every consumer of target (and
// the model outputs) reads n instead; n's first input becomes target.
func (m *Model) InsertAfter(target, n *Node) *Node {
	pos := m.index(target.ID)
	if pos < 0 {
		panic(fmt.Sprintf("ops: InsertAfter: node %d not in model", target.ID))
	}
	consumers := m.Consumers(target)
	n.Inputs = append([]int{target.ID}, n.Inputs...)
	m.insertAt(pos+1, n)
	for _, c := range consumers {
		replaceInput(c, target.ID, n.ID)
	}
	for i, o := range m.Outputs {
		if o == target.ID {
			m.Outputs[i] = n.ID
		}
	}
	return n
}

// InsertBefore places n between target's input i and target: n's first
// input is the old producer and target reads n.
func (m *Model) InsertBefore(target *Node, i int, n *Node) *Node {
	pos := m.index(target.ID)
	if pos < 0 || i < 0 || i >= len(target.Inputs) {
		panic(fmt.Sprintf("ops: InsertBefore: node %d has no input %d", target.ID, i))
	}
	n.Inputs = append([]int{target.Inputs[i]}, n.Inputs...)
	m.insertAt(pos, n)
	target.Inputs[i] = n.ID
	return n
}

// Bypass removes n, wiring its consumers (and outputs) to n's first input.
func (m *Model) Bypass(n *Node) error {
	if len(n.Inputs) == 0 {
		return fmt.Errorf("ops: cannot bypass node %s: it has no input", n.Name)
	}
	pos := m.index(n.ID)
	if pos < 0 {
		return fmt.Errorf("ops: node %s is not in model %s", n.Name, m.Name)
	}
	src := n.Inputs[0]
	for _, c := range m.Consumers(n) {
		replaceInput(c, n.ID, src)
	}
	for i, o := range m.Outputs {
		if o == n.ID {
			m.Outputs[i] = src
		}
	}
	m.Nodes = append(m.Nodes[:pos], m.Nodes[pos+1:]...)
	m.invalidate()
	return nil
}

func replaceInput(n *Node, from, to int) {
	for j, in := range n.Inputs {
		if in == from {
			n.Inputs[j] = to
		}
	}
}

// paramRoles lists, per kind, the parameter roles that can be bound to an
// input instead (input index = position + 1).
var paramRoles = map[OpKind][]string{
	OpLinear:    {"weight", "bias"},
	OpConv2d:    {"weight", "bias"},
	OpLayerNorm: {"weight", "bias"},
	OpBatchNorm: {"weight", "bias"},
}

// ExposeParam turns n's parameter role (e.g. a linear layer's "weight")
// into an input fed by a new param node, so that other nodes (a weight
// fake-quant) can be inserted on it. It returns the param node; exposing an
// already exposed role returns its producer.
func (m *Model) ExposeParam(n *Node, role string) (*Node, error) {
	roles := paramRoles[n.Kind]
	slot := -1
	for i, r := range roles {
		if r == role {
			slot = i + 1
		}
	}
	if slot < 0 || n.Params[role] == "" {
		return nil, fmt.Errorf("ops: node %s (%s) has no parameter role %q", n.Name, n.Kind, role)
	}
	for len(n.Inputs) <= slot {
		r := roles[len(n.Inputs)-1]
		pos := m.index(n.ID)
		pn := m.insertAt(pos, &Node{Kind: OpParam, Name: n.Name + "." + r, Params: map[string]string{"value": n.Params[r]}, Span: n.Span})
		n.Inputs = append(n.Inputs, pn.ID)
	}
	return m.Node(n.Inputs[slot]), nil
}

// Clone returns a deep copy: nodes, attributes and parameter values.
func (m *Model) Clone() *Model {
	out := NewModel(m.Name)
	out.nextID = m.nextID
	out.Inputs = append([]int(nil), m.Inputs...)
	out.Outputs = append([]int(nil), m.Outputs...)
	for _, n := range m.Nodes {
		out.Nodes = append(out.Nodes, n.clone())
	}
	for _, p := range m.params {
		c, _ := out.AddParam(p.Name, p.Value.Clone(), p.Trainable)
		c.mask = p.mask // masks are never modified in place: SetMask copies
	}
	return out
}

func (n *Node) clone() *Node {
	c := *n
	c.Inputs = append([]int(nil), n.Inputs...)
	c.Attrs = n.Attrs.clone()
	if n.Params != nil {
		c.Params = make(map[string]string, len(n.Params))
		for k, v := range n.Params {
			c.Params[k] = v
		}
	}
	return &c
}

func (a Attrs) clone() Attrs {
	cp := func(s []int) []int {
		if s == nil {
			return nil
		}
		return append([]int(nil), s...)
	}
	a.Kernel, a.Stride, a.Padding, a.Dilation = cp(a.Kernel), cp(a.Stride), cp(a.Padding), cp(a.Dilation)
	a.Shape, a.Perm, a.Axes, a.Shifts, a.Resolution = cp(a.Shape), cp(a.Perm), cp(a.Axes), cp(a.Shifts), cp(a.Resolution)
	return a
}

// maxNodeID bounds the node IDs of a model of the given number of nodes:
// every ID is below it (2^20, or 64 per node for larger graphs: IDs only
// grow as passes add nodes). A forward indexes its tables by node ID, so
// a model file naming node 2^40 must be refused, not allocated for.
func maxNodeID(nodes int) int { return max(1<<20, 64*nodes) }

// Validate checks that IDs are unique and within maxNodeID, inputs refer
// to earlier nodes, parameters exist and inputs/outputs are set.
func (m *Model) Validate() error {
	seen := map[int]bool{}
	var errs []string
	limit := maxNodeID(len(m.Nodes))
	for _, n := range m.Nodes {
		if n.ID < 0 || n.ID >= limit {
			errs = append(errs, fmt.Sprintf("node %s has id %d, outside 0..%d", n.Name, n.ID, limit-1))
		}
		if seen[n.ID] {
			errs = append(errs, fmt.Sprintf("duplicate node id %d", n.ID))
		}
		for _, in := range n.Inputs {
			if !seen[in] {
				errs = append(errs, fmt.Sprintf("node %s (%d) reads %d, which is not an earlier node", n.Name, n.ID, in))
			}
		}
		seen[n.ID] = true
		for role, pn := range n.Params {
			if m.byName[pn] == nil {
				errs = append(errs, fmt.Sprintf("node %s: %s parameter %q missing", n.Name, role, pn))
			}
		}
		if _, ok := kindSpecs[n.Kind]; !ok {
			errs = append(errs, fmt.Sprintf("node %s: unknown kind %q", n.Name, n.Kind))
		}
	}
	for _, id := range append(append([]int(nil), m.Inputs...), m.Outputs...) {
		if !seen[id] {
			errs = append(errs, fmt.Sprintf("input/output id %d is not a node", id))
		}
	}
	if len(m.Outputs) == 0 {
		errs = append(errs, "no outputs")
	}
	if len(errs) > 0 {
		return fmt.Errorf("ops: model %s is malformed: %s", m.Name, strings.Join(errs, "; "))
	}
	return nil
}

// KindCounts counts nodes per kind, for reports.
func (m *Model) KindCounts() map[OpKind]int {
	out := map[OpKind]int{}
	for _, n := range m.Nodes {
		out[n.Kind]++
	}
	return out
}

// SortedKinds returns the kinds present, sorted by name.
func (m *Model) SortedKinds() []OpKind {
	var ks []OpKind
	for k := range m.KindCounts() {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

// Invalidate drops derived constants (packed int8 weights, masks); call it
// after changing parameter values in place outside SetParam.
func (m *Model) Invalidate() { m.invalidate() }

// invalidate drops derived constants after a rewrite.
func (m *Model) invalidate() {
	m.cacheMu.Lock()
	m.cache = nil
	m.cacheMu.Unlock()
}

// cached returns the derived constant under key, computing it once.
func (m *Model) cached(key string, make func() any) any {
	m.cacheMu.Lock()
	defer m.cacheMu.Unlock()
	if v, ok := m.cache[key]; ok {
		return v
	}
	if m.cache == nil {
		m.cache = map[string]any{}
	}
	v := make()
	m.cache[key] = v
	return v
}
