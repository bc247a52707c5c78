// Package kernels holds qpipe's CUDA kernels: the CUDA C sources (*.cu,
// common.cuh; all.cu is the one translation unit) and qpipe.ptx, the PTX
// that nvcc makes of them, committed so that building the cuda backend
// needs no CUDA compiler. `go generate ./ops/cuda/kernels` regenerates the
// PTX (it needs nvcc: Debian's nvidia-cuda-toolkit); the first line of
// qpipe.ptx records the SHA-256 of the sources, the nvcc release and the
// flags, and a test fails when the sources no longer match it.
//
// The PTX targets compute_80 (Ampere): the driver JIT-compiles it for the
// GPU at hand, sm_80 and newer (A100, RTX 30xx/40xx, H100, H200).
package kernels

//go:generate go run ./gen

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
)

//go:embed *.cu *.cuh qpipe.ptx
var files embed.FS

// PTXFile is the generated module's file name.
const PTXFile = "qpipe.ptx"

// Flags are nvcc's arguments besides the input and output files.
var Flags = []string{"-ptx", "-arch=compute_80", "-O3", "-std=c++14"}

// PTX returns the module text, header line included (a PTX comment).
func PTX() string {
	b, err := files.ReadFile(PTXFile)
	if err != nil {
		panic(err) // embedded: cannot fail
	}
	return string(b)
}

// Sources returns the kernel sources by file name.
func Sources() map[string][]byte {
	out := map[string][]byte{}
	names, _ := fs.Glob(files, "*.cu*")
	for _, n := range names {
		b, _ := files.ReadFile(n)
		out[n] = b
	}
	return out
}

// SourceHash is the SHA-256 over the sources' names and contents in name
// order.
func SourceHash(src map[string][]byte) string {
	names := make([]string, 0, len(src))
	for n := range src {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(src[n]))
		h.Write(src[n])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Header is what the first line of qpipe.ptx records.
type Header struct {
	Sources string // SourceHash at generation
	NVCC    string // nvcc's release line ("release 11.8, V11.8.89")
	Flags   string
}

const headerPrefix = "// qpipe-kernels "

// Line formats h as the PTX's first line.
func (h Header) Line() string {
	return fmt.Sprintf("%ssources=%s nvcc=%q flags=%q", headerPrefix, h.Sources, h.NVCC, h.Flags)
}

var headerRE = regexp.MustCompile(`^// qpipe-kernels sources=([0-9a-f]{64}) nvcc=("[^"]*") flags=("[^"]*")$`)

// ParseHeader reads the header from the PTX text.
func ParseHeader(ptx string) (Header, error) {
	line, _, _ := strings.Cut(ptx, "\n")
	m := headerRE.FindStringSubmatch(line)
	if m == nil {
		return Header{}, fmt.Errorf("%s: first line %q is not a qpipe-kernels header; run go generate ./ops/cuda/kernels", PTXFile, line)
	}
	var h Header
	h.Sources = m[1]
	fmt.Sscanf(m[2], "%q", &h.NVCC)
	fmt.Sscanf(m[3], "%q", &h.Flags)
	return h, nil
}

var entryRE = regexp.MustCompile(`(?m)^\.visible \.entry (\w+)\(`)

// Entries lists the kernels the PTX defines, in file order.
func Entries(ptx string) []string {
	var out []string
	for _, m := range entryRE.FindAllStringSubmatch(ptx, -1) {
		out = append(out, m[1])
	}
	return out
}

// Stale reports why the committed PTX does not match the sources, or nil.
func Stale() error {
	h, err := ParseHeader(PTX())
	if err != nil {
		return err
	}
	if got := SourceHash(Sources()); got != h.Sources {
		return fmt.Errorf("%s was generated from other sources (sha256 %.12s…, the sources now hash to %.12s…): run go generate ./ops/cuda/kernels (needs nvcc) and commit %s",
			PTXFile, h.Sources, got, PTXFile)
	}
	if want := strings.Join(Flags, " "); h.Flags != want {
		return fmt.Errorf("%s was generated with flags %q, the generator now uses %q: run go generate ./ops/cuda/kernels", PTXFile, h.Flags, want)
	}
	return nil
}
