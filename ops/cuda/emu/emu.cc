//go:build linux && amd64 && cgo

// emu.cc — runs the CUDA kernels of ops/cuda/kernels on the host (see
// shim.h): a launch runs the grid's blocks in order, each block's threads
// as coroutines switched at __syncthreads. Kernels without a
// barrier run their threads as plain calls.
#include <map>
#include <string>
#include <utility>
#include <vector>
#include <string.h>

#include "../kernels/all.cu"
#include "emu.h"

qp_dim3 qp_blockIdx, qp_blockDim, qp_gridDim, qp_threadIdx;

namespace {

typedef void (*tramp)(void**);

template <typename T>
struct arg_type {
	typedef T type;
};

template <typename... A, size_t... I>
void call_with(void (*f)(A...), void** args, std::index_sequence<I...>) {
	f(*static_cast<A*>(args[I])...);
}

template <typename... A>
void call(void (*f)(A...), void** args) {
	call_with(f, args, std::index_sequence_for<A...>{});
}

struct kernel {
	tramp fn;
	bool sync; // uses __syncthreads
};

#define K(name) {#name, {[](void** a) { call(name, a); }, false}}
#define KS(name) {#name, {[](void** a) { call(name, a); }, true}}

const std::map<std::string, kernel> kernels = {
	K(unary_f32), K(unary_bwd_f32), K(binary_f32), K(affine_f32), K(axpby_f32), KS(sumto_f32),
	KS(gemm_f32),
	K(softmax_f32), K(softmax_bwd_f32), K(crossentropy_f32), K(crossentropy_bwd_f32),
	K(im2col_f32), K(col2im_f32), K(bias_add_f32), K(maxpool_f32), K(maxpool_bwd_f32), K(avgpool_f32), K(avgpool_bwd_f32),
	KS(bn_stats_f32), K(bn_f32), KS(bn_bwd_f32), K(ln_f32), K(ln_bwd_dx_f32), K(ln_bwd_params_f32),
	K(permute_f32), K(slice_f32), K(slice_bwd_f32), K(roll_f32), K(gather_f32), K(scatter_add_f32),
	K(fakequant_f32), K(fakequant_bwd_dx_f32), KS(fakequant_bwd_scale_f32),
	K(quantize_s8), K(dequantize_s8), K(pad_rows_s8), K(im2col_s8), KS(gemm_s8), K(attention_s8),
};

// Coroutine state of the running block: each emulated thread has its own
// stack; qp_emu_swap saves the callee-saved registers on the current stack
// and switches stacks (x86-64 System V; a few nanoseconds, where
// swapcontext's signal-mask system calls cost microseconds).
const size_t stackSize = 32 << 10;
void* sched;                 // the scheduler's saved stack pointer
std::vector<void*> threads;  // each thread's saved stack pointer
std::vector<char> stacks;
std::vector<int> finished;
int current = -1;     // running coroutine, -1 outside a coroutine
bool barrierError;    // __syncthreads called by a kernel registered without
tramp running;
void** runningArgs;

} // namespace

extern "C" void qp_emu_swap(void** save, void* to);
asm(".text\n"
    ".globl qp_emu_swap\n"
    ".type qp_emu_swap, @function\n"
    "qp_emu_swap:\n"
    "\tpushq %rbp\n\tpushq %rbx\n\tpushq %r12\n\tpushq %r13\n\tpushq %r14\n\tpushq %r15\n"
    "\tmovq %rsp, (%rdi)\n"
    "\tmovq %rsi, %rsp\n"
    "\tpopq %r15\n\tpopq %r14\n\tpopq %r13\n\tpopq %r12\n\tpopq %rbx\n\tpopq %rbp\n"
    "\tret\n"
    ".size qp_emu_swap, .-qp_emu_swap\n");

namespace {

// entry starts a thread: it runs the kernel, marks the thread finished and
// hands back to the scheduler for good.
void entry() {
	running(runningArgs);
	finished[current] = 1;
	void* dead;
	qp_emu_swap(&dead, sched);
}

// initStack lays out a fresh stack so that switching to it "returns" into
// entry with the ABI's alignment (rsp ≡ 8 mod 16 at function entry).
void* initStack(char* base) {
	uintptr_t top = ((uintptr_t)(base + stackSize)) & ~(uintptr_t)15;
	void** sp = (void**)top;
	*--sp = nullptr;           // entry's return address: never used
	*--sp = (void*)entry;      // popped by ret
	for (int i = 0; i < 6; i++) *--sp = nullptr; // r15 r14 r13 r12 rbx rbp
	return sp;
}

void setThread(int t) {
	qp_threadIdx.x = t % qp_blockDim.x;
	qp_threadIdx.y = (t / qp_blockDim.x) % qp_blockDim.y;
	qp_threadIdx.z = t / (qp_blockDim.x * qp_blockDim.y);
}

// runBlock runs every thread of the current block to completion, phase by
// phase.
int runBlock(int n) {
	if ((int)threads.size() < n) {
		threads.resize(n);
		stacks.resize((size_t)n * stackSize);
		finished.resize(n);
	}
	for (int t = 0; t < n; t++) {
		threads[t] = initStack(&stacks[(size_t)t * stackSize]);
		finished[t] = 0;
	}
	for (int live = n; live > 0;) {
		live = 0;
		for (int t = 0; t < n; t++) {
			if (finished[t]) continue;
			current = t;
			setThread(t);
			qp_emu_swap(&sched, threads[t]);
			if (!finished[t]) live++;
		}
		// A phase ends when every thread reached the barrier or returned;
		// threads that returned while others wait at a barrier are allowed.
	}
	current = -1;
	return 0;
}

} // namespace

void __syncthreads() {
	if (current < 0) {
		barrierError = true;
		return;
	}
	qp_emu_swap(&threads[current], sched);
}

extern "C" int qp_emu_has(const char* name) { return kernels.count(name) ? 1 : 0; }

extern "C" int qp_emu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                             unsigned bz, void** args) {
	auto it = kernels.find(name);
	if (it == kernels.end()) return QP_EMU_UNKNOWN;
	const kernel& k = it->second;
	qp_gridDim = {gx, gy, gz};
	qp_blockDim = {bx, by, bz};
	int n = (int)(bx * by * bz);
	barrierError = false;
	for (unsigned z = 0; z < gz; z++)
		for (unsigned y = 0; y < gy; y++)
			for (unsigned x = 0; x < gx; x++) {
				qp_blockIdx = {x, y, z};
				if (k.sync) {
					running = k.fn;
					runningArgs = args;
					runBlock(n);
					continue;
				}
				for (int t = 0; t < n; t++) {
					setThread(t);
					k.fn(args);
				}
				if (barrierError) return QP_EMU_BARRIER;
			}
	return 0;
}
