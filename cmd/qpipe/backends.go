package main

// The backends this binary can run on register themselves when linked.
// ops/cuda links only under the cuda build tag (backends_cuda.go, added
// with that backend), because its driver bindings exit the process at
// start on machines without a GPU.
import _ "github.com/qpipe/qpipe/ops/cpu"
