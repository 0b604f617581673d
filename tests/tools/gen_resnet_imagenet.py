#!/usr/bin/python3
# Generates tests/data/resnet_imagenet.json from torchvision's own ResNets (run once, with
# Debian's python3-torch / python3-torchvision: /usr/bin/python3 tests/tools/gen_resnet_imagenet.py):
#   - parameter counts and the full state_dict key/shape lists (without num_batches_tracked,
#     which qnn does not keep and load_state_dict drops) of resnet18 and resnet50 at 1000 classes;
#   - golden outputs of resnet18 and resnet50 at 10 classes on a 2x3x40x40 input (odd sizes
#     20 -> 10 -> 5 -> 3 -> 2 through the stages), with closed-form weights and input that
#     test_resnet_imagenet.cpp evaluates the same way: eval logits for both; for resnet18 also
#     training-mode logits, a running mean, and the head's gradients of L = sum(r * logits).
import json
import math
import os

import torch
import torchvision


MASK = (1 << 64) - 1


def hash_uniform(i, k):
    # A splitmix64-style mix of (i, k) to [-1, 1): exact integer arithmetic, so C++ gets the same
    # bits. (A smooth formula such as sin(0.37 i + ...) makes the conv outputs nearly constant over
    # the batch, and training-mode BatchNorm then divides rounding noise by a tiny variance.)
    h = (i * 0x9E3779B97F4A7C15 + (k + 1) * 0xBF58476D1CE4E5B9) & MASK
    h ^= h >> 31
    h = (h * 0x94D049BB133111EB) & MASK
    h ^= h >> 29
    return (h >> 11) * 2.0 ** -52 - 1.0


def formula(name, k, shape):
    # The same closed forms as formula_value() in test_resnet_imagenet.cpp (double, then float32).
    # Weights ~ U(-sqrt(3 / fan_in), sqrt(3 / fan_in)): unit gain per layer.
    numel = math.prod(shape)
    fan_in = numel // shape[0] if len(shape) > 1 else 1
    if name.endswith("running_var"):
        f = lambda s: 1.0 + 0.5 * abs(s)
    elif name.endswith("running_mean") or name.endswith("bias"):
        f = lambda s: 0.1 * s
    elif len(shape) == 1:
        f = lambda s: 1.0 + 0.2 * s
    else:
        c = math.sqrt(3.0 / fan_in)
        f = lambda s: s * c
    vals = [f(hash_uniform(i, k)) for i in range(numel)]
    return torch.tensor(vals, dtype=torch.float64).to(torch.float32).reshape(shape)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def keys_of(model):
    return [k for k in model.state_dict().keys() if not k.endswith("num_batches_tracked")]


def golden(arch, with_train):
    model = getattr(torchvision.models, arch)(num_classes=10)
    sd = model.state_dict()
    with torch.no_grad():
        for k, name in enumerate(keys_of(model)):
            sd[name].copy_(formula(name, k, list(sd[name].shape)))
    n_in = 2 * 3 * 40 * 40
    x = torch.tensor([math.sin(0.731 * i) + 0.5 * math.cos(0.117 * i) for i in range(n_in)],
                     dtype=torch.float64).to(torch.float32).reshape(2, 3, 40, 40)
    model.eval()
    out = {"eval_logits": flat(model(x))}
    if with_train:
        r = torch.tensor([math.cos(0.9 * j) for j in range(20)], dtype=torch.float64).to(torch.float32).reshape(2, 10)
        model.train()
        y = model(x)
        (y * r).sum().backward()
        out["train_logits"] = flat(y)
        out["layer2_0_downsample_1_running_mean"] = flat(model.layer2[0].downsample[1].running_mean)
        # Only the head's gradients: deeper ones cross ~10^5 ReLU kinks, and a pre-activation
        # within float32 rounding (~1e-5 here) of 0 flips a mask between any two float32
        # implementations (torch's own float32 and float64 gradients differ that way on this
        # input). The blocks' gradients are checked by finite differences in the C++ test instead.
        out["grad_fc_weight"] = flat(model.fc.weight.grad)
        out["grad_fc_bias"] = flat(model.fc.bias.grad)
    return out


def main():
    out = {"models": {}}
    for arch in ["resnet18", "resnet50"]:
        model = getattr(torchvision.models, arch)()
        sd = model.state_dict()
        out["models"][arch] = {
            "num_parameters": sum(p.numel() for p in model.parameters()),
            "state": [[k, list(sd[k].shape)] for k in keys_of(model)],
        }
        print(arch, out["models"][arch]["num_parameters"])
    out["resnet18"] = golden("resnet18", True)
    out["resnet50"] = golden("resnet50", False)
    print("resnet18 eval logits", out["resnet18"]["eval_logits"][:4])
    print("resnet18 train logits", out["resnet18"]["train_logits"][:4])
    print("resnet50 eval logits", out["resnet50"]["eval_logits"][:4])
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "resnet_imagenet.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
