package gemm

import "math"

var (
	negInf = math.Inf(-1)
	posInf = math.Inf(1)
)

// requantRow applies the Requant epilogue (see Epilogue) to one row of
// accumulators for columns j0..; it is the Go twin of the assembly tail
// and must round the same way. ep.Bias must not be nil.
func requantRow(dst []int8, acc []int32, ep Epilogue, j0 int) {
	lo, hi := ep.bounds(true)
	bias, scale := ep.Bias[j0:], ep.Scale[j0:]
	for j, x := range acc {
		v := float32(x+bias[j]) * scale[j]
		v = min(max(v, lo), hi)
		dst[j] = int8(math.RoundToEven(float64(v)))
	}
}

// dequantRow applies the Dequant epilogue to one row.
func dequantRow(dst []float32, acc []int32, ep Epilogue, j0 int) {
	lo, hi := ep.bounds(false)
	bias, scale := ep.Bias[j0:], ep.Scale[j0:]
	for j, x := range acc {
		v := float32(x+bias[j]) * scale[j]
		dst[j] = min(max(v, lo), hi)
	}
}

// RequantEpilogue builds the Epilogue of an int8 layer y = relu?(x*W^T + b)
// for symmetric quantization: activations x ≈ sa*qx (per tensor), weights
// W[j,:] ≈ sw[j]*qW[j,:] (per output channel), output y ≈ so*qy. bias (real
// units, len n, or nil) becomes int32 in units of sa*sw[j], rounded half to
// even and saturated.
func RequantEpilogue(sa float32, sw []float32, so float32, bias []float32, relu bool) Epilogue {
	ep := Epilogue{Scale: make([]float32, len(sw)), Bias: quantBias(sa, sw, bias), ReLU: relu}
	for j, w := range sw {
		ep.Scale[j] = sa * w / so
	}
	return ep
}

// DequantEpilogue is RequantEpilogue for a float32 output in real units
// (Scale[j] = sa*sw[j]), for a layer whose consumer continues in float.
func DequantEpilogue(sa float32, sw []float32, bias []float32, relu bool) Epilogue {
	ep := Epilogue{Scale: make([]float32, len(sw)), Bias: quantBias(sa, sw, bias), ReLU: relu}
	for j, w := range sw {
		ep.Scale[j] = sa * w
	}
	return ep
}

func quantBias(sa float32, sw, bias []float32) []int32 {
	if bias == nil {
		return nil
	}
	q := make([]int32, len(sw))
	for j, w := range sw {
		v := math.RoundToEven(float64(bias[j]) / (float64(sa) * float64(w)))
		q[j] = int32(max(min(v, math.MaxInt32), math.MinInt32))
	}
	return q
}
