#!/bin/sh
# Runs scripts/bench_peers.py from the repository root with the python that
# has numpy (Debian's python3-numpy lives under /usr/bin). Arguments pass through.
cd "$(dirname "$0")/.." || exit 1
PY=python3
if ! "$PY" -c 'import numpy' 2>/dev/null && [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; fi
exec "$PY" scripts/bench_peers.py "$@"
