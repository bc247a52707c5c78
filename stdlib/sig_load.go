package stdlib

import (
	"fmt"
	"strings"

	"github.com/qpipe/qpipe/lang/check"
	"github.com/qpipe/qpipe/lang/diag"
)

func modelSig() *check.Signature {
	return &check.Signature{
		Verb:    "model",
		Summary: "load the network to compress",
		Doc: "Loads the model every later step works on: a built-in architecture of the zoo " +
			"(mlp, cnn, resnet20, vit-tiny, swin-micro; freshly initialised, so train it next) or a " +
			"trained network from a file (.onnx or .safetensors). The loaded model is the snapshot " +
			"`original`. A recipe loads one model; --model or qpipe.hcl wins over this line.",
		Slots: []check.Param{{Name: "name", Type: check.TNameOrPath, Values: zoo, Noun: "model",
			Doc: "A zoo architecture or a quoted .onnx/.safetensors path."}},
		Params: []check.Param{
			intArg("classes", 10, 2, 100000, "classes", "Output classes of a zoo architecture."),
			intArg("seed", 1, 0, 0, "", "Seed of the initial weights of a zoo architecture."),
		},
		Examples: []string{"model swin-micro", `model "models/resnet20.onnx"`, "model mlp classes=10"},
		Effects:  check.Effects{LoadsModel: true},
		Rules:    modelRules,
	}
}

func modelRules(st *check.State, step *check.Step) diag.Diagnostics {
	if orig := st.Snapshots["original"]; st.ModelLoaded && orig != nil && orig.Span.IsValid() {
		return errs(diag.Errorf(step.Span, fmt.Sprintf("a model is already loaded at line %d", orig.Line())).
			WithDetail("a recipe loads one model; to compare models, sweep: `for m in [mlp, cnn] { model m ... }` before any other model line"))
	}
	name := step.Words["name"]
	if name.Kind == check.VString && !hasExt(name.Str, ".onnx", ".safetensors") {
		return errs(diag.Errorf(name.Span, fmt.Sprintf("cannot load %q: model files are .onnx or .safetensors", name.Str)).
			WithDetail("export the network to ONNX, or save its weights as safetensors next to a zoo architecture"))
	}
	return nil
}

func hasExt(path string, exts ...string) bool {
	for _, e := range exts {
		if strings.HasSuffix(strings.ToLower(path), e) {
			return true
		}
	}
	return false
}

func dataSig() *check.Signature {
	return &check.Signature{
		Verb:    "data",
		Summary: "bind the dataset",
		Doc: "Binds the training and test data of the steps that follow: a built-in dataset " +
			"(mnist, fashion-mnist, digits: the UCI 8x8 handwritten digits) or a format word and a path " +
			"(idx, cifar10, cifar100, imagefolder, npy). Pixels are float32 in [0, 1], channels first; " +
			"normalize=[MEAN, STD] (scalars or per-channel lists) normalises before the model. A later " +
			"`data` line switches datasets; --data or qpipe.hcl wins over the recipe.",
		VariantNoun: "dataset",
		Variants: append(builtinData(),
			fileData("idx", "MNIST-style IDX files (train/t10k images and labels, optionally gzipped) in a directory."),
			fileData("cifar10", "CIFAR-10 binary batches (data_batch_*.bin, test_batch.bin) in a directory."),
			fileData("cifar100", "CIFAR-100 binary files (train.bin, test.bin) in a directory."),
			fileData("imagefolder", "One sub-directory per class of PNG/JPEG images; train/ and test/ sub-trees when present."),
			fileData("npy", "x_train.npy, y_train.npy, x_test.npy, y_test.npy in a directory."),
		),
		Params: []check.Param{
			{Name: "normalize", Type: check.TExpr, Doc: "[MEAN, STD], or [[per-channel means], [per-channel stds]]; applied before the model."},
			boolArg("augment", false, "Random crops and flips on the training set."),
			intArg("batch", 64, 1, 65536, "images", "Default mini-batch size of the steps that follow."),
			{Name: "val_split", Type: check.TFraction, Default: 0.0, Max: fp(1), MaxOpen: true, Min: fp(0), Unit: "fraction",
				Doc: "Fraction of the training set held out for validation."},
			intArg("subset", 0, 0, 0, "images", "Use only the first N training images (0: all); for quick runs."),
		},
		Examples: []string{"data fashion-mnist", `data imagefolder "data/office31/amazon" augment=true`, "data mnist normalize=[0.1307, 0.3081] subset=5000"},
		Effects:  check.Effects{LoadsData: true},
		Rules:    dataRules,
	}
}

func builtinData() []check.Variant {
	docs := map[string]string{
		"mnist":         "MNIST handwritten digits, 28x28 grey, 60k/10k.",
		"fashion-mnist": "Fashion-MNIST clothing images, 28x28 grey, 60k/10k.",
		"digits":        "UCI handwritten digits, 8x8 grey, 1797 images (a domain shift from MNIST).",
	}
	out := make([]check.Variant, len(datasets))
	for i, d := range datasets {
		out[i] = check.Variant{Name: d, Doc: docs[d]}
	}
	return out
}

func fileData(name, doc string) check.Variant {
	return check.Variant{Name: name, Doc: doc, Slots: []check.Param{pathSlot("Directory or file to read.")}}
}

// dataRules checks normalize: two numbers, or two lists of one length,
// standard deviations above 0.
func dataRules(st *check.State, step *check.Step) diag.Diagnostics {
	v, ok := step.Args["normalize"]
	if !ok {
		return nil
	}
	bad := diag.Errorf(v.Span, "normalize takes [MEAN, STD] or [[MEANS...], [STDS...]]").
		WithDetail("for example normalize=[0.1307, 0.3081] or normalize=[[0.49, 0.48, 0.45], [0.25, 0.24, 0.26]]")
	if v.Kind != check.VList || len(v.List) != 2 {
		return errs(bad)
	}
	means, stds := numbers(v.List[0]), numbers(v.List[1])
	if means == nil || stds == nil || len(means) != len(stds) {
		return errs(bad)
	}
	for _, s := range stds {
		if s <= 0 {
			return errs(diag.Errorf(v.List[1].Span, "normalize: every standard deviation must be greater than 0"))
		}
	}
	return nil
}

// numbers reads a number or a list of numbers; nil when it is neither.
func numbers(v check.Value) []float64 {
	switch v.Kind {
	case check.VInt, check.VFloat:
		if v.Unit != "" {
			return nil
		}
		return []float64{v.Number()}
	case check.VList:
		out := make([]float64, 0, len(v.List))
		for _, e := range v.List {
			if e.Kind != check.VInt && e.Kind != check.VFloat || e.Unit != "" {
				return nil
			}
			out = append(out, e.Number())
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return nil
}
