"""Toy datasets, generated with a fixed seed (no download, ever).

Every generator returns ``(X, y)`` as float64 / int64 numpy arrays and takes
``seed`` so that a notebook gives the same data on every machine.
"""
from __future__ import annotations

import numpy as np

__all__ = ["make_line", "make_moons", "make_spirals", "train_val_split"]


def _check_positive_int(name: str, fn: str, v) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
        raise ValueError(f"{fn}: {name} must be a positive int, got {v!r}")
    return int(v)


def _check_noise(fn: str, noise) -> float:
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"{fn}: noise must be a finite number >= 0, got {noise!r}")
    return float(noise)


def make_line(n_samples: int = 50, slope: float = 2.0, intercept: float = -1.0,
              noise: float = 0.3, x_range: tuple[float, float] = (-2.0, 2.0), seed: int = 0):
    """Points around the line y = slope * x + intercept.

    Returns ``X`` of shape (n_samples, 1) (sorted) and ``y`` of shape (n_samples, 1),
    with Gaussian noise of standard deviation ``noise`` added to y.
    """
    n = _check_positive_int("n_samples", "make_line", n_samples)
    noise = _check_noise("make_line", noise)
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(x_range[0], x_range[1], size=n))
    y = slope * x + intercept + noise * rng.standard_normal(n)
    return x.reshape(n, 1), y.reshape(n, 1)


def make_moons(n_samples: int = 200, noise: float = 0.1, seed: int = 0):
    """Two interleaving half circles, two classes.

    Returns ``X`` (n_samples, 2) float64 and ``y`` (n_samples,) int64 in {0, 1};
    the classes are as balanced as ``n_samples`` allows and shuffled.
    """
    n = _check_positive_int("n_samples", "make_moons", n_samples)
    noise = _check_noise("make_moons", noise)
    rng = np.random.default_rng(seed)
    n0 = n // 2 + n % 2
    n1 = n // 2
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, n1)
    upper = np.stack([np.cos(t0), np.sin(t0)], axis=1)
    lower = np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], axis=1)
    X = np.concatenate([upper, lower]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate([np.zeros(n0, np.int64), np.ones(n1, np.int64)])
    order = rng.permutation(n)
    return X[order], y[order]


def make_spirals(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: int = 0):
    """``n_classes`` interleaved spiral arms (the cs231n spiral data).

    Returns ``X`` (n_per_class * n_classes, 2) float64 within about [-1, 1]^2 and
    ``y`` (n_per_class * n_classes,) int64 in [0, n_classes), shuffled. Not
    linearly separable: the classic case where a hidden layer is needed.
    """
    n = _check_positive_int("n_per_class", "make_spirals", n_per_class)
    k = _check_positive_int("n_classes", "make_spirals", n_classes)
    noise = _check_noise("make_spirals", noise)
    rng = np.random.default_rng(seed)
    X = np.zeros((n * k, 2))
    y = np.zeros(n * k, dtype=np.int64)
    for c in range(k):
        r = np.linspace(0.0, 1.0, n)
        theta = np.linspace(c * 4.0, (c + 1) * 4.0, n) + noise * rng.standard_normal(n)
        X[c * n:(c + 1) * n] = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
        y[c * n:(c + 1) * n] = c
    order = rng.permutation(n * k)
    return X[order], y[order]


def train_val_split(X, y, val_fraction: float = 0.25, seed: int = 0):
    """Shuffle and split into ``(X_train, y_train, X_val, y_val)``."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"train_val_split: X has {len(X)} rows but y has {len(y)}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"train_val_split: val_fraction must be in (0, 1), got {val_fraction!r}")
    n_val = int(round(len(X) * val_fraction))
    if n_val == 0 or n_val == len(X):
        raise ValueError(f"train_val_split: {len(X)} samples are too few to split with val_fraction={val_fraction}")
    order = np.random.default_rng(seed).permutation(len(X))
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]
