#!/usr/bin/env python3
"""Measure qpipe's GEMM benchmarks and numpy (OpenBLAS) side by side.

Both run on this machine in this invocation: per round, each size runs on
the qpipe side and then on numpy, back to back, so both meet the same load;
each side keeps its best figure per size over --rounds rounds (the run least
disturbed by other processes), then a ratio table is printed.

qpipe side: `qpipe bench gemm --format json --seconds S --threads T --size N...`
and the same for gemm-int8, from a binary built from ./cmd/qpipe when it
has the bench command, else the bench package's
TestPrintGemm (go test ./bench -run TestPrintGemm with QPIPE_BENCH=1), or any
shell command given with --qpipe-cmd ({name} and {size} are substituted)
that prints the same JSON lines.

numpy side: a subprocess with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset
(they pin old OpenBLAS builds to slower kernels on this CPU) and
OPENBLAS_NUM_THREADS=--threads; it reports which OpenBLAS kernel ran. Debian:
apt-get install -y python3-numpy libopenblas0-pthread (without the second,
numpy runs the reference BLAS). int8 has no numpy peer; its column is the
ratio to qpipe's own fp32.

Example: python3 scripts/bench_peers.py --rounds 3 --seconds 1
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile

NUMPY_PROBE = r"""
import json, sys, time
import numpy as np
sizes, seconds = [int(s) for s in sys.argv[1].split(',')], float(sys.argv[2])
info = {}
try:
    from threadpoolctl import threadpool_info
    for p in threadpool_info():
        if p.get('internal_api') in ('openblas', 'mkl', 'blis'):
            info = {'blas': p['internal_api'], 'version': p.get('version'),
                    'kernel': p.get('architecture'), 'threads': p.get('num_threads')}
except ImportError:
    import io, contextlib
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        np.show_config()
    info = {'blas': 'unknown (no threadpoolctl)', 'config': buf.getvalue()[-600:]}
info['numpy'] = np.__version__
out = {'info': info, 'gflops': {}}
rng = np.random.default_rng(1)
for n in sizes:
    a = rng.random((n, n), dtype=np.float32) * 2 - 1
    b = rng.random((n, n), dtype=np.float32) * 2 - 1
    a @ b
    best, start = 0.0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        it, t0 = 0, time.perf_counter()
        while it == 0 or time.perf_counter() - t0 < seconds / 10:
            a @ b
            it += 1
        best = max(best, 2.0 * n ** 3 * it / (time.perf_counter() - t0) / 1e9)
    out['gflops'][str(n)] = best
print(json.dumps(out))
"""


def find_python(explicit):
    cands = [explicit] if explicit else [sys.executable, '/usr/bin/python3']
    for p in cands:
        if p and subprocess.run([p, '-c', 'import numpy'], capture_output=True).returncode == 0:
            return p
    sys.exit('no python with numpy found (tried %s); apt-get install -y python3-numpy '
             'libopenblas0-pthread, or pass --python' % ', '.join(c for c in cands if c))


def qpipe_runner(args, tmp):
    """Returns cmd(name, size): a shell command printing that case's JSON lines."""
    env = 'GOMAXPROCS=%d ' % args.threads
    if args.qpipe_cmd:
        return lambda name, n: args.qpipe_cmd.replace('{name}', name).replace('{size}', str(n))
    if os.path.isdir('cmd/qpipe'):
        exe = os.path.join(tmp, 'qpipe')
        subprocess.run(['go', 'build', '-o', exe, './cmd/qpipe'], check=True)
        cmd = lambda name, n: env + '%s bench %s --format json --seconds %g --threads %d --size %d' % (
            shlex.quote(exe), name, args.seconds, args.threads, n)
        probe = subprocess.run(cmd('gemm', 32), shell=True, capture_output=True, text=True)
        if probe.returncode == 0:
            return cmd
        print('note: `qpipe bench` failed (%s); using go test ./bench instead'
              % (probe.stderr.strip().splitlines() or ['?'])[0], file=sys.stderr)
    exe = os.path.join(tmp, 'bench.test')
    subprocess.run(['go', 'test', '-c', '-o', exe, './bench'], check=True)
    return lambda name, n: env + ('QPIPE_BENCH=1 %s -test.run "^TestPrintGemm$" -bench.format json '
                                  '-bench.seconds %g -bench.threads %d -bench.names %s -bench.sizes %d') % (
        shlex.quote(exe), args.seconds, args.threads, name, n)


def run_qpipe(cmd):
    res = {}
    out = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit('qpipe command failed: %s\n%s%s' % (cmd, out.stdout, out.stderr))
    for line in out.stdout.splitlines():
        line = line.strip()
        if line.startswith('{'):
            r = json.loads(line)
            res[(r['bench'], str(r['case']))] = r
    return res


def run_numpy(py, sizes, seconds, threads):
    env = {k: v for k, v in os.environ.items() if k not in ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE')}
    for var in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        env[var] = str(threads)
    out = subprocess.run([py, '-c', NUMPY_PROBE, ','.join(map(str, sizes)), str(seconds)],
                         env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main():
    sys.stdout.reconfigure(line_buffering=True)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--sizes', default='256,512,1024', help='square sizes (passed to qpipe bench as --size; the go test fallback uses its defaults)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seconds', type=float, default=1.0, help='measuring time per size and side, per round')
    ap.add_argument('--rounds', type=int, default=3, help='alternating rounds; best per side is kept')
    ap.add_argument('--qpipe-cmd', help='shell command printing qpipe bench JSON lines for one case; '
                    '{name} (gemm or gemm-int8) and {size} are substituted')
    ap.add_argument('--python', help='python interpreter with numpy (default: this one, else /usr/bin/python3)')
    ap.add_argument('--json', action='store_true', help='also print the table as JSON lines')
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(',')]
    py = find_python(args.python)
    best_q, best_np, np_info = {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        qcmd = qpipe_runner(args, tmp)
        # Each size runs qpipe and numpy back to back, round after round, so
        # both sides meet the same load on the machine.
        for rnd in range(args.rounds):
            for n in sizes:
                for name in ('gemm', 'gemm-int8'):
                    for key, r in run_qpipe(qcmd(name, n)).items():
                        if key not in best_q or r['value'] > best_q[key]['value']:
                            best_q[key] = r
                npr = run_numpy(py, [n], args.seconds, args.threads)
                np_info = npr['info']
                for size, v in npr['gflops'].items():
                    best_np[size] = max(best_np.get(size, 0.0), v)
            print('round %d/%d done' % (rnd + 1, args.rounds), file=sys.stderr)

    kernel = next((r.get('kernel') for r in best_q.values() if r.get('kernel')), '?')
    print('qpipe kernel: %s; numpy %s, BLAS %s %s, kernel %s, threads %s (OPENBLAS_CORETYPE/L2_SIZE unset)' % (
        kernel, np_info.get('numpy'), np_info.get('blas'), np_info.get('version', ''),
        np_info.get('kernel', '?'), np_info.get('threads', args.threads)))
    if 'config' in np_info:
        print(np_info['config'])
    print('best of %d rounds, %g s per size per round, %d threads each side' % (args.rounds, args.seconds, args.threads))
    hdr = ('size', 'qpipe fp32', 'numpy fp32', 'qpipe/numpy', 'qpipe int8', 'int8/fp32')
    print('%6s %12s %12s %12s %12s %10s' % hdr)
    print('%6s %12s %12s %12s %12s %10s' % ('', 'GFLOP/s', 'GFLOP/s', '', 'GOP/s', ''))
    rows = []
    for n in sizes:
        q = best_q.get(('gemm', str(n)), {}).get('value')
        i8 = best_q.get(('gemm-int8', str(n)), {}).get('value')
        p = best_np.get(str(n))
        row = {'size': n, 'qpipe_fp32': q, 'numpy_fp32': p,
               'ratio_vs_numpy': q / p if q and p else None,
               'qpipe_int8': i8, 'int8_over_fp32': i8 / q if i8 and q else None}
        rows.append(row)
        f = lambda v, fmt='%12.1f': (fmt % v) if v is not None else '%12s' % '-'
        print('%6d %s %s %s %s %s' % (n, f(q), f(p), f(row['ratio_vs_numpy'], '%11.2fx'),
                                      f(i8), f(row['int8_over_fp32'], '%9.2fx')))
    if args.json:
        for row in rows:
            print(json.dumps(row))


if __name__ == '__main__':
    main()
