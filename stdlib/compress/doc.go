// Package compress holds the model-compression verbs' meaning over ops:
//
//   - Replace rewrites activations (gelu → relu ...) inside a scope of
//     module names;
//   - Distill recovers accuracy with iterative knowledge distillation
//     (teacher=original or previous, optionally one stage at a time);
//   - Quantizer, Observer and the int8 functions quantize a float model
//     (post-training calibration or quantization-aware training with
//     straight-through rounding) into a fake-quant graph, and ToInteger
//     turns that graph into ops' integer engine (qlinear/qconv2d nodes:
//     int8 GEMMs with int32 accumulation and fused bias+ReLU+requantize
//     epilogues).
//
// The functions work on *ops.Model and ops/data datasets and know nothing
// of the language; stdlib/run's verb_replace.go, verb_distill.go and
// verb_quantize.go map checked recipe steps onto them.
package compress
