// Package adcorda is AdCorDA (Shen et al. 2024, arXiv:2401.13212):
// refining a trained classifier by changing its training set.
//
// Stage 1, Correct: every training sample the model gets wrong receives a
// targeted attack toward its true label inside an L-infinity ball
// (x' = clip(x - a*sign(grad_x CE(f(x), y))), projected, stopping once the
// model classifies it right); the corrected samples replace the wrong ones,
// giving the set D'. Stage 2, Aligner: training on D' (source) with the
// Deep CORAL loss (Sun & Saenko 2016) that aligns the covariances of the
// penultimate-layer features of D' batches with those of batches of the
// original set D (target):
//
//	L = CE(f(x_s), y_s) + lambda * ||C_S - C_T||_F^2 / (4 d^2)
//
// Both stages run the model as it is, so a weight-quantized model is
// attacked and trained through its fake-quantized forward with
// straight-through gradients.
package adcorda
