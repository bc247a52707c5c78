// Package gemm owns the CPU matrix-multiply kernels: fp32 Sgemm and int8
// GEMM with int32 accumulation and fused requantize/dequantize epilogues.
//
// # fp32: a packed, cache-blocked GEMM (GotoBLAS/BLIS loop nest)
//
// For C = alpha*op(A)*op(B) + beta*C the driver walks
//
//	for jc in N step NC          // B panel kc×nc lives in L3
//	  for pc in K step KC        // beta is applied on the first pc only
//	    pack B[pc:pc+kc, jc:jc+nc] into NR-wide column panels (zero padded)
//	    for ic in M step MC      // A block mc×kc lives in L2
//	      for jr in nc step NR   // one packed B micro-panel stays in L1
//	        for ir in mc step MR // micro-kernel: MR×NR tile in registers
//
// The micro-kernel keeps an MR×NR tile of C in vector registers and, per k,
// loads one row of the B panel and broadcasts one element of each A row. A
// is read in place (each kernel is generated for a fixed row count and walks
// MR row pointers), so the common row-major A is never repacked; only a
// transposed A or a row stride that maps every row to the same cache sets
// (a multiple of 4 KiB) is first copied to a padded row-major buffer.
// Partial tiles use masked loads and stores, so edges cost no scalar code.
//
// Kernels: AVX-512 (14×32, 28 zmm accumulators), AVX2+FMA (6×16) and a
// portable Go kernel (4×4), chosen at start from the CPU features; the
// purego build tag keeps only the Go one. Kernel reports the choice. With
// AVX-512, packing uses assembly too (a 16×16 transpose for transposed
// operands, masked copies for B panels), and one to three rows of A times
// a transposed B (batch-1 inference: x·W^T) skip packing altogether: each
// output is a dot product of two contiguous rows.
//
// SgemmIndirect (implicit-GEMM convolution: B row k read in place at
// b + off[k]) has an AVX-512 9×48 kernel, with 9×16 and 9×32 variants for
// a row's last, narrower columns; SgemmIndirectEpilogue applies a
// per-row scale and shift, a residual and a clamp (RowEpilogue) to each
// tile as it is stored, so a 1×1 convolution writes its final output
// straight from the registers.
//
// Work is split over up to Threads() goroutines as a grid of C blocks (rows
// in multiples of MR, columns in multiples of NR) chosen to minimise the
// largest block's products plus its packing; each thread's share is cut in
// a few chunks that the threads take from a shared counter, so a thread
// that loses its core to another process does less of the work. Problems
// under about a million multiply-adds per thread run on the calling
// goroutine. The workers are long-lived goroutines that spin for a moment
// before they park, because waking a sleeping (virtual) CPU costs as much
// as a mid-sized GEMM.
//
// # int8
//
// GemmS8S8 and the Packed variants compute C(int32) = A(int8, m×k) *
// B(int8, n×k)^T exactly. With AVX-512 VNNI the kernel is vpdpbusd, which
// multiplies unsigned bytes by signed bytes. The weights are packed once
// (PackS8) as u8 = b+128 in 32-column panels of 4-byte k groups; A is read
// in place and broadcast as the signed operand, so a call never repacks its
// activations. The +128 adds 128*sum_k A[i,k] to every C[i,j]; the kernel
// starts each row's accumulators at -128*rowsum(A[i,:]) (one vpdpbusd pass
// over A), so the result is exact (wraparound int32 arithmetic; exact for
// any k < 2^17). On AVX2 both sides are widened to int16 and multiplied with
// vpmaddwd, which cannot saturate. The Go fallback is a plain dot product.
package gemm
