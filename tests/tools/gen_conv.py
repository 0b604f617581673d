#!/usr/bin/python3
# Generates tests/data/conv.json: golden conv2d values (output and the gradients of x, weight and
# bias for a random dy) from PyTorch. Run once, with Debian's python3-torch:
#   /usr/bin/python3 tests/tools/gen_conv.py
import json
import os

import torch
import torch.nn.functional as F

torch.manual_seed(0)


def flat(t):  # 9 significant digits: every float32 round-trips
    return [float("%.9g" % v) for v in t.detach().reshape(-1).tolist()]


def conv_case(x_shape, w_shape, bias=True, stride=1, padding=0, dilation=1, groups=1):
    pair = lambda v: list(v) if isinstance(v, (tuple, list)) else [v, v]
    x = torch.randn(*x_shape).requires_grad_()
    w = (torch.randn(*w_shape) * 0.5).requires_grad_()
    b = torch.randn(w_shape[0]).requires_grad_() if bias else None
    y = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    dy = torch.randn(*y.shape)
    grads = torch.autograd.grad(y, [x, w] + ([b] if bias else []), dy)
    case = {"x_shape": list(x_shape), "w_shape": list(w_shape), "stride": pair(stride), "padding": pair(padding),
            "dilation": pair(dilation), "groups": groups, "y_shape": list(y.shape), "x": flat(x), "w": flat(w),
            "y": flat(y), "dy": flat(dy), "dx": flat(grads[0]), "dw": flat(grads[1])}
    if bias:
        case.update({"b": flat(b), "db": flat(grads[2])})
    return case


data = {
    "3x3_pad1_bias": conv_case((2, 3, 5, 6), (4, 3, 3, 3), padding=1),
    "3x3_stride2_pad1_nobias": conv_case((2, 4, 7, 9), (6, 4, 3, 3), bias=False, stride=2, padding=1),
    "dilation2": conv_case((1, 3, 9, 8), (2, 3, 3, 3), padding=2, dilation=2),
    "groups2": conv_case((2, 4, 6, 5), (6, 2, 3, 3), padding=1, groups=2),
    "depthwise": conv_case((2, 5, 7, 7), (5, 1, 3, 3), padding=1, groups=5),
    "depthwise_multiplier2_stride2": conv_case((1, 3, 8, 8), (6, 1, 3, 3), stride=2, padding=1, groups=3),
    "non_square": conv_case((2, 3, 8, 11), (4, 3, 2, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
    "1x1": conv_case((3, 8, 4, 4), (5, 8, 1, 1)),
    "1x1_stride2_nobias": conv_case((2, 6, 7, 7), (4, 6, 1, 1), bias=False, stride=2),
    "no_padding_5x5": conv_case((2, 2, 9, 10), (3, 2, 5, 5)),
    # Several column tiles with a partial last one (10 x 10 = 100 pixels), 11 output channels
    # (a partial weight panel), and a 288-long inner dimension (two blocks of the product).
    "tiles_panels_blocks": conv_case((1, 32, 10, 10), (11, 32, 3, 3), padding=1),
    "stride2_tiles": conv_case((1, 8, 16, 16), (10, 8, 3, 3), stride=2, padding=1),
    "large_padding": conv_case((1, 2, 4, 5), (3, 2, 3, 3), padding=(3, 2)),
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "conv.json")
with open(path, "w") as f:
    json.dump(data, f)
print("wrote", os.path.normpath(path))
