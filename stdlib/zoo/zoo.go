// Package zoo is qpipe's built-in model zoo: small image classifiers that
// a recipe names in its model statement (mlp, cnn, resnet20, vit-tiny,
// swin-micro). Each is built as an ops.Model sized from the dataset's input
// shape and class count, with PyTorch's default initialisation for
// convolutions and plain linears and timm's (trunc-normal 0.02 weights,
// zero biases) for transformer linears. Module names follow the PyTorch and
// timm layouts (stages.0.blocks.1.mlp.act), so layer-name patterns in
// recipes read the way they would against the reference implementations;
// scripts/torch_models.py holds the same models in PyTorch.
package zoo

import (
	"fmt"
	"sort"
	"strings"

	"github.com/qpipe/qpipe/internal/spell"
	"github.com/qpipe/qpipe/ops"
)

// Shape is a model's per-sample input shape, channels first.
type Shape struct{ C, H, W int }

// String formats the shape as CxHxW.
func (s Shape) String() string { return fmt.Sprintf("%dx%dx%d", s.C, s.H, s.W) }

type builder func(b *ops.Builder, x *ops.Node, in Shape, classes int) (*ops.Node, error)

type entry struct {
	summary string
	build   builder
}

var models = map[string]entry{
	"mlp":        {"flatten, 256-128 hidden ReLU layers, linear classifier", buildMLP},
	"cnn":        {"LeNet-like: conv32-relu-pool, conv64-relu-pool, fc128-relu, fc", buildCNN},
	"resnet20":   {"CIFAR ResNet-20: 3 stages of 3 basic blocks (16/32/64), batch norm, 1x1 projection shortcuts", buildResNet20},
	"vit-tiny":   {"ViT: patch 4 embedding, class token, depth 4, dim 64, 4 heads, MLP ratio 2 with GELU", buildViTTiny},
	"swin-micro": {"Swin: patch 2 embedding, embed 32, shifted-window attention with relative-position bias, patch merging, GELU MLPs", buildSwinMicro},
}

// Names lists the built-in models in sorted order.
func Names() []string {
	out := make([]string, 0, len(models))
	for n := range models {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Summary describes a built-in model in one line ("" when unknown).
func Summary(name string) string { return models[canonical(name)].summary }

// canonical lower-cases a name and accepts "resnet-20" and "vit_tiny".
func canonical(name string) string {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.ReplaceAll(n, "_", "-")
	if n == "resnet-20" {
		n = "resnet20"
	}
	return n
}

// Build returns the named model for inputs of shape in and the given
// number of classes; seed fixes the initial weights.
func Build(name string, in Shape, classes int, seed uint64) (*ops.Model, error) {
	e, ok := models[canonical(name)]
	if !ok {
		return nil, unknownModel(name)
	}
	if in.C <= 0 || in.H <= 0 || in.W <= 0 {
		return nil, fmt.Errorf("zoo: model %s: input shape %s must be positive", name, in)
	}
	if classes < 2 {
		return nil, fmt.Errorf("zoo: model %s: need at least 2 classes, got %d", name, classes)
	}
	b := ops.NewBuilder(canonical(name), seed)
	x := b.Input("x")
	y, err := e.build(b, x, in, classes)
	if err != nil {
		return nil, fmt.Errorf("zoo: model %s for input %s: %w", name, in, err)
	}
	return b.Build(y)
}

func unknownModel(name string) error {
	msg := fmt.Sprintf("zoo: unknown model %q", name)
	if s := spell.Nearest(canonical(name), Names()); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return fmt.Errorf("%s; built-in models: %s", msg, strings.Join(Names(), ", "))
}
