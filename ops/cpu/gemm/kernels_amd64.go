//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

//go:generate go run ./internal/gen -o kernels_amd64.s -stubs stubs_amd64.go

//go:noescape
func transpose16(dst *float32, lds int, src *float32, lsrc int)

//go:noescape
func sdotRows(a, b *float32, ldb, k, n int, out *float32)

//go:noescape
func packRows32(dst, src *float32, ld, rows, w int)

//go:noescape
func rowCorrVNNI(a *int8, lda, m, k int, corr *int32)

func init() {
	x := cpu.X86
	if x.HasAVX2 && x.HasFMA {
		registerF32(&f32Impl{name: "avx2+fma", mr: 6, nr: 16, kc: 256, mc: 72, nc: 2048,
			tile: func(rows int, p *sgemmArgs) { sgemmAVX2[rows](p) }})
		registerS8(&s8Impl{name: "avx2", kind: kindS16, mr: 6, nr: 16,
			tile: func(rows int, p *s8Args) { s16AVX2[rows](p) }})
	}
	if x.HasAVX512F && x.HasAVX512BW && x.HasAVX512VL && x.HasAVX2 && x.HasFMA {
		registerF32(&f32Impl{name: "avx512", mr: 14, nr: 32, kc: 256, mc: 168, nc: 3072,
			tile:    func(rows int, p *sgemmArgs) { sgemmAVX512[rows](p) },
			tileIdx: func(rows int, p *sgemmArgs) { sgemmIdxAVX512[rows](p) }, idxMR: 9, idxNR: 48,
			tileIdxStream: func(rows int, p *sgemmArgs) { sgemmIdxStreamAVX512[rows](p) },
			tileIdxNarrow: func(rows, vecs int, p *sgemmArgs) {
				if vecs == 1 {
					sgemmIdx16AVX512[rows](p)
				} else {
					sgemmIdx32AVX512[rows](p)
				}
			}, idxNarrow: 16,
			transpose: transpose16, dots: sdotRows, packRows: packRows32})
		if x.HasAVX512VNNI {
			registerS8(&s8Impl{name: "vnni", kind: kindVNNI, mr: 14, nr: 32,
				tile:   func(rows int, p *s8Args) { s8VNNI[rows](p) },
				tileU8: func(rows int, p *s8Args) { u8VNNI[rows](p) }})
		}
	}
}
