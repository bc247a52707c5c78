"""PyTorch twins of qpipe's built-in models (stdlib/zoo) for 1x28x28 input.

Same layers, sizes, module names and parameter counts as the Go zoo, so
scripts/bench_torch.py compares like with like. Checked by the parameter
counts the bench prints beside qpipe's.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self, c=1, h=28, w=28, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(c * h * w, 256)
        self.fc2 = nn.Linear(256, 128)
        self.fc3 = nn.Linear(128, classes)

    def forward(self, x):
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class CNN(nn.Module):
    def __init__(self, c=1, h=28, w=28, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(c, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * (h // 4) * (w // 4), 128)
        self.fc2 = nn.Linear(128, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):
    """qkv linear, softmax(q k^T * scale + bias + mask) v, proj."""

    def __init__(self, dim, heads, window=0):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.window = window
        if window:
            self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
            nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)
            coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
            rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)
            self.register_buffer("index", rel[..., 0] * (2 * window - 1) + rel[..., 1], persistent=False)

    def forward(self, x, mask=None):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        s = (q @ k.transpose(-2, -1)) * self.scale
        if self.window:
            bias = self.relative_position_bias_table[self.index.reshape(-1)].reshape(n, n, -1).permute(2, 0, 1)
            s = s + bias
        if mask is not None:
            nw = mask.shape[0]
            s = (s.view(b // nw, nw, self.heads, n, n) + mask[None, :, None]).view(b, self.heads, n, n)
        x = (s.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(x)


def _trunc_init(m):
    for mod in m.modules():
        if isinstance(mod, nn.Linear):
            nn.init.trunc_normal_(mod.weight, std=0.02)
            if mod.bias is not None:
                nn.init.zeros_(mod.bias)


class ViTBlock(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim), Attention(dim, heads)
        self.norm2, self.mlp = nn.LayerNorm(dim), Mlp(dim, hidden)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViTTiny(nn.Module):
    """Patch 4, dim 64, depth 4, 4 heads, MLP ratio 2, class token."""

    def __init__(self, c=1, h=28, w=28, classes=10, patch=4, dim=64, depth=4, heads=4, ratio=2):
        super().__init__()
        tokens = (h // patch) * (w // patch)
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(c, dim, patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens + 1, dim))
        self.blocks = nn.ModuleList(ViTBlock(dim, heads, dim * ratio) for _ in range(depth))
        self.norm, self.head = nn.LayerNorm(dim), nn.Linear(dim, classes)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        _trunc_init(self)

    def forward(self, x):
        x = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.norm(x)[:, 0])


def window_partition(x, ws):
    b, h, w, c = x.shape
    x = x.view(b, h // ws, ws, w // ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, ws * ws, c)


def window_reverse(x, ws, h, w):
    c = x.shape[-1]
    x = x.view(-1, h // ws, w // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, h, w, c)


def shifted_window_mask(h, w, ws, shift):
    img = torch.zeros(1, h, w, 1)
    cnt = 0
    for hs in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
        for wsl in (slice(0, -ws), slice(-ws, -shift), slice(-shift, None)):
            img[:, hs, wsl, :] = cnt
            cnt += 1
    win = window_partition(img, ws).squeeze(-1)
    mask = win[:, None, :] - win[:, :, None]
    return mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)


class SwinBlock(nn.Module):
    def __init__(self, dim, heads, ws, shift, h, w, ratio):
        super().__init__()
        self.ws, self.shift, self.h, self.w = ws, shift, h, w
        self.norm1, self.attn = nn.LayerNorm(dim), Attention(dim, heads, ws)
        self.norm2, self.mlp = nn.LayerNorm(dim), Mlp(dim, dim * ratio)
        self.register_buffer("mask", shifted_window_mask(h, w, ws, shift) if shift else None, persistent=False)

    def forward(self, x):
        t = self.norm1(x)
        if self.shift:
            t = torch.roll(t, (-self.shift, -self.shift), (1, 2))
        t = window_reverse(self.attn(window_partition(t, self.ws), self.mask), self.ws, self.h, self.w)
        if self.shift:
            t = torch.roll(t, (self.shift, self.shift), (1, 2))
        x = x + t
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x):
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x))


class SwinMicro(nn.Module):
    """Patch 2, embed 32, depths [2,2] (28 px: 14x14 then 7x7), heads [2,4], window 7, MLP ratio 4."""

    def __init__(self, c=1, h=28, w=28, classes=10, embed=32, depths=(2, 2, 2), heads=(2, 4, 8), ratio=4):
        super().__init__()
        h, w = h // 2, w // 2
        ws = 7 if h % 7 == 0 and w % 7 == 0 else 4
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(c, embed, 2, stride=2)
        self.patch_embed.norm = nn.LayerNorm(embed)
        self.stages = nn.ModuleList()
        dim = embed
        for s, depth in enumerate(depths):
            stage = nn.Module()
            if s > 0:
                if h % 2 or w % 2 or (h // 2) % min(ws, h // 2):
                    break
                stage.downsample = PatchMerging(dim)
                h, w, dim = h // 2, w // 2, dim * 2
            else:
                stage.downsample = nn.Identity()
            win = min(ws, h, w)
            stage.blocks = nn.ModuleList(
                SwinBlock(dim, heads[s], win, win // 2 if i % 2 and h > win and w > win else 0, h, w, ratio)
                for i in range(depth))
            self.stages.append(stage)
        self.norm, self.head = nn.LayerNorm(dim), nn.Linear(dim, classes)
        _trunc_init(self)

    def forward(self, x):
        x = self.patch_embed.norm(self.patch_embed.proj(x).permute(0, 2, 3, 1))
        for stage in self.stages:
            x = stage.downsample(x)
            for blk in stage.blocks:
                x = blk(x)
        return self.head(self.norm(x).mean((1, 2)))


MODELS = {"mlp": MLP, "cnn": CNN, "vit-tiny": ViTTiny, "swin-micro": SwinMicro}


def build(name, c=1, h=28, w=28, classes=10):
    return MODELS[name](c, h, w, classes)


def read_safetensors(path):
    """Reads an F32 safetensors file (as ops/modelio writes) into tensors."""
    import json
    import struct

    import numpy as np
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    header.pop("__metadata__", None)
    data = blob[8 + n:]
    out = {}
    for name, e in header.items():
        assert e["dtype"] == "F32", (path, name, e["dtype"])
        b, end = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[b:end], dtype="<f4").copy().reshape(e["shape"]))
    return out


def check(directory):
    """Loads qpipe weights for each model in directory, runs the PyTorch twin
    on the saved input and prints the largest difference from qpipe's
    logits, one JSON object per model."""
    import json
    import os
    io = read_safetensors(os.path.join(directory, "io.safetensors"))
    x = io["x"]
    for name in MODELS:
        path = os.path.join(directory, name + ".safetensors")
        if not os.path.exists(path):
            continue
        m = build(name, *x.shape[1:], classes=io[name + ".logits"].shape[1]).eval()
        m.load_state_dict(read_safetensors(path), strict=True)
        with torch.no_grad():
            y = m(x)
        diff = (y - io[name + ".logits"]).abs().max().item()
        print(json.dumps({"model": name, "max_abs_diff": diff}))


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        sys.exit("usage: torch_models.py check DIR")
