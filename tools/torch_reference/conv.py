#!/usr/bin/env python3
"""PyTorch reference values for course_lib's image layers (Conv2d, unfold/fold, pooling, Flatten).

    PYTHONPATH=. /tmp/refvenv/bin/python tools/torch_reference/conv.py

writes ``tests/fixtures/torch_conv.npz`` (float64 arrays, PyTorch's reprs as
0-d string arrays, the torch version). ``tests/test_conv.py`` compares
course_lib with it and does not need PyTorch. Inputs come from a seeded numpy
generator and are stored in the fixture, so the tests feed course_lib exactly
what PyTorch saw. Each case's arguments are stored too (``<case>/args``, a
JSON string), so a test reads the configuration from the fixture.
Needs: ``pip install torch==2.13.0 numpy`` (CPU build is enough).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from core import n, t  # numpy <-> float64 tensors; this folder is on sys.path when the script runs

ROOT = Path(__file__).resolve().parents[2]
OUT_NPZ = ROOT / "tests" / "fixtures" / "torch_conv.npz"

torch.set_default_dtype(torch.float64)


def store_args(out: dict, prefix: str, args: dict) -> None:
    out[f"{prefix}/args"] = np.array(json.dumps(args))


# ---------------------------------------------------------------------- Conv2d
CONV_CASES = {  # name: (constructor arguments, input shape)
    "conv_basic": (dict(in_channels=2, out_channels=3, kernel_size=3), (2, 2, 6, 7)),
    "conv_pad": (dict(in_channels=1, out_channels=8, kernel_size=3, padding=1), (3, 1, 8, 8)),
    "conv_rect": (dict(in_channels=3, out_channels=4, kernel_size=[3, 2], stride=[2, 1], padding=[1, 0]),
                  (2, 3, 7, 6)),
    "conv_nobias": (dict(in_channels=2, out_channels=5, kernel_size=[2, 3], stride=[1, 2], padding=[0, 1],
                         bias=False), (2, 2, 5, 8)),
    "conv_stride3": (dict(in_channels=2, out_channels=2, kernel_size=3, stride=3, padding=1), (1, 2, 8, 7)),
    "conv_1x1": (dict(in_channels=4, out_channels=2, kernel_size=1), (2, 4, 3, 3)),
}


def conv_cases(out: dict, rng: np.random.Generator) -> None:
    for name, (kwargs, shape) in CONV_CASES.items():
        args = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
        conv = nn.Conv2d(**args)
        x = rng.standard_normal(shape)
        w = rng.standard_normal(tuple(conv.weight.shape)) * 0.5
        with torch.no_grad():
            conv.weight.copy_(t(w))
            if conv.bias is not None:
                b = rng.standard_normal(conv.out_channels)
                conv.bias.copy_(t(b))
                out[f"{name}/b"] = b
        xt = t(x, grad=True)
        y = conv(xt)
        g = rng.standard_normal(tuple(y.shape))
        y.backward(t(g))
        out.update({f"{name}/x": x, f"{name}/w": w, f"{name}/g": g, f"{name}/y": n(y),
                    f"{name}/dx": n(xt.grad), f"{name}/dw": n(conv.weight.grad)})
        if conv.bias is not None:
            out[f"{name}/db"] = n(conv.bias.grad)
        store_args(out, name, kwargs)
        out[f"{name}/repr"] = np.array(repr(conv))


# ---------------------------------------------------------------------- unfold / fold
UNFOLD_CASES = {  # name: (keyword arguments, input shape (N, C, H, W) or (C, H, W))
    "unfold_rect": (dict(kernel_size=[2, 3]), (2, 3, 5, 6)),
    "unfold_dilated": (dict(kernel_size=3, dilation=2, padding=1, stride=2), (1, 2, 7, 8)),
    "unfold_strided": (dict(kernel_size=2, padding=[1, 0], stride=[2, 3]), (2, 1, 6, 7)),
    "unfold_unbatched": (dict(kernel_size=2), (3, 4, 5)),
}


def unfold_cases(out: dict, rng: np.random.Generator) -> None:
    for name, (kwargs, shape) in UNFOLD_CASES.items():
        args = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
        x = rng.standard_normal(shape)
        cols = F.unfold(t(x), **args)
        y = rng.standard_normal(tuple(cols.shape))  # fold's input: same shape as unfold's output
        folded = F.fold(t(y), output_size=shape[-2:], **args)
        out.update({f"{name}/x": x, f"{name}/unfold": n(cols), f"{name}/y": y, f"{name}/fold": n(folded)})
        store_args(out, name, kwargs)


# ---------------------------------------------------------------------- pooling
def int_valued(rng, shape, high=3):
    """Small integers as floats: many ties inside the windows."""
    return rng.integers(0, high, size=shape).astype(np.float64)


def with_neg_inf(rng, shape):
    x = rng.standard_normal(shape)
    x[0, 0, :2, :2] = -np.inf  # the top-left window of a padded pool is all -inf
    return x


MAXPOOL_CASES = {  # name: (constructor arguments, input maker)
    "max_tiles": (dict(kernel_size=2), lambda r: r.standard_normal((2, 3, 6, 6))),
    "max_odd": (dict(kernel_size=2), lambda r: r.standard_normal((2, 2, 7, 5))),  # last row/column dropped
    "max_overlap": (dict(kernel_size=3, stride=1, padding=1), lambda r: r.standard_normal((2, 2, 5, 6))),
    "max_rect": (dict(kernel_size=[3, 2], stride=[2, 1], padding=[1, 0]),
                 lambda r: r.standard_normal((1, 3, 7, 6))),
    "max_ties": (dict(kernel_size=2), lambda r: int_valued(r, (2, 3, 6, 6))),
    "max_ties_overlap": (dict(kernel_size=3, stride=1, padding=1), lambda r: int_valued(r, (2, 2, 5, 6))),
    "max_ties_stride2": (dict(kernel_size=3, stride=2, padding=1), lambda r: int_valued(r, (1, 2, 7, 7), 2)),
    "max_all_equal": (dict(kernel_size=2), lambda r: np.zeros((1, 1, 4, 4))),
    "max_all_equal_overlap": (dict(kernel_size=3, stride=1, padding=1), lambda r: np.full((1, 1, 4, 5), 2.0)),
    "max_neg_inf_padded": (dict(kernel_size=2, stride=1, padding=1), lambda r: with_neg_inf(r, (1, 2, 4, 4))),
}

AVGPOOL_CASES = {
    "avg_tiles": (dict(kernel_size=2), lambda r: r.standard_normal((2, 3, 6, 6))),
    "avg_odd": (dict(kernel_size=2), lambda r: r.standard_normal((2, 2, 7, 5))),
    "avg_overlap_pad": (dict(kernel_size=3, stride=2, padding=1), lambda r: r.standard_normal((2, 2, 7, 8))),
    "avg_rect": (dict(kernel_size=[3, 2], stride=1, padding=[1, 0]), lambda r: r.standard_normal((1, 2, 5, 6))),
}


def pool_cases(out: dict, rng: np.random.Generator) -> None:
    for cls, cases in ((nn.MaxPool2d, MAXPOOL_CASES), (nn.AvgPool2d, AVGPOOL_CASES)):
        for name, (kwargs, make) in cases.items():
            args = {k: tuple(v) if isinstance(v, list) else v for k, v in kwargs.items()}
            pool = cls(**args)
            x = make(rng)
            xt = t(x, grad=True)
            y = pool(xt)
            g = rng.standard_normal(tuple(y.shape))
            y.backward(t(g))
            out.update({f"{name}/x": x, f"{name}/g": g, f"{name}/y": n(y), f"{name}/dx": n(xt.grad)})
            store_args(out, name, kwargs)
            out[f"{name}/repr"] = np.array(repr(pool))


# ---------------------------------------------------------------------- Flatten
FLATTEN_CASES = {"flatten_default": {}, "flatten_all": dict(start_dim=0), "flatten_2_3": dict(start_dim=2, end_dim=3),
                 "flatten_1_2": dict(start_dim=1, end_dim=2), "flatten_neg": dict(start_dim=-3, end_dim=-2)}


def flatten_cases(out: dict) -> None:
    shape = (2, 3, 4, 5)
    out["flatten/in_shape"] = np.array(shape, dtype=np.int64)
    for name, kwargs in FLATTEN_CASES.items():
        flat = nn.Flatten(**kwargs)
        out[f"{name}/shape"] = np.array(flat(torch.zeros(shape)).shape, dtype=np.int64)
        store_args(out, name, kwargs)
        out[f"{name}/repr"] = np.array(repr(flat))


# ---------------------------------------------------------------------- a small CNN, end to end
def cnn_case(out: dict, rng: np.random.Generator) -> None:
    """The notebook's network on 8x8 images: loss and every parameter's gradient."""
    net = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Flatten(), nn.Linear(64, 10))
    params = {}
    with torch.no_grad():
        for name, p in net.named_parameters():
            params[name] = rng.uniform(-0.5, 0.5, size=tuple(p.shape))
            p.copy_(t(params[name]))
    x = rng.standard_normal((6, 1, 8, 8))
    target = rng.integers(0, 10, size=6)
    xt = t(x, grad=True)
    loss = F.cross_entropy(net(xt), torch.tensor(target))
    loss.backward()
    out.update({"cnn/x": x, "cnn/target": target.astype(np.int64), "cnn/loss": np.array(loss.item()),
                "cnn/dx": n(xt.grad), "cnn/repr": np.array(repr(net))})
    for name, p in net.named_parameters():
        out[f"cnn/param/{name}"] = params[name]
        out[f"cnn/grad/{name}"] = n(p.grad)


def main() -> None:
    rng = np.random.default_rng(20240605)
    out: dict = {"torch_version": np.array(torch.__version__)}
    conv_cases(out, rng)
    unfold_cases(out, rng)
    pool_cases(out, rng)
    flatten_cases(out)
    cnn_case(out, rng)
    OUT_NPZ.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT_NPZ, **out)
    print(f"wrote {OUT_NPZ.relative_to(ROOT)} ({OUT_NPZ.stat().st_size} bytes, {len(out)} arrays) "
          f"with torch {torch.__version__}")


if __name__ == "__main__":
    main()
