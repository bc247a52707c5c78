package cpufeature

import (
	"fmt"
	"strings"
	"testing"
)

// recorder captures what Require does to a test.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                     {}
func (r *recorder) Skipf(f string, args ...any) { r.skipped = fmt.Sprintf(f, args...) }
func (r *recorder) Fatalf(f string, args ...any) {
	r.failed = fmt.Sprintf(f, args...)
}

func TestRequire(t *testing.T) {
	t.Setenv(Env, "")
	r := &recorder{}
	Require(r, true, "AVX-512F")
	if r.skipped != "" || r.failed != "" {
		t.Fatalf("feature present: skipped %q, failed %q", r.skipped, r.failed)
	}
	Require(r, false, "AVX-512 VNNI")
	if !strings.Contains(r.skipped, "no AVX-512 VNNI here") || r.failed != "" {
		t.Fatalf("feature missing: skipped %q, failed %q", r.skipped, r.failed)
	}
	t.Setenv(Env, "1")
	r = &recorder{}
	Require(r, false, "AVX-512 VNNI")
	if !strings.Contains(r.failed, "no AVX-512 VNNI here") || !strings.Contains(r.failed, Env+"=1") || r.skipped != "" {
		t.Fatalf("feature missing under %s=1: skipped %q, failed %q", Env, r.skipped, r.failed)
	}
}
