package robust

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/ops/modelio"
	"github.com/qpipe/qpipe/stdlib/train"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

const torchPython = "/usr/bin/python3"

// needTorch skips when Debian's python3-torch is missing.
func needTorch(t *testing.T) {
	t.Helper()
	if err := exec.Command(torchPython, "-c", "import torch, numpy").Run(); err != nil {
		t.Skipf("the PyTorch cross-check needs %s with torch and numpy (apt-get install python3-torch): %v", torchPython, err)
	}
}

type torchFigure struct {
	Attack   string  `json:"attack"`
	Eps      float64 `json:"eps"`
	Accuracy float64 `json:"accuracy"`
}

// TestAttacksAgreeWithPyTorch trains a cnn on MNIST, attacks 400 test
// images with FGSM and PGD at two eps here and in PyTorch (same weights,
// same PGD start) and requires the accuracies to agree within 0.5 points.
func TestAttacksAgreeWithPyTorch(t *testing.T) {
	needTorch(t)
	splits, err := data.Open("mnist", data.Options{})
	if err != nil {
		t.Skipf("MNIST is not available: %v", err)
	}
	m, err := zoo.Build("cnn", zoo.Shape{C: 1, H: 28, W: 28}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := data.NewLoader(splits.Train.Subset(2000), data.LoaderOptions{BatchSize: 64, Shuffle: true, Seed: 1})
	if _, err := train.Fit(context.Background(), m, l, nil, train.Options{Epochs: 1, Optimizer: "adamw", LR: 2e-3}); err != nil {
		t.Fatal(err)
	}
	test := splits.Test.Subset(400)
	dir := t.TempDir()
	if err := modelio.WriteSafetensors(filepath.Join(dir, "model.safetensors"), modelio.ModelTensors(m), nil); err != nil {
		t.Fatal(err)
	}
	ys := make([]float32, test.Len())
	for i, y := range test.Y {
		ys[i] = float32(y)
	}
	io := []modelio.Tensor{{Name: "x", Shape: []int{test.Len(), 1, 28, 28}, Data: test.X}, {Name: "y", Shape: []int{test.Len()}, Data: ys},
		{Name: "classes", Shape: []int{1}, Data: []float32{10}}}
	type spec struct {
		Attack   string  `json:"attack"`
		Eps      float64 `json:"eps"`
		Steps    int     `json:"steps"`
		StepSize float64 `json:"step_size"`
		Start    string  `json:"start,omitempty"`
	}
	var specs []spec
	ours := map[string]float64{}
	for _, eps := range []float64{0.05, 0.1} {
		for _, a := range []Attack{FGSM(eps), PGD(eps, 5, 7)} {
			s := spec{Attack: "fgsm", Eps: eps, Steps: a.Steps, StepSize: a.StepSize}
			if a.RandomStart {
				s.Attack, s.Start = "pgd", fmt.Sprintf("start_%g", eps)
				var start []float32
				for i := range test.Len() {
					start = append(start, Start(a.Seed, i, test.SampleSize(), eps)...)
				}
				io = append(io, modelio.Tensor{Name: s.Start, Shape: []int{test.Len(), 1, 28, 28}, Data: start})
			}
			specs = append(specs, s)
			r, err := Perturb(context.Background(), m, test, a, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if ours[fmt.Sprintf("%s %g", s.Attack, eps)], err = accuracy(context.Background(), m, r.Data, Options{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := modelio.WriteSafetensors(filepath.Join(dir, "io.safetensors"), io, nil); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(specs)
	if err := os.WriteFile(filepath.Join(dir, "attacks.json"), js, 0o644); err != nil {
		t.Fatal(err)
	}
	clean, _ := accuracy(context.Background(), m, test, Options{})
	theirs := runCrossCheck(t, dir)
	for _, f := range theirs {
		key := fmt.Sprintf("%s %g", f.Attack, f.Eps)
		got, ok := ours[key]
		if f.Attack == "clean" {
			got, ok = clean, true
		}
		if !ok {
			t.Fatalf("PyTorch reported %s, which qpipe did not run", key)
		}
		t.Logf("%-10s qpipe %.2f%%  PyTorch %.2f%%  diff %+.2f points", key, 100*got, 100*f.Accuracy, 100*(got-f.Accuracy))
		if math.Abs(got-f.Accuracy) > 0.005 {
			t.Errorf("%s: qpipe %.4f, PyTorch %.4f: more than 0.5 points apart", key, got, f.Accuracy)
		}
	}
	if len(theirs) != 5 || ours["pgd 0.1"] >= clean {
		t.Errorf("%d PyTorch figures; PGD eps 0.1 %.3f from clean %.3f", len(theirs), ours["pgd 0.1"], clean)
	}
}

func runCrossCheck(t *testing.T, dir string) []torchFigure {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "attack_crosscheck.py")
	cmd := exec.Command(torchPython, script, dir)
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=2")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	var figs []torchFigure
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var f torchFigure
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			t.Fatalf("%s printed %q: %v", script, sc.Text(), err)
		}
		figs = append(figs, f)
	}
	return figs
}
