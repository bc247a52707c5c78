//go:build cuda

package main

// The GPU backend (ops/cuda on gorgonia.org/cu). On a machine without a
// usable GPU the binary still starts: ops/cuda keeps cu's init from
// exiting and `--device cuda` fails with the driver's reason
// (docs/cuda.md).
import _ "github.com/qpipe/qpipe/ops/cuda"
