// shim.h — the CUDA built-ins the kernels use, for compiling them as host
// C++ (ops/cuda/emu). Threads of a block run as cooperative coroutines:
// __syncthreads switches to the next thread, so each block runs phase by
// phase between barriers, as the CUDA execution model guarantees; blocks
// run one after another. Warp-level behaviour (shuffles, votes, memory
// ordering between warps without a barrier) is not modelled: the kernels
// do not rely on it.
#pragma once
#include <math.h>
#include <stdint.h>

struct qp_dim3 {
	unsigned x, y, z;
};
extern qp_dim3 qp_blockIdx, qp_blockDim, qp_gridDim, qp_threadIdx;
#define blockIdx qp_blockIdx
#define blockDim qp_blockDim
#define gridDim qp_gridDim
#define threadIdx qp_threadIdx

// Shared memory is one instance per kernel shared by the threads of the
// running block (blocks run one at a time).
#define __shared__ static
#define QP_KERNEL extern "C"
#define QP_DEV static inline

void __syncthreads();

// __dp4a: the sum of the four signed byte products of a and b, plus c.
static inline int __dp4a(int a, int b, int c) {
	for (int i = 0; i < 4; i++) c += (int)(signed char)(a >> (8 * i)) * (int)(signed char)(b >> (8 * i));
	return c;
}
