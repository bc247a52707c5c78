package cpu

import "github.com/qpipe/qpipe/ops"

// The convolution epilogues of imported MobileNets (ReLU6 as clip,
// HardSwish, HardSigmoid): Conv2dAct's tiles with the activation applied
// as each output row is written (ops.ConvEpilogueBackend).

var _ ops.ConvEpilogueBackend = (*Backend)(nil)

// Conv2dEpilogue computes y = act(conv(x, w) + b) for inference.
func (b *Backend) Conv2dEpilogue(p ops.ConvParams, x, w, bias, y *ops.Tensor, act ops.Epilogue) error {
	if act.Kind == ops.EpilogueNone {
		return b.Conv2d(p, x, w, bias, y)
	}
	nb := convTile(p)
	K, L := p.C*p.KH*p.KW, p.OutH*p.OutW
	b.tiles((p.N+nb-1)/nb, func(ti int, st *tileState) {
		n0 := ti * nb
		cnt := min(nb, p.N-n0)
		if st.col == nil {
			st.col, st.t = b.tmp.get(K*nb*L), b.tmp.get(p.OutC*nb*L)
		}
		col, t := st.col[:K*cnt*L], st.t[:p.OutC*cnt*L]
		im2col(p, x.Data, n0, cnt, col)
		groupGemm(p, false, w.Data, col, t, cnt*L)
		for img := range cnt {
			for oc := range p.OutC {
				var v float32
				if bias != nil {
					v = bias.Data[oc]
				}
				epilogueRow(t[oc*cnt*L+img*L:][:L], y.Data[((n0+img)*p.OutC+oc)*L:][:L], v, act)
			}
		}
	}, func(st *tileState) {
		if st.col != nil {
			b.tmp.put(st.col)
			b.tmp.put(st.t)
		}
	})
	return nil
}

// epilogueRow writes y = act(x + b), one loop per kind so that each is a
// plain elementwise loop.
func epilogueRow(x, y []float32, b float32, act ops.Epilogue) {
	y = y[:len(x)]
	switch act.Kind {
	case ops.EpilogueClip:
		lo, hi := act.Lo, act.Hi
		for i, v := range x {
			y[i] = min(max(v+b, lo), hi)
		}
	case ops.EpilogueHardswish:
		for i, v := range x {
			v += b
			y[i] = v * min(max(v+3, 0), 6) / 6
		}
	case ops.EpilogueHardSigmoid:
		a, c := act.Alpha, act.Beta
		for i, v := range x {
			y[i] = min(max(a*(v+b)+c, 0), 1)
		}
	default:
		for i, v := range x {
			y[i] = act.Apply(v + b)
		}
	}
}
