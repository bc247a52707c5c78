// common.cuh — definitions shared by qpipe's CUDA kernels. The sources
// compile two ways: by nvcc to PTX (the committed qpipe.ptx the cuda
// backend loads) and, under ops/cuda/emu, by the host C++ compiler with
// emu/shim.h standing in for the CUDA built-ins, so the kernels' indexing
// and tiling are tested on machines without a GPU.
//
// Rules that keep both builds exact: no warp intrinsics (shuffles, votes),
// no atomics, no dynamic shared memory; every reduction has a fixed order
// (one thread, or a shared-memory tree between __syncthreads), so a kernel
// gives the same bits on every run. Sizes are int (the Go side refuses
// tensors of 2^31 elements or more).
#pragma once

#ifdef __CUDACC__
#define QP_KERNEL extern "C" __global__
#define QP_DEV static __device__ __forceinline__
#else
#include "shim.h"
#endif

#define QP_MAXDIMS 8

// Threads of a one-dimensional launch; the Go side sizes grids with it.
#define QP_THREADS 256

// qp_index is the global index of a one-dimensional launch.
QP_DEV int qp_index() { return (int)(blockIdx.x * blockDim.x + threadIdx.x); }

// Shape is a broadcast or reduction geometry passed by value: nd axes of
// the output with, per operand, the element stride of each axis (0 where
// the operand is broadcast along it).
struct Shape {
	int nd;
	int dim[QP_MAXDIMS];
	int sa[QP_MAXDIMS];
	int sb[QP_MAXDIMS];
};

// qp_block_sum reduces v over the block's QP_THREADS threads in a fixed
// tree order and returns the sum to every thread.
QP_DEV double qp_block_sum(double v, double* buf) {
	int t = threadIdx.x;
	buf[t] = v;
	__syncthreads();
	for (int w = QP_THREADS / 2; w > 0; w /= 2) {
		if (t < w) buf[t] += buf[t + w];
		__syncthreads();
	}
	double s = buf[0];
	__syncthreads();
	return s;
}

QP_DEV int qp_imin(int a, int b) { return a < b ? a : b; }
QP_DEV int qp_imax(int a, int b) { return a > b ? a : b; }
