//go:build amd64 && !purego

package cpu

//go:noescape
func wino22In16(dst, src *float32, C, vs int)

//go:noescape
func wino22InSide16(dst, src, h *float32, C, j0, nv, vs int)

//go:noescape
func wino22OutSide16(dst, src *float32, srcStride int, res *float32, scale, shift, lo, hi float32, flags uint8)

//go:noescape
func wino22Gemm16(m, u, v *float32, C, ldu, rows, vs, ms int)

//go:noescape
func wino22Out16(dst, src *float32, srcStride int, res *float32, scale, shift, lo, hi float32, flags uint8)

// wino22In writes the F(2×2,3×3) input transform of the tile vectors
// j0..j1 of C channels of side×side planes (src[c·side²:]): point k of
// tile t of channel c at dst[(16·(t/16 - j0) + k)·vs + c·16 + t%16]
// (wino22InGo, bit for bit), h (wino22HLen(side) floats) the rows
// transformed along the rows.
func wino22In(dst, src, h []float32, C, side, j0, j1, vs int) {
	if !vec16 || C == 0 {
		wino22InGo(dst, src, C, side, j0, j1, vs)
		return
	}
	_, _ = dst[((j1-j0)*wino22Pts-1)*vs+C*16-1], src[C*side*side-1]
	if side == 8 {
		wino22In16(&dst[0], &src[0], C, vs)
		return
	}
	_ = h[wino22HLen(side)-1]
	if j0 < 0 || j1 > wino22Vecs(side) || j1 <= j0 {
		panic("wino22In: tile vectors out of range")
	}
	wino22InSide16(&dst[0], &src[0], &h[0], C, j0, j1-j0, vs)
}

// wino22Out writes the 64 outputs dst (64/side rows of a side×side
// plane) of a vector of 16 tiles, act(Aᵀ·M·A·scale + shift + res), from
// its product vectors src[k·srcStride:][:16] (res nil: none;
// wino22OutGo, bit for bit).
func wino22Out(dst, src []float32, srcStride, side int, res []float32, scale, shift float32, act outAct) {
	if !vec16 {
		wino22OutGo(dst, src, srcStride, side, res, scale, shift, act)
		return
	}
	_, _ = dst[63], src[(wino22Pts-1)*srcStride+15]
	var r *float32
	flags := act.bits()
	if res != nil {
		_ = res[63]
		r, flags = &res[0], flags|4
	}
	if side == 8 {
		wino22Out16(&dst[0], &src[0], srcStride, r, scale, shift, act.lo, act.hi, flags)
	} else {
		wino22OutSide16(&dst[0], &src[0], srcStride, r, scale, shift, act.lo, act.hi, flags)
	}
}

// wino22Gemm computes the 16 products M_k = U_k·V_k over rows output
// channels: M_k's row o (16 tiles) at m[k·ms + o·16:], U_k's entry
// (o, c) at u[(k·C + c)·ldu + o], V_k's row c at v[k·vs + c·16:]. Each
// output is an FMA chain over c from zero, whatever rows is.
func wino22Gemm(m, u, v []float32, C, ldu, rows, vs, ms int) {
	if !vec16 || C == 0 || rows == 0 {
		wino22GemmGo(m, u, v, C, ldu, rows, vs, ms)
		return
	}
	_, _, _ = m[(wino22Pts-1)*ms+rows*16-1], u[((wino22Pts-1)*C+C-1)*ldu+rows-1], v[(wino22Pts-1)*vs+C*16-1]
	wino22Gemm16(&m[0], &u[0], &v[0], C, ldu, rows, vs, ms)
}
