//go:build !amd64 || purego

package cpu

const vnni16 = false

func quantS8Row(x *float32, n int, inv float32, q *int8) { panic("cpu: no vector kernels") }
func quantU8Row(x *float32, n int, f float32, q *uint8)  { panic("cpu: no vector kernels") }
func qkScoresVNNI(q *int8, ldq, rows int, kp *uint8, groups, blocks int, corr *int32, alpha float32, table *float32, ldt int, out *float32) {
	panic("cpu: no vector kernels")
}
func avRequantVNNI(p *uint8, ldp, rows int, vp *int8, groups, blocks int, f float32, out *int8, ldo int) {
	panic("cpu: no vector kernels")
}

func rowsQuantU8(e *float32, rows, blocks int, tiny float32, p *uint8, ldp int) (bad int) {
	panic("cpu: no vector kernels")
}
