package gemm

import "unsafe"

// sgemmArgs is read by the generated fp32 kernels; its field offsets are
// fixed in internal/gen (fA..fNr) and checked by TestArgOffsets.
type sgemmArgs struct {
	a     *float32 // row 0 of the A tile; rows lda floats apart
	lda   int
	b     *float32 // packed kc×NR panel
	kc    int
	c     *float32 // C tile, rows ldc floats apart
	ldc   int
	alpha float32
	beta  float32
	nr    int  // valid columns (masked stores)
	boff  *int // sgemmIdxAVX512: B row k starts at b + boff[k] floats
	// sgemmIdxAVX512's fused output pass (see RowEpilogue), taken where
	// epi is not 0: flags epiOn | epiRes | epiFloor | epiCeil; scale and
	// shift at the tile's first row, res at its first element (rows ldc
	// floats apart, as C).
	epi          int
	scale, shift *float32
	res          *float32
	lo, hi       float32
}

// s8Args is read by the generated int8 kernels (offsets iA..iHi).
type s8Args struct {
	a     unsafe.Pointer // row 0 of the A tile (int8 for VNNI, int16 for AVX2)
	lda   int            // bytes
	b     unsafe.Pointer // packed panel
	k     int            // steps: k/4 (VNNI) or k/2 (AVX2)
	c     unsafe.Pointer // output tile
	ldc   int            // elements
	corr  *int32         // per-row start value (VNNI)
	bias  *int32
	scale *float32
	mode  int // 0 int32 out, 1 requantized int8, 2 dequantized float32
	nr    int
	lo    float32
	hi    float32
	// An implicit-GEMM A (VNNI): each row is segs runs of k steps, the
	// next run segSkip bytes past the end of the previous one (segs <= 1:
	// one run).
	segs    int
	segSkip int
}
