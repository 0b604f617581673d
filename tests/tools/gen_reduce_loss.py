#!/usr/bin/python3
# Generates tests/data/reduce_loss.json: golden values from PyTorch for the reductions of
# core/ops/reduce.h and the softmax / cross-entropy of core/ops/loss.h, forward and gradients
# (run once, with Debian's python3-torch: /usr/bin/python3 tests/tools/gen_reduce_loss.py).
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def ints(t):
    return [int(v) for v in t.reshape(-1).tolist()]


def with_grad(x, fn):
    """Runs fn(x) and backpropagates a random dy; returns (x, y, dy, dx)."""
    x = x.clone().requires_grad_()
    y = fn(x)
    dy = torch.randn(y.shape)
    (dx,) = torch.autograd.grad(y, [x], dy)
    return {"shape": list(x.shape), "x": flat(x), "y": flat(y), "y_shape": list(y.shape), "dy": flat(dy),
            "dx": flat(dx)}


def ties(*shape):
    # Small integers: many equal values in every row, to pin down which element gets the gradient.
    return torch.randint(-3, 4, shape).float()


def dims_arg(dims):
    return None if dims is None else list(dims)


def mean_case(shape, dims, keepdim):
    x = torch.randn(*shape) * 2.0 + 1.0
    fn = (lambda t: t.mean()) if dims is None else (lambda t: t.mean(dim=dims, keepdim=keepdim))
    case = with_grad(x, fn)
    case.update({"dims": dims_arg(dims), "keepdim": keepdim})
    return case


def var_case(shape, dims, correction, keepdim, offset=0.0):
    x = torch.randn(*shape) * 3.0 + offset
    case = with_grad(x, lambda t: torch.var(t, dims, correction=correction, keepdim=keepdim))
    case.update({"dims": dims_arg(dims), "correction": correction, "keepdim": keepdim})
    return case


def extremum_dim_case(kind, shape, dim, keepdim):
    x = ties(*shape).requires_grad_()
    values, indices = (torch.max if kind == "max" else torch.min)(x, dim, keepdim=keepdim)
    # torch returns the first extremum of each row; check it so the golden file states that rule.
    first = (x.detach() == values.detach().unsqueeze(dim) if not keepdim else x.detach() == values.detach())
    assert torch.equal(indices, first.float().argmax(dim, keepdim=keepdim)), "expected first indices"
    dy = torch.randn(values.shape)
    (dx,) = torch.autograd.grad(values, [x], dy)
    return {"shape": list(shape), "dim": dim, "keepdim": keepdim, "x": flat(x), "values": flat(values),
            "indices": ints(indices), "y_shape": list(values.shape), "dy": flat(dy), "dx": flat(dx)}


def extremum_all_case(kind, shape):
    x = ties(*shape)
    case = with_grad(x, lambda t: t.max() if kind == "max" else t.min())
    return case


def argmax_case(shape, dim, keepdim):
    x = ties(*shape)
    idx = torch.argmax(x, dim, keepdim=keepdim)
    return {"shape": list(shape), "dim": dim, "keepdim": keepdim, "x": flat(x), "indices": ints(idx),
            "y_shape": list(idx.shape)}


def norm_case(p, shape, dims, keepdim, tie=False):
    x = ties(*shape) if tie else torch.randn(*shape)
    pt = math.inf if p == "inf" else p
    if dims is None:
        fn = lambda t: torch.linalg.vector_norm(t, pt)
    else:
        fn = lambda t: torch.linalg.vector_norm(t, pt, dim=dims, keepdim=keepdim)
    case = with_grad(x, fn)
    case.update({"p": p, "dims": dims_arg(dims), "keepdim": keepdim})
    return case


def softmax_case(log, shape, dim, scale=1.0, offset=0.0):
    x = torch.randn(*shape) * scale + offset
    case = with_grad(x, lambda t: (F.log_softmax if log else F.softmax)(t, dim))
    case["dim"] = dim
    return case


def cross_entropy_case(N, C, soft, reduction, smoothing, scale=2.0):
    z = (torch.randn(N, C) * scale).requires_grad_()
    if soft:
        target = torch.softmax(torch.randn(N, C) * 2.0, 1).requires_grad_()
    else:
        target = torch.randint(0, C, (N,))
    loss = F.cross_entropy(z, target, reduction=reduction, label_smoothing=smoothing)
    dy = torch.randn(loss.shape)
    inputs = [z, target] if soft else [z]
    grads = torch.autograd.grad(loss, inputs, dy)
    case = {"N": N, "C": C, "soft": soft, "reduction": reduction, "label_smoothing": smoothing, "logits": flat(z),
            "loss": flat(loss), "loss_shape": list(loss.shape), "dy": flat(dy), "dlogits": flat(grads[0])}
    case["target"] = flat(target) if soft else ints(target)
    if soft:
        case["dtarget"] = flat(grads[1])
    return case


data = {
    "mean": {
        "all": mean_case((3, 4, 5), None, False),
        "last": mean_case((3, 4, 5), (-1,), False),
        "first_keep": mean_case((3, 4, 5), (0,), True),
        "outer_two": mean_case((3, 4, 5), (0, 2), False),
        "middle_keep": mean_case((2, 6, 3), (1,), True),
    },
    "var": {
        "all_unbiased": var_case((4, 5, 6), (0, 1, 2), 1, False),
        "last": var_case((4, 5, 6), (-1,), 1, False),
        "first_keep_biased": var_case((4, 5, 6), (0,), 0, True),
        "outer_two_corr2": var_case((4, 5, 6), (0, 2), 2, False),
        "large_mean": var_case((7, 9), (1,), 1, True, offset=1000.0),
    },
    "max_dim": {
        "last": extremum_dim_case("max", (5, 7), 1, False),
        "first_keep": extremum_dim_case("max", (6, 4), 0, True),
        "middle": extremum_dim_case("max", (3, 5, 4), 1, False),
        "neg_dim_keep": extremum_dim_case("max", (2, 3, 6), -1, True),
    },
    "min_dim": {
        "last": extremum_dim_case("min", (5, 7), 1, False),
        "middle_keep": extremum_dim_case("min", (3, 5, 4), 1, True),
        "first": extremum_dim_case("min", (6, 4), 0, False),
    },
    "max_all": {"ties": extremum_all_case("max", (4, 6))},
    "min_all": {"ties": extremum_all_case("min", (3, 2, 5))},
    "argmax": {
        "last": argmax_case((5, 7), 1, False),
        "middle_keep": argmax_case((3, 5, 4), 1, True),
        "first": argmax_case((6, 4), 0, False),
    },
    "norm": {
        "p2_all": norm_case(2, (4, 5), None, False),
        "p1_all": norm_case(1, (4, 5), None, False),
        "inf_all_ties": norm_case("inf", (4, 5), None, False, tie=True),
        "p2_last_keep": norm_case(2, (3, 4, 5), (-1,), True),
        "p1_first": norm_case(1, (3, 4, 5), (0,), False),
        "inf_middle_ties": norm_case("inf", (3, 6, 4), (1,), False, tie=True),
        "p2_outer_two": norm_case(2, (3, 4, 5), (0, 2), False),
        "inf_two_keep": norm_case("inf", (3, 4, 5), (1, 2), True),
    },
    "softmax": {
        "last": softmax_case(False, (4, 10), -1),
        "first": softmax_case(False, (6, 3, 5), 0),
        "middle": softmax_case(False, (2, 7, 5), 1),
        "large": softmax_case(False, (3, 8), 1, scale=30.0, offset=1000.0),
        "wide_cols": softmax_case(False, (2, 3, 300), 1),
    },
    "log_softmax": {
        "last": softmax_case(True, (4, 10), -1),
        "first": softmax_case(True, (6, 3, 5), 0),
        "middle": softmax_case(True, (2, 7, 5), 1),
        "large": softmax_case(True, (3, 8), 1, scale=30.0, offset=-1000.0),
        "wide_cols": softmax_case(True, (2, 3, 300), 1),
    },
    "cross_entropy": {},
}
for soft in (False, True):
    for reduction in ("mean", "sum", "none"):
        for smoothing in (0.0, 0.1):
            name = ("soft" if soft else "hard") + "_" + reduction + ("_ls" if smoothing else "")
            data["cross_entropy"][name] = cross_entropy_case(6, 5, soft, reduction, smoothing)
data["cross_entropy"]["hard_large_logits"] = cross_entropy_case(4, 7, False, "mean", 0.2, scale=200.0)
data["cross_entropy"]["soft_many_classes"] = cross_entropy_case(3, 130, True, "sum", 0.05)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "reduce_loss.json")
with open(path, "w") as f:
    json.dump(data, f)
print("wrote", os.path.normpath(path))
