package gemm

import "math"

var (
	negInf = math.Inf(-1)
	posInf = math.Inf(1)
)

// requantRow applies the Requant epilogue (see Epilogue) to one row; it is
// the Go twin of the assembly tail and must round the same way.
func requantRow(dst []int8, acc, bias []int32, scale []float32, relu bool) {
	lo := float32(-128)
	if relu {
		lo = 0
	}
	for j, x := range acc {
		v := float32(x+bias[j]) * scale[j]
		v = min(max(v, lo), 127)
		dst[j] = int8(math.RoundToEven(float64(v)))
	}
}

// dequantRow applies the Dequant epilogue to one row.
func dequantRow(dst []float32, acc, bias []int32, scale []float32, relu bool) {
	for j, x := range acc {
		v := float32(x+bias[j]) * scale[j]
		if relu {
			v = max(v, 0)
		}
		dst[j] = v
	}
}

// goBlock is the portable int8 path: C[i0:i1, j0:j1] as dot products of A
// rows with B rows, four columns at a time, then the epilogue.
func (g *s8Problem) goBlock(i0, i1, j0, j1 int) {
	pb := g.pb
	k := pb.k
	acc := make([]int32, j1-j0)
	for i := i0; i < i1; i++ {
		var a []int8 // k == 0 allows an empty A
		if k > 0 {
			a = g.a[i*g.lda : i*g.lda+k]
		}
		j := j0
		for ; j+4 <= j1; j += 4 {
			acc[j-j0], acc[j-j0+1], acc[j-j0+2], acc[j-j0+3] = dot4S8(a, pb.s8[j*k:j*k+4*k])
		}
		for ; j < j1; j++ {
			acc[j-j0] = dotS8(a, pb.s8[j*k:j*k+k])
		}
		o := i*g.ldc + j0
		switch g.mode {
		case 0:
			copy(g.c32[o:o+j1-j0], acc)
		case 1:
			requantRow(g.c8[o:o+j1-j0], acc, g.ep.Bias[j0:], g.ep.Scale[j0:], g.ep.ReLU)
		default:
			dequantRow(g.cf[o:o+j1-j0], acc, g.ep.Bias[j0:], g.ep.Scale[j0:], g.ep.ReLU)
		}
	}
}

func dotS8(a, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	q := 0
	for ; q+4 <= len(a); q += 4 {
		s0 += int32(a[q]) * int32(b[q])
		s1 += int32(a[q+1]) * int32(b[q+1])
		s2 += int32(a[q+2]) * int32(b[q+2])
		s3 += int32(a[q+3]) * int32(b[q+3])
	}
	for ; q < len(a); q++ {
		s0 += int32(a[q]) * int32(b[q])
	}
	return s0 + s1 + s2 + s3
}

// dot4S8 returns the dot products of a with the four rows of b (stride len(a)).
func dot4S8(a, b []int8) (s0, s1, s2, s3 int32) {
	k := len(a)
	b0, b1, b2, b3 := b[:k], b[k:2*k], b[2*k:3*k], b[3*k:4*k]
	for q, v := range a {
		x := int32(v)
		s0 += x * int32(b0[q])
		s1 += x * int32(b1[q])
		s2 += x * int32(b2[q])
		s3 += x * int32(b3[q])
	}
	return
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
