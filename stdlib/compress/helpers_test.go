package compress

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qpipe/qpipe/ops"
	_ "github.com/qpipe/qpipe/ops/cpu"
	"github.com/qpipe/qpipe/ops/data"
	"github.com/qpipe/qpipe/stdlib/train"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// quadrants is a 4-class 1×8×8 dataset: class k lights up quadrant k,
// on top of uniform noise.
func quadrants(n int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	ds := &data.Dataset{Name: "quadrants", C: 1, H: 8, W: 8, X: make([]float32, n*64), Y: make([]int, n),
		Classes: []string{"a", "b", "c", "d"}}
	for i := range n {
		k := r.IntN(4)
		ds.Y[i] = k
		for y := range 8 {
			for x := range 8 {
				v := 0.4 * r.Float32()
				if (y/4)*2+x/4 == k {
					v += 0.5
				}
				ds.X[i*64+y*8+x] = v
			}
		}
	}
	return ds
}

// tinyCNN is conv-act-flatten-linear-act-linear for 1×8×8 inputs.
func tinyCNN(t *testing.T, act ops.OpKind, seed uint64) *ops.Model {
	t.Helper()
	b := ops.NewBuilder("tiny", seed)
	x := b.Input("x")
	h := b.Conv2d("stages.0.conv", x, 1, 8, 3, ops.Conv2dOptions{Padding: [2]int{1, 1}}, true)
	h = b.Act(act, "stages.0.act", h)
	h = b.Op(ops.OpFlatten, "flatten", ops.Attrs{Axis: 1}, h)
	h = b.Linear("stages.1.fc1", h, 8*64, 32, true)
	h = b.Act(act, "stages.1.act", h)
	y := b.Linear("head", h, 32, 4, true)
	m, err := b.Build(y)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// trained returns tinyCNN trained for two epochs on quadrants.
func trained(t *testing.T, act ops.OpKind) (*ops.Model, *data.Dataset) {
	t.Helper()
	m := tinyCNN(t, act, 1)
	ds := quadrants(512, 2)
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 32, Shuffle: true, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := train.Fit(context.Background(), m, l, nil, train.Options{Epochs: 2, Optimizer: "adamw", LR: 3e-3}); err != nil {
		t.Fatal(err)
	}
	return m, ds
}

func swin(t *testing.T) *ops.Model {
	t.Helper()
	m, err := zoo.Build("swin-micro", zoo.Shape{C: 1, H: 28, W: 28}, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func cpu(t *testing.T) ops.Backend {
	t.Helper()
	be, err := ops.NewBackend("cpu")
	if err != nil {
		t.Fatal(err)
	}
	return be
}

// logits runs m on the first n samples of ds.
func logits(t *testing.T, m *ops.Model, ds *data.Dataset, n int) *ops.Tensor {
	t.Helper()
	x, err := ops.FromData(append([]float32(nil), ds.X[:n*ds.SampleSize()]...), n, ds.C, ds.H, ds.W)
	if err != nil {
		t.Fatal(err)
	}
	c := ops.NewContext(cpu(t), ops.Options{})
	y, err := m.Forward1(c, x)
	if err != nil {
		t.Fatal(err)
	}
	return y.Clone()
}

// agreement is the fraction of rows of a and b with the same argmax, and
// the largest |a-b| relative to the largest |a|.
func agreement(a, b *ops.Tensor) (top1, relErr float64) {
	pa, pb := ops.Argmax(a), ops.Argmax(b)
	same := 0
	for i := range pa {
		if pa[i] == pb[i] {
			same++
		}
	}
	var diff, ref float64
	for i := range a.Data {
		diff = math.Max(diff, math.Abs(float64(a.Data[i]-b.Data[i])))
		ref = math.Max(ref, math.Abs(float64(a.Data[i])))
	}
	return float64(same) / float64(len(pa)), diff / ref
}

// fashionLike is n random 1×28×28 images with 10 labels (shapes only).
func fashionLike(n int) *data.Dataset {
	r := rand.New(rand.NewPCG(5, 6))
	ds := &data.Dataset{Name: "noise28", C: 1, H: 28, W: 28, X: make([]float32, n*784), Y: make([]int, n),
		Classes: make([]string, 10)}
	for i := range ds.X {
		ds.X[i] = r.Float32()
	}
	for i := range ds.Y {
		ds.Y[i] = r.IntN(10)
	}
	return ds
}
