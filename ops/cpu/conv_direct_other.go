//go:build !amd64 || purego

package cpu

import "github.com/qpipe/qpipe/ops"

// directOut writes rows rows of cols outputs: dst = act(src·scale + shift
// + res) (res nil: none), src rows lds floats apart, dst and res packed.
func directOut(src []float32, lds int, dst, res []float32, rows, cols int, scale, shift float32, act outAct) {
	directOutGo(src, lds, dst, res, rows, cols, scale, shift, act)
}

// fillRows writes rows rows of wp floats into dst (packed): row r holds
// src[r·lds + v·s] for v·s < wr, then zeros.
func fillRows(src []float32, lds int, dst []float32, wp, rows, wr, s int) {
	fillRowsGo(src, lds, dst, wp, rows, wr, s)
}

// fillRowsPair is fillRows with s = 2 for both column phases of the same
// rows: dst0 gets src[r·lds + 2v] for 2v < wr, dst1 src[r·lds + 2v + 1]
// for 2v + 1 < wr, each then zeros up to wp.
func fillRowsPair(src []float32, lds int, dst0, dst1 []float32, wp, rows, wr int) {
	fillRowsPairGo(src, lds, dst0, dst1, wp, rows, wr)
}

// fillTapPlanes writes the gapless layout's kw planes of one channel and
// row phase for imgs images (see fillTapPlanesGo); ahead, the amd64
// kernel's prefetch distance, is not used.
func fillTapPlanes(src []float32, lds, srcImg int, dst []float32, plane, wp, imgs, lead, rows, trail, wr, shift, kw, s, dil, _ int) {
	fillTapPlanesGo(src, lds, srcImg, dst, plane, wp, imgs, lead, rows, trail, wr, shift, kw, s, dil)
}

// poolOut writes rows×cols outputs dst = relu(bias + 2×2 max of src),
// src rows lds floats apart.
func poolOut(src []float32, lds int, dst []float32, rows, cols int, bias float32) {
	poolOutGo(src, lds, dst, rows, cols, bias)
}

// pool3s2 has no vector kernel here.
func pool3s2(p ops.PoolParams, src, dst []float32, tmp []float32) bool { return false }

func pool3s2OK(p ops.PoolParams) bool { return false }

func pool3s2Rows(p ops.PoolParams, src, dst []float32, tmp []float32, oh0, oh1, base int) bool {
	return false
}
