#!/usr/bin/python3
"""Side-by-side training and inference throughput: qpipe vs PyTorch.

Runs `qpipe bench train|infer --format json` and the identical PyTorch
models (scripts/torch_models.py) on the same machine in the same
invocation, then prints qpipe / PyTorch ratios.

PyTorch runs with 2 intra-op threads in up to three BLAS configurations,
each in its own subprocess (the BLAS is chosen when torch loads):

  stock      Debian's default: torch's OpenMP pool plus the pthread
             OpenBLAS behind libblas.so.3; the two pools fight over cores.
  blas1      OPENBLAS_NUM_THREADS=1: BLAS calls run on the calling thread.
  openmp     Debian's OpenMP build of OpenBLAS (libopenblas0-openmp),
             unpacked with `apt-get download` + `dpkg -x` into a cache
             directory and put first on LD_LIBRARY_PATH.

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the PyTorch
subprocesses' environment only. Ratios are against the best configuration
per model. Uses Debian's python3-torch (PyTorch 1.13): run it with
/usr/bin/python3.

  /usr/bin/python3 scripts/bench_torch.py                # train and infer
  /usr/bin/python3 scripts/bench_torch.py --bench train --seconds 5
  /usr/bin/python3 scripts/bench_torch.py --qpipe-cmd 'qpipe bench {bench} --format json --seconds {seconds}'
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = ["mlp", "cnn", "vit-tiny", "swin-micro"]
BATCH = {"train": 128, "infer": 256}
CONFIGS = ["stock", "blas1", "openmp"]


def measure(fn, items, seconds):
    """Median and best items/s over ~10 windows after two warm-up calls."""
    fn()
    fn()
    window, rates, start = seconds / 10, [], time.perf_counter()
    while time.perf_counter() - start < seconds or len(rates) < 3:
        n, t0 = 0, time.perf_counter()
        while n == 0 or time.perf_counter() - t0 < window:
            fn()
            n += 1
        rates.append(items * n / (time.perf_counter() - t0))
    rates.sort()
    return rates[len(rates) // 2], rates[-1]


def loaded_blas():
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line}
    return ",".join(sorted(os.path.basename(os.path.dirname(p)) + "/" + os.path.basename(p) for p in libs))


def worker(bench, config, seconds, threads):
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, HERE)
    import torch_models
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    blas = loaded_blas()
    for name in MODELS:
        m = torch_models.build(name)
        x = torch.rand(BATCH[bench], 1, 28, 28)
        y = torch.randint(0, 10, (BATCH[bench],))
        if bench == "train":
            m.train()
            opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)

            def step():
                opt.zero_grad(set_to_none=True)
                F.cross_entropy(m(x), y).backward()
                opt.step()
            med, best = measure(step, len(x), seconds)
            case = name
        else:
            m.eval()

            def step():
                with torch.inference_mode():
                    m(x)
            med, best = measure(step, len(x), seconds)
            case = name + "/fp32"
        print(json.dumps({"bench": bench, "case": case, "value": round(med, 1), "unit": "img/s", "best": round(best, 1),
                          "config": config, "threads": torch.get_num_threads(), "blas": blas,
                          "params": sum(p.numel() for p in m.parameters()), "torch": torch.__version__}), flush=True)


def openmp_blas_dir():
    """The directory holding Debian's OpenMP libblas.so.3, fetched once."""
    cache = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "qpipe", "openblas-openmp")
    libdir = os.path.join(cache, "usr/lib/x86_64-linux-gnu/openblas-openmp")
    if os.path.exists(os.path.join(libdir, "libblas.so.3")):
        return libdir
    os.makedirs(cache, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(["apt-get", "download", "libopenblas0-openmp"], cwd=tmp, capture_output=True, text=True)
        debs = [f for f in os.listdir(tmp) if f.endswith(".deb")]
        if r.returncode != 0 or not debs:
            print("openmp: apt-get download libopenblas0-openmp failed: " + r.stderr.strip(), file=sys.stderr)
            return None
        subprocess.run(["dpkg", "-x", os.path.join(tmp, debs[0]), cache], check=True)
    return libdir if os.path.exists(os.path.join(libdir, "libblas.so.3")) else None


def peer_env(config):
    env = dict(os.environ)
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    if config == "blas1":
        env["OPENBLAS_NUM_THREADS"] = "1"
    elif config == "openmp":
        libdir = openmp_blas_dir()
        if libdir is None:
            return None
        env["LD_LIBRARY_PATH"] = libdir + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    return env


def run_lines(cmd, env=None, cwd=None):
    r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        print("command failed: %s\n%s" % (" ".join(cmd), r.stderr[-2000:]), file=sys.stderr)
    out = []
    for line in r.stdout.splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def table(bench, qpipe, peers):
    best = {}
    for rec in peers:
        if rec["case"] not in best or rec["value"] > best[rec["case"]]["value"]:
            best[rec["case"]] = rec
    q = {rec["case"]: rec for rec in qpipe}
    cols = [c for c in CONFIGS if any(p["config"] == c for p in peers)]
    print("\n%s (img/s, batch %d)" % (bench, BATCH[bench]))
    head = ["model", "qpipe"] + ["torch " + c for c in cols] + ["best torch", "qpipe/torch"]
    rows = []
    for case in sorted(set(q) | set(best), key=lambda c: MODELS.index(c.split("/")[0]) if c.split("/")[0] in MODELS else 99):
        by = {p["config"]: p["value"] for p in peers if p["case"] == case}
        qv = q.get(case, {}).get("value")
        b = best.get(case)
        ratio = "%.2fx" % (qv / b["value"]) if qv and b else "-"
        rows.append([case, "%.0f" % qv if qv else "-"] + ["%.0f" % by[c] if c in by else "-" for c in cols] +
                    ["%.0f (%s)" % (b["value"], b["config"]) if b else "-", ratio])
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        print("  ".join(str(v).rjust(w) for v, w in zip(r, widths)))
    return [dict(bench=bench, case=r[0], ratio=r[-1]) for r in rows]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", default="train,infer", help="comma-separated: train, infer")
    ap.add_argument("--seconds", type=float, default=3, help="measuring time per case")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--configs", default=",".join(CONFIGS), help="PyTorch BLAS configurations to run")
    ap.add_argument("--qpipe-cmd", default="go run ./cmd/qpipe bench {bench} --format json --seconds {seconds} --threads {threads}",
                    help="command printing qpipe's JSON lines ({bench}, {seconds}, {threads} are filled in)")
    ap.add_argument("--json", action="store_true", help="also print every record as JSON")
    ap.add_argument("--worker", nargs=2, metavar=("BENCH", "CONFIG"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        worker(a.worker[0], a.worker[1], a.seconds, a.threads)
        return
    root = os.path.dirname(HERE)
    for bench in a.bench.split(","):
        cmd = shlex.split(a.qpipe_cmd.format(bench=bench, seconds=a.seconds, threads=a.threads))
        qpipe = run_lines(cmd, cwd=root)
        peers = []
        for config in a.configs.split(","):
            env = peer_env(config)
            if env is None:
                continue
            peers += run_lines([sys.executable, __file__, "--worker", bench, config, "--seconds", str(a.seconds),
                                "--threads", str(a.threads)], env=env)
        if a.json:
            for rec in qpipe + peers:
                print(json.dumps(rec))
        table(bench, qpipe, peers)
        blas = sorted({(p["config"], p["blas"]) for p in peers})
        print("  BLAS loaded per config: " + "; ".join("%s=%s" % cb for cb in blas))


if __name__ == "__main__":
    main()
