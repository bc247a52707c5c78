package stdlib

import (
	"fmt"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
)

var (
	quantEffects = check.Effects{NeedsModel: true, NeedsData: true, ChangesModel: true}
	learnEffects = check.Effects{NeedsModel: true, NeedsData: true, ChangesModel: true, Trains: true}
)

func quantizeSig() *check.Signature {
	return &check.Signature{
		Verb:    "quantize",
		Summary: "quantize weights and activations",
		Doc: "Replaces float weights and activations by low-bit ones. int8: symmetric per-channel " +
			"weights (s = max|W_c|/127) and per-tensor activations from calibration, post-training by " +
			"default or mode=qat. uniform: b-bit uniform levels, min/max or learned (LSQ) step sizes. " +
			"log2: the standard-deviation-based quantizer with power-of-two weight levels that prunes " +
			"as it quantizes (Ardakani et al. 2022). `quantize bits=4` means `quantize uniform bits=4`. " +
			"uniform and log2 keep the first and last linear/conv layers at first_last_bits (uniform), " +
			"take unsigned activation codes where a layer's input is never negative (after ReLU), " +
			"leave attention, norms and softmax in float (the step lists them) and report the zero " +
			"weight codes as sparsity (inner layers; sparsity_all and sparsity_LAYER too). The " +
			"quantized model stays current: evaluate runs it on the integer engine (log2 up to 4 " +
			"bits and uniform up to 8 ride the int8 kernels exactly; wider codes evaluate the " +
			"fake-quant graph), evaluate size and export safetensors count packed codes (bits per " +
			"weight plus scales), export checkpoint round-trips it exactly.",
		VariantNoun:    "quantizer",
		DefaultVariant: "uniform",
		Variants:       []check.Variant{int8Variant(), uniformVariant(), log2Variant()},
		Examples:       []string{"quantize int8 calibrate=percentile(99.99)", "quantize bits=4 method=lsq epochs=2", "quantize log2 bits=3 ratio=0.5 epochs=3"},
		Effects:        quantEffects,
		Metrics:        []check.Metric{{Name: "sparsity", Outcome: true, Type: check.TFraction, When: "log2", Doc: "Fraction of weights the log2 quantizer set to zero."}},
		Rules:          quantizeRules,
	}
}

func calibrateParam() check.Param {
	return check.Param{Name: "calibrate", Type: check.TCall, Default: "minmax", Values: []string{"minmax", "mse"}, Noun: "calibration",
		Calls: []check.CallForm{{Name: "percentile", Doc: "Clip at the P-th percentile of |activation|.",
			Params: []check.Param{{Name: "P", Type: check.TFloat, Min: fp(0), MinOpen: true, Max: fp(100), Doc: "Percentile in (0, 100]."}}}},
		Doc: "How activation ranges are calibrated: minmax, percentile(P) or mse (the clip minimising quantization error)."}
}

func int8Variant() check.Variant {
	return check.Variant{
		Name: "int8",
		Doc:  "INT8 weights and activations for integer GEMMs with INT32 accumulation.",
		Params: append([]check.Param{
			enumArg("mode", "ptq", []string{"ptq", "qat"}, "ptq: calibrate only; qat: then train with straight-through rounding."),
			enumArg("weights", "per_channel", []string{"per_channel", "per_tensor"}, "Granularity of the weight scales."),
			enumArg("activations", "per_tensor", []string{"per_tensor"}, "Granularity of the activation scales."),
			calibrateParam(),
			intArg("batches", 32, 1, 100000, "batches", "Calibration batches."),
		}, qatArgs(0, 1e-5)...),
		Effects:  &quantEffects,
		Examples: []string{"quantize int8 weights=per_channel activations=per_tensor calibrate=percentile(99.99)"},
	}
}

func uniformVariant() check.Variant {
	return check.Variant{
		Name: "uniform",
		Doc:  "b-bit uniform quantization; method=minmax takes ranges from the data, method=lsq learns step sizes.",
		Params: append([]check.Param{
			{Name: "bits", Type: check.TInt, Required: true, Min: fp(1), Max: fp(16), Unit: "bits", Doc: "Bits per weight (and activation unless activation_bits)."},
			enumArg("method", "minmax", []string{"minmax", "lsq"}, "minmax: post-training ranges; lsq: learned step size (trains)."),
			{Name: "activation_bits", Type: check.TInt, Min: fp(1), Max: fp(16), Unit: "bits", Doc: "Bits per activation (default: bits)."},
			enumArg("weights", "per_channel", []string{"per_channel", "per_tensor"}, "Granularity of the weight scales."),
			intArg("first_last_bits", 8, 1, 16, "bits", "Bits of the first and last layers."),
			calibrateParam(),
			intArg("batches", 32, 1, 100000, "batches", "Calibration batches."),
		}, qatArgs(0, 1e-4)...),
		Effects: &learnEffects,
	}
}

func log2Variant() check.Variant {
	return check.Variant{
		Name: "log2",
		Doc: "Power-of-two weights q = sign(w)*tau*2^round(log2(min(|w|/tau, 1))) with tau = alpha*std(W) " +
			"(alpha learned, LSQ-style gradient); |w| < beta*std(W) prunes to 0; activations b-bit uniform " +
			"on [0, alpha_A*sigma_A] with sigma_A an EMA. Multiplies become shifts.",
		Params: append([]check.Param{
			{Name: "bits", Type: check.TInt, Required: true, Min: fp(2), Max: fp(8), Unit: "bits", Doc: "Bits per weight: a sign and 2^(bits-1)-1 power-of-two magnitudes."},
			posFloat("alpha", 3.0, "std", "Initial clipping threshold in standard deviations, of weights (tau_W = alpha*std(W), alpha learned) and activations (tau_A = alpha*sigma_A)."),
			fraction("ratio", nil, "Target pruning ratio in [0, 1); beta = sqrt(2)*erfinv(ratio), the normal quantile (the achieved sparsity is reported: weights that are not normal, and levels below tau*2^-(2^(bits-1)-2), make it differ)."),
			nonNegFloat("beta", nil, "std", "Prune |w| < beta*std(W) (instead of ratio)."),
			{Name: "activation_bits", Type: check.TInt, Min: fp(1), Max: fp(16), Unit: "bits", Doc: "Bits per activation (default: bits)."},
			intArg("first_last_bits", 8, 2, 16, "bits", "Bits of the first and last layers."),
			{Name: "ema", Type: check.TFloat, Default: 0.9, Min: fp(0), Max: fp(1), MaxOpen: true, Doc: "Momentum of the activation standard-deviation EMA."},
		}, qatArgs(1, 1e-4)...),
		Effects:  &learnEffects,
		Examples: []string{"quantize log2 bits=3 ratio=0.5 epochs=3"},
	}
}

// quantizeRules records the quantizer and checks argument combinations.
func quantizeRules(st *check.State, step *check.Step) diag.Diagnostics {
	if _, ok := step.Args["activation_bits"]; !ok && step.Variant != "int8" {
		step.Args["activation_bits"] = step.Args["bits"]
	}
	ds := variantRules(step)
	if ds.HasErrors() {
		return ds // the step does not run: the model stays as it was
	}
	beginCompression(st, step)
	if q := st.Flag("quantized"); q != nil {
		if step.Variant != "int8" || q.Variant != "int8" {
			return errs(diag.Errorf(step.Span, fmt.Sprintf("the model is already quantized (quantize %s at line %d)", q.Variant, q.Line())).
				WithDetail("a low-bit quantizer cannot re-quantize fake-quantized weights; quantize once, from the float model (a `for` loop over quantizers branches from it)"))
		}
		ds = append(ds, warning(step.Span, fmt.Sprintf("the model is already quantized (line %d)", q.Line()),
			"quantizing again re-quantizes the fake-quantized weights; quantize once, from the float model"))
	}
	st.SetFlag("quantized", step)
	st.SetFlag("quantized:"+step.Variant, step)
	return ds
}

func variantRules(step *check.Step) diag.Diagnostics {
	switch {
	case step.Variant == "int8" && ident(step.Args["mode"]) == "ptq" && (step.Explicit["epochs"] || step.Explicit["lr"]):
		return errs(warning(step.Span, "epochs and lr are only used with mode=qat", "add mode=qat to train after calibration, or drop them"))
	case step.Variant == "int8" && ident(step.Args["mode"]) == "qat" && step.Args["epochs"].Int == 0:
		return errs(diag.Errorf(argSpan(step, "epochs"), "mode=qat needs epochs of at least 1").WithDetail("write epochs=1 or more"))
	case step.Variant == "uniform" && ident(step.Args["method"]) == "lsq" && step.Args["epochs"].Int == 0:
		return errs(diag.Errorf(argSpan(step, "epochs"), "method=lsq learns its step sizes and needs epochs of at least 1").WithDetail("write epochs=1 or more, or method=minmax"))
	case step.Variant == "log2" && step.Explicit["ratio"] && step.Args["ratio"].Number() >= 1:
		return errs(diag.Errorf(argSpan(step, "ratio"), "ratio=1 would prune every weight").
			WithDetail("ratio is the fraction of weights to prune: write a value below 1, e.g. ratio=0.5"))
	case step.Variant == "log2" && step.Explicit["ratio"] && step.Explicit["beta"]:
		return errs(diag.Errorf(step.Args["beta"].Span, "give ratio or beta, not both").
			WithDetail("ratio is a target sparsity, beta the threshold in standard deviations; ratio maps to beta"))
	}
	return nil
}

func pruneSig() *check.Signature {
	return &check.Signature{
		Verb:    "prune",
		Summary: "remove the smallest weights",
		Doc: "Magnitude pruning: masks the fraction `ratio` of the convolution and linear weights still " +
			"unpruned, those of smallest |w|, ranked over the whole model (scope=global) or within each " +
			"layer (scope=layer); repeated prunes compound (4 x 0.5 leave 6.25%). Masked weights stay " +
			"exactly zero through later training, quantization, snapshots, checkpoints, --resume and " +
			"exports. structured=true removes whole output channels by their L2 norm instead and " +
			"rebuilds the network smaller (a batch norm after the layer and the next layer's inputs " +
			"follow); a layer whose channels reach a residual add or the output keeps them, and the " +
			"step says why. Finetune or distill afterwards to recover accuracy.",
		VariantNoun:    "pruning method",
		DefaultVariant: "magnitude",
		Variants: []check.Variant{{Name: "magnitude", Doc: "Rank weights (or channels) by magnitude.",
			Params: []check.Param{
				{Name: "ratio", Type: check.TFraction, Required: true, Min: fp(0), Max: fp(1), MaxOpen: true, Unit: "fraction", Doc: "Fraction of weights (or channels) to remove."},
				enumArg("scope", "global", []string{"global", "layer"}, "Rank over the whole model or within each layer."),
				boolArg("structured", false, "Remove whole output channels instead of single weights."),
			}}},
		Examples: []string{"prune magnitude ratio=0.5", "prune ratio=30% scope=layer structured=true"},
		Effects:  check.Effects{NeedsModel: true, ChangesModel: true},
		Metrics:  []check.Metric{{Name: "sparsity", Outcome: true, Type: check.TFraction, Doc: "Fraction of weights that are zero after pruning."}},
		Rules: func(st *check.State, step *check.Step) diag.Diagnostics {
			beginCompression(st, step)
			st.SetFlag("pruned", step)
			return nil
		},
	}
}
