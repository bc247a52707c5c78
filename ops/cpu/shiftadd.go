package cpu

import (
	"fmt"
	"math/bits"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// ShiftAdd is the cpu backend whose int8 GEMMs run the reference
// shift-and-add kernel when a layer's weights are all zero or signed powers
// of two (log2-quantized layers: weight code ±2^s): each product a·w is
// a<<s, added or subtracted, so the int32 accumulator is exact by
// construction. Layers with other weights (the uniform 8-bit first and
// last layers) run on the embedded backend's int8 kernel. Everything else
// is the cpu backend. It is the reference the fast path (the VNNI int8
// kernels carrying the power-of-two codes as small integers) must match
// bit for bit; it is not fast.
type ShiftAdd struct{ *Backend }

// NewShiftAdd wraps a cpu backend.
func NewShiftAdd(b *Backend) ShiftAdd { return ShiftAdd{b} }

// Name distinguishes the reference's prepared weights from the cpu
// backend's (the executor caches them per backend name).
func (ShiftAdd) Name() string { return "cpu-shiftadd" }

// ShiftCodes is an (n, k) weight as sign and shift codes: w = Sign·2^Shift.
type ShiftCodes struct {
	N, K  int
	Sign  []int8 // -1, 0, +1
	Shift []uint8
}

// DecodeShift splits int8 weights into sign and shift codes; ok is false
// when some weight is not zero or ±2^s.
func DecodeShift(w []int8, n, k int) (ShiftCodes, bool) {
	c := ShiftCodes{N: n, K: k, Sign: make([]int8, len(w)), Shift: make([]uint8, len(w))}
	for i, v := range w {
		a := int(v)
		if a < 0 {
			a = -a
			c.Sign[i] = -1
		} else if a > 0 {
			c.Sign[i] = 1
		}
		if a&(a-1) != 0 {
			return c, false
		}
		if a > 0 {
			c.Shift[i] = uint8(bits.TrailingZeros(uint(a)))
		}
	}
	return c, true
}

// PackInt8 keeps power-of-two weights as shift codes, others packed for
// the int8 kernel.
func (s ShiftAdd) PackInt8(w []int8, n, k int) (ops.PackedInt8, error) {
	if c, ok := DecodeShift(w, n, k); ok {
		return c, nil
	}
	return s.Backend.PackInt8(w, n, k)
}

// ShiftAddGemm writes acc[i,j] = Σ_k (a[i,k] << Shift[j,k]) · Sign[j,k]
// for A (m, k): shifts and adds only.
func ShiftAddGemm(m int, a []int8, w ShiftCodes, acc []int32) {
	for i := range m {
		row := a[i*w.K : (i+1)*w.K]
		for j := range w.N {
			sg, sh := w.Sign[j*w.K:(j+1)*w.K], w.Shift[j*w.K:(j+1)*w.K]
			var s int32
			for t, x := range row {
				switch sg[t] {
				case 1:
					s += int32(x) << sh[t]
				case -1:
					s -= int32(x) << sh[t]
				}
			}
			acc[i*w.N+j] = s
		}
	}
}

// Int8Gemm runs ShiftAddGemm and the int8 kernels' epilogue (gemm's Go
// twin of it) for shift codes, the embedded kernel otherwise.
func (s ShiftAdd) Int8Gemm(m int, a []int8, w ops.PackedInt8, ep ops.Int8Epilogue, outQ []int8, outF []float32) error {
	c, ok := w.(ShiftCodes)
	if !ok {
		return s.Backend.Int8Gemm(m, a, w, ep, outQ, outF)
	}
	if len(a) < m*c.K {
		return fmt.Errorf("shift-add gemm: %d activations for %d×%d", len(a), m, c.K)
	}
	acc := make([]int32, m*c.N)
	ShiftAddGemm(m, a, c, acc)
	for i := range m {
		row := acc[i*c.N : (i+1)*c.N]
		if outQ != nil {
			gemm.RequantRow(outQ[i*c.N:(i+1)*c.N], row, gemmEpilogue(ep))
		} else {
			gemm.DequantRow(outF[i*c.N:(i+1)*c.N], row, gemmEpilogue(ep))
		}
	}
	return nil
}
