package gemm

// RequantRow applies the Requant epilogue (see Epilogue) to one row of
// int32 accumulators: the Go twin of the assembly tail, for reference
// kernels that must round exactly as the int8 kernels do. ep.Bias may be
// nil.
func RequantRow(dst []int8, acc []int32, ep Epilogue) {
	ep.Bias = orZeros(ep.Bias, len(acc))
	requantRow(dst, acc, ep, 0)
}

// DequantRow applies the Dequant epilogue to one row (ep.Bias may be nil).
func DequantRow(dst []float32, acc []int32, ep Epilogue) {
	ep.Bias = orZeros(ep.Bias, len(acc))
	dequantRow(dst, acc, ep, 0)
}

func orZeros(b []int32, n int) []int32 {
	if b == nil {
		return make([]int32, n)
	}
	return b
}
