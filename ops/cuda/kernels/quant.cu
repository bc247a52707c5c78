// quant.cu — fake quantization (forward, straight-through and LSQ
// backward) and the int8 inference kernels: quantize/dequantize, int8
// im2col, the int8 GEMM (dp4a: four int8 products summed into int32 per
// instruction) with the fused bias + ReLU + requantize epilogue, and the
// integer attention of the Swin blocks.
#include "common.cuh"

QP_DEV float fq_round(float x, float s, float z) { return rintf(x / s) + z; }

// fakequant_f32: scale/zp have `channels` entries over (outer, channels,
// inner); zp may be null.
QP_KERNEL void fakequant_f32(const float* x, const float* scale, const float* zp, float* y, int n, int channels,
                             int inner, float qmin, float qmax) {
	int i = qp_index();
	if (i >= n) return;
	int c = channels > 1 ? (i / inner) % channels : 0;
	float s = scale[c], z = zp ? zp[c] : 0.0f;
	float q = fminf(fmaxf(fq_round(x[i], s, z), qmin), qmax);
	y[i] = (q - z) * s;
}

QP_KERNEL void fakequant_bwd_dx_f32(const float* x, const float* scale, const float* zp, const float* dy, float* dx,
                                    int n, int channels, int inner, float qmin, float qmax) {
	int i = qp_index();
	if (i >= n) return;
	int c = channels > 1 ? (i / inner) % channels : 0;
	float s = scale[c], z = zp ? zp[c] : 0.0f;
	float q = fq_round(x[i], s, z);
	if (q >= qmin && q <= qmax) dx[i] += dy[i];
}

// fakequant_bwd_scale_f32: one block per channel sums the LSQ gradient.
QP_KERNEL void fakequant_bwd_scale_f32(const float* x, const float* scale, const float* zp, const float* dy,
                                       float* dscale, int outer, int channels, int inner, float qmin, float qmax,
                                       float gradScale) {
	__shared__ double buf[QP_THREADS];
	int c = blockIdx.x;
	float s = scale[c], z = zp ? zp[c] : 0.0f;
	int n = outer * inner;
	double acc = 0;
	for (int i = threadIdx.x; i < n; i += QP_THREADS) {
		long long k = ((long long)(i / inner) * channels + c) * inner + i % inner;
		float v = x[k], q = fq_round(v, s, z), g;
		if (q < qmin) g = qmin - z;
		else if (q > qmax) g = qmax - z;
		else g = (q - z) - v / s;
		acc += (double)(dy[k] * g);
	}
	double sum = qp_block_sum(acc, buf);
	if (threadIdx.x == 0) dscale[c] += (float)sum * gradScale;
}

QP_DEV signed char sat8(float v, float lo) { return (signed char)rintf(fminf(fmaxf(v, lo), 127.0f)); }

// quantize_s8: q = sat8(roundEven(x·inv)).
QP_KERNEL void quantize_s8(const float* x, signed char* q, int n, float inv) {
	int i = qp_index();
	if (i < n) q[i] = sat8(x[i] * inv, -128.0f);
}

QP_KERNEL void dequantize_s8(const signed char* q, float* y, int n, float scale) {
	int i = qp_index();
	if (i < n) y[i] = (float)q[i] * scale;
}

// pad_rows_s8 copies (rows, k) int8 into rows of ldk bytes (ldk a multiple
// of 4), zero-filling the tail, so the GEMM reads whole 32-bit words.
QP_KERNEL void pad_rows_s8(const signed char* src, signed char* dst, int rows, int k, int ldk) {
	int i = qp_index();
	if (i >= rows * ldk) return;
	int r = i / ldk, c = i % ldk;
	dst[i] = c < k ? src[(long long)r * k + c] : (signed char)0;
}

// im2col_s8 writes patches as rows (N·OH·OW, C·KH·KW) in (c, i, j) order,
// each row ldk bytes (zero-padded past C·KH·KW).
struct ConvQ {
	int n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, ldk;
};

QP_KERNEL void im2col_s8(const signed char* x, signed char* rows, ConvQ p) {
	int idx = qp_index();
	int K = p.c * p.kh * p.kw;
	int total = p.n * p.oh * p.ow * p.ldk;
	if (idx >= total) return;
	int col = idx % p.ldk, row = idx / p.ldk;
	signed char v = 0;
	if (col < K) {
		int j = col % p.kw, i = (col / p.kw) % p.kh, c = col / (p.kw * p.kh);
		int ow = row % p.ow, oh = (row / p.ow) % p.oh, img = row / (p.ow * p.oh);
		int ih = oh * p.sh - p.ph + i * p.dh, iw = ow * p.sw - p.pw + j * p.dw;
		if (ih >= 0 && ih < p.h && iw >= 0 && iw < p.w) v = x[(((long long)img * p.c + c) * p.h + ih) * p.w + iw];
	}
	rows[idx] = v;
}

#define QT 64 // output tile edge
#define QK 16 // 32-bit words (64 int8 values) per k panel

// gemm_s8: acc[i,j] = Σ_k A[i,k]·W[j,k] exactly in int32 for A (m, k) and
// W (n, k), both with rows of kw 32-bit words (4·kw bytes, zero-padded);
// then v = float(acc + bias[j])·scale[j] and either outQ[i,j] =
// sat8(roundEven(clamp(v, relu ? 0 : -128, 127))) or, when outQ is null,
// outF[i,j] = relu ? max(v, 0) : v.
QP_KERNEL void gemm_s8(const int* A, const int* W, const int* bias, const float* scale, signed char* outQ, float* outF,
                       int m, int n, int kw, int relu) {
	__shared__ int As[QK][QT + 1];
	__shared__ int Bs[QK][QT + 1];
	int row0 = blockIdx.y * QT, col0 = blockIdx.x * QT;
	int t = threadIdx.x, tr = t / 16, tc = t % 16;
	int acc[4][4];
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++) acc[i][j] = 0;
	for (int k0 = 0; k0 < kw; k0 += QK) {
		for (int e = t; e < QT * QK; e += QP_THREADS) {
			int r = e / QK, kk = e % QK;
			int gk = k0 + kk;
			As[kk][r] = (row0 + r < m && gk < kw) ? A[(long long)(row0 + r) * kw + gk] : 0;
			Bs[kk][r] = (col0 + r < n && gk < kw) ? W[(long long)(col0 + r) * kw + gk] : 0;
		}
		__syncthreads();
		for (int kk = 0; kk < QK; kk++) {
			int av[4], bv[4];
			for (int i = 0; i < 4; i++) av[i] = As[kk][tr + 16 * i];
			for (int j = 0; j < 4; j++) bv[j] = Bs[kk][tc + 16 * j];
			for (int i = 0; i < 4; i++)
				for (int j = 0; j < 4; j++) acc[i][j] = __dp4a(av[i], bv[j], acc[i][j]);
		}
		__syncthreads();
	}
	for (int i = 0; i < 4; i++) {
		int gi = row0 + tr + 16 * i;
		if (gi >= m) continue;
		for (int j = 0; j < 4; j++) {
			int gj = col0 + tc + 16 * j;
			if (gj >= n) continue;
			float v = (float)(acc[i][j] + bias[gj]) * scale[gj];
			long long o = (long long)gi * n + gj;
			if (outQ) outQ[o] = sat8(v, relu ? 0.0f : -128.0f);
			else outF[o] = relu ? fmaxf(v, 0.0f) : v;
		}
	}
}

#define QP_ATTN_MAXN 256

// attention_s8: one thread per (batch entry, head, query row) of qkv (B,
// N, 3C) int8 codes; see ops.Int8AttentionParams for the arithmetic. The
// softmax shifts each row by its own maximum (the CPU's fast path shifts
// by the head's and redoes underflowing rows, so codes may differ by one).
QP_KERNEL void attention_s8(const signed char* qkv, const float* table, signed char* out, int B, int N, int C,
                            int H, int NT, int LDT, float alpha, float f) {
	int idx = qp_index();
	if (idx >= B * H * N) return;
	int i = idx % N, h = (idx / N) % H, b = idx / (N * H);
	int d = C / H, ld = 3 * C;
	const signed char* q = qkv + ((long long)b * N + i) * ld + h * d;
	const float* trow = table + (((long long)(b % NT) * H + h) * N + i) * LDT;
	float s[QP_ATTN_MAXN];
	float mx = -INFINITY;
	for (int j = 0; j < N; j++) {
		const signed char* k = qkv + ((long long)b * N + j) * ld + C + h * d;
		int dot = 0;
		for (int t = 0; t < d; t++) dot += (int)q[t] * (int)k[t];
		s[j] = (float)dot * alpha + trow[j];
		mx = fmaxf(mx, s[j]);
	}
	float sum = 0.0f;
	for (int j = 0; j < N; j++) {
		s[j] = expf(s[j] - mx);
		sum += s[j];
	}
	float g = 255.0f / sum;
	for (int j = 0; j < N; j++) s[j] = rintf(fminf(fmaxf(s[j] * g, 0.0f), 255.0f));
	signed char* o = out + ((long long)b * N + i) * C + h * d;
	for (int t = 0; t < d; t++) {
		int acc = 0;
		for (int j = 0; j < N; j++) acc += (int)s[j] * (int)qkv[((long long)b * N + j) * ld + 2 * C + h * d + t];
		o[t] = sat8((float)acc * f, -128.0f);
	}
}
