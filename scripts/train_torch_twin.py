#!/usr/bin/python3
"""Train the PyTorch twin of a qpipe zoo model on Fashion-MNIST the way
examples/swin_fashion.qpipe trains it in qpipe, and print test accuracy and
training throughput.

Mirrors qpipe's `data fashion-mnist subset=N val_split=0 batch=B` and
`train optimizer=adamw schedule=cosine warmup=0` (stdlib/run/engine.go,
stdlib/train, ops/optim, ops/data):

  data       the first N training images in file order (ops/data Subset),
             no validation split; pixels / 255 in [0, 1], no
             normalisation, no augmentation; full 10,000-image test set.
  batches    a new shuffle every epoch, last short batch kept (qpipe's
             loader does not drop it); the shuffle order itself comes from
             torch's generator, not qpipe's stream.
  loss       mean cross-entropy over the batch.
  optimizer  torch.optim.AdamW (betas 0.9/0.999, eps 1e-8, decoupled decay
             p *= 1 - lr*wd, as ops/optim.AdamW); parameters with at most
             one axis (biases, LayerNorm weights) get no decay, as qpipe's
             NoDecay rule (relative-position tables and conv/linear weights
             are decayed).
  schedule   per-step cosine from lr to 0 over epochs*batches steps,
             lr_t = lr*(1+cos(pi*t/T))/2 for the t-th step (0-based), as
             ops/optim.Cosine stepped after every optimizer step.
  weights    --init FILE loads qpipe's untrained weights (the recipe exports
             them as init.safetensors) with strict state-dict matching, so
             both frameworks start from the same point; without it the
             twin's own trunc-normal init with torch.manual_seed(--seed).

Threading: the best configuration of scripts/bench_torch.py for this
machine: torch.set_num_threads(2), OPENBLAS_NUM_THREADS=1 (BLAS on the
calling thread), OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset. The script
re-executes itself with that environment when it was started without it;
--blas openmp puts Debian's OpenMP OpenBLAS first instead (fetched by
bench_torch.py's openmp_blas_dir). img/s is timed over the training loop
only (batch gathering, forward, backward, update), not loading or testing.

  /usr/bin/python3 scripts/train_torch_twin.py --init out/swin_fashion/init.safetensors
  /usr/bin/python3 scripts/train_torch_twin.py --subset 10000 --epochs 3 --batch 128
"""

import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FASHION = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    """An IDX file (gzipped or not) as a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        blob = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", blob[:4])
    assert zero == 0 and dtype == 0x08, (path, zero, dtype)
    dims = struct.unpack(">" + "I" * ndim, blob[4:4 + 4 * ndim])
    return np.frombuffer(blob, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(directory, split, n=0):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(directory, prefix + "-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(directory, prefix + "-labels-idx1-ubyte.gz"))
    if n:
        x, y = x[:n], y[:n]
    x = x.astype(np.float32)[:, None] / np.float32(255)  # (N, 1, 28, 28) in [0, 1], like ops/data
    return x, y.astype(np.int64)


def loaded_blas():
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if "blas" in line}
    return ",".join(sorted(os.path.basename(os.path.dirname(p)) + "/" + os.path.basename(p) for p in libs))


def ensure_env(blas):
    """Re-executes this script in the threading environment it wants."""
    env = dict(os.environ)
    want = {"OPENBLAS_NUM_THREADS": "1"} if blas == "blas1" else {}
    libdir = None
    if blas == "openmp":
        sys.path.insert(0, HERE)
        from bench_torch import openmp_blas_dir
        libdir = openmp_blas_dir()
        if libdir is None:
            sys.exit("openmp BLAS unavailable")
    ok = all(env.get(k) == v for k, v in want.items()) and "OPENBLAS_CORETYPE" not in env \
        and "OPENBLAS_L2_SIZE" not in env and (libdir is None or env.get("LD_LIBRARY_PATH", "").startswith(libdir))
    if ok or env.get("TRAIN_TWIN_REEXEC"):
        return
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    env.update(want)
    if libdir:
        env["LD_LIBRARY_PATH"] = libdir + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    env["TRAIN_TWIN_REEXEC"] = "1"
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="swin-micro")
    ap.add_argument("--data", default=FASHION, help="directory of the four IDX .gz files")
    ap.add_argument("--subset", type=int, default=10000, help="first N training images (0: all)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--eval-batch", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1, help="shuffling (and init without --init)")
    ap.add_argument("--init", help="qpipe's initial weights (.safetensors) to start from")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--blas", choices=["blas1", "openmp"], default="blas1")
    args = ap.parse_args()
    ensure_env(args.blas)

    import torch
    import torch.nn.functional as F
    sys.path.insert(0, HERE)
    import torch_models

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    xtr, ytr = load(args.data, "train", args.subset)
    xte, yte = load(args.data, "test")
    xtr, ytr, xte, yte = map(torch.from_numpy, (xtr, ytr, xte, yte))

    m = torch_models.build(args.model, *xtr.shape[1:], classes=10)
    if args.init:
        m.load_state_dict(torch_models.read_safetensors(args.init), strict=True)
    decay = [p for p in m.parameters() if p.ndim > 1]
    no_decay = [p for p in m.parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    n = len(xtr)
    per_epoch = (n + args.batch - 1) // args.batch
    total = args.epochs * per_epoch
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: (1 + math.cos(math.pi * t / total)) / 2 if t < total else 0.0)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": loaded_blas(),
                      "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
                      "params": sum(p.numel() for p in m.parameters()), "train_images": n, "steps": total}), flush=True)

    gen = torch.Generator().manual_seed(args.seed)
    train_secs, images = 0.0, 0
    m.train()
    for epoch in range(1, args.epochs + 1):
        perm = torch.randperm(n, generator=gen)
        loss_sum, correct, seen = 0.0, 0, 0
        t0 = time.perf_counter()
        for b in range(per_epoch):
            idx = perm[b * args.batch:(b + 1) * args.batch]
            x, y = xtr[idx], ytr[idx]
            logits = m(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == y).sum().item()
            seen += len(idx)
        secs = time.perf_counter() - t0
        train_secs += secs
        images += seen
        print(json.dumps({"epoch": epoch, "train_loss": round(loss_sum / seen, 4), "train_accuracy": round(correct / seen, 4),
                          "images": seen, "seconds": round(secs, 1), "images_per_sec": round(seen / secs, 1),
                          "lr_end": opt.param_groups[0]["lr"]}), flush=True)

    m.eval()
    correct, loss_sum = 0, 0.0
    t0 = time.perf_counter()
    with torch.inference_mode():
        for b in range(0, len(xte), args.eval_batch):
            x, y = xte[b:b + args.eval_batch], yte[b:b + args.eval_batch]
            logits = m(x)
            loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
    print(json.dumps({"model": args.model, "test_accuracy": correct / len(xte), "test_loss": round(loss_sum / len(xte), 4),
                      "test_seconds": round(time.perf_counter() - t0, 1), "train_seconds": round(train_secs, 1),
                      "train_images": images, "train_images_per_sec": round(images / train_secs, 1)}), flush=True)


if __name__ == "__main__":
    main()
