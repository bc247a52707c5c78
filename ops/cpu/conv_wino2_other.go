//go:build !amd64 || purego

package cpu

// winoInH writes the row transform of six rows (src[k·srcStride:], k =
// 0..5) for the slots of masks (wino2Masks): slot j's columns 4j..4j+5
// give v = d·B, and the slots whose bit is set are packed one after the
// other: v_m of the i-th at dst[(6k+m)·dstStride + i].
func winoInH(dst []float32, dstStride int, src []float32, srcStride int, masks []uint16) {
	winoInHGo(dst, dstStride, src, srcStride, masks)
}

// winoOutH writes the row transform of the products packed as winoInH
// packs them (product 6i+m of the i-th slot set in masks at
// src[(6i+m)·srcStride + i]): for each row i of the 6×6 products, slot
// j's y = m·A into columns 4j..4j+3 of dst[i·dstStride:] (zeros for the
// slots not set).
func winoOutH(dst []float32, dstStride int, src []float32, srcStride int, masks []uint16) {
	winoOutHGo(dst, dstStride, src, srcStride, masks)
}
