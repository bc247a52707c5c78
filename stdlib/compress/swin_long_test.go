package compress

// The GELU-less integer Swin experiment (Tayaranian et al. 2024) on
// swin-micro and Fashion-MNIST, driven through this package directly:
//
//	QPIPE_LONG=1 go test ./stdlib/compress -run SwinReLUInt8 -v -timeout 3h
//
// Knobs (environment): QPIPE_SWIN_TRAIN training images (default 12000),
// QPIPE_SWIN_TEST test images (default 10000), QPIPE_SWIN_EPOCHS teacher
// epochs (4), QPIPE_SWIN_ITERS distillation rounds (3),
// QPIPE_SWIN_DISTILL_LR (1e-4), QPIPE_SWIN_RUNS latency runs (30),
// QPIPE_SWIN_TEACHER a safetensors file caching the teacher (loaded when
// it exists, written otherwise), QPIPE_SWIN_CONTROL=1 adds the control arm:
// the ReLU model fine-tuned with cross-entropy alone for as many epochs as
// distillation took, to tell distillation from extra training
// (QPIPE_SWIN_CONTROL=only: the teacher and the control arm alone). Every figure is printed as one JSON line
// prefixed "FIGURE ".

import (
	"context"
	"encoding/json"
	"fmt"
	measure "github.com/qpipe/qpipe/stdlib/eval"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qpipe/qpipe/lang/source"
	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/ops/modelio"
	"github.com/qpipe/qpipe/stdlib/train"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil {
		return v
	}
	return def
}

func figure(t *testing.T, name string, v map[string]any) {
	v["figure"] = name
	b, _ := json.Marshal(v)
	fmt.Printf("FIGURE %s\n", b)
	t.Logf("%s", b)
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(b))
}

func progress(tag string) func(train.Progress) {
	return func(p train.Progress) {
		if p.Step%100 == 0 || p.Step == p.Steps {
			fmt.Fprintf(os.Stderr, "%s epoch %d/%d step %d/%d loss %.4f %.0f img/s\n", tag, p.Epoch, p.Epochs, p.Step, p.Steps, p.Loss, p.ImagesPerSec)
		}
	}
}

func TestSwinReLUInt8Long(t *testing.T) {
	if os.Getenv("QPIPE_LONG") != "1" {
		t.Skip("set QPIPE_LONG=1 to run the swin-micro GELU→ReLU→INT8 experiment")
	}
	ctx := context.Background()
	be := cpu(t)
	sp := fashionSplits(t)
	trainSet, testSet := sp.Train.Subset(envInt("QPIPE_SWIN_TRAIN", 12000)), sp.Test.Subset(envInt("QPIPE_SWIN_TEST", 10000))
	figure(t, "setup", map[string]any{"train": trainSet.Len(), "test": testSet.Len(), "loadavg": loadavg()})
	eval := func(name string, m *ops.Model) float64 {
		t0 := time.Now()
		acc, loss, err := measure.AccuracyOn(ctx, be, m, testSet, 128, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		figure(t, name, map[string]any{"accuracy": acc, "loss": loss, "seconds": time.Since(t0).Seconds()})
		return acc
	}

	teacher := teacherModel(t, ctx, trainSet)
	tAcc := eval("fp32_gelu_teacher", teacher)
	if os.Getenv("QPIPE_SWIN_CONTROL") == "only" {
		controlArm(t, ctx, teacher, trainSet, testSet, envInt("QPIPE_SWIN_ITERS", 3))
		return
	}

	gelu8 := int8Model(t, ctx, teacher.Clone(), trainSet, testSet, "int8_gelu")
	student := teacher.Clone()
	n, err := Replace(student, ops.OpGELU, ops.OpReLU, "*", source.Span{})
	if err != nil {
		t.Fatal(err)
	}
	figure(t, "replace", map[string]any{"replaced": n})
	eval("fp32_relu_before_distill", student)
	rounds, err := Distill(ctx, student, DistillOptions{Teacher: teacher, Iterations: envInt("QPIPE_SWIN_ITERS", 3), Epochs: 1,
		Temperature: 4, Alpha: 0.9, LR: envFloat("QPIPE_SWIN_DISTILL_LR", 1e-4), Train: trainSet, Val: testSet, Seed: 11,
		Backend: be, Progress: progress("distill"),
		OnRound: func(r Round) {
			figure(t, fmt.Sprintf("fp32_relu_distill_%d", r.Iteration), map[string]any{"accuracy": r.Accuracy, "val_loss": r.ValLoss, "distill_loss": r.Loss, "seconds": r.Seconds})
		}})
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("QPIPE_SWIN_CONTROL") == "1" {
		controlArm(t, ctx, teacher, trainSet, testSet, len(rounds))
	}
	relu8 := int8Model(t, ctx, student.Clone(), trainSet, testSet, "int8_relu")
	final := eval("int8_relu_final", relu8)
	figure(t, "accuracy_drop", map[string]any{"teacher": tAcc, "int8_relu": final, "drop_points": 100 * (tAcc - final)})

	runs := envInt("QPIPE_SWIN_RUNS", 30)
	lat := map[string][]time.Duration{}
	for _, c := range []struct {
		name string
		m    *ops.Model
	}{{"fp32_gelu", teacher}, {"fp32_relu", student}, {"int8_gelu", gelu8}, {"int8_relu", relu8}} {
		for _, b := range []int{1, 64} {
			d, err := measure.Latency(ctx, be, c.m, []int{b, 1, 28, 28}, measure.LatencyOptions{Runs: runs})
			if err != nil {
				t.Fatal(err)
			}
			lat[c.name] = append(lat[c.name], d)
			figure(t, "latency_"+c.name, map[string]any{"batch": b, "median_ms": float64(d.Microseconds()) / 1000, "images_per_sec": float64(b) / d.Seconds(), "runs": runs, "loadavg": loadavg()})
		}
	}
	for i, b := range []int{1, 64} {
		ms := func(k string) float64 { return lat[k][i].Seconds() }
		figure(t, "speedup", map[string]any{"batch": b,
			"int8_relu_vs_int8_gelu_faster_pct": 100 * (ms("int8_gelu")/ms("int8_relu") - 1),
			"int8_relu_vs_fp32_relu_x":          ms("fp32_relu") / ms("int8_relu"),
			"int8_gelu_vs_fp32_gelu_x":          ms("fp32_gelu") / ms("int8_gelu")})
	}
	figure(t, "size", map[string]any{"fp32_bytes": teacher.ParamBytes(), "int8_bytes": Int8Bytes(relu8)})
}

// fashionSplits opens Fashion-MNIST, or the IDX files train-images.gz,
// train-labels.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz
// in $QPIPE_SWIN_IDX (a copy of it, possibly cut short).
func fashionSplits(t *testing.T) *data.Splits {
	dir := os.Getenv("QPIPE_SWIN_IDX")
	if dir == "" {
		sp, err := data.Open("fashion-mnist", data.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return sp
	}
	classes := make([]string, 10)
	for i := range classes {
		classes[i] = strconv.Itoa(i)
	}
	tr, err := data.LoadIDX("fashion/train", dir+"/train-images.gz", dir+"/train-labels.gz", classes)
	if err != nil {
		t.Fatal(err)
	}
	te, err := data.LoadIDX("fashion/test", dir+"/t10k-images-idx3-ubyte.gz", dir+"/t10k-labels-idx1-ubyte.gz", classes)
	if err != nil {
		t.Fatal(err)
	}
	return &data.Splits{Train: tr, Test: te}
}

// teacherModel trains (or loads) the float GELU swin-micro.
func teacherModel(t *testing.T, ctx context.Context, ds *data.Dataset) *ops.Model {
	path := os.Getenv("QPIPE_SWIN_TEACHER")
	if path != "" {
		if m, _, err := modelio.Load(path); err == nil {
			figure(t, "teacher_loaded", map[string]any{"path": path})
			return m
		}
	}
	m, err := zoo.Build("swin-micro", zoo.Shape{C: 1, H: 28, W: 28}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 64, Shuffle: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	epochs := envInt("QPIPE_SWIN_EPOCHS", 4)
	t0 := time.Now()
	h, err := train.Fit(ctx, m, l, nil, train.Options{Epochs: epochs, Optimizer: "adamw", LR: 1e-3, NoDecay: true,
		Schedule: "cosine", Warmup: 100, Seed: 1, Progress: progress("teacher")})
	if err != nil {
		t.Fatal(err)
	}
	figure(t, "teacher_trained", map[string]any{"epochs": epochs, "train_loss": h.Last().TrainLoss, "train_accuracy": h.Last().TrainAcc, "seconds": time.Since(t0).Seconds()})
	if path != "" {
		if err := modelio.Save(path, m, modelio.Meta{}); err != nil {
			t.Logf("caching the teacher: %v", err)
		}
	}
	return m
}

// int8Model quantizes m (PTQ, per-channel weights, percentile(99.99)
// activations over 32 batches), reports fake-quant and integer accuracy
// and their agreement, and returns the integer model.
func int8Model(t *testing.T, ctx context.Context, m *ops.Model, calib, test *data.Dataset, name string) *ops.Model {
	be := cpu(t)
	res, err := QuantizeInt8(ctx, m, Int8Options{Data: calib, Calibration: Calibration{Method: "percentile", Percentile: 99.99}, Batches: 32, Backend: be})
	if err != nil {
		t.Fatal(err)
	}
	fakeAcc, _, err := measure.AccuracyOn(ctx, be, m, test, 128, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ir, err := ToInteger(m, source.Span{})
	if err != nil {
		t.Fatal(err)
	}
	intAcc, _, err := measure.AccuracyOn(ctx, be, ir.Model, test, 128, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	top1, rel := agreement(logits(t, m, test, 500), logits(t, ir.Model, test, 500))
	figure(t, name, map[string]any{"layers": res.Layers, "fake_quant_accuracy": fakeAcc, "integer_accuracy": intAcc,
		"top1_agreement_500": top1, "max_rel_logit_err_500": rel, "fused_relu": ir.FusedReLU, "int8_outputs": ir.Int8Outputs})
	return ir.Model
}

// controlArm fine-tunes the replaced model with cross-entropy only, one
// epoch per distillation round at the same learning rate, evaluating
// after each.
func controlArm(t *testing.T, ctx context.Context, teacher *ops.Model, trainSet, testSet *data.Dataset, epochs int) {
	m := teacher.Clone()
	if _, err := Replace(m, ops.OpGELU, ops.OpReLU, "*", source.Span{}); err != nil {
		t.Fatal(err)
	}
	for e := 1; e <= epochs; e++ {
		l, err := data.NewLoader(trainSet, data.LoaderOptions{BatchSize: 64, Shuffle: true, Seed: 11 + uint64(e)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := train.Fit(ctx, m, l, nil, train.Options{Epochs: 1, Optimizer: "adamw", LR: envFloat("QPIPE_SWIN_DISTILL_LR", 1e-4),
			NoDecay: true, Seed: 11 + uint64(e), Progress: progress("control")}); err != nil {
			t.Fatal(err)
		}
		acc, loss, err := measure.AccuracyOn(ctx, cpu(t), m, testSet, 128, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		figure(t, fmt.Sprintf("control_ce_finetune_%d", e), map[string]any{"accuracy": acc, "loss": loss})
	}
}
