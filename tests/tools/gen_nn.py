#!/usr/bin/python3
# Generates tests/data/nn.json: golden CIFAR ResNet-20 outputs from PyTorch (run once, with
# Debian's python3-torch: /usr/bin/python3 tests/tools/gen_nn.py). The network is written here
# from He et al. 2016 sec. 4.2 as akamaster's checkpoints expect it (option-A shortcuts); its
# weights and input come from closed-form formulas that test_resnet_cifar.cpp evaluates the same
# way, so only the outputs need storing.
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if (stride != 1 or cin != planes) else None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        sc = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + sc)


class ResNet(nn.Module):
    def __init__(self, n, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin = 16
        for i, (planes, stride) in enumerate([(16, 1), (32, 2), (64, 2)]):
            blocks = []
            for b in range(n):
                blocks.append(Block(cin, planes, stride if b == 0 else 1))
                cin = planes
            setattr(self, "layer%d" % (i + 1), nn.Sequential(*blocks))
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.avg_pool2d(out, out.size()[3])
        return self.linear(out.view(out.size(0), -1))


def formula(name, k, shape):
    # The same closed forms as formula_value() in test_resnet_cifar.cpp (double, then float32).
    numel = math.prod(shape)
    vals = []
    for i in range(numel):
        s = math.sin(0.37 * i + 1.1 * k + 0.5)
        if name.endswith("running_var"):
            v = 1.0 + 0.5 * abs(s)
        elif name.endswith("running_mean") or name.endswith("bias"):
            v = 0.1 * s
        elif len(shape) == 1:
            v = 1.0 + 0.2 * s
        else:
            fan_in = math.prod(shape[1:])
            v = s / math.sqrt(fan_in)
        vals.append(v)
    return torch.tensor(vals, dtype=torch.float64).to(torch.float32).reshape(shape)


def main():
    model = ResNet(3)
    sd = model.state_dict()
    keys = [k for k in sd.keys() if not k.endswith("num_batches_tracked")]
    with torch.no_grad():
        for k, name in enumerate(keys):
            sd[name].copy_(formula(name, k, list(sd[name].shape)))
    n_in = 2 * 3 * 32 * 32
    x = torch.tensor([math.sin(0.731 * i) + 0.5 * math.cos(0.117 * i) for i in range(n_in)],
                     dtype=torch.float64).to(torch.float32).reshape(2, 3, 32, 32)
    r = torch.tensor([math.cos(0.9 * j) for j in range(20)], dtype=torch.float64).to(torch.float32).reshape(2, 10)

    model.eval()
    y_eval = model(x)
    model.train()
    y_train = model(x)
    (y_train * r).sum().backward()

    def flat(t):
        return [float(v) for v in t.detach().reshape(-1).tolist()]

    out = {
        "names": keys,
        "eval_logits": flat(y_eval),
        "train_logits": flat(y_train),
        "bn1_running_mean": flat(model.bn1.running_mean),
        "bn1_running_var": flat(model.bn1.running_var),
        "layer3_2_bn2_running_var": flat(model.layer3[2].bn2.running_var),
        "grad_conv1_weight": flat(model.conv1.weight.grad),
        "grad_layer2_0_conv1_weight": flat(model.layer2[0].conv1.weight.grad),
        "grad_linear_weight": flat(model.linear.weight.grad),
        "grad_linear_bias": flat(model.linear.bias.grad),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "nn.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
