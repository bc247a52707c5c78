//go:build amd64 && !purego

package cpu

// dwInt8Row3 is one output row of the 3×3 int8 depthwise convolution
// (int8_dw_amd64.s, AVX-512): ow pixels of c channel-last channels; x is
// the padded input at the row's top-left tap (rows ldx bytes apart,
// pixels step bytes apart), w the int32 taps (9 rows wstride bytes
// apart), then per channel acc+bias, ·scale, clamp to [lo, hi], round
// half to even, saturate to int8 at out (c bytes per pixel).
//
//go:noescape
func dwInt8Row3(x *int8, ldx, step int, w *int32, wstride int, bias *int32, scale *float32, lo, hi float32, out *int8, ow, c int)
