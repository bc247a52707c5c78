// all.cu — the one translation unit: nvcc compiles it to qpipe.ptx, and the
// host emulator (ops/cuda/emu) includes it.
#include "elementwise.cu"
#include "gemm.cu"
#include "softmax.cu"
#include "conv.cu"
#include "norm.cu"
#include "layout.cu"
#include "quant.cu"
