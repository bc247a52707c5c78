#!/usr/bin/env python3
"""Export torchvision classifiers to ONNX as PyTorch users do, for qpipe's
import tests (ops/onnx/torchvision_test.go).

Run with Debian's PyTorch, torchvision and ONNX
(apt-get install -y python3-torch python3-torchvision python3-onnx):

    /usr/bin/python3 scripts/torchvision_zoo.py --out DIR KEY...
    /usr/bin/python3 scripts/torchvision_zoo.py --list

A KEY is ARCH_sSIZE_oOPSET_MODE, e.g. resnet18_s64_o17_dyn:

    ARCH    a torchvision 0.14 classification builder (weights=None: random
            weights, nothing is downloaded), smallest size of each family
    SIZE    input height = width
    OPSET   13 or 17
    MODE    dyn     dynamic batch axis (dynamic_axes), constant folding on
            static  no dynamic_axes: batch 1 baked in (torch.onnx.export's
                    default, the most common export), constant folding on
            nofold  dynamic batch, do_constant_folding=False

For each key it writes DIR/KEY/ (skipped when DIR/KEY/meta.json exists):

    model.onnx   the export
    x.npy        fixed inputs, batch 2 (float32, seeded normal)
    logits.npy   PyTorch's logits on x (eval mode)
    meta.json    arch, size, opset, mode, export batch, op counts

Weights are torchvision's own random initialization under a fixed seed;
batch-norm statistics and affine parameters are then perturbed (seeded),
so that folding them into convolutions is actually tested. Everything
runs on one thread (the machine is shared).
"""
import argparse
import collections
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
import torchvision

# Each family's smallest model and the smallest input size its
# architecture accepts cheaply (alexnet and vgg end in a 6x6/7x7 adaptive
# average pool, which ONNX export only allows when it divides the feature
# map: they need 224; inception_v3 needs at least 75; maxvit partitions
# into 7x7 windows over a /32 map).
ZOO = collections.OrderedDict([
    ("alexnet", 224),
    ("convnext_tiny", 64),
    ("densenet121", 64),
    ("efficientnet_b0", 64),
    ("efficientnet_v2_s", 64),
    ("googlenet", 64),
    ("inception_v3", 96),
    ("maxvit_t", 224),
    ("mnasnet0_5", 64),
    ("mobilenet_v2", 64),
    ("mobilenet_v3_small", 64),
    ("regnet_x_400mf", 64),
    ("regnet_y_400mf", 64),
    ("resnet18", 64),
    ("resnext50_32x4d", 64),
    ("shufflenet_v2_x0_5", 64),
    ("squeezenet1_0", 64),
    ("squeezenet1_1", 64),
    ("swin_t", 64),
    ("swin_v2_t", 64),
    ("vgg11", 224),
    ("vit_b_16", 64),
    ("wide_resnet50_2", 64),
])

MODES = ("dyn", "static", "nofold")


def register_zero():
    """PyTorch 1.13's exporter has no symbolic for aten::zero (Tensor.zero_,
    which swin_v2's attention applies to a slice of the qkv bias); this is
    the one-line workaround a user adds: zero_ writes zeros_like."""
    from torch.onnx import symbolic_opset9 as sym

    def zero(g, self):
        return sym.zeros_like(g, self)

    for opset in (13, 17):
        torch.onnx.register_custom_op_symbolic("aten::zero", zero, opset)


def parse_key(key):
    parts = key.split("_")
    if len(parts) < 4 or not parts[-3].startswith("s") or not parts[-2].startswith("o") or parts[-1] not in MODES:
        raise SystemExit(f"bad key {key!r}: want ARCH_sSIZE_oOPSET_MODE, e.g. resnet18_s64_o17_dyn")
    arch = "_".join(parts[:-3])
    if arch not in ZOO:
        raise SystemExit(f"unknown arch {arch!r} (known: {', '.join(ZOO)})")
    return arch, int(parts[-3][1:]), int(parts[-2][1:]), parts[-1]


def build(arch, size):
    torch.manual_seed(0)
    kwargs = {"weights": None}
    if arch == "vit_b_16":
        kwargs["image_size"] = size
    if arch == "maxvit_t":
        kwargs["input_size"] = (size, size)
    if arch in ("googlenet", "inception_v3"):
        kwargs["aux_logits"] = False
        kwargs["init_weights"] = True
    model = getattr(torchvision.models, arch)(**kwargs)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                c = m.num_features
                m.running_mean.copy_(0.1 * torch.randn(c, generator=g))
                m.running_var.copy_(0.5 + torch.rand(c, generator=g))
                if m.affine:
                    m.weight.copy_(1 + 0.1 * torch.randn(c, generator=g))
                    m.bias.copy_(0.1 * torch.randn(c, generator=g))
            # vit's head starts at zero (all logits 0): nothing to compare.
            if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)) and not m.weight.any():
                m.weight.copy_(0.02 * torch.randn(m.weight.shape, generator=g))
    return model.eval()


def export(key, out):
    arch, size, opset, mode = parse_key(key)
    d = os.path.join(out, key)
    if os.path.exists(os.path.join(d, "meta.json")):
        return
    os.makedirs(d, exist_ok=True)
    model = build(arch, size)
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        logits = model(x)
    batch = 1 if mode == "static" else 2
    dyn = None if mode == "static" else {"x": {0: "batch"}, "logits": {0: "batch"}}
    path = os.path.join(d, "model.onnx")
    tmp = f"{path}.{os.getpid()}.tmp"  # two generators may race on one key
    t0 = time.time()
    # Not under torch.no_grad(): nn.MultiheadAttention (vit) would take its
    # fused inference path, which the exporter cannot write.
    torch.onnx.export(model, x[:batch], tmp, opset_version=opset, input_names=["x"],
                      output_names=["logits"], dynamic_axes=dyn, do_constant_folding=(mode != "nofold"))
    secs = time.time() - t0
    ops = collections.Counter(n.op_type for n in onnx.load(tmp, load_external_data=False).graph.node)
    np.save(os.path.join(d, "x.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(d, "logits.npy"), logits.numpy().astype(np.float32))
    gelus = sum(1 for m in model.modules() if isinstance(m, torch.nn.GELU))
    meta = {"arch": arch, "size": size, "opset": opset, "mode": mode, "export_batch": batch,
            "torch": torch.__version__, "torchvision": torchvision.__version__, "export_seconds": round(secs, 1),
            "gelu_modules": gelus, "params": sum(p.numel() for p in model.parameters()), "ops": dict(sorted(ops.items()))}
    os.replace(tmp, path)
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
    print(f"{key}: {secs:.1f}s export, {len(ops)} op types", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", help="cache directory")
    ap.add_argument("--list", action="store_true", help="print ARCH SIZE for every family")
    ap.add_argument("keys", nargs="*")
    a = ap.parse_args()
    if a.list:
        for arch, size in ZOO.items():
            print(arch, size)
        return
    if not a.out:
        ap.error("--out is required")
    torch.set_num_threads(1)
    register_zero()
    failed = []
    for key in a.keys:
        try:
            export(key, a.out)
        except Exception as e:  # one bad export must not hide the others
            failed.append(key)
            with open(os.path.join(a.out, key, "error.txt"), "w") as f:
                f.write(f"{type(e).__name__}: {e}\n")
            print(f"{key}: export failed: {type(e).__name__}: {e}", file=sys.stderr)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
