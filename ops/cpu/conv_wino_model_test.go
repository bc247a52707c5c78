package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qpipe/qpipe/ops"
	"github.com/qpipe/qpipe/stdlib/zoo"
)

// BenchmarkWino2InModel times the zoo resnet20's and cnn's frozen FP32
// forwards (random weights and inputs, batch 1 and 64) with winoPick's
// choices against the same forwards with each Winograd layer on the
// other Winograd path (F(4,3) and F(4×4,3×3) swapped where the side is
// at least wino2MinSide), flipping every 20 forwards in one process (the
// first three after a flip left out), and logs each step's median time
// on both (ops.Options.NodeTime), the median forwards and their ratio:
// a ratio below 1 is a layer winoPick gets wrong in the model. It is the
// measurement behind winoPick's choices for resnet20's 32×32 and 16×16
// layers and the cnn's conv2, which a layer timed alone
// (BenchmarkWinoConv), its weights hot in the cache, does not show.
// GOMAXPROCS workers:
//
//	go test -run XXX -bench Wino2InModel/resnet20/b1 -benchtime 4000x -cpu 1 -v ./ops/cpu
func BenchmarkWino2InModel(b *testing.B) {
	for _, c := range []struct {
		model string
		in    zoo.Shape
	}{{"resnet20", zoo.Shape{C: 3, H: 32, W: 32}}, {"cnn", zoo.Shape{C: 1, H: 28, W: 28}}} {
		for _, n := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/b%d", c.model, n), func(b *testing.B) {
				m, err := zoo.Build(c.model, c.in, 10, 1)
				if err != nil {
					b.Fatal(err)
				}
				b.Log(wino2Alternation(b, m, c.in, n, setWinoSwapped))
			})
		}
	}
}

// wino2Alternation runs BenchmarkWino2InModel's alternation of m's
// forward on n inputs of shape s, swap(true) switching to the other
// paths and swap(false) back to winoPick's, and formats its table.
func wino2Alternation(b *testing.B, m *ops.Model, s zoo.Shape, n int, swap func(on bool)) string {
	defer winoChoice.Clear()
	x := ops.New(n, s.C, s.H, s.W)
	copy(x.Data, normals(rand.New(rand.NewPCG(41, 42)), len(x.Data)))
	mode := 0
	var order []*ops.Node
	times := [2]map[*ops.Node][]float64{{}, {}} // per step, µs

	be := &Backend{w: newWorkers(runtime.GOMAXPROCS(0)), tmp: &scratch{}} // not the shared pool: -cpu 1,2 in one process
	c := ops.NewContext(be, ops.Options{NodeTime: func(nd *ops.Node, d time.Duration) {
		if times[0][nd] == nil && times[1][nd] == nil {
			order = append(order, nd)
		}
		times[mode][nd] = append(times[mode][nd], micros(d))
	}})
	f, err := ops.Freeze(m)
	if err != nil {
		b.Fatal(err)
	}
	var total [2][]float64 // µs
	var outs [2][]float32
	i := 0
	for b.Loop() {
		if i%20 == 0 {
			mode = i / 20 % 2
			swap(mode == 1)
		}
		t0 := time.Now()
		y, err := f.Forward(c, x)
		if err != nil {
			b.Fatal(err)
		}
		if d := time.Since(t0); i%20 >= 3 {
			total[mode] = append(total[mode], micros(d))
		}
		if outs[mode] == nil {
			outs[mode] = slices.Clone(y[0].Data)
		}
		c.Reset()
		i++
	}
	return wino2Table(order, times, total, outs)
}

// setWinoSwapped swaps winoPick's cached F(4,3) and F(4×4,3×3) choices
// on sides of at least wino2MinSide (on), or clears them so that
// winoPick chooses again. The first forward after a clear fills the
// cache; the alternation starts with winoPick's choices.
func setWinoSwapped(on bool) {
	if !on {
		winoChoice.Clear()
		return
	}
	winoChoice.Range(func(k, v any) bool {
		p, kind := k.(ops.ConvParams), v.(winoKind)
		if kind != winoNone && wino2On && p.OutH >= wino2MinSide && p.OutW >= wino2MinSide {
			winoChoice.Store(k, wino1D+wino2D-kind)
		}
		return true
	})
}

// BenchmarkWino22InModel is BenchmarkWino2InModel for F(2×2,3×3): the
// zoo resnet20's frozen batch-1 forward with winoPick's choices (F(2×2,3×3)
// for its 8×8 and 16×16 layers) against the same forward with
// the 8×8 layers on the direct path (side8) or the larger ones (16×16)
// on F(4,3) (side16), flipping every 20 forwards in one process. The
// measurement behind winoPick's F(2×2,3×3):
//
//	go test -run XXX -bench Wino22InModel -benchtime 4000x -cpu 1,2 -v ./ops/cpu
func BenchmarkWino22InModel(b *testing.B) {
	in := zoo.Shape{C: 3, H: 32, W: 32}
	m, err := zoo.Build("resnet20", in, 10, 1)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		other winoKind
		wide  bool
	}{{"side8", winoNone, false}, {"side16", wino1D, true}} {
		b.Run(c.name, func(b *testing.B) {
			b.Log(wino2Alternation(b, m, in, 1, func(on bool) { setWino22Other(on, c.other, c.wide) }))
		})
	}
}

// setWino22Other puts winoPick's cached F(2×2,3×3) choices on 8×8
// outputs (wide false) or on larger ones (wide true) on the path other
// (on), or clears the cache so that winoPick chooses again.
func setWino22Other(on bool, other winoKind, wide bool) {
	if !on {
		winoChoice.Clear()
		return
	}
	winoChoice.Range(func(k, v any) bool {
		if v.(winoKind) == wino22 && (k.(ops.ConvParams).OutH > 8) == wide {
			winoChoice.Store(k, other)
		}
		return true
	})
}

// wino2Table formats wino2Alternation's medians: per step, then the
// sums and the median forwards, and the largest difference between the
// two paths' outputs (the transforms round differently).
func wino2Table(order []*ops.Node, times [2]map[*ops.Node][]float64, total [2][]float64, outs [2][]float32) string {
	var out strings.Builder
	fmt.Fprintf(&out, "\n%-28s %-14s %10s %10s %6s", "step", "kind", "picked µs", "other µs", "o/p")
	var sum [2]float64
	for _, nd := range order {
		a, c := MedianOf(times[0][nd]), MedianOf(times[1][nd])
		sum[0] += a
		sum[1] += c
		fmt.Fprintf(&out, "\n%-28s %-14v %10.1f %10.1f %6.2f", nd.Name, nd.Kind, a, c, c/a)
	}
	m0, m1 := MedianOf(total[0]), MedianOf(total[1])
	diff := 0.0
	if outs[1] != nil {
		for i := range outs[0] {
			diff = max(diff, math.Abs(float64(outs[0][i]-outs[1][i])))
		}
	}
	fmt.Fprintf(&out, "\nsum of the medians %.1f against %.1f µs (%.3f); median forward %.1f against %.1f µs (%.3f); %d+%d forwards; max |Δy| %.2g",
		sum[0], sum[1], sum[1]/sum[0], m0, m1, m1/m0, len(total[0]), len(total[1]), diff)
	return out.String()
}

// micros is d in microseconds.
func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
