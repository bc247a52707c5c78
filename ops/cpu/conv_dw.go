package cpu

import (
	"math"

	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// Grouped convolutions with few output channels per group (depthwise:
// one) multiply a handful of weight rows by the group's columns: the
// GEMM's 14-row micro-kernel would run at a fraction of its width, so
// each output row is built as Σ_k w[o,k]·col[k], one vector multiply-add
// pass per column row.

// narrowGroup is the most output channels per group done by axpy rows.
const narrowGroup = 4

// groupForward computes out_g (ocg × cols) = W_g (ocg × kg) · col_g.
func groupForward(ocg, kg int, wg, colg, outg []float32, cols int) {
	if ocg > narrowGroup {
		gemm.SgemmSerial(false, false, ocg, cols, kg, 1, wg, kg, colg, cols, 0, outg, cols)
		return
	}
	for o := range ocg {
		row := outg[o*cols:][:cols]
		clear(row)
		for k, a := range wg[o*kg:][:kg] {
			axpy(a, colg[k*cols:][:cols], row)
		}
	}
}

// axpyGo is axpy in Go, with the same fused multiply-add.
func axpyGo(a float32, x, y []float32) {
	x = x[:len(y)]
	for i := range y {
		y[i] = float32(math.FMA(float64(a), float64(x[i]), float64(y[i])))
	}
}
