package gemm

import (
	"fmt"
	"sync/atomic"
)

// f32Impl is one fp32 micro-kernel and the blocking that suits it.
type f32Impl struct {
	name       string
	mr, nr     int // register tile
	kc, mc, nc int // cache blocks (mc a multiple of mr, nc of nr)
	tile       func(rows int, p *sgemmArgs)
	// tileIdx, if set, is an idxMR×idxNR kernel with B rows at b +
	// boff[k] (SgemmIndirect).
	tileIdx      func(rows int, p *sgemmArgs)
	idxMR, idxNR int
	// tileIdxStream, if set, is tileIdx prefetching A's rows ahead, for
	// an A larger than a core's L2 (idxStreams).
	tileIdxStream func(rows int, p *sgemmArgs)
	// tileIdxNarrow, if set, is tileIdx for a last tile of at most
	// idxNarrow·vecs columns (vecs < idxNR/idxNarrow), doing that many
	// columns' work rather than idxNR's.
	tileIdxNarrow func(rows, vecs int, p *sgemmArgs)
	idxNarrow     int
	// transpose, if set, transposes a 16×16 block for the packing routines:
	// dst[i*lds+p] = src[p*lsrc+i].
	transpose func(dst *float32, lds int, src *float32, lsrc int)
	// dots, if set, computes out[j] = dot(a[:k], b[j*ldb:][:k]) for j < n:
	// the path for a few rows times a transposed B (matrix-vector shapes).
	dots func(a, b *float32, ldb, k, n int, out *float32)
	// packRows, if set, copies rows of w <= nr floats (ld apart) into
	// nr-float rows, zero filled: one panel of a non-transposed B.
	packRows func(dst, src *float32, ld, rows, w int)
}

// s8Kind is the packed-B layout an int8 kernel needs.
type s8Kind int

const (
	kindGeneric s8Kind = iota // B rows as given (n×k int8)
	kindVNNI                  // u8 = b+128, panels of 32 columns × 4-byte k groups
	kindS16                   // int16, panels of 16 columns × 2-element k groups
)

// s8Impl is one int8 kernel.
type s8Impl struct {
	name   string
	kind   s8Kind
	mr, nr int
	tile   func(rows int, p *s8Args)
	tileU8 func(rows int, p *s8Args) // VNNI with u8 A and s8 B (ImplicitS8.U8)
}

var (
	f32Impls = map[string]*f32Impl{"generic": genericF32}
	s8Impls  = map[string]*s8Impl{"generic": genericS8}

	curF32 atomic.Pointer[f32Impl] // the kernels in use
	curS8  atomic.Pointer[s8Impl]
)

func init() {
	if curF32.Load() == nil {
		curF32.Store(genericF32)
	}
	if curS8.Load() == nil {
		curS8.Store(genericS8)
	}
}

// registerF32 adds an fp32 kernel and makes it current: the best is
// registered last.
func registerF32(k *f32Impl) { f32Impls[k.name] = k; curF32.Store(k) }

// registerS8 adds an int8 kernel and makes it current.
func registerS8(k *s8Impl) { s8Impls[k.name] = k; curS8.Store(k) }

// Kernel names the kernels in use: "avx512+vnni", "avx512", "avx2+fma" or
// "generic".
func Kernel() string {
	f, s := curF32.Load(), curS8.Load()
	switch {
	case s.kind == kindVNNI && f.name == "avx512":
		return "avx512+vnni"
	case s.kind == kindGeneric && f.name == "generic":
		return "generic"
	case s.kind == kindS16 && f.name == "avx2+fma":
		return "avx2+fma"
	}
	return f.name + "/" + s.name
}

// useKernels selects kernels by name ("" keeps the current one) and returns
// a function that restores the previous choice. Tests use it to exercise
// every kernel the machine can run, the Go fallback included.
func useKernels(f32, s8 string) (restore func()) {
	pf, ps := curF32.Load(), curS8.Load()
	if f32 != "" {
		k, ok := f32Impls[f32]
		if !ok {
			panic(fmt.Sprintf("gemm: no fp32 kernel %q on this CPU", f32))
		}
		curF32.Store(k)
	}
	if s8 != "" {
		k, ok := s8Impls[s8]
		if !ok {
			panic(fmt.Sprintf("gemm: no int8 kernel %q on this CPU", s8))
		}
		curS8.Store(k)
	}
	return func() { curF32.Store(pf); curS8.Store(ps) }
}
