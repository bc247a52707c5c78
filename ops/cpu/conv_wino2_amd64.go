//go:build amd64 && !purego

package cpu

//go:noescape
func winoInH16(dst *float32, dstStride int, src *float32, srcStride int, masks *uint16, groups int)

//go:noescape
func winoOutH16(dst *float32, dstStride int, src *float32, srcStride int, masks *uint16, groups int)

// winoInH writes the row transform of six rows (src[k·srcStride:], k =
// 0..5) for the slots of masks (wino2Masks): slot j's columns 4j..4j+5
// give v = d·B, and the slots whose bit is set are packed one after the
// other: v_m of the i-th at dst[(6k+m)·dstStride + i]. A row of src must
// hold winoHRow(16·len(masks)) floats, a row of dst its count of slots
// plus 16 (the vector kernel reads and writes whole vectors).
func winoInH(dst []float32, dstStride int, src []float32, srcStride int, masks []uint16) {
	if !vec16 || len(masks) == 0 {
		winoInHGo(dst, dstStride, src, srcStride, masks)
		return
	}
	_, _ = dst[35*dstStride+maskCount(masks)+15], src[5*srcStride+winoHRow(16*len(masks))-1]
	winoInH16(&dst[0], dstStride, &src[0], srcStride, &masks[0], len(masks))
}

// winoOutH writes the row transform of the products packed as winoInH
// packs them (product 6i+m of the i-th slot set in masks at
// src[(6i+m)·srcStride + i]): for each row i of the 6×6 products, slot
// j's y = m·A into columns 4j..4j+3 of dst[i·dstStride:] (zeros for the
// slots not set). A row of src must hold its count of slots plus 16
// floats, a row of dst winoHOut(16·len(masks)).
func winoOutH(dst []float32, dstStride int, src []float32, srcStride int, masks []uint16) {
	if !vec16 || len(masks) == 0 {
		winoOutHGo(dst, dstStride, src, srcStride, masks)
		return
	}
	_, _ = dst[5*dstStride+winoHOut(16*len(masks))-1], src[35*srcStride+maskCount(masks)+15]
	winoOutH16(&dst[0], dstStride, &src[0], srcStride, &masks[0], len(masks))
}
