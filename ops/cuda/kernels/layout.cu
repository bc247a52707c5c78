// layout.cu — permute, slice, roll, gather/scatter, one thread per element
// (scatter: one thread per column, rows in order).
#include "common.cuh"

// permute_f32: s.dim is y's shape, s.sa the x stride of each y axis.
QP_KERNEL void permute_f32(const float* x, float* y, Shape s, int n) {
	int i = qp_index();
	if (i >= n) return;
	int r = i, off = 0;
	for (int d = s.nd - 1; d >= 0; d--) {
		off += (r % s.dim[d]) * s.sa[d];
		r /= s.dim[d];
	}
	y[i] = x[off];
}

// slice_f32: y (outer, len, inner) = x (outer, dim, inner) rows start+k·step.
QP_KERNEL void slice_f32(const float* x, float* y, int outer, int dim, int inner, int start, int step, int len) {
	int i = qp_index();
	if (i >= outer * len * inner) return;
	int in = i % inner, k = (i / inner) % len, o = i / (inner * len);
	y[i] = x[((long long)o * dim + start + k * step) * inner + in];
}

// slice_bwd_f32 accumulates dy into the selected rows of dx (distinct rows:
// step is non-zero).
QP_KERNEL void slice_bwd_f32(const float* dy, float* dx, int outer, int dim, int inner, int start, int step, int len) {
	int i = qp_index();
	if (i >= outer * len * inner) return;
	int in = i % inner, k = (i / inner) % len, o = i / (inner * len);
	dx[((long long)o * dim + start + k * step) * inner + in] += dy[i];
}

// roll_f32: y[.., (d+shift) mod dim, ..] = x[.., d, ..].
QP_KERNEL void roll_f32(const float* x, float* y, int outer, int dim, int inner, int shift) {
	int i = qp_index();
	if (i >= outer * dim * inner) return;
	int in = i % inner, d = (i / inner) % dim, o = i / (inner * dim);
	int src = ((d - shift) % dim + dim) % dim;
	y[i] = x[((long long)o * dim + src) * inner + in];
}

QP_KERNEL void gather_f32(const float* table, const int* index, float* y, int n, int d) {
	int i = qp_index();
	if (i >= n * d) return;
	y[i] = table[(long long)index[i / d] * d + i % d];
}

QP_KERNEL void scatter_add_f32(const float* dy, const int* index, float* dtable, int n, int d) {
	int j = qp_index();
	if (j >= d) return;
	for (int i = 0; i < n; i++) dtable[(long long)index[i] * d + j] += dy[(long long)i * d + j];
}
