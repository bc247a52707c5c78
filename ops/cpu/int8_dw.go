package cpu

// Int8 depthwise convolution on channel-last codes (ops.Int8DepthwiseBackend).
//
// Output rows are spread over the workers. A row whose window lies
// inside the image is computed in place on the input for the pixels
// whose window does too; the few border pixels read a zero-padded copy of
// their window (a patch), and rows whose window crosses the top or
// bottom a zero-padded copy of the window's rows (a strip). The 3×3
// undilated row kernel (AVX-512) keeps, for each block of 16 channels,
// the nine int32 weights in registers; each pixel's nine taps are
// sign-extending loads (a stride-2 row steps two pixels), multiplied and
// summed in int32 (exact), and the epilogue (bias, scale, ReLU/ReLU6
// clamp, round half to even, saturate) writes 16 codes, the channel tail
// masked. Each output is one exact integer sum and one float32 epilogue,
// so any worker count gives the codes of ops.DepthwiseInt8Go. Other
// shapes, and machines without AVX-512, run the Go row (dwInt8RowGo) on
// the same windows.

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

// dwInt8Scratch is one worker's padded strip and border patch.
type dwInt8Scratch struct{ strip, patch []int8 }

var dwInt8ScratchPool = sync.Pool{New: func() any { return new(dwInt8Scratch) }}

// dwInt8Conv is one depthwise call's geometry and operands.
type dwInt8Conv struct {
	p      ops.ConvParams
	w      *dwInt8Packed
	ep     ops.Int8Epilogue
	bias   []int32
	lo, hi float32
	vec    bool
}

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
	d := &dwInt8Conv{p: p, w: pw, ep: ep, bias: ep.Bias, lo: -128, hi: 127,
		vec: vec16 && p.KH == 3 && p.KW == 3 && p.DilH == 1 && p.DilW == 1}
	if d.bias == nil {
		d.bias = make([]int32, p.C)
	}
	if ep.ReLU {
		d.lo = 0
	}
	if ep.Hi > 0 {
		d.hi = min(d.hi, ep.Hi)
	}
	rowOut, img := p.OutW*p.C, p.H*p.W*p.C
	b.w.For(p.N*p.OutH, max(1, (32<<10)/max(rowOut*p.KH*p.KW, 1)), func(r0, r1 int) {
		s := dwInt8ScratchPool.Get().(*dwInt8Scratch)
		defer dwInt8ScratchPool.Put(s)
		for t := r0; t < r1; t++ {
			n, oh := t/p.OutH, t%p.OutH
			d.outRow(x[n*img:][:img], oh, outQ[t*rowOut:][:rowOut], s)
		}
	})
	return nil
}

// outRow computes output row oh of one image xi. Rows whose window lies
// inside the image read it in place for the pixels whose window does
// too; border pixels read a zero-padded patch of their window, and rows
// whose window crosses the top or bottom a zero-padded strip of the
// window's rows.
func (d *dwInt8Conv) outRow(xi []int8, oh int, dst []int8, s *dwInt8Scratch) {
	p, c := d.p, d.p.C
	kh, kw := (p.KH-1)*p.DilH+1, (p.KW-1)*p.DilW+1 // window span
	ih0, ld := oh*p.StrideH-p.PadH, p.W*c
	if ih0 < 0 || ih0+kh > p.H {
		wp := p.W + 2*p.PadW
		s.strip = grow8(s.strip, kh*wp*c)
		for i := range kh {
			row := s.strip[i*wp*c:][:wp*c]
			if ih := ih0 + i; ih >= 0 && ih < p.H {
				clear(row[:p.PadW*c])
				copy(row[p.PadW*c:], xi[ih*ld:][:ld])
				clear(row[(p.PadW+p.W)*c:])
			} else {
				clear(row)
			}
		}
		d.run(s.strip, wp*c, dst)
		return
	}
	owLo := min(p.OutW, (p.PadW+p.StrideW-1)/p.StrideW)         // first pixel whose window starts inside
	owHi := max(owLo, min(p.OutW, (p.W-kw+p.PadW)/p.StrideW+1)) // past the last whose window ends inside
	if p.W-kw+p.PadW < 0 {
		owHi = owLo
	}
	if owHi > owLo {
		d.run(xi[ih0*ld+(owLo*p.StrideW-p.PadW)*c:], ld, dst[owLo*c:owHi*c])
	}
	s.patch = grow8(s.patch, kh*kw*c)
	for ow := range p.OutW {
		if ow >= owLo && ow < owHi {
			continue // done in place
		}
		for i := range kh {
			for j := range kw {
				cell := s.patch[(i*kw+j)*c:][:c]
				if iw := ow*p.StrideW - p.PadW + j; iw >= 0 && iw < p.W {
					copy(cell, xi[(ih0+i)*ld+iw*c:][:c])
				} else {
					clear(cell)
				}
			}
		}
		d.run(s.patch, kw*c, dst[ow*c:][:c])
	}
}

// run computes the len(dst)/C output pixels whose first window starts at
// src (rows ld bytes apart, pixels StrideW·C apart).
func (d *dwInt8Conv) run(src []int8, ld int, dst []int8) {
	p := d.p
	if d.vec {
		dwInt8Row3(&src[0], ld, p.StrideW*p.C, &d.w.taps[0], d.w.cp*4, &d.bias[0], &d.ep.Scale[0], d.lo, d.hi, &dst[0], len(dst)/p.C, p.C)
		return
	}
	dwInt8RowGo(p, src, ld, d.w.codes, d.ep, dst)
}

// dwInt8RowGo computes len(dst)/C output pixels in Go: src holds the
// first pixel's window (rows ld bytes apart, pixels StrideW·C apart).
func dwInt8RowGo(p ops.ConvParams, src []int8, ld int, w []int8, ep ops.Int8Epilogue, dst []int8) {
	c, taps := p.C, p.KH*p.KW
	for ow := range len(dst) / c {
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
