// conv.cu — the pieces of an im2col convolution (the products run on
// gemm_f32) and 2-D pooling. Backward passes gather: each input element
// sums the outputs that read it, in a fixed order, so no atomics are needed.
#include "common.cuh"

// Conv is ops.ConvParams for one image (N is the batch, used by pooling).
struct Conv {
	int n, c, h, w;
	int outc, kh, kw;
	int sh, sw, ph, pw, dh, dw;
	int groups, oh, ow;
};

// im2col_f32 writes one image's columns: cols[(c·KH+i)·KW+j][oh·OW+ow].
QP_KERNEL void im2col_f32(const float* x, float* cols, Conv p) {
	int idx = qp_index();
	int L = p.oh * p.ow;
	if (idx >= p.c * p.kh * p.kw * L) return;
	int l = idx % L, r = idx / L;
	int j = r % p.kw, i = (r / p.kw) % p.kh, c = r / (p.kw * p.kh);
	int oh = l / p.ow, ow = l % p.ow;
	int ih = oh * p.sh - p.ph + i * p.dh, iw = ow * p.sw - p.pw + j * p.dw;
	float v = 0.0f;
	if (ih >= 0 && ih < p.h && iw >= 0 && iw < p.w) v = x[((long long)c * p.h + ih) * p.w + iw];
	cols[idx] = v;
}

// col2im_f32 accumulates one image's column gradient into dx.
QP_KERNEL void col2im_f32(const float* cols, float* dx, Conv p) {
	int idx = qp_index();
	if (idx >= p.c * p.h * p.w) return;
	int iw = idx % p.w, ih = (idx / p.w) % p.h, c = idx / (p.w * p.h);
	int L = p.oh * p.ow;
	float s = 0.0f;
	for (int i = 0; i < p.kh; i++) {
		int t = ih + p.ph - i * p.dh;
		if (t < 0 || t % p.sh != 0) continue;
		int oh = t / p.sh;
		if (oh >= p.oh) continue;
		for (int j = 0; j < p.kw; j++) {
			int u = iw + p.pw - j * p.dw;
			if (u < 0 || u % p.sw != 0) continue;
			int ow = u / p.sw;
			if (ow >= p.ow) continue;
			s += cols[((long long)(c * p.kh + i) * p.kw + j) * L + oh * p.ow + ow];
		}
	}
	dx[idx] += s;
}

// bias_add_f32 adds b[c] to every element of channel c of (outer, C, inner).
QP_KERNEL void bias_add_f32(float* y, const float* b, int c, int inner, int n) {
	int i = qp_index();
	if (i < n) y[i] += b[(i / inner) % c];
}

// maxpool_f32 writes the window maxima and the flat index (within x) of
// each (the first maximum in window order; NaN is not propagated, as on
// the CPU).
QP_KERNEL void maxpool_f32(const float* x, float* y, int* argmax, Conv p) {
	int idx = qp_index();
	if (idx >= p.n * p.c * p.oh * p.ow) return;
	int ow = idx % p.ow, oh = (idx / p.ow) % p.oh, plane = idx / (p.ow * p.oh);
	long long base = (long long)plane * p.h * p.w;
	float m = -INFINITY;
	int at = -1;
	for (int i = 0; i < p.kh; i++) {
		int ih = oh * p.sh - p.ph + i;
		if (ih < 0 || ih >= p.h) continue;
		for (int j = 0; j < p.kw; j++) {
			int iw = ow * p.sw - p.pw + j;
			if (iw < 0 || iw >= p.w) continue;
			float v = x[base + ih * p.w + iw];
			if (at < 0 || v > m) {
				m = v;
				at = (int)(base + ih * p.w + iw);
			}
		}
	}
	y[idx] = m;
	argmax[idx] = at;
}

// maxpool_bwd_f32: each input element sums dy over the outputs whose
// argmax is it.
QP_KERNEL void maxpool_bwd_f32(const float* dy, const int* argmax, float* dx, Conv p) {
	int idx = qp_index();
	if (idx >= p.n * p.c * p.h * p.w) return;
	int iw = idx % p.w, ih = (idx / p.w) % p.h, plane = idx / (p.w * p.h);
	float s = 0.0f;
	for (int oh = 0; oh < p.oh; oh++) {
		int t = ih + p.ph - oh * p.sh;
		if (t < 0 || t >= p.kh) continue;
		for (int ow = 0; ow < p.ow; ow++) {
			int u = iw + p.pw - ow * p.sw;
			if (u < 0 || u >= p.kw) continue;
			long long o = ((long long)plane * p.oh + oh) * p.ow + ow;
			if (argmax[o] == idx) s += dy[o];
		}
	}
	dx[idx] += s;
}

// avg_count is the divisor of output (oh, ow): the whole window with
// count_include_pad (clipped to the padded input, as torch does), else the
// in-bounds part.
QP_DEV int avg_count(Conv p, int oh, int ow, int incl) {
	int h0 = oh * p.sh - p.ph, w0 = ow * p.sw - p.pw;
	int h1 = h0 + p.kh, w1 = w0 + p.kw;
	if (incl) {
		h1 = qp_imin(h1, p.h + p.ph);
		w1 = qp_imin(w1, p.w + p.pw);
		return (h1 - h0) * (w1 - w0);
	}
	h0 = qp_imax(h0, 0);
	w0 = qp_imax(w0, 0);
	h1 = qp_imin(h1, p.h);
	w1 = qp_imin(w1, p.w);
	return (h1 - h0) * (w1 - w0);
}

QP_KERNEL void avgpool_f32(const float* x, float* y, Conv p, int incl) {
	int idx = qp_index();
	if (idx >= p.n * p.c * p.oh * p.ow) return;
	int ow = idx % p.ow, oh = (idx / p.ow) % p.oh, plane = idx / (p.ow * p.oh);
	const float* xp = x + (long long)plane * p.h * p.w;
	float s = 0.0f;
	for (int i = 0; i < p.kh; i++) {
		int ih = oh * p.sh - p.ph + i;
		if (ih < 0 || ih >= p.h) continue;
		for (int j = 0; j < p.kw; j++) {
			int iw = ow * p.sw - p.pw + j;
			if (iw >= 0 && iw < p.w) s += xp[ih * p.w + iw];
		}
	}
	int cnt = avg_count(p, oh, ow, incl);
	y[idx] = s * (1.0f / (float)qp_imax(cnt, 1));
}

QP_KERNEL void avgpool_bwd_f32(const float* dy, float* dx, Conv p, int incl) {
	int idx = qp_index();
	if (idx >= p.n * p.c * p.h * p.w) return;
	int iw = idx % p.w, ih = (idx / p.w) % p.h, plane = idx / (p.w * p.h);
	float s = 0.0f;
	for (int oh = 0; oh < p.oh; oh++) {
		int t = ih + p.ph - oh * p.sh;
		if (t < 0 || t >= p.kh) continue;
		for (int ow = 0; ow < p.ow; ow++) {
			int u = iw + p.pw - ow * p.sw;
			if (u < 0 || u >= p.kw) continue;
			int cnt = avg_count(p, oh, ow, incl);
			s += dy[((long long)plane * p.oh + oh) * p.ow + ow] * (1.0f / (float)qp_imax(cnt, 1));
		}
	}
	dx[idx] += s;
}
