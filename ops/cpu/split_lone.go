package cpu

// loneWork is the multiply-adds of one image's convolution from which it
// is cut into a part per worker; below it the layer runs whole on the
// calling thread. resnet20's and the zoo cnn's batch-1 3×3 layers (2.4M
// and 3.6M) stay whole, resnet18's and MobileNetV2's batch-1 convolutions
// outside the inverted residual blocks (6.4M and up) are split.
//
// On two workers, resnet20's batch-1 forward with every such layer whole
// took 0.80-1.0 the time of the same forward with them split, and at
// most the time of one thread, on a quiet machine with the worker taking
// its part in nearly every split layer as well as under load
// (docs/performance.md, s13-r20). Tracing the split layers' tiles showed
// why: each part's GEMM took half the whole layer's (7 µs of 14 for a
// 32×32 layer) but its input transform and output pass, which read rows
// the other core wrote and write lines it last held, took 2.5-3.5 times
// as long as in the same tile on one thread, so a part took 13-15 µs
// where the whole layer takes one thread 17. Splitting only the layers
// whose weights outweigh their activations (resnet20's 8×8 stage) did
// not beat keeping them whole either.
const loneWork = 1 << 22

// splitsImage reports whether one image's convolution of macs
// multiply-adds is cut into a part per worker: with more than one worker
// and at least loneWork of them. The cut never changes an output bit.
func (b *Backend) splitsImage(macs int) bool {
	return b.w.n > 1 && macs >= loneWork
}
