package stdlib

import "github.com/qpipe/qpipe/lang/check"

// Vocabulary lists shared by several verbs.
var (
	activations = []string{"gelu", "gelu_tanh", "relu", "relu6", "silu", "hardswish", "leaky_relu", "sigmoid", "tanh"}
	zoo         = []string{"mlp", "cnn", "resnet20", "vit-tiny", "swin-micro"}
	datasets    = []string{"mnist", "fashion-mnist", "digits"}
	corruptions = []string{"gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "motion_blur",
		"brightness", "contrast", "fog", "pixelate", "jpeg", "elastic", "rotation"}
	attacks = []string{"fgsm", "pgd"}
)

func fp(x float64) *float64 { return &x }

// intArg is an integer argument with inclusive bounds (hi 0: no upper bound).
func intArg(name string, def any, lo, hi float64, unit, doc string) check.Param {
	p := check.Param{Name: name, Type: check.TInt, Default: def, Min: fp(lo), Unit: unit, Doc: doc}
	if hi != 0 {
		p.Max = fp(hi)
	}
	return p
}

// posFloat is a number that must be greater than 0.
func posFloat(name string, def any, unit, doc string) check.Param {
	return check.Param{Name: name, Type: check.TFloat, Default: def, Min: fp(0), MinOpen: true, Unit: unit, Doc: doc}
}

// nonNegFloat is a number that must be at least 0.
func nonNegFloat(name string, def any, unit, doc string) check.Param {
	return check.Param{Name: name, Type: check.TFloat, Default: def, Min: fp(0), Unit: unit, Doc: doc}
}

// fraction is a number in [0, 1] or a percent.
func fraction(name string, def any, doc string) check.Param {
	return check.Param{Name: name, Type: check.TFraction, Default: def, Unit: "fraction", Doc: doc}
}

func enumArg(name string, def string, values []string, doc string) check.Param {
	return check.Param{Name: name, Type: check.TEnum, Default: def, Values: values, Doc: doc}
}

func boolArg(name string, def bool, doc string) check.Param {
	return check.Param{Name: name, Type: check.TBool, Default: def, Doc: doc}
}

func pathSlot(doc string) check.Param {
	return check.Param{Name: "path", Type: check.TPath, Noun: "path", Doc: doc}
}

// batchArg is a training verb's mini-batch size: the data line's batch=
// when it wrote one, else 64.
func batchArg() check.Param {
	p := intArg("batch", 64, 1, 65536, "images", "Mini-batch size (default: the data line's batch=, else 64).")
	p.Inherit = "batch"
	return p
}

// trainingArgs are the optimiser arguments every training verb shares,
// with that verb's own defaults.
func trainingArgs(epochs int, lr float64, optimizer string, momentum, wd float64) []check.Param {
	return []check.Param{
		intArg("epochs", epochs, 1, 10000, "epochs", "Passes over the training set."),
		posFloat("lr", lr, "", "Peak learning rate."),
		enumArg("optimizer", optimizer, []string{"sgd", "adamw"}, "sgd (with momentum) or adamw."),
		{Name: "momentum", Type: check.TFloat, Default: momentum, Min: fp(0), Max: fp(1), MaxOpen: true, Doc: "SGD momentum (ignored by adamw)."},
		nonNegFloat("weight_decay", wd, "", "Decoupled weight decay (adamw) or L2 penalty (sgd)."),
		batchArg(),
		enumArg("schedule", "cosine", []string{"cosine", "step", "constant"}, "Learning-rate schedule over the run: cosine decay to 0, step (x0.1 at 50% and 75%), or constant."),
		intArg("warmup", 0, 0, 10000, "epochs", "Epochs of linear warm-up from 0 to lr before the schedule."),
	}
}

// qatArgs are the training arguments of quantizers that learn.
func qatArgs(epochs int, lr float64) []check.Param {
	return []check.Param{
		intArg("epochs", epochs, 0, 10000, "epochs", "Quantization-aware training epochs with straight-through rounding (0: no training)."),
		posFloat("lr", lr, "", "Learning rate of quantization-aware training."),
		batchArg(),
	}
}
