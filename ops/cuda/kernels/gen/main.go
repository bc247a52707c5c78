// Command gen compiles ops/cuda/kernels/all.cu to qpipe.ptx with nvcc and
// writes the qpipe-kernels header (source hash, nvcc release, flags) as
// its first line. Run it through `go generate ./ops/cuda/kernels`.
//
//	go run ./gen [-nvcc PATH] [-o FILE]
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/qpipe/qpipe/ops/cuda/kernels"
)

func main() {
	nvcc := flag.String("nvcc", "nvcc", "the CUDA compiler")
	out := flag.String("o", kernels.PTXFile, "output file")
	flag.Parse()
	if err := generate(*nvcc, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func generate(nvcc, out string) error {
	src, err := kernels.ReadSources(".")
	if err != nil {
		return err
	}
	ptx, h, err := kernels.Compile(nvcc, ".", src)
	if err != nil {
		return err
	}
	return os.WriteFile(out, []byte(h.Line()+"\n"+ptx), 0o644)
}
