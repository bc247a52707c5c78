//go:build amd64 && linux && !purego

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"syscall"
	"testing"
	"unsafe"

	"github.com/qpipe/qpipe/ops"
)

// guarded returns n floats of fresh memory with an inaccessible page right
// before them (atEnd false) or right after them (atEnd true), so that a
// kernel touching a float outside them crashes the test. The memory is
// unmapped when the test ends.
func guarded(t *testing.T, n int, atEnd bool) []float32 {
	t.Helper()
	page := syscall.Getpagesize()
	size := (4*n + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, size+2*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	if err := syscall.Mprotect(mem[page+size:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	off := page
	if atEnd {
		off = page + size - 4*n
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&mem[off])), n)
}

// dw3Shapes are 3×3 undilated depthwise planes at stride 1 and 2: every
// padding 0-2 (rows and columns apart), output rows a multiple of four and
// not (the last group overlaps), widths under, at and past one and several
// 16-output blocks, odd and even input sizes.
func dw3Shapes() []ops.ConvParams {
	var out []ops.ConvParams
	for _, s := range []int{1, 2} {
		for _, pad := range [][2]int{{1, 1}, {0, 0}, {0, 1}, {1, 0}, {2, 2}} {
			for _, h := range []int{4, 7, 9, 12, 14, 15} {
				for _, w := range []int{1, 2, 3, 7, 14, 15, 16, 17, 28, 31, 32, 33, 56, 57, 70} {
					p := ops.ConvParams{N: 1, C: 1, H: h, W: w, OutC: 1, KH: 3, KW: 3, StrideH: s, StrideW: s,
						PadH: pad[0], PadW: pad[1], DilH: 1, DilW: 1, Groups: 1}
					p.OutH = (h+2*p.PadH-3)/s + 1
					p.OutW = (w+2*p.PadW-3)/s + 1
					if p.OutH >= 1 && p.OutW >= 1 {
						out = append(out, p)
					}
				}
			}
		}
	}
	return out
}

// TestDepthwise3MatchesPaddedKernel: the unpadded stride-1 and stride-2
// kernels give the padded plane's nine-tap kernel's result bit for bit
// (same products in the same order; NaN inputs, a clamp and none), read
// nothing before or after the input plane and write nothing outside the
// output plane (both placed against inaccessible pages), and apply to
// exactly the planes with at least four output rows. The small stride-1
// planes with one row and column of padding (4×3, 9×2, ...) take the flat
// kernel (dw3Flat16) through the same plane call, those of a width in
// dw3ShiftWidths (7×7, 14×14, 15×14, ...) the shift kernels.
func TestDepthwise3MatchesPaddedKernel(t *testing.T) {
	if !vec16 {
		t.Skip("no AVX-512 here")
	}
	r := rand.New(rand.NewPCG(21, 22))
	inf := float32(math.Inf(1))
	same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }
	ran, flat, shift := 0, 0, 0
	for si, p := range dw3Shapes() {
		d := newDW3Plan(p)
		if (d != nil) != (p.OutH >= 4) {
			t.Fatalf("%+v: unpadded plan %v, want it exactly when OutH >= 4", p, d != nil)
		}
		if d == nil {
			continue
		}
		ran++
		if d.flat != nil {
			flat++
		}
		if d.shift != nil {
			shift++
		}
		w := make([]float32, 9)
		for i := range w {
			w[i] = float32(r.NormFloat64())
		}
		bias, lo, hi := float32(0.25), float32(-1), float32(1)
		if si%2 == 1 {
			lo, hi = -inf, inf
		}
		for _, atEnd := range []bool{false, true} {
			x := guarded(t, p.H*p.W, atEnd)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			if si%3 == 2 {
				x[r.IntN(len(x))] = float32(math.NaN())
			}
			pl := newDWPlan(p)
			buf := make([]float32, pl.rows*pl.rs)
			pl.pad(x, buf)
			want := make([]float32, p.OutH*p.OutW)
			if !dwRowsFast(pl, buf, w, want, bias, lo, hi) {
				t.Fatal("the padded kernel did not take a 3x3 plane")
			}
			got := guarded(t, p.OutH*p.OutW, atEnd)
			for i := range got {
				got[i] = float32(math.NaN())
			}
			d.plane(x, w, got, bias, lo, hi)
			for i := range got {
				if !same(got[i], want[i]) {
					t.Fatalf("%dx%d stride %d pad %d,%d: output (%d, %d) is %v, want %v",
						p.H, p.W, p.StrideW, p.PadH, p.PadW, i/p.OutW, i%p.OutW, got[i], want[i])
				}
			}
		}
	}
	if ran < 100 || flat < 20 || shift < 5 {
		t.Fatalf("only %d shapes took the unpadded kernels, %d the flat one (dw3Flat16), %d the shift ones", ran, flat, shift)
	}
}

// BenchmarkDepthwisePlane times one MobileNetV2 depthwise plane (3x3,
// ReLU6) kept in L1, the unpadded kernel against the padded copy plus its
// kernel, in GMAC/s: the kernels' speed without the memory traffic of a
// whole layer (BenchmarkDepthwiseMobileNetV2 has that).
// TestCachedDW3Plan: cachedDW3Plan gives newDW3Plan's plan for each
// shape (shapes that differ only in stride, padding or width get their
// own), the same one on a second call, and nil where newDW3Plan does.
func TestCachedDW3Plan(t *testing.T) {
	base := ops.ConvParams{N: 1, C: 8, H: 14, W: 14, OutC: 8, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
		PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 8, OutH: 14, OutW: 14}
	s2, pad0, wide, k5 := base, base, base, base
	s2.StrideH, s2.StrideW, s2.OutH, s2.OutW = 2, 2, 7, 7
	pad0.PadH, pad0.PadW, pad0.OutH, pad0.OutW = 0, 0, 12, 12
	wide.W, wide.OutW = 40, 40
	k5.KH, k5.KW = 5, 5
	for _, p := range []ops.ConvParams{base, s2, pad0, wide, k5, base, wide} {
		got, want := cachedDW3Plan(p), newDW3Plan(p)
		if (got == nil) != (want == nil) || got != nil && !reflect.DeepEqual(*got, *want) {
			t.Fatalf("%+v: cached plan %+v, want %+v", p, got, want)
		}
		if again := cachedDW3Plan(p); again != got {
			t.Fatalf("%+v: a second call made another plan", p)
		}
	}
}

func BenchmarkDepthwisePlane(b *testing.B) {
	for _, l := range []struct{ hw, s int }{{112, 1}, {112, 2}, {56, 1}, {56, 2}, {28, 1}, {28, 2}, {14, 1}, {14, 2}, {7, 1}} {
		p := ops.ConvParams{N: 1, C: 1, H: l.hw, W: l.hw, OutC: 1, KH: 3, KW: 3, StrideH: l.s, StrideW: l.s,
			PadH: 1, PadW: 1, DilH: 1, DilW: 1, Groups: 1, OutH: (l.hw-1)/l.s + 1, OutW: (l.hw-1)/l.s + 1}
		// the planes inside larger buffers, as in a layer's tensors: a
		// masked load or store whose masked-off lanes reach a page never
		// touched costs a microcode assist (hundreds of cycles here)
		hw, ohw := l.hw*l.hw, p.OutH*p.OutW
		x, w, y := make([]float32, 3*hw)[hw:2*hw], make([]float32, 9), make([]float32, 3*ohw)[ohw:2*ohw]
		d, pl := newDW3Plan(p), newDWPlan(p)
		buf := make([]float32, pl.rows*pl.rs)
		macs := float64(9 * p.OutH * p.OutW)
		name := fmt.Sprintf("%dx%d/s%d/", l.hw, l.hw, l.s)
		b.Run(name+"unpadded", func(b *testing.B) {
			for b.Loop() {
				d.plane(x, w, y, 0, 0, 6)
			}
			b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
		b.Run(name+"padded", func(b *testing.B) {
			for b.Loop() {
				pl.pad(x, buf)
				pl.plane(buf, w, y, 0, 0, 6)
			}
			b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}
