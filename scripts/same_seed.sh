#!/usr/bin/env bash
# scripts/same_seed.sh — the same-seed figure of docs/determinism.md: three
# trainings of each model with seed 1 at each worker count (GOMAXPROCS),
# printing the final training loss to every digit. Runs of one model at one
# worker count must print identical losses.
#
#   scripts/same_seed.sh [QPIPE_BINARY]      (default: builds ./bin/qpipe)
#
# Each run trains 1 epoch over the first $SUBSET Fashion-MNIST training
# images (default 256, batch 64), so the whole table takes a few minutes on
# 2 cores. Needs Debian's dataset-fashion-mnist.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
if [ -z "$bin" ]; then
	go build -o bin/qpipe ./cmd/qpipe
	bin=bin/qpipe
fi
subset=${SUBSET:-256}
models=${MODELS:-swin-micro vit-tiny}
procs=${PROCS:-2 8}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-11s %-7s %-4s %s\n' model workers run train_loss
for model in $models; do
	cat >"$work/r.qpipe" <<RECIPE
model $model
data fashion-mnist subset=$subset val_split=0 batch=64
train epochs=1 lr=1e-3 optimizer=adamw weight_decay=0.05 batch=64
RECIPE
	for p in $procs; do
		for run in 1 2 3; do
			out="$work/$model-$p-$run"
			GOMAXPROCS=$p "$bin" run --seed 1 --out "$out" "$work/r.qpipe" >"$out.log" 2>&1 ||
				{ cat "$out.log" >&2; exit 1; }
			loss=$(/usr/bin/python3 -c 'import json,sys
r = json.load(open(sys.argv[1]))
print(repr([s for s in r["steps"] if s.get("verb") == "train"][0]["metrics"]["train_loss"]))' "$out/report.json")
			printf '%-11s %-7s %-4s %s\n' "$model" "$p" "$run" "$loss"
		done
	done
done
