#!/usr/bin/env bash
# scripts/slurm/stop.sh — stop the single-node Slurm cluster that
# scripts/slurm/start.sh started: slurmd, slurmctld, then munged (by the pid
# files under $QPIPE_SLURM_DIR, default /tmp/qpipe-slurm), and remove the
# /etc/slurm/slurm.conf link it made. Jobs still running are killed with
# slurmd. Stopping a cluster that does not run is a no-op.
set -uo pipefail

dir=${QPIPE_SLURM_DIR:-/tmp/qpipe-slurm}

stop() { # NAME
	local pidfile=$dir/run/$1.pid pid
	[ -s "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
		echo "slurm: stopped $1 ($pid)"
	fi
	rm -f "$pidfile"
}

stop slurmd
stop slurmctld
stop munged
if [ -L /etc/slurm/slurm.conf ] && [ "$(readlink /etc/slurm/slurm.conf)" = "$dir/etc/slurm.conf" ]; then
	rm -f /etc/slurm/slurm.conf
fi
exit 0
