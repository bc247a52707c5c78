"""Cross-checks qpipe's FGSM and PGD (stdlib/robust) against PyTorch.

Usage: /usr/bin/python3 scripts/attack_crosscheck.py DIR

DIR holds what the Go test TestAttacksAgreeWithPyTorch writes:
  model.safetensors  the trained qpipe cnn's weights (state-dict names)
  io.safetensors     x (N,1,28,28 pixels in [0,1]), y (labels as floats),
                     and per PGD eps e, start_<e> (the random start qpipe
                     drew, so both attacks begin at the same point)
  attacks.json       [{"attack": "fgsm"|"pgd", "eps": e, "steps": k,
                       "step_size": a, "start": "start_<e>"}...]

It runs the same attacks on the PyTorch twin (scripts/torch_models.CNN) with
the same weights — x' = clip(clip(x + a*sign(grad_x CE), x-eps, x+eps), 0, 1),
FGSM one step of eps with no start — and prints one JSON object per attack
with PyTorch's accuracy on the perturbed images.
"""

import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import CNN, read_safetensors  # noqa: E402


def attack(model, x, y, eps, steps, step_size, start):
    x0 = x.clone()
    xa = x.clone() if start is None else (x + start).clamp(0, 1)
    for _ in range(steps):
        xa = xa.detach().requires_grad_(True)
        loss = F.cross_entropy(model(xa), y)
        (g,) = torch.autograd.grad(loss, xa)
        xa = xa.detach() + step_size * g.sign()
        xa = torch.min(torch.max(xa, x0 - eps), x0 + eps).clamp(0, 1)
    return xa.detach()


def main(directory):
    torch.manual_seed(0)
    io = read_safetensors(os.path.join(directory, "io.safetensors"))
    x, y = io["x"], io["y"].long()
    model = CNN(*x.shape[1:], classes=int(io["classes"].item())).eval()
    model.load_state_dict(read_safetensors(os.path.join(directory, "model.safetensors")), strict=True)
    with open(os.path.join(directory, "attacks.json")) as f:
        attacks = json.load(f)
    with torch.no_grad():
        clean = (model(x).argmax(1) == y).float().mean().item()
    print(json.dumps({"attack": "clean", "eps": 0, "accuracy": clean}))
    for a in attacks:
        start = io[a["start"]] if a.get("start") else None
        xa = attack(model, x, y, a["eps"], a["steps"], a["step_size"], start)
        with torch.no_grad():
            acc = (model(xa).argmax(1) == y).float().mean().item()
        print(json.dumps({"attack": a["attack"], "eps": a["eps"], "accuracy": acc}))


if __name__ == "__main__":
    main(sys.argv[1])
