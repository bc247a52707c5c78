package ops

import "slices"

// Inference-time inverted residual blocks (MobileNetV2): a 1×1 expansion
// with its activation (absent in a block that does not expand), a
// depthwise convolution with its activation and a 1×1 projection [+ the
// residual add], handed to the backend as one ConvBlock so that it can run
// the convolutions band of rows by band of rows and keep the expanded
// activations (6x the block's channels) in cache instead of writing them
// to memory and reading them back twice. The outputs are those of the
// convolutions run one after the other (the CPU backend's bands give the
// same bits; its channel parts for blocks too short to band differ by the
// order of the projection's sum).

// ConvStage is one convolution of a ConvBlock: geometry, weights, bias
// (nil: none) and the activation applied as it writes its output.
type ConvStage struct {
	P    ConvParams
	W, B *Tensor
	Act  Epilogue
}

// ConvBlock is y = Project(Depthwise(Expand(x))) + Res (Res nil: none;
// Expand.W nil: no expansion, x is the depthwise convolution's input).
type ConvBlock struct {
	X                          *Tensor
	Expand, Depthwise, Project ConvStage
	Res, Y                     *Tensor
}

// ConvBlockBackend is an optional Backend extension for inference: it
// computes a ConvBlock in one call, or reports false (and writes nothing)
// where it does not take the block's geometry.
type ConvBlockBackend interface {
	ConvBlock(b ConvBlock) (bool, error)
}

// blockNodes is a block fusedBlock found: its nodes in graph order.
type blockNodes struct {
	nodes  []*Node // [conv, act,] grouped conv, act, conv [, add]
	expand bool    // the block starts with an expansion (conv, act)
	res    int     // the add's other input (node ID); -1 without an add
}

// fusedBlock returns the inverted residual block starting at the conv2d
// m.Nodes[i]: [conv2d → activation →] grouped conv2d → activation →
// conv2d [→ add], each node the next one and the only reader of the one
// before, the add's other operand already computed (in vals). Nil
// otherwise.
func fusedBlock(m *Model, i int, readers []int, vals values) *blockNodes {
	conv := func(j int, grouped bool) bool {
		if j >= len(m.Nodes) {
			return false
		}
		n := m.Nodes[j]
		return n.Kind == OpConv2d && len(n.Inputs) == 1 && (n.Attrs.Groups > 1) == grouped &&
			(j == i || n.Inputs[0] == m.Nodes[j-1].ID)
	}
	act := func(j int) bool { // conv j's activation, read by conv j+2 only
		a, _ := fusedEpilogue(m, j, readers)
		return a != nil && readers[a.ID] == 1
	}
	b := blockNodes{res: -1} // on the stack until a block is found
	dw := i
	if conv(i, false) && act(i) && conv(i+2, true) {
		b.expand, dw = true, i+2
	}
	if !conv(dw, true) || !act(dw) || !conv(dw+2, false) {
		return nil
	}
	end, last := dw+3, m.Nodes[dw+2].ID
	if end < len(m.Nodes) && readers[last] == 1 {
		if add := m.Nodes[end]; add.Kind == OpAdd && len(add.Inputs) == 2 {
			x, r := add.Inputs[0], add.Inputs[1]
			if r == last {
				x, r = r, x
			}
			if x == last && r != last && vals[r] != nil {
				b.res, end = r, end+1
			}
		}
	}
	b.nodes = m.Nodes[i:end]
	found := b
	return &found
}

// stage returns conv2d node n's weight, bias and options.
func (e *exec) stage(n *Node) (w, b *Tensor, o Conv2dOptions) {
	a := n.Attrs
	o = Conv2dOptions{Stride: pair(a.Stride, 1), Padding: pair(a.Padding, 0), Dilation: pair(a.Dilation, 1), Groups: a.Groups}
	return e.mustParam(n, nil, "weight"), e.param(n, nil, "bias"), o
}

// runBlock evaluates the block bl: in one backend call where the backend
// takes it; else, for a block with an expansion, the expansion alone and
// the rest in one call where the backend takes that; else as its
// convolutions one after the other.
func (e *exec) runBlock(bl *blockNodes, vals values) (out *Tensor, err error) {
	n := bl.nodes[0]
	defer recoverAt(n, &err)
	x, err := inputOf(n, 0, vals)
	if err != nil {
		return nil, err
	}
	var w1, b1 *Tensor
	var o1 Conv2dOptions
	var act1 Epilogue
	st := bl.nodes
	if bl.expand {
		w1, b1, o1 = e.stage(st[0])
		act1, _ = epilogueOf(st[1])
		st = st[2:]
	}
	w2, b2, o2 := e.stage(st[0])
	act2, _ := epilogueOf(st[1])
	w3, b3, o3 := e.stage(st[2])
	var res *Tensor
	if bl.res >= 0 {
		res = e.c.Dequantize(vals[bl.res])
	}
	x = e.c.Dequantize(x)
	if y := e.c.convBlock(x, res, [3]*Tensor{w1, w2, w3}, [3]*Tensor{b1, b2, b3}, [3]Conv2dOptions{o1, o2, o3}, act1, act2); y != nil {
		return y, nil
	}
	h1 := x
	if bl.expand { // the backend may still take the rest (a 3×3 stem before a depthwise one)
		h1 = e.c.conv2dEpilogue(x, w1, b1, o1, act1)
		if y := e.c.convBlock(h1, res, [3]*Tensor{nil, w2, w3}, [3]*Tensor{nil, b2, b3}, [3]Conv2dOptions{{}, o2, o3}, Epilogue{}, act2); y != nil {
			e.c.Release(h1)
			return y, nil
		}
	}
	h2 := e.c.conv2dEpilogue(h1, w2, b2, o2, act2)
	if bl.expand {
		e.c.Release(h1)
	}
	if res == nil {
		out = e.c.Conv2d(h2, w3, b3, o3)
	} else {
		out = e.c.conv2dFused(fusedConv{x: h2, w: w3, b: b3, o: o3, res: res})
	}
	e.c.Release(h2)
	return out, nil
}

// convBlock computes the block in one ConvBlockBackend call, or returns
// nil where the backend has none or does not take it (then nothing is
// computed). w[0] nil: no expansion.
func (c *Context) convBlock(x, res *Tensor, w, b [3]*Tensor, o [3]Conv2dOptions, act1, act2 Epilogue) *Tensor {
	fb, ok := c.b.(ConvBlockBackend)
	if !ok || c.opts.Train || c.needsGrad(x, w[0], w[1], w[2], b[0], b[1], b[2]) {
		return nil
	}
	var st [3]ConvStage
	in := x
	for k := range 3 {
		if w[k] == nil { // no expansion
			continue
		}
		p, err := ConvGeometry(in, w[k], o[k])
		if err != nil || (b[k] != nil && (b[k].Dims() != 1 || b[k].Numel() != p.OutC)) {
			return nil // the ops path reports the error
		}
		st[k] = ConvStage{P: p, W: w[k], B: b[k]}
		in = &Tensor{Shape: []int{p.N, p.OutC, p.OutH, p.OutW}}
	}
	st[0].Act, st[1].Act = act1, act2
	p := st[2].P
	shape := []int{p.N, p.OutC, p.OutH, p.OutW}
	if res != nil && !slices.Equal(res.Shape, shape) {
		return nil
	}
	y := c.empty(shape)
	done, err := fb.ConvBlock(ConvBlock{X: x, Expand: st[0], Depthwise: st[1], Project: st[2], Res: res, Y: y})
	check("conv2d", err, x, w[1])
	if !done {
		c.Release(y)
		return nil
	}
	return y
}
