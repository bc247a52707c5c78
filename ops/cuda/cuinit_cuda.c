//go:build cuda

// cuinit_cuda.c — keeps gorgonia.org/cu's package init from ending the
// process on a machine without a usable GPU.
//
// cu calls cuInit(0) in its init function and, when that fails, prints a
// line and calls os.Exit(1) — before main runs, so a -tags cuda binary
// could not even run on the CPU there, let alone say why. Go initializes
// every imported package before main and offers no way to import one
// conditionally, so the probe happens at the symbol: this definition of
// cuInit, linked into the executable, takes precedence over libcuda's for
// cu's call. It calls the driver's cuInit (the next definition in lookup
// order), records the result in qpipeCuInitResult and reports success, so
// cu's init returns. The backend's factory (driver_cu.go) reads the
// recorded result and turns a failure into an error that says what is
// wrong and what to run instead.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <cuda.h>

// qpipeCuInitResult: -1 cuInit was not called, -2 the driver's cuInit was
// not found, otherwise the driver's CUresult.
int qpipeCuInitResult = -1;

CUresult cuInit(unsigned int flags) {
	CUresult (*driver)(unsigned int) = (CUresult(*)(unsigned int))dlsym(RTLD_NEXT, "cuInit");
	if (driver == NULL) {
		qpipeCuInitResult = -2;
		return CUDA_SUCCESS;
	}
	qpipeCuInitResult = (int)driver(flags);
	return CUDA_SUCCESS;
}
