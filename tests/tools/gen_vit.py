#!/usr/bin/python3
# Generates tests/data/vit.json (run once, with Debian's python3-torch:
# /usr/bin/python3 tests/tools/gen_vit.py). timm is not installed here, so its VisionTransformer
# (timm 0.4.12, the version DeiT was trained with) and facebookresearch/deit's distilled variant
# are written out below in plain torch, with timm's module names. The file holds:
#   - parameter counts and the full state_dict key/shape lists of the DeiT models and vit_cifar;
#   - golden outputs of a tiny ViT (plain and distilled) whose weights and input come from
#     closed-form formulas that test_vit.cpp evaluates the same way: eval logits, and the
#     gradients of L = sum(r * logits) for a few parameters and the input.
import json
import math
import os

import torch
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self, dim, num_heads, qkv_bias):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B, N, C))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, dim, num_heads, mlp_ratio, qkv_bias):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(self, img_size, patch_size, in_chans, dim):
        super().__init__()
        self.num_patches = (img_size // patch_size) ** 2
        self.proj = nn.Conv2d(in_chans, dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    def __init__(self, img_size=224, patch_size=16, in_chans=3, num_classes=1000, embed_dim=768, depth=12,
                 num_heads=12, mlp_ratio=4.0, qkv_bias=True, distilled=False):
        super().__init__()
        self.distilled = distilled
        self.patch_embed = PatchEmbed(img_size, patch_size, in_chans, embed_dim)
        n = self.patch_embed.num_patches
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        # As deit's DistilledVisionTransformer: pos_embed is replaced by a longer one after
        # dist_token is created, so it keeps its place before dist_token in the state_dict.
        self.pos_embed = nn.Parameter(torch.zeros(1, n + (2 if distilled else 1), embed_dim))
        if distilled:
            self.dist_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.blocks = nn.Sequential(*[Block(embed_dim, num_heads, mlp_ratio, qkv_bias) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.head = nn.Linear(embed_dim, num_classes)
        if distilled:
            self.head_dist = nn.Linear(embed_dim, num_classes)

    def forward(self, x):
        x = self.patch_embed(x)
        B = x.shape[0]
        tokens = [self.cls_token.expand(B, -1, -1)]
        if self.distilled:
            tokens.append(self.dist_token.expand(B, -1, -1))
        x = torch.cat(tokens + [x], dim=1) + self.pos_embed
        x = self.norm(self.blocks(x))
        if self.distilled:
            return (self.head(x[:, 0]) + self.head_dist(x[:, 1])) / 2
        return self.head(x[:, 0])


CONFIGS = {
    "deit_tiny": dict(embed_dim=192, num_heads=3),
    "deit_small": dict(embed_dim=384, num_heads=6),
    "deit_base": dict(embed_dim=768, num_heads=12),
    "deit_tiny_distilled": dict(embed_dim=192, num_heads=3, distilled=True),
    "deit_small_distilled": dict(embed_dim=384, num_heads=6, distilled=True),
    "deit_base_distilled": dict(embed_dim=768, num_heads=12, distilled=True),
    "vit_cifar": dict(img_size=32, patch_size=4, embed_dim=192, depth=6, num_heads=3, num_classes=10),
}

TINY = dict(img_size=8, patch_size=4, in_chans=3, num_classes=5, embed_dim=8, depth=2, num_heads=2)


def formula(name, k, shape):
    # The same closed forms as formula_value() in test_vit.cpp (double, then float32).
    numel = math.prod(shape)
    vals = []
    for i in range(numel):
        s = math.sin(0.37 * i + 1.1 * k + 0.5)
        if name in ("cls_token", "dist_token", "pos_embed"):
            v = 0.5 * s
        elif name.endswith("bias"):
            v = 0.1 * s
        elif len(shape) == 1:
            v = 1.0 + 0.2 * s
        else:
            v = s / math.sqrt(numel / shape[0])
        vals.append(v)
    return torch.tensor(vals, dtype=torch.float64).to(torch.float32).reshape(shape)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def golden(distilled):
    model = VisionTransformer(**TINY, distilled=distilled)
    sd = model.state_dict()
    with torch.no_grad():
        for k, name in enumerate(sd.keys()):
            sd[name].copy_(formula(name, k, list(sd[name].shape)))
    n_in = 2 * 3 * 8 * 8
    x = torch.tensor([math.sin(0.731 * i) + 0.5 * math.cos(0.117 * i) for i in range(n_in)],
                     dtype=torch.float64).to(torch.float32).reshape(2, 3, 8, 8).requires_grad_()
    r = torch.tensor([math.cos(0.9 * j) for j in range(10)], dtype=torch.float64).to(torch.float32).reshape(2, 5)
    y = model(x)
    (y * r).sum().backward()
    out = {"names": list(sd.keys()), "logits": flat(y), "grad_input": flat(x.grad)}
    for name in ["cls_token", "pos_embed", "patch_embed.proj.weight", "blocks.0.attn.qkv.weight",
                 "blocks.0.attn.qkv.bias", "blocks.1.mlp.fc1.weight", "blocks.1.norm1.weight", "norm.bias",
                 "head.weight"] + (["dist_token", "head_dist.bias"] if distilled else []):
        out["grad " + name] = flat(dict(model.named_parameters())[name].grad)
    return out


def main():
    out = {"models": {}}
    for name, cfg in CONFIGS.items():
        model = VisionTransformer(**cfg)
        out["models"][name] = {
            "num_parameters": sum(p.numel() for p in model.parameters()),
            "state": [[k, list(v.shape)] for k, v in model.state_dict().items()],
        }
        print(name, out["models"][name]["num_parameters"])
    out["tiny"] = golden(False)
    out["tiny_distilled"] = golden(True)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "vit.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
