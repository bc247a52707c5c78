package ops

import (
	"fmt"
	"math"
)

// Int8 depthwise convolution and int8 clips.
//
// A depthwise qconv2d (groups = C = OutC: one 1-channel filter per
// channel, MobileNet's 3×3 layers) accumulates each output code exactly
// in int32 as Σ x·w over its window, then applies the layer's
// Int8Epilogue like any qconv2d. It reads channel-last int8 codes and
// writes channel-last int8 codes, so a depthwise layer between two int8
// 1×1 convolutions makes no float value. A backend with
// Int8DepthwiseBackend runs it; otherwise (and for float outputs)
// DepthwiseInt8Go does.
//
// A clip between int8 layers (ReLU6) passes codes: rounding and
// saturation are monotone, so clamping the codes to [round(Lo/s),
// round(Hi/s)] gives the codes of the clipped values. Forward usually
// fuses it into the producing layer's epilogue instead (fusedInt8Clip).

// Int8DepthwiseBackend is implemented by backends with a direct int8
// depthwise convolution.
type Int8DepthwiseBackend interface {
	// PackDepthwiseInt8 prepares a (C, 1, KH, KW) int8 depthwise weight.
	PackDepthwiseInt8(w []int8, c, kh, kw int) (PackedInt8, error)
	// DepthwiseInt8 convolves the channel-last (N, H, W, C) int8 codes x
	// with the packed weight (p.Groups = p.C = p.OutC), then the
	// epilogue, into channel-last (N, OutH, OutW, C) int8 codes outQ;
	// bit-identical to DepthwiseInt8Go.
	DepthwiseInt8(p ConvParams, x []int8, w PackedInt8, ep Int8Epilogue, outQ []int8) error
}

// dwInt8Weights is a depthwise qconv2d's prepared weight: the codes
// (C, KH·KW) and the backend's packing of them (nil without
// Int8DepthwiseBackend).
type dwInt8Weights struct {
	codes  []int8
	packed PackedInt8
}

// IsDepthwiseConv reports whether conv node n is a depthwise convolution
// with one filter per channel (a weight of shape (groups, 1, KH, KW)).
func (m *Model) IsDepthwiseConv(n *Node) bool {
	g := orOne(n.Attrs.Groups)
	p := m.Param(n.Params["weight"])
	if g == 1 || p == nil || p.Value == nil || p.Value.Dims() != 4 {
		return false
	}
	return p.Value.Shape[0] == g && p.Value.Shape[1] == 1
}

// packDepthwiseInt8 prepares the codes of a depthwise qconv2d weight
// (shape (C, 1, KH, KW)).
func packDepthwiseInt8(ib Int8Backend, q []int8, shape []int) (PackedInt8, error) {
	if len(shape) != 4 || shape[1] != 1 {
		return nil, fmt.Errorf("int8 grouped convolution: weight %v is not depthwise (C, 1, KH, KW)", shape)
	}
	w := &dwInt8Weights{codes: q}
	if db, ok := ib.(Int8DepthwiseBackend); ok {
		var err error
		if w.packed, err = db.PackDepthwiseInt8(q, shape[0], shape[2], shape[3]); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// int8Depthwise runs a depthwise qconv2d: channel-last int8 codes in,
// channel-last int8 codes out (OutScale set) or NCHW float out.
func (e *exec) int8Depthwise(n *Node, l *int8Layer, p ConvParams, x *Tensor) *Tensor {
	w, ok := l.packed.(*dwInt8Weights)
	if !ok || p.Groups != p.C || p.OutC != p.C {
		shapeErr("qconv2d", fmt.Sprintf("grouped convolution (groups %d, %d -> %d channels) has an int8 path only when depthwise", p.Groups, p.C, p.OutC), x)
	}
	q, s, nhwc := x.int8Raw()
	if !nhwc || s != n.Attrs.InScale || n.Attrs.QMin != 0 || n.Attrs.QMax != 0 {
		nchw, done := e.quantizeInput(x, n, "qconv2d")
		defer done()
		q = e.c.int8s(len(nchw))
		codesToNHWC(nchw, q, p.N, p.C)
	}
	ep := e.int8Epilogue(n, l)
	shape := []int{p.N, p.OutC, p.OutH, p.OutW}
	if s := n.Attrs.OutScale; s > 0 {
		out := e.c.int8s(p.N * p.OutC * p.OutH * p.OutW) // every code is written
		if db, ok := e.c.b.(Int8DepthwiseBackend); ok && w.packed != nil {
			check("qconv2d", db.DepthwiseInt8(p, q, w.packed, ep, out), x)
		} else {
			DepthwiseInt8Go(p, q, w.codes, ep, out, nil)
		}
		return newInt8NHWC(out, s, shape...)
	}
	y := e.c.empty(shape)
	DepthwiseInt8Go(p, q, w.codes, ep, nil, y.Data)
	return y
}

// codesToNHWC writes the NCHW codes of n images of c channels to dst in
// channel-last order.
func codesToNHWC(src, dst []int8, n, c int) {
	hw := len(src) / max(n*c, 1)
	for img := range n {
		s, d := src[img*hw*c:][:hw*c], dst[img*hw*c:][:hw*c]
		for ch := range c {
			for i, v := range s[ch*hw : (ch+1)*hw] {
				d[i*c+ch] = v
			}
		}
	}
}

// DepthwiseInt8Go is the reference int8 depthwise convolution: channel-
// last codes x (N, H, W, C) and weight codes w (C, KH·KW); each output is
// the exact int32 window sum through the epilogue, written channel-last
// to outQ or, when outQ is nil, as float32 NCHW to outF.
func DepthwiseInt8Go(p ConvParams, x, w []int8, ep Int8Epilogue, outQ []int8, outF []float32) {
	c, taps := p.C, p.KH*p.KW
	for img := range p.N {
		xi := x[img*p.H*p.W*c:][:p.H*p.W*c]
		for oh := range p.OutH {
			for ow := range p.OutW {
				o := (img*p.OutH+oh)*p.OutW + ow
				for ch := range c {
					var acc int32
					for i := range p.KH {
						ih := oh*p.StrideH - p.PadH + i*p.DilH
						if ih < 0 || ih >= p.H {
							continue
						}
						for j := range p.KW {
							iw := ow*p.StrideW - p.PadW + j*p.DilW
							if iw >= 0 && iw < p.W {
								acc += int32(xi[(ih*p.W+iw)*c+ch]) * int32(w[ch*taps+i*p.KW+j])
							}
						}
					}
					if outQ != nil {
						outQ[o*c+ch] = ep.Requant(acc, ch)
					} else {
						outF[((img*c+ch)*p.OutH+oh)*p.OutW+ow] = ep.Dequant(acc, ch)
					}
				}
			}
		}
	}
}

// value is the epilogue's float32 output before rounding, clamped to
// [lo, hi].
func (ep Int8Epilogue) value(acc int32, j int, lo, hi float32) float32 {
	var b int32
	if ep.Bias != nil {
		b = ep.Bias[j]
	}
	v := float32(acc+b) * ep.Scale[j]
	if ep.ReLU {
		lo = max(lo, 0)
	}
	if ep.Hi > 0 {
		hi = min(hi, ep.Hi)
	}
	return min(max(v, lo), hi)
}

// Requant is the epilogue of one int32 accumulator of output channel j
// into an int8 code (round half to even, saturated).
func (ep Int8Epilogue) Requant(acc int32, j int) int8 {
	return int8(math.RoundToEven(float64(ep.value(acc, j, -128, 127))))
}

// Dequant is the epilogue of one int32 accumulator of output channel j
// into a float32 value.
func (ep Int8Epilogue) Dequant(acc int32, j int) float32 {
	return ep.value(acc, j, float32(math.Inf(-1)), float32(math.Inf(1)))
}

// clipInt8 runs a clip on int8 codes in their scale and layout: each code
// clamped to the codes of Lo and Hi.
func (e *exec) clipInt8(n *Node, x *Tensor) *Tensor {
	q, s, nhwc := x.int8Raw()
	lo, hi := clipCode(n.Attrs.Lo, s, -128), clipCode(n.Attrs.Hi, s, 127)
	out := e.c.int8s(len(q))
	clampInt8(q, out, lo, hi)
	if nhwc {
		y := newInt8NHWC(out, s, x.Shape...)
		y.qflat = x.qflat
		return y
	}
	return NewInt8(out, s, x.Shape...)
}

// clipCode is the int8 code of the clip bound v in scale s (def when v is
// not finite).
func clipCode(v, s float32, def int8) int8 {
	if math.IsInf(float64(v), 0) || math.IsNaN(float64(v)) {
		return def
	}
	return int8(min(max(math.RoundToEven(float64(v/s)), -128), 127))
}
