package ops

// Inference-time convolution chains that end in a max pool: conv2d →
// batch norm → ReLU → max pool (resnet18's stem: 7×7 stride 2, then the
// 3×3 stride-2 pool) as one step, so that a backend can pool each band
// of the convolution's output while it is still in the core's cache
// instead of writing the whole output to memory and reading it back. A
// backend without the fused kernel (or one that declines the shapes)
// runs the chain's convolution, then the pool.

// ConvPoolBackend is an optional Backend extension for a convolution
// chain followed by a max pool at inference.
type ConvPoolBackend interface {
	// ConvPoolFuses reports whether Conv2dFusedMaxPool computes the
	// convolution p with output pass f followed by the max pool pp.
	ConvPoolFuses(p ConvParams, pp PoolParams, f ConvFusion) bool
	// Conv2dFusedMaxPool computes y = maxpool_pp(act(conv(x, w)·Scale +
	// Shift)), the same values as Conv2dFused then MaxPool2dInfer.
	Conv2dFusedMaxPool(p ConvParams, pp PoolParams, x, w, y *Tensor, f ConvFusion) error
}

// chainPool returns m.Nodes[j] where it is a max pool whose only input is
// the node before it, that node's only reader: the pool a convolution
// chain ending in a ReLU absorbs (nil: none).
func chainPool(m *Model, j int, readers []int) *Node {
	if j >= len(m.Nodes) || m.Nodes[j].Kind != OpMaxPool2d {
		return nil
	}
	prev, pool := m.Nodes[j-1], m.Nodes[j]
	if readers[prev.ID] != 1 || len(pool.Inputs) != 1 || pool.Inputs[0] != prev.ID {
		return nil
	}
	return pool
}

// convPoolFused is conv2dFused for a chain f that ends in a max pool: one
// fused step where the backend has it for these shapes, else the fused
// convolution, then the pool. A bad pool window is reported as the pool
// op alone reports it.
func (c *Context) convPoolFused(p ConvParams, fb ConvFusedBackend, f fusedConv) *Tensor {
	conv := &Tensor{Shape: []int{p.N, p.OutC, p.OutH, p.OutW}} // the shape alone, for the pool's geometry
	pp := poolGeometry("maxpool2d", conv, *f.pool)
	scale, shift := f.outPass(p)
	fu := f.fusion(scale, shift)
	pb, ok := c.b.(ConvPoolBackend)
	if !ok || f.res != nil || !pb.ConvPoolFuses(p, pp, fu) {
		return c.MaxPool2d(c.convFusedOut(p, fb, f), *f.pool)
	}
	y := c.empty([]int{pp.N, pp.C, pp.OutH, pp.OutW})
	check("conv2d", pb.Conv2dFusedMaxPool(p, pp, f.x, f.w, y, fu), f.x, f.w)
	return y
}
