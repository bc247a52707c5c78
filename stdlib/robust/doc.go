// Package robust measures how robust a classifier is (Shen et al. 2024,
// "Robustness of compressed networks"): accuracy on the clean test set,
// under a domain shift (another dataset with the same classes), under
// CIFAR-10-C style corruptions (ops/data.Corrupt) and under L-infinity
// adversarial attacks, FGSM (Goodfellow et al. 2015) and PGD with a random
// start (Madry et al. 2018).
//
// Attacks differentiate one model (the float or fake-quantized model, whose
// rounding passes straight-through gradients) and accuracy is measured on
// another, the model that is deployed (the integer engine's conversion of a
// quantized model), so the figures are those of what ships. Perturb is
// also the targeted, early-stopping attack of AdCorDA's correction stage.
//
// Attacks work in pixel space ([0, 1]); the dataset's normalization is
// applied inside, so eps is in pixels whatever the normalization.
package robust
