package cpu

// Int8 convolution as an implicit GEMM over a channel-last image.
//
// The weights are packed by kernel row: row oc holds, for each kernel row
// i, the KW·C codes W[oc, c, i, j] at (j·C + c), zero-padded to a multiple
// of 4 (one VNNI group) — a segment. The input is copied once per tile
// into a channel-last (NHWC) frame with its padding written out, as u8
// codes (code+128, padding 0x80: see gemm.ImplicitS8.U8, which saves the
// row sums a signed A would need). There the codes a kernel row sees for
// output pixel (oh, ow) are KW·C contiguous bytes, the next pixel's
// StrideW·C bytes further and the next kernel row's DilH·Wp·C bytes
// further, so the GEMM reads the frame in place: no patch row is
// written. At stride 1 a band of output rows is one GEMM call over the
// run of padded positions (the positions between rows are dropped), other
// strides one call per output row; calls are spread over the workers,
// with the fused requantize/dequantize epilogue (and, for Conv2dInt8Pool2,
// the 2×2 max pool of each band). Int8 outputs stay channel-last (the
// next int8 conv, pool or add reads them so), float outputs are moved
// back to NCHW unless asked for channel-last. Horizontal dilation breaks
// the contiguous run; such layers build patch rows in the same layout.
// The int32 accumulators are exact, so the result is bit for bit that of
// the (c, i, j)-ordered im2col GEMM, on any worker count.

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

var _ ops.Int8ConvBackend = (*Backend)(nil)

// int8ConvTile is the patch bytes a tile of images aims for.
const int8ConvTile = 1 << 20

// convInt8Seg is the bytes of one kernel row of a packed int8 conv
// weight: KW·C rounded up to a VNNI group.
func convInt8Seg(c, kw int) int { return (c*kw + 3) &^ 3 }

// convInt8K is the packed row length of an int8 conv weight.
func convInt8K(c, kh, kw int) int { return kh * convInt8Seg(c, kw) }

// PackConv2dInt8 packs an (outC, C, KH, KW) int8 weight by kernel row
// (see the top of this file) for Conv2dInt8.
func (b *Backend) PackConv2dInt8(w []int8, outC, c, kh, kw int) (ops.PackedInt8, error) {
	k := c * kh * kw
	if len(w) != outC*k {
		return nil, fmt.Errorf("int8 conv: %d weight codes for (%d, %d, %d, %d)", len(w), outC, c, kh, kw)
	}
	kp, seg := convInt8K(c, kh, kw), convInt8Seg(c, kw)
	t := make([]int8, outC*kp)
	for oc := range outC {
		src, dst := w[oc*k:][:k], t[oc*kp:][:kp]
		for ch := range c {
			for i := range kh {
				for j := range kw {
					dst[i*seg+j*c+ch] = src[(ch*kh+i)*kw+j]
				}
			}
		}
	}
	return gemm.PackS8(outC, kp, t, kp), nil
}

// int8Bufs is one tile's scratch: channel-last input (padded for the
// implicit GEMM), patch rows (horizontal dilation only) and the
// channel-last float output.
type int8Bufs struct {
	nhwc, pad, rows []int8
	outF            []float32
}

var int8BufPool = sync.Pool{New: func() any { return new(int8Bufs) }}

// Conv2dInt8 computes the convolution of the int8 codes x (NCHW, or
// channel-last with nhwcIn) with the weights of PackConv2dInt8 and the
// fused epilogue into channel-last outQ (int8) or, when outQ is nil, outF
// (NCHW, or channel-last with nhwcOut).
func (b *Backend) Conv2dInt8(p ops.ConvParams, x []int8, nhwcIn bool, w ops.PackedInt8, ep ops.Int8Epilogue, outQ []int8, outF []float32, nhwcOut bool) error {
	pb, ok := w.(*gemm.PackedS8)
	if !ok || pb.K() != convInt8K(p.C, p.KH, p.KW) || pb.N() != p.OutC || max(p.Groups, 1) != 1 {
		return fmt.Errorf("int8 conv: weights were not packed by PackConv2dInt8 for this convolution")
	}
	hp, wp := p.H+2*p.PadH, p.W+2*p.PadW
	per := hp * wp * p.C // padded image bytes
	if p.DilW != 1 {
		per = p.OutH * p.OutW * pb.K() // patch rows
	}
	nb := max(1, min(p.N, int8ConvTile/max(per, 1)))
	e := gemmEpilogue(ep)
	bufs := int8BufPool.Get().(*int8Bufs)
	defer int8BufPool.Put(bufs)
	for n0 := 0; n0 < p.N; n0 += nb {
		cnt := min(nb, p.N-n0)
		b.int8ConvTile(p, x, nhwcIn, pb, e, outQ, outF, nhwcOut, false, n0, cnt, bufs)
	}
	return nil
}

var _ ops.Int8ConvPoolBackend = (*Backend)(nil)

// Conv2dInt8Pool2 is Conv2dInt8 into int8 codes followed by their 2×2
// stride-2 max pool, written channel-last (N, OutH/2, OutW/2, OutC). At
// stride 1 each band of output rows is pooled from its scratch, so the
// full-resolution codes never reach memory; other convolutions pool a
// temporary.
func (b *Backend) Conv2dInt8Pool2(p ops.ConvParams, x []int8, nhwcIn bool, w ops.PackedInt8, ep ops.Int8Epilogue, outQ []int8) error {
	pb, ok := w.(*gemm.PackedS8)
	if !ok || pb.K() != convInt8K(p.C, p.KH, p.KW) || pb.N() != p.OutC || max(p.Groups, 1) != 1 {
		return fmt.Errorf("int8 conv: weights were not packed by PackConv2dInt8 for this convolution")
	}
	pp := ops.PoolParams{N: p.N, C: p.OutC, H: p.OutH, W: p.OutW, KH: 2, KW: 2, StrideH: 2, StrideW: 2, OutH: p.OutH / 2, OutW: p.OutW / 2}
	if len(outQ) != p.N*p.OutC*pp.OutH*pp.OutW {
		return fmt.Errorf("int8 conv+pool: %d outputs for %d", len(outQ), p.N*p.OutC*pp.OutH*pp.OutW)
	}
	if p.StrideH != 1 || p.StrideW != 1 || p.DilW != 1 {
		full := make([]int8, p.N*p.OutC*p.OutH*p.OutW)
		if err := b.Conv2dInt8(p, x, nhwcIn, w, ep, full, nil, false); err != nil {
			return err
		}
		return b.MaxPool2dInt8(pp, full, outQ, true)
	}
	hp, wp := p.H+2*p.PadH, p.W+2*p.PadW
	nb := max(1, min(p.N, int8ConvTile/max(hp*wp*p.C, 1)))
	e := gemmEpilogue(ep)
	bufs := int8BufPool.Get().(*int8Bufs)
	defer int8BufPool.Put(bufs)
	for n0 := 0; n0 < p.N; n0 += nb {
		b.int8ConvTile(p, x, nhwcIn, pb, e, outQ, nil, false, true, n0, min(nb, p.N-n0), bufs)
	}
	return nil
}

// int8ConvTile runs images n0..n0+cnt: the input moved channel-last and
// padded, then the output rows spread over the workers, each one GEMM
// call reading the image in place.
func (b *Backend) int8ConvTile(p ops.ConvParams, x []int8, nhwcIn bool, pb *gemm.PackedS8, e gemm.Epilogue, outQ []int8, outF []float32, nhwcOut, pool bool, n0, cnt int, bufs *int8Bufs) {
	hw, L := p.H*p.W, p.OutH*p.OutW
	in := x[n0*p.C*hw:][:cnt*p.C*hw]
	nhwc := in // channel-last already, or one channel (NCHW is NHWC)
	if p.C > 1 && !nhwcIn {
		bufs.nhwc = grow8(bufs.nhwc, cnt*p.C*hw)
		nhwc = bufs.nhwc
		parts := transposeParts(p.C, 8, cnt, b.w.n)
		b.w.For(cnt*parts, 1, func(lo, hi int) {
			for t := lo; t < hi; t++ {
				img, r0, r1 := t/parts, t%parts*p.C/parts&^7, (t%parts+1)*p.C/parts&^7
				if t%parts == parts-1 {
					r1 = p.C
				}
				gemm.TransposeRowsS8(in[img*p.C*hw:][:p.C*hw], p.C, hw, nhwc[img*p.C*hw:][:p.C*hw], r0, r1)
			}
		})
	}
	var dst []float32 // channel-last float rows, moved to NCHW at the end unless nhwcOut
	switch {
	case outQ == nil && nhwcOut:
		dst = outF[n0*L*p.OutC:][:cnt*L*p.OutC]
	case outQ == nil:
		bufs.outF = growF(bufs.outF, cnt*L*p.OutC)
		dst = bufs.outF
	}
	if p.DilW != 1 {
		b.int8ConvPatches(p, nhwc, pb, e, outQ, dst, n0, cnt, bufs)
	} else {
		b.int8ConvImplicit(p, nhwc, pb, e, outQ, dst, pool, n0, cnt, bufs)
	}
	if outQ != nil || nhwcOut {
		return
	}
	ocl := p.OutC * L
	out := outF[n0*ocl:][:cnt*ocl]
	parts := transposeParts(L, 16, cnt, b.w.n)
	b.w.For(cnt*parts, 1, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			img, r0, r1 := t/parts, t%parts*L/parts&^15, (t%parts+1)*L/parts&^15
			if t%parts == parts-1 {
				r1 = L
			}
			gemm.TransposeRowsF32(dst[img*ocl:][:ocl], L, p.OutC, out[img*ocl:][:ocl], r0, r1)
		}
	})
}

// int8ConvImplicit runs the implicit GEMM of cnt channel-last images: one
// GEMM call per output row (OutW pixels), rows spread over the workers.
// Int8 output goes to outQ at image n0, float output to dst (image 0).
func (b *Backend) int8ConvImplicit(p ops.ConvParams, nhwc []int8, pb *gemm.PackedS8, e gemm.Epilogue, outQ []int8, dst []float32, pool bool, n0, cnt int, bufs *int8Bufs) {
	seg := convInt8Seg(p.C, p.KW)
	hp, wp := p.H+2*p.PadH, p.W+2*p.PadW
	bufs.pad = grow8(bufs.pad, cnt*hp*wp*p.C+4) // a segment's last group may reach 3 bytes past the image
	img := bufs.pad
	b.w.For(cnt, 1, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			padNHWCU8(p, nhwc[n*p.H*p.W*p.C:][:p.H*p.W*p.C], img[n*hp*wp*p.C:][:hp*wp*p.C])
		}
	})
	clear(img[cnt*hp*wp*p.C:])
	if p.StrideH == 1 && p.StrideW == 1 {
		b.int8ConvBands(p, img, seg, pb, e, outQ, dst, pool, n0, cnt)
		return
	}
	L, rowBytes := p.OutH*p.OutW, wp*p.C
	macs := max(p.OutW*p.OutC*pb.K(), 1)
	b.w.For(cnt*p.OutH, max(1, (1<<18)/macs), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			n, oh := t/p.OutH, t%p.OutH
			a := gemm.ImplicitS8{A: img[(n*hp+oh*p.StrideH)*rowBytes:], M: p.OutW, Lda: p.StrideW * p.C,
				Segs: p.KH, SegLen: seg, SegStride: p.DilH * rowBytes, U8: true}
			o := (n*L + oh*p.OutW) * p.OutC
			if outQ != nil {
				gemm.GemmS8ImplicitRequant(a, pb, e, outQ[n0*L*p.OutC+o:][:p.OutW*p.OutC], p.OutC)
			} else {
				gemm.GemmS8ImplicitDequant(a, pb, e, dst[o:][:p.OutW*p.OutC], p.OutC)
			}
		}
	})
}

// int8ConvBands runs a stride-1 implicit GEMM in bands of output rows:
// at stride 1 the pixels of consecutive output rows are one run of
// padded positions, Wp per row, so a band of R rows is one GEMM call of
// ·Wp + OutW rows (the 2·PadW positions between output rows are
// computed and dropped) into scratch, whose valid rows are then copied
// out. Few calls with full kernel tiles instead of a call per output
// row: thin layers (a one-channel stem) were all call overhead.
func (b *Backend) int8ConvBands(p ops.ConvParams, img []int8, seg int, pb *gemm.PackedS8, e gemm.Epilogue, outQ []int8, dst []float32, pool bool, n0, cnt int) {
	hp, wp := p.H+2*p.PadH, p.W+2*p.PadW
	L, rowBytes := p.OutH*p.OutW, wp*p.C
	rowMACs := max(wp*p.OutC*pb.K(), 1)
	band := max(1, min(p.OutH, (1<<18)/rowMACs, ceilDiv(cnt*p.OutH, 4*b.w.n)))
	if pool {
		band += band % 2 // whole pairs of rows
	}
	bands := ceilDiv(p.OutH, band)
	pp := ops.PoolParams{C: p.OutC, W: wp, OutW: p.OutW / 2} // pairs of scratch rows, Wp pixels apart
	lp := p.OutH / 2 * pp.OutW                               // pooled pixels per image
	b.w.For(cnt*bands, 1, func(lo, hi int) {
		m := (band-1)*wp + p.OutW
		sb := bandScratchPool.Get().(*bandScratch)
		defer bandScratchPool.Put(sb)
		var sq []int8
		var sf []float32
		if outQ != nil {
			sb.q = grow8(sb.q, m*p.OutC)
			sq = sb.q
		} else {
			sb.f = growF(sb.f, m*p.OutC)
			sf = sb.f
		}
		tmp := sb.tmp[:0]
		defer func() { sb.tmp = tmp }()
		for t := lo; t < hi; t++ {
			n, oh0 := t/bands, t%bands*band
			rows := min(band, p.OutH-oh0)
			m := (rows-1)*wp + p.OutW
			at := (n*hp + oh0) * wp // padded position of the band's first pixel
			a := gemm.ImplicitS8{A: img[at*p.C:], M: m, Lda: p.C, Segs: p.KH, SegLen: seg,
				SegStride: p.DilH * rowBytes, U8: true}
			o := (n*L + oh0*p.OutW) * p.OutC
			w := p.OutW * p.OutC
			switch {
			case pool:
				gemm.GemmS8ImplicitRequant(a, pb, e, sq[:m*p.OutC], p.OutC)
				w := pp.OutW * p.OutC
				out := outQ[((n0+n)*lp+oh0/2*pp.OutW)*p.OutC:]
				for r := range rows / 2 {
					tmp = maxPool2x2RowNHWC(pp, sq, out[r*w:][:w], r, tmp)
				}
			case outQ != nil:
				gemm.GemmS8ImplicitRequant(a, pb, e, sq[:m*p.OutC], p.OutC)
				out := outQ[n0*L*p.OutC+o:]
				for r := range rows {
					copy(out[r*w:][:w], sq[r*wp*p.OutC:][:w])
				}
			default:
				gemm.GemmS8ImplicitDequant(a, pb, e, sf[:m*p.OutC], p.OutC)
				out := dst[o:]
				for r := range rows {
					copy(out[r*w:][:w], sf[r*wp*p.OutC:][:w])
				}
			}
		}
	})
}

// bandScratch is a piece of int8ConvBands' scratch: a band's GEMM result
// (int8 codes or floats) and the pooling rows. The loop hands out its
// bands in several pieces per worker; pooled buffers keep them from
// allocating a band's result each.
type bandScratch struct {
	q, tmp []int8
	f      []float32
}

var bandScratchPool = sync.Pool{New: func() any { return new(bandScratch) }}

// transposeParts is how many row ranges each of cnt images' transpose is
// cut into so that the workers share it (a lone image: one per worker),
// each at least two blocks of unit rows.
func transposeParts(rows, unit, cnt, workers int) int {
	if cnt >= workers {
		return 1
	}
	return max(1, min(ceilDiv(workers, cnt), rows/(2*unit)))
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// padNHWCU8 writes one channel-last image into its padded frame (H+2·PadH
// rows of W+2·PadW pixels) as the u8 codes a+128 the implicit GEMM reads
// (gemm.ImplicitS8.U8): the padding is 0x80, a zero code.
func padNHWCU8(p ops.ConvParams, src, dst []int8) {
	c, wp := p.C, p.W+2*p.PadW
	row := p.W * c
	fill80(dst[:p.PadH*wp*c])
	for h := range p.H {
		d := dst[((h+p.PadH)*wp)*c:][:wp*c]
		fill80(d[:p.PadW*c])
		xorCopy80(d[p.PadW*c:][:row], src[h*row:][:row])
		fill80(d[p.PadW*c+row:])
	}
	fill80(dst[(p.H+p.PadH)*wp*c:])
}

// fill80 sets every byte of d to 0x80 (a zero code as u8), eight bytes
// at a time.
func fill80(d []int8) {
	n, i := len(d), 0
	for ; i+8 <= n; i += 8 {
		*(*uint64)(unsafe.Pointer(&d[i])) = 0x8080808080808080
	}
	for ; i < n; i++ {
		d[i] = -128
	}
}

// xorCopy80 writes src ^ 0x80 (int8 codes as u8 = code+128) to dst,
// 32 bytes per step.
func xorCopy80(dst, src []int8) {
	const m = 0x8080808080808080
	n := len(dst)
	src = src[:n]
	i := 0
	for ; i+32 <= n; i += 32 {
		s, d := unsafe.Pointer(&src[i]), unsafe.Pointer(&dst[i])
		a, b := *(*uint64)(s), *(*uint64)(unsafe.Add(s, 8))
		c, e := *(*uint64)(unsafe.Add(s, 16)), *(*uint64)(unsafe.Add(s, 24))
		*(*uint64)(d), *(*uint64)(unsafe.Add(d, 8)) = a^m, b^m
		*(*uint64)(unsafe.Add(d, 16)), *(*uint64)(unsafe.Add(d, 24)) = c^m, e^m
	}
	for ; i+8 <= n; i += 8 {
		*(*uint64)(unsafe.Pointer(&dst[i])) = *(*uint64)(unsafe.Pointer(&src[i])) ^ m
	}
	for ; i < n; i++ {
		dst[i] = src[i] ^ -128
	}
}

// int8ConvPatches is the convolution through patch rows (horizontal
// dilation): rows in the packed weight's layout, then one GEMM.
func (b *Backend) int8ConvPatches(p ops.ConvParams, nhwc []int8, pb *gemm.PackedS8, e gemm.Epilogue, outQ []int8, dst []float32, n0, cnt int, bufs *int8Bufs) {
	hw, L, kp := p.H*p.W, p.OutH*p.OutW, pb.K()
	rows := cnt * L
	bufs.rows = grow8(bufs.rows, rows*kp)
	b.w.For(cnt*p.OutH, max(1, (16<<10)/max(p.OutW*kp, 1)), func(lo, hi int) {
		for t := lo; t < hi; t++ {
			img, oh := t/p.OutH, t%p.OutH
			patchRowsNHWC(p, nhwc[img*hw*p.C:][:hw*p.C], bufs.rows[(img*L+oh*p.OutW)*kp:][:p.OutW*kp], oh, kp)
		}
	})
	if outQ != nil {
		ocl := p.OutC * L
		gemm.GemmS8PackedRequant(rows, bufs.rows, kp, pb, e, outQ[n0*ocl:][:cnt*ocl], p.OutC)
		return
	}
	gemm.GemmS8PackedDequant(rows, bufs.rows, kp, pb, e, dst, p.OutC)
}

// patchRowsNHWC writes the patch rows of output row oh of one NHWC image:
// OutW rows of kp codes, kernel row i at i·seg in (j, c) order, zero in
// the padding and past KW·C.
func patchRowsNHWC(p ops.ConvParams, x, dst []int8, oh, kp int) {
	c, seg := p.C, convInt8Seg(p.C, p.KW)
	for ow := range p.OutW {
		row := dst[ow*kp:][:kp]
		iw0 := ow*p.StrideW - p.PadW
		for i := range p.KH {
			ih := oh*p.StrideH - p.PadH + i*p.DilH
			s := row[i*seg:][:seg]
			clear(s[p.KW*c:])
			if ih < 0 || ih >= p.H {
				clear(s)
				continue
			}
			line := x[ih*p.W*c:][:p.W*c]
			for j := range p.KW {
				iw := iw0 + j*p.DilW
				if iw < 0 || iw >= p.W {
					clear(s[j*c:][:c])
				} else {
					copy(s[j*c:][:c], line[iw*c:][:c])
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
