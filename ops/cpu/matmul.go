package cpu

import (
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/cpu/gemm"
)

// sgemm is the single indirection to the fp32 GEMM kernels.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Gemm runs a batched strided GEMM; each product is parallel inside the
// gemm package, so batches run one after another.
func (b *Backend) Gemm(p ops.GemmParams, x, y, out *ops.Tensor) error {
	lda, ldb := p.K, p.N
	if p.TransA {
		lda = p.M
	}
	if p.TransB {
		ldb = p.K
	}
	sizeA, sizeB, sizeC := p.M*p.K, p.K*p.N, p.M*p.N
	one := func(i int) {
		a := x.Data[i*p.StrideA : i*p.StrideA+sizeA]
		bb := y.Data[i*p.StrideB : i*p.StrideB+sizeB]
		c := out.Data[i*p.StrideC : i*p.StrideC+sizeC]
		sgemm(p.TransA, p.TransB, p.M, p.N, p.K, p.Alpha, a, lda, bb, ldb, p.Beta, c, p.N)
	}
	batch := max(p.Batch, 1)
	if batch > 1 && p.StrideC != 0 && sizeA*p.N < smallGemm {
		// Many small products (attention heads): one per worker chunk.
		b.w.For(batch, 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				one(i)
			}
		})
		return nil
	}
	for i := range batch {
		one(i)
	}
	return nil
}

// smallGemm is the multiply-add count under which the gemm package runs a
// product on one goroutine, so batches of them are spread over workers.
const smallGemm = 1 << 20
