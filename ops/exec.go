package ops

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// kindSpec gives a node kind its meaning: run computes the node's value
// from its input values with the context's primitives.
type kindSpec struct {
	run func(e *exec, n *Node, in []*Tensor) *Tensor
}

// exec is one Forward call's state.
type exec struct {
	c    *Context
	m    *Model
	hook ForwardHook
	// shown are the nodes Options.NodeTime reports in place of m.Nodes
	// (a frozen model's private nodes stay private); nil: m.Nodes.
	shown []*Node
	// fuseReLU tells the conv2d node being run to apply the ReLU node that
	// follows it (see fusedReLU).
	fuseReLU bool
	// fusePool (no-grad only) also applies the 2×2 max pool after the ReLU.
	fusePool bool
	// int8Hi > 0 tells the int8 layer being run to apply the clip [0,
	// int8Hi] (ReLU6) that follows it (Int8ClampBackend).
	int8Hi float32
	// epilogue (no-grad only) is the clip/hardswish/hardsigmoid the conv2d
	// applies (see fusedEpilogue) when useEpilogue is set.
	epilogue    Epilogue
	useEpilogue bool
	// ins is the forward's slice for a node's inputs (see inputs); nil:
	// none, run allocates one per node.
	ins *[]*Tensor
}

// ForwardHook observes every node evaluation of ForwardObserved: the node,
// its input values and its output (e.g. activation statistics for
// calibration). It must not keep the tensors past the step. In an integer
// model a value may be int8 codes or, for a qconv2d read only by int8
// adds, float data in channel-last order: Context.Dequantize gives any
// value as NCHW float32.
type ForwardHook func(n *Node, in []*Tensor, out *Tensor)

// param returns the tensor bound to role: the node's input slot when the
// role was exposed (see ExposeParam), else the named parameter; nil when
// the node has neither (an optional bias).
func (e *exec) param(n *Node, in []*Tensor, role string) *Tensor {
	for i, r := range paramRoles[n.Kind] {
		if r == role && len(in) > i+1 {
			return in[i+1]
		}
	}
	name, ok := n.Params[role]
	if !ok {
		return nil
	}
	p := e.m.byName[name]
	if p == nil {
		panic(&OpError{Op: string(n.Kind), Msg: fmt.Sprintf("parameter %q (%s) missing", name, role)})
	}
	if p.Value.requiresGrad != p.Trainable { // no write when unchanged: concurrent evaluation stays race-free
		p.Value.requiresGrad = p.Trainable
	}
	return p.Value
}

func (e *exec) mustParam(n *Node, in []*Tensor, role string) *Tensor {
	t := e.param(n, in, role)
	if t == nil {
		panic(&OpError{Op: string(n.Kind), Msg: fmt.Sprintf("no %s parameter", role)})
	}
	return t
}

func pair(v []int, def int) [2]int {
	switch len(v) {
	case 0:
		return [2]int{def, def}
	case 1:
		return [2]int{v[0], v[0]}
	default:
		return [2]int{v[0], v[1]}
	}
}

func unaryKind(op UnaryOp) kindSpec {
	return kindSpec{run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.Unary(op, in[0]) }}
}

func binaryKind(op BinaryOp) kindSpec {
	return kindSpec{run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.binary(op, in[0], in[1]) }}
}

// kindSpecs defines every node kind. Inputs are listed as in[i]; params by
// role; attrs by field.
var kindSpecs map[OpKind]kindSpec

func init() {
	kindSpecs = map[OpKind]kindSpec{
		OpInput: {run: nil}, // values come from Forward's arguments
		// param: outputs params["value"].
		OpParam: {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.mustParam(n, in, "value") }},
		// linear: in[0] x (..., in); weight (out, in), optional bias (out).
		OpLinear: {run: func(e *exec, n *Node, in []*Tensor) *Tensor {
			return e.c.Linear(in[0], e.mustParam(n, in, "weight"), e.param(n, in, "bias"))
		}},
		// conv2d: in[0] x NCHW; weight, optional bias; Stride, Padding, Dilation, Groups.
		OpConv2d: {run: func(e *exec, n *Node, in []*Tensor) *Tensor {
			a := n.Attrs
			o := Conv2dOptions{Stride: pair(a.Stride, 1), Padding: pair(a.Padding, 0), Dilation: pair(a.Dilation, 1), Groups: a.Groups}
			if e.fusePool {
				return e.c.conv2dReLUMaxPool2(in[0], e.mustParam(n, in, "weight"), e.param(n, in, "bias"), o)
			}
			if e.fuseReLU {
				return e.c.Conv2dReLU(in[0], e.mustParam(n, in, "weight"), e.param(n, in, "bias"), o)
			}
			if e.useEpilogue {
				return e.c.conv2dEpilogue(in[0], e.mustParam(n, in, "weight"), e.param(n, in, "bias"), o, e.epilogue)
			}
			return e.c.Conv2d(in[0], e.mustParam(n, in, "weight"), e.param(n, in, "bias"), o)
		}},
		// matmul: in[0]·in[1] with TransA, TransB.
		OpMatMul: {run: func(e *exec, n *Node, in []*Tensor) *Tensor {
			return e.c.MatMul(in[0], in[1], n.Attrs.TransA, n.Attrs.TransB)
		}},
		// batchnorm: weight, bias, running_mean, running_var; Eps, Momentum.
		OpBatchNorm: {run: func(e *exec, n *Node, in []*Tensor) *Tensor {
			o := BatchNormOptions{Momentum: n.Attrs.Momentum, Eps: n.Attrs.Eps}
			return e.c.BatchNorm(in[0], e.param(n, in, "weight"), e.param(n, in, "bias"),
				e.param(n, in, "running_mean"), e.param(n, in, "running_var"), o)
		}},
		// layernorm over the last axis: weight, bias; Eps.
		OpLayerNorm: {run: func(e *exec, n *Node, in []*Tensor) *Tensor {
			return e.c.LayerNorm(in[0], e.param(n, in, "weight"), e.param(n, in, "bias"), n.Attrs.Eps)
		}},
		OpReLU:      unaryKind(UnaryReLU),
		OpGELU:      unaryKind(UnaryGELU),
		OpGELUTanh:  unaryKind(UnaryGELUTanh),
		OpSiLU:      unaryKind(UnarySiLU),
		OpHardswish: unaryKind(UnaryHardswish),
		OpTanh:      unaryKind(UnaryTanh),
		OpSigmoid:   unaryKind(UnarySigmoid),
		OpIdentity:  {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return in[0] }},
		// maxpool2d/avgpool2d: Kernel, Stride (default Kernel), Padding, CountPad.
		OpMaxPool2d: {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.MaxPool2d(in[0], poolOpts(n.Attrs)) }},
		OpAvgPool2d: {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.AvgPool2d(in[0], poolOpts(n.Attrs)) }},
		// global_avgpool: (N,C,H,W) → (N,C).
		OpGlobalAvgPool: {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.GlobalAvgPool(in[0]) }},
		OpAdd:           binaryKind(BinaryAdd),
		OpSub:           binaryKind(BinarySub),
		OpMul:           binaryKind(BinaryMul),
		OpDiv:           binaryKind(BinaryDiv),
		// scale: in[0]·Scale.
		OpScale: {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.MulScalar(in[0], n.Attrs.Scale) }},
		// sum/mean over Axes (all when empty), KeepDims.
		OpSum:  {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.Sum(in[0], n.Attrs.Axes, n.Attrs.KeepDims) }},
		OpMean: {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.Mean(in[0], n.Attrs.Axes, n.Attrs.KeepDims) }},
		// softmax/log_softmax along Axis.
		OpSoftmax:    {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.Softmax(in[0], n.Attrs.Axis) }},
		OpLogSoftmax: {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.LogSoftmax(in[0], n.Attrs.Axis) }},
		// reshape to Shape (-1 allowed); flatten from Axis; permute by Perm.
		OpReshape: {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.Reshape(in[0], n.Attrs.Shape...) }},
		OpFlatten: {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.Flatten(in[0], n.Attrs.Axis) }},
		OpPermute: {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.Permute(in[0], n.Attrs.Perm...) }},
		// concat all inputs along Axis.
		OpConcat: {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.Concat(n.Attrs.Axis, in...) }},
		// slice Start:End:Step along Axis (End 0 means the end, Step 0 means 1).
		OpSlice: {run: func(e *exec, n *Node, in []*Tensor) *Tensor {
			a := n.Attrs
			end := a.End
			if end == 0 {
				end = in[0].Dim(a.Axis)
			}
			return e.c.Slice(in[0], a.Axis, a.Start, end, orOne(a.Step))
		}},
		// roll by Shifts along Axes.
		OpRoll: {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.Roll(in[0], n.Attrs.Shifts, n.Attrs.Axes) }},
		// window_partition (B,H,W,C) → (B·nW, Window², C).
		OpWindowPartition: {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.WindowPartition(in[0], n.Attrs.Window) }},
		// window_reverse (B·nW, Window², C) → (B, H, W, C) with Resolution (H, W).
		OpWindowReverse: {run: func(e *exec, n *Node, in []*Tensor) *Tensor {
			r := pair(n.Attrs.Resolution, 0)
			return e.c.WindowReverse(in[0], n.Attrs.Window, r[0], r[1])
		}},
		OpAttention: {run: runAttention},
		// expand_batch: in[0] (1, ...) repeated to in[1]'s batch size (a class token).
		OpExpandBatch: {run: func(e *exec, n *Node, in []*Tensor) *Tensor {
			shape := append([]int{in[1].Shape[0]}, in[0].Shape[1:]...)
			return e.c.BroadcastTo(in[0], shape...)
		}},
		// dropout with probability P (training mode only).
		OpDropout: {run: func(e *exec, n *Node, in []*Tensor) *Tensor { return e.c.Dropout(in[0], n.Attrs.P) }},
		// fake_quant: params scale, optional zero_point; QMin, QMax, Axis, LSQ, GradScale.
		OpFakeQuant: {run: func(e *exec, n *Node, in []*Tensor) *Tensor {
			a := n.Attrs
			o := FakeQuantOptions{QMin: a.QMin, QMax: a.QMax, Axis: a.Axis, LSQ: a.LSQ, GradScale: a.GradScale}
			return e.c.FakeQuant(in[0], e.mustParam(n, in, "scale"), e.param(n, in, "zero_point"), o)
		}},
		// log2_quant: in[0] a weight; params alpha (scalar), optional mask; Bits, Beta, GradScale.
		OpLog2Quant: {run: func(e *exec, n *Node, in []*Tensor) *Tensor {
			a := n.Attrs
			return e.c.Log2Quant(in[0], e.mustParam(n, in, "alpha"), e.param(n, in, "mask"), Log2QuantOptions{Bits: a.Bits, Beta: a.Beta, GradScale: a.GradScale})
		}},
		OpQLinear: {run: runQLinear},
		OpQConv2d: {run: runQConv2d},
	}
}

func poolOpts(a Attrs) PoolOptions {
	return PoolOptions{Kernel: pair(a.Kernel, 0), Stride: pair(a.Stride, 0), Padding: pair(a.Padding, 0), CountIncludePad: a.CountPad}
}

// runAttention is multi-head self-attention on a fused qkv projection:
// in[0] (B, N, 3C) → (B, N, C), with Heads heads and score Scale. With a
// relative_position_bias_table parameter ((2·Window-1)², Heads) it adds
// Swin's relative-position bias; with ShiftSize > 0 it adds the shifted-
// window mask of a Resolution (H, W) map.
func runAttention(e *exec, n *Node, in []*Tensor) *Tensor {
	c, a, x := e.c, n.Attrs, in[0]
	if x.Dims() != 3 || a.Heads <= 0 || x.Shape[2]%(3*a.Heads) != 0 {
		shapeErr("attention", fmt.Sprintf("want qkv (B, N, 3·C) with C divisible by %d heads", a.Heads), x)
	}
	b, tokens, ch := x.Shape[0], x.Shape[1], x.Shape[2]/3
	if _, ok := n.Params["relative_position_bias_table"]; !ok && len(in) == 1 && a.ShiftSize <= 0 {
		if y := c.qkvAttention(x, a.Heads, a.Scale); y != nil {
			return y
		}
	}
	qkv := c.Permute(c.Reshape(x, b, tokens, 3, a.Heads, ch/a.Heads), 2, 0, 3, 1, 4)
	part := func(i int) *Tensor {
		return c.Reshape(c.Slice(qkv, 0, i, i+1, 1), b, a.Heads, tokens, ch/a.Heads)
	}
	o := AttentionOptions{Scale: a.Scale}
	if table := e.param(n, in, "relative_position_bias_table"); table != nil {
		o.Bias = e.relativeBias(table, a.Window, a.Heads, tokens)
	}
	if a.ShiftSize > 0 {
		o.Mask = e.shiftMask(a)
	}
	out := c.ScaledDotProductAttention(part(0), part(1), part(2), o)
	return c.Reshape(c.Permute(out, 0, 2, 1, 3), b, tokens, ch)
}

func (e *exec) relativeBias(table *Tensor, ws, heads, tokens int) *Tensor {
	if ws*ws != tokens || table.Dims() != 2 || table.Shape[0] != (2*ws-1)*(2*ws-1) || table.Shape[1] != heads {
		shapeErr("attention", fmt.Sprintf("relative bias table must be (%d, %d) for window %d over %d tokens",
			(2*ws-1)*(2*ws-1), heads, ws, tokens), table)
	}
	idx := e.m.cached(fmt.Sprintf("relidx/%d", ws), func() any { return RelativePositionIndex(ws) }).([]int32)
	g := e.c.Gather(table, idx)
	return e.c.Permute(e.c.Reshape(g, tokens, tokens, heads), 2, 0, 1)
}

func (e *exec) shiftMask(a Attrs) *Tensor {
	r := pair(a.Resolution, 0)
	key := fmt.Sprintf("mask/%d/%d/%d/%d", r[0], r[1], a.Window, a.ShiftSize)
	return e.m.cached(key, func() any { return ShiftedWindowMask(r[0], r[1], a.Window, a.ShiftSize) }).(*Tensor)
}

// Forward runs the model on inputs (one per input node, in order) and
// returns the output values. Errors from a node carry its name and Span;
// panics inside kernels become errors. With grad off, intermediate buffers
// are recycled as soon as their last reader has run.
func (m *Model) Forward(c *Context, inputs ...*Tensor) ([]*Tensor, error) {
	return m.ForwardObserved(c, nil, inputs...)
}

// ForwardObserved is Forward with a hook called after every node.
func (m *Model) ForwardObserved(c *Context, hook ForwardHook, inputs ...*Tensor) ([]*Tensor, error) {
	if len(inputs) != len(m.Inputs) {
		return nil, fmt.Errorf("ops: model %s takes %d inputs, got %d", m.Name, len(m.Inputs), len(inputs))
	}
	plan := m.stepPlan()
	if plan.badIDs {
		if err := m.Validate(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("ops: model %s is malformed: a node ID outside 0..%d", m.Name, maxNodeID(len(m.Nodes))-1)
	}
	return forward(exec{c: c, m: m, hook: hook}, plan, nil, inputs)
}

// forward runs e's model: the steps of compiled (indexed by each step's
// first node; a frozen model's, see Freeze) or, when it is nil, the steps
// the fusion checks find on this forward (plainStep only with a hook).
// Its exec, value table, storage counts and input slice come from c's
// last forward (forwardState).
func forward(e exec, plan *stepPlan, compiled []step, inputs []*Tensor) ([]*Tensor, error) {
	c, m := e.c, e.m
	s := c.takeForward(plan.maxID + 1)
	defer c.putForward(s)
	s.e = e
	s.e.ins = &s.ins
	vals := s.vals
	for i, id := range m.Inputs {
		vals[id] = inputs[i]
	}
	var lt *lifetimes
	if !c.opts.Grad {
		lt = &s.lt
		lt.start(plan, vals)
	}
	var readers []int
	if e.hook == nil {
		readers = plan.readers
	}
	clock := stepClock{report: c.opts.NodeTime, shown: e.shown}
	var found step // the step at i, found on this forward (compiled nil)
	for i := 0; i < len(m.Nodes); i++ {
		n := m.Nodes[i]
		if n.Kind == OpInput {
			continue
		}
		clock.next(i, n)
		st := &found
		if compiled != nil {
			st = &compiled[i]
		} else {
			found = findStep(c, m, i, readers, vals)
		}
		if err := s.e.runStep(i, st, vals, lt); err != nil {
			return nil, err
		}
		i += st.absorbed()
	}
	clock.next(0, nil)
	outs := make([]*Tensor, len(m.Outputs))
	err := Guard(func() error {
		for i, id := range m.Outputs {
			outs[i] = c.Dequantize(vals[id])
		}
		return nil
	})
	return outs, err
}

// forwardState is what a forward reuses from the last one on its Context
// instead of allocating it: its exec, value table, lifetimes' storage
// counts and the slice run passes a node's inputs in. A forward takes it
// from the Context and puts it back when it returns, emptied, so a
// forward that runs inside another on the same Context (from a hook)
// gets its own.
type forwardState struct {
	e    exec
	vals values
	lt   lifetimes
	ins  []*Tensor
}

// takeForward returns a forward state with n empty values.
func (c *Context) takeForward(n int) *forwardState {
	s := c.spare
	c.spare = nil
	if s == nil {
		s = &forwardState{}
	}
	if cap(s.vals) < n {
		s.vals = make(values, n)
	}
	s.vals = s.vals[:n]
	return s
}

// putForward empties s (it keeps no tensor, model or hook alive) and
// keeps it for c's next forward.
func (c *Context) putForward(s *forwardState) {
	clear(s.vals)
	clear(s.ins[:cap(s.ins)])
	s.e = exec{}
	s.lt.stepPlan = nil
	s.lt.refs.reset()
	c.spare = s
}

// values are a forward's node values, indexed by node ID (nil: none, or
// released).
type values []*Tensor

// step is one unit of a forward: the node m.Nodes[i] and the nodes after
// it that its kernel computes too (an inverted residual block, a
// convolution chain, a fused activation and pool). findStep finds it on
// every forward of a model; a frozen model finds its steps once.
type step struct {
	block    *blockNodes // a whole block (the other fields unused)
	chain    convChain   // with isChain: batch norm, add, ReLU after a conv
	isChain  bool
	relu     *Node    // the fused ReLU, or the node of epilogue / int8Hi
	pool     *Node    // the fused max pool
	epilogue Epilogue // with hasEpi: the fused clip/hardswish/hardsigmoid
	hasEpi   bool
	int8Hi   float32 // > 0: the int8 layer's fused clip [0, int8Hi]
	// conv (a frozen model's chains only): the chain's weights, options
	// and batch norm looked up once, with its output scale and shift
	// folded once where the parameters fit (fusedConv.folded); nil: both
	// on every forward.
	conv *fusedConv
}

// absorbed is the number of nodes after the first that the step computes.
func (st *step) absorbed() int {
	switch {
	case st.block != nil:
		return len(st.block.nodes) - 1
	case st.isChain:
		_, count := st.chain.nodes()
		return count
	}
	k := 0
	if st.relu != nil {
		k++
	}
	if st.pool != nil {
		k++
	}
	return k
}

// findStep is the step starting at m.Nodes[i]: what the fusion checks
// find there (readers nil, as with an observing hook: the node alone).
// vals holds the values computed so far.
func findStep(c *Context, m *Model, i int, readers []int, vals values) step {
	var st step
	if readers == nil {
		return st
	}
	inference := !c.opts.Grad && !c.opts.Train
	if inference {
		if st.block = fusedBlock(m, i, readers, vals); st.block != nil {
			return st
		}
		if st.chain, st.isChain = fusedChain(m, i, readers, vals); st.isChain {
			return st
		}
	}
	st.relu = fusedReLU(m, i, readers)
	if st.relu != nil && !c.opts.Grad {
		st.pool = fusedPool(m, i+1, readers)
	}
	if st.relu == nil && !c.opts.Grad {
		st.relu, st.epilogue = fusedEpilogue(m, i, readers)
		st.hasEpi = st.relu != nil
	}
	if st.relu == nil && st.pool == nil && !c.opts.Grad && fusesInt8Pool(c, m.Nodes[i]) {
		st.pool = fusedPool(m, i, readers) // an int8 conv's codes pooled in its epilogue
	}
	if st.relu == nil && st.pool == nil && !c.opts.Grad {
		if st.relu = fusedInt8Clip(c, m, i, readers); st.relu != nil {
			st.int8Hi = st.relu.Attrs.Hi
		}
	}
	return st
}

// runStep runs st, the step at m.Nodes[i], storing the value of every
// node it computes and releasing inputs past their last reader.
func (e *exec) runStep(i int, st *step, vals values, lt *lifetimes) error {
	c, n := e.c, e.m.Nodes[i]
	if st.block != nil {
		v, err := e.runBlock(st.block, vals)
		if err != nil {
			return err
		}
		for _, f := range st.block.nodes { // the block's output stands for each of its nodes
			vals[f.ID] = v
			lt.done(c, f, vals)
		}
		return nil
	}
	if st.isChain {
		v, err := e.runChain(n, st, vals)
		if err != nil {
			return err
		}
		vals[n.ID] = v
		lt.done(c, n, vals)
		fused, count := st.chain.nodes()
		for _, f := range fused[:count] { // their values are the chain's output
			vals[f.ID] = v
			lt.done(c, f, vals)
		}
		return nil
	}
	e.epilogue, e.useEpilogue = st.epilogue, st.hasEpi
	e.int8Hi = st.int8Hi
	e.fuseReLU, e.fusePool = st.relu != nil && !st.hasEpi && st.int8Hi == 0, st.pool != nil
	v, err := e.run(n, vals)
	e.fuseReLU, e.fusePool, e.useEpilogue, e.int8Hi = false, false, false, 0
	if err != nil {
		return err
	}
	vals[n.ID] = v
	lt.done(c, n, vals)
	for _, f := range [...]*Node{st.relu, st.pool} { // the conv's value is already theirs
		if f != nil {
			vals[f.ID] = v
			lt.done(c, f, vals)
		}
	}
	return nil
}

// stepClock times the steps of a forward for Options.NodeTime.
type stepClock struct {
	report func(*Node, time.Duration) // nil: no timing
	shown  []*Node                    // reported in place of m.Nodes[i] (a frozen model's copies); nil: m.Nodes
	n      *Node                      // the running step's first node (as reported)
	start  time.Time
}

// next ends the running step, reporting its time, and starts n's, the
// step at m.Nodes[i] (nil: none).
func (s *stepClock) next(i int, n *Node) {
	if s.report == nil {
		return
	}
	now := time.Now()
	if s.n != nil {
		s.report(s.n, now.Sub(s.start))
	}
	if n != nil && s.shown != nil {
		n = s.shown[i]
	}
	s.n, s.start = n, now
}

// readerCounts returns how many node inputs and model outputs read each
// node, indexed by node ID (IDs outside 0..maxID, a malformed model's,
// are not counted).
func readerCounts(m *Model, maxID int) []int {
	r := make([]int, maxID+1)
	count := func(id int) {
		if id >= 0 && id <= maxID {
			r[id]++
		}
	}
	for _, n := range m.Nodes {
		for _, in := range n.Inputs {
			count(in)
		}
	}
	for _, id := range m.Outputs {
		count(id)
	}
	return r
}

// idRange returns the largest ID m's nodes, their inputs and the model's
// inputs and outputs name, and whether any is outside 0..maxNodeID (a
// malformed model, whose tables would be negative or huge).
func idRange(m *Model) (maxID int, bad bool) {
	limit := maxNodeID(len(m.Nodes))
	see := func(id int) {
		maxID, bad = max(maxID, id), bad || id < 0 || id >= limit
	}
	for _, n := range m.Nodes {
		see(n.ID)
		for _, in := range n.Inputs {
			see(in)
		}
	}
	for _, id := range m.Outputs {
		see(id)
	}
	for _, id := range m.Inputs {
		see(id)
	}
	return maxID, bad
}

// stepPlan is what a forward needs to know about the graph's wiring: who
// reads each value (the fusion checks), where each node sits and its
// value's last reader (lifetimes), and which values are never released.
// It depends on nothing but the node order, each node's ID and inputs,
// and the model's inputs and outputs; it is built once and kept while a
// snapshot of exactly those (node, ids, ins, modelIns, modelOuts) still
// matches the model, checked on every forward. It is never written
// after it is built, so concurrent forwards share it. Its tables are
// indexed by node ID.
type stepPlan struct {
	nodes               []*Node
	ids                 []int
	ins                 [][]int
	modelIns, modelOuts []int

	maxID   int    // the largest node ID read or written
	badIDs  bool   // some ID is outside 0..maxNodeID: the model is malformed (Validate), the tables are empty
	readers []int  // node inputs and model outputs reading each node
	lastUse []int  // index of each node's last reader
	pos     []int  // index of each node in m.Nodes
	keep    []bool // model inputs and outputs
}

// stepPlan returns m's step plan, rebuilding it when the wiring changed.
func (m *Model) stepPlan() *stepPlan {
	if p := m.steps.Load(); p != nil && p.matches(m) {
		return p
	}
	p := newStepPlan(m)
	m.steps.Store(p)
	return p
}

func newStepPlan(m *Model) *stepPlan {
	p := &stepPlan{
		nodes: slices.Clone(m.Nodes), ids: make([]int, len(m.Nodes)), ins: make([][]int, len(m.Nodes)),
		modelIns: slices.Clone(m.Inputs), modelOuts: slices.Clone(m.Outputs),
	}
	for i, n := range m.Nodes {
		p.ids[i], p.ins[i] = n.ID, slices.Clone(n.Inputs)
	}
	if p.maxID, p.badIDs = idRange(m); p.badIDs {
		return p
	}
	n := p.maxID + 1
	p.readers, p.lastUse, p.pos, p.keep = readerCounts(m, p.maxID), make([]int, n), make([]int, n), make([]bool, n)
	for i, n := range m.Nodes {
		p.pos[n.ID] = i
		for _, in := range n.Inputs {
			p.lastUse[in] = i
		}
	}
	for _, id := range m.Outputs {
		p.keep[id] = true
	}
	for _, id := range m.Inputs {
		p.keep[id] = true
	}
	return p
}

// matches reports whether m's wiring is still the one p was built from.
func (p *stepPlan) matches(m *Model) bool {
	if len(m.Nodes) != len(p.nodes) || !slices.Equal(m.Inputs, p.modelIns) || !slices.Equal(m.Outputs, p.modelOuts) {
		return false
	}
	for i, n := range m.Nodes {
		if n != p.nodes[i] || n.ID != p.ids[i] || !slices.Equal(n.Inputs, p.ins[i]) {
			return false
		}
	}
	return true
}

// fusedReLU returns the ReLU node that m.Nodes[i] can absorb: a conv2d
// whose only reader is the next node, a ReLU. Without an observing hook
// nobody sees the convolution's own output, so the pair runs as one
// Conv2dReLU.
func fusedReLU(m *Model, i int, readers []int) *Node {
	n := m.Nodes[i]
	if n.Kind != OpConv2d || i+1 >= len(m.Nodes) || readers[n.ID] != 1 {
		return nil
	}
	next := m.Nodes[i+1]
	if next.Kind != OpReLU || len(next.Inputs) != 1 || next.Inputs[0] != n.ID {
		return nil
	}
	return next
}

// fusedPool returns the max-pool node that the ReLU m.Nodes[i] (itself
// fused into its conv) can absorb too: the next node, its only reader, a
// 2×2 stride-2 unpadded max pool.
func fusedPool(m *Model, i int, readers []int) *Node {
	n := m.Nodes[i]
	if i+1 >= len(m.Nodes) || readers[n.ID] != 1 {
		return nil
	}
	next := m.Nodes[i+1]
	if next.Kind != OpMaxPool2d || len(next.Inputs) != 1 || next.Inputs[0] != n.ID {
		return nil
	}
	o := poolOpts(next.Attrs)
	if o.Kernel != [2]int{2, 2} || (o.Stride != [2]int{2, 2} && o.Stride != [2]int{}) || o.Padding != [2]int{} {
		return nil
	}
	return next
}

// Forward1 runs a one-output model.
func (m *Model) Forward1(c *Context, inputs ...*Tensor) (*Tensor, error) {
	outs, err := m.Forward(c, inputs...)
	return oneOutput(m, outs, err)
}

// oneOutput is Forward1's result from Forward's.
func oneOutput(m *Model, outs []*Tensor, err error) (*Tensor, error) {
	if err != nil {
		return nil, err
	}
	if len(outs) != 1 {
		return nil, fmt.Errorf("ops: model %s has %d outputs, want 1", m.Name, len(outs))
	}
	return outs[0], nil
}

// recoverAt turns a panic while node n is evaluated into an error
// located at n (err is the deferring function's result).
func recoverAt(n *Node, err *error) {
	if r := recover(); r != nil {
		*err = locate(panicToError(r), n)
	}
}

// inputOf returns node n's input i from vals, or an error located at n
// when it has no value.
func inputOf(n *Node, i int, vals values) (*Tensor, error) {
	if v := vals[n.Inputs[i]]; v != nil {
		return v, nil
	}
	return nil, locate(fmt.Errorf("input %d (node %d) has no value", i, n.Inputs[i]), n)
}

// run evaluates one node, turning a panic into an error located at the
// node.
func (e *exec) run(n *Node, vals values) (out *Tensor, err error) {
	defer recoverAt(n, &err)
	spec, ok := kindSpecs[n.Kind]
	if !ok || spec.run == nil {
		return nil, locate(fmt.Errorf("unknown node kind %q", n.Kind), n)
	}
	in := e.inputs(len(n.Inputs))
	int8In := takesInt8(n.Kind) || passesInt8(n.Kind)
	for i := range n.Inputs {
		if in[i], err = inputOf(n, i, vals); err != nil {
			return nil, err
		}
		if n.Kind == OpAdd {
			continue // runAdd takes int8 and channel-last operands as they are
		}
		if !int8In || i > 0 {
			in[i] = e.c.Dequantize(in[i])
		}
	}
	out = e.runPassOr(spec, n, in)
	if e.hook != nil {
		e.hook(n, in, out)
	}
	return out, nil
}

// inputs returns a slice for a node's k input values: the forward's
// reused one (forwardState.ins) where nothing can keep it past the step
// (no gradient tape, no hook), else a new one.
func (e *exec) inputs(k int) []*Tensor {
	if e.ins == nil || e.hook != nil || e.c.opts.Grad {
		return make([]*Tensor, k)
	}
	if cap(*e.ins) < k {
		*e.ins = make([]*Tensor, k)
	}
	return (*e.ins)[:k]
}

// locate attaches a node's name and span to an error.
func locate(err error, n *Node) error {
	var oe *OpError
	if errors.As(err, &oe) {
		cp := *oe
		if cp.Node == "" {
			cp.Node = n.Name
		}
		if !cp.Span.IsValid() {
			cp.Span = n.Span
		}
		return &cp
	}
	return &OpError{Op: string(n.Kind), Node: n.Name, Span: n.Span, Err: err}
}

// lifetimes frees intermediate buffers in no-grad mode: each value is
// released after its last reader, unless a live value shares its storage
// (reshape views) or it is a model input or output. Who reads what comes
// from the model's step plan; only the storage counts are per forward.
type lifetimes struct {
	*stepPlan
	refs storageRefs
}

// start begins a forward of plan whose values so far (the inputs) are
// vals; refs is empty.
func (lt *lifetimes) start(p *stepPlan, vals values) {
	lt.stepPlan = p
	for _, v := range vals {
		if v != nil && len(v.Data) > 0 {
			lt.refs.add(storageOf(v), 1) // never released: the caller owns inputs
		}
	}
}

func (lt *lifetimes) done(c *Context, n *Node, vals values) {
	if lt == nil {
		return
	}
	if v := vals[n.ID]; len(v.Data) > 0 {
		lt.refs.add(storageOf(v), 1)
	}
	i := lt.pos[n.ID]
	for _, in := range n.Inputs {
		if lt.lastUse[in] != i || lt.keep[in] {
			continue
		}
		v := vals[in]
		vals[in] = nil
		if v == nil || len(v.Data) == 0 {
			continue
		}
		if lt.refs.add(storageOf(v), -1) <= 0 {
			c.Release(v)
		}
	}
}
