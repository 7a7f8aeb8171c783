#!/usr/bin/env python3
"""PyTorch reference values for course_lib's core (Linear, activations, losses, init).

    /tmp/refvenv/bin/python tools/torch_reference/core.py

writes ``tests/fixtures/torch_core.npz`` (float64 arrays, a few kB) and
``tests/fixtures/torch_core_reprs.json`` (PyTorch's printed module names).
``tests/test_torch_parity.py`` compares course_lib with these files and does
not need PyTorch. Inputs come from a seeded numpy generator and are stored in
the fixture, so the tests feed course_lib exactly what PyTorch saw.
Needs: ``pip install torch==2.13.0 numpy`` (CPU build is enough).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[2]
OUT_NPZ = ROOT / "tests" / "fixtures" / "torch_core.npz"
OUT_JSON = ROOT / "tests" / "fixtures" / "torch_core_reprs.json"

torch.set_default_dtype(torch.float64)


def t(a: np.ndarray, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def n(x: torch.Tensor) -> np.ndarray:
    return x.detach().numpy().astype(np.float64)


def linear_case(out: dict, prefix: str, rng: np.random.Generator, bias: bool) -> None:
    """y = x W^T + b on a (B, T, C) input, and its backward for a given upstream gradient."""
    x = rng.standard_normal((2, 3, 4))          # (B, T, in)
    w = rng.standard_normal((5, 4)) * 0.5       # (out, in)
    g = rng.standard_normal((2, 3, 5))          # (B, T, out) upstream gradient
    lin = nn.Linear(4, 5, bias=bias)
    with torch.no_grad():
        lin.weight.copy_(t(w))
        if bias:
            b = rng.standard_normal(5)
            lin.bias.copy_(t(b))
            out[f"{prefix}_b"] = b
    xt = t(x, grad=True)
    y = lin(xt)
    y.backward(t(g))
    out.update({f"{prefix}_x": x, f"{prefix}_w": w, f"{prefix}_g": g, f"{prefix}_y": n(y),
                f"{prefix}_dx": n(xt.grad), f"{prefix}_dw": n(lin.weight.grad)})
    if bias:
        out[f"{prefix}_db"] = n(lin.bias.grad)


def activation_grid() -> np.ndarray:
    special = [-1e4, -1000.0, -100.0, -30.0, -20.0, -8.0, 8.0, 20.0, 30.0, 100.0, 1000.0, 1e4,
               0.0, 1e-8, -1e-8, 1e-300, -1e-300]
    return np.concatenate([np.linspace(-10.0, 10.0, 401), special])


def activations(out: dict) -> None:
    x = activation_grid()
    out["act_x"] = x
    mods = {
        "relu": nn.ReLU(), "sigmoid": nn.Sigmoid(), "tanh": nn.Tanh(),
        "gelu_none": nn.GELU(approximate="none"), "gelu_tanh": nn.GELU(approximate="tanh"),
    }
    for name, mod in mods.items():
        xt = t(x, grad=True)
        y = mod(xt)
        y.sum().backward()  # upstream gradient of ones: x.grad = f'(x)
        out[f"act_{name}_y"] = n(y)
        out[f"act_{name}_dy"] = n(xt.grad)
    out["erf_x"] = x
    out["erf_y"] = n(torch.special.erf(t(x)))


def softmax_family(out: dict, rng: np.random.Generator) -> None:
    z = rng.standard_normal((6, 7)) * 3.0
    big = np.array([[1e4, -1e4, 0.0, 5.0, -5.0, 1e4 - 1.0, 3.0],
                    [-1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4 + 2.0],
                    [1000.0, -1000.0, 999.0, 0.0, 1.0, 2.0, -3.0]])
    for name, logits in (("sm", z), ("sm_big", big)):
        out[f"{name}_x"] = logits
        out[f"{name}_softmax"] = n(F.softmax(t(logits), dim=-1))
        out[f"{name}_log_softmax"] = n(F.log_softmax(t(logits), dim=-1))


def cross_entropy(out: dict, rng: np.random.Generator) -> None:
    cases = {
        "ce": (rng.standard_normal((8, 5)) * 2.0, rng.integers(0, 5, size=8), -100),
        # PyTorch's default ignore_index=-100: rows 1 and 4 leave the mean
        "ce_ignore": (rng.standard_normal((6, 4)), np.array([0, -100, 3, 2, -100, 1]), -100),
        # a custom ignore_index that is also a valid class id (e.g. a padding token 0)
        "ce_ignore0": (rng.standard_normal((5, 3)), np.array([0, 2, 1, 0, 2]), 0),
        "ce_big": (np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [0.0, 0.0, 1e4], [1e4, 1e4, -1e4]]),
                   np.array([1, 1, 0, 2]), -100),
    }
    for name, (logits, target, ignore_index) in cases.items():
        lt = t(logits, grad=True)
        loss = F.cross_entropy(lt, torch.tensor(target, dtype=torch.long), ignore_index=ignore_index)
        loss.backward()
        out.update({f"{name}_logits": logits, f"{name}_target": target.astype(np.int64),
                    f"{name}_ignore_index": np.array(ignore_index, dtype=np.int64),
                    f"{name}_loss": np.array(loss.item()), f"{name}_grad": n(lt.grad)})


def mse(out: dict, rng: np.random.Generator) -> None:
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    pt = t(pred, grad=True)
    loss = F.mse_loss(pt, t(target))
    loss.backward()
    out.update({"mse_pred": pred, "mse_target": target, "mse_loss": np.array(loss.item()),
                "mse_grad": n(pt.grad)})


GAINS = [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
         ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None)]
FAN_SHAPES = [(5, 4), (3, 7), (8, 3, 2, 2)]


def init_values(out: dict) -> None:
    out["gain"] = np.array([nn.init.calculate_gain(name, param) for name, param in GAINS])
    fans = [nn.init._calculate_fan_in_and_fan_out(torch.empty(shape)) for shape in FAN_SHAPES]
    out["fans"] = np.array(fans, dtype=np.int64)


def reprs() -> dict:
    return {
        "linear": repr(nn.Linear(3, 2)),
        "linear_nobias": repr(nn.Linear(3, 2, bias=False)),
        "relu": repr(nn.ReLU()), "sigmoid": repr(nn.Sigmoid()), "tanh": repr(nn.Tanh()),
        "gelu": repr(nn.GELU()), "gelu_tanh": repr(nn.GELU(approximate="tanh")),
        "mse": repr(nn.MSELoss()), "cross_entropy": repr(nn.CrossEntropyLoss()),
        "identity": repr(nn.Identity()),
        "sequential": repr(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1))),
        "nested": repr(nn.Sequential(nn.Linear(2, 8),
                                     nn.Sequential(nn.GELU(approximate="tanh"), nn.Identity()),
                                     nn.Linear(8, 1))),
        "modulelist": repr(nn.ModuleList([nn.ReLU(), nn.Tanh()])),
        "linear_weight_shape": list(nn.Linear(3, 2).weight.shape),
        "sequential_parameter_names": [k for k, _ in nn.Sequential(
            nn.Linear(2, 8), nn.Sequential(nn.Tanh(), nn.Linear(8, 4)), nn.Linear(4, 1, bias=False)
        ).named_parameters()],
    }


def main() -> None:
    rng = np.random.default_rng(20240601)
    out: dict = {}
    linear_case(out, "lin", rng, bias=True)
    linear_case(out, "lin_nobias", rng, bias=False)
    activations(out)
    softmax_family(out, rng)
    cross_entropy(out, rng)
    mse(out, rng)
    init_values(out)
    OUT_NPZ.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT_NPZ, **out)
    meta = {"torch_version": torch.__version__, "gains": [[a, b] for a, b in GAINS],
            "fan_shapes": [list(s) for s in FAN_SHAPES], "reprs": reprs()}
    OUT_JSON.write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {OUT_NPZ.relative_to(ROOT)} ({OUT_NPZ.stat().st_size} bytes, {len(out)} arrays) "
          f"and {OUT_JSON.relative_to(ROOT)} with torch {torch.__version__}")


if __name__ == "__main__":
    main()
