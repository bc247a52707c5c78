//go:build !amd64 || purego

package gemm

// Without amd64 assembly only the Go kernels exist.

func rowCorrVNNI(a *int8, lda, m, k int, corr *int32) { panic("gemm: no VNNI kernel") }
