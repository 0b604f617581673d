#!/usr/bin/python3
# Generates tests/data/optim.json: golden optimizer trajectories and learning-rate schedules from
# PyTorch (run once, with Debian's python3-torch: /usr/bin/python3 tests/tools/gen_optim.py).
#
# Trajectories: two parameters (a [3, 4] matrix and a [5] vector) on a quadratic loss
# 0.5 * sum(c * (p - target)^2) plus a fixed noise per step. The gradients each step used are
# stored, so the C++ test feeds the very same gradients and compares the parameters after every
# step and the optimizer's buffers at the end. A null gradient means the parameter had none that
# step (the optimizer must skip it).
import json
import os

import torch

torch.manual_seed(0)
STEPS = 5


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def trajectory(make_optimizer, groups_spec, skip=()):
    """groups_spec: list of dicts of overrides per group (each group holds one parameter).
    skip: (step, param) pairs for which the parameter gets no gradient."""
    p0 = [torch.randn(3, 4), torch.randn(5)]
    target = [torch.randn(3, 4), torch.randn(5)]
    curv = [torch.rand(3, 4) + 0.5, torch.rand(5) + 0.5]
    params = [p.clone().requires_grad_() for p in p0]
    groups = [dict(spec, params=[p]) for spec, p in zip(groups_spec, params)]
    opt = make_optimizer(groups)
    grads, after = [], []
    for step in range(STEPS):
        step_grads = []
        for i, p in enumerate(params):
            if (step, i) in skip:
                p.grad = None
                step_grads.append(None)
                continue
            g = curv[i] * (p.detach() - target[i]) + 0.1 * torch.randn(p.shape)
            p.grad = g.clone()
            step_grads.append(flat(g))
        opt.step()
        grads.append(step_grads)
        after.append([flat(p) for p in params])
    state = []
    for p in params:
        s = opt.state.get(p, {})
        state.append({k: (flat(v) if k != "step" else int(float(v))) for k, v in s.items()
                      if torch.is_tensor(v) or isinstance(v, (int, float))})
    return {"shapes": [list(p.shape) for p in params], "p0": [flat(p) for p in p0], "groups": groups_spec,
            "grads": grads, "params": after, "state": state}


def sgd(**kw):
    return lambda groups: torch.optim.SGD(groups, **kw)


def adamw(**kw):
    return lambda groups: torch.optim.AdamW(groups, **kw)


optimizers = {
    "sgd_plain": {"kind": "SGD", "options": {"lr": 0.1},
                  **trajectory(sgd(lr=0.1), [{}, {}])},
    "sgd_momentum": {"kind": "SGD", "options": {"lr": 0.05, "momentum": 0.9},
                     **trajectory(sgd(lr=0.05, momentum=0.9), [{}, {}])},
    "sgd_nesterov_wd": {"kind": "SGD", "options": {"lr": 0.05, "momentum": 0.9, "nesterov": True,
                                                   "weight_decay": 5e-2},
                        **trajectory(sgd(lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-2),
                                     [{}, {"weight_decay": 0.0, "lr": 0.2}])},
    "sgd_dampening_wd": {"kind": "SGD", "options": {"lr": 0.1, "momentum": 0.8, "dampening": 0.5,
                                                    "weight_decay": 1e-2},
                         **trajectory(sgd(lr=0.1, momentum=0.8, dampening=0.5, weight_decay=1e-2), [{}, {}],
                                      skip={(1, 1), (2, 0)})},
    "adamw_default": {"kind": "AdamW", "options": {"lr": 1e-3},
                      **trajectory(adamw(lr=1e-3), [{}, {}])},
    "adamw_options": {"kind": "AdamW", "options": {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6,
                                                   "weight_decay": 0.1},
                      **trajectory(adamw(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
                                   [{}, {"weight_decay": 0.0, "lr": 0.01}])},
    "adamw_skip": {"kind": "AdamW", "options": {"lr": 0.02, "weight_decay": 0.05},
                   **trajectory(adamw(lr=0.02, weight_decay=0.05), [{}, {}], skip={(0, 1), (3, 1), (2, 0)})},
}


# Schedules: the lr of each group after construction (t = 0) and after each of 20 step() calls.
def schedule(make, base_lrs=(0.1, 0.02), steps=20):
    params = [torch.zeros(1, requires_grad=True) for _ in base_lrs]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, base_lrs)], lr=base_lrs[0])
    sched = make(opt)
    lrs = [[g["lr"] for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    return {"base_lrs": list(base_lrs), "lrs": lrs}


S = torch.optim.lr_scheduler
schedules = {
    "step": {"options": {"name": "step", "step_size": 3, "gamma": 0.5},
             **schedule(lambda o: S.StepLR(o, step_size=3, gamma=0.5))},
    "multistep": {"options": {"name": "multistep", "milestones": [3, 7, 7, 12], "gamma": 0.1},
                  **schedule(lambda o: S.MultiStepLR(o, milestones=[3, 7, 7, 12], gamma=0.1))},
    "cosine_no_warmup": {"options": {"name": "cosine", "total_steps": 20, "min_lr": 1e-3},
                         **schedule(lambda o: S.CosineAnnealingLR(o, T_max=20, eta_min=1e-3))},
    "linear_warmup": {"options": {"name": "cosine", "total_steps": 200, "warmup_steps": 20,
                                  "warmup_start_factor": 0.1},
                      **schedule(lambda o: S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=20))},
    "cosine_warmup": {"options": {"name": "cosine", "total_steps": 20, "warmup_steps": 5,
                                  "warmup_start_factor": 0.25, "min_lr": 1e-4},
                      **schedule(lambda o: S.SequentialLR(
                          o, [S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=5),
                              S.CosineAnnealingLR(o, T_max=15, eta_min=1e-4)], milestones=[5]))},
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "optim.json")
with open(out, "w") as f:
    json.dump({"optimizers": optimizers, "schedules": schedules}, f)
print("wrote", os.path.normpath(out))
