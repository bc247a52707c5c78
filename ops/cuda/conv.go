package cuda

import (
	"github.com/qpipe/qpipe/ops"
)

// convArg is kernels/conv.cu's Conv.
type convArg struct {
	N, C, H, W             int32
	OutC, KH, KW           int32
	SH, SW, PH, PW, DH, DW int32
	Groups, OH, OW         int32
}

func convArgOf(p ops.ConvParams) convArg {
	return convArg{i32(p.N), i32(p.C), i32(p.H), i32(p.W), i32(p.OutC), i32(p.KH), i32(p.KW),
		i32(p.StrideH), i32(p.StrideW), i32(p.PadH), i32(p.PadW), i32(max(p.DilH, 1)), i32(max(p.DilW, 1)),
		i32(max(p.Groups, 1)), i32(p.OutH), i32(p.OutW)}
}

// convGeom are the sizes of one image's im2col product per group.
type convGeom struct {
	g, cg, outCg, kk, l int // groups, channels and outputs per group, KH·KW, OutH·OutW
	ckk                 int // C·KH·KW: rows of the columns
}

func geomOf(p ops.ConvParams) convGeom {
	g := max(p.Groups, 1)
	kk := p.KH * p.KW
	return convGeom{g: g, cg: p.C / g, outCg: p.OutC / g, kk: kk, l: p.OutH * p.OutW, ckk: p.C * kk}
}

// Conv2d: per image, im2col then one GEMM per group (batched over groups
// in grid.z), then the bias.
func (b *Backend) Conv2d(p ops.ConvParams, x, w, bias, y *ops.Tensor) error {
	o := b.begin("conv2d")
	px, pw, py := o.in("x", x), o.in("weight", w), o.out("y", y)
	pb := o.in("bias", bias)
	g := geomOf(p)
	cols := o.scratch("im2col columns", g.ckk*g.l)
	ca := convArgOf(p)
	imgIn, imgOut := 4*p.C*p.H*p.W, 4*p.OutC*g.l
	for n := range p.N {
		o.launch1("im2col_f32", g.ckk*g.l, px.Add(n*imgIn), cols, ca)
		o.gemm(ops.GemmParams{M: g.outCg, N: g.l, K: g.cg * g.kk, Batch: g.g,
			StrideA: g.outCg * g.cg * g.kk, StrideB: g.cg * g.kk * g.l, StrideC: g.outCg * g.l, Alpha: 1},
			pw, cols, py.Add(n*imgOut))
	}
	if bias != nil {
		o.launch1("bias_add_f32", len(y.Data), py, pb, i32(p.OutC), i32(g.l), i32(len(y.Data)))
	}
	return o.done()
}

// Conv2dBackward: db by a reduction over images and positions; dw by
// GEMMs accumulated image after image; dx by GEMMs into column gradients
// and col2im.
func (b *Backend) Conv2dBackward(p ops.ConvParams, x, w, dy, dx, dw, db *ops.Tensor) error {
	o := b.begin("conv2d backward")
	g := geomOf(p)
	pdy := o.in("dy", dy)
	if db != nil {
		pdb := o.inout("dbias", db)
		o.sumTo([]int{p.N, p.OutC, g.l}, []int{p.OutC, 1}, pdy, pdb, 1, 1)
	}
	if dw == nil && dx == nil {
		return o.done()
	}
	ca := convArgOf(p)
	cols := o.scratch("im2col columns", g.ckk*g.l)
	imgIn, imgOut := 4*p.C*p.H*p.W, 4*p.OutC*g.l
	if dw != nil {
		px, pdw := o.in("x", x), o.inout("dweight", dw)
		for n := range p.N {
			o.launch1("im2col_f32", g.ckk*g.l, px.Add(n*imgIn), cols, ca)
			o.gemm(ops.GemmParams{TransB: true, M: g.outCg, N: g.cg * g.kk, K: g.l, Batch: g.g,
				StrideA: g.outCg * g.l, StrideB: g.cg * g.kk * g.l, StrideC: g.outCg * g.cg * g.kk, Alpha: 1, Beta: 1},
				pdy.Add(n*imgOut), cols, pdw)
		}
	}
	if dx != nil {
		pw, pdx := o.in("weight", w), o.inout("dx", dx)
		for n := range p.N {
			o.gemm(ops.GemmParams{TransA: true, M: g.cg * g.kk, N: g.l, K: g.outCg, Batch: g.g,
				StrideA: g.outCg * g.cg * g.kk, StrideB: g.outCg * g.l, StrideC: g.cg * g.kk * g.l, Alpha: 1},
				pw, pdy.Add(n*imgOut), cols)
			o.launch1("col2im_f32", p.C*p.H*p.W, cols, pdx.Add(n*imgIn), ca)
		}
	}
	return o.done()
}

func poolArg(p ops.PoolParams) convArg {
	return convArg{N: i32(p.N), C: i32(p.C), H: i32(p.H), W: i32(p.W), KH: i32(p.KH), KW: i32(p.KW),
		SH: i32(p.StrideH), SW: i32(p.StrideW), PH: i32(p.PadH), PW: i32(p.PadW), DH: 1, DW: 1, Groups: 1,
		OH: i32(p.OutH), OW: i32(p.OutW)}
}

// MaxPool2d runs maxpool_f32.
func (b *Backend) MaxPool2d(p ops.PoolParams, x, y *ops.Tensor, argmax []int32) error {
	o := b.begin("maxpool2d")
	px, py, pa := o.in("x", x), o.out("y", y), o.i32("argmax", argmax, true)
	o.launch1("maxpool_f32", len(y.Data), px, py, pa, poolArg(p))
	return o.done()
}

// MaxPool2dBackward runs maxpool_bwd_f32 (a gather over each input's
// windows).
func (b *Backend) MaxPool2dBackward(p ops.PoolParams, dy *ops.Tensor, argmax []int32, dx *ops.Tensor) error {
	o := b.begin("maxpool2d backward")
	pdy, pa, pdx := o.in("dy", dy), o.i32("argmax", argmax, false), o.inout("dx", dx)
	o.launch1("maxpool_bwd_f32", len(dx.Data), pdy, pa, pdx, poolArg(p))
	return o.done()
}

// AvgPool2d runs avgpool_f32.
func (b *Backend) AvgPool2d(p ops.PoolParams, x, y *ops.Tensor) error {
	o := b.begin("avgpool2d")
	px, py := o.in("x", x), o.out("y", y)
	o.launch1("avgpool_f32", len(y.Data), px, py, poolArg(p), b32(p.CountIncludePad))
	return o.done()
}

// AvgPool2dBackward runs avgpool_bwd_f32.
func (b *Backend) AvgPool2dBackward(p ops.PoolParams, dy, dx *ops.Tensor) error {
	o := b.begin("avgpool2d backward")
	pdy, pdx := o.in("dy", dy), o.inout("dx", dx)
	o.launch1("avgpool_bwd_f32", len(dx.Data), pdy, pdx, poolArg(p), b32(p.CountIncludePad))
	return o.done()
}
