// elementwise.cu — unary functions and their derivatives, broadcasting
// binary arithmetic, affine maps. One thread per output element.
#include "common.cuh"

// Op codes match ops.UnaryOp.
#define U_IDENTITY 0
#define U_RELU 1
#define U_GELU 2
#define U_GELU_TANH 3
#define U_SILU 4
#define U_HARDSWISH 5
#define U_TANH 6
#define U_SIGMOID 7
#define U_EXP 8
#define U_LOG 9
#define U_SQRT 10
#define U_SQUARE 11
#define U_ABS 12
#define U_NEG 13
#define U_RECIP 14

#define GELU_TANH_K 0.7978845608028654f
#define GELU_TANH_CUBIC 0.044715f
#define INV_SQRT2 0.7071067811865476f
#define INV_SQRT_2PI 0.3989422804014327f

QP_DEV float qp_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

QP_DEV float unary_f(int op, float x) {
	switch (op) {
	case U_IDENTITY: return x;
	case U_RELU: return x > 0.0f ? x : 0.0f;
	case U_GELU: return 0.5f * x * (1.0f + erff(x * INV_SQRT2));
	case U_GELU_TANH: return 0.5f * x * (1.0f + tanhf(GELU_TANH_K * (x + GELU_TANH_CUBIC * x * x * x)));
	case U_SILU: return x * qp_sigmoid(x);
	case U_HARDSWISH: return x * fminf(fmaxf(x + 3.0f, 0.0f), 6.0f) / 6.0f;
	case U_TANH: return tanhf(x);
	case U_SIGMOID: return qp_sigmoid(x);
	case U_EXP: return expf(x);
	case U_LOG: return logf(x);
	case U_SQRT: return sqrtf(x);
	case U_SQUARE: return x * x;
	case U_ABS: return fabsf(x);
	case U_NEG: return -x;
	case U_RECIP: return 1.0f / x;
	}
	return 0.0f;
}

// unary_df is f'(x); y is f(x).
QP_DEV float unary_df(int op, float x, float y) {
	switch (op) {
	case U_IDENTITY: return 1.0f;
	case U_RELU: return x > 0.0f ? 1.0f : 0.0f;
	case U_GELU: return 0.5f * (1.0f + erff(x * INV_SQRT2)) + x * INV_SQRT_2PI * expf(-0.5f * x * x);
	case U_GELU_TANH: {
		float t = tanhf(GELU_TANH_K * (x + GELU_TANH_CUBIC * x * x * x));
		return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * GELU_TANH_K * (1.0f + 3.0f * GELU_TANH_CUBIC * x * x);
	}
	case U_SILU: {
		float s = qp_sigmoid(x);
		return s * (1.0f + x * (1.0f - s));
	}
	case U_HARDSWISH:
		if (x < -3.0f) return 0.0f;
		if (x > 3.0f) return 1.0f;
		return (2.0f * x + 3.0f) / 6.0f;
	case U_TANH: return 1.0f - y * y;
	case U_SIGMOID: return y * (1.0f - y);
	case U_EXP: return y;
	case U_LOG: return 1.0f / x;
	case U_SQRT: return 0.5f / y;
	case U_SQUARE: return 2.0f * x;
	case U_ABS: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
	case U_NEG: return -1.0f;
	case U_RECIP: return -y * y;
	}
	return 0.0f;
}

QP_KERNEL void unary_f32(int op, const float* x, float* y, int n) {
	int i = qp_index();
	if (i < n) y[i] = unary_f(op, x[i]);
}

// unary_bwd_f32 accumulates dx += f'(x)·dy.
QP_KERNEL void unary_bwd_f32(int op, const float* x, const float* y, const float* dy, float* dx, int n) {
	int i = qp_index();
	if (i < n) dx[i] += unary_df(op, x[i], y[i]) * dy[i];
}

// binary_f32 computes y = a op b over s's output shape, a and b read
// through their (possibly zero) strides. op: 0 add, 1 sub, 2 mul, 3 div.
QP_KERNEL void binary_f32(int op, const float* a, const float* b, float* y, Shape s, int n) {
	int i = qp_index();
	if (i >= n) return;
	int r = i, ia = 0, ib = 0;
	for (int d = s.nd - 1; d >= 0; d--) {
		int k = r % s.dim[d];
		r /= s.dim[d];
		ia += k * s.sa[d];
		ib += k * s.sb[d];
	}
	float u = a[ia], v = b[ib], o;
	switch (op) {
	case 0: o = u + v; break;
	case 1: o = u - v; break;
	case 2: o = u * v; break;
	default: o = u / v; break;
	}
	y[i] = o;
}

QP_KERNEL void affine_f32(const float* x, float* y, int n, float mul, float add) {
	int i = qp_index();
	if (i < n) y[i] = x[i] * mul + add;
}

// axpby_f32 computes y = beta·y + alpha·x (beta 0 ignores y's contents).
QP_KERNEL void axpby_f32(const float* x, float* y, int n, float alpha, float beta) {
	int i = qp_index();
	if (i >= n) return;
	float v = alpha * x[i];
	if (beta != 0.0f) v += beta * y[i];
	y[i] = v;
}

// sumto_f32 reduces x onto y: one block per y element; s.dim/s.sa are the
// kept axes (y's, with x's strides), s.sb holds the strides of the reduced
// axes whose sizes are in red (nred of them, total R elements).
struct Reduce {
	int nkeep;
	int kdim[QP_MAXDIMS];
	int kstride[QP_MAXDIMS];
	int nred;
	int rdim[QP_MAXDIMS];
	int rstride[QP_MAXDIMS];
};

QP_KERNEL void sumto_f32(const float* x, float* y, Reduce s, int total, float alpha, float beta) {
	__shared__ double buf[QP_THREADS];
	int o = blockIdx.x;
	int r = o, base = 0;
	for (int d = s.nkeep - 1; d >= 0; d--) {
		base += (r % s.kdim[d]) * s.kstride[d];
		r /= s.kdim[d];
	}
	double acc = 0;
	for (int j = threadIdx.x; j < total; j += QP_THREADS) {
		int q = j, off = base;
		for (int d = s.nred - 1; d >= 0; d--) {
			off += (q % s.rdim[d]) * s.rstride[d];
			q /= s.rdim[d];
		}
		acc += x[off];
	}
	double sum = qp_block_sum(acc, buf);
	if (threadIdx.x == 0) {
		float v = alpha * (float)sum;
		if (beta != 0.0f) v += beta * y[o];
		y[o] = v;
	}
}
