#!/usr/bin/python3
# Generates tests/data/norm.json: golden batch_norm / layer_norm values from PyTorch (run once,
# with Debian's python3-torch: /usr/bin/python3 tests/tools/gen_norm.py).
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def batch_norm_case(shape, affine, offset):
    C = shape[1]
    x = (torch.randn(*shape) * 2.0 + offset).requires_grad_()
    w = (torch.rand(C) + 0.5).requires_grad_() if affine else None
    b = torch.randn(C).requires_grad_() if affine else None
    rm0, rv0 = torch.randn(C) * 0.1, torch.rand(C) + 0.5
    rm, rv = rm0.clone(), rv0.clone()
    y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
    dy = torch.randn(*shape)
    grads = torch.autograd.grad(y, [x] + ([w, b] if affine else []), dy)
    # Second training step on the same stats, then eval with the updated running stats.
    F.batch_norm(x.detach() * 0.5, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
    y_eval = F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-5)
    eval_grads = torch.autograd.grad(y_eval, [x] + ([w, b] if affine else []), dy)
    case = {"shape": list(shape), "x": flat(x), "running_mean0": flat(rm0), "running_var0": flat(rv0),
            "y": flat(y), "dy": flat(dy), "dx": flat(grads[0]), "running_mean": flat(rm),
            "running_var": flat(rv), "y_eval": flat(y_eval), "dx_eval": flat(eval_grads[0])}
    if affine:
        case.update({"weight": flat(w), "bias": flat(b), "dweight": flat(grads[1]), "dbias": flat(grads[2]),
                     "dweight_eval": flat(eval_grads[1]), "dbias_eval": flat(eval_grads[2])})
    return case


def layer_norm_case(shape, normalized_shape, affine):
    x = (torch.randn(*shape) * 3.0 + 1.0).requires_grad_()
    w = (torch.rand(*normalized_shape) + 0.5).requires_grad_() if affine else None
    b = torch.randn(*normalized_shape).requires_grad_() if affine else None
    y = F.layer_norm(x, normalized_shape, w, b, eps=1e-5)
    dy = torch.randn(*shape)
    grads = torch.autograd.grad(y, [x] + ([w, b] if affine else []), dy)
    case = {"shape": list(shape), "normalized_shape": list(normalized_shape), "x": flat(x), "y": flat(y),
            "dy": flat(dy), "dx": flat(grads[0])}
    if affine:
        case.update({"weight": flat(w), "bias": flat(b), "dweight": flat(grads[1]), "dbias": flat(grads[2])})
    return case


data = {
    "batch_norm": {
        "bn2d_affine": batch_norm_case((4, 3, 5, 6), True, 3.0),
        "bn1d_affine": batch_norm_case((8, 5), True, -1.0),
        "bn3d_plain": batch_norm_case((3, 2, 4, 5, 2), False, 0.5),
        "bn2d_planes": batch_norm_case((2, 4, 6, 7), True, 10.0),
        "bn2d_small_hw": batch_norm_case((5, 3, 2, 3), True, 2.0),
    },
    "layer_norm": {
        "last_dim": layer_norm_case((4, 6, 10), (10,), True),
        "two_dims": layer_norm_case((3, 5, 8), (5, 8), True),
        "plain": layer_norm_case((7, 33), (33,), False),
    },
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "norm.json")
with open(path, "w") as f:
    json.dump(data, f)
print("wrote", os.path.normpath(path))
