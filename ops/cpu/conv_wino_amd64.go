//go:build amd64 && !purego

package cpu

//go:noescape
func winoIn16(dst *float32, dstStride int, src *float32, srcStride, n, gw, blocks, srcStep, dstStep int)

//go:noescape
func winoInRows16(dst *float32, dstStride int, src *[6]*float32, n, gw, count, srcStep, dstStep int)

//go:noescape
func winoOut16(dst *float32, dstStride int, src *float32, srcStride, n, blocks, srcStep, dstStep int)

// winoIn writes, for blocks row blocks b (src and dst advanced by srcStep
// and dstStep floats per block), v = Bᵀ·d over n columns: d's row i is
// src[i·srcStride:][:n], v's row k is dst[k·dstStride:][:n], followed by
// gw zeros.
func winoIn(dst []float32, dstStride int, src []float32, srcStride, n, gw, blocks, srcStep, dstStep int) {
	if !vec16 || n == 0 || blocks == 0 || gw > 16 {
		winoInGo(dst, dstStride, src, srcStride, n, gw, blocks, srcStep, dstStep)
		return
	}
	_, _ = dst[(blocks-1)*dstStep+5*dstStride+n+gw-1], src[(blocks-1)*srcStep+5*srcStride+n-1]
	winoIn16(&dst[0], dstStride, &src[0], srcStride, n, gw, blocks, srcStep, dstStep)
}

// winoInRows is winoIn for one block whose six rows are given one by one
// (nil: a row of zeros, above or below the image), for count channels:
// channel i's rows are src[k][i·srcStep:][:n] and its transform goes to
// dst[i·dstStep:].
func winoInRows(dst []float32, dstStride int, src *[6][]float32, n, gw, count, srcStep, dstStep int) {
	if !vec16 || n == 0 || count == 0 || gw > 16 {
		winoInRowsGo(dst, dstStride, src, n, gw, count, srcStep, dstStep)
		return
	}
	_ = dst[(count-1)*dstStep+5*dstStride+n+gw-1]
	var ptr [6]*float32
	for i, r := range src {
		if r != nil {
			ptr[i] = &r[:(count-1)*srcStep+n][0]
		}
	}
	winoInRows16(&dst[0], dstStride, &ptr, n, gw, count, srcStep, dstStep)
}

// winoOut writes, for blocks row blocks (src and dst advanced by srcStep
// and dstStep floats per block), y = Aᵀ·m over n columns: m's row k is
// src[k·srcStride:][:n], y's row r is dst[r·dstStride:][:n].
func winoOut(dst []float32, dstStride int, src []float32, srcStride, n, blocks, srcStep, dstStep int) {
	if !vec16 || n == 0 || blocks == 0 {
		winoOutGo(dst, dstStride, src, srcStride, n, blocks, srcStep, dstStep)
		return
	}
	_, _ = dst[(blocks-1)*dstStep+3*dstStride+n-1], src[(blocks-1)*srcStep+5*srcStride+n-1]
	winoOut16(&dst[0], dstStride, &src[0], srcStride, n, blocks, srcStep, dstStep)
}

//go:noescape
func winoOutAct16(dst *float32, dstStride int, src *float32, srcStride, n, blocks, srcStep, dstStep int, res *float32, scale, shift, lo, hi float32, flags uint8)

// winoOutAct is winoOut followed by directOut on its rows: for blocks
// row blocks, dst = act(Aᵀ·m·scale + shift + res), res (nil: none) laid
// out as dst, in one pass and bit for bit as the two passes.
func winoOutAct(dst []float32, dstStride int, src []float32, srcStride, n, blocks, srcStep, dstStep int, res []float32, scale, shift float32, act outAct) {
	if !vec16 || n == 0 || blocks == 0 {
		winoOutActGo(dst, dstStride, src, srcStride, n, blocks, srcStep, dstStep, res, scale, shift, act)
		return
	}
	last := (blocks-1)*dstStep + 3*dstStride + n - 1
	_, _ = dst[last], src[(blocks-1)*srcStep+5*srcStride+n-1]
	var r *float32
	flags := act.bits()
	if res != nil {
		_ = res[last]
		r, flags = &res[0], flags|4
	}
	winoOutAct16(&dst[0], dstStride, &src[0], srcStride, n, blocks, srcStep, dstStep, r, scale, shift, act.lo, act.hi, flags)
}
