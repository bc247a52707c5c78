package ops

import "fmt"

// Int8 codes through pooling and flattening (and clips, see int8_dw.go).
//
// Max pooling commutes with requantization (rounding and saturation are
// monotone), so a layer feeding max pools (and flattens) that feed int8
// layers can requantize straight into their input scale: the pools then
// take the maximum of the codes and flatten relabels them, and no float
// value is made between the two layers (conv → ReLU → pool → conv in a
// CNN). Without the backend's int8 pool the node dequantizes as before.

// Int8PoolBackend is implemented by backends that max-pool int8 codes.
type Int8PoolBackend interface {
	// MaxPool2dInt8 writes the windowed maximum of int8 x into y, both
	// NCHW or, with nhwc, both channel-last (N, H, W, C); padding never
	// wins (as -Inf in float pooling).
	MaxPool2dInt8(p PoolParams, x, y []int8, nhwc bool) error
}

// Int8ConvPoolBackend is implemented by backends that fuse a 2×2
// stride-2 max pool into an int8 convolution with int8 output.
type Int8ConvPoolBackend interface {
	// Conv2dInt8Pool2 is Int8ConvBackend.Conv2dInt8 with int8 output
	// followed by MaxPool2dInt8 (2×2, stride 2, no padding) of the codes,
	// written channel-last (N, OutH/2, OutW/2, OutC).
	Conv2dInt8Pool2(p ConvParams, x []int8, nhwcIn bool, w PackedInt8, ep Int8Epilogue, outQ []int8) error
}

// passesInt8 reports whether a node kind passes int8 codes through in
// their scale.
func passesInt8(k OpKind) bool { return k == OpMaxPool2d || k == OpFlatten || k == OpClip }

// runInt8Pass runs a max pool or flatten on int8 x; ok is false when x is
// float or the backend has no int8 pool (the caller runs it in float).
func (e *exec) runInt8Pass(n *Node, x *Tensor) (y *Tensor, ok bool) {
	if x.q == nil {
		return nil, false
	}
	switch n.Kind {
	case OpClip:
		return e.clipInt8(n, x), true // see int8_dw.go
	case OpFlatten:
		start := n.Attrs.Axis
		if start < 0 {
			start += x.Dims()
		}
		if start < 0 || start >= x.Dims() {
			shapeErr("flatten", fmt.Sprintf("start axis %d out of range", n.Attrs.Axis), x)
		}
		shape := append(append([]int(nil), x.Shape[:start]...), x.Numel()/prod(x.Shape[:start]))
		if q, s, nhwc := x.int8Raw(); nhwc && start == 1 && x.Dims() == 4 {
			// Channel-last codes stay so: a qlinear reading them permutes
			// its weight once (runQLinear); anything else gets NCHW order
			// from Int8.
			y := newInt8NHWC(q, s, shape...)
			y.qflat = x.Shape[1]
			return y, true
		}
		q, s, _ := x.Int8() // NCHW order: flatten's element order
		return NewInt8(q, s, shape...), true
	case OpMaxPool2d:
		pb, ok := e.c.b.(Int8PoolBackend)
		if !ok {
			return nil, false
		}
		q, s, nhwc := x.int8Raw()
		p := poolGeometry("maxpool2d", x, poolOpts(n.Attrs))
		out := e.c.int8s(p.N * p.C * p.OutH * p.OutW) // every code is written
		check("maxpool2d", pb.MaxPool2dInt8(p, q, out, nhwc), x)
		if nhwc {
			return newInt8NHWC(out, s, p.N, p.C, p.OutH, p.OutW), true
		}
		return NewInt8(out, s, p.N, p.C, p.OutH, p.OutW), true
	}
	return nil, false
}

// runPassOr runs n with spec, except a max pool or flatten of int8
// codes, which runInt8Pass keeps int8 when it can (else they are
// dequantized first), and an add (runAdd).
func (e *exec) runPassOr(spec kindSpec, n *Node, in []*Tensor) *Tensor {
	if n.Kind == OpAdd {
		return e.runAdd(spec, n, in)
	}
	if !passesInt8(n.Kind) || len(in) == 0 {
		return spec.run(e, n, in)
	}
	if y, ok := e.runInt8Pass(n, in[0]); ok {
		return y
	}
	in[0] = e.c.Dequantize(in[0])
	return spec.run(e, n, in)
}

func prod(v []int) int {
	n := 1
	for _, d := range v {
		n *= d
	}
	return n
}

// passInt8Scale is commonInt8Scale for a pass-through consumer c of n: the
// scale its own readers share, or 0.
func (m *Model) passInt8Scale(n, c *Node) float32 {
	if !passesInt8(c.Kind) || len(c.Inputs) != 1 || c.Inputs[0] != n.ID {
		return 0
	}
	return m.commonInt8Scale(c)
}

// fusesInt8Pool reports whether n is a qconv2d writing int8 codes on a
// backend that can pool them in the convolution (Int8ConvPoolBackend).
func fusesInt8Pool(c *Context, n *Node) bool {
	return n.Kind == OpQConv2d && n.Attrs.OutScale > 0 && poolsInt8(c.b)
}

// poolsInt8 reports whether b pools int8 convolutions' codes in their
// epilogue.
func poolsInt8(b Backend) bool {
	if !b.Capabilities().Int8 {
		return false
	}
	_, conv := b.(Int8ConvBackend)
	_, pool := b.(Int8ConvPoolBackend)
	return conv && pool
}

// Int8ClampBackend is implemented by backends whose int8 epilogues honor
// Int8Epilogue.Hi (a fused clip).
type Int8ClampBackend interface {
	Int8Clamps() bool
}

// clampsInt8 reports whether b's int8 epilogues honor Int8Epilogue.Hi.
func clampsInt8(b Backend) bool {
	cb, ok := b.(Int8ClampBackend)
	return ok && cb.Int8Clamps()
}

// fusedInt8Clip returns the clip [0, Hi] (ReLU6) node that the int8 layer
// m.Nodes[i] can absorb at inference: the next node, its only reader, on
// a backend that clamps int8 epilogues.
func fusedInt8Clip(c *Context, m *Model, i int, readers []int) *Node {
	n := m.Nodes[i]
	if (n.Kind != OpQConv2d && n.Kind != OpQLinear) || i+1 >= len(m.Nodes) || readers[n.ID] != 1 {
		return nil
	}
	if !clampsInt8(c.b) {
		return nil
	}
	next := m.Nodes[i+1]
	if next.Kind != OpClip || len(next.Inputs) != 1 || next.Inputs[0] != n.ID || next.Attrs.Lo != 0 || !(next.Attrs.Hi > 0) {
		return nil
	}
	return next
}
