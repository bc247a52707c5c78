package zoo

import (
	"math"
	"strings"
	"testing"

	"github.com/qpipe/qpipe/ops"
	_ "github.com/qpipe/qpipe/ops/cpu"
)

func newCtx(t *testing.T, train bool) *ops.Context {
	t.Helper()
	be, err := ops.NewBackend("cpu")
	if err != nil {
		t.Fatal(err)
	}
	return ops.NewContext(be, ops.Options{Train: train, Grad: train, Seed: 1})
}

func input(n int, s Shape) *ops.Tensor {
	x := ops.New(n, s.C, s.H, s.W)
	for i := range x.Data {
		x.Data[i] = float32(math.Sin(float64(i) * 0.37))
	}
	return x
}

// Parameter counts computed by hand from the architectures (and equal to
// sum(p.numel()) of scripts/torch_models.py).
func TestParamCounts(t *testing.T) {
	mnist := Shape{1, 28, 28}
	cases := []struct {
		name string
		in   Shape
		want int
	}{
		{"mlp", mnist, 784*256 + 256 + 256*128 + 128 + 128*10 + 10},
		{"cnn", mnist, (9*32 + 32) + (32*9*64 + 64) + (3136*128 + 128) + (128*10 + 10)},
		{"cnn", Shape{3, 32, 32}, (27*32 + 32) + (32*9*64 + 64) + (4096*128 + 128) + (128*10 + 10)},
		// 0.27M as in He et al. with projection shortcuts: stem 432+32 BN,
		// blocks, two 1x1 projections (16·32, 32·64) with BN, fc.
		{"resnet20", Shape{3, 32, 32}, resnet20Params(3, 10)},
	}
	for _, c := range cases {
		m, err := Build(c.name, c.in, 10, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.ParamCount(); got != c.want {
			t.Errorf("%s %s: %d parameters, want %d", c.name, c.in, got, c.want)
		}
	}
}

func resnet20Params(in, classes int) int {
	n := in*9*16 + 2*16
	ch := 16
	for _, w := range []int{16, 32, 64} {
		for range 3 {
			n += ch*9*w + 2*w + w*9*w + 2*w
			if ch != w {
				n += ch*w + 2*w
			}
			ch = w
		}
	}
	return n + 64*classes + classes
}

func TestForwardShapesAndGradients(t *testing.T) {
	for _, name := range Names() {
		for _, in := range []Shape{{1, 28, 28}, {3, 32, 32}} {
			m, err := Build(name, in, 7, 3)
			if err != nil {
				t.Fatalf("%s %s: %v", name, in, err)
			}
			c := newCtx(t, true)
			logits, err := m.Forward1(c, input(2, in))
			if err != nil {
				t.Fatalf("%s %s forward: %v", name, in, err)
			}
			if !ops.SameShape(logits.Shape, []int{2, 7}) {
				t.Fatalf("%s %s: logits %v, want [2 7]", name, in, logits.Shape)
			}
			if err := c.Backward(c.CrossEntropy(logits, []int{1, 5})); err != nil {
				t.Fatalf("%s %s backward: %v", name, in, err)
			}
			for _, p := range m.Params() {
				if strings.Contains(p.Name, "..") || strings.HasPrefix(p.Name, ".") {
					t.Errorf("%s: malformed parameter name %q", name, p.Name)
				}
			}
			for _, p := range m.Trainable() {
				if p.Grad() == nil || maxAbs(p.Grad().Data) == 0 {
					t.Errorf("%s %s: parameter %s gets no gradient", name, in, p.Name)
				}
			}
		}
	}
}

func maxAbs(s []float32) float32 {
	var m float32
	for _, v := range s {
		m = max(m, float32(math.Abs(float64(v))))
	}
	return m
}

func TestSeedDeterminesWeights(t *testing.T) {
	a, _ := Build("vit-tiny", Shape{1, 28, 28}, 10, 5)
	b, _ := Build("vit-tiny", Shape{1, 28, 28}, 10, 5)
	c, _ := Build("vit-tiny", Shape{1, 28, 28}, 10, 6)
	same, differ := true, false
	for i, p := range a.Params() {
		for j, v := range p.Value.Data {
			same = same && v == b.Params()[i].Value.Data[j]
			differ = differ || v != c.Params()[i].Value.Data[j]
		}
	}
	if !same || !differ {
		t.Fatalf("same seed identical: %v, other seed differs: %v", same, differ)
	}
}

func TestTransformerInit(t *testing.T) {
	m, _ := Build("swin-micro", Shape{1, 28, 28}, 10, 1)
	w := m.Param("stages.0.blocks.0.mlp.fc1.weight").Value.Data
	var sum, sq float64
	for _, v := range w {
		if math.Abs(float64(v)) > 0.04+1e-6 {
			t.Fatalf("trunc-normal weight %v outside ±2σ", v)
		}
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	std := math.Sqrt(sq/float64(len(w)) - (sum/float64(len(w)))*(sum/float64(len(w))))
	// N(0, 0.02²) truncated at ±2σ has std 0.02·0.880.
	if math.Abs(std-0.0176) > 0.002 {
		t.Errorf("fc1 weight std %.4f, want about 0.0176", std)
	}
	if maxAbs(m.Param("stages.0.blocks.0.mlp.fc1.bias").Value.Data) != 0 {
		t.Error("transformer biases must start at zero")
	}
}

func TestSwinStructure(t *testing.T) {
	cases := []struct {
		in                   Shape
		stages, shifted, win int
	}{
		{Shape{1, 28, 28}, 2, 1, 7}, // 14x14 (shifted second block), 7x7 (one window)
		{Shape{3, 32, 32}, 3, 2, 4}, // 16x16, 8x8 shifted; 4x4 one window
	}
	for _, c := range cases {
		m, err := Build("swin-micro", c.in, 10, 1)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(m.Match("stages.*.blocks.0.attn")); got != c.stages {
			t.Errorf("%s: %d stages, want %d", c.in, got, c.stages)
		}
		shifted := 0
		for _, n := range m.FindKind(ops.OpAttention) {
			if n.Attrs.ShiftSize > 0 {
				shifted++
				if n.Attrs.ShiftSize != c.win/2 || n.Attrs.Window != c.win {
					t.Errorf("%s: %s window %d shift %d", c.in, n.Name, n.Attrs.Window, n.Attrs.ShiftSize)
				}
			}
			if n.Params["relative_position_bias_table"] == "" {
				t.Errorf("%s: %s has no relative-position bias", c.in, n.Name)
			}
		}
		if shifted != c.shifted {
			t.Errorf("%s: %d shifted blocks, want %d", c.in, shifted, c.shifted)
		}
		if len(m.FindKind(ops.OpRoll)) != 2*c.shifted {
			t.Errorf("%s: want a roll before and after each shifted window", c.in)
		}
		if got := len(m.Select("stages.0.**", ops.OpGELU)); got != 2 {
			t.Errorf("%s: %d GELUs in stage 0, want 2", c.in, got)
		}
		if m.NodeByName("stages.0.blocks.1.mlp.act") == nil || m.NodeByName("stages.1.downsample.reduction") == nil {
			t.Errorf("%s: missing timm-style module names", c.in)
		}
	}
}

// A GELU→ReLU rewrite of one stage still runs and changes the output.
func TestSwinReplaceActivationsInScope(t *testing.T) {
	in := Shape{1, 28, 28}
	m, _ := Build("swin-micro", in, 10, 2)
	c := newCtx(t, false)
	before, _ := m.Forward1(c, input(1, in))
	before = before.Clone()
	for _, n := range m.Select("stages.0.**", ops.OpGELU) {
		m.ReplaceKind(n, ops.OpReLU, n.Span)
	}
	after, err := m.Forward1(c, input(1, in))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.FindKind(ops.OpGELU)) != 2 || len(m.FindKind(ops.OpReLU)) != 2 {
		t.Fatalf("kinds after rewrite: %v", m.KindCounts())
	}
	diff := float32(0)
	for i := range after.Data {
		diff = max(diff, float32(math.Abs(float64(after.Data[i]-before.Data[i]))))
	}
	if diff == 0 {
		t.Error("replacing GELU with ReLU did not change the output")
	}
}

// Windows, shifts and the global 7x7 stage together connect every input
// patch of a 28px image to the logits.
func TestSwinEveryPatchReachesOutput(t *testing.T) {
	in := Shape{1, 28, 28}
	m, _ := Build("swin-micro", in, 10, 4)
	c := newCtx(t, true)
	x := input(1, in).SetRequiresGrad(true)
	logits, _ := m.Forward1(c, x)
	if err := c.Backward(c.CrossEntropy(logits, []int{3})); err != nil {
		t.Fatal(err)
	}
	for py := 0; py < 14; py++ {
		for px := 0; px < 14; px++ {
			g := x.Grad().Data
			s := float32(0)
			for dy := range 2 {
				for dx := range 2 {
					s += float32(math.Abs(float64(g[(2*py+dy)*28+2*px+dx])))
				}
			}
			if s == 0 {
				t.Fatalf("patch (%d,%d) does not reach the logits", py, px)
			}
		}
	}
}

func TestUnknownModelSuggests(t *testing.T) {
	_, err := Build("resnet2", Shape{3, 32, 32}, 10, 1)
	if err == nil || !strings.Contains(err.Error(), `did you mean "resnet20"`) {
		t.Fatalf("error %v", err)
	}
	_, err = Build("swin", Shape{3, 32, 32}, 10, 1)
	if err == nil || !strings.Contains(err.Error(), `"swin-micro"`) {
		t.Fatalf("error %v", err)
	}
	if _, err := Build("ResNet-20", Shape{3, 32, 32}, 10, 1); err != nil {
		t.Fatalf("dashed name: %v", err)
	}
	if _, err := Build("vit-tiny", Shape{1, 30, 30}, 10, 1); err == nil || !strings.Contains(err.Error(), "patch") {
		t.Fatalf("30px vit: %v", err)
	}
	if _, err := Build("mlp", Shape{1, 28, 28}, 1, 1); err == nil {
		t.Fatal("one class accepted")
	}
}
