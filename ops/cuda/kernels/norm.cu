// norm.cu — batch norm (one block per channel for the statistics and the
// parameter gradients) and layer norm (one thread per row; one thread per
// column for dgamma/dbeta). Sums accumulate in double, as on the CPU.
#include "common.cuh"

// bn_sum computes Σ f over channel c of the (outer, C, inner) view.
QP_KERNEL void bn_stats_f32(const float* x, float* mean, float* var, int outer, int C, int inner) {
	__shared__ double buf[QP_THREADS];
	int c = blockIdx.x;
	int n = outer * inner;
	double s = 0;
	for (int i = threadIdx.x; i < n; i += QP_THREADS) s += x[((long long)(i / inner) * C + c) * inner + i % inner];
	double m = qp_block_sum(s, buf) / n;
	double v = 0;
	for (int i = threadIdx.x; i < n; i += QP_THREADS) {
		double d = x[((long long)(i / inner) * C + c) * inner + i % inner] - m;
		v += d * d;
	}
	double vs = qp_block_sum(v, buf);
	if (threadIdx.x == 0) {
		mean[c] = (float)m;
		var[c] = (float)(vs / n);
	}
}

// bn_f32: y = x·scale + shift per channel; gamma and beta may be null.
QP_KERNEL void bn_f32(const float* x, const float* mean, const float* invstd, const float* gamma, const float* beta,
                      float* y, int C, int inner, int n) {
	int i = qp_index();
	if (i >= n) return;
	int c = (i / inner) % C;
	float scale = invstd[c], shift = -mean[c] * invstd[c];
	if (gamma) {
		scale *= gamma[c];
		shift *= gamma[c];
	}
	if (beta) shift += beta[c];
	y[i] = x[i] * scale + shift;
}

// bn_bwd_f32: one block per channel; accumulates dgamma, dbeta and dx
// (each may be null).
QP_KERNEL void bn_bwd_f32(const float* x, const float* mean, const float* invstd, const float* gamma, const float* dy,
                          float* dx, float* dgamma, float* dbeta, int outer, int C, int inner, int batchStats) {
	__shared__ double buf[QP_THREADS];
	int c = blockIdx.x;
	int n = outer * inner;
	float m = mean[c], is = invstd[c];
	double sdy = 0, sdyx = 0;
	for (int i = threadIdx.x; i < n; i += QP_THREADS) {
		long long k = ((long long)(i / inner) * C + c) * inner + i % inner;
		float g = dy[k];
		sdy += g;
		sdyx += g * (x[k] - m) * is;
	}
	sdy = qp_block_sum(sdy, buf);
	sdyx = qp_block_sum(sdyx, buf);
	if (threadIdx.x == 0) {
		if (dgamma) dgamma[c] += (float)sdyx;
		if (dbeta) dbeta[c] += (float)sdy;
	}
	if (!dx) return;
	float k = is;
	if (gamma) k *= gamma[c];
	float a = 0.0f, bb = 0.0f;
	if (batchStats) {
		a = (float)(sdy / n);
		bb = (float)(sdyx / n);
	}
	for (int i = threadIdx.x; i < n; i += QP_THREADS) {
		long long q = ((long long)(i / inner) * C + c) * inner + i % inner;
		dx[q] += k * (dy[q] - a - (x[q] - m) * is * bb);
	}
}

QP_KERNEL void ln_f32(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                      int rows, int d, float eps) {
	int r = qp_index();
	if (r >= rows) return;
	const float* src = x + (long long)r * d;
	float* dst = y + (long long)r * d;
	double s = 0;
	for (int i = 0; i < d; i++) s += src[i];
	double m = s / d, v = 0;
	for (int i = 0; i < d; i++) v += (src[i] - m) * (src[i] - m);
	float is = (float)(1.0 / sqrt(v / d + (double)eps));
	float mf = (float)m;
	mean[r] = mf;
	rstd[r] = is;
	for (int i = 0; i < d; i++) {
		float h = (src[i] - mf) * is;
		if (gamma) h *= gamma[i];
		if (beta) h += beta[i];
		dst[i] = h;
	}
}

QP_KERNEL void ln_bwd_dx_f32(const float* x, const float* mean, const float* rstd, const float* gamma, const float* dy,
                             float* dx, int rows, int d) {
	int r = qp_index();
	if (r >= rows) return;
	const float* xs = x + (long long)r * d;
	const float* gs = dy + (long long)r * d;
	float* ds = dx + (long long)r * d;
	float m = mean[r], is = rstd[r];
	double sg = 0, sgx = 0;
	for (int i = 0; i < d; i++) {
		float g = gs[i];
		if (gamma) g *= gamma[i];
		sg += g;
		sgx += g * (xs[i] - m) * is;
	}
	float a = (float)(sg / d), c = (float)(sgx / d);
	for (int i = 0; i < d; i++) {
		float g = gs[i];
		if (gamma) g *= gamma[i];
		ds[i] += is * (g - a - (xs[i] - m) * is * c);
	}
}

QP_KERNEL void ln_bwd_params_f32(const float* x, const float* mean, const float* rstd, const float* dy, float* dgamma,
                                 float* dbeta, int rows, int d) {
	int i = qp_index();
	if (i >= d) return;
	double sg = 0, sb = 0;
	for (int r = 0; r < rows; r++) {
		long long k = (long long)r * d + i;
		sg += dy[k] * (x[k] - mean[r]) * rstd[r];
		sb += dy[k];
	}
	if (dgamma) dgamma[i] += (float)sg;
	if (dbeta) dbeta[i] += (float)sb;
}
