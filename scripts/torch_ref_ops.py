# Regenerate with: /usr/bin/python3 scripts/torch_ref_ops.py  (needs Debian's python3-torch, python3-numpy)
"""PyTorch references for the ops package's end-to-end tests.

Writes ops/testdata/torchref/{cnn,swin}/ *.npy: parameters (param.NAME.npy),
inputs, outputs, loss and every parameter gradient (grad.NAME.npy), named by
torch's state_dict names so the Go test can load them by name. Models are
small so the files stay well under 2 MB. Values are drawn in float32 and the
references computed in float64 (then stored as float32), so the Go float32
results are compared against the exact values.
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "ops", "testdata", "torchref")


def save(d, name, t):
    os.makedirs(d, exist_ok=True)
    np.save(os.path.join(d, name + ".npy"), t.detach().cpu().numpy().astype(np.float32))


def save_model(d, model, loss, extra):
    for name, p in model.named_parameters():
        save(d, "param." + name, p)
        save(d, "grad." + name, p.grad)
    for name, b in model.named_buffers():
        if b.dtype.is_floating_point:
            save(d, "buffer." + name, b)
    save(d, "loss", loss.reshape(1))
    for k, v in extra.items():
        save(d, k, v)


def f32_init(model, seed):
    """Re-draw every parameter in float32 so Go sees identical values."""
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        with torch.no_grad():
            v = torch.randn(p.shape, generator=g, dtype=torch.float32)
            scale = 0.3 if p.dim() > 1 else 0.1
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or name.endswith("norm.weight") or name.startswith("bn"):
                v = 1 + 0.1 * v if name.endswith("weight") else 0.1 * v
            else:
                v = scale * v
            p.copy_(v.double())


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 4 * 4, 5)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.conv2(x))
        return self.fc(torch.flatten(x, 1))


def cnn():
    d = os.path.join(OUT, "cnn")
    torch.manual_seed(1)
    m = CNN().double()
    f32_init(m, 1)
    x = torch.randn(4, 3, 8, 8, dtype=torch.float32).double()
    y = torch.tensor([0, 3, 1, 4])
    m.train()
    out = m(x)
    loss = F.cross_entropy(out, y)
    loss.backward()
    m.eval()
    with torch.no_grad():
        out_eval = m(x)
    save_model(d, m, loss, {"input": x, "labels": y.double(), "output": out, "output_eval": out_eval})


def window_partition(x, ws):
    B, H, W, C = x.shape
    x = x.view(B, H // ws, ws, W // ws, ws, C)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws, ws, C)


def window_reverse(windows, ws, H, W):
    B = int(windows.shape[0] / (H * W / ws / ws))
    x = windows.view(B, H // ws, W // ws, ws, ws, -1)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(B, H, W, -1)


class WindowAttention(nn.Module):
    """Swin V1 window attention (microsoft/Swin-Transformer)."""

    def __init__(self, dim, ws, heads):
        super().__init__()
        self.ws, self.heads = ws, heads
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * ws - 1) ** 2, heads))
        coords = torch.stack(torch.meshgrid([torch.arange(ws), torch.arange(ws)], indexing="ij"))
        flat = torch.flatten(coords, 1)
        rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()
        rel[:, :, 0] += ws - 1
        rel[:, :, 1] += ws - 1
        rel[:, :, 0] *= 2 * ws - 1
        self.register_buffer("relative_position_index", rel.sum(-1))
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, mask=None):
        B_, N, C = x.shape
        qkv = self.qkv(x).reshape(B_, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * self.scale) @ k.transpose(-2, -1)
        rpb = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(N, N, -1)
        attn = attn + rpb.permute(2, 0, 1).contiguous().unsqueeze(0)
        if mask is not None:
            nW = mask.shape[0]
            attn = attn.view(B_ // nW, nW, self.heads, N, N) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.heads, N, N)
        attn = attn.softmax(-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B_, N, C))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class SwinBlock(nn.Module):
    def __init__(self, dim, res, heads, ws, shift):
        super().__init__()
        self.res, self.ws, self.shift = res, ws, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, ws, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, 4 * dim)
        mask = None
        if shift > 0:
            H, W = res
            img = torch.zeros((1, H, W, 1))
            cnt = 0
            sl = (slice(0, -ws), slice(-ws, -shift), slice(-shift, None))
            for h in sl:
                for w in sl:
                    img[:, h, w, :] = cnt
                    cnt += 1
            mw = window_partition(img, ws).view(-1, ws * ws)
            mask = mw.unsqueeze(1) - mw.unsqueeze(2)
            mask = mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)
        self.register_buffer("attn_mask", mask)

    def forward(self, x):
        H, W = self.res
        B, L, C = x.shape
        shortcut = x
        x = self.norm1(x).view(B, H, W, C)
        if self.shift > 0:
            x = torch.roll(x, shifts=(-self.shift, -self.shift), dims=(1, 2))
        win = window_partition(x, self.ws).view(-1, self.ws * self.ws, C)
        win = self.attn(win, mask=self.attn_mask).view(-1, self.ws, self.ws, C)
        x = window_reverse(win, self.ws, H, W)
        if self.shift > 0:
            x = torch.roll(x, shifts=(self.shift, self.shift), dims=(1, 2))
        x = shortcut + x.view(B, H * W, C)
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, 4, stride=4)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x):
        return self.norm(self.proj(x).flatten(2).transpose(1, 2))


class PatchMerging(nn.Module):
    def __init__(self, res, dim):
        super().__init__()
        self.res = res
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x):
        H, W = self.res
        B, L, C = x.shape
        x = x.view(B, H, W, C)
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x.view(B, -1, 4 * C)))


class TinySwin(nn.Module):
    def __init__(self, dim=16, res=(8, 8), heads=2, ws=4, classes=10):
        super().__init__()
        self.patch_embed = PatchEmbed(dim)
        self.blocks = nn.ModuleList([SwinBlock(dim, res, heads, ws, 0), SwinBlock(dim, res, heads, ws, ws // 2)])
        self.downsample = PatchMerging(res, dim)
        self.head = nn.Linear(2 * dim, classes)

    def forward(self, x):
        x = self.patch_embed(x)
        for b in self.blocks:
            x = b(x)
        return self.head(self.downsample(x).mean(1))


def swin():
    d = os.path.join(OUT, "swin")
    torch.manual_seed(2)
    m = TinySwin().double()
    f32_init(m, 2)
    x = torch.randn(2, 3, 32, 32, dtype=torch.float32).double()
    y = torch.tensor([7, 2])
    out = m(x)
    loss = F.cross_entropy(out, y)
    loss.backward()
    save_model(d, m, loss, {"input": x, "labels": y.double(), "output": out})


if __name__ == "__main__":
    torch.set_num_threads(1)
    cnn()
    swin()
