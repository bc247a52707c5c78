package ops

import "fmt"

// matmulShape is the resolved geometry of a batched matrix product.
type matmulShape struct {
	m, n, k          int
	batch            int
	strideA, strideB int
	out              []int
	alpha            float32 // scales the product (0 is taken as 1)
}

func resolveMatMul(a, b *Tensor, transA, transB bool) matmulShape {
	if a.Dims() < 2 || b.Dims() < 2 {
		shapeErr("matmul", "operands need at least 2 dimensions", a, b)
	}
	ra, rb := a.Dims(), b.Dims()
	m, ka := a.Shape[ra-2], a.Shape[ra-1]
	if transA {
		m, ka = ka, m
	}
	kb, n := b.Shape[rb-2], b.Shape[rb-1]
	if transB {
		kb, n = n, kb
	}
	if ka != kb {
		shapeErr("matmul", fmt.Sprintf("inner dimensions differ (%d vs %d)", ka, kb), a, b)
	}
	s := matmulShape{m: m, n: n, k: ka, strideA: m * ka, strideB: ka * n}
	ba, bb := a.Shape[:ra-2], b.Shape[:rb-2]
	switch {
	case SameShape(ba, bb):
		s.out = append([]int(nil), ba...)
	case Numel(bb) == 1 && len(bb) <= len(ba):
		s.out, s.strideB = append([]int(nil), ba...), 0
	case Numel(ba) == 1 && len(ba) <= len(bb):
		s.out, s.strideA = append([]int(nil), bb...), 0
	default:
		shapeErr("matmul", "batch dimensions must match or one operand must be a single matrix", a, b)
	}
	s.batch = Numel(s.out)
	s.out = append(s.out, m, n)
	return s
}

// MatMul returns op(a)·op(b) over the last two axes, batched over the
// leading ones; op transposes when trans is set. Leading axes must match,
// or one operand must be a single matrix, which is broadcast.
func (c *Context) MatMul(a, b *Tensor, transA, transB bool) *Tensor {
	return c.matMulScaled(a, b, transA, transB, 1)
}

// matMulScaled is alpha·MatMul(a, b): the scale rides on the GEMM (and
// its gradient GEMMs) instead of a separate pass over the product.
func (c *Context) matMulScaled(a, b *Tensor, transA, transB bool, alpha float32) *Tensor {
	s := resolveMatMul(a, b, transA, transB)
	s.alpha = alpha
	y := c.empty(s.out)
	c.gemm(transA, transB, s, a, b, y, 0)
	if c.needsGrad(a, b) {
		c.record(y, func(dy *Tensor) { c.matmulBackward(s, a, b, dy, transA, transB) })
	}
	return y
}

// gemm runs op(a)·op(b) into y, folding the batch into M when b is shared
// and a is not transposed.
func (c *Context) gemm(transA, transB bool, s matmulShape, a, b, y *Tensor, beta float32) {
	p := GemmParams{TransA: transA, TransB: transB, M: s.m, N: s.n, K: s.k, Batch: s.batch,
		StrideA: s.strideA, StrideB: s.strideB, StrideC: s.m * s.n, Alpha: s.scale(), Beta: beta}
	if s.strideB == 0 && s.strideA != 0 && !transA {
		p.M, p.Batch = s.m*s.batch, 1
	}
	check("matmul", c.b.Gemm(p, a, b, y), a, b)
}

func (s matmulShape) scale() float32 {
	if s.alpha == 0 {
		return 1
	}
	return s.alpha
}

func (c *Context) matmulBackward(s matmulShape, a, b, dy *Tensor, transA, transB bool) {
	alpha := s.scale()
	if ga, beta := c.gradDst(a); ga != nil {
		// d op(A) = dY·op(B)ᵀ; for a transposed A, dA = op(B)·dYᵀ.
		if !transA {
			c.gemmGrad(ga, s.strideA, GemmParams{TransB: !transB, M: s.m, N: s.k, K: s.n, Alpha: alpha, Beta: beta}, dy, s.m*s.n, b, s.strideB, s.batch)
		} else {
			c.gemmGrad(ga, s.strideA, GemmParams{TransA: transB, TransB: true, M: s.k, N: s.m, K: s.n, Alpha: alpha, Beta: beta}, b, s.strideB, dy, s.m*s.n, s.batch)
		}
	}
	if gb, beta := c.gradDst(b); gb != nil {
		// d op(B) = op(A)ᵀ·dY; for a transposed B, dB = dYᵀ·op(A).
		if !transB {
			c.gemmGrad(gb, s.strideB, GemmParams{TransA: !transA, M: s.k, N: s.n, K: s.m, Alpha: alpha, Beta: beta}, a, s.strideA, dy, s.m*s.n, s.batch)
		} else {
			c.gemmGrad(gb, s.strideB, GemmParams{TransA: true, TransB: transA, M: s.n, N: s.k, K: s.m, Alpha: alpha, Beta: beta}, dy, s.m*s.n, a, s.strideA, s.batch)
		}
	}
}

// gemmGrad adds p.Alpha times a batched product into g (p.Beta 0
// overwrites a fresh buffer). When g is shared by the whole batch (stride 0) the products are
// summed one batch entry at a time.
func (c *Context) gemmGrad(g *Tensor, gStride int, p GemmParams, x *Tensor, xStride int, y *Tensor, yStride int, batch int) {
	if gStride != 0 || batch == 1 {
		p.Batch, p.StrideA, p.StrideB, p.StrideC = batch, xStride, yStride, gStride
		check("matmul backward", c.b.Gemm(p, x, y, g), x, y)
		return
	}
	for i := range batch {
		xi := &Tensor{Shape: []int{xStride}, Data: x.Data[i*xStride:]}
		yi := &Tensor{Shape: []int{yStride}, Data: y.Data[i*yStride:]}
		p.Batch = 1
		check("matmul backward", c.b.Gemm(p, xi, yi, g), x, y)
		p.Beta = 1
	}
}

// Linear returns x·wᵀ + b for x (..., in), w (out, in) and optional b
// (out): torch.nn.functional.linear.
func (c *Context) Linear(x, w, b *Tensor) *Tensor {
	if x.Dims() < 1 || w.Dims() != 2 || x.Dim(-1) != w.Shape[1] {
		shapeErr("linear", "want x (..., in) and weight (out, in)", x, w)
	}
	out, in := w.Shape[0], w.Shape[1]
	if b != nil && (b.Numel() != out || b.Dims() != 1) {
		shapeErr("linear", fmt.Sprintf("bias must have shape [%d]", out), x, w, b)
	}
	rows := x.Numel() / max(in, 1)
	shape := append(append([]int(nil), x.Shape[:x.Dims()-1]...), out)
	y := c.empty(shape)
	p := GemmParams{TransB: true, M: rows, N: out, K: in, Batch: 1, Alpha: 1}
	check("linear", c.b.Gemm(p, x, w, y), x, w)
	if b != nil {
		check("linear", c.b.Binary(BinaryAdd, y, b, y), x, w, b)
	}
	if c.needsGrad(x, w, b) {
		c.record(y, func(dy *Tensor) { c.linearBackward(x, w, b, dy, rows, in, out) })
	}
	return y
}

func (c *Context) linearBackward(x, w, b, dy *Tensor, rows, in, out int) {
	if g, beta := c.gradDst(x); g != nil {
		p := GemmParams{M: rows, N: in, K: out, Batch: 1, Alpha: 1, Beta: beta}
		check("linear backward", c.b.Gemm(p, dy, w, g), x, w)
	}
	if g, beta := c.gradDst(w); g != nil {
		p := GemmParams{TransA: true, M: out, N: in, K: rows, Batch: 1, Alpha: 1, Beta: beta}
		check("linear backward", c.b.Gemm(p, dy, x, g), x, w)
	}
	if g, beta := c.gradDst(b); g != nil {
		check("linear backward", c.b.SumTo(dy, g, 1, beta), b)
	}
}
