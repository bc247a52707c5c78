//go:build amd64 && !purego

package cpu

import "golang.org/x/sys/cpu"

// vnni16 reports whether the int8 attention kernels of
// int8_attention_amd64.s run here.
var vnni16 = vec16 && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI

//go:noescape
func quantS8Row(x *float32, n int, inv float32, q *int8)

//go:noescape
func quantU8Row(x *float32, n int, f float32, q *uint8)

//go:noescape
func qkScoresVNNI(q *int8, ldq, rows int, kp *uint8, groups, blocks int, corr *int32, alpha float32, table *float32, ldt int, out *float32)

//go:noescape
func avRequantVNNI(p *uint8, ldp, rows int, vp *int8, groups, blocks int, f float32, out *int8, ldo int)

//go:noescape
func rowsQuantU8(e *float32, rows, blocks int, tiny float32, p *uint8, ldp int) (bad int)
