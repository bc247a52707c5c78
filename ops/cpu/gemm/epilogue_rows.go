package gemm

// RequantRow applies the Requant epilogue (see Epilogue) to one row of
// int32 accumulators: the Go twin of the assembly tail, for reference
// kernels that must round exactly as the int8 kernels do. bias may be nil.
func RequantRow(dst []int8, acc, bias []int32, scale []float32, relu bool) {
	requantRow(dst, acc, orZeros(bias, len(acc)), scale, relu)
}

// DequantRow applies the Dequant epilogue to one row (bias may be nil).
func DequantRow(dst []float32, acc, bias []int32, scale []float32, relu bool) {
	dequantRow(dst, acc, orZeros(bias, len(acc)), scale, relu)
}

func orZeros(b []int32, n int) []int32 {
	if b == nil {
		return make([]int32, n)
	}
	return b
}
