//go:build !amd64 || purego

package cpu

// wino22In is wino22InGo: the F(2×2,3×3) input transform of the tile
// vectors j0..j1 of C channels of side×side planes (h unused).
func wino22In(dst, src, h []float32, C, side, j0, j1, vs int) {
	wino22InGo(dst, src, C, side, j0, j1, vs)
}

// wino22Out is wino22OutGo: the F(2×2,3×3) output transform of one
// output channel's product vectors into its side×side plane, with the
// epilogue.
func wino22Out(dst, src []float32, srcStride, side int, res []float32, scale, shift float32, act outAct) {
	wino22OutGo(dst, src, srcStride, side, res, scale, shift, act)
}

// wino22Gemm is wino22GemmGo: M_k = U_k·V_k for the 16 points k, rows
// output channels.
func wino22Gemm(m, u, v []float32, C, ldu, rows, vs, ms int) {
	wino22GemmGo(m, u, v, C, ldu, rows, vs, ms)
}
