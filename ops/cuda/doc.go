// Package cuda is qpipe's GPU backend: every ops.Backend primitive
// (forward and backward) and the int8 inference kernels (ops.Int8Backend,
// ops.Int8AttentionBackend) as CUDA C kernels (ops/cuda/kernels, loaded as
// PTX), launched on a Device.
//
// The package itself is plain Go and builds everywhere: the real device,
// on gorgonia.org/cu, is in driver_cu.go under the `cuda` build tag, which
// registers the backend as "cuda"; ops/cuda/emu runs the same kernels on
// the host, which is how the conformance suite checks them on machines
// without a GPU. See docs/cuda.md.
//
// Each call copies its operands to the device, runs its kernels there
// (a convolution's columns and GEMMs never leave the device) and copies
// the results back: ops.Tensor keeps its data on the host, so a training
// step moves each op's operands across the bus. Every kernel reduces in a
// fixed order, so a call gives the same bits on every run.
package cuda
