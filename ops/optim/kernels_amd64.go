//go:build amd64 && !purego

package optim

import "golang.org/x/sys/cpu"

// vecKernels reports whether the AVX-512 loops of kernels_amd64.s run here.
var vecKernels = cpu.X86.HasAVX512F

// sgdMomentum16 is sgdMomentum without Nesterov over n elements, n a
// multiple of 16.
//
//go:noescape
func sgdMomentum16(w, grad, buf *float32, n int, lr, wd, mom, damp float32)

// adamW16 is adamW over n elements, n a multiple of 16.
//
//go:noescape
func adamW16(w, grad, m, v *float32, n int, h *adamHyper)
