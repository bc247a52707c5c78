// softmax.cu — softmax / log-softmax along the middle axis of an (Outer,
// Dim, Inner) view, its backward, and cross-entropy. One thread per line.
#include "common.cuh"

QP_KERNEL void softmax_f32(const float* x, float* y, int outer, int dim, int inner, int logsm) {
	int i = qp_index();
	if (i >= outer * inner) return;
	int o = i / inner, in = i % inner;
	const float* xl = x + (long long)o * dim * inner + in;
	float* yl = y + (long long)o * dim * inner + in;
	float m = -INFINITY;
	for (int d = 0; d < dim; d++) m = fmaxf(m, xl[d * inner]);
	float s = 0.0f;
	for (int d = 0; d < dim; d++) s += expf(xl[d * inner] - m);
	if (logsm) {
		float ls = logf(s);
		for (int d = 0; d < dim; d++) yl[d * inner] = xl[d * inner] - m - ls;
	} else {
		float inv = 1.0f / s;
		for (int d = 0; d < dim; d++) yl[d * inner] = expf(xl[d * inner] - m) * inv;
	}
}

// softmax_bwd_f32 accumulates dx: softmax dx = y·(dy - Σ dy·y); log-softmax
// dx = dy - exp(y)·Σ dy.
QP_KERNEL void softmax_bwd_f32(const float* y, const float* dy, float* dx, int outer, int dim, int inner, int logsm) {
	int i = qp_index();
	if (i >= outer * inner) return;
	long long base = (long long)(i / inner) * dim * inner + i % inner;
	float s = 0.0f;
	for (int d = 0; d < dim; d++) {
		long long k = base + (long long)d * inner;
		s += logsm ? dy[k] : dy[k] * y[k];
	}
	for (int d = 0; d < dim; d++) {
		long long k = base + (long long)d * inner;
		dx[k] += logsm ? dy[k] - expf(y[k]) * s : y[k] * (dy[k] - s);
	}
}

// crossentropy_f32: loss[r] = -log softmax(logits[r])[labels[r]]; probs
// receives the softmax.
QP_KERNEL void crossentropy_f32(const float* logits, const int* labels, float* probs, float* loss, int rows, int k) {
	int r = qp_index();
	if (r >= rows) return;
	const float* x = logits + (long long)r * k;
	float* p = probs + (long long)r * k;
	float m = -INFINITY;
	for (int i = 0; i < k; i++) m = fmaxf(m, x[i]);
	float s = 0.0f;
	for (int i = 0; i < k; i++) s += expf(x[i] - m);
	float ls = logf(s);
	loss[r] = -(x[labels[r]] - m - ls);
	for (int i = 0; i < k; i++) p[i] = expf(x[i] - m - ls);
}

// crossentropy_bwd_f32 accumulates dlogits += (probs - onehot)·dloss, one
// thread per element.
QP_KERNEL void crossentropy_bwd_f32(const float* probs, const int* labels, const float* dloss, float* dlogits, int rows, int k) {
	int i = qp_index();
	if (i >= rows * k) return;
	int r = i / k, c = i % k;
	float g = probs[i];
	if (c == labels[r]) g -= 1.0f;
	dlogits[i] += g * dloss[r];
}
