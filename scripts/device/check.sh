#!/usr/bin/env bash
# scripts/device/check.sh — the GPU check of the cuda backend (docs/cuda.md).
#
# Go is not installed on the GPU machine, so the work is split in two:
#
#   scripts/device/check.sh build   here: builds into .device/ (ignored by git)
#                                   the -tags cuda test binary of ops/cuda and
#                                   the -tags cuda qpipe binary, then prints
#                                   the device call that runs them
#   scripts/device/check.sh run     on the GPU machine, from the repository
#                                   root with .device carried: conformance,
#                                   PyTorch-reference steps and benchmarks,
#                                   about 5 minutes, each step time-bounded;
#                                   results under $OUT (or .device/out)
#
# The device session runs, as its one call (run tool, timeout_s 600):
#   command: scripts/device/check.sh run     carry: [".device"]
#
# $OUT receives: summary.txt (the figures the issue asks for, the card,
# the driver), conformance.txt (go test -v of ops/cuda with
# QPIPE_REQUIRE_CUDA=1: a missing GPU fails instead of skipping),
# bench.jsonl (qpipe bench lines), cublas.txt (fp32 torch.mm, cuBLAS,
# TF32 off, for comparison), and log.txt (everything).
set -euo pipefail
cd "$(dirname "$0")/../.."

bin=.device

build() {
	command -v go >/dev/null || { echo "check.sh build: needs Go (run it where the repository builds)" >&2; exit 1; }
	mkdir -p "$bin"
	echo "building $bin/cuda.test (ops/cuda, -tags cuda) and $bin/qpipe (-tags cuda)"
	go test -c -tags cuda -trimpath -ldflags='-s -w' -o "$bin/cuda.test" ./ops/cuda
	go build -tags cuda -trimpath -ldflags='-s -w' -o "$bin/qpipe" ./cmd/qpipe
	git rev-parse HEAD >"$bin/commit" 2>/dev/null || true
	du -sh "$bin"
	cat <<MSG
built. On a session lent a GPU, make ONE device call:
  run(command="scripts/device/check.sh run", carry=[".device"], timeout_s=600)
MSG
}

# step NAME SECONDS CMD...: runs CMD with a time limit, its output to the
# log and to $OUT/NAME when given; a failure is recorded, not fatal.
step() {
	local name=$1 secs=$2
	shift 2
	echo "== $name (limit ${secs}s): $*" | tee -a "$out/log.txt"
	local t0=$SECONDS rc=0
	timeout "$secs" "$@" >"$out/$name.part" 2>&1 || rc=$?
	cat "$out/$name.part" >>"$out/log.txt"
	echo "== $name: exit $rc after $((SECONDS - t0))s" | tee -a "$out/log.txt"
	echo "$name: exit $rc, $((SECONDS - t0))s" >>"$out/summary.txt"
	return 0
}

run() {
	out=${OUT:-$bin/out}
	mkdir -p "$out"
	: >"$out/summary.txt"
	[ -x "$bin/cuda.test" ] && [ -x "$bin/qpipe" ] || {
		echo "check.sh run: $bin/cuda.test or $bin/qpipe missing: run scripts/device/check.sh build here first and carry .device" | tee "$out/summary.txt" >&2
		exit 1
	}
	# The binaries link libcuda.so.1: where the loader's cache lacks it (a
	# driver mounted under /usr/local/nvidia), point the loader at it.
	if ! ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1'; then
		lib=$(find /usr/local/nvidia /usr/lib /usr/lib64 /usr/local -name 'libcuda.so.1' 2>/dev/null | head -1 || true)
		[ -n "$lib" ] && export LD_LIBRARY_PATH="$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	fi
	{
		echo "commit $(cat $bin/commit 2>/dev/null || echo '?')"
		echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
		date -u
		nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1 || echo "nvidia-smi failed"
		ldd --version 2>&1 | head -1
	} | tee -a "$out/summary.txt"

	# Conformance (ops/opstest on the GPU), the PyTorch CNN/Swin steps, the
	# int8 GEMM against the CPU; -count=1, the GPU required.
	export QPIPE_REQUIRE_CUDA=1
	(cd ops/cuda && step conformance 240 ../../$bin/cuda.test -test.v -test.count=1 -test.run 'GPU|NoGPU')
	mv "$out/conformance.part" "$out/conformance.txt"
	{
		echo "conformance: $(grep -c '^    --- PASS' "$out/conformance.txt" || true) subtests passed, $(grep -c -- '--- FAIL' "$out/conformance.txt" || true) failed, $(grep -c -- '--- SKIP' "$out/conformance.txt" || true) skipped"
		grep -E '^--- (PASS|FAIL|SKIP)' "$out/conformance.txt" || true
	} >>"$out/summary.txt"

	# Benchmarks: fp32 GEMM kernel TFLOP/s, training images/s, integer Swin
	# latency ReLU vs GELU at batch 1 and 64.
	step bench-gemm 60 $bin/qpipe bench gemm-cuda --device cuda --format json
	step bench-train 150 $bin/qpipe bench train --device cuda --format json --seconds 3
	step bench-int8 150 $bin/qpipe bench infer-int8 --device cuda --format json --seconds 3
	cat "$out"/bench-*.part >"$out/bench.jsonl"
	rm -f "$out"/bench-*.part
	grep -h '"bench"' "$out/bench.jsonl" | sed 's/^/  /' >>"$out/summary.txt" || true

	# cuBLAS for comparison: torch.mm in fp32 (TF32 off), when torch is there.
	step cublas 60 python3 - <<'PY'
import time, torch
torch.backends.cuda.matmul.allow_tf32 = False
for n in (1024, 4096):
    a = torch.rand(n, n, device="cuda"); b = torch.rand(n, n, device="cuda")
    torch.mm(a, b); torch.cuda.synchronize()
    reps = 50 if n == 1024 else 10
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); torch.mm(a, b); torch.cuda.synchronize(); ts.append(time.perf_counter() - t0)
    ts.sort()
    print(f"cublas sgemm/{n}: {2*n**3/ts[len(ts)//2]/1e12:.1f} TFLOP/s median of {reps} ({torch.cuda.get_device_name()}, torch {torch.__version__})")
PY
	mv "$out/cublas.part" "$out/cublas.txt"
	cat "$out/cublas.txt" >>"$out/summary.txt"

	# The no-GPU message path is covered here too: a device number that does
	# not exist must be a clear error, not a crash.
	step bad-device 30 env QPIPE_CUDA_DEVICE=99 $bin/qpipe bench gemm-cuda --device cuda
	tail -3 "$out/bad-device.part" >>"$out/summary.txt"
	rm -f "$out"/*.part
	echo "results in $out" >&2
	cat "$out/summary.txt"
}

case "${1:-}" in
build) build ;;
run) run ;;
*)
	sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
