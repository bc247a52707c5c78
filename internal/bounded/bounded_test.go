package bounded

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

func TestNumelOverflowAndNegative(t *testing.T) {
	if n, err := Numel([]int64{2, 3, 4}); err != nil || n != 24 {
		t.Fatalf("Numel(2,3,4) = %d, %v; want 24", n, err)
	}
	if n, err := Numel([]int{}); err != nil || n != 1 {
		t.Fatalf("Numel() = %d, %v; want 1 (scalar)", n, err)
	}
	if _, err := Numel([]int64{1 << 32, 1 << 32}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("2^32*2^32: err = %v, want ErrTooLarge", err)
	}
	if _, err := Numel([]uint64{math.MaxUint64, 1}); err == nil {
		t.Fatal("MaxUint64 accepted")
	}
	if _, err := Numel([]int{3, -1}); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Fatalf("negative dim: err = %v", err)
	}
}

func TestElemsRespectsBudget(t *testing.T) {
	defer SetBudget(SetBudget(1 << 20))
	if n, err := Elems("tensor", []int{256, 1024}, 4); err != nil || n != 256*1024 {
		t.Fatalf("1 MiB of float32 within a 1 MiB budget: %d, %v", n, err)
	}
	_, err := Elems(`tensor "w"`, []int{257, 1024}, 4)
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Need != 257*4096 || tl.Limit != 1<<20 {
		t.Fatalf("over budget: err = %#v", err)
	}
	for _, want := range []string{`tensor "w" [257 1024]`, "1.0 MiB", "--max-memory", EnvVar} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestParseAndFormatSize(t *testing.T) {
	for in, want := range map[string]int64{"1000": 1000, "1KB": 1000, "1KiB": 1024, "2G": 2 << 30, "1.5 GiB": 3 << 29, "8gib": 8 << 30} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "abc", "-1", "1XB", "1e30"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
	if s := FormatSize(1 << 40); s != "1.0 TiB" {
		t.Errorf("FormatSize(2^40) = %q", s)
	}
	if s := FormatSize(512); s != "512 B" {
		t.Errorf("FormatSize(512) = %q", s)
	}
}

func TestSectionChecksFileBeforeAllocating(t *testing.T) {
	p := filepath.Join(t.TempDir(), "w.bin")
	os.WriteFile(p, []byte("0123456789"), 0o644)
	b, err := Section("w", p, 2, 3)
	if err != nil || string(b) != "234" {
		t.Fatalf("Section(2,3) = %q, %v", b, err)
	}
	_, err = Section("w", p, 0, 1<<40)
	var tl *TooLargeError
	if !errors.As(err, &tl) || !tl.File || tl.Limit != 10 {
		t.Fatalf("length 2^40 of a 10-byte file: %v", err)
	}
	if _, err := Section("w", p, 11, 0); err == nil {
		t.Fatal("offset past the end accepted")
	}
	if _, err := Section("w", p, math.MaxInt64, math.MaxInt64); err == nil {
		t.Fatal("overflowing offset+length accepted")
	}
	if _, err := Section("w", p, -1, 1); err == nil {
		t.Fatal("negative offset accepted")
	}
}

func TestReadFileRefusesDevicesAndBudget(t *testing.T) {
	if _, err := ReadFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("/dev/zero: %v", err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	os.WriteFile(p, bytes.Repeat([]byte{1}, 4096), 0o644)
	if b, err := ReadFile(p); err != nil || len(b) != 4096 {
		t.Fatalf("ReadFile: %d bytes, %v", len(b), err)
	}
	defer SetBudget(SetBudget(1000))
	if _, err := ReadFile(p); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("4096-byte file over a 1000-byte budget: %v", err)
	}
}

func TestReadNShortStreamAllocatesWhatArrives(t *testing.T) {
	_, err := ReadN("images", strings.NewReader("abc"), 1<<30)
	if !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "3 present") {
		t.Fatalf("short stream: %v", err)
	}
	b, err := ReadN("images", strings.NewReader("abcdef"), 4)
	if err != nil || string(b) != "abcd" {
		t.Fatalf("ReadN(4) = %q, %v", b, err)
	}
	defer SetBudget(SetBudget(10))
	if _, err := ReadN("images", strings.NewReader("abc"), 11); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over budget: %v", err)
	}
}

// TestReadNAcrossPieces reads a stream longer than ReadN's first pieces
// (1 + 2 MiB) through a reader that returns a few bytes at a time, and
// checks every byte and a short stream's count.
func TestReadNAcrossPieces(t *testing.T) {
	want := make([]byte, 3<<20+12345)
	for i := range want {
		want[i] = byte(i*7 + i>>11)
	}
	got, err := ReadN("images", iotest.HalfReader(bytes.NewReader(want)), int64(len(want)))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadN = %d bytes (equal %v), %v", len(got), bytes.Equal(got, want), err)
	}
	_, err = ReadN("images", bytes.NewReader(want), int64(len(want))+1)
	var short *ShortError
	if !errors.As(err, &short) || short.Got != int64(len(want)) {
		t.Fatalf("one byte short: %v", err)
	}
}
