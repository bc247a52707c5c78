package prune

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops"
	_ "github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

func build(t *testing.T, name string) *ops.Model {
	t.Helper()
	m, err := zoo.Build(name, zoo.Shape{C: 1, H: 12, W: 12}, 10, 7)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestMagnitudeGlobalRemovesTheSmallestAndCompounds(t *testing.T) {
	m := build(t, "cnn")
	rep, err := Magnitude(m, 0.5, Global)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Sparsity(); math.Abs(got-0.5) > 1e-4 {
		t.Fatalf("sparsity %v after ratio 0.5, want 0.5", got)
	}
	// Every surviving weight is at least as large as every pruned one.
	minKept, maxPruned := float32(math.Inf(1)), float32(0)
	orig := build(t, "cnn")
	for _, w := range Weights(m) {
		o := orig.Param(w.Param.Name).Value.Data
		for i, keep := range w.Param.Mask() {
			a := float32(math.Abs(float64(o[i])))
			if keep {
				minKept = min(minKept, a)
			} else {
				maxPruned = max(maxPruned, a)
				if w.Param.Value.Data[i] != 0 {
					t.Fatalf("%s[%d] pruned but %v", w.Param.Name, i, w.Param.Value.Data[i])
				}
			}
		}
	}
	if maxPruned > minKept {
		t.Errorf("a pruned weight |%v| exceeds a kept one |%v|", maxPruned, minKept)
	}
	rep, err = Magnitude(m, 0.5, Global)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Sparsity(); math.Abs(got-0.75) > 1e-4 {
		t.Errorf("sparsity %v after two steps of 0.5, want the compound 0.75", got)
	}
}

func TestMagnitudeLayerScopeHitsEveryLayer(t *testing.T) {
	m := build(t, "cnn")
	rep, err := Magnitude(m, 0.3, PerLayer)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Layers) != 4 {
		t.Fatalf("%d layers, want cnn's 4", len(rep.Layers))
	}
	for _, l := range rep.Layers {
		want := math.Round(0.3*float64(l.Total)) / float64(l.Total)
		if math.Abs(l.Sparsity()-want) > 1e-9 {
			t.Errorf("layer %s sparsity %v, want %v", l.Name, l.Sparsity(), want)
		}
	}
	if _, err := Magnitude(m, 1, Global); err == nil {
		t.Error("ratio 1 accepted")
	}
}

// zeroRemoved zeroes what Structured removes from ref, so both models
// compute the same function.
func zeroRemoved(t *testing.T, ref *ops.Model, rep StructuredReport) {
	t.Helper()
	for _, s := range rep.Shrunk {
		n := ref.NodeByName(s.Name)
		w := ref.Param(n.Params["weight"]).Value
		fan := len(w.Data) / s.From
		f, _ := follow(ref, n)
		keep := map[int]bool{}
		for _, c := range s.Kept {
			keep[c] = true
		}
		for c := range s.From {
			if keep[c] {
				continue
			}
			clear(w.Data[c*fan : (c+1)*fan])
			if b := ref.Param(n.Params["bias"]); b != nil {
				b.Value.Data[c] = 0
			}
			for _, bn := range f.norms {
				ref.Param(bn.Params["weight"]).Value.Data[c] = 0
				ref.Param(bn.Params["bias"]).Value.Data[c] = 0
			}
		}
	}
}

func forward(t *testing.T, m *ops.Model, x *ops.Tensor) []float32 {
	t.Helper()
	be, err := ops.NewBackend("cpu")
	if err != nil {
		t.Fatal(err)
	}
	y, err := m.Forward1(ops.NewContext(be, ops.Options{}), x)
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), y.Data...)
}

func TestStructuredRebuildsASmallerEquivalentNetwork(t *testing.T) {
	for _, tc := range []struct {
		model  string
		shrunk int
		skip   string
	}{{"cnn", 3, "fc2"}, {"resnet20", 9, "residual add"}, {"mlp", 2, "fc3"}} {
		t.Run(tc.model, func(t *testing.T) {
			m, ref := build(t, tc.model), build(t, tc.model)
			before := m.ParamCount()
			rep, err := Structured(m, 0.5, PerLayer)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Shrunk) != tc.shrunk {
				t.Fatalf("shrunk %v, want %d layers", rep.Shrunk, tc.shrunk)
			}
			for _, s := range rep.Shrunk {
				if s.To != s.From/2 {
					t.Errorf("%s: %d -> %d channels, want half", s.Name, s.From, s.To)
				}
			}
			if !strings.Contains(skippedText(rep.Skipped)+fmtSkipped(rep.Skipped), tc.skip) {
				t.Errorf("skipped %v, want a reason mentioning %q", rep.Skipped, tc.skip)
			}
			if rep.ParamsAfter >= before || rep.ParamsBefore != before {
				t.Errorf("params %d -> %d (model had %d)", rep.ParamsBefore, rep.ParamsAfter, before)
			}
			zeroRemoved(t, ref, rep)
			x := ops.New(2, 1, 12, 12)
			for i := range x.Data {
				x.Data[i] = float32(math.Sin(float64(i)))*0.5 + 0.5
			}
			got, want := forward(t, m, x), forward(t, ref, x)
			for i := range want {
				if math.Abs(float64(got[i]-want[i])) > 1e-4 {
					t.Fatalf("output %d: pruned %v, reference %v", i, got[i], want[i])
				}
			}
		})
	}
}

func fmtSkipped(s []Skipped) string {
	var b strings.Builder
	for _, k := range s {
		b.WriteString(k.Name + ": " + k.Reason + "; ")
	}
	return b.String()
}

func TestStructuredRefusesEmptyingALayer(t *testing.T) {
	m := build(t, "cnn")
	before := m.ParamCount()
	_, err := Structured(m, 0.99, PerLayer)
	var le *LayerError
	if !errors.As(err, &le) || le.Layer != "conv1" || le.Channels != 32 {
		t.Fatalf("err = %v, want a LayerError for conv1's 32 channels", err)
	}
	if m.ParamCount() != before {
		t.Error("a refused structured pruning changed the model")
	}
}

func TestStructuredKeepsMasksOfSurvivingWeights(t *testing.T) {
	m := build(t, "cnn")
	if _, err := Magnitude(m, 0.5, Global); err != nil {
		t.Fatal(err)
	}
	if _, err := Structured(m, 0.25, Global); err != nil {
		t.Fatal(err)
	}
	for _, w := range Weights(m) {
		if !w.Param.Masked() || len(w.Param.Mask()) != w.Param.Value.Numel() {
			t.Fatalf("%s lost its mask or has a stale one", w.Param.Name)
		}
		for i, k := range w.Param.Mask() {
			if !k && w.Param.Value.Data[i] != 0 {
				t.Fatalf("%s[%d] masked but nonzero", w.Param.Name, i)
			}
		}
	}
}
