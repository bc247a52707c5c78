package ops

import "slices"

// Inference-time convolution chains: conv2d [→ batchnorm] [→ add] [→ relu]
// run as one convolution whose output pass applies the evaluation batch
// norm as a per-channel scale and shift (conv·scale + shift, the bias
// folded into the shift), adds the residual and applies the ReLU: the
// batch norm, the add and the ReLU never make passes of their own. The
// scale and shift are computed from the current parameters on every
// forward (a few numbers per channel), so training the model and
// evaluating it again needs no invalidation.

// ConvFusion is what a fused convolution applies as it writes its output:
// y = act(conv(x, w)·Scale[oc] + Shift[oc] + Res), act ReLU or identity.
type ConvFusion struct {
	Scale, Shift []float32 // per output channel; Scale nil means 1
	Res          *Tensor   // added before the activation (y's shape); nil: none
	ReLU         bool
	// Clip clamps the outputs to [Lo, Hi] after everything else (an
	// imported MobileNet's ReLU6 is Clip with Lo 0, Hi 6).
	Clip   bool
	Lo, Hi float32
}

// ConvFusedBackend is an optional Backend extension for inference
// convolution chains (see ConvFusion).
type ConvFusedBackend interface {
	Conv2dFused(p ConvParams, x, w, y *Tensor, f ConvFusion) error
}

// convChain is a chain fusedChain found: the nodes after the conv2d that
// its output pass computes.
type convChain struct {
	bn, add, relu *Node
	pool          *Node // a max pool after the ReLU (convPoolChain); nil: none
	res           int   // the add's other input (node ID)
}

// nodes returns the chain's nodes after the convolution, in graph order,
// and how many there are (the array's first count entries; no allocation
// per forward).
func (ch *convChain) nodes() (out [4]*Node, count int) {
	for _, n := range [...]*Node{ch.bn, ch.add, ch.relu, ch.pool} {
		if n != nil {
			out[count], count = n, count+1
		}
	}
	return out, count
}

// fusedChain returns the batch norm, residual add and ReLU that the conv2d
// m.Nodes[i] absorbs at inference (no gradients, evaluation statistics,
// no observing hook): each the next node and the only reader of the one
// before, the add's other operand already computed (in vals), and a max
// pool after the ReLU (chainPool; an imported stem's batch norm is folded
// into the conv's bias: conv → ReLU → pool). ok is false unless the
// chain has a batch norm, an add or such a pool (a lone ReLU, and a
// ReLU then a 2×2 pool, fuse as before: fusedReLU, fusedPool). A value,
// so the check allocates nothing per forward.
func fusedChain(m *Model, i int, readers []int, vals values) (convChain, bool) {
	n := m.Nodes[i]
	if n.Kind != OpConv2d || len(n.Inputs) != 1 {
		return convChain{}, false
	}
	var ch convChain
	last, j := n.ID, i+1
	next := func(kind OpKind) *Node {
		if j >= len(m.Nodes) || readers[last] != 1 || m.Nodes[j].Kind != kind {
			return nil
		}
		return m.Nodes[j]
	}
	if bn := next(OpBatchNorm); bn != nil && len(bn.Inputs) == 1 && bn.Inputs[0] == last {
		ch.bn, last, j = bn, bn.ID, j+1
	}
	if add := next(OpAdd); add != nil && len(add.Inputs) == 2 {
		a, b := add.Inputs[0], add.Inputs[1]
		if b == last {
			a, b = b, a
		}
		if a == last && b != last && vals[b] != nil {
			ch.add, ch.res, last, j = add, b, add.ID, j+1
		}
	}
	if relu := next(OpReLU); relu != nil && len(relu.Inputs) == 1 && relu.Inputs[0] == last {
		ch.relu = relu
		if ch.bn != nil || ch.add != nil || fusedPool(m, j, readers) == nil { // a bare conv → ReLU → 2×2 pool fuses as before
			ch.pool = chainPool(m, j+1, readers)
		}
	}
	if ch.bn == nil && ch.add == nil && ch.pool == nil {
		return convChain{}, false
	}
	return ch, true
}

// runChain evaluates conv2d node n with the chain of st fused into it.
func (e *exec) runChain(n *Node, st *step, vals values) (out *Tensor, err error) {
	defer recoverAt(n, &err)
	x, err := inputOf(n, 0, vals)
	if err != nil {
		return nil, err
	}
	ch := &st.chain
	var f fusedConv
	if st.conv != nil {
		f = *st.conv
	} else {
		f = e.chainConv(n, ch)
	}
	f.x = e.c.Dequantize(x)
	if ch.add != nil {
		f.res = e.c.Dequantize(vals[ch.res])
	}
	return e.c.conv2dFused(f), nil
}

// chainConv is conv2d node n's fused chain ch without its input and
// residual: weights, options, batch norm, ReLU.
func (e *exec) chainConv(n *Node, ch *convChain) fusedConv {
	a := n.Attrs
	o := Conv2dOptions{Stride: pair(a.Stride, 1), Padding: pair(a.Padding, 0), Dilation: pair(a.Dilation, 1), Groups: a.Groups}
	f := fusedConv{w: e.mustParam(n, nil, "weight"), b: e.param(n, nil, "bias"), o: o, relu: ch.relu != nil}
	if ch.pool != nil {
		po := poolOpts(ch.pool.Attrs)
		f.pool = &po
	}
	if ch.bn != nil {
		f.bn = bnEval{on: true, gamma: e.param(ch.bn, nil, "weight"), beta: e.param(ch.bn, nil, "bias"),
			mean: e.param(ch.bn, nil, "running_mean"), variance: e.param(ch.bn, nil, "running_var"),
			o: BatchNormOptions{Momentum: ch.bn.Attrs.Momentum, Eps: ch.bn.Attrs.Eps}}
	}
	return f
}

// bnEval is an evaluation batch norm's parameters (a value in fusedConv,
// so a forward's chains allocate none; on says there is one).
type bnEval struct {
	on                          bool
	gamma, beta, mean, variance *Tensor
	o                           BatchNormOptions
}

// fusedConv is one fused convolution chain's operands.
type fusedConv struct {
	x, w, b *Tensor
	o       Conv2dOptions
	bn      bnEval  // bn.on false: none
	res     *Tensor // nil: none
	relu    bool
	folded  *affine      // the output pass's scale and shift, computed once (a frozen model); nil: per call
	pool    *PoolOptions // the max pool after the chain (convPoolChain); nil: none
}

// affine is a fused chain's output pass: per output channel, scale (nil:
// 1) and shift.
type affine struct{ scale, shift []float32 }

// conv2dFused computes the chain f in one convolution where the backend
// implements ConvFusedBackend (and the residual has the output's shape),
// and op by op otherwise.
func (c *Context) conv2dFused(f fusedConv) *Tensor {
	p, err := ConvGeometry(f.x, f.w, f.o)
	if err != nil {
		shapeErr("conv2d", err.Error(), f.x, f.w)
	}
	shape := []int{p.N, p.OutC, p.OutH, p.OutW}
	fb, ok := c.b.(ConvFusedBackend)
	if !ok || (f.res != nil && !slices.Equal(f.res.Shape, shape)) || (f.b != nil && f.b.Numel() != p.OutC) ||
		(f.bn.on && !f.bn.fits(p.OutC)) || c.opts.Train || c.needsGrad(f.x, f.w, f.b) {
		return c.convChainOps(f)
	}
	if f.pool != nil {
		return c.convPoolFused(p, fb, f)
	}
	return c.convFusedOut(p, fb, f)
}

// convFusedOut is conv2dFused's one fused convolution, without the pool.
func (c *Context) convFusedOut(p ConvParams, fb ConvFusedBackend, f fusedConv) *Tensor {
	shape := []int{p.N, p.OutC, p.OutH, p.OutW}
	scale, shift := f.outPass(p)
	y := c.empty(shape)
	check("conv2d", fb.Conv2dFused(p, f.x, f.w, y, f.fusion(scale, shift)), f.x, f.w)
	return y
}

// fusion is the output pass of f with the given scale and shift.
func (f fusedConv) fusion(scale, shift []float32) ConvFusion {
	return ConvFusion{Scale: scale, Shift: shift, Res: f.res, ReLU: f.relu}
}

// outPass returns f's per-channel scale (nil: 1) and shift: folded once
// (a frozen model) or computed now.
func (f fusedConv) outPass(p ConvParams) (scale, shift []float32) {
	if f.folded != nil && len(f.folded.shift) == p.OutC {
		return f.folded.scale, f.folded.shift
	}
	return f.affine(p.OutC)
}

// convChainOps is the chain's ops one after the other.
func (c *Context) convChainOps(f fusedConv) *Tensor {
	y := c.Conv2d(f.x, f.w, f.b, f.o)
	if f.bn.on {
		y = c.BatchNorm(y, f.bn.gamma, f.bn.beta, f.bn.mean, f.bn.variance, f.bn.o)
	}
	if f.res != nil {
		y = c.binary(BinaryAdd, y, f.res)
	}
	if f.relu {
		y = c.ReLU(y)
	}
	if f.pool != nil {
		y = c.MaxPool2d(y, *f.pool)
	}
	return y
}

// fits reports whether every per-channel tensor has n values (and the
// running statistics exist); otherwise the ops path reports the error.
func (bn *bnEval) fits(n int) bool {
	if bn.mean == nil || bn.variance == nil {
		return false
	}
	for _, t := range []*Tensor{bn.gamma, bn.beta, bn.mean, bn.variance} {
		if t != nil && t.Numel() != n {
			return false
		}
	}
	return true
}

// affine returns the output pass's per-channel scale (nil: 1) and shift:
// without a batch norm the bias; with one, BN(conv + b) = conv·s +
// (b - mean)·s + beta with s = gamma/sqrt(var + eps), as BatchNorm's
// evaluation computes it.
func (f fusedConv) affine(n int) (scale, shift []float32) {
	if !f.bn.on {
		shift = make([]float32, n)
	} else { // one allocation for both
		both := make([]float32, 2*n)
		shift, scale = both[:n:n], both[n:]
	}
	if f.b != nil {
		copy(shift, f.b.Data)
	}
	if !f.bn.on {
		return nil, shift
	}
	o := f.bn.o.withDefaults()
	invStd(f.bn.variance.Data, scale, o.Eps)
	for i := range scale {
		s := scale[i]
		if f.bn.gamma != nil {
			s *= f.bn.gamma.Data[i]
		}
		t := (shift[i] - f.bn.mean.Data[i]) * s
		if f.bn.beta != nil {
			t += f.bn.beta.Data[i]
		}
		scale[i], shift[i] = s, t
	}
	return scale, shift
}
