#!/usr/bin/env python3
"""PyTorch reference values for course_lib.optim (optimizers, schedulers, clipping).

    /tmp/refvenv/bin/python tools/torch_reference/optim.py

writes ``tests/fixtures/torch_optim.npz`` (float64 arrays, ~150 kB).
``tests/test_optim.py`` replays every case with course_lib and does not need
PyTorch. Everything the tests need to rebuild a case is in the file:

* ``config``: JSON with the optimizer cases (class name, constructor keyword
  arguments, optional parameter groups, gradient mode), the scheduler cases
  and the clipping cases;
* ``W0`` (3, 4) and ``b0`` (4,): the starting parameters (float64);
* ``gW`` (25, 3, 4) and ``gb`` (25, 4): the gradient sequence, drawn in advance
  from a seeded numpy generator;
* ``curvW``, ``targetW``, ``curvb``, ``targetb``: the quadratic loss
  ``sum(curv * (p - target)**2) / 2`` of the "quadratic" gradient mode, where
  the gradient ``curv * (p - target) + 0.1 * g_t`` depends on the current
  parameters, so a wrong step changes every later gradient (the trajectory
  feeds back);
* ``opt/<case>/W`` (26, 3, 4) and ``opt/<case>/b`` (26, 4): the parameters
  before the first step and after each of the 25 steps;
* ``sched/<case>`` (121,) or (121, groups): ``get_last_lr()`` right after
  construction and after each ``scheduler.step()`` (called after
  ``optimizer.step()``, as PyTorch requires);
* ``clip/<case>/...``: gradients before and after ``clip_grad_norm_`` and the
  returned total norm.

Needs: ``pip install torch==2.13.0 numpy`` (the CPU build is enough).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "torch_optim.npz"
STEPS = 25
SCHED_STEPS = 120

torch.set_default_dtype(torch.float64)

# name -> (optimizer class, constructor kwargs, param groups or None)
# Param groups name the parameters "W" and "b" and carry per-group overrides.
OPT_CASES: dict[str, tuple[str, dict, list | None]] = {
    # SGD
    "sgd_default": ("SGD", {}, None),
    "sgd_plain": ("SGD", {"lr": 0.1}, None),
    "sgd_momentum": ("SGD", {"lr": 0.05, "momentum": 0.9}, None),
    "sgd_dampening": ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}, None),
    "sgd_nesterov": ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}, None),
    "sgd_weight_decay": ("SGD", {"lr": 0.1, "weight_decay": 0.05}, None),
    "sgd_momentum_wd": ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.05}, None),
    "sgd_nesterov_wd": ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}, None),
    "sgd_all": ("SGD", {"lr": 0.05, "momentum": 0.7, "dampening": 0.1, "weight_decay": 0.02}, None),
    # RMSprop
    "rmsprop_default": ("RMSprop", {}, None),
    "rmsprop_alpha": ("RMSprop", {"lr": 0.01, "alpha": 0.9}, None),
    "rmsprop_momentum": ("RMSprop", {"lr": 0.01, "momentum": 0.9}, None),
    "rmsprop_centered": ("RMSprop", {"lr": 0.01, "centered": True}, None),
    "rmsprop_weight_decay": ("RMSprop", {"lr": 0.01, "weight_decay": 0.1}, None),
    "rmsprop_all": ("RMSprop", {"lr": 0.005, "alpha": 0.95, "eps": 1e-6, "weight_decay": 0.05,
                                "momentum": 0.5, "centered": True}, None),
    # Adam
    "adam_default": ("Adam", {}, None),
    "adam_lr": ("Adam", {"lr": 0.05}, None),
    "adam_weight_decay": ("Adam", {"lr": 0.01, "weight_decay": 0.1}, None),
    "adam_betas_eps": ("Adam", {"lr": 0.01, "betas": [0.5, 0.9], "eps": 1e-6}, None),
    "adam_beta1_zero": ("Adam", {"lr": 0.01, "betas": [0.0, 0.99]}, None),
    "adam_big_eps": ("Adam", {"lr": 0.01, "eps": 0.1}, None),
    # AdamW
    "adamw_default": ("AdamW", {}, None),
    "adamw_weight_decay": ("AdamW", {"lr": 0.01, "weight_decay": 0.1}, None),
    "adamw_no_decay": ("AdamW", {"lr": 0.01, "weight_decay": 0.0}, None),
    "adamw_betas_eps": ("AdamW", {"lr": 0.01, "betas": [0.8, 0.95], "eps": 1e-6, "weight_decay": 0.2}, None),
    # per-group hyperparameters (GPT style: decay on the matrix, none on the bias)
    "groups_sgd": ("SGD", {"lr": 0.1, "momentum": 0.9},
                   [{"params": ["W"], "weight_decay": 0.1}, {"params": ["b"], "lr": 0.01, "momentum": 0.0}]),
    "groups_rmsprop": ("RMSprop", {"lr": 0.01},
                       [{"params": ["W"], "centered": True}, {"params": ["b"], "momentum": 0.5, "alpha": 0.9}]),
    "groups_adam": ("Adam", {"lr": 0.01, "weight_decay": 0.05},
                    [{"params": ["W"]}, {"params": ["b"], "lr": 0.03, "betas": [0.8, 0.99], "weight_decay": 0.0}]),
    "groups_adamw": ("AdamW", {"lr": 0.01},
                     [{"params": ["W"], "weight_decay": 0.1}, {"params": ["b"], "weight_decay": 0.0}]),
}
# cases also run with parameter-dependent gradients (trajectory feeds back)
QUADRATIC_CASES = ["sgd_plain", "sgd_momentum", "sgd_dampening", "sgd_nesterov_wd", "sgd_all",
                   "rmsprop_default", "rmsprop_all", "adam_lr", "adam_weight_decay", "adam_betas_eps",
                   "adamw_default", "adamw_betas_eps", "groups_sgd", "groups_adamw"]


def warmup_cosine_factor(step: int, warmup_steps: int, total_steps: int, min_ratio: float) -> float:
    """The multiplier of the warmup+cosine schedule (independent of course_lib, written with math)."""
    if step < warmup_steps:
        return (step + 1) / (warmup_steps + 1)
    progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))


SCHED_CASES = {
    "cosine": {"kind": "CosineAnnealingLR", "lrs": [0.1], "T_max": 100, "eta_min": 0.001},
    "cosine_periodic": {"kind": "CosineAnnealingLR", "lrs": [0.1], "T_max": 30, "eta_min": 0.0},
    "cosine_two_groups": {"kind": "CosineAnnealingLR", "lrs": [0.1, 0.02], "T_max": 80, "eta_min": 0.005},
    "warmup_cosine": {"kind": "WarmupCosine", "lrs": [3e-4], "warmup_steps": 10, "total_steps": 100,
                      "min_lr": 3e-5},
    "warmup_cosine_no_floor": {"kind": "WarmupCosine", "lrs": [6e-4, 1e-3], "warmup_steps": 20,
                               "total_steps": 110, "min_lr": 0.0},
    "lambda_two_groups": {"kind": "LambdaLR", "lrs": [0.1, 0.05]},  # lambdas: 0.95**s and 1/(s+1)
    "linear": {"kind": "LinearLR", "lrs": [0.1], "start_factor": 0.25, "end_factor": 1.0, "total_iters": 10},
    "linear_decay": {"kind": "LinearLR", "lrs": [0.1], "start_factor": 1.0, "end_factor": 0.1,
                     "total_iters": 50},
}

CLIP_CASES = {
    "l2_clipped": {"max_norm": 1.0, "norm_type": 2.0, "scale": 2.0},
    "l2_not_clipped": {"max_norm": 100.0, "norm_type": 2.0, "scale": 2.0},
    "l2_at_max_norm": {"max_norm": "total", "norm_type": 2.0, "scale": 1.0},
    "l1": {"max_norm": 1.0, "norm_type": 1.0, "scale": 1.0},
    "l3": {"max_norm": 0.5, "norm_type": 3.0, "scale": 1.0},
    "inf": {"max_norm": 0.5, "norm_type": "inf", "scale": 1.0},
}


def run_optimizer(case: str, mode: str, data: dict) -> tuple[np.ndarray, np.ndarray]:
    cls, kwargs, groups = OPT_CASES[case]
    W = torch.tensor(data["W0"].copy())
    b = torch.tensor(data["b0"].copy())
    named = {"W": W, "b": b}
    kw = {k: tuple(v) if k == "betas" else v for k, v in kwargs.items()}
    if groups is None:
        params = [W, b]
    else:
        params = [{**{k: tuple(v) if k == "betas" else v for k, v in g.items() if k != "params"},
                   "params": [named[n] for n in g["params"]]} for g in groups]
    opt = getattr(torch.optim, cls)(params, foreach=False, **kw)  # the single-tensor (readable) code path
    Ws, bs = [W.numpy().copy()], [b.numpy().copy()]
    for t in range(STEPS):
        gW, gb = data["gW"][t], data["gb"][t]
        if mode == "quadratic":
            gW = data["curvW"] * (W.numpy() - data["targetW"]) + 0.1 * gW
            gb = data["curvb"] * (b.numpy() - data["targetb"]) + 0.1 * gb
        W.grad = torch.tensor(np.array(gW))
        b.grad = torch.tensor(np.array(gb))
        opt.step()
        Ws.append(W.numpy().copy())
        bs.append(b.numpy().copy())
    return np.array(Ws), np.array(bs)


def run_scheduler(spec: dict) -> np.ndarray:
    params = [torch.zeros(2, requires_grad=True) for _ in spec["lrs"]]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, spec["lrs"])])
    S = torch.optim.lr_scheduler
    kind = spec["kind"]
    if kind == "CosineAnnealingLR":
        sched = S.CosineAnnealingLR(opt, T_max=spec["T_max"], eta_min=spec["eta_min"])
    elif kind == "WarmupCosine":
        # LambdaLR multiplies each group's lr by the factor; min_lr is absolute, so the
        # floor ratio is per group.
        lambdas = [
            (lambda s, r=spec["min_lr"] / lr: warmup_cosine_factor(s, spec["warmup_steps"], spec["total_steps"], r))
            for lr in spec["lrs"]
        ]
        sched = S.LambdaLR(opt, lambdas)
    elif kind == "LambdaLR":
        sched = S.LambdaLR(opt, [lambda s: 0.95 ** s, lambda s: 1.0 / (s + 1)])
    elif kind == "LinearLR":
        sched = S.LinearLR(opt, start_factor=spec["start_factor"], end_factor=spec["end_factor"],
                           total_iters=spec["total_iters"])
    else:
        raise ValueError(kind)
    values = [sched.get_last_lr()]
    for _ in range(SCHED_STEPS):
        opt.step()          # no gradients: nothing moves, but PyTorch wants optimizer.step() first
        sched.step()
        values.append(sched.get_last_lr())
    return np.array(values, dtype=np.float64)


def main() -> None:
    rng = np.random.default_rng(20240603)
    data = {
        "W0": rng.standard_normal((3, 4)),
        "b0": rng.standard_normal(4),
        "gW": rng.standard_normal((STEPS, 3, 4)),
        "gb": rng.standard_normal((STEPS, 4)),
        "curvW": rng.uniform(0.2, 3.0, (3, 4)),
        "targetW": rng.standard_normal((3, 4)),
        "curvb": rng.uniform(0.2, 3.0, 4),
        "targetb": rng.standard_normal(4),
    }
    out = dict(data)
    opt_cases = []
    for case, (cls, kwargs, groups) in OPT_CASES.items():
        for mode in ["fixed", "quadratic"] if case in QUADRATIC_CASES else ["fixed"]:
            key = f"{case}/{mode}"
            out[f"opt/{key}/W"], out[f"opt/{key}/b"] = run_optimizer(case, mode, data)
            opt_cases.append({"key": key, "optimizer": cls, "kwargs": kwargs, "groups": groups, "grad": mode})

    for name, spec in SCHED_CASES.items():
        out[f"sched/{name}"] = run_scheduler(spec)

    clip_cases = []
    for name, spec in CLIP_CASES.items():
        gW = rng.standard_normal((3, 4)) * spec["scale"]
        gb = rng.standard_normal(4) * spec["scale"]
        W = torch.zeros(3, 4, requires_grad=True)
        b = torch.zeros(4, requires_grad=True)
        W.grad, b.grad = torch.tensor(gW), torch.tensor(gb)
        norm_type = float(spec["norm_type"])
        if spec["max_norm"] == "total":  # exactly the norm: PyTorch still scales by total / (total + 1e-6)
            max_norm = float(torch.nn.utils.get_total_norm([W.grad, b.grad], norm_type))
        else:
            max_norm = float(spec["max_norm"])
        total = torch.nn.utils.clip_grad_norm_([W, b], max_norm, norm_type=norm_type)
        out.update({f"clip/{name}/gW": gW, f"clip/{name}/gb": gb, f"clip/{name}/total": np.float64(total),
                    f"clip/{name}/gW_after": W.grad.numpy().copy(), f"clip/{name}/gb_after": b.grad.numpy().copy(),
                    f"clip/{name}/max_norm": np.float64(max_norm)})
        clip_cases.append({"name": name, "norm_type": norm_type})

    config = {"steps": STEPS, "sched_steps": SCHED_STEPS, "optimizers": opt_cases, "schedulers": SCHED_CASES,
              "clip": clip_cases, "torch_version": torch.__version__}
    out["config"] = np.array(json.dumps(config))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(opt_cases)} optimizer runs, {len(SCHED_CASES)} schedules, "
          f"{len(clip_cases)} clipping cases ({OUT.stat().st_size / 1024:.0f} kB)")


if __name__ == "__main__":
    main()
