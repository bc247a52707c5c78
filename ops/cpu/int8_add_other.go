//go:build !amd64 || purego

package cpu

func addQF16(q []int8, s float32, f []float32, inv, lo float32, out []int8) int { return 0 }

func addFF16(a, b []float32, inv, lo float32, out []int8) int { return 0 }
