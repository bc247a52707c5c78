// Package cpufeature is for tests of CPU-specific fast paths (AVX-512,
// VNNI kernels). On a machine without the feature such a test would
// compare the portable code with itself, so it skips instead, naming the
// feature; where the fast paths must be tested (CI sets
// QPIPE_REQUIRE_AVX512=1), it fails.
package cpufeature

import (
	"os"
	"testing"
)

// Env is the environment variable that turns the skips into failures.
const Env = "QPIPE_REQUIRE_AVX512"

// Required reports whether Env asks for the fast paths to be tested.
func Required() bool { return os.Getenv(Env) == "1" }

// Require skips t unless have, saying which feature is missing, or fails
// it when Required.
func Require(t testing.TB, have bool, feature string) {
	t.Helper()
	if have {
		return
	}
	if Required() {
		t.Fatalf("no %s here (the CPU lacks it or the build has -tags purego), so its fast path cannot be tested, and %s=1 requires it: run the tests on a machine with %s, without -tags purego", feature, Env, feature)
		return
	}
	t.Skipf("skipped: no %s here (the CPU lacks it or the build has -tags purego) and this test exercises its fast path; %s=1 makes this a failure", feature, Env)
}
