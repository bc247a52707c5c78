package compress

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/train"
)

func ptq(t *testing.T, m *ops.Model, ds interface{}, o Int8Options) Int8Result {
	t.Helper()
	res, err := QuantizeInt8(context.Background(), m, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestInt8FakeQuantAndIntegerEngineAgree trains a small CNN on a slice of
// the real Fashion-MNIST, quantizes it and runs the integer engine against
// the fake-quant model on held-out test images. The engine's only
// legitimate departures from fake quantization are the int32 bias (rounded
// to units of the accumulator, half a unit off at most) and a code that
// flips where a value falls within float error of a rounding boundary. So
// each logit j may differ by a few units of the head's accumulator step
// sa·sw_j (input scale times that channel's weight scale) — not by the
// hundreds of units that truncating codes instead of rounding them moves
// it, which a bound relative to the largest logit lets through.
func TestInt8FakeQuantAndIntegerEngineAgree(t *testing.T) {
	m, calib, test := fashionTrained(t)
	float := logits(t, m, test, test.Len())
	res := ptq(t, m, calib, Int8Options{Data: calib, Batch: 64, Batches: 4, Calibration: Calibration{Method: "percentile", Percentile: 99.99}})
	if res.Layers != 3 || res.Calibrated != 256 {
		t.Fatalf("quantized %d layers from %d images; want 3 from 256", res.Layers, res.Calibrated)
	}
	fake := logits(t, m, test, test.Len())
	if top1, rel := agreement(float, fake); top1 < 0.97 || rel > 0.1 {
		t.Fatalf("fake-quant vs float: top-1 agreement %.3f, max rel error %.3f", top1, rel)
	}
	ir, err := ToInteger(m, source.Span{})
	if err != nil {
		t.Fatal(err)
	}
	if ir.Converted != 3 || ir.FusedReLU != 2 || ir.Int8Outputs != 2 {
		t.Fatalf("integer engine: %+v; want 3 layers, 2 fused ReLUs, conv→pool→flatten→fc1 and fc1→head in int8", ir.Int8Report)
	}
	if n := ir.Model.FindKind(ops.OpFakeQuant, ops.OpReLU, ops.OpLinear, ops.OpConv2d); len(n) != 0 {
		t.Fatalf("integer model still has %s (%s)", n[0].Name, n[0].Kind)
	}
	integer := logits(t, ir.Model, test, test.Len())
	steps := headSteps(t, ir.Model)
	worst, mean := stepErrors(fake, integer, steps)
	t.Logf("integer vs fake-quant on %d test images: max %.3f, mean %.4f accumulator steps", test.Len(), worst, mean)
	if worst > int8MaxSteps || mean > int8MeanSteps {
		t.Fatalf("integer vs fake-quant logits differ by up to %.2f (mean %.4f) steps sa·sw_j of the head's accumulator; want ≤ %g (mean ≤ %g): the engine does not round like the fake-quant model",
			worst, mean, int8MaxSteps, int8MeanSteps)
	}
	if top1, _ := agreement(fake, integer); top1 < 0.99 {
		t.Fatalf("integer vs fake-quant: top-1 agreement %.3f; want ≥ 0.99", top1)
	}
	if len(m.FindKind(ops.OpFakeQuant)) != 6 {
		t.Fatal("ToInteger changed its input model")
	}
}

// The bounds of TestInt8FakeQuantAndIntegerEngineAgree, in steps sa·sw_j
// of the head's accumulator. The int32 bias is off by at most half a
// step; a hidden code flipped by one at a rounding boundary moves logit j
// by |qW_jk| ≤ 127 steps (per-channel scales put the largest weight at
// code 127). The maximum allows two such flips in one logit; flips are rare,
// so on average they add a fraction of a step to the bias's half step
// (measured: max 127.0, mean 0.34 steps; truncating the input codes
// instead of rounding them gives max 766, mean 148).
const (
	int8MaxSteps  = 0.5 + 2*127
	int8MeanSteps = 1.0
)

// headSteps returns the head's accumulator step sa·sw_j per output
// channel of an integer model.
func headSteps(t *testing.T, m *ops.Model) []float64 {
	t.Helper()
	heads := m.Select("head")
	if len(heads) != 1 || heads[0].Attrs.InScale == 0 {
		t.Fatalf("integer model has no int8 head")
	}
	n := heads[0]
	sw := m.Param(n.Params["weight_scale"])
	if sw == nil {
		t.Fatal("integer head has no weight_scale")
	}
	steps := make([]float64, sw.Value.Numel())
	for j, s := range sw.Value.Data {
		steps[j] = float64(n.Attrs.InScale) * float64(s)
	}
	return steps
}

// stepErrors returns the largest and the mean |a - b| of (rows, classes)
// logits, each in its class's step.
func stepErrors(a, b *ops.Tensor, steps []float64) (worst, mean float64) {
	k := len(steps)
	for i := range a.Data {
		d := math.Abs(float64(a.Data[i])-float64(b.Data[i])) / steps[i%k]
		worst = max(worst, d)
		mean += d
	}
	return worst, mean / float64(len(a.Data))
}

// fashionTrained returns a small CNN (stride-2 conv, ReLU, 32 hidden
// units, ReLU, 10 classes) trained for two epochs on the first 2048
// Fashion-MNIST training images, with the calibration set (those images)
// and 512 test images.
func fashionTrained(t *testing.T) (m *ops.Model, calib, test *data.Dataset) {
	t.Helper()
	s, err := data.Open("fashion-mnist", data.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("%v\nthe int8 agreement test needs the real Fashion-MNIST: apt-get install -y dataset-fashion-mnist", err)
	}
	calib, test = s.Train.Subset(2048), s.Test.Subset(512)
	b := ops.NewBuilder("fashion-cnn", 1)
	h := b.Conv2d("stages.0.conv", b.Input("x"), 1, 8, 3, ops.Conv2dOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}, true)
	h = b.Act(ops.OpReLU, "stages.0.act", h)
	h = b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h)
	h = b.Linear("stages.1.fc1", h, 8*14*14, 32, true)
	h = b.Act(ops.OpReLU, "stages.1.act", h)
	if m, err = b.Build(b.Linear("head", h, 32, 10, true)); err != nil {
		t.Fatal(err)
	}
	l, err := data.NewLoader(calib, data.LoaderOptions{BatchSize: 64, Shuffle: true, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := train.Fit(context.Background(), m, l, nil, train.Options{Epochs: 2, Optimizer: "adamw", LR: 3e-3}); err != nil {
		t.Fatal(err)
	}
	return m, calib, test
}

func TestInt8WeightScalesArePerChannelMax(t *testing.T) {
	m, ds := trained(t, ops.OpReLU)
	w := m.Param("stages.1.fc1.weight").Value.Clone()
	ptq(t, m, ds, Int8Options{Data: ds, Batches: 1})
	s := m.Param("stages.1.fc1.weight_quant.scale").Value
	if s.Numel() != 32 {
		t.Fatalf("%d weight scales; want one per output channel (32)", s.Numel())
	}
	for j, want := range channelMaxAbs(w) {
		if got := s.Data[j]; math.Abs(float64(got-want/127)) > 1e-9 {
			t.Fatalf("channel %d scale %g; want max|W_c|/127 = %g", j, got, want/127)
		}
	}
	m2, _ := trained(t, ops.OpReLU)
	ptq(t, m2, ds, Int8Options{Data: ds, Batches: 1, PerTensorWeights: true})
	if s := m2.Param("stages.1.fc1.weight_quant.scale").Value; s.Numel() != 1 || s.Data[0] != maxAbs(w.Data)/127 {
		t.Fatalf("per-tensor scale %v; want [%g]", s.Data, maxAbs(w.Data)/127)
	}
}

func TestInt8GELUPathStaysFloatBetweenGEMMs(t *testing.T) {
	m := swin(t)
	ds := fashionLike(64)
	ptq(t, m, ds, Int8Options{Data: ds, Batch: 16, Batches: 2})
	fake := logits(t, m, ds, 32)
	ir, err := ToInteger(m, source.Span{})
	if err != nil {
		t.Fatal(err)
	}
	// 18 linear layers plus the patch-embedding conv; no ReLU to fuse, and
	// fc1 feeds GELU, so only layers feeding int8 layers directly stay int8.
	if ir.Converted != 19 || ir.FusedReLU != 0 {
		t.Fatalf("GELU swin: %+v", ir.Int8Report)
	}
	if top1, _ := agreement(fake, logits(t, ir.Model, ds, 32)); top1 < 0.99 {
		t.Fatalf("GELU swin integer vs fake-quant top-1 agreement %.3f", top1)
	}

	r := swin(t)
	if _, err := Replace(r, ops.OpGELU, ops.OpReLU, "*", source.Span{}); err != nil {
		t.Fatal(err)
	}
	ptq(t, r, ds, Int8Options{Data: ds, Batch: 16, Batches: 2})
	fake = logits(t, r, ds, 32)
	ir, err = ToInteger(r, source.Span{})
	if err != nil {
		t.Fatal(err)
	}
	if ir.FusedReLU != 4 {
		t.Fatalf("ReLU swin fused %d ReLUs into fc1 epilogues; want 4", ir.FusedReLU)
	}
	for _, fc1 := range ir.Model.Select("**.mlp.fc1") {
		if !fc1.Attrs.FusedReLU || fc1.Attrs.OutScale == 0 {
			t.Errorf("%s: fused ReLU %v, int8 output scale %g; want the hidden activation to stay int8", fc1.Name, fc1.Attrs.FusedReLU, fc1.Attrs.OutScale)
		}
	}
	if top1, _ := agreement(fake, logits(t, ir.Model, ds, 32)); top1 < 0.99 {
		t.Fatalf("ReLU swin integer vs fake-quant top-1 agreement %.3f", top1)
	}
	if Int8Bytes(ir.Model) >= int64(r.ParamBytes())/3 {
		t.Fatalf("int8 size %d not under a third of float %d", Int8Bytes(ir.Model), r.ParamBytes())
	}
}

func TestInt8QATTrainsThroughRounding(t *testing.T) {
	m, ds := trained(t, ops.OpReLU)
	before := m.Param("stages.1.fc1.weight").Value.Clone()
	res := ptq(t, m, ds, Int8Options{Data: ds, Batch: 32, Batches: 2, QAT: true, Epochs: 1, LR: 1e-2})
	if len(res.Epochs) != 1 || math.IsNaN(res.Epochs[0].TrainLoss) {
		t.Fatalf("QAT epochs %+v", res.Epochs)
	}
	after := m.Param("stages.1.fc1.weight").Value
	moved := false
	for i := range after.Data {
		moved = moved || after.Data[i] != before.Data[i]
	}
	if !moved {
		t.Fatal("QAT did not update the weights through the fake-quant nodes")
	}
	if got, want := m.Param("stages.1.fc1.weight_quant.scale").Value.Data[0], channelMaxAbs(after)[0]/127; got != want {
		t.Fatalf("weight scale after QAT %g; want it refreshed to %g", got, want)
	}
	if _, err := ToInteger(m, source.Span{}); err != nil {
		t.Fatal(err)
	}
}

func TestInt8Errors(t *testing.T) {
	m, ds := trained(t, ops.OpReLU)
	if _, err := QuantizeInt8(context.Background(), m, Int8Options{Data: ds, Scope: "nothing.*"}); err == nil {
		t.Fatal("scope matching nothing: want an error")
	}
	if _, err := ToInteger(m, source.Span{}); err == nil {
		t.Fatal("ToInteger of a float model: want an error")
	}
	ptq(t, m, ds, Int8Options{Data: ds, Batches: 1})
	if _, err := QuantizeInt8(context.Background(), m, Int8Options{Data: ds}); err == nil {
		t.Fatal("quantizing twice: want an error")
	}
}

// TestInt8FoldsBatchNormIntoConv: conv → batch norm → ReLU → conv, as the
// zoo's ResNets are built: ToInteger folds each norm into its int8 conv
// (ReLU fused behind it, the first conv requantizing into the second),
// the norm nodes are gone, and the integer engine stays within a few
// accumulator steps of the fake-quant model, including channels whose
// norm scale is negative.
func TestInt8FoldsBatchNormIntoConv(t *testing.T) {
	b := ops.NewBuilder("conv-bn", 3)
	h := b.Conv2d("conv1", b.Input("x"), 3, 8, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, false)
	h = b.BatchNorm("bn1", h, 8)
	h = b.Act(ops.OpReLU, "relu1", h)
	h = b.Conv2d("conv2", h, 8, 6, 3, ops.Conv2dOptions{Stride: [2]int{2, 2}, Padding: [2]int{1, 1}}, true)
	h = b.BatchNorm("bn2", h, 6)
	m, err := b.Build(h)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(8, 9))
	for _, name := range []string{"bn1", "bn2"} {
		for _, role := range []string{"weight", "bias", "running_mean", "running_var"} {
			v := m.Param(name + "." + role).Value.Data
			for i := range v {
				switch role {
				case "weight":
					v[i] = float32(r.NormFloat64())
				case "running_var":
					v[i] = 0.2 + r.Float32()
				default:
					v[i] = float32(r.NormFloat64()) * 0.3
				}
			}
		}
	}
	ds := randomImages(16, 3, 8, 8)
	ptq(t, m, ds, Int8Options{Data: ds, Batch: 8, Batches: 2})
	fake := logits(t, m, ds, 16)
	ir, err := ToInteger(m, source.Span{})
	if err != nil {
		t.Fatal(err)
	}
	if ir.FoldedNorms != 2 || ir.FusedReLU != 1 || ir.Int8Outputs != 1 || len(ir.Model.FindKind(ops.OpBatchNorm)) != 0 {
		t.Fatalf("integer engine: %+v, folded %d, norms left %d; want 2 folded, 1 fused ReLU, conv1→conv2 in int8", ir.Int8Report, ir.FoldedNorms, len(ir.Model.FindKind(ops.OpBatchNorm)))
	}
	integer := logits(t, ir.Model, ds, 16)
	// the output is conv2's accumulator in steps sa·sw_c·g_c (the folded
	// weight scale): within two flipped hidden codes of the fake-quant
	// model, like the agreement test's bound.
	n := ir.Model.NodeByName("conv2")
	sw := ir.Model.Param(n.Params["weight_scale"]).Value.Data
	steps := make([]float64, len(sw))
	for c, s := range sw {
		steps[c] = math.Abs(float64(n.Attrs.InScale) * float64(s))
	}
	hw := 16
	worst := 0.0
	for i := range fake.Data {
		c := i / hw % len(sw)
		worst = max(worst, math.Abs(float64(fake.Data[i]-integer.Data[i]))/steps[c])
	}
	t.Logf("integer vs fake-quant: max %.2f accumulator steps", worst)
	if worst > int8MaxSteps {
		t.Fatalf("integer vs fake-quant: up to %.1f accumulator steps apart; want ≤ %g", worst, float64(int8MaxSteps))
	}
	if len(m.FindKind(ops.OpBatchNorm)) != 2 {
		t.Fatal("ToInteger changed its input model")
	}
}

func randomImages(n, c, h, w int) *data.Dataset {
	r := rand.New(rand.NewPCG(4, 5))
	ds := &data.Dataset{Name: "random", C: c, H: h, W: w, X: make([]float32, n*c*h*w), Y: make([]int, n), Classes: make([]string, 10)}
	for i := range ds.X {
		ds.X[i] = r.Float32()
	}
	return ds
}
