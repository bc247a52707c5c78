//go:build amd64 && !purego

package cpu

//go:noescape
func directOut16(src *float32, lds int, dst, res *float32, rows, cols int, scale, shift float32, relu bool)

// directOut writes rows rows of cols outputs: dst = act(src·scale + shift
// + res) (res nil: none), src rows lds floats apart, dst and res packed.
func directOut(src []float32, lds int, dst, res []float32, rows, cols int, scale, shift float32, relu bool) {
	if !vec16 || rows == 0 || cols == 0 {
		directOutGo(src, lds, dst, res, rows, cols, scale, shift, relu)
		return
	}
	_, _ = src[(rows-1)*lds+cols-1], dst[rows*cols-1]
	var r *float32
	if res != nil {
		_ = res[rows*cols-1]
		r = &res[0]
	}
	directOut16(&src[0], lds, &dst[0], r, rows, cols, scale, shift, relu)
}
