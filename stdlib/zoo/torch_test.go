package zoo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/qpipe/qpipe/ops/modelio"
)

// TestMatchesPyTorchTwins saves every zoo model's weights, an input batch
// and qpipe's logits, loads them into scripts/torch_models.py's PyTorch
// models (strict state-dict names and shapes) and requires the same
// logits. It fails with an install hint when /usr/bin/python3 has no torch.
func TestMatchesPyTorchTwins(t *testing.T) {
	py := "/usr/bin/python3"
	if exec.Command(py, "-c", "import torch").Run() != nil {
		t.Fatal("no PyTorch at /usr/bin/python3: apt-get install python3-torch (.ci/run installs it)")
	}
	dir := t.TempDir()
	in := Shape{1, 28, 28}
	x := input(3, in)
	for i := range x.Data {
		x.Data[i] = 0.5 + 0.5*x.Data[i]
	}
	io := []modelio.Tensor{{Name: "x", Shape: x.Shape, Data: x.Data}}
	for _, name := range []string{"mlp", "cnn", "vit-tiny", "swin-micro"} {
		m, err := Build(name, in, 10, 7)
		if err != nil {
			t.Fatal(err)
		}
		if err := modelio.WriteSafetensors(filepath.Join(dir, name+".safetensors"), modelio.ModelTensors(m), nil); err != nil {
			t.Fatal(err)
		}
		logits, err := m.Forward1(newCtx(t, false), x)
		if err != nil {
			t.Fatal(err)
		}
		io = append(io, modelio.Tensor{Name: name + ".logits", Shape: logits.Shape, Data: logits.Clone().Data})
	}
	if err := modelio.WriteSafetensors(filepath.Join(dir, "io.safetensors"), io, nil); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "../../scripts/torch_models.py", "check", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("torch check: %v\n%s", err, out)
	}
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r struct {
			Model string  `json:"model"`
			Diff  float64 `json:"max_abs_diff"`
		}
		if json.Unmarshal(sc.Bytes(), &r) != nil {
			continue
		}
		seen++
		t.Logf("%s: max abs difference from torch %.2g", r.Model, r.Diff)
		if r.Diff > 1e-4 {
			t.Errorf("%s: logits differ from PyTorch by %g", r.Model, r.Diff)
		}
	}
	if seen != 4 {
		t.Fatalf("torch checked %d models:\n%s", seen, out)
	}
}
