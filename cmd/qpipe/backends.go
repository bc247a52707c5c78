package main

// The backends this binary can run on register themselves when linked.
// ops/cuda links only under the cuda build tag (backends_cuda.go): its
// driver bindings need libcuda at link time.
import _ "github.com/qpipe/qpipe/ops/cpu"
