//go:build !amd64 || purego

package optim

const vecKernels = false

func sgdMomentum16(w, grad, buf *float32, n int, lr, wd, mom, damp float32) {
	panic("optim: no vector kernels")
}

func adamW16(w, grad, m, v *float32, n int, h *adamHyper) { panic("optim: no vector kernels") }
