package cpu

// Int8 depthwise convolution on channel-last codes (ops.Int8DepthwiseBackend).
//
// A tile of images is copied once into a zero-padded channel-last buffer;
// then each output row is one call of the row kernel over its OutW
// pixels: for each block of 16 channels the nine 3×3 weights (int32) stay
// in registers, each pixel's nine taps are sign-extended loads of the
// padded rows (a stride-2 row steps two pixels), multiplied and summed in
// int32 (exact), and the epilogue (bias, scale, ReLU/ReLU6 clamp, round
// half to even, saturate) writes 16 codes. Rows are spread over the
// workers; each output is computed by one sequence of integer operations
// and one float32 epilogue, so any worker count gives the same codes as
// ops.DepthwiseInt8Go. Shapes other than 3×3 undilated, and machines
// without AVX-512, run the Go row (dwInt8RowGo) on the same padded tile.

import (
	"fmt"
	"sync"

	"github.com/qpipe/qpipe/ops"
)

var _ ops.Int8DepthwiseBackend = (*Backend)(nil)

// dwInt8Packed is a depthwise int8 weight: the codes (C, KH·KW) and, for
// the vector kernel, the taps as int32 (KH·KW, Cp), Cp = C rounded up
// to 16, zero past C.
type dwInt8Packed struct {
	c, kh, kw, cp int
	codes         []int8
	taps          []int32
}

// PackDepthwiseInt8 packs a (C, 1, KH, KW) depthwise weight.
func (b *Backend) PackDepthwiseInt8(w []int8, c, kh, kw int) (ops.PackedInt8, error) {
	if c <= 0 || kh <= 0 || kw <= 0 || len(w) != c*kh*kw {
		return nil, fmt.Errorf("int8 depthwise: %d weight codes for (%d, 1, %d, %d)", len(w), c, kh, kw)
	}
	cp := (c + 15) &^ 15
	p := &dwInt8Packed{c: c, kh: kh, kw: kw, cp: cp, codes: append([]int8(nil), w...), taps: make([]int32, kh*kw*cp)}
	for ch := range c {
		for t := range kh * kw {
			p.taps[t*cp+ch] = int32(w[ch*kh*kw+t])
		}
	}
	return p, nil
}

// dwInt8Tile is the padded bytes a tile of images aims for.
const dwInt8Tile = 1 << 20

var dwInt8PadPool = sync.Pool{New: func() any { return new([]int8) }}

// DepthwiseInt8 runs the depthwise convolution of channel-last codes x
// into channel-last codes outQ (see the top of this file).
func (b *Backend) DepthwiseInt8(p ops.ConvParams, x []int8, w ops.PackedInt8, ep ops.Int8Epilogue, outQ []int8) error {
	pw, ok := w.(*dwInt8Packed)
	if !ok || pw.c != p.C || p.OutC != p.C || p.Groups != p.C || pw.kh != p.KH || pw.kw != p.KW {
		return fmt.Errorf("int8 depthwise: weights were not packed by PackDepthwiseInt8 for this convolution")
	}
	if len(x) != p.N*p.H*p.W*p.C || len(outQ) != p.N*p.OutH*p.OutW*p.C || len(ep.Scale) < p.C || (ep.Bias != nil && len(ep.Bias) < p.C) {
		return fmt.Errorf("int8 depthwise: %d inputs, %d outputs, %d scales for %+v", len(x), len(outQ), len(ep.Scale), p)
	}
	bias := ep.Bias
	if bias == nil {
		bias = make([]int32, p.C)
	}
	lo, hi := float32(-128), float32(127)
	if ep.ReLU {
		lo = 0
	}
	if ep.Hi > 0 {
		hi = min(hi, ep.Hi)
	}
	hp, wp := p.H+2*p.PadH, p.W+2*p.PadW
	per := hp * wp * p.C
	nb := max(1, min(p.N, dwInt8Tile/max(per, 1)))
	bp := dwInt8PadPool.Get().(*[]int8)
	defer dwInt8PadPool.Put(bp)
	*bp = grow8(*bp, nb*per)
	pad := *bp
	vec := vec16 && p.KH == 3 && p.KW == 3 && p.DilH == 1 && p.DilW == 1
	rowOut := p.OutW * p.C
	for n0 := 0; n0 < p.N; n0 += nb {
		cnt := min(nb, p.N-n0)
		b.w.For(cnt, 1, func(lo, hi int) {
			for n := lo; n < hi; n++ {
				padNHWC(p, x[(n0+n)*p.H*p.W*p.C:][:p.H*p.W*p.C], pad[n*per:][:per])
			}
		})
		b.w.For(cnt*p.OutH, max(1, (32<<10)/max(rowOut*9, 1)), func(r0, r1 int) {
			for t := r0; t < r1; t++ {
				img, oh := t/p.OutH, t%p.OutH
				src := pad[img*per+oh*p.StrideH*wp*p.C:]
				dst := outQ[((n0+img)*p.OutH+oh)*rowOut:][:rowOut]
				if vec {
					dwInt8Row3(&src[0], wp*p.C, p.StrideW*p.C, &pw.taps[0], pw.cp*4, &bias[0], &ep.Scale[0], lo, hi, &dst[0], p.OutW, p.C)
				} else {
					dwInt8RowGo(p, src, wp*p.C, pw.codes, ep, dst)
				}
			}
		})
	}
	return nil
}

// dwInt8RowGo is one output row of the depthwise convolution in Go:
// src is the padded tile at the row's first input row (row stride ld).
func dwInt8RowGo(p ops.ConvParams, src []int8, ld int, w []int8, ep ops.Int8Epilogue, dst []int8) {
	c, taps := p.C, p.KH*p.KW
	for ow := range p.OutW {
		for ch := range c {
			var acc int32
			for i := range p.KH {
				row := src[i*p.DilH*ld+ow*p.StrideW*c+ch:]
				for j := range p.KW {
					acc += int32(row[j*p.DilW*c]) * int32(w[ch*taps+i*p.KW+j])
				}
			}
			dst[ow*c+ch] = ep.Requant(acc, ch)
		}
	}
}
