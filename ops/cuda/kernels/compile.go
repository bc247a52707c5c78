package kernels

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// ReadSources reads the kernel sources (*.cu, *.cuh) of dir.
func ReadSources(dir string) (map[string][]byte, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.cu*"))
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out[filepath.Base(n)] = b
	}
	if _, ok := out["all.cu"]; !ok {
		return nil, fmt.Errorf("%s: no all.cu", dir)
	}
	return out, nil
}

var releaseRE = regexp.MustCompile(`release [0-9.]+, V[0-9.]+`)

// NVCCRelease returns nvcc's release line ("release 11.8, V11.8.89").
func NVCCRelease(nvcc string) (string, error) {
	out, err := exec.Command(nvcc, "--version").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %v (install Debian's nvidia-cuda-toolkit, from contrib/non-free)", nvcc, err)
	}
	r := releaseRE.FindString(string(out))
	if r == "" {
		return "", fmt.Errorf("%s --version: no release line in %q", nvcc, out)
	}
	return r, nil
}

// Compile runs nvcc on dir/all.cu and returns the PTX (without header)
// and the header describing it.
func Compile(nvcc, dir string, src map[string][]byte) (string, Header, error) {
	rel, err := NVCCRelease(nvcc)
	if err != nil {
		return "", Header{}, err
	}
	tmp, err := os.MkdirTemp("", "qpipe-ptx")
	if err != nil {
		return "", Header{}, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "all.ptx")
	args := append(append([]string(nil), Flags...), filepath.Join(dir, "all.cu"), "-o", out)
	cmd := exec.Command(nvcc, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", Header{}, fmt.Errorf("nvcc %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	ptx, err := os.ReadFile(out)
	if err != nil {
		return "", Header{}, err
	}
	return string(ptx), Header{Sources: SourceHash(src), NVCC: rel, Flags: strings.Join(Flags, " ")}, nil
}
