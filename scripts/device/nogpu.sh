#!/usr/bin/env bash
# scripts/device/nogpu.sh — a -tags cuda qpipe on a machine without a GPU
# must say why it cannot use the GPU and exit 1, and still run on the CPU.
# (make cuda-check; on a machine with a GPU it says so and checks nothing.)
set -euo pipefail
cd "$(dirname "$0")/../.."
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
	echo "nogpu.sh: this machine has a GPU; nothing to check"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -tags cuda -o "$tmp/qpipe" ./cmd/qpipe
rc=0
"$tmp/qpipe" run --device cuda --out "$tmp/out" examples/quickstart.qpipe >"$tmp/stdout" 2>"$tmp/stderr" || rc=$?
fail() {
	echo "nogpu.sh: $*" >&2
	echo "--- stdout"; cat "$tmp/stdout"; echo "--- stderr"; cat "$tmp/stderr"
	exit 1
}
[ "$rc" = 1 ] || fail "qpipe run --device cuda exited $rc, want 1"
grep -q "no usable GPU" "$tmp/stderr" || fail "no 'no usable GPU' in the error"
grep -q -- "--device cpu" "$tmp/stderr" || fail "the error does not say to use --device cpu"
! grep -q "Error in initialization" "$tmp/stdout" "$tmp/stderr" || fail "gorgonia.org/cu's init message leaked"
[ ! -e "$tmp/out" ] || fail "the run started (out/ was created) before refusing the device"
"$tmp/qpipe" check examples/quickstart.qpipe >/dev/null || fail "the -tags cuda binary cannot check a recipe on the CPU"
echo "nogpu.sh: ok: $(cat "$tmp/stderr")"
