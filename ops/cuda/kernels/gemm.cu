// gemm.cu — tiled fp32 GEMM: C_i = alpha·op(A_i)·op(B_i) + beta·C_i for a
// batch of row-major matrices (grid.z is the batch index).
//
// A block computes a 64×64 tile of C with 256 threads, 4×4 outputs per
// thread, staging 64×16 panels of op(A) and 16×64 of op(B) in shared
// memory. Each output is summed over k in increasing order, so results do
// not depend on scheduling.
#include "common.cuh"

#define GT 64 // tile edge
#define GK 16 // k panel depth

QP_KERNEL void gemm_f32(const float* A, const float* B, float* C, int M, int N, int K,
                        int transA, int transB, long long strideA, long long strideB, long long strideC,
                        float alpha, float beta) {
	__shared__ float As[GK][GT + 1];
	__shared__ float Bs[GK][GT + 1];
	int bz = blockIdx.z;
	const float* a = A + bz * strideA;
	const float* b = B + bz * strideB;
	float* c = C + bz * strideC;
	int row0 = blockIdx.y * GT, col0 = blockIdx.x * GT;
	int t = threadIdx.x;
	int tr = t / 16, tc = t % 16; // this thread's outputs: rows tr+16i, cols tc+16j
	float acc[4][4];
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++) acc[i][j] = 0.0f;
	for (int k0 = 0; k0 < K; k0 += GK) {
		// 1024 elements of each panel, 4 per thread.
		for (int e = t; e < GT * GK; e += QP_THREADS) {
			int m = e / GK, kk = e % GK; // A panel: row m, depth kk
			int gm = row0 + m, gk = k0 + kk;
			float v = 0.0f;
			if (gm < M && gk < K) v = transA ? a[(long long)gk * M + gm] : a[(long long)gm * K + gk];
			As[kk][m] = v;
			int kb = e / GT, n = e % GT; // B panel: depth kb, column n
			int gn = col0 + n, gkb = k0 + kb;
			float w = 0.0f;
			if (gn < N && gkb < K) w = transB ? b[(long long)gn * K + gkb] : b[(long long)gkb * N + gn];
			Bs[kb][n] = w;
		}
		__syncthreads();
		for (int kk = 0; kk < GK; kk++) {
			float av[4], bv[4];
			for (int i = 0; i < 4; i++) av[i] = As[kk][tr + 16 * i];
			for (int j = 0; j < 4; j++) bv[j] = Bs[kk][tc + 16 * j];
			for (int i = 0; i < 4; i++)
				for (int j = 0; j < 4; j++) acc[i][j] += av[i] * bv[j];
		}
		__syncthreads();
	}
	for (int i = 0; i < 4; i++) {
		int gm = row0 + tr + 16 * i;
		if (gm >= M) continue;
		for (int j = 0; j < 4; j++) {
			int gn = col0 + tc + 16 * j;
			if (gn >= N) continue;
			float* p = c + (long long)gm * N + gn;
			float v = alpha * acc[i][j];
			if (beta != 0.0f) v += beta * *p;
			*p = v;
		}
	}
}
