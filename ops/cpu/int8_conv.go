package cpu

// Int8 convolution as an implicit GEMM over channel-last patches.
//
// The weights are packed tap-major: row oc holds W[oc, c, i, j] at column
// (i·KW + j)·C + c, zero-padded to a multiple of 4 columns (one VNNI
// group), so a patch row is KH·KW runs of C contiguous channel codes of
// the channel-last (NHWC) input: im2col is a few memcpys per output pixel
// (one KW·C run per kernel row at dilation 1) instead of a byte gather per
// tap, and the VNNI kernel reads the rows in place. A tile of images is
// moved to NHWC (unless it already is), expanded to patch rows and
// multiplied with the fused requantize/dequantize epilogue: int8 outputs
// stay channel-last (the next int8 conv or pool reads them so), float
// outputs are moved back to NCHW. The int32 accumulators are exact, so the result is bit for bit
// the same as the (c, i, j)-ordered im2col GEMM's, on any worker count.

import (
	"fmt"
	"sync"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

var _ ops.Int8ConvBackend = (*Backend)(nil)

// int8ConvTile is the patch bytes a tile of images aims for.
const int8ConvTile = 1 << 20

// convInt8K is the packed row length of a tap-major int8 conv weight.
func convInt8K(c, kh, kw int) int { return (c*kh*kw + 3) &^ 3 }

// PackConv2dInt8 packs an (outC, C, KH, KW) int8 weight tap-major for
// Conv2dInt8.
func (b *Backend) PackConv2dInt8(w []int8, outC, c, kh, kw int) (ops.PackedInt8, error) {
	k := c * kh * kw
	if len(w) != outC*k {
		return nil, fmt.Errorf("int8 conv: %d weight codes for (%d, %d, %d, %d)", len(w), outC, c, kh, kw)
	}
	kp := convInt8K(c, kh, kw)
	t := make([]int8, outC*kp)
	for oc := range outC {
		src, dst := w[oc*k:][:k], t[oc*kp:][:kp]
		for ch := range c {
			for tap := range kh * kw {
				dst[tap*c+ch] = src[ch*kh*kw+tap]
			}
		}
	}
	return gemm.PackS8(outC, kp, t, kp), nil
}

// int8Bufs is one tile's scratch: channel-last input, patch rows and the
// channel-last output (int8 or float32).
type int8Bufs struct {
	nhwc, rows []int8
	outF       []float32
}

var int8BufPool = sync.Pool{New: func() any { return new(int8Bufs) }}

// Conv2dInt8 computes the convolution of the int8 codes x (NCHW, or
// channel-last with nhwcIn) with the weights of PackConv2dInt8 and the
// fused epilogue into channel-last outQ (int8) or, when outQ is nil, NCHW
// outF.
func (b *Backend) Conv2dInt8(p ops.ConvParams, x []int8, nhwcIn bool, w ops.PackedInt8, ep ops.Int8Epilogue, outQ []int8, outF []float32) error {
	pb, ok := w.(*gemm.PackedS8)
	if !ok || pb.K() != convInt8K(p.C, p.KH, p.KW) || pb.N() != p.OutC || max(p.Groups, 1) != 1 {
		return fmt.Errorf("int8 conv: weights were not packed by PackConv2dInt8 for this convolution")
	}
	L, kp := p.OutH*p.OutW, pb.K()
	nb := max(1, min(p.N, int8ConvTile/max(L*kp, 1)))
	e := gemm.Epilogue{Bias: ep.Bias, Scale: ep.Scale, ReLU: ep.ReLU}
	bufs := int8BufPool.Get().(*int8Bufs)
	defer int8BufPool.Put(bufs)
	for n0 := 0; n0 < p.N; n0 += nb {
		cnt := min(nb, p.N-n0)
		b.int8ConvTile(p, x, nhwcIn, pb, e, outQ, outF, n0, cnt, bufs)
	}
	return nil
}

// int8ConvTile runs images n0..n0+cnt: each step is spread over the
// workers (the GEMM over gemm's threads).
func (b *Backend) int8ConvTile(p ops.ConvParams, x []int8, nhwcIn bool, pb *gemm.PackedS8, e gemm.Epilogue, outQ []int8, outF []float32, n0, cnt int, bufs *int8Bufs) {
	hw, L, kp := p.H*p.W, p.OutH*p.OutW, pb.K()
	in := x[n0*p.C*hw:][:cnt*p.C*hw]
	nhwc := in // channel-last already, or one channel (NCHW is NHWC)
	if p.C > 1 && !nhwcIn {
		bufs.nhwc = grow8(bufs.nhwc, cnt*p.C*hw)
		nhwc = bufs.nhwc
		b.w.For(cnt, 1, func(lo, hi int) {
			for img := lo; img < hi; img++ {
				transpose(in[img*p.C*hw:][:p.C*hw], p.C, hw, nhwc[img*p.C*hw:])
			}
		})
	}
	rows := cnt * L
	bufs.rows = grow8(bufs.rows, rows*kp)
	b.w.For(cnt*p.OutH, max(1, (16<<10)/max(p.OutW*kp, 1)), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			img, oh := t/p.OutH, t%p.OutH
			patchRowsNHWC(p, nhwc[img*hw*p.C:][:hw*p.C], bufs.rows[(img*L+oh*p.OutW)*kp:][:p.OutW*kp], oh, kp)
		}
	})
	ocl := p.OutC * L
	if outQ != nil {
		gemm.GemmS8PackedRequant(rows, bufs.rows, kp, pb, e, outQ[n0*ocl:][:cnt*ocl], p.OutC)
		return
	}
	bufs.outF = growF(bufs.outF, rows*p.OutC)
	gemm.GemmS8PackedDequant(rows, bufs.rows, kp, pb, e, bufs.outF, p.OutC)
	dst := outF[n0*ocl:][:cnt*ocl]
	b.w.For(cnt, 1, func(lo, hi int) {
		for img := lo; img < hi; img++ {
			transpose(bufs.outF[img*ocl:][:ocl], L, p.OutC, dst[img*ocl:])
		}
	})
}

// patchRowsNHWC writes the patch rows of output row oh of one NHWC image:
// OutW rows of kp codes in (i, j, c) order, zero in the padding and past
// C·KH·KW.
func patchRowsNHWC(p ops.ConvParams, x, dst []int8, oh, kp int) {
	c, k := p.C, p.C*p.KH*p.KW
	run := p.KW * c // one kernel row's codes, contiguous at dilation 1
	for ow := range p.OutW {
		row := dst[ow*kp:][:kp]
		for i := k; i < kp; i++ {
			row[i] = 0
		}
		iw0 := ow*p.StrideW - p.PadW
		inside := iw0 >= 0 && iw0+(p.KW-1)*p.DilW < p.W
		for i := range p.KH {
			ih := oh*p.StrideH - p.PadH + i*p.DilH
			seg := row[i*run:][:run]
			if ih < 0 || ih >= p.H {
				clear(seg)
				continue
			}
			line := x[ih*p.W*c:][:p.W*c]
			if inside && p.DilW == 1 {
				copyShort(seg, line[iw0*c:][:run])
				continue
			}
			for j := range p.KW {
				iw := iw0 + j*p.DilW
				if iw < 0 || iw >= p.W {
					clear(seg[j*c:][:c])
				} else {
					copy(seg[j*c:][:c], line[iw*c:][:c])
				}
			}
		}
	}
}

// copyShort is copy for the few-byte runs of thin inputs (a one-channel
// 3x3 kernel row is 3 codes), where the call to memmove would cost more
// than the bytes.
func copyShort(dst, src []int8) {
	if len(dst) >= 16 {
		copy(dst, src)
		return
	}
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = v
	}
}

// transpose writes the (rows, cols) matrix src as (cols, rows) into dst,
// in 16×16 blocks.
func transpose[T int8 | float32](src []T, rows, cols int, dst []T) {
	const bs = 16
	_ = src[rows*cols-1]
	_ = dst[rows*cols-1]
	for r0 := 0; r0 < rows; r0 += bs {
		r1 := min(r0+bs, rows)
		for c0 := 0; c0 < cols; c0 += bs {
			c1 := min(c0+bs, cols)
			for r := r0; r < r1; r++ {
				s := src[r*cols:]
				for cc := c0; cc < c1; cc++ {
					dst[cc*rows+r] = s[cc]
				}
			}
		}
	}
}

func grow8(s []int8, n int) []int8 {
	if cap(s) < n {
		return make([]int8, n)
	}
	return s[:n]
}

func growF(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
