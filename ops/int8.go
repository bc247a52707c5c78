package ops

import "fmt"

// runQLinear and runQConv2d execute the integer inference path; they need
// a backend implementing the int8 kernels.
func runQLinear(e *exec, n *Node, in []*Tensor) *Tensor {
	panic(&OpError{Op: string(n.Kind), Err: fmt.Errorf("int8 linear: %w", ErrNotImplemented)})
}

func runQConv2d(e *exec, n *Node, in []*Tensor) *Tensor {
	panic(&OpError{Op: string(n.Kind), Err: fmt.Errorf("int8 conv2d: %w", ErrNotImplemented)})
}
