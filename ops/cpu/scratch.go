package cpu

import "sync"

// scratch recycles temporary buffers of kernels (im2col columns, GEMM
// outputs) by exact length, so a training step's kernels allocate nothing
// after the first step.
type scratch struct {
	mu   sync.Mutex
	free map[int][][]float32
}

func (s *scratch) get(n int) []float32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.free[n]; len(l) > 0 {
		buf := l[len(l)-1]
		s.free[n] = l[:len(l)-1]
		return buf
	}
	return make([]float32, n)
}

func (s *scratch) put(buf []float32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.free == nil {
		s.free = map[int][][]float32{}
	}
	if len(s.free[len(buf)]) < 4 {
		s.free[len(buf)] = append(s.free[len(buf)], buf)
	}
}
