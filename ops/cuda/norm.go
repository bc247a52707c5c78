package cuda

import "github.com/qpipe/qpipe/ops"

// BatchNormStats runs bn_stats_f32, one block per channel.
func (b *Backend) BatchNormStats(p ops.NormParams, x, mean, variance *ops.Tensor) error {
	o := b.begin("batchnorm stats")
	px, pm, pv := o.in("x", x), o.out("mean", mean), o.out("variance", variance)
	if p.C > 0 {
		o.launch("bn_stats_f32", Dim3{p.C, 1, 1}, Dim3{threads, 1, 1}, px, pm, pv, i32(p.Outer), i32(p.C), i32(p.Inner))
	}
	return o.done()
}

// BatchNorm runs bn_f32.
func (b *Backend) BatchNorm(p ops.NormParams, x, mean, invstd, gamma, beta, y *ops.Tensor) error {
	o := b.begin("batchnorm")
	px, pm, pi, pg, pb, py := o.in("x", x), o.in("mean", mean), o.in("invstd", invstd), o.in("gamma", gamma), o.in("beta", beta), o.out("y", y)
	o.launch1("bn_f32", len(y.Data), px, pm, pi, pg, pb, py, i32(p.C), i32(p.Inner), i32(len(y.Data)))
	return o.done()
}

// BatchNormBackward runs bn_bwd_f32, one block per channel.
func (b *Backend) BatchNormBackward(p ops.NormParams, x, mean, invstd, gamma, dy, dx, dgamma, dbeta *ops.Tensor, batchStats bool) error {
	o := b.begin("batchnorm backward")
	px, pm, pi, pg, pdy := o.in("x", x), o.in("mean", mean), o.in("invstd", invstd), o.in("gamma", gamma), o.in("dy", dy)
	pdx, pdg, pdb := o.inout("dx", dx), o.inout("dgamma", dgamma), o.inout("dbeta", dbeta)
	if p.C > 0 {
		o.launch("bn_bwd_f32", Dim3{p.C, 1, 1}, Dim3{threads, 1, 1}, px, pm, pi, pg, pdy, pdx, pdg, pdb,
			i32(p.Outer), i32(p.C), i32(p.Inner), b32(batchStats))
	}
	return o.done()
}

// LayerNorm runs ln_f32, one thread per row.
func (b *Backend) LayerNorm(p ops.NormParams, x, gamma, beta, y, mean, rstd *ops.Tensor) error {
	o := b.begin("layernorm")
	px, pg, pb := o.in("x", x), o.in("gamma", gamma), o.in("beta", beta)
	py, pm, pr := o.out("y", y), o.out("mean", mean), o.out("rstd", rstd)
	o.launch1("ln_f32", p.Outer, px, pg, pb, py, pm, pr, i32(p.Outer), i32(p.C), p.Eps)
	return o.done()
}

// LayerNormBackward runs ln_bwd_dx_f32 (per row) and ln_bwd_params_f32
// (per column).
func (b *Backend) LayerNormBackward(p ops.NormParams, x, mean, rstd, gamma, dy, dx, dgamma, dbeta *ops.Tensor) error {
	o := b.begin("layernorm backward")
	px, pm, pr, pdy := o.in("x", x), o.in("mean", mean), o.in("rstd", rstd), o.in("dy", dy)
	if dx != nil {
		pg, pdx := o.in("gamma", gamma), o.inout("dx", dx)
		o.launch1("ln_bwd_dx_f32", p.Outer, px, pm, pr, pg, pdy, pdx, i32(p.Outer), i32(p.C))
	}
	if dgamma != nil || dbeta != nil {
		pdg, pdb := o.inout("dgamma", dgamma), o.inout("dbeta", dbeta)
		o.launch1("ln_bwd_params_f32", p.C, px, pm, pr, pdy, pdg, pdb, i32(p.Outer), i32(p.C))
	}
	return o.done()
}
