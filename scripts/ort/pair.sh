#!/bin/bash
# pair.sh NEW OLD MODELS ROUNDS [infer-ort flags...]
#
# Times two qpipe binaries against ONNX Runtime, alternated: ROUNDS times,
# `NEW bench infer-ort` and `OLD bench infer-ort` on MODELS (comma-
# separated, as QPIPE_ORT_MODELS), NEW first in odd rounds and OLD first in
# even ones (the binary that runs second has read faster in most pairs, so
# a fixed order biases the comparison), each with its own export folder
# under ${TMPDIR:-/tmp}, printing one line per row with the load average
# before each run. Run it from the repository root (infer-ort needs
# scripts/ort/node_modules: cd scripts/ort && npm ci --ignore-scripts).
#   scripts/ort/pair.sh ./qpipe /tmp/qpipe-main cnn,resnet20 2 --seconds 2
set -euo pipefail
if [ $# -lt 4 ]; then
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
new=$1 old=$2 models=$3 rounds=$4
shift 4
for i in $(seq "$rounds"); do
	order="new old"
	[ $((i % 2)) = 0 ] && order="old new"
	for which in $order; do
		bin=$new
		[ "$which" = old ] && bin=$old
		dir="${TMPDIR:-/tmp}/qpipe-ort-pair-$which"
		mkdir -p "$dir" # binaries before the fix do not make QPIPE_ORT_DIR
		echo "== $which ($bin) run $i $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
		QPIPE_ORT_MODELS=$models QPIPE_ORT_DIR="$dir" \
			"$bin" bench infer-ort --format json "$@" |
			/usr/bin/python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("unit") == "x":
        print("  %-30s %sx" % (m["case"], m["value"]))
    elif "qpipe_ms" in m:
        print("  %-30s qpipe %10.3f ms  ort %10.3f ms  qpipe/ort %.2fx" % (m["case"], m["qpipe_ms"], m["ort_ms"], m["qpipe_vs_ort"]))
    else:
        print("  %-30s %s" % (m.get("case"), m.get("reason", line.strip())))
'
	done
done
