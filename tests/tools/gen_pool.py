#!/usr/bin/python3
# Generates tests/data/pool.json: golden max_pool2d / avg_pool2d / adaptive_avg_pool2d / pad values
# (outputs and input gradients for a random dy) from PyTorch. Run once, with Debian's python3-torch:
#   /usr/bin/python3 tests/tools/gen_pool.py
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)


def flat(t):  # 9 significant digits: every float32 round-trips
    return [float("%.9g" % v) for v in t.detach().reshape(-1).tolist()]


def case(fn, shape, **args):
    x = torch.randn(*shape).requires_grad_()
    y = fn(x)
    dy = torch.randn(*y.shape)
    (dx,) = torch.autograd.grad(y, [x], dy)
    return dict(args, x_shape=list(shape), y_shape=list(y.shape), x=flat(x), y=flat(y), dy=flat(dy), dx=flat(dx))


def max_case(shape, kernel, stride, padding):
    # stride [] in PyTorch means the kernel; qnn spells it {0, 0}.
    return case(lambda x: F.max_pool2d(x, kernel, stride or kernel, padding), shape, kernel=kernel,
                stride=stride or [0, 0], padding=padding)


def avg_case(shape, kernel, stride, padding, count_include_pad):
    return case(lambda x: F.avg_pool2d(x, kernel, stride or kernel, padding, count_include_pad=count_include_pad),
                shape, kernel=kernel, stride=stride or [0, 0], padding=padding, count_include_pad=count_include_pad)


def adaptive_case(shape, output_size):
    return case(lambda x: F.adaptive_avg_pool2d(x, output_size), shape, output_size=output_size)


def pad_case(shape, pads, value):
    return case(lambda x: F.pad(x, pads, mode="constant", value=value), shape, pads=pads, value=value)


data = {
    "max_pool2d": {
        "2x2_default_stride": max_case((2, 3, 6, 8), [2, 2], None, [0, 0]),
        "3x3_stride2_pad1": max_case((2, 2, 9, 7), [3, 3], [2, 2], [1, 1]),
        "non_square": max_case((1, 3, 7, 10), [2, 3], [1, 2], [1, 1]),
        "overlapping_stride1": max_case((1, 2, 5, 5), [3, 3], [1, 1], [0, 0]),
        "unbatched": max_case((3, 6, 5), [2, 2], [2, 1], [1, 0]),
    },
    "avg_pool2d": {
        "2x2_default_stride": avg_case((2, 3, 6, 8), [2, 2], None, [0, 0], True),
        "3x3_stride2_pad1_include": avg_case((2, 2, 9, 7), [3, 3], [2, 2], [1, 1], True),
        "3x3_stride2_pad1_exclude": avg_case((2, 2, 9, 7), [3, 3], [2, 2], [1, 1], False),
        "non_square_exclude": avg_case((1, 3, 7, 10), [2, 3], [1, 2], [1, 1], False),
        "unbatched": avg_case((3, 6, 5), [3, 2], [1, 1], [1, 1], True),
    },
    "adaptive_avg_pool2d": {
        "global": adaptive_case((2, 3, 5, 7), [1, 1]),
        "divisible": adaptive_case((2, 2, 8, 8), [4, 2]),
        "uneven_bins": adaptive_case((1, 3, 7, 5), [3, 2]),
        "larger_than_input": adaptive_case((1, 2, 3, 4), [5, 6]),
        "unbatched": adaptive_case((3, 10, 9), [4, 4]),
    },
    "pad": {
        "last_dim": pad_case((2, 3, 4), [1, 2], 0.0),
        "last_two_dims_value": pad_case((2, 3, 4, 5), [1, 0, 2, 3], 1.5),
        "three_dims": pad_case((2, 3, 4), [0, 1, 2, 0, 1, 1], -2.0),
        "negative_crops": pad_case((2, 3, 5, 6), [-1, 2, 1, -2], 0.25),
    },
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "pool.json")
with open(path, "w") as f:
    json.dump(data, f)
print("wrote", os.path.normpath(path))
