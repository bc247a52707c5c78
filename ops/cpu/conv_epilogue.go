package cpu

import "github.com/qpipe/qpipe/ops"

// The convolution epilogues of imported MobileNets (ReLU6 as clip,
// HardSwish, HardSigmoid): Conv2dAct's tiles with the activation applied
// as each output row is written (ops.ConvEpilogueBackend).

var _ ops.ConvEpilogueBackend = (*Backend)(nil)

// Conv2dEpilogue computes y = act(conv(x, w) + b) for inference, on
// Conv2dAct's tiles (conv2dRows) with act applied as each row is written;
// depthwise convolutions go straight to depthwiseForward, and a clip on
// the direct path is Conv2dFused's clamp.
func (b *Backend) Conv2dEpilogue(p ops.ConvParams, x, w, bias, y *ops.Tensor, act ops.Epilogue) error {
	if depthwise(p) {
		return b.depthwiseForward(p, x, w, bias, y, act)
	}
	if act.Kind == ops.EpilogueNone {
		return b.Conv2d(p, x, w, bias, y)
	}
	if act.Kind == ops.EpilogueClip && directOK(p) { // the direct path's vector output pass clamps
		return b.Conv2dFused(p, x, w, y, ops.ConvFusion{Shift: biasShift(p, bias), Clip: true, Lo: act.Lo, Hi: act.Hi})
	}
	_, err := b.conv2dRows(p, x, w, bias, y, false, func(src, dst []float32, v float32) { epilogueRow(src, dst, v, act) })
	return err
}

// epilogueRow writes y = act(x + b), one loop per kind so that each is a
// plain elementwise loop.
func epilogueRow(x, y []float32, b float32, act ops.Epilogue) {
	y = y[:len(x)]
	switch act.Kind {
	case ops.EpilogueClip:
		biasClipRow(x, y, b, act.Lo, act.Hi)
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
