//go:build !amd64 || purego

package cpu

// winoIn writes, for blocks row blocks b (src and dst advanced by srcStep
// and dstStep floats per block), v = Bᵀ·d over n columns: d's row i is
// src[i·srcStride:][:n], v's row k is dst[k·dstStride:][:n], followed by
// gw zeros.
func winoIn(dst []float32, dstStride int, src []float32, srcStride, n, gw, blocks, srcStep, dstStep int) {
	winoInGo(dst, dstStride, src, srcStride, n, gw, blocks, srcStep, dstStep)
}

// winoInRows is winoIn for one block whose six rows are given one by one
// (nil: a row of zeros, above or below the image), for count channels:
// channel i's rows are src[k][i·srcStep:][:n] and its transform goes to
// dst[i·dstStep:].
func winoInRows(dst []float32, dstStride int, src *[6][]float32, n, gw, count, srcStep, dstStep int) {
	winoInRowsGo(dst, dstStride, src, n, gw, count, srcStep, dstStep)
}

// winoOut writes, for blocks row blocks (src and dst advanced by srcStep
// and dstStep floats per block), y = Aᵀ·m over n columns: m's row k is
// src[k·srcStride:][:n], y's row r is dst[r·dstStride:][:n].
func winoOut(dst []float32, dstStride int, src []float32, srcStride, n, blocks, srcStep, dstStep int) {
	winoOutGo(dst, dstStride, src, srcStride, n, blocks, srcStep, dstStep)
}

// winoOutAct is winoOut followed by directOut on its rows: for blocks
// row blocks, dst = act(Aᵀ·m·scale + shift + res), res (nil: none) laid
// out as dst.
func winoOutAct(dst []float32, dstStride int, src []float32, srcStride, n, blocks, srcStep, dstStep int, res []float32, scale, shift float32, act outAct) {
	winoOutActGo(dst, dstStride, src, srcStride, n, blocks, srcStep, dstStep, res, scale, shift, act)
}
