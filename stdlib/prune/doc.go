// Package prune removes weights from a model by magnitude (Han et al.
// 2015 style unstructured pruning, and structured pruning of whole output
// channels by their L2 norm, Li et al. 2017).
//
// Unstructured pruning sets masks on the weights of convolution and linear
// layers (ops.Param.SetMask): the pruned weights become exactly zero and
// stay zero through later training, quantization, snapshots, checkpoints
// and exports, because the mask is part of the model. Each call removes
// the fraction ratio of the weights still unpruned, so repeating it
// compounds: k steps of ratio r leave (1-r)^k of the weights.
//
// Structured pruning removes output channels and rebuilds the network
// smaller: the layer's weight and bias lose rows, a batch norm after it
// loses the same channels, and the next convolution or linear layer loses
// the matching input channels (through activations, pooling and flatten).
// A layer whose output the rewrite cannot follow (a residual add, a
// concat, attention, the model's output) is left whole, and Structured
// says why.
package prune
